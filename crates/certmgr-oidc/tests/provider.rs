//! End to end against a real OpenID provider: django-oidc-provider on
//! 127.0.0.1, started per test by `scripts/oidc-provider` (which installs it
//! into a virtualenv outside the tree when missing). A plain HTTP client with
//! a cookie store plays the browser: it follows the provider's redirects, fills
//! in the login form and the consent form, and stops at the redirect back to
//! certmgr, whose Location carries the code and state. Provider and browser
//! are certmgr-testkit's (module `oidc`), shared with the server's tests.
//!
//! Users of the provider: alice (group certmgr-admins), bob (no group).
//! Without the provider (no Python venv support and no root to install it),
//! the tests print a visible SKIPPED line; under CI=true they fail instead.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::collections::BTreeMap;

use certmgr_core::Role;
use certmgr_oidc::{GroupsSource, Identity, OidcClient, OidcError};
use certmgr_testkit::oidc::{Browser, CLIENT_ID, Consent, Provider};

async fn sign_in(oidc: &OidcClient, browser: &Browser, user: &str) -> Result<Identity, OidcError> {
    let (pending, query) = browser.login(oidc, user, Consent::Allow).await;
    let callback = oidc.parse_callback(&query).expect("a code and state");
    oidc.finish_login(pending, &callback.code, &callback.state)
        .await
}

#[tokio::test]
async fn alice_is_admin_bob_is_refused_and_logout_ends_the_provider_session() {
    let Some(provider) = Provider::start("both") else {
        return;
    };
    let oidc = provider.client().await;
    let browser = Browser::new();

    let alice = sign_in(&oidc, &browser, "alice")
        .await
        .expect("alice signs in");
    assert_eq!(alice.role, Role::Admin);
    assert_eq!(alice.groups, ["certmgr-admins"]);
    assert_eq!(alice.name.as_deref(), Some("Alice Admin"));
    assert_eq!(alice.email.as_deref(), Some("alice@example.test"));
    assert!(!alice.subject.is_empty());
    assert!(
        !format!("{alice:?}").contains(alice.id_token.expose()),
        "Debug hides the ID token"
    );

    // Logout: the provider's end-session endpoint from its discovery document.
    let end_session = provider.end_session_endpoint().await;
    let logout = oidc
        .logout_url(Some(&alice.id_token), Some("bye-state"))
        .expect("logout URL");
    assert!(
        logout.as_str().starts_with(&format!("{end_session}?")),
        "{logout}"
    );
    let params: BTreeMap<_, _> = logout.query_pairs().into_owned().collect();
    assert_eq!(params["id_token_hint"], alice.id_token.expose());
    assert_eq!(params["client_id"], CLIENT_ID);
    assert_eq!(
        params["post_logout_redirect_uri"],
        provider.post_logout_url()
    );
    // Still signed in at the provider: a login goes straight to consent.
    assert!(!browser.is_asked_to_sign_in(oidc.begin_login().0).await);
    // Following it ends alice's session at the provider and comes back.
    let back = browser
        .end_session(logout)
        .await
        .expect("sent back to the post-logout URL");
    assert!(
        back.as_str().starts_with(provider.post_logout_url()),
        "{back}"
    );
    assert!(back.as_str().contains("state=bye-state"), "{back}");
    // The next login asks for credentials again.
    assert!(
        browser.is_asked_to_sign_in(oidc.begin_login().0).await,
        "signed out, so sent to the login form"
    );

    // bob authenticates, but is in no mapped group: he gets nothing.
    let bob = sign_in(&oidc, &Browser::new(), "bob").await;
    match bob {
        Err(err @ OidcError::NoMappedGroup { .. }) => {
            let text = err.to_string();
            assert!(text.contains("their groups: none"), "{text}");
            assert!(
                text.contains("[oidc.group_roles]"),
                "says what to do: {text}"
            );
            let OidcError::NoMappedGroup { subject, groups } = err else {
                unreachable!()
            };
            assert!(!subject.is_empty());
            assert!(groups.is_empty(), "{groups:?}");
        }
        other => panic!("bob must be refused for want of a mapped group: {other:?}"),
    }
}

#[tokio::test]
async fn forged_state_tampered_nonce_stolen_code_and_declined_consent_are_refused() {
    let Some(provider) = Provider::start("both") else {
        return;
    };
    let oidc = provider.client().await;
    let browser = Browser::new();

    // A callback whose state is not this browser's login's.
    let (pending, query) = browser.login(&oidc, "alice", Consent::Allow).await;
    let callback = oidc.parse_callback(&query).expect("code and state");
    let err = oidc
        .finish_login(pending.clone(), &callback.code, "forged-state")
        .await
        .expect_err("a forged state is refused");
    assert!(matches!(err, OidcError::StateMismatch), "{err:?}");

    // The ID token comes back with the nonce the provider was given; a
    // pending login expecting another nonce refuses it.
    let mut tampered = pending.clone();
    tampered.nonce = "not-the-nonce-sent".to_owned();
    let err = oidc
        .finish_login(tampered, &callback.code, &callback.state)
        .await
        .expect_err("a nonce mismatch is refused");
    eprintln!("nonce mismatch: {err}");
    match &err {
        OidcError::InvalidIdToken(why) => assert!(why.to_lowercase().contains("nonce"), "{why}"),
        other => panic!("expected an ID token refusal: {other:?}"),
    }
    // That code was used: a replay is refused by the provider.
    let err = oidc
        .finish_login(pending, &callback.code, &callback.state)
        .await
        .expect_err("a used code is refused");
    eprintln!("replayed code: {err}");
    assert!(matches!(err, OidcError::TokenExchange(_)), "{err:?}");

    // A code without its PKCE verifier (stolen in the redirect) is useless.
    let (mut pending, query) = browser.login(&oidc, "alice", Consent::Allow).await;
    let callback = oidc.parse_callback(&query).expect("code and state");
    pending.pkce_verifier = "x".repeat(64);
    let err = oidc
        .finish_login(pending, &callback.code, &callback.state)
        .await
        .expect_err("a wrong PKCE verifier is refused");
    eprintln!("wrong PKCE verifier: {err}");
    assert!(matches!(err, OidcError::TokenExchange(_)), "{err:?}");

    // The user declines consent: the provider's error comes back typed.
    let (_, query) = Browser::new().login(&oidc, "bob", Consent::Decline).await;
    let err = oidc.parse_callback(&query).expect_err("declined consent");
    eprintln!("declined: {err}");
    match err {
        OidcError::ProviderRefused { error, .. } => assert_eq!(error, "access_denied"),
        other => panic!("expected the provider's refusal: {other:?}"),
    }
    let err = oidc
        .parse_callback(&format!(
            "code=c&state=s&iss={}",
            "https%3A%2F%2Fother.example"
        ))
        .expect_err("another issuer's callback");
    assert!(matches!(err, OidcError::BadCallback(_)), "{err:?}");
}

#[tokio::test]
async fn groups_only_in_userinfo_are_read_from_userinfo() {
    let Some(provider) = Provider::start("userinfo") else {
        return;
    };
    // Auto: the ID token has no groups claim, so userinfo is asked.
    let oidc = provider.client().await;
    let alice = sign_in(&oidc, &Browser::new(), "alice")
        .await
        .expect("alice signs in");
    assert_eq!(alice.role, Role::Admin);
    assert_eq!(alice.groups, ["certmgr-admins"]);
    assert_eq!(
        alice.email.as_deref(),
        Some("alice@example.test"),
        "filled in from userinfo"
    );

    // ID token only: no groups there, so no role.
    let mut config = provider.config();
    config.groups_source = GroupsSource::IdToken;
    let oidc = OidcClient::discover(config).await.expect("discovery");
    let err = sign_in(&oidc, &Browser::new(), "alice")
        .await
        .expect_err("no groups in the ID token");
    assert!(matches!(err, OidcError::NoMappedGroup { .. }), "{err:?}");
}

#[tokio::test]
async fn discovery_of_a_wrong_issuer_fails_with_the_url() {
    let Some(provider) = Provider::start("both") else {
        return;
    };
    let mut config = provider.config();
    // The provider's document names another issuer: refused.
    config.issuer_url = provider.issuer().replace("127.0.0.1", "localhost");
    let err = OidcClient::discover(config)
        .await
        .expect_err("issuer mismatch");
    eprintln!("issuer mismatch: {err}");
    assert!(matches!(err, OidcError::Discovery { .. }), "{err:?}");
    assert!(err.to_string().contains("localhost"), "{err}");
}

#[tokio::test]
async fn a_rotated_signing_key_is_fetched_again() {
    let Some(provider) = Provider::start("both") else {
        return;
    };
    // The client keeps the key set it discovered; the provider then signs
    // with a new key.
    let oidc = provider.client().await;
    provider.rotate_key();
    let alice = sign_in(&oidc, &Browser::new(), "alice")
        .await
        .expect("the new key is fetched and the token verifies");
    assert_eq!(alice.role, Role::Admin);
    // And kept: the next login verifies too.
    let again = sign_in(&oidc, &Browser::new(), "alice")
        .await
        .expect("second login");
    assert_eq!(again.role, Role::Admin);
}
