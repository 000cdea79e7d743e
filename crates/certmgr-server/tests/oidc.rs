//! Single sign-on end to end against a real OpenID provider
//! (django-oidc-provider on 127.0.0.1, certmgr-testkit's `oidc` module):
//! the API's login redirect, the provider's login and consent pages walked
//! by a cookie-keeping HTTP client as alice (group certmgr-admins → admin) or
//! bob (no group), the provider's redirect handed to the API's callback
//! in-process, then the session it made: who it is, CSRF on changes, sign
//! out with the provider's logout URL, and the audit log.
//!
//! Without the provider the tests print a visible SKIPPED line; under
//! CI=true they fail instead.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use certmgr_testkit::oidc::{Browser, CLIENT_ID, Consent, Provider};
use common::{Answer, Api};
use serde_json::json;
use url::Url;

/// The API on a fresh store with single sign-on through `provider`
/// (certmgr-admins → admin); `secure`: cookies marked Secure, as over TLS.
async fn sso_api(provider: &Provider, secure: bool) -> Api {
    let mut api = Api::new().await;
    let state = if secure {
        api.state.clone().with_secure_cookies()
    } else {
        api.state.clone()
    };
    let state = state
        .with_oidc(Some(provider.config()))
        .await
        .expect("the provider is discovered");
    api.router = certmgr_server::api::router(state.clone());
    api.state = state;
    api
}

/// A login started with `GET /api/oidc/login`.
struct Login {
    /// Where it sends the browser: the provider's authorization endpoint.
    url: Url,
    /// The cookie (`name=value`) that binds it to the browser.
    cookie: String,
}

/// `GET /api/oidc/login`: a 303 to the provider's authorization endpoint
/// with a code flow request (state, nonce, PKCE), and a cookie that binds
/// the login to this browser.
async fn login_redirect(api: &Api, provider: &Provider) -> Login {
    let answer = api
        .call_with(Method::GET, "/api/oidc/login", &[], None)
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
    let location = answer.headers["location"].to_str().unwrap();
    let url = Url::parse(location).unwrap();
    let authorization = provider.discovery().await["authorization_endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        location.starts_with(&format!("{authorization}?")),
        "{location} is not at {authorization}"
    );
    let query: BTreeMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["redirect_uri"], provider.redirect_url());
    assert_eq!(query["code_challenge_method"], "S256");
    for name in ["state", "nonce", "code_challenge"] {
        assert!(query[name].len() >= 16, "{name}: {query:?}");
    }
    assert!(
        query["scope"].split(' ').any(|s| s == "groups"),
        "{query:?}"
    );
    // The binding cookie: the state, sent back to the callback only; Lax,
    // since the provider's redirect back is a navigation from its site.
    let set_cookie = answer.headers["set-cookie"].to_str().unwrap();
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    assert_eq!(
        attributes[0],
        format!("certmgr_oidc_login={}", query["state"]),
        "{set_cookie}"
    );
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/api/oidc/callback"] {
        assert!(attributes.contains(&flag), "{flag} missing: {set_cookie}");
    }
    assert_eq!(
        attributes.contains(&"Secure"),
        api.state.secure_cookies(),
        "{set_cookie}"
    );
    Login {
        url,
        cookie: attributes[0].to_owned(),
    }
}

/// Sign `user` in at the provider from a fresh API login; returns the
/// query string the provider sends back to the redirect URL (not followed)
/// and the login's cookie.
async fn provider_answer(
    api: &Api,
    provider: &Provider,
    browser: &Browser,
    user: &str,
) -> (String, String) {
    let login = login_redirect(api, provider).await;
    let back = browser
        .walk(login.url, provider.redirect_url(), user, Consent::Allow)
        .await;
    let query = back.query().unwrap_or_default().to_owned();
    let params: BTreeMap<_, _> = back.query_pairs().into_owned().collect();
    assert!(
        params.contains_key("code") && params.contains_key("state"),
        "{back}"
    );
    (query, login.cookie)
}

/// The provider's redirect arriving at the API, with `cookie` if any.
async fn callback(api: &Api, query: &str, cookie: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = cookie.iter().map(|c| ("cookie", *c)).collect();
    api.call_with(
        Method::GET,
        &format!("/api/oidc/callback?{query}"),
        &headers,
        None,
    )
    .await
}

fn is_problem(answer: &Answer) -> bool {
    answer.headers["content-type"] == "application/problem+json"
}

#[tokio::test]
async fn alice_signs_in_as_admin_and_logout_ends_both_sessions() {
    let Some(provider) = Provider::start("both") else {
        return;
    };
    let api = sso_api(&provider, true).await;
    let browser = Browser::new();

    let (query, login_cookie) = provider_answer(&api, &provider, &browser, "alice").await;
    // The callback opened in another browser (a link someone was sent) is
    // refused: it would sign that browser in to alice's account.
    let elsewhere = callback(&api, &query, None).await;
    assert_eq!(
        elsewhere.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        elsewhere.text()
    );
    assert!(!elsewhere.headers.contains_key("set-cookie"));
    let other_login = login_redirect(&api, &provider).await;
    let crossed = callback(&api, &query, Some(&other_login.cookie)).await;
    assert_eq!(
        crossed.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        crossed.text()
    );
    // In the browser that started it, it signs alice in.
    let signed_in = callback(&api, &query, Some(&login_cookie)).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text());
    assert!(
        signed_in.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{:?}",
        signed_in.headers
    );
    assert!(
        signed_in
            .text()
            .contains("http-equiv=\"refresh\" content=\"0;url=/\""),
        "the page moves on to the UI: {}",
        signed_in.text()
    );
    let set_cookie = signed_in.headers["set-cookie"].to_str().unwrap().to_owned();
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    let cookie = attributes[0].to_owned();
    assert!(cookie.starts_with("certmgr_session="), "{set_cookie}");
    assert!(cookie.len() > "certmgr_session=".len() + 40, "{set_cookie}");
    for flag in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Secure",
        "Max-Age=43200",
    ] {
        assert!(attributes.contains(&flag), "{flag} missing: {set_cookie}");
    }

    // The session: alice, by her email at the provider, as admin.
    let me = api
        .call_with_session(Method::GET, "/api/session", &cookie, None, None)
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    let me = me.json();
    let name = me["name"].as_str().unwrap().to_owned();
    assert_eq!(name, "oidc:alice@example.test");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["scope"], serde_json::Value::Null);
    let csrf = me["csrf_token"].as_str().unwrap().to_owned();

    // A change made with the cookie alone is refused; with the session's
    // CSRF token it is made, in alice's name.
    let new_ca = json!({"name": "made-by-sso"});
    let refused = api
        .call_with_session(
            Method::POST,
            "/api/cas",
            &cookie,
            None,
            Some(new_ca.clone()),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    assert!(refused.json()["detail"].as_str().unwrap().contains("CSRF"));
    assert!(api.store.ca("made-by-sso").await.is_err(), "nothing made");
    let made = api
        .call_with_session(Method::POST, "/api/cas", &cookie, Some(&csrf), Some(new_ca))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    assert!(api.store.ca("made-by-sso").await.is_ok());

    // The provider's answer is good once: the same state again is refused.
    let replayed = callback(&api, &query, Some(&login_cookie)).await;
    assert_eq!(
        replayed.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        replayed.text()
    );
    assert!(is_problem(&replayed));
    assert!(!replayed.headers.contains_key("set-cookie"));
    // So is a state this server never handed out.
    let forged = query
        .split('&')
        .map(|pair| {
            if pair.starts_with("state=") {
                "state=not-a-state-of-ours"
            } else {
                pair
            }
        })
        .collect::<Vec<_>>()
        .join("&");
    let forged = callback(
        &api,
        &forged,
        Some("certmgr_oidc_login=not-a-state-of-ours"),
    )
    .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "{}", forged.text());

    // Still signed in at the provider: a new login goes straight to consent.
    assert!(
        !browser
            .is_asked_to_sign_in(login_redirect(&api, &provider).await.url)
            .await
    );

    // Signing out: the session ends here, and the answer names the
    // provider's end-session endpoint to end it there too.
    let out = api
        .call_with_session(Method::DELETE, "/api/session", &cookie, Some(&csrf), None)
        .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.text());
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("certmgr_session=; ")
    );
    let logout_url = out.json()["logout_url"].as_str().unwrap().to_owned();
    let end_session = provider.end_session_endpoint().await;
    assert!(
        logout_url.starts_with(&format!("{end_session}?")),
        "{logout_url} is not at {end_session}"
    );
    let logout_url = Url::parse(&logout_url).unwrap();
    let params: BTreeMap<_, _> = logout_url.query_pairs().into_owned().collect();
    assert_eq!(params["client_id"], CLIENT_ID);
    assert_eq!(
        params["post_logout_redirect_uri"],
        provider.post_logout_url()
    );
    // Following it ends alice's session at the provider: the next login
    // asks for her password again.
    browser.end_session(logout_url).await;
    assert!(
        browser
            .is_asked_to_sign_in(login_redirect(&api, &provider).await.url)
            .await,
        "signed out at the provider, so sent to its login form"
    );
    // And the cookie opens nothing any more.
    let after = api
        .call_with_session(Method::GET, "/api/session", &cookie, None, None)
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.text());

    // The audit log: alice's sign-in (by nobody yet, about her) and the
    // refused ones, her change and her sign-out (the change
    // without a CSRF token never got past authentication).
    let entries = api.audit_entries().await;
    let sign_ins: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "session.sign-in")
        .collect();
    // The two refused before it, alice's, the replay and the forgery.
    assert_eq!(sign_ins.len(), 5, "{sign_ins:#?}");
    assert_eq!(
        (
            sign_ins[2].actor.as_str(),
            sign_ins[2].target.as_str(),
            sign_ins[2].outcome.as_str()
        ),
        ("anonymous", name.as_str(), "ok")
    );
    for refused in [0, 1, 3, 4].map(|i| sign_ins[i]) {
        assert_eq!(
            (refused.actor.as_str(), refused.outcome.as_str()),
            ("anonymous", "bad-input"),
            "{refused:?}"
        );
    }
    let by_alice: Vec<_> = entries
        .iter()
        .filter(|e| e.actor == name)
        .map(|e| (e.action.as_str(), e.target.as_str(), e.outcome.as_str()))
        .collect();
    assert_eq!(
        by_alice,
        [
            ("ca.create", "made-by-sso", "ok"),
            ("session.sign-out", "-", "ok"),
        ],
        "{entries:#?}"
    );
}

#[tokio::test]
async fn bob_in_no_mapped_group_is_refused_and_the_refusal_is_audited() {
    let Some(provider) = Provider::start("both") else {
        return;
    };
    let api = sso_api(&provider, false).await;

    let (query, cookie) = provider_answer(&api, &provider, &Browser::new(), "bob").await;
    let refused = callback(&api, &query, Some(&cookie)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
    assert!(is_problem(&refused), "{:?}", refused.headers);
    assert!(
        !refused.headers.contains_key("set-cookie"),
        "no session for bob: {:?}",
        refused.headers
    );
    let detail = refused.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("their groups: none"), "{detail}");
    assert!(detail.contains("[oidc.group_roles]"), "{detail}");
    let subject = detail
        .strip_prefix("user ")
        .and_then(|rest| rest.split_once(" is in no group"))
        .map(|(subject, _)| subject.to_owned())
        .unwrap_or_else(|| panic!("the refusal names bob's subject: {detail}"));
    assert!(!subject.is_empty());

    let entries = api.audit_entries().await;
    let last = entries.last().unwrap();
    assert_eq!(
        (
            last.actor.as_str(),
            last.action.as_str(),
            last.target.as_str(),
            last.outcome.as_str()
        ),
        (
            "anonymous",
            "session.sign-in",
            format!("oidc:{subject}").as_str(),
            "bad-input"
        ),
        "{entries:#?}"
    );
    assert!(
        !entries
            .iter()
            .any(|e| e.outcome == "ok" && e.action.starts_with("session.")),
        "no session was started: {entries:#?}"
    );

    // alice on the same server, without TLS: her cookie is not Secure.
    let (query, cookie) = provider_answer(&api, &provider, &Browser::new(), "alice").await;
    let signed_in = callback(&api, &query, Some(&cookie)).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text());
    let set_cookie = signed_in.headers["set-cookie"].to_str().unwrap();
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attributes.contains(&flag), "{flag} missing: {set_cookie}");
    }
    assert!(!attributes.contains(&"Secure"), "{set_cookie}");
}
