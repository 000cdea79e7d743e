//! Browser sessions: the cookie's flags, the CSRF token every cookie-made
//! change needs, expiry, signing out, and the sign-in limit.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use axum::http::{Method, StatusCode};
use certmgr_core::Role;
use certmgr_engine::access::create_user;
use common::Api;
use serde_json::json;
use zeroize::Zeroizing;

const PASSWORD: &str = "correct horse battery staple";

async fn api_with_alice() -> Api {
    let api = Api::new().await;
    create_user(
        &api.engine(),
        "alice",
        Role::Admin,
        None,
        Some(Zeroizing::new(PASSWORD.into())),
    )
    .await
    .unwrap();
    api
}

/// Sign alice in: the cookie's `name=value` and the CSRF token.
async fn sign_in(api: &Api) -> (String, String, String) {
    let answer = api
        .call(
            Method::POST,
            "/api/session",
            None,
            Some(json!({"user": "alice", "password": PASSWORD})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    let set_cookie = answer.headers["set-cookie"].to_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let csrf = answer.json()["csrf_token"].as_str().unwrap().to_owned();
    (cookie, csrf, set_cookie)
}

#[tokio::test]
async fn the_cookie_is_httponly_samesite_strict_and_changes_need_the_csrf_token() {
    let api = api_with_alice().await;
    let (cookie, csrf, set_cookie) = sign_in(&api).await;
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    assert!(cookie.starts_with("certmgr_session="), "{set_cookie}");
    assert!(cookie.len() > "certmgr_session=".len() + 40, "{set_cookie}");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attributes.contains(&flag), "{flag} missing: {set_cookie}");
    }
    assert!(
        !attributes.contains(&"Secure"),
        "plain HTTP here: {set_cookie}"
    );

    // Reads need no CSRF token; the session says who and gives the token.
    let me = api
        .call_with_session(Method::GET, "/api/session", &cookie, None, None)
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    assert_eq!(me.json()["name"], "user:alice");
    assert_eq!(me.json()["csrf_token"], csrf.as_str());

    let new_ca = json!({"name": "made-with-a-cookie"});
    let digest = api.store.content_digest().await.unwrap();
    for headers in [
        vec![("cookie", cookie.as_str())],
        vec![("cookie", cookie.as_str()), ("x-csrf-token", "0000")],
        vec![("cookie", cookie.as_str()), ("x-csrf-token", "")],
    ] {
        let refused = api
            .call_with(Method::POST, "/api/cas", &headers, Some(new_ca.clone()))
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());
        assert!(refused.json()["detail"].as_str().unwrap().contains("CSRF"));
    }
    assert_eq!(
        api.store.content_digest().await.unwrap(),
        digest,
        "nothing changed"
    );
    let made = api
        .call_with_session(Method::POST, "/api/cas", &cookie, Some(&csrf), Some(new_ca))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let last = api.audit_entries().await.pop().unwrap();
    assert_eq!(
        (last.actor.as_str(), last.action.as_str()),
        ("user:alice", "ca.create")
    );

    // Signing out ends the session and clears the cookie.
    let out = api
        .call_with_session(Method::DELETE, "/api/session", &cookie, Some(&csrf), None)
        .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.text());
    assert_eq!(out.json()["logout_url"], serde_json::Value::Null);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = api
        .call_with_session(Method::GET, "/api/session", &cookie, None, None)
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.text());
}

#[tokio::test]
async fn over_tls_the_cookie_is_secure_and_a_session_ends_after_twelve_hours() {
    let mut api = api_with_alice().await;
    api.router = certmgr_server::api::router(api.state.clone().with_secure_cookies());
    let (cookie, _, set_cookie) = sign_in(&api).await;
    assert!(
        set_cookie.split(';').any(|a| a.trim() == "Secure"),
        "{set_cookie}"
    );
    let ok = api
        .call_with_session(Method::GET, "/api/session", &cookie, None, None)
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    api.clock.advance(12 * 3600 + 1);
    let expired = api
        .call_with_session(Method::GET, "/api/session", &cookie, None, None)
        .await;
    assert_eq!(
        expired.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        expired.text()
    );
    assert!(expired.text().contains("expired"));
}

#[tokio::test]
async fn the_sixth_wrong_password_in_a_minute_is_slowed_down() {
    let api = api_with_alice().await;
    let wrong = json!({"user": "alice", "password": "not the password at all"});
    for attempt in 1..=5 {
        let answer = api
            .call(Method::POST, "/api/session", None, Some(wrong.clone()))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}: {}",
            answer.text()
        );
        assert_eq!(answer.json()["detail"], "wrong user name or password");
    }
    let sixth = api
        .call(Method::POST, "/api/session", None, Some(wrong))
        .await;
    assert_eq!(
        sixth.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        sixth.text()
    );
    let retry: u64 = sixth.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Even the right password waits now: the guesser learns nothing.
    let right = api
        .call(
            Method::POST,
            "/api/session",
            None,
            Some(json!({"user": "alice", "password": PASSWORD})),
        )
        .await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    // Every password tried is in the audit log, with how it ended; the
    // attempts turned away (429) are not, so a flood cannot fill it.
    let sign_ins: Vec<_> = api
        .audit_entries()
        .await
        .into_iter()
        .filter(|e| e.action == "session.sign-in")
        .collect();
    assert_eq!(sign_ins.len(), 5);
    assert!(
        sign_ins
            .iter()
            .all(|e| e.target == "user:alice" && e.outcome == "bad-input")
    );
}
