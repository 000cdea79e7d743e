//! What the extractors refuse, as problem documents: text holding NUL (which
//! PostgreSQL cannot store: it was a 500 there) in a query string, a path or
//! a body, and a path segment that is not UTF-8 (axum's plain-text 400 before).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use axum::http::{Method, StatusCode};
use common::Api;
use serde_json::json;

#[tokio::test]
async fn nul_in_any_text_and_paths_that_are_not_utf8_are_refused_as_problems() {
    let api = Api::new().await;
    let new_credential =
        |host: &str| json!({"name": "web", "hostnames": [host], "issuer": "ca:lab"});
    let cases = [
        (
            Method::GET,
            "/api/audit?actor=a%00b",
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/api/credentials?hostname=%00",
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/api/credentials",
            Some(new_credential("a\u{0}.example.test")),
            StatusCode::BAD_REQUEST,
        ),
        (Method::GET, "/api/cas/a%00b", None, StatusCode::BAD_REQUEST),
        (Method::GET, "/api/cas/%FF", None, StatusCode::BAD_REQUEST),
        // The gate looks the credential up first: no name holds NUL.
        (
            Method::GET,
            "/api/credentials/a%00b",
            None,
            StatusCode::NOT_FOUND,
        ),
        // And the same body without NUL is taken.
        (
            Method::POST,
            "/api/credentials",
            Some(new_credential("web.example.test")),
            StatusCode::CREATED,
        ),
    ];
    for (method, uri, body, status) in cases {
        let answer = api.call(method.clone(), uri, Some("admin"), body).await;
        assert_eq!(answer.status, status, "{method} {uri}: {}", answer.text());
        if !status.is_success() {
            assert_eq!(
                answer.headers["content-type"], "application/problem+json",
                "{method} {uri}"
            );
            assert_eq!(answer.json()["status"], status.as_u16(), "{method} {uri}");
        }
    }
}
