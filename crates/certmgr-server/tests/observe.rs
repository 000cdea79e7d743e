//! `/metrics`, `/healthz` and `/readyz` on the in-process router: the exact
//! per-credential series of a known store, a scoped token's view, the
//! families of the registry, and readiness failing when the scheduler
//! stalls or the store stops answering.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use axum::http::{Method, StatusCode};
use common::{Api, NOW};

/// The per-credential lines (`certmanager_certificate_*` samples) of a text.
fn credential_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("certmanager_certificate_"))
        .map(str::to_owned)
        .collect()
}

/// What `/metrics` must say of the credentials `names`, read from the store.
async fn expected(api: &Api, names: &[&str]) -> Vec<String> {
    let labels = |name: &str| {
        format!(
            "name=\"{name}\",namespace=\"\",issuer_name=\"lab\",issuer_kind=\"ca\",issuer_group=\"certmgr\""
        )
    };
    let mut expiry = Vec::new();
    let mut renewal = Vec::new();
    let mut ready = Vec::new();
    for name in names {
        let c = api.store.credential(name).await.unwrap();
        if let Some(at) = c.not_after {
            expiry.push(format!(
                "certmanager_certificate_expiration_timestamp_seconds{{{}}} {at}",
                labels(name)
            ));
        }
        if let (Some(at), Some(_)) = (c.renew_at, c.not_after) {
            renewal.push(format!(
                "certmanager_certificate_renewal_timestamp_seconds{{{}}} {at}",
                labels(name)
            ));
        }
        let is_ready = c.not_after.is_some_and(|t| t > NOW + 2 * 86_400);
        for condition in ["True", "False", "Unknown"] {
            let value = u8::from((condition == "True") == is_ready && condition != "Unknown");
            ready.push(format!(
                "certmanager_certificate_ready_status{{name=\"{name}\",namespace=\"\",condition=\"{condition}\",issuer_name=\"lab\",issuer_kind=\"ca\",issuer_group=\"certmgr\"}} {value}"
            ));
        }
    }
    expiry.into_iter().chain(renewal).chain(ready).collect()
}

#[tokio::test]
async fn metrics_show_every_credential_once_per_family_and_a_scoped_token_its_own() {
    let api = Api::new().await;
    api.issued("a-web", &["team=web"]).await;
    api.issued("b-db", &["team=db"]).await;
    api.credential("c-new", &["team=web"]).await;
    // A dry run plans the renewals (as the scheduler's first pass does):
    // the renewal series shows the recorded plan.
    certmgr_engine::renewal::renew_due(
        &api.engine(),
        certmgr_engine::renewal::SolverChoice::FromOptions(
            certmgr_engine::responders::AnswerOptions::default(),
        ),
        true,
        certmgr_engine::renewal::Scope::Every,
    )
    .await
    .unwrap();
    let answer = api
        .call(Method::GET, "/metrics", Some("viewer"), None)
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(
        answer.headers["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = answer.text();
    assert_eq!(
        credential_lines(&text),
        expected(&api, &["a-web", "b-db", "c-new"]).await,
        "{text}"
    );
    // Planned: the series is there.
    assert!(text.contains("certmanager_certificate_renewal_timestamp_seconds{name=\"a-web\""));
    for family in [
        "# TYPE certmanager_certificate_expiration_timestamp_seconds gauge",
        "# TYPE certmanager_certificate_ready_status gauge",
        "# TYPE certmgr_jobs_running gauge",
        "# TYPE certmgr_scheduler_last_pass_timestamp_seconds gauge",
        "# TYPE certmgr_acme_requests_total counter",
        "# TYPE certmgr_acme_request_duration_seconds histogram",
        "# TYPE certmanager_http_acme_client_request_duration_seconds summary",
        "# TYPE certmgr_dns_provider_steps_total counter",
        "# TYPE certmgr_dns_provider_step_duration_seconds histogram",
        "# TYPE certmgr_renewal_failures_total counter",
    ] {
        assert!(
            text.lines().any(|l| l == family),
            "{family} missing:\n{text}"
        );
    }
    assert!(!text.contains("certmanager_clock_time_seconds_gauge"));
    assert!(text.lines().any(|l| l == "certmgr_jobs_running 0"));
    assert!(
        text.lines()
            .any(|l| l == "certmgr_scheduler_last_pass_timestamp_seconds 0")
    );

    // A token scoped to team=web sees its credentials only.
    let scoped = api
        .call(Method::GET, "/metrics", Some("web-operator"), None)
        .await;
    assert_eq!(scoped.status, StatusCode::OK);
    assert_eq!(
        credential_lines(&scoped.text()),
        expected(&api, &["a-web", "c-new"]).await
    );

    // Nobody, or a revoked token: the gate's 401 problem.
    for who in [None, Some("revoked")] {
        let refused = api.call(Method::GET, "/metrics", who, None).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{who:?}");
        assert_eq!(
            refused.json()["type"],
            "urn:certmgr:problem:unauthenticated"
        );
    }
}

#[tokio::test]
async fn a_failed_renewal_is_counted_by_issuer() {
    let api = Api::new().await;
    api.issued("r", &[]).await;
    let before = certmgr_core::telemetry::counter_value(
        &certmgr_core::telemetry::RENEWAL_FAILURES,
        &["ca", "lab"],
    );
    // The MicroCA's key is gone: the renewal fails.
    break_ca_key(&api, "lab").await;
    let failed = certmgr_engine::issuance::issue(
        &api.engine(),
        "r",
        &certmgr_engine::responders::AnswerOptions::default(),
    )
    .await;
    assert!(failed.is_err());
    let after = certmgr_core::telemetry::counter_value(
        &certmgr_core::telemetry::RENEWAL_FAILURES,
        &["ca", "lab"],
    );
    assert_eq!(after, before + 1);
    let text = api
        .call(Method::GET, "/metrics", Some("viewer"), None)
        .await
        .text();
    assert!(
        text.lines().any(|l| l.starts_with(
            "certmgr_renewal_failures_total{issuer_kind=\"ca\",issuer_name=\"lab\"} "
        )),
        "{text}"
    );
}

/// Break the MicroCA `name` so that it cannot sign: its sealed key
/// replaced by its certificate (same column type on both backends).
async fn break_ca_key(api: &Api, name: &str) {
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    let url = api.test.url_for_library();
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE cas SET sealed_root_key = root_der WHERE name = $1")
        .bind(name)
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn healthz_always_answers_and_readyz_says_what_is_wrong() {
    let api = Api::new().await;
    let health = api.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "ok");
    let ready = api.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text());
    assert_eq!(ready.json()["scheduler"], "off");
    assert_eq!(ready.json()["store"], "ok");

    // A scheduler that has not run a pass for two days though it runs
    // every minute has stopped.
    api.state.scheduler().turn_on(60, NOW);
    let stalled = api.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(stalled.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(stalled.headers["content-type"], "application/problem+json");
    let problem = stalled.json();
    assert_eq!(problem["type"], "urn:certmgr:problem:not-ready");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("the scheduler has not run a pass for 172800 s"),
        "{problem}"
    );
    api.state.scheduler().pass_finished(NOW + 2 * 86_400 - 5);
    let ready = api.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text());
    assert_eq!(ready.json()["scheduler"], "last pass 5 s ago, every 60 s");

    // The store stops answering.
    api.store.close().await;
    let down = api.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    let detail = down.json()["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.starts_with("not ready: the store does not answer"),
        "{detail}"
    );
    // The process is still alive.
    let health = api.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
}
