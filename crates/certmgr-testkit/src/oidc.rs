//! A real OpenID provider and a browser for single sign-on tests (feature
//! `oidc`).
//!
//! [`Provider`] is django-oidc-provider on 127.0.0.1, started per test by
//! `scripts/oidc-provider` (which installs it into a virtualenv outside the
//! tree when missing) and stopped when the value is dropped. Its users:
//! alice (group `certmgr-admins`) and bob (no group); its one client requires
//! consent on every login.
//!
//! [`Browser`] is a plain HTTP client with a cookie store that plays the
//! user: it follows the provider's redirects, fills in the login form, the
//! consent form and the end-session prompt, and stops at the redirect back to
//! certmgr, whose Location carries the code and state.
//!
//! Without the provider (no Python venv support and no root to install it),
//! [`Provider::start`] prints a visible SKIPPED line ([`crate::skip`]) and
//! returns `None`; under `CI=true` it fails instead.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use certmgr_core::Role;
use certmgr_oidc::{OidcClient, OidcConfig, PendingLogin};
use regex::Regex;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use url::Url;

/// The client id registered at the provider.
pub const CLIENT_ID: &str = "certmgr-test";

/// Where the provider asks for a user's name and password.
const LOGIN_PATH: &str = "/accounts/login/";

/// One running provider; stopped when dropped (also when a test panics).
pub struct Provider {
    script: PathBuf,
    state: tempfile::TempDir,
    issuer: String,
    redirect_url: String,
    post_logout_url: String,
    client_secret: String,
}

impl Provider {
    /// Starts a provider whose groups claim goes where `groups_in` says
    /// (`both`: ID token and userinfo; `userinfo`: userinfo only), or returns
    /// `None` after a visible skip when it cannot be installed here.
    pub fn start(groups_in: &str) -> Option<Self> {
        let script = crate::repo_root().join("scripts/oidc-provider");
        let state = tempfile::Builder::new()
            .prefix("certmgr-oidc-")
            .tempdir()
            .expect("temp dir");
        let port = crate::free_port();
        // certmgr's side: nothing listens there, the browser stops at it.
        let app = format!("http://127.0.0.1:{}", crate::free_port());
        let redirect_url = format!("{app}/api/oidc/callback");
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
            crate::skip(
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

    /// The issuer URL (`http://127.0.0.1:PORT/openid`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The redirect URL registered for the client; the browser stops there.
    pub fn redirect_url(&self) -> &str {
        &self.redirect_url
    }

    /// The post-logout redirect URL registered for the client.
    pub fn post_logout_url(&self) -> &str {
        &self.post_logout_url
    }

    /// certmgr's configuration for this provider: its client, the scopes
    /// that bring the groups, `certmgr-admins` → admin and
    /// `certmgr-viewers` → viewer.
    pub fn config(&self) -> OidcConfig {
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

    /// A relying party discovered from this provider with [`Self::config`].
    pub async fn client(&self) -> OidcClient {
        OidcClient::discover(self.config())
            .await
            .expect("discovery against the provider")
    }

    /// The provider's discovery document.
    pub async fn discovery(&self) -> serde_json::Value {
        reqwest::get(format!("{}/.well-known/openid-configuration", self.issuer))
            .await
            .expect("discovery")
            .json()
            .await
            .expect("discovery JSON")
    }

    /// The provider's end-session endpoint, from its discovery document.
    pub async fn end_session_endpoint(&self) -> String {
        self.discovery().await["end_session_endpoint"]
            .as_str()
            .expect("end_session_endpoint")
            .to_owned()
    }

    /// Replaces the provider's signing key: ID tokens are signed with a key
    /// that a client discovered earlier does not know.
    pub fn rotate_key(&self) {
        let status = Command::new(&self.script)
            .arg("rotate-key")
            .arg(self.state.path())
            .status()
            .expect("run scripts/oidc-provider rotate-key");
        assert!(status.success(), "key rotation failed: {status}");
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

/// How a user answers the provider's consent form (and its end-session
/// prompt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// Allow (Yes).
    Allow,
    /// Decline (Cancel).
    Decline,
}

/// Where a walk through the provider's pages ended.
enum Stop {
    /// A redirect to a URL the walk was told to stop at.
    Redirect(Url),
    /// A page without a form.
    Page(String),
}

/// A form of a page: where it posts, and its inputs.
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

/// The page's form, if it has one.
fn parse_form(html: &str) -> Option<Form> {
    let form = Regex::new(r#"<form[^>]*action="([^"]*)""#).expect("regex");
    let input = Regex::new(r"<input([^>]*)>").expect("regex");
    let attr = |tag: &str, name: &str| {
        Regex::new(&format!(r#"\b{name}="([^"]*)""#))
            .expect("regex")
            .captures(tag)
            .map(|c| unescape(&c[1]))
            .unwrap_or_default()
    };
    let action = form.captures(html).map(|c| unescape(&c[1]))?;
    let inputs = input
        .captures_iter(html)
        .map(|c| {
            let tag = &c[1];
            (attr(tag, "type"), attr(tag, "name"), attr(tag, "value"))
        })
        .collect();
    Some(Form { action, inputs })
}

/// A browser: cookies kept, redirects followed by hand.
pub struct Browser {
    /// The HTTP client (cookie store on, redirects not followed).
    pub http: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// A browser with no cookies yet.
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        Self { http }
    }

    /// Goes from `start` through the provider's pages as a user would: signs
    /// in as `user` (password `<user>-password`) when asked, answers the
    /// consent form and the end-session prompt with `consent`, until a
    /// redirect goes where `stop_at` says or a page has no form.
    async fn browse(
        &self,
        start: Url,
        stop_at: impl Fn(&Url) -> bool,
        user: &str,
        consent: Consent,
    ) -> Stop {
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
                if stop_at(&next) {
                    return Stop::Redirect(next);
                }
                request = self.http.get(next.clone());
                current = next;
                continue;
            }
            let page = response.text().await.expect("page body");
            assert_eq!(status, StatusCode::OK, "{current}: {page}");
            let Some(form) = parse_form(&page) else {
                return Stop::Page(page);
            };
            let is_login = form.inputs.iter().any(|(t, _, _)| t == "password");
            assert!(
                is_login || page.contains("Request for Permission") || page.contains("End Session"),
                "unexpected page at {current}: {page}"
            );
            let mut fields: Vec<(String, String)> = Vec::new();
            for (kind, name, value) in &form.inputs {
                match (kind.as_str(), name.as_str()) {
                    (_, "") => {}
                    ("text", "username") => fields.push((name.clone(), user.to_owned())),
                    ("password", _) => fields.push((name.clone(), format!("{user}-password"))),
                    ("submit", "allow") if consent == Consent::Decline => {}
                    _ => fields.push((name.clone(), value.clone())),
                }
            }
            let action = current.join(&form.action).expect("form action");
            request = self.http.post(action.clone()).form(&fields);
            current = action;
        }
        panic!("no end after 10 steps (last: {current})");
    }

    /// Walks from `start` (a login URL at the provider) as `user`, answering
    /// consent with `consent`, until the provider redirects to a URL that
    /// starts with `stop_at`; returns that redirect, not followed.
    pub async fn walk(&self, start: Url, stop_at: &str, user: &str, consent: Consent) -> Url {
        match self
            .browse(
                start,
                |next| next.as_str().starts_with(stop_at),
                user,
                consent,
            )
            .await
        {
            Stop::Redirect(url) => url,
            Stop::Page(page) => panic!("no redirect to {stop_at}; ended at a page: {page}"),
        }
    }

    /// Signs `user` in from a fresh login of `oidc` (checking what the login
    /// URL asks for) and returns the pending login and the callback's query
    /// string.
    pub async fn login(
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

    /// Follows a logout URL (the provider's end-session endpoint), saying
    /// yes when the provider asks whether to log out. Returns where the
    /// provider sent the browser back to (a URL off the provider), or
    /// `None` when it ended on its own "logged out" page.
    pub async fn end_session(&self, logout: Url) -> Option<Url> {
        let provider = logout.origin();
        match self
            .browse(logout, |next| next.origin() != provider, "", Consent::Allow)
            .await
        {
            Stop::Redirect(back) => Some(back),
            Stop::Page(page) => {
                assert!(
                    page.contains("End Session Completed"),
                    "the provider did not end the session: {page}"
                );
                None
            }
        }
    }

    /// Whether the provider, given the login URL `authorize`, asks this
    /// browser to sign in (no session there) rather than going straight to
    /// the consent form (signed in already).
    pub async fn is_asked_to_sign_in(&self, authorize: Url) -> bool {
        let response = self
            .http
            .get(authorize.clone())
            .send()
            .await
            .expect("authorize");
        let status = response.status();
        if status.is_redirection() {
            let location = response.headers()[LOCATION].to_str().expect("Location");
            let next = authorize.join(location).expect("Location is a URL");
            assert!(
                next.path() == LOGIN_PATH,
                "the provider sent {authorize} to neither its login form nor its consent form: {next}"
            );
            return true;
        }
        let page = response.text().await.expect("page body");
        assert!(
            status == StatusCode::OK && page.contains("Request for Permission"),
            "{authorize}: {status}: {page}"
        );
        false
    }
}
