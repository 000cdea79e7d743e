//! certmgr-acme's account operations against a real Pebble (one private
//! instance per test), independent of the CLI: registration, restore and
//! lookup by key, revocation, key rollover, deactivation, and ACME Renewal
//! Information.
//!
//! The order flow itself (challenges, resume, failures, deadlines) is in
//! `order_flow.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use certmgr_acme::{
    AcmeAccount, AcmeError, AcmeOrder, OrderRequest, RevocationReason, new_account_credentials,
    with_pending_key,
};
use certmgr_testkit::{AriProxy, AriProxyOptions, RenewalWindowRule};
use serde_json::Value;

use common::{
    account_request, ca_bundle, guarded, hostnames, issue_http01, register, register_at,
    start_pebble,
};

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("credentials are JSON")
}

/// The CA's problem document of a refusal, as text, or a panic naming what
/// was expected. The document is kept whole: its type is checked to be an
/// ACME error URN.
fn refusal(result: Result<impl std::fmt::Debug, AcmeError>, what: &str) -> String {
    match result {
        Err(AcmeError::Refused(problem)) => {
            assert!(
                problem
                    .r#type
                    .as_deref()
                    .is_some_and(|t| t.starts_with("urn:ietf:params:acme:error:")),
                "{what}: the problem type is kept: {problem:?}"
            );
            certmgr_acme::problem_text(&problem)
        }
        other => panic!("{what}: expected the CA's refusal, got {other:?}"),
    }
}

/// Place an order for `name` (no challenge answered).
async fn place_order(account: &AcmeAccount, name: &str) -> Result<AcmeOrder, AcmeError> {
    let hostnames = hostnames(&[name]);
    let request = OrderRequest {
        hostnames: &hostnames,
        profile: None,
        replaces: None,
    };
    guarded("newOrder", AcmeOrder::create(account, &request)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_is_registered_restored_and_found_again_by_its_key() {
    need_pebble!();
    let pebble = start_pebble().await;
    let bundle = ca_bundle(&pebble);
    let directory = pebble.directory_url();
    let request = account_request(&directory, &bundle);

    // Credentials are made (and stored) before the CA sees the key.
    let credentials = new_account_credentials(&directory).unwrap();
    let before = json(&credentials);
    assert_eq!(before["id"], "", "no account URL yet: {before}");
    assert_eq!(before["directory"], directory.as_str());

    let registered = AcmeAccount::register(&request, &credentials, false)
        .await
        .unwrap();
    assert!(!registered.found_again);
    let url = registered.account.url().to_owned();
    let origin = directory.trim_end_matches("/dir");
    assert!(url.starts_with(&format!("{origin}/")), "{url}");
    let stored = json(&registered.credentials_json);
    assert_eq!(stored["id"], url.as_str(), "the URL is stored: {stored}");
    assert_eq!(stored["key_pkcs8"], before["key_pkcs8"], "the same key");

    // Restored from the stored credentials: the same account, and usable.
    let restored = AcmeAccount::restore(&registered.credentials_json, &directory, Some(&bundle))
        .await
        .unwrap();
    assert_eq!(restored.url(), url);
    let order = place_order(&restored, "restored.example.test")
        .await
        .unwrap();
    assert!(order.url().starts_with(&format!("{origin}/")), "{order:?}");

    // An interrupted registration (credentials still without the URL) is
    // found again by its key, as are the complete credentials.
    for (what, json_in) in [
        ("credentials without URL", &credentials[..]),
        ("stored credentials", &registered.credentials_json[..]),
    ] {
        let again = AcmeAccount::register(&request, json_in, true)
            .await
            .unwrap();
        assert!(again.found_again, "{what}: found again");
        assert_eq!(again.account.url(), url, "{what}: the same account");
        assert_eq!(json(&again.credentials_json), stored, "{what}");
    }

    // Another key has no account: `resume` registers a new one.
    let other = new_account_credentials(&directory).unwrap();
    let fresh = AcmeAccount::register(&request, &other, true).await.unwrap();
    assert!(!fresh.found_again);
    assert_ne!(fresh.account.url(), url);

    // Terms not agreed: refused before anything reaches the CA.
    let mut no_terms = request.clone();
    no_terms.agree_tos = false;
    let err = AcmeAccount::register(
        &no_terms,
        &new_account_credentials(&directory).unwrap(),
        false,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AcmeError::BadInput(_)), "{err:?}");

    // Without the trust for Pebble's HTTPS certificate the CA is unreachable.
    let err = AcmeAccount::restore(&registered.credentials_json, &directory, None)
        .await
        .unwrap_err();
    assert!(matches!(err, AcmeError::Connection { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issued_certificate_is_revoked_once_and_only_by_its_account() {
    need_pebble!();
    let pebble = start_pebble().await;
    let (account, _) = register(&pebble).await;
    let (_, issued) = issue_http01(&pebble, &account, &["revoke.example.test"]).await;
    let leaf = &issued.certs_der[0];

    // Another account may not revoke it.
    let (stranger, _) = register(&pebble).await;
    let text = refusal(
        stranger.revoke(leaf, RevocationReason::Superseded).await,
        "revocation by another account",
    );
    assert!(
        text.contains("urn:ietf:params:acme:error:unauthorized")
            && text.contains("not associated with account"),
        "{text}"
    );

    account
        .revoke(leaf, RevocationReason::KeyCompromise)
        .await
        .expect("the ordering account revokes its certificate");

    let text = refusal(
        account.revoke(leaf, RevocationReason::KeyCompromise).await,
        "a second revocation",
    );
    assert!(
        text.contains("urn:ietf:params:acme:error:alreadyRevoked")
            && text.contains("already been revoked"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_key_rollover_orders_use_the_new_key_and_a_deactivated_account_is_refused() {
    need_pebble!();
    let pebble = start_pebble().await;
    let bundle = ca_bundle(&pebble);
    let directory = pebble.directory_url();
    let (mut account, old_json) = register(&pebble).await;
    let url = account.url().to_owned();

    // The new key is stored (pending) before the CA is asked.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let pending = with_pending_key(&old_json, now).unwrap();
    let pending_key = json(&pending)["pending_key_pkcs8"].clone();
    assert!(pending_key.is_string());
    let new_json = guarded("the rollover", account.rollover(&pending))
        .await
        .unwrap();
    let stored = json(&new_json);
    assert_eq!(
        stored["key_pkcs8"], pending_key,
        "the pending key is in use"
    );
    assert_ne!(stored["key_pkcs8"], json(&old_json)["key_pkcs8"]);
    assert!(stored.get("pending_key_pkcs8").is_none(), "{stored}");
    assert!(stored.get("pending_since").is_none(), "{stored}");
    assert_eq!(stored["id"], url.as_str());
    assert_eq!(account.url(), url, "the same account");

    // The rolled account orders and gets certificates with the new key.
    let (_, issued) = issue_http01(&pebble, &account, &["rolled.example.test"]).await;
    assert!(!issued.certs_der.is_empty());
    // The new credentials restore to the same account; its new key finds it.
    let restored = AcmeAccount::restore(&new_json, &directory, Some(&bundle))
        .await
        .unwrap();
    assert_eq!(restored.url(), url);
    let found = AcmeAccount::register(&account_request(&directory, &bundle), &new_json, true)
        .await
        .unwrap();
    assert!(found.found_again);
    assert_eq!(found.account.url(), url);
    // The old key no longer signs for the account.
    let old = AcmeAccount::restore(&old_json, &directory, Some(&bundle))
        .await
        .unwrap();
    let text = refusal(
        place_order(&old, "old-key.example.test").await,
        "an order signed with the old key",
    );
    assert!(
        text.contains("urn:ietf:params:acme:error:malformed")
            && text.contains("JWS verification error"),
        "{text}"
    );

    // Deactivated, the account is refused, by URL and by key.
    guarded("deactivation", account.deactivate()).await.unwrap();
    let text = refusal(
        place_order(&restored, "after.example.test").await,
        "an order after deactivation",
    );
    assert!(
        text.contains("urn:ietf:params:acme:error:unauthorized") && text.contains("deactivated"),
        "{text}"
    );
    let text = refusal(
        AcmeAccount::register(&account_request(&directory, &bundle), &new_json, true).await,
        "looking up a deactivated account",
    );
    assert!(text.contains("deactivated"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewal_information_gives_the_cas_window_for_an_issued_certificate() {
    need_pebble!();
    let pebble = start_pebble().await;
    // Debian's pebble 2.4 has no renewalInfo resource: the testkit's proxy
    // adds it in front of this Pebble.
    let start = time::macros::datetime!(2031-01-02 03:04:05 UTC);
    let end = time::macros::datetime!(2031-01-09 03:04:05 UTC);
    let options = AriProxyOptions {
        renewal_window: RenewalWindowRule::Absolute { start, end },
        retry_after_secs: 3_600,
        ..AriProxyOptions::default()
    };
    let proxy = tokio::task::block_in_place(|| AriProxy::start(&pebble, options));
    let proxy_bundle = std::fs::read_to_string(proxy.ca_bundle_path()).unwrap();
    let (account, _) = register_at(&proxy.directory_url(), &proxy_bundle).await;
    let (_, issued) = issue_http01(&pebble, &account, &["ari.example.test"]).await;
    let leaf = &issued.certs_der[0];

    let window = guarded("renewalInfo", account.renewal_window(leaf))
        .await
        .unwrap()
        .expect("the CA offers renewal information");
    assert!(window.start < window.end, "{window:?}");
    assert_eq!(window.start, start.unix_timestamp());
    assert_eq!(window.end, end.unix_timestamp());
    // Retry-After is counted from when the answer was read: a second may be gone.
    assert!(
        (3_590..=3_600).contains(&window.retry_after_secs),
        "{window:?}"
    );
    assert_eq!(
        proxy.renewal_info_requests().len(),
        1,
        "one renewalInfo request: {:?}",
        proxy.renewal_info_requests()
    );

    // Straight at Pebble (no renewalInfo in its directory): no window, no error.
    let (direct, _) = register(&pebble).await;
    assert_eq!(direct.renewal_window(leaf).await.unwrap(), None);
}
