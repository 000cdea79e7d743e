//! `/api/notifications` through the router: channels created, shown,
//! replaced and deleted with their secrets never in an answer; refusals
//! name the field and change nothing; "send test" answers what happened;
//! the notices of a pass listed with filters.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use axum::http::{Method, StatusCode};
use certmgr_engine::Clock as _;
use certmgr_engine::notify::message::{SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature};
use certmgr_testkit::WebhookReceiver;
use common::Api;
use serde_json::json;

const SECRET: &str = "hmac-secret-that-stays-sealed";

#[tokio::test]
async fn channels_keep_their_secrets_and_refusals_name_the_field() {
    let api = Api::new().await;
    let receiver = WebhookReceiver::start().await.unwrap();
    let hook_url = format!("{}/hooks/T000/B000/private-token", receiver.url);
    let created = api
        .call(
            Method::POST,
            "/api/notifications/channels",
            Some("admin"),
            Some(json!({
                "name": "ops-hook",
                "webhook": {"url": hook_url, "secret": SECRET, "allow_plain_http": true},
                "events": ["expired", "expiring"]
            })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let mail = api
        .call(
            Method::POST,
            "/api/notifications/channels",
            Some("admin"),
            Some(json!({
                "name": "ops-mail",
                "digest": true, "digest_hour": 6,
                "email": {"host": "smtp.example.com", "username": "certmgr",
                          "password": "smtp-password-sealed", "from": "certmgr@example.com",
                          "to": ["ops@example.com"]}
            })),
        )
        .await;
    assert_eq!(mail.status, StatusCode::CREATED, "{}", mail.text());
    assert_eq!(mail.json()["email"]["port"], 587);
    assert_eq!(mail.json()["email"]["password_set"], true);
    // No answer, listing or detail, holds a secret.
    let listed = api
        .call(
            Method::GET,
            "/api/notifications/channels",
            Some("admin"),
            None,
        )
        .await;
    let shown = api
        .call(
            Method::GET,
            "/api/notifications/channels/ops-hook",
            Some("admin"),
            None,
        )
        .await;
    for answer in [&created, &mail, &listed, &shown] {
        let text = answer.text();
        for secret in [SECRET, "private-token", "smtp-password-sealed"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    assert_eq!(
        shown.json()["webhook"]["url"],
        format!("{}/…", receiver.url)
    );
    assert_eq!(shown.json()["webhook"]["secret_set"], true);
    assert_eq!(shown.json()["events"], json!(["expiring", "expired"]));
    assert_eq!(listed.json().as_array().unwrap().len(), 2);

    // Bad input: the field named, nothing changed.
    let digest = api.store.content_digest().await.unwrap();
    let bad = [
        (
            json!({"name": "x", "webhook": {"url": "ftp://x.example", "secret": SECRET}}),
            "webhook.url",
        ),
        (
            json!({"name": "x", "webhook": {"url": "http://x.example/h", "secret": SECRET}}),
            "webhook.url",
        ),
        (
            json!({"name": "x", "email": {"host": "smtp.example.com", "from": "certmgr@example.com",
                   "to": ["ops@example.com", "not-an-address"]}}),
            "email.to[1]",
        ),
        (
            json!({"name": "x", "email": {"host": "smtp.example.com", "from": "a@b\r\nBcc: x@y.z",
                   "to": ["ops@example.com"]}}),
            "email.from",
        ),
        (
            json!({"name": "bad name!", "webhook": {"url": "https://x.example", "secret": SECRET}}),
            "name",
        ),
        (json!({"name": "x"}), "email"),
    ];
    for (body, field) in bad {
        let answer = api
            .call(
                Method::POST,
                "/api/notifications/channels",
                Some("admin"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.text()
        );
        assert_eq!(answer.json()["field"], field, "{body}: {}", answer.text());
        assert_eq!(answer.headers["content-type"], "application/problem+json");
    }
    let taken = api
        .call(
            Method::POST,
            "/api/notifications/channels",
            Some("admin"),
            Some(json!({"name": "ops-hook", "webhook": {"url": "https://x.example", "secret": SECRET}})),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text());
    let replaced_badly = api
        .call(
            Method::PUT,
            "/api/notifications/channels/ops-mail",
            Some("admin"),
            Some(json!({"email": {"host": "smtp.example.com", "from": "certmgr@example.com", "to": []}})),
        )
        .await;
    assert_eq!(replaced_badly.json()["field"], "email.to");
    assert_eq!(api.store.content_digest().await.unwrap(), digest);

    // Replace without the secrets: they are kept.
    let replaced = api
        .call(
            Method::PUT,
            "/api/notifications/channels/ops-hook",
            Some("admin"),
            Some(json!({"webhook": {"allow_plain_http": true}, "enabled": false})),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text());
    assert_eq!(replaced.json()["enabled"], false);
    assert_eq!(replaced.json()["webhook"]["secret_set"], true);
    assert_eq!(replaced.json()["events"].as_array().unwrap().len(), 5);

    // Send test: delivered and signed (disabled channels can be tested).
    let tested = api
        .call(
            Method::POST,
            "/api/notifications/channels/ops-hook/test",
            Some("admin"),
            None,
        )
        .await;
    assert_eq!(tested.status, StatusCode::OK, "{}", tested.text());
    assert_eq!(tested.json()["kind"], "webhook");
    let got = receiver.received("/hooks/T000/B000/private-token");
    assert_eq!(got.len(), 1);
    assert!(verify_signature(
        SECRET.as_bytes(),
        &got[0].headers[&TIMESTAMP_HEADER.to_ascii_lowercase()],
        &got[0].headers[&SIGNATURE_HEADER.to_ascii_lowercase()],
        &got[0].body,
        api.clock.unix(),
    ));
    // And a failure: the peer's answer, as an upstream problem.
    api.call(
        Method::PUT,
        "/api/notifications/channels/ops-hook",
        Some("admin"),
        Some(
            json!({"webhook": {"url": format!("{}/fail", receiver.url), "allow_plain_http": true}}),
        ),
    )
    .await;
    let failed = api
        .call(
            Method::POST,
            "/api/notifications/channels/ops-hook/test",
            Some("admin"),
            None,
        )
        .await;
    assert_eq!(failed.status, StatusCode::BAD_GATEWAY, "{}", failed.text());
    assert_eq!(failed.json()["type"], "urn:certmgr:problem:upstream-failed");
    assert!(
        failed.json()["detail"]
            .as_str()
            .unwrap()
            .contains("HTTP 500")
    );
    let audit = api.audit_entries().await;
    let last = audit.last().unwrap();
    assert_eq!(last.action, "notify.channel.test");
    assert_eq!(last.target, "ops-hook");

    // Delete.
    let deleted = api
        .call(
            Method::DELETE,
            "/api/notifications/channels/ops-mail",
            Some("admin"),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = api
        .call(
            Method::GET,
            "/api/notifications/channels/ops-mail",
            Some("admin"),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    // Channels are the admins'; an operator is refused.
    let refused = api
        .call(
            Method::GET,
            "/api/notifications/channels",
            Some("operator"),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_notices_of_a_pass_are_listed_with_filters() {
    let api = Api::new().await;
    let receiver = WebhookReceiver::start().await.unwrap();
    let created = api
        .call(
            Method::POST,
            "/api/notifications/channels",
            Some("admin"),
            Some(
                json!({"name": "hook", "webhook": {"url": format!("{}/in", receiver.url),
                        "secret": SECRET, "allow_plain_http": true}}),
            ),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    // Issued now by the system clock for a year; the API's clock is ahead
    // of it by two days (Api::new), so move it to 3 days before expiry.
    api.issued("web", &[]).await;
    let record = api.store.credential("web").await.unwrap();
    api.clock.set(record.not_after.unwrap() - 3 * 86_400 + 60);
    api.credential("pending", &[]).await;
    let pending = api.store.credential("pending").await.unwrap();
    api.store
        .record_failure(&pending, "issue-failed", "no route to the CA")
        .await
        .unwrap();
    let report = certmgr_engine::notify::pass(&api.engine()).await.unwrap();
    assert_eq!(report.decided.len(), 2, "{report:?}");
    assert_eq!(report.sent, 2, "{report:?}");
    assert_eq!(receiver.received("/in").len(), 2);
    let second = certmgr_engine::notify::pass(&api.engine()).await.unwrap();
    assert!(second.decided.is_empty() && second.sent == 0, "{second:?}");

    let all = api
        .call(Method::GET, "/api/notifications", Some("viewer"), None)
        .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text());
    let items = all.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["deliveries"][0]["state"], "sent");
    assert_eq!(items[0]["deliveries"][0]["channel"], "hook");
    let expiring = api
        .call(
            Method::GET,
            "/api/notifications?event=expiring&credential=web&channel=hook&state=sent",
            Some("viewer"),
            None,
        )
        .await;
    let items = expiring.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{}", expiring.text());
    assert_eq!(items[0]["threshold_days"], 3);
    let page = api
        .call(
            Method::GET,
            "/api/notifications?limit=1",
            Some("viewer"),
            None,
        )
        .await;
    let next = page.json()["next_before"].as_str().unwrap().to_owned();
    let rest = api
        .call(
            Method::GET,
            &format!("/api/notifications?limit=1&before={next}"),
            Some("viewer"),
            None,
        )
        .await;
    assert_eq!(rest.json()["items"][0]["event"], "issuance-failed");
    let bad = api
        .call(
            Method::GET,
            "/api/notifications?event=boom",
            Some("viewer"),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["field"], "event");
    // Scoped principals see no notices (they name credentials of every scope).
    let scoped = api
        .call(
            Method::GET,
            "/api/notifications",
            Some("web-operator"),
            None,
        )
        .await;
    assert_eq!(scoped.status, StatusCode::FORBIDDEN);
}
