//! End to end against a real OpenID provider: django-oidc-provider on
//! 127.0.0.1, started per test by `scripts/oidc-provider` (which installs it
//! into a virtualenv outside the tree when missing). A plain HTTP client with
//! a cookie store plays the browser: it follows the provider's redirects, fills
//! in the login form and the consent form, and stops at the redirect back to
//! certmgr, whose Location carries the code and state.
//!
//! Users of the provider: alice (group certmgr-admins), bob (no group).
//! Without the provider (no Python venv support and no root to install it),
//! the tests print a visible SKIPPED line; under CI=true they fail instead.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

use certmgr_core::Role;
use certmgr_oidc::{GroupsSource, Identity, OidcClient, OidcConfig, OidcError, PendingLogin};
use regex::Regex;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use url::Url;

const CLIENT_ID: &str = "certmgr-test";

/// One running provider; stopped when dropped (also when a test panics).
struct Provider {
    script: PathBuf,
    state: tempfile::TempDir,
    issuer: String,
    /// Where the provider sends the browser back; nothing listens there.
    redirect_url: String,
    post_logout_url: String,
    client_secret: String,
}

impl Provider {
    /// Starts a provider whose groups claim goes where `groups_in` says
    /// (`both`: ID token and userinfo; `userinfo`: userinfo only), or returns
    /// `None` after a visible skip when it cannot be installed here.
    fn start(groups_in: &str) -> Option<Self> {
        let script = certmgr_testkit::repo_root().join("scripts/oidc-provider");
        let state = tempfile::Builder::new()
            .prefix("certmgr-oidc-")
            .tempdir()
            .expect("temp dir");
        let port = free_port();
        let app = format!("http://127.0.0.1:{}", free_port());
        let redirect_url = format!("{app}/auth/oidc/callback");
        let post_logout_url = format!("{app}/signed-out");
        let client_secret = format!("secret-{}-{}", std::process::id(), port);
        let output = Command::new(&script)
            .arg("start")
            .arg(state.path())
            .arg(port.to_string())
            .args([CLIENT_ID, &client_secret, &redirect_url, &post_logout_url])
            .env("OIDC_GROUPS_IN", groups_in)
            .env("OIDC_WATCH_PID", std::process::id().to_string())
            .output()
            .expect("run scripts/oidc-provider");
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.code() == Some(3) {
            certmgr_testkit::skip(
                &format!(
                    "the OpenID provider cannot be installed here: {}",
                    stderr.trim().lines().last().unwrap_or("no reason given")
                ),
                "run scripts/oidc-provider install as root (it needs python3-venv and PyPI)",
            );
            return None;
        }
        assert!(
            output.status.success(),
            "scripts/oidc-provider start failed ({}): {stderr}",
            output.status
        );
        let issuer = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        assert_eq!(issuer, format!("http://127.0.0.1:{port}/openid"));
        Some(Self {
            script,
            state,
            issuer,
            redirect_url,
            post_logout_url,
            client_secret,
        })
    }

    fn config(&self) -> OidcConfig {
        let mut config: OidcConfig = toml::from_str(&format!(
            r#"
            issuer_url = "{}"
            client_id = "{CLIENT_ID}"
            client_secret = "{}"
            redirect_url = "{}"
            post_logout_redirect_url = "{}"
            scopes = ["openid", "profile", "email", "groups"]
            "#,
            self.issuer, self.client_secret, self.redirect_url, self.post_logout_url
        ))
        .expect("test config");
        config.group_roles = BTreeMap::from([
            ("certmgr-admins".to_owned(), Role::Admin),
            ("certmgr-viewers".to_owned(), Role::Viewer),
        ]);
        config
    }

    /// Replaces the provider's signing key: ID tokens are signed with a key
    /// that a client discovered earlier does not know.
    fn rotate_key(&self) {
        let status = Command::new(&self.script)
            .arg("rotate-key")
            .arg(self.state.path())
            .status()
            .expect("run scripts/oidc-provider rotate-key");
        assert!(status.success(), "key rotation failed: {status}");
    }

    async fn client(&self) -> OidcClient {
        OidcClient::discover(self.config())
            .await
            .expect("discovery against the provider")
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = Command::new(&self.script)
            .arg("stop")
            .arg(self.state.path())
            .status();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// A browser: cookies kept, redirects followed by hand.
struct Browser {
    http: reqwest::Client,
}

/// A form of a page: where it posts, and its named inputs.
struct Form {
    action: String,
    inputs: Vec<(String, String, String)>, // (type, name, value)
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn parse_form(html: &str) -> Form {
    let form = Regex::new(r#"<form[^>]*action="([^"]*)""#).expect("regex");
    let input = Regex::new(r"<input([^>]*)>").expect("regex");
    let attr = |tag: &str, name: &str| {
        Regex::new(&format!(r#"\b{name}="([^"]*)""#))
            .expect("regex")
            .captures(tag)
            .map(|c| unescape(&c[1]))
            .unwrap_or_default()
    };
    let action = form
        .captures(html)
        .map(|c| unescape(&c[1]))
        .expect("a form");
    let inputs = input
        .captures_iter(html)
        .map(|c| {
            let tag = &c[1];
            (attr(tag, "type"), attr(tag, "name"), attr(tag, "value"))
        })
        .collect();
    Form { action, inputs }
}

/// How a user answers the provider's consent form.
#[derive(Clone, Copy, PartialEq)]
enum Consent {
    Allow,
    Decline,
}

impl Browser {
    fn new() -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        Self { http }
    }

    /// Walks from `start` through the provider's pages as a user would
    /// (signing in as `user` when asked, answering consent with `consent`)
    /// until the provider redirects to `stop_at`; returns that redirect.
    async fn walk(&self, start: Url, stop_at: &str, user: &str, consent: Consent) -> Url {
        let mut request = self.http.get(start.clone());
        let mut current = start;
        for _ in 0..10 {
            let response = request.send().await.expect("request to the provider");
            let status = response.status();
            if status.is_redirection() {
                let location = response.headers()[LOCATION]
                    .to_str()
                    .expect("ASCII Location");
                let next = current.join(location).expect("Location is a URL");
                if next.as_str().starts_with(stop_at) {
                    return next;
                }
                request = self.http.get(next.clone());
                current = next;
                continue;
            }
            let page = response.text().await.expect("page body");
            assert_eq!(status, StatusCode::OK, "{current}: {page}");
            let form = parse_form(&page);
            let mut fields: Vec<(String, String)> = Vec::new();
            let is_login = form.inputs.iter().any(|(t, _, _)| t == "password");
            for (kind, name, value) in &form.inputs {
                match (kind.as_str(), name.as_str()) {
                    (_, "") => {}
                    ("text", "username") => fields.push((name.clone(), user.to_owned())),
                    ("password", _) => fields.push((name.clone(), format!("{user}-password"))),
                    ("submit", "allow") if consent == Consent::Decline => {}
                    _ => fields.push((name.clone(), value.clone())),
                }
            }
            assert!(
                is_login || page.contains("Request for Permission"),
                "unexpected page at {current}: {page}"
            );
            let action = current.join(&form.action).expect("form action");
            request = self.http.post(action.clone()).form(&fields);
            current = action;
        }
        panic!("no redirect to {stop_at} after 10 steps (last: {current})");
    }

    /// Signs `user` in from a fresh login and returns the pending login and
    /// the callback's query string.
    async fn login(
        &self,
        oidc: &OidcClient,
        user: &str,
        consent: Consent,
    ) -> (PendingLogin, String) {
        let (url, pending) = oidc.begin_login();
        let query: BTreeMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["code_challenge_method"], "S256");
        assert_eq!(query["state"], pending.state);
        assert_eq!(query["nonce"], pending.nonce);
        assert!(query["scope"].split(' ').any(|s| s == "openid"));
        let back = self
            .walk(url, &oidc.config().redirect_url, user, consent)
            .await;
        (pending, back.query().unwrap_or_default().to_owned())
    }
}

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
    let discovery: serde_json::Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        provider.issuer
    ))
    .await
    .expect("discovery")
    .json()
    .await
    .expect("discovery JSON");
    let end_session = discovery["end_session_endpoint"]
        .as_str()
        .expect("end_session_endpoint");
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
    assert_eq!(params["post_logout_redirect_uri"], provider.post_logout_url);
    // Following it ends alice's session at the provider and comes back.
    let response = browser.http.get(logout).send().await.expect("end session");
    assert!(response.status().is_redirection(), "{}", response.status());
    let back = response.headers()[LOCATION].to_str().expect("Location");
    assert!(back.starts_with(&provider.post_logout_url), "{back}");
    assert!(back.contains("state=bye-state"), "{back}");
    // The next login asks for credentials again.
    let (url, _) = oidc.begin_login();
    let response = browser.http.get(url).send().await.expect("authorize");
    let location = response.headers()[LOCATION].to_str().expect("Location");
    assert!(
        location.starts_with("/accounts/login/"),
        "signed out, so sent to the login form: {location}"
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
    config.issuer_url = provider.issuer.replace("127.0.0.1", "localhost");
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
