//! Conformance of every catalog provider against a stub of its documented API:
//! exact requests for add and delete, realistic answers, error answers, 5xx
//! retries, and no secret in the trace.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use certmgr_dns::{CallContext, Captures, Engine, MemoryTrace, Phase, RetryPolicy, provider};
use certmgr_testkit::stub::{Exchange, StubServer};
use serde_json::{Value, json};
use std::time::Duration;

const SECRET: &str = "s3cr3t-T0KEN/with+chars=";
const ZONE: &str = "example.com";
const NAME: &str = "_acme-challenge.www.example.com";
const VALUE: &str = "gfj9Xq_Kw8vY0V5nRt3lQm2d-Zp1HcA7sEo4uNbXyIk";
const VALUE2: &str = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";

fn engine() -> Engine {
    Engine::new().unwrap()
}

fn fast_engine() -> Engine {
    Engine::new().unwrap().with_retry(RetryPolicy {
        attempts: 3,
        initial_backoff: Duration::from_millis(20),
    })
}

/// One provider's conformance script.
struct Case {
    id: &'static str,
    /// Parameters, given the stub's base URL.
    params: fn(&str) -> Vec<(&'static str, String)>,
    /// Name of the secret parameter.
    secret: &'static str,
    add: fn() -> Vec<Exchange>,
    /// Delete, after add (captures from add).
    delete: fn() -> Vec<Exchange>,
    /// Values remaining after delete.
    remaining: Vec<String>,
    /// Step of the first add request and the provider's documented error answer to it.
    first_step: &'static str,
    error: (u16, Value),
}

fn ctx(case: &Case, base: &str, values_on_delete: Option<Vec<String>>) -> CallContext {
    let def = provider(case.id).unwrap();
    let params = def.bind((case.params)(base)).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params).unwrap();
    match values_on_delete {
        Some(v) => c.with_values(v),
        None => c,
    }
}

fn check_trace(case: &Case, trace: &MemoryTrace) {
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

async fn conformance(case: Case) {
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

// ---------------------------------------------------------------- PowerDNS

fn pdns_rrset(values: &[&str]) -> Value {
    json!({"rrsets": [{
        "name": "_acme-challenge.www.example.com.",
        "type": "TXT",
        "ttl": 60,
        "changetype": "REPLACE",
        "records": values.iter().map(|v| json!({"content": format!("\"{v}\""), "disabled": false})).collect::<Vec<_>>()
    }]})
}

fn pdns_zones() -> Exchange {
    Exchange::new("GET", "/api/v1/servers/localhost/zones")
        .query(&[("zone", "example.com.")])
        .header("x-api-key", SECRET)
        .no_body()
        .reply(
            200,
            Some(json!([{
                "id": "example.com.", "name": "example.com.", "kind": "Native",
                "url": "/api/v1/servers/localhost/zones/example.com.",
                "serial": 2024010101, "notified_serial": 0, "edited_serial": 2024010101,
                "masters": [], "dnssec": false, "account": ""
            }])),
        )
}

#[tokio::test]
async fn powerdns() {
    conformance(Case {
        id: "powerdns",
        params: |base| vec![("api_url", base.to_string()), ("api_key", SECRET.to_string())],
        secret: "api_key",
        add: || {
            vec![
                pdns_zones(),
                Exchange::new("PATCH", "/api/v1/servers/localhost/zones/example.com.")
                    .header("x-api-key", SECRET)
                    .header("content-type", "application/json")
                    .json(pdns_rrset(&[VALUE]))
                    .reply(204, None),
            ]
        },
        delete: || {
            vec![
                Exchange::new("PATCH", "/api/v1/servers/localhost/zones/example.com.")
                    .header("x-api-key", SECRET)
                    .json(json!({"rrsets": [{"name": "_acme-challenge.www.example.com.", "type": "TXT", "changetype": "DELETE"}]}))
                    .reply(204, None),
            ]
        },
        remaining: vec![],
        first_step: "find_zone",
        error: (401, json!({"error": "Unauthorized"})),
    })
    .await;
}

#[tokio::test]
async fn powerdns_delete_keeps_other_values() {
    let def = provider("powerdns").unwrap();
    let stub = StubServer::start(vec![
        pdns_zones(),
        Exchange::new("PATCH", "/api/v1/servers/localhost/zones/example.com.")
            .json(pdns_rrset(&[VALUE2]))
            .reply(204, None),
    ])
    .await;
    let params = def
        .bind([
            ("api_url", stub.base_url()),
            ("api_key", SECRET.to_string()),
        ])
        .unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_values(vec![VALUE2.into()]);
    let mut captures = Captures::default(); // captures lost: lookup runs again
    engine()
        .delete_record(&def, &c, &mut captures, &MemoryTrace::default())
        .await
        .unwrap();
    stub.assert_done();
}

// ---------------------------------------------------------------- Cloudflare

const CF_ZONE: &str = "023e105f4ecef8ad9ca31a8372d0c353";
const CF_RECORD: &str = "372e67954025e0ba6aaa6d586b9e0b59";

fn cf_zones() -> Exchange {
    Exchange::new("GET", "/client/v4/zones")
        .query(&[("name", "example.com"), ("status", "active")])
        .header("authorization", &format!("Bearer {SECRET}"))
        .reply(
            200,
            Some(json!({
                "success": true, "errors": [], "messages": [],
                "result": [{"id": CF_ZONE, "name": "example.com", "status": "active", "paused": false, "type": "full"}],
                "result_info": {"page": 1, "per_page": 20, "count": 1, "total_count": 1, "total_pages": 1}
            })),
        )
}

fn cf_records(result: Value) -> Exchange {
    Exchange::new("GET", &format!("/client/v4/zones/{CF_ZONE}/dns_records"))
        .query(&[("type", "TXT"), ("name", NAME), ("per_page", "100")])
        .header("authorization", &format!("Bearer {SECRET}"))
        .reply(
            200,
            Some(json!({
                "success": true, "errors": [], "messages": [], "result": result,
                "result_info": {"page": 1, "per_page": 100, "count": 0, "total_count": 0, "total_pages": 0}
            })),
        )
}

fn cf_delete() -> Exchange {
    Exchange::new(
        "DELETE",
        &format!("/client/v4/zones/{CF_ZONE}/dns_records/{CF_RECORD}"),
    )
    .header("authorization", &format!("Bearer {SECRET}"))
    .no_body()
    .reply(
        200,
        Some(json!({"success": true, "errors": [], "messages": [], "result": {"id": CF_RECORD}})),
    )
}

fn cf_params(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_url", format!("{base}/client/v4")),
        ("api_token", SECRET.to_string()),
    ]
}

#[tokio::test]
async fn cloudflare() {
    conformance(Case {
        id: "cloudflare",
        params: cf_params,
        secret: "api_token",
        add: || {
            vec![
                cf_zones(),
                cf_records(json!([])),
                Exchange::new("POST", &format!("/client/v4/zones/{CF_ZONE}/dns_records"))
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .json(json!({"type": "TXT", "name": NAME, "content": VALUE, "ttl": 60}))
                    .reply(
                        200,
                        Some(json!({
                            "success": true, "errors": [], "messages": [],
                            "result": {"id": CF_RECORD, "type": "TXT", "name": NAME, "content": VALUE,
                                       "proxiable": false, "proxied": false, "ttl": 60,
                                       "created_on": "2024-01-01T05:20:00.12345Z", "modified_on": "2024-01-01T05:20:00.12345Z"}
                        })),
                    ),
            ]
        },
        delete: || vec![cf_delete()],
        remaining: vec![],
        first_step: "find_zone",
        error: (
            403,
            json!({"success": false, "errors": [{"code": 10000, "message": "Authentication error"}], "messages": [], "result": null}),
        ),
    })
    .await;
}

#[tokio::test]
async fn cloudflare_delete_without_captures_finds_the_record() {
    let def = provider("cloudflare").unwrap();
    let stub = StubServer::start(vec![
        cf_zones(),
        cf_records(json!([
            {"id": "aaaa0000000000000000000000000000", "type": "TXT", "name": NAME, "content": format!("\"{VALUE2}\""), "ttl": 60},
            {"id": CF_RECORD, "type": "TXT", "name": NAME, "content": format!("\"{VALUE}\""), "ttl": 60}
        ])),
        cf_delete(),
    ])
    .await;
    let params = def.bind(cf_params(&stub.base_url())).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_values(vec![]);
    let mut captures = Captures::default();
    engine()
        .delete_record(&def, &c, &mut captures, &MemoryTrace::default())
        .await
        .unwrap();
    assert_eq!(captures.get("record_id"), Some(CF_RECORD));
    stub.assert_done();
}

#[tokio::test]
async fn cloudflare_unknown_zone_names_the_capture() {
    let def = provider("cloudflare").unwrap();
    let stub = StubServer::start(vec![
        Exchange::new("GET", "/client/v4/zones").reply(
            200,
            Some(json!({"success": true, "errors": [], "messages": [], "result": [],
                        "result_info": {"page": 1, "per_page": 20, "count": 0, "total_count": 0, "total_pages": 0}})),
        ),
    ])
    .await;
    let params = def.bind(cf_params(&stub.base_url())).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params).unwrap();
    let e = engine()
        .add_record(&def, &c, &MemoryTrace::default())
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with(r#"provider "cloudflare" step "find_zone" capture "zone_id": JSONPath"#),
        "{msg}"
    );
    stub.assert_done();
}

// ---------------------------------------------------------------- DigitalOcean

#[tokio::test]
async fn digitalocean() {
    conformance(Case {
        id: "digitalocean",
        params: |base| vec![("api_url", base.to_string()), ("api_token", SECRET.to_string())],
        secret: "api_token",
        add: || {
            vec![
                Exchange::new("GET", "/v2/domains/example.com/records")
                    .query(&[("type", "TXT"), ("name", NAME), ("per_page", "200")])
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .reply(200, Some(json!({
                        "domain_records": [
                            {"id": 3352895, "type": "TXT", "name": "_acme-challenge.www", "data": "stale-value", "priority": null, "port": null, "ttl": 30, "weight": null, "flags": null, "tag": null}
                        ],
                        "links": {}, "meta": {"total": 1}
                    }))),
                Exchange::new("POST", "/v2/domains/example.com/records")
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .json(json!({"type": "TXT", "name": "_acme-challenge.www", "data": VALUE, "ttl": 30}))
                    .reply(201, Some(json!({"domain_record": {
                        "id": 28448433, "type": "TXT", "name": "_acme-challenge.www", "data": VALUE,
                        "priority": null, "port": null, "ttl": 30, "weight": null, "flags": null, "tag": null
                    }}))),
            ]
        },
        delete: || {
            vec![
                Exchange::new("DELETE", "/v2/domains/example.com/records/28448433")
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .no_body()
                    .reply(204, None),
            ]
        },
        remaining: vec![],
        first_step: "find_record",
        error: (401, json!({"id": "unauthorized", "message": "Unable to authenticate you."})),
    })
    .await;
}

// ---------------------------------------------------------------- Hetzner

const HZ_ZONE: &str = "HkCQn4xkhXTD8nrnCBcbY2";

fn hz_pagination(total: u32) -> Value {
    json!({"pagination": {"page": 1, "per_page": 100, "previous_page": 1, "next_page": 1, "last_page": 1, "total_entries": total}})
}

#[tokio::test]
async fn hetzner() {
    conformance(Case {
        id: "hetzner",
        params: |base| vec![("api_url", format!("{base}/api/v1")), ("api_token", SECRET.to_string())],
        secret: "api_token",
        add: || {
            vec![
                Exchange::new("GET", "/api/v1/zones")
                    .query(&[("name", "example.com")])
                    .header("auth-api-token", SECRET)
                    .reply(200, Some(json!({
                        "zones": [{"id": HZ_ZONE, "name": "example.com", "ttl": 86400, "registrar": "", "legacy_dns_host": "",
                                   "legacy_ns": [], "ns": ["hydrogen.ns.hetzner.com."], "created": "2024-01-01 10:00:00.000 +0000 UTC",
                                   "verified": "", "modified": "2024-01-01 10:00:00.000 +0000 UTC", "project": "", "owner": "",
                                   "permission": "", "zone_type": {"id": "", "name": "", "description": "", "prices": null},
                                   "status": "verified", "paused": false, "is_secondary_dns": false,
                                   "txt_verification": {"name": "", "token": ""}, "records_count": 4}],
                        "meta": hz_pagination(1)
                    }))),
                Exchange::new("GET", "/api/v1/records")
                    .query(&[("zone_id", HZ_ZONE), ("per_page", "100")])
                    .header("auth-api-token", SECRET)
                    .reply(200, Some(json!({
                        "records": [
                            {"id": "a0", "type": "A", "name": "www", "value": "192.0.2.1", "zone_id": HZ_ZONE, "ttl": 300},
                            {"id": "t0", "type": "TXT", "name": "_acme-challenge.www", "value": "old-value", "zone_id": HZ_ZONE, "ttl": 60}
                        ],
                        "meta": hz_pagination(2)
                    }))),
                Exchange::new("POST", "/api/v1/records")
                    .header("auth-api-token", SECRET)
                    .json(json!({"value": VALUE, "ttl": 60, "type": "TXT", "name": "_acme-challenge.www", "zone_id": HZ_ZONE}))
                    .reply(200, Some(json!({"record": {
                        "id": "7e1a6ecd0c4b1f2f3b6d5c9a", "type": "TXT", "name": "_acme-challenge.www", "value": VALUE,
                        "zone_id": HZ_ZONE, "ttl": 60, "created": "2024-01-01 10:00:00.000 +0000 UTC", "modified": "2024-01-01 10:00:00.000 +0000 UTC"
                    }}))),
            ]
        },
        delete: || {
            vec![
                Exchange::new("DELETE", "/api/v1/records/7e1a6ecd0c4b1f2f3b6d5c9a")
                    .header("auth-api-token", SECRET)
                    .no_body()
                    .reply(200, None),
            ]
        },
        remaining: vec![],
        first_step: "find_zone",
        error: (401, json!({"message": "Invalid authentication credentials"})),
    })
    .await;
}

// ---------------------------------------------------------------- deSEC

fn desec_put(values: &[&str]) -> Exchange {
    let records: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
    let answer = if values.is_empty() {
        json!([])
    } else {
        json!([{"created": "2024-01-01T10:00:00.000000Z", "domain": "example.com", "subname": "_acme-challenge.www",
                "name": "_acme-challenge.www.example.com.", "type": "TXT", "records": records, "ttl": 3600,
                "touched": "2024-01-01T10:00:00.000000Z"}])
    };
    Exchange::new("PUT", "/api/v1/domains/example.com/rrsets/")
        .header("authorization", &format!("Token {SECRET}"))
        .json(json!([{"subname": "_acme-challenge.www", "type": "TXT", "ttl": 3600, "records": records}]))
        .reply(200, Some(answer))
}

#[tokio::test]
async fn desec() {
    conformance(Case {
        id: "desec",
        params: |base| {
            vec![
                ("api_url", format!("{base}/api/v1")),
                ("api_token", SECRET.to_string()),
            ]
        },
        secret: "api_token",
        add: || vec![desec_put(&[VALUE])],
        delete: || vec![desec_put(&[])],
        remaining: vec![],
        first_step: "put_rrset",
        error: (401, json!({"detail": "Invalid token."})),
    })
    .await;
}

#[tokio::test]
async fn desec_two_values_one_rrset() {
    let def = provider("desec").unwrap();
    let stub = StubServer::start(vec![desec_put(&[VALUE, VALUE2]), desec_put(&[VALUE2])]).await;
    let params = def
        .bind([
            ("api_url", format!("{}/api/v1", stub.base_url())),
            ("api_token", SECRET.to_string()),
        ])
        .unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params.clone())
        .unwrap()
        .with_values(vec![VALUE.into(), VALUE2.into()])
        .with_ttl(60); // raised to deSEC's minimum 3600
    let mut captures = engine()
        .add_record(&def, &c, &MemoryTrace::default())
        .await
        .unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_values(vec![VALUE2.into()]);
    engine()
        .delete_record(&def, &c, &mut captures, &MemoryTrace::default())
        .await
        .unwrap();
    stub.assert_done();
}

// ---------------------------------------------------------------- acme-dns

#[tokio::test]
async fn acme_dns() {
    conformance(Case {
        id: "acme-dns",
        params: |base| {
            vec![
                ("api_url", base.to_string()),
                (
                    "username",
                    "eabcdb41-d89f-4580-826f-3e62e9755ef2".to_string(),
                ),
                ("password", SECRET.to_string()),
                (
                    "subdomain",
                    "8e5700ea-a4bf-41c7-8a77-e990661dcc6a".to_string(),
                ),
            ]
        },
        secret: "password",
        add: || {
            vec![
                Exchange::new("POST", "/update")
                    .header("x-api-user", "eabcdb41-d89f-4580-826f-3e62e9755ef2")
                    .header("x-api-key", SECRET)
                    .json(
                        json!({"subdomain": "8e5700ea-a4bf-41c7-8a77-e990661dcc6a", "txt": VALUE}),
                    )
                    .reply(200, Some(json!({"txt": VALUE}))),
            ]
        },
        delete: Vec::new, // acme-dns has no delete; values age out
        remaining: vec![],
        first_step: "update",
        error: (401, json!({"error": "forbidden"})),
    })
    .await;
}

// ---------------------------------------------------------------- engine

#[tokio::test]
async fn connection_errors_are_retried_then_reported() {
    let def = provider("digitalocean").unwrap();
    // a port nothing listens on
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let params = def
        .bind([("api_url", base), ("api_token", SECRET.to_string())])
        .unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params).unwrap();
    let trace = MemoryTrace::default();
    let e = fast_engine()
        .add_record(&def, &c, &trace)
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("step \"find_record\"") && msg.contains("after 3 attempt(s)"),
        "{msg}"
    );
    assert_eq!(trace.text().matches("] >").count(), 3, "{}", trace.text());
    assert!(!msg.contains(SECRET));
}

#[tokio::test]
async fn run_phase_runs_one_phase() {
    let def = provider("powerdns").unwrap();
    let stub = StubServer::start(vec![pdns_zones()]).await;
    let params = def
        .bind([
            ("api_url", stub.base_url()),
            ("api_key", SECRET.to_string()),
        ])
        .unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params).unwrap();
    let mut captures = Captures::default();
    engine()
        .run_phase(
            &def,
            Phase::Lookup,
            &c,
            &mut captures,
            &MemoryTrace::default(),
        )
        .await
        .unwrap();
    assert_eq!(captures.get("zone_id"), Some("example.com."));
    stub.assert_done();
}

#[test]
fn record_outside_zone_is_refused() {
    let def = provider("desec").unwrap();
    let params = def.bind([("api_token", "x")]).unwrap();
    let e = CallContext::new("example.org", NAME, VALUE, params).unwrap_err();
    assert!(e.to_string().contains("not inside zone"), "{e}");
}
