//! The conformance harness shared by the provider test files: a `Case` per
//! provider runs add then delete against a stub, a retried 5xx, three 5xx,
//! the documented error answer, and checks no secret reaches the trace.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    dead_code,
    unused_imports
)]

pub use certmgr_dns::{CallContext, Captures, Engine, MemoryTrace, Phase, RetryPolicy, provider};
pub use certmgr_testkit::stub::{Exchange, StubServer};
pub use serde_json::{Value, json};
pub use std::time::Duration;

pub const SECRET: &str = "s3cr3t-T0KEN/with+chars=";
pub const ZONE: &str = "example.com";
pub const NAME: &str = "_acme-challenge.www.example.com";
pub const VALUE: &str = "gfj9Xq_Kw8vY0V5nRt3lQm2d-Zp1HcA7sEo4uNbXyIk";
pub const VALUE2: &str = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";

pub fn engine() -> Engine {
    Engine::new().unwrap()
}

pub fn fast_engine() -> Engine {
    Engine::new().unwrap().with_retry(RetryPolicy {
        attempts: 3,
        initial_backoff: Duration::from_millis(20),
    })
}

/// One provider's conformance script.
pub struct Case {
    pub id: &'static str,
    /// Parameters, given the stub's base URL.
    pub params: fn(&str) -> Vec<(&'static str, String)>,
    /// Name of the secret parameter.
    pub secret: &'static str,
    pub add: fn() -> Vec<Exchange>,
    /// Delete, after add (captures from add).
    pub delete: fn() -> Vec<Exchange>,
    /// Values remaining after delete.
    pub remaining: Vec<String>,
    /// Step of the first add request and the provider's documented error answer to it.
    pub first_step: &'static str,
    pub error: (u16, Value),
}

pub fn ctx(case: &Case, base: &str, values_on_delete: Option<Vec<String>>) -> CallContext {
    let def = provider(case.id).unwrap();
    let params = def.bind((case.params)(base)).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL);
    match values_on_delete {
        Some(v) => c.with_values(v),
        None => c,
    }
}

pub fn check_trace(case: &Case, trace: &MemoryTrace) {
    let text = trace.text();
    assert!(!text.contains(SECRET), "secret in trace:\n{text}");
    assert!(
        !text.contains("s3cr3t"),
        "secret fragment in trace:\n{text}"
    );
    if !text.is_empty() {
        assert!(
            text.contains(&format!("<redacted:{}>", case.secret)),
            "trace does not show the redaction:\n{text}"
        );
    }
}

pub async fn conformance(case: Case) {
    let def = provider(case.id).unwrap();

    // add then delete, exact requests
    let stub = StubServer::start([(case.add)(), (case.delete)()].concat()).await;
    let trace = MemoryTrace::default();
    let c = ctx(&case, &stub.base_url(), None);
    let mut captures = engine().add_record(&def, &c, &trace).await.unwrap();
    let c = ctx(&case, &stub.base_url(), Some(case.remaining.clone()));
    engine()
        .delete_record(&def, &c, &mut captures, &trace)
        .await
        .unwrap();
    stub.assert_done();
    check_trace(&case, &trace);

    // a 5xx is retried
    let mut script = (case.add)();
    let first = script[0]
        .clone()
        .reply(503, Some(json!({"error": "temporarily unavailable"})));
    script.insert(0, first);
    let stub = StubServer::start(script).await;
    let trace = MemoryTrace::default();
    let c = ctx(&case, &stub.base_url(), None);
    engine().add_record(&def, &c, &trace).await.unwrap();
    stub.assert_done();
    assert!(trace.text().contains("< 503"), "{}", trace.text());
    check_trace(&case, &trace);

    // three 5xx: gives up with the status
    let first = (case.add)()[0]
        .clone()
        .reply(502, Some(json!({"error": "bad gateway"})));
    let stub = StubServer::start(vec![first.clone(), first.clone(), first]).await;
    let trace = MemoryTrace::default();
    let c = ctx(&case, &stub.base_url(), None);
    let e = fast_engine()
        .add_record(&def, &c, &trace)
        .await
        .unwrap_err();
    stub.assert_done();
    assert!(e.to_string().contains("HTTP 502"), "{e}");
    assert!(e.to_string().contains("after 3 attempt(s)"), "{e}");

    // the documented error answer: not retried, named step and status
    let (status, body) = case.error.clone();
    let first = (case.add)()[0].clone().reply(status, Some(body));
    let stub = StubServer::start(vec![first]).await;
    let trace = MemoryTrace::default();
    let c = ctx(&case, &stub.base_url(), None);
    let e = engine().add_record(&def, &c, &trace).await.unwrap_err();
    stub.assert_done();
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("step {:?}", case.first_step))
            && msg.contains(&format!("HTTP {status}"))
            && msg.contains("after 1 attempt(s)"),
        "{msg}"
    );
    assert!(!msg.contains(SECRET) && !msg.contains('\n'), "{msg}");
    check_trace(&case, &trace);
}
