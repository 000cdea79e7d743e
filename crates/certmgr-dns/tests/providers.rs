//! Conformance of every catalog provider against a stub of its documented API:
//! exact requests for add and delete, realistic answers, error answers, 5xx
//! retries, and no secret in the trace.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;

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
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
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
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
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
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL);
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
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
        .with_values(vec![VALUE.into(), VALUE2.into()])
        .with_ttl(60); // raised to deSEC's minimum 3600
    let mut captures = engine()
        .add_record(&def, &c, &MemoryTrace::default())
        .await
        .unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
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
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL);
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
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL);
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

// ---------------------------------------------------------------- Gandi LiveDNS

fn gandi_params(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_url", format!("{base}/v5/livedns")),
        ("api_token", SECRET.to_string()),
    ]
}

fn gandi_put(values: &[&str]) -> Exchange {
    Exchange::new(
        "PUT",
        "/v5/livedns/domains/example.com/records/_acme-challenge.www/TXT",
    )
    .header("authorization", &format!("Bearer {SECRET}"))
    .header("content-type", "application/json")
    .json(json!({"rrset_ttl": 300, "rrset_values": values}))
    .reply(201, Some(json!({"message": "DNS Record Created"})))
}

#[tokio::test]
async fn gandi() {
    conformance(Case {
        id: "gandi",
        params: gandi_params,
        secret: "api_token",
        add: || vec![gandi_put(&[VALUE])],
        delete: || {
            vec![
                Exchange::new(
                    "DELETE",
                    "/v5/livedns/domains/example.com/records/_acme-challenge.www/TXT",
                )
                .header("authorization", &format!("Bearer {SECRET}"))
                .no_body()
                .reply(204, None),
            ]
        },
        remaining: vec![],
        first_step: "put_rrset",
        error: (
            401,
            json!({"object": "HTTPUnauthorized", "cause": "Unauthorized", "code": 401,
                   "message": "The server could not verify that you authorized to access the document you requested."}),
        ),
    })
    .await;
}

#[tokio::test]
async fn gandi_two_values_one_rrset() {
    let def = provider("gandi").unwrap();
    let stub = StubServer::start(vec![gandi_put(&[VALUE, VALUE2]), gandi_put(&[VALUE2])]).await;
    let params = def.bind(gandi_params(&stub.base_url())).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params.clone())
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
        .with_values(vec![VALUE.into(), VALUE2.into()])
        .with_ttl(60); // raised to Gandi's minimum 300
    let mut captures = engine()
        .add_record(&def, &c, &MemoryTrace::default())
        .await
        .unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
        .with_values(vec![VALUE2.into()]);
    engine()
        .delete_record(&def, &c, &mut captures, &MemoryTrace::default())
        .await
        .unwrap();
    stub.assert_done();
}

// ---------------------------------------------------------------- Linode

const LI_DOMAIN: u64 = 1_234_567;
const LI_RECORD: u64 = 28_448_433;

fn li_params(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_url", format!("{base}/v4")),
        ("api_token", SECRET.to_string()),
    ]
}

fn li_domains() -> Exchange {
    Exchange::new("GET", "/v4/domains")
        .query(&[("page_size", "500")])
        .header("authorization", &format!("Bearer {SECRET}"))
        .header("x-filter", r#"{"domain": "example.com"}"#)
        .no_body()
        .reply(
            200,
            Some(json!({
                "data": [{
                    "id": LI_DOMAIN, "type": "master", "domain": "example.com", "group": "", "status": "active",
                    "description": "", "soa_email": "admin@example.com", "retry_sec": 300, "master_ips": [],
                    "axfr_ips": [], "tags": [], "expire_sec": 300, "refresh_sec": 300, "ttl_sec": 300
                }],
                "page": 1, "pages": 1, "results": 1
            })),
        )
}

fn li_records(data: Value) -> Exchange {
    let n = data.as_array().map_or(0, Vec::len);
    Exchange::new("GET", &format!("/v4/domains/{LI_DOMAIN}/records"))
        .query(&[("page_size", "500")])
        .header("authorization", &format!("Bearer {SECRET}"))
        .header(
            "x-filter",
            r#"{"type": "TXT", "name": "_acme-challenge.www"}"#,
        )
        .reply(
            200,
            Some(json!({"data": data, "page": 1, "pages": 1, "results": n})),
        )
}

fn li_record(id: u64, target: &str) -> Value {
    json!({
        "id": id, "type": "TXT", "name": "_acme-challenge.www", "target": target,
        "priority": 0, "weight": 0, "port": 0, "service": null, "protocol": null, "ttl_sec": 30,
        "tag": null, "created": "2024-01-01T10:00:00", "updated": "2024-01-01T10:00:00"
    })
}

fn li_delete() -> Exchange {
    Exchange::new(
        "DELETE",
        &format!("/v4/domains/{LI_DOMAIN}/records/{LI_RECORD}"),
    )
    .header("authorization", &format!("Bearer {SECRET}"))
    .no_body()
    .reply(200, Some(json!({})))
}

#[tokio::test]
async fn linode() {
    conformance(Case {
        id: "linode",
        params: li_params,
        secret: "api_token",
        add: || {
            vec![
                li_domains(),
                li_records(json!([li_record(3_352_895, "stale-value")])),
                Exchange::new("POST", &format!("/v4/domains/{LI_DOMAIN}/records"))
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .header("content-type", "application/json")
                    .json(json!({"type": "TXT", "name": "_acme-challenge.www", "target": VALUE, "ttl_sec": 30}))
                    .reply(200, Some(li_record(LI_RECORD, VALUE))),
            ]
        },
        delete: || vec![li_delete()],
        remaining: vec![],
        first_step: "find_domain",
        error: (401, json!({"errors": [{"reason": "Invalid Token"}]})),
    })
    .await;
}

#[tokio::test]
async fn linode_delete_without_captures_finds_the_record() {
    let def = provider("linode").unwrap();
    let stub = StubServer::start(vec![
        li_domains(),
        li_records(json!([
            li_record(3_352_895, VALUE2),
            li_record(LI_RECORD, VALUE)
        ])),
        li_delete(),
    ])
    .await;
    let params = def.bind(li_params(&stub.base_url())).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
        .with_values(vec![VALUE2.into()]);
    let mut captures = Captures::default();
    engine()
        .delete_record(&def, &c, &mut captures, &MemoryTrace::default())
        .await
        .unwrap();
    assert_eq!(captures.get("record_id"), Some("28448433"));
    stub.assert_done();
}

// ---------------------------------------------------------------- Vultr

const VU_RECORD: &str = "cb676a46-66fd-4dfb-b839-443f2e6c0b60";

#[tokio::test]
async fn vultr() {
    conformance(Case {
        id: "vultr",
        params: |base| vec![("api_url", format!("{base}/v2")), ("api_key", SECRET.to_string())],
        secret: "api_key",
        add: || {
            vec![
                Exchange::new("GET", "/v2/domains/example.com/records")
                    .query(&[("per_page", "500")])
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .no_body()
                    .reply(200, Some(json!({
                        "records": [
                            {"id": "a1b2c3d4-0000-4000-8000-000000000001", "type": "A", "name": "www", "data": "192.0.2.1", "priority": -1, "ttl": 300},
                            {"id": "a1b2c3d4-0000-4000-8000-000000000002", "type": "TXT", "name": "_acme-challenge.www", "data": "\"stale-value\"", "priority": -1, "ttl": 120}
                        ],
                        "meta": {"total": 2, "links": {"next": "", "prev": ""}}
                    }))),
                Exchange::new("POST", "/v2/domains/example.com/records")
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .header("content-type", "application/json")
                    .json(json!({"name": "_acme-challenge.www", "type": "TXT", "data": format!("\"{VALUE}\""), "ttl": 120}))
                    .reply(201, Some(json!({"record": {
                        "id": VU_RECORD, "type": "TXT", "name": "_acme-challenge.www",
                        "data": format!("\"{VALUE}\""), "priority": -1, "ttl": 120
                    }}))),
            ]
        },
        delete: || {
            vec![
                Exchange::new("DELETE", &format!("/v2/domains/example.com/records/{VU_RECORD}"))
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .no_body()
                    .reply(204, None),
            ]
        },
        remaining: vec![],
        first_step: "find_record",
        error: (401, json!({"error": "Invalid API token.", "status": 401})),
    })
    .await;
}

// ---------------------------------------------------------------- DNSimple

const DS_ACCOUNT: &str = "1010";

fn ds_record(id: u64, content: &str) -> Value {
    json!({
        "id": id, "zone_id": "example.com", "parent_id": null, "name": "_acme-challenge.www",
        "content": content, "ttl": 60, "priority": null, "type": "TXT", "regions": ["global"],
        "system_record": false, "created_at": "2024-01-01T10:00:00Z", "updated_at": "2024-01-01T10:00:00Z"
    })
}

#[tokio::test]
async fn dnsimple() {
    conformance(Case {
        id: "dnsimple",
        params: |base| {
            vec![
                ("api_url", base.to_string()),
                ("api_token", SECRET.to_string()),
                ("account_id", DS_ACCOUNT.to_string()),
            ]
        },
        secret: "api_token",
        add: || {
            vec![
                Exchange::new("GET", &format!("/v2/{DS_ACCOUNT}/zones/example.com/records"))
                    .query(&[("name", "_acme-challenge.www"), ("type", "TXT"), ("per_page", "100")])
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .header("accept", "application/json")
                    .no_body()
                    .reply(200, Some(json!({
                        "data": [ds_record(1, "\"stale-value\"")],
                        "pagination": {"current_page": 1, "per_page": 100, "total_entries": 1, "total_pages": 1}
                    }))),
                Exchange::new("POST", &format!("/v2/{DS_ACCOUNT}/zones/example.com/records"))
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .header("content-type", "application/json")
                    .json(json!({"name": "_acme-challenge.www", "type": "TXT", "content": VALUE, "ttl": 60}))
                    .reply(201, Some(json!({"data": ds_record(64_784, &format!("\"{VALUE}\""))}))),
            ]
        },
        delete: || {
            vec![
                Exchange::new("DELETE", &format!("/v2/{DS_ACCOUNT}/zones/example.com/records/64784"))
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .no_body()
                    .reply(204, None),
            ]
        },
        remaining: vec![],
        first_step: "find_record",
        error: (401, json!({"message": "Authentication failed"})),
    })
    .await;
}

// ---------------------------------------------------------------- Porkbun

const PB_KEY: &str = "pk1_4a1b2c3d4e5f60718293a4b5c6d7e8f9";

fn pb_params(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_url", format!("{base}/api/json/v3")),
        ("api_key", PB_KEY.to_string()),
        ("secret_api_key", SECRET.to_string()),
    ]
}

fn pb_auth() -> Value {
    json!({"apikey": PB_KEY, "secretapikey": SECRET})
}

fn pb_retrieve(records: Value) -> Exchange {
    Exchange::new(
        "POST",
        "/api/json/v3/dns/retrieveByNameType/example.com/TXT/_acme-challenge.www",
    )
    .header("content-type", "application/json")
    .json(pb_auth())
    .reply(
        200,
        Some(json!({"status": "SUCCESS", "cloudflare": "enabled", "records": records})),
    )
}

fn pb_record(id: &str, content: &str) -> Value {
    json!({"id": id, "name": NAME, "type": "TXT", "content": content, "ttl": "600", "prio": "0", "notes": ""})
}

fn pb_delete() -> Exchange {
    Exchange::new("POST", "/api/json/v3/dns/delete/example.com/106926659")
        .json(pb_auth())
        .reply(200, Some(json!({"status": "SUCCESS"})))
}

#[tokio::test]
async fn porkbun() {
    conformance(Case {
        id: "porkbun",
        params: pb_params,
        secret: "secret_api_key",
        add: || {
            vec![
                pb_retrieve(json!([pb_record("106926652", "stale-value")])),
                Exchange::new("POST", "/api/json/v3/dns/create/example.com")
                    .header("content-type", "application/json")
                    .json(json!({"apikey": PB_KEY, "secretapikey": SECRET, "name": "_acme-challenge.www",
                                 "type": "TXT", "content": VALUE, "ttl": "600"}))
                    .reply(200, Some(json!({"status": "SUCCESS", "id": 106_926_659}))),
            ]
        },
        delete: || vec![pb_delete()],
        remaining: vec![],
        first_step: "find_record",
        error: (400, json!({"status": "ERROR", "message": "Invalid API key. (002)"})),
    })
    .await;
}

#[tokio::test]
async fn porkbun_keys_never_in_trace() {
    let def = provider("porkbun").unwrap();
    let stub = StubServer::start(vec![
        pb_retrieve(json!([pb_record("106926659", VALUE)])),
        pb_delete(),
    ])
    .await;
    let params = def.bind(pb_params(&stub.base_url())).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
        .with_values(vec![]);
    let mut captures = Captures::default();
    let trace = MemoryTrace::default();
    engine()
        .delete_record(&def, &c, &mut captures, &trace)
        .await
        .unwrap();
    stub.assert_done();
    let text = trace.text();
    assert!(!text.contains(PB_KEY) && !text.contains(SECRET), "{text}");
    assert!(text.contains("<redacted:api_key>"), "{text}");
}

// ---------------------------------------------------------------- GoDaddy

const GD_KEY: &str = "dKD4aNmwyX8T_MXqr9D9nRzGv3K6xxWhBu";

fn gd_params(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_url", base.to_string()),
        ("api_key", GD_KEY.to_string()),
        ("api_secret", SECRET.to_string()),
    ]
}

fn gd_put(values: &[&str]) -> Exchange {
    Exchange::new(
        "PUT",
        "/v1/domains/example.com/records/TXT/_acme-challenge.www",
    )
    .header("authorization", &format!("sso-key {GD_KEY}:{SECRET}"))
    .header("content-type", "application/json")
    .json(Value::Array(
        values
            .iter()
            .map(|v| json!({"data": v, "ttl": 600}))
            .collect(),
    ))
    .reply(200, None)
}

#[tokio::test]
async fn godaddy() {
    conformance(Case {
        id: "godaddy",
        params: gd_params,
        secret: "api_secret",
        add: || vec![gd_put(&[VALUE])],
        delete: || {
            vec![
                Exchange::new(
                    "DELETE",
                    "/v1/domains/example.com/records/TXT/_acme-challenge.www",
                )
                .header("authorization", &format!("sso-key {GD_KEY}:{SECRET}"))
                .no_body()
                .reply(204, None),
            ]
        },
        remaining: vec![],
        first_step: "put_records",
        error: (
            401,
            json!({"code": "UNABLE_TO_AUTHENTICATE", "message": "Unable to authenticate the request"}),
        ),
    })
    .await;
}

#[tokio::test]
async fn godaddy_delete_keeps_other_values() {
    let def = provider("godaddy").unwrap();
    let stub = StubServer::start(vec![gd_put(&[VALUE, VALUE2]), gd_put(&[VALUE2])]).await;
    let params = def.bind(gd_params(&stub.base_url())).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params.clone())
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
        .with_values(vec![VALUE.into(), VALUE2.into()]);
    let trace = MemoryTrace::default();
    let mut captures = engine().add_record(&def, &c, &trace).await.unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
        .with_values(vec![VALUE2.into()]);
    engine()
        .delete_record(&def, &c, &mut captures, &trace)
        .await
        .unwrap();
    stub.assert_done();
    let text = trace.text();
    assert!(!text.contains(GD_KEY) && !text.contains(SECRET), "{text}");
}

// ---------------------------------------------------------------- bunny.net

const BN_ZONE: u64 = 178_540;
const BN_RECORD: u64 = 9_287_215;

fn bn_record(id: u64, value: &str) -> Value {
    json!({"Id": id, "Type": 3, "Ttl": 60, "Value": value, "Name": "_acme-challenge.www", "Weight": 0,
           "Priority": 0, "Port": 0, "Flags": 0, "Tag": "", "Accelerated": false, "AcceleratedPullZoneId": 0,
           "LinkName": "", "MonitorStatus": 0, "MonitorType": 0, "GeolocationLatitude": 0.0,
           "GeolocationLongitude": 0.0, "EnviromentalVariables": [], "LatencyZone": null,
           "SmartRoutingType": 0, "Disabled": false, "Comment": null})
}

fn bn_zone_body(records: Value) -> Value {
    json!({"Id": BN_ZONE, "Domain": "example.com", "Records": records,
           "DateModified": "2024-01-01T10:00:00Z", "DateCreated": "2024-01-01T10:00:00Z",
           "NameserversDetected": true, "CustomNameserversEnabled": false,
           "Nameserver1": "kiki.bunny.net", "Nameserver2": "coco.bunny.net",
           "SoaEmail": "hostmaster@bunny.net", "LoggingEnabled": false, "DnsSecEnabled": false})
}

fn bn_params(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_url", base.to_string()),
        ("api_key", SECRET.to_string()),
    ]
}

fn bn_zones() -> Exchange {
    Exchange::new("GET", "/dnszone")
        .query(&[("search", "example.com"), ("perPage", "1000")])
        .header("accesskey", SECRET)
        .no_body()
        .reply(
            200,
            Some(json!({"Items": [bn_zone_body(json!([]))], "CurrentPage": 1, "TotalItems": 1, "HasMoreItems": false})),
        )
}

fn bn_zone(records: Value) -> Exchange {
    Exchange::new("GET", &format!("/dnszone/{BN_ZONE}"))
        .header("accesskey", SECRET)
        .no_body()
        .reply(200, Some(bn_zone_body(records)))
}

fn bn_delete() -> Exchange {
    Exchange::new("DELETE", &format!("/dnszone/{BN_ZONE}/records/{BN_RECORD}"))
        .header("accesskey", SECRET)
        .no_body()
        .reply(204, None)
}

#[tokio::test]
async fn bunny() {
    conformance(Case {
        id: "bunny",
        params: bn_params,
        secret: "api_key",
        add: || {
            vec![
                bn_zones(),
                bn_zone(json!([bn_record(9_287_001, "stale-value")])),
                Exchange::new("PUT", &format!("/dnszone/{BN_ZONE}/records"))
                    .header("accesskey", SECRET)
                    .header("content-type", "application/json")
                    .json(json!({"Type": 3, "Ttl": 60, "Name": "_acme-challenge.www", "Value": VALUE}))
                    .reply(201, Some(bn_record(BN_RECORD, VALUE))),
            ]
        },
        delete: || vec![bn_delete()],
        remaining: vec![],
        first_step: "find_zone",
        error: (
            401,
            json!({"ErrorKey": "unauthorized", "Field": "AccessKey", "Message": "The request authorization failed"}),
        ),
    })
    .await;
}

#[tokio::test]
async fn bunny_delete_without_captures_finds_the_record() {
    let def = provider("bunny").unwrap();
    let stub = StubServer::start(vec![
        bn_zones(),
        bn_zone(json!([
            bn_record(9_287_001, VALUE2),
            bn_record(BN_RECORD, VALUE)
        ])),
        bn_delete(),
    ])
    .await;
    let params = def.bind(bn_params(&stub.base_url())).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
        .with_values(vec![VALUE2.into()]);
    let mut captures = Captures::default();
    engine()
        .delete_record(&def, &c, &mut captures, &MemoryTrace::default())
        .await
        .unwrap();
    assert_eq!(captures.get("record_id"), Some("9287215"));
    stub.assert_done();
}

// ---------------------------------------------------------------- Scaleway

#[tokio::test]
async fn scaleway() {
    conformance(Case {
        id: "scaleway",
        params: |base| vec![("api_url", base.to_string()), ("secret_key", SECRET.to_string())],
        secret: "secret_key",
        add: || {
            vec![
                Exchange::new("PATCH", "/domain/v2beta1/dns-zones/example.com/records")
                    .header("x-auth-token", SECRET)
                    .header("content-type", "application/json")
                    .json(json!({"return_all_records": false, "changes": [{"add": {"records": [
                        {"name": "_acme-challenge.www", "type": "TXT", "data": format!("\"{VALUE}\""), "ttl": 60}
                    ]}}]}))
                    .reply(200, Some(json!({"records": [{
                        "id": "2a1b7c3e-5f0d-4b8e-9c6a-3d2e1f0a9b8c", "data": format!("\"{VALUE}\""),
                        "name": "_acme-challenge.www", "priority": 0, "ttl": 60, "type": "TXT", "comment": null
                    }]}))),
            ]
        },
        delete: || {
            vec![
                Exchange::new("PATCH", "/domain/v2beta1/dns-zones/example.com/records")
                    .header("x-auth-token", SECRET)
                    .json(json!({"return_all_records": false, "changes": [{"delete": {"id_fields":
                        {"name": "_acme-challenge.www", "type": "TXT", "data": format!("\"{VALUE}\"")}}}]}))
                    .reply(200, Some(json!({"records": []}))),
            ]
        },
        remaining: vec![],
        first_step: "add_record",
        error: (
            401,
            json!({"message": "authentication is denied", "method": "api_key", "reason": "invalid_argument", "type": "denied_authentication"}),
        ),
    })
    .await;
}

// ---------------------------------------------------------------- Netlify

const NL_ZONE: &str = "5f9c8d7e6b5a4c3d2e1f0a9b";
const NL_RECORD: &str = "65a1b2c3d4e5f60718293a4b";

fn nl_record(id: &str, value: &str) -> Value {
    json!({"id": id, "hostname": NAME, "type": "TXT", "value": value, "ttl": 300, "priority": null,
           "dns_zone_id": NL_ZONE, "site_id": null, "flag": null, "tag": null, "managed": false})
}

#[tokio::test]
async fn netlify() {
    conformance(Case {
        id: "netlify",
        params: |base| vec![("api_url", format!("{base}/api/v1")), ("api_token", SECRET.to_string())],
        secret: "api_token",
        add: || {
            vec![
                Exchange::new("GET", "/api/v1/dns_zones")
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .no_body()
                    .reply(200, Some(json!([
                        {"id": "5f000000000000000000000a", "name": "example.org", "user_id": "u1", "account_id": "a1",
                         "account_slug": "team", "dns_servers": ["dns1.p01.nsone.net"], "records": [], "dedicated": false, "ipv6_enabled": true},
                        {"id": NL_ZONE, "name": "example.com", "user_id": "u1", "account_id": "a1",
                         "account_slug": "team", "dns_servers": ["dns1.p01.nsone.net"], "records": [], "dedicated": false, "ipv6_enabled": true}
                    ]))),
                Exchange::new("GET", &format!("/api/v1/dns_zones/{NL_ZONE}/dns_records"))
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .no_body()
                    .reply(200, Some(json!([nl_record("65a000000000000000000001", "stale-value")]))),
                Exchange::new("POST", &format!("/api/v1/dns_zones/{NL_ZONE}/dns_records"))
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .header("content-type", "application/json")
                    .json(json!({"type": "TXT", "hostname": NAME, "value": VALUE, "ttl": 300}))
                    .reply(201, Some(nl_record(NL_RECORD, VALUE))),
            ]
        },
        delete: || {
            vec![
                Exchange::new("DELETE", &format!("/api/v1/dns_zones/{NL_ZONE}/dns_records/{NL_RECORD}"))
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .no_body()
                    .reply(204, None),
            ]
        },
        remaining: vec![],
        first_step: "find_zone",
        error: (401, json!({"code": 401, "message": "Access Denied: Invalid token"})),
    })
    .await;
}

// ---------------------------------------------------------------- Hetzner Cloud

fn hc_action(id: u64, command: &str) -> Value {
    json!({"action": {"id": id, "command": command, "status": "running", "progress": 0,
                      "started": "2024-01-01T10:00:00+00:00", "finished": null,
                      "resources": [{"id": 4_711, "type": "zone"}], "error": null}})
}

#[tokio::test]
async fn hetzner_cloud() {
    conformance(Case {
        id: "hetzner-cloud",
        params: |base| vec![("api_url", format!("{base}/v1")), ("api_token", SECRET.to_string())],
        secret: "api_token",
        add: || {
            vec![
                Exchange::new("POST", "/v1/zones/example.com/rrsets/_acme-challenge.www/TXT/actions/add_records")
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .header("content-type", "application/json")
                    .json(json!({"ttl": 60, "records": [{"value": format!("\"{VALUE}\"")}]}))
                    .reply(201, Some(hc_action(13, "add_rrset_records"))),
            ]
        },
        delete: || {
            vec![
                Exchange::new("POST", "/v1/zones/example.com/rrsets/_acme-challenge.www/TXT/actions/remove_records")
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .json(json!({"records": [{"value": format!("\"{VALUE}\"")}]}))
                    .reply(201, Some(hc_action(14, "remove_rrset_records"))),
            ]
        },
        remaining: vec![],
        first_step: "add_records",
        error: (
            401,
            json!({"error": {"code": "unauthorized", "message": "unable to authenticate", "details": {}}}),
        ),
    })
    .await;
}

// ---------------------------------------------------------------- NS1

const NS1_PATH: &str = "/v1/zones/example.com/_acme-challenge.www.example.com/TXT";

fn ns1_params(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_url", format!("{base}/v1")),
        ("api_key", SECRET.to_string()),
    ]
}

fn ns1_record(values: &[&str]) -> Value {
    json!({
        "id": "5f2b8c9d0e1f2a3b4c5d6e7f", "zone": "example.com", "domain": NAME, "type": "TXT",
        "link": null, "ttl": 60, "use_client_subnet": true, "override_ttl": false,
        "answers": values.iter().map(|v| json!({"id": "5f2b8c9d0e1f2a3b4c5d6e80", "answer": [v]})).collect::<Vec<_>>(),
        "filters": [], "meta": {}, "regions": {}, "tier": 1
    })
}

fn ns1_get(found: Option<&[&str]>) -> Exchange {
    let e = Exchange::new("GET", NS1_PATH)
        .header("x-nsone-key", SECRET)
        .no_body();
    match found {
        Some(values) => e.reply(200, Some(ns1_record(values))),
        None => e.reply(404, Some(json!({"message": "record not found"}))),
    }
}

fn ns1_answers(values: &[&str]) -> Vec<Value> {
    values.iter().map(|v| json!({"answer": [v]})).collect()
}

#[tokio::test]
async fn ns1() {
    conformance(Case {
        id: "ns1",
        params: ns1_params,
        secret: "api_key",
        add: || {
            vec![
                ns1_get(None),
                Exchange::new("PUT", NS1_PATH)
                    .header("x-nsone-key", SECRET)
                    .header("content-type", "application/json")
                    .json(
                        json!({"zone": "example.com", "domain": NAME, "type": "TXT", "ttl": 60,
                                 "answers": ns1_answers(&[VALUE])}),
                    )
                    .reply(200, Some(ns1_record(&[VALUE]))),
            ]
        },
        delete: || {
            vec![
                ns1_get(Some(&[VALUE])),
                Exchange::new("DELETE", NS1_PATH)
                    .header("x-nsone-key", SECRET)
                    .no_body()
                    .reply(200, Some(json!({}))),
            ]
        },
        remaining: vec![],
        first_step: "get_record",
        error: (401, json!({"message": "Unauthorized"})),
    })
    .await;
}

#[tokio::test]
async fn ns1_existing_record_is_updated_then_trimmed() {
    let def = provider("ns1").unwrap();
    let stub = StubServer::start(vec![
        ns1_get(Some(&[VALUE2])),
        Exchange::new("POST", NS1_PATH)
            .header("x-nsone-key", SECRET)
            .json(json!({"ttl": 60, "answers": ns1_answers(&[VALUE, VALUE2])}))
            .reply(200, Some(ns1_record(&[VALUE, VALUE2]))),
        ns1_get(Some(&[VALUE, VALUE2])),
        Exchange::new("POST", NS1_PATH)
            .header("x-nsone-key", SECRET)
            .json(json!({"ttl": 60, "answers": ns1_answers(&[VALUE2])}))
            .reply(200, Some(ns1_record(&[VALUE2]))),
    ])
    .await;
    let params = def.bind(ns1_params(&stub.base_url())).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params.clone())
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
        .with_values(vec![VALUE.into(), VALUE2.into()]);
    let mut captures = engine()
        .add_record(&def, &c, &MemoryTrace::default())
        .await
        .unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
        .with_values(vec![VALUE2.into()]);
    engine()
        .delete_record(&def, &c, &mut captures, &MemoryTrace::default())
        .await
        .unwrap();
    stub.assert_done();
}

// ---------------------------------------------------------------- Infomaniak

fn ik_record(id: u64, target: &str) -> Value {
    json!({"id": id, "source": "_acme-challenge.www", "source_idn": "_acme-challenge.www", "type": "TXT",
           "ttl": 300, "target": target, "updated_at": 1_704_103_200})
}

fn ik_list(data: Value) -> Exchange {
    Exchange::new("GET", "/2/zones/example.com/records")
        .header("authorization", &format!("Bearer {SECRET}"))
        .no_body()
        .reply(200, Some(json!({"result": "success", "data": data})))
}

fn ik_params(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_url", base.to_string()),
        ("api_token", SECRET.to_string()),
    ]
}

#[tokio::test]
async fn infomaniak() {
    conformance(Case {
        id: "infomaniak",
        params: ik_params,
        secret: "api_token",
        add: || {
            vec![
                ik_list(json!([ik_record(2_001, "\"stale-value\"")])),
                Exchange::new("POST", "/2/zones/example.com/records")
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .header("content-type", "application/json")
                    .json(json!({"type": "TXT", "source": "_acme-challenge.www", "target": VALUE, "ttl": 300}))
                    .reply(
                        200,
                        Some(json!({"result": "success", "data": ik_record(2_002, &format!("\"{VALUE}\""))})),
                    ),
            ]
        },
        // the id is not captured on add: delete finds it by name and value
        delete: || {
            vec![
                ik_list(json!([
                    ik_record(2_001, "\"stale-value\""),
                    ik_record(2_002, &format!("\"{VALUE}\""))
                ])),
                Exchange::new("DELETE", "/2/zones/example.com/records/2002")
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .no_body()
                    .reply(200, Some(json!({"result": "success", "data": true}))),
            ]
        },
        remaining: vec![],
        first_step: "find_record",
        error: (
            401,
            json!({"result": "error", "error": {"code": "not_authorized", "description": "Authorization required"}}),
        ),
    })
    .await;
}
