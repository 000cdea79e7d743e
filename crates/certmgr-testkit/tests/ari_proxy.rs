//! Tests of the ARI/profiles proxy in front of pebble: directory rewriting, a full ACME flow
//! with instant-acme (profile, renewalInfo, `replaces`), and profile rejection.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use certmgr_testkit::ari_proxy::{DEFAULT_RETRY_AFTER_SECS, INVALID_PROFILE};
use certmgr_testkit::{AriProxy, AriProxyOptions, Pebble, RenewalWindowRule, pebble_available};
use instant_acme::{
    Account, AuthorizationStatus, CertificateIdentifier, ChallengeType, Error, Identifier,
    NewAccount, NewOrder, Order, OrderStatus, RetryPolicy,
};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::Value;
use time::OffsetDateTime;

fn options() -> AriProxyOptions {
    AriProxyOptions {
        profiles: vec![
            ("classic".to_owned(), "the usual 90 days".to_owned()),
            ("shortlived".to_owned(), "6 days".to_owned()),
        ],
        ..AriProxyOptions::default()
    }
}

/// `curl` through the proxy: (HTTP status, body).
fn curl(proxy: &AriProxy, url: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "10",
            "-w",
            "\n%{http_code}",
            "--cacert",
        ])
        .arg(proxy.ca_bundle_path())
        .arg(url)
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let (body, status) = text.rsplit_once('\n').expect("status line");
    (status.parse().expect("status code"), body.to_owned())
}

fn get_directory(proxy: &AriProxy) -> serde_json::Map<String, Value> {
    let (status, body) = curl(proxy, &proxy.directory_url());
    assert_eq!(status, 200, "{body}");
    match serde_json::from_str(&body).expect("directory is JSON") {
        Value::Object(directory) => directory,
        other => panic!("directory is not an object: {other}"),
    }
}

#[test]
fn directory_advertises_renewal_info_and_profiles() {
    if !pebble_available() {
        return;
    }
    let pebble = Pebble::start();
    let proxy = AriProxy::start(&pebble, options());
    assert!(proxy.directory_url().starts_with("https://127.0.0.1:"));
    assert_ne!(proxy.directory_url(), pebble.directory_url());

    let directory = get_directory(&proxy);
    assert_eq!(
        directory["renewalInfo"].as_str(),
        Some(proxy.renewal_info_url().as_str())
    );
    assert_eq!(
        directory["meta"]["profiles"],
        serde_json::json!({"classic": "the usual 90 days", "shortlived": "6 days"})
    );
    for (name, value) in &directory {
        if let Some(url) = value.as_str() {
            assert!(
                url.starts_with(&format!("{}/", proxy.origin())),
                "{name}: {url} does not point at the proxy"
            );
        }
    }
    // Pebble's own fields are still there.
    for field in [
        "newNonce",
        "newAccount",
        "newOrder",
        "revokeCert",
        "keyChange",
    ] {
        assert!(directory.contains_key(field), "{field} missing");
    }

    // renewalInfo: a well-formed certID gets a window, a malformed one 404.
    let (status, body) = curl(&proxy, &format!("{}/AAEC.AQ", proxy.renewal_info_url()));
    assert_eq!(status, 200, "{body}");
    let info: Value = serde_json::from_str(&body).unwrap();
    assert!(info["suggestedWindow"]["start"].is_string(), "{info}");
    let (status, _) = curl(
        &proxy,
        &format!("{}/not-a-cert-id", proxy.renewal_info_url()),
    );
    assert_eq!(status, 404);
    assert_eq!(proxy.renewal_info_requests(), ["AAEC.AQ", "not-a-cert-id"]);

    // Without ARI and profiles, the directory is pebble's.
    let plain = AriProxy::start(
        &pebble,
        AriProxyOptions {
            advertise_ari: false,
            ..AriProxyOptions::default()
        },
    );
    let directory = get_directory(&plain);
    assert!(!directory.contains_key("renewalInfo"), "{directory:?}");
    assert!(directory["meta"].get("profiles").is_none(), "{directory:?}");
}

/// Tokens -> key authorizations served over HTTP-01.
type Challenges = Arc<Mutex<HashMap<String, String>>>;

/// Serves HTTP-01 responses on 127.0.0.1:`port` for the rest of the test runtime's life.
async fn http01_responder(port: u16) -> Challenges {
    use axum::extract::{Path, State};
    use axum::http::StatusCode;

    let challenges: Challenges = Arc::default();
    let app = axum::Router::new()
        .route(
            "/.well-known/acme-challenge/{token}",
            axum::routing::get(
                |State(challenges): State<Challenges>, Path(token): Path<String>| async move {
                    challenges
                        .lock()
                        .unwrap()
                        .get(&token)
                        .cloned()
                        .ok_or(StatusCode::NOT_FOUND)
                },
            ),
        )
        .with_state(Arc::clone(&challenges));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind the HTTP-01 port");
    tokio::spawn(async move { axum::serve(listener, app).await });
    challenges
}

async fn new_account(proxy: &AriProxy) -> Account {
    let (account, _credentials) = Account::builder_with_root(proxy.ca_bundle_path())
        .expect("account builder")
        .create(
            &NewAccount {
                contact: &[],
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            proxy.directory_url(),
            None,
        )
        .await
        .expect("create account through the proxy");
    account
}

/// Answers the order's HTTP-01 challenges, finalizes it with a fresh key and returns the
/// leaf certificate (DER).
async fn complete(
    order: &mut Order,
    challenges: &Challenges,
    name: &str,
) -> CertificateDer<'static> {
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz.expect("authorization");
        if authz.status == AuthorizationStatus::Valid {
            continue;
        }
        let mut challenge = authz
            .challenge(ChallengeType::Http01)
            .expect("http-01 challenge");
        challenges.lock().unwrap().insert(
            challenge.token.clone(),
            challenge.key_authorization().as_str().to_owned(),
        );
        challenge.set_ready().await.expect("challenge ready");
    }
    let retries = RetryPolicy::new().timeout(Duration::from_secs(30));
    let status = order.poll_ready(&retries).await.expect("poll ready");
    assert_eq!(status, OrderStatus::Ready, "{:?}", order.state());

    let key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::new(vec![name.to_owned()])
        .unwrap()
        .serialize_request(&key)
        .unwrap();
    order.finalize_csr(csr.der()).await.expect("finalize");
    let chain = order.poll_certificate(&retries).await.expect("certificate");
    CertificateDer::pem_slice_iter(chain.as_bytes())
        .next()
        .expect("a certificate in the chain")
        .expect("PEM certificate")
}

#[tokio::test]
async fn full_flow_with_profile_renewal_info_and_replaces() {
    if !pebble_available() {
        return;
    }
    let pebble = Pebble::start();
    let proxy = AriProxy::start(&pebble, options());
    let challenges = http01_responder(pebble.http01_port()).await;
    let account = new_account(&proxy).await;

    let mut profiles: Vec<(String, String)> = account
        .profiles()
        .map(|p| (p.name.to_owned(), p.description.to_owned()))
        .collect();
    profiles.sort();
    assert_eq!(profiles, options().profiles);

    // First certificate, with a profile.
    let name = "ari.certmgr.test";
    let identifiers = [Identifier::Dns(name.to_owned())];
    let mut order = account
        .new_order(&NewOrder::new(&identifiers).profile("shortlived"))
        .await
        .expect("new order with profile");
    assert!(order.url().starts_with(proxy.origin()), "{}", order.url());
    assert_eq!(order.state().profile.as_deref(), Some("shortlived"));
    let cert = complete(&mut order, &challenges, name).await;
    assert_eq!(order.state().profile.as_deref(), Some("shortlived"));

    // renewalInfo: the default window (30..31 days from now) and Retry-After.
    let cert_id = CertificateIdentifier::try_from(&cert).expect("certificate identifier");
    let (info, delay) = account.renewal_info(&cert_id).await.expect("renewal info");
    let now = OffsetDateTime::now_utc();
    let start_in = info.suggested_window.start - now;
    let end_in = info.suggested_window.end - now;
    assert!(
        (time::Duration::days(30) - time::Duration::minutes(1)..=time::Duration::days(30))
            .contains(&start_in),
        "{info:?}"
    );
    assert!(
        (time::Duration::days(31) - time::Duration::minutes(1)..=time::Duration::days(31))
            .contains(&end_in),
        "{info:?}"
    );
    let retry_after = Duration::from_secs(DEFAULT_RETRY_AFTER_SECS);
    assert!(
        delay <= retry_after && delay > retry_after - Duration::from_secs(60),
        "{delay:?}"
    );
    assert_eq!(proxy.renewal_info_requests(), [cert_id.to_string()]);

    // The window can be changed at run time.
    proxy.set_window(RenewalWindowRule::renew_now());
    let (info, _) = account.renewal_info(&cert_id).await.expect("renewal info");
    assert!(
        info.suggested_window.end < OffsetDateTime::now_utc(),
        "{info:?}"
    );

    // The replacement order: `replaces` is echoed (instant-acme checks it), also later.
    let mut renewal = account
        .new_order(
            &NewOrder::new(&identifiers)
                .profile("classic")
                .replaces(cert_id.clone()),
        )
        .await
        .expect("new order with replaces");
    assert_eq!(renewal.state().replaces.as_ref(), Some(&cert_id));
    assert_eq!(renewal.state().profile.as_deref(), Some("classic"));
    let refreshed = renewal.refresh().await.expect("refresh order");
    assert_eq!(refreshed.replaces.as_ref(), Some(&cert_id));
    let renewed = complete(&mut renewal, &challenges, name).await;
    assert_ne!(renewed, cert);
    assert_eq!(renewal.state().replaces.as_ref(), Some(&cert_id));
    let again = account
        .order(renewal.url().to_owned())
        .await
        .expect("fetch order by URL");
    assert_eq!(again.into_parts().1.replaces.as_ref(), Some(&cert_id));

    // What the client sent.
    let orders = proxy.new_orders();
    assert_eq!(orders.len(), 2, "{orders:?}");
    assert_eq!(orders[0]["profile"], "shortlived");
    assert!(orders[0].get("replaces").is_none(), "{:?}", orders[0]);
    assert_eq!(orders[0]["identifiers"][0]["value"], name);
    assert_eq!(orders[1]["profile"], "classic");
    assert_eq!(orders[1]["replaces"], cert_id.to_string());
}

#[tokio::test]
async fn unknown_profile_is_rejected_with_invalid_profile() {
    if !pebble_available() {
        return;
    }
    let pebble = Pebble::start();
    let proxy = AriProxy::start(&pebble, options());
    let account = new_account(&proxy).await;
    let identifiers = [Identifier::Dns("profile.certmgr.test".to_owned())];

    let err = account
        .new_order(&NewOrder::new(&identifiers).profile("no-such-profile"))
        .await
        .err()
        .expect("unknown profile must fail");
    match err {
        Error::Api(problem) => {
            assert_eq!(
                problem.r#type.as_deref(),
                Some(INVALID_PROFILE),
                "{problem:?}"
            );
            assert_eq!(problem.status, Some(400));
            assert!(
                problem
                    .detail
                    .as_deref()
                    .unwrap_or("")
                    .contains("no-such-profile"),
                "{problem:?}"
            );
        }
        other => panic!("expected an invalidProfile problem, got {other:?}"),
    }

    // The account keeps working (fresh nonce), and an order without profile goes through.
    let mut order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .expect("order without profile");
    assert_eq!(order.state().profile, None);
    assert_eq!(order.state().replaces, None);
    assert_eq!(proxy.new_orders().len(), 2);
    assert_eq!(proxy.new_orders()[0]["profile"], "no-such-profile");
}

#[tokio::test]
async fn replaces_needs_advertised_ari() {
    if !pebble_available() {
        return;
    }
    let pebble = Pebble::start();
    let proxy = AriProxy::start(
        &pebble,
        AriProxyOptions {
            advertise_ari: false,
            ..AriProxyOptions::default()
        },
    );
    let account = new_account(&proxy).await;
    let cert_id = CertificateIdentifier::new(
        rustls::pki_types::Der::from_slice(&[1, 2, 3]),
        rustls::pki_types::Der::from_slice(&[4]),
    );
    assert!(matches!(
        account.renewal_info(&cert_id).await,
        Err(Error::Unsupported(_))
    ));
    let identifiers = [Identifier::Dns("noari.certmgr.test".to_owned())];
    assert!(matches!(
        account
            .new_order(&NewOrder::new(&identifiers).replaces(cert_id))
            .await,
        Err(Error::Unsupported(_))
    ));
    assert!(proxy.new_orders().is_empty());
    assert!(account.profiles().next().is_none());
}
