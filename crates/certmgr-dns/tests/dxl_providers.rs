//! The Domino community's provider configurations (DXL with Notes formulas,
//! ../shared/seed/dxl/dns-providers, Apache-2.0) run unmodified against a
//! stub of each provider's API: the exact requests of add and delete, a
//! realistic success, and a clean failure on the provider's error answer.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;

use certmgr_dns::dxl::DxlDefinition;

/// The seed DXL file at `rel`: its text and path.
pub fn seed(rel: &str) -> Option<(String, String)> {
    let path = certmgr_testkit::seed_dxl(rel)?;
    Some((
        std::fs::read_to_string(&path).unwrap(),
        path.display().to_string(),
    ))
}

fn load(rel: &str) -> Option<DxlDefinition> {
    let (text, file) = seed(rel)?;
    Some(DxlDefinition::parse(&text, &file).unwrap())
}

fn call(def: &DxlDefinition, fields: &[(&str, String)]) -> CallContext {
    let params = def
        .bind(fields.iter().map(|(k, v)| (k.to_string(), v.clone())))
        .unwrap();
    CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
}

#[tokio::test]
async fn cloudflare_looks_up_the_zone_adds_and_deletes_by_id() {
    let Some(def) = load("dns-providers/cloudflare/certstore_cloudflare.dxl") else {
        return;
    };
    let stub = StubServer::start(vec![
        Exchange::new("GET", "/client/v4/zones")
            .query(&[("name", "example.com")])
            .header("authorization", &format!("Bearer {SECRET}"))
            .header("content-type", "application/json")
            .reply(200, Some(json!({"success": true, "errors": [], "result": [{"id": "023e105f4ecef8ad9ca31a8372d0c353", "name": "example.com"}]}))),
        Exchange::new("POST", "/client/v4/zones/023e105f4ecef8ad9ca31a8372d0c353/dns_records/")
            .header("authorization", &format!("Bearer {SECRET}"))
            .json(json!({"type": "TXT", "name": NAME, "content": VALUE, "ttl": 120}))
            .reply(200, Some(json!({"success": true, "errors": [], "result": {"id": "372e67954025e0ba6aaa6d586b9e0b59", "type": "TXT", "name": NAME, "content": VALUE}}))),
        Exchange::new("DELETE", "/client/v4/zones/023e105f4ecef8ad9ca31a8372d0c353/dns_records/372e67954025e0ba6aaa6d586b9e0b59")
            .header("authorization", &format!("Bearer {SECRET}"))
            .reply(200, Some(json!({"success": true, "result": {"id": "372e67954025e0ba6aaa6d586b9e0b59"}}))),
    ])
    .await;
    let fields = [
        ("cfg_AuthToken", SECRET.to_string()),
        ("cfg_URL", format!("{}/client/v4/zones", stub.base_url())),
    ];
    let trace = MemoryTrace::default();
    let added = engine()
        .dxl_add(&def, &call(&def, &fields), &trace)
        .await
        .unwrap();
    assert_eq!(
        added.account_updates.get("cfg_DnsZone").map(String::as_str),
        Some("023e105f4ecef8ad9ca31a8372d0c353"),
        "@SetField of the looked-up zone id goes back to the account"
    );
    // delete after a "restart": only the saved captures and the account
    let mut fields = fields.to_vec();
    fields.push(("cfg_DnsZone", "023e105f4ecef8ad9ca31a8372d0c353".into()));
    let saved: Captures =
        serde_json::from_str(&serde_json::to_string(&added.captures).unwrap()).unwrap();
    engine()
        .dxl_delete(&def, &call(&def, &fields), &saved, &trace)
        .await
        .unwrap();
    stub.assert_done();
    let text = trace.text();
    assert!(!text.contains(SECRET), "{text}");
    assert!(text.contains("<redacted:cfg_AuthToken>"), "{text}");
    assert!(!added.captures.0.values().any(|v| v.contains(SECRET)));
}

// ---------------------------------------------------------------------------
// Helpers shared by the provider tests below.

/// A second secret (API key beside the token), so that both are checked.
const KEY: &str = "k3y-ID/plus+eq=";

/// The captures of an add as a later run reads them back (a "restart").
fn restart(c: &Captures) -> Captures {
    serde_json::from_str(&serde_json::to_string(c).unwrap()).unwrap()
}

/// No secret in the trace, and the redaction tag of each secret field is there.
fn assert_redacted(trace: &MemoryTrace, fields: &[&str]) {
    let text = trace.text();
    assert!(!text.contains(SECRET), "secret in trace:\n{text}");
    assert!(
        !text.contains("s3cr3t"),
        "secret fragment in trace:\n{text}"
    );
    assert!(!text.contains(KEY), "API key in trace:\n{text}");
    for f in fields {
        assert!(
            text.contains(&format!("<redacted:{f}>")),
            "trace does not show <redacted:{f}>:\n{text}"
        );
    }
}

/// The error of a failed add: it names the step, carries `needles` (the
/// provider's message), fits on one line and holds no secret.
fn assert_refused(e: &certmgr_dns::DnsError, step: &str, needles: &[&str]) {
    let msg = e.to_string();
    assert!(msg.contains(&format!("step {step:?}")), "{msg}");
    for n in needles {
        assert!(msg.contains(n), "{n:?} missing from: {msg}");
    }
    assert!(!msg.contains('\n'), "more than one line: {msg}");
    assert!(
        !msg.contains(SECRET) && !msg.contains("s3cr3t") && !msg.contains(KEY),
        "secret in: {msg}"
    );
}

/// The captures hold no secret, in any form.
fn assert_captures_clean(c: &Captures) {
    for v in c.0.values() {
        assert!(
            !v.contains(SECRET) && !v.contains("s3cr3t") && !v.contains(KEY),
            "{v}"
        );
    }
}

/// The text value a saved field has in the captures (`dxl_fields`).
fn saved_field(c: &Captures, name: &str) -> Option<String> {
    let fields: Value = serde_json::from_str(c.get("dxl_fields")?).ok()?;
    let (_, v) = fields
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))?;
    v.get("t")?.get(0)?.as_str().map(str::to_string)
}

/// An HTML error page, as a load balancer sends it.
const HTML_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

// ---------------------------------------------------------------------------
// acme-dns (certstore_acmedns.dxl): POST {cfg_URL}/update with X-Api-User /
// X-Api-Key; StatusFormula: the answer's "txt" must echo the value. No delete
// step: acme-dns keeps the last values, the delete sends nothing.
// https://github.com/joohoi/acme-dns#update-endpoint

const ACMEDNS_USER: &str = "c36f50e8-4632-44f0-83fe-e070fef28a10";
const ACMEDNS_SUB: &str = "8e5700ea-a4bf-41c7-8a77-e990661dcc6a";

fn acmedns_fields(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("cfg_URL", base.to_string()),
        ("cfg_UserName", ACMEDNS_USER.to_string()),
        ("cfg_Password", SECRET.to_string()),
        ("cfg_DnsZone", ACMEDNS_SUB.to_string()),
    ]
}

fn acmedns_update() -> Exchange {
    Exchange::new("POST", "/update")
        .query(&[])
        .header("x-api-user", ACMEDNS_USER)
        .header("x-api-key", SECRET)
        .header("content-type", "application/json")
        .json(json!({"subdomain": ACMEDNS_SUB, "txt": VALUE}))
}

#[tokio::test]
async fn acmedns_updates_the_txt_and_deletes_nothing() {
    let Some(def) = load("dns-providers/acmedns/certstore_acmedns.dxl") else {
        return;
    };
    let stub = StubServer::start(vec![
        acmedns_update().reply(200, Some(json!({"txt": VALUE}))),
    ])
    .await;
    let fields = acmedns_fields(&stub.base_url());
    let trace = MemoryTrace::default();
    let added = engine()
        .dxl_add(&def, &call(&def, &fields), &trace)
        .await
        .unwrap();
    assert!(
        added.account_updates.is_empty(),
        "{:?}",
        added.account_updates
    );
    assert_captures_clean(&added.captures);
    // the configuration has no Del step: the delete sends no request
    let done = engine()
        .dxl_delete(
            &def,
            &call(&def, &fields),
            &restart(&added.captures),
            &trace,
        )
        .await
        .unwrap();
    assert!(done.account_updates.is_empty());
    stub.assert_done();
    assert_eq!(stub.received().len(), 1);
    assert_redacted(&trace, &["cfg_Password"]);
}

#[tokio::test]
async fn acmedns_forbidden_fails_the_add_with_its_message() {
    let Some(def) = load("dns-providers/acmedns/certstore_acmedns.dxl") else {
        return;
    };
    // pkg/api/auth.go: 401 {"error": "forbidden"} for a wrong user, key or subdomain
    let stub = StubServer::start(vec![
        acmedns_update().reply(401, Some(json!({"error": "forbidden"}))),
    ])
    .await;
    let trace = MemoryTrace::default();
    let e = engine()
        .dxl_add(&def, &call(&def, &acmedns_fields(&stub.base_url())), &trace)
        .await
        .unwrap_err();
    stub.assert_done();
    assert_refused(&e, "Add", &["forbidden", "StatusFormula gave 400"]);
    assert_redacted(&trace, &["cfg_Password"]);
}

#[tokio::test]
async fn acmedns_html_502_after_retries_fails_by_the_status_formula() {
    let Some(def) = load("dns-providers/acmedns/certstore_acmedns.dxl") else {
        return;
    };
    let page = acmedns_update().reply_text(502, "text/html", HTML_502);
    let stub = StubServer::start(vec![page.clone(), page.clone(), page]).await;
    let trace = MemoryTrace::default();
    let e = fast_engine()
        .dxl_add(&def, &call(&def, &acmedns_fields(&stub.base_url())), &trace)
        .await
        .unwrap_err();
    stub.assert_done();
    // no retJSON_Add.txt: "" is not the value, the StatusFormula gives 400
    assert_refused(&e, "Add", &["StatusFormula gave 400", "502 Bad Gateway"]);
    let text = trace.text();
    assert!(text.contains("[Add#3] < 502"), "{text}");
    assert!(text.contains("StatusFormula gave 400"), "{text}");
    assert_redacted(&trace, &["cfg_Password"]);
}

// ---------------------------------------------------------------------------
// deSEC (certstore_desec.dxl): QryAdd reads the TXT RRset, Add PUTs the
// whole RRset (bulk form) with the new value and the ones it had; QryDel
// reads it again and Del PUTs what remains ([] deletes the RRset).
// https://desec.readthedocs.io/en/latest/dns/rrsets.html

const DESEC_RRSET: &str = "/api/v1/domains/example.com/rrsets/_acme-challenge.www/TXT/";
const DESEC_BULK: &str = "/api/v1/domains/example.com/rrsets/";

fn desec_fields(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("cfg_URL", format!("{base}/api/v1")),
        ("cfg_AuthToken", SECRET.to_string()),
    ]
}

fn quoted(v: &str) -> String {
    format!("\"{v}\"")
}

fn desec_rrset(records: &[&str], ttl: u32) -> Value {
    json!({
        "created": "2024-03-18T09:12:44.319245Z",
        "domain": "example.com",
        "subname": "_acme-challenge.www",
        "name": "_acme-challenge.www.example.com.",
        "type": "TXT",
        "records": records.iter().map(|r| quoted(r)).collect::<Vec<_>>(),
        "ttl": ttl,
        "touched": "2024-03-18T09:12:44.319245Z"
    })
}

fn desec_get() -> Exchange {
    Exchange::new("GET", DESEC_RRSET)
        .query(&[])
        .header("authorization", &format!("Token {SECRET}"))
        .no_body()
}

fn desec_put(records: &[&str]) -> Exchange {
    Exchange::new("PUT", DESEC_BULK)
        .query(&[])
        .header("authorization", &format!("Token {SECRET}"))
        .header("content-type", "application/json")
        .json(json!([{
            "subname": "_acme-challenge.www",
            "type": "TXT",
            "records": records.iter().map(|r| quoted(r)).collect::<Vec<_>>(),
            "ttl": 60
        }]))
}

#[tokio::test]
async fn desec_puts_the_rrset_and_empties_it_on_delete() {
    let Some(def) = load("dns-providers/desec/certstore_desec.dxl") else {
        return;
    };
    let stub = StubServer::start(vec![
        desec_get().reply(404, Some(json!({"detail": "Not found."}))),
        desec_put(&[VALUE]).reply(200, Some(json!([desec_rrset(&[VALUE], 60)]))),
        desec_get().reply(200, Some(desec_rrset(&[VALUE], 60))),
        // records [] deletes the RRset
        desec_put(&[]).reply(200, Some(json!([]))),
    ])
    .await;
    let fields = desec_fields(&stub.base_url());
    let trace = MemoryTrace::default();
    let added = engine()
        .dxl_add(&def, &call(&def, &fields), &trace)
        .await
        .unwrap();
    assert_eq!(
        saved_field(&added.captures, "param_subdomain").as_deref(),
        Some("_acme-challenge.www"),
        "FIELD param_subdomain of QryAdd is kept for the delete"
    );
    assert_captures_clean(&added.captures);
    engine()
        .dxl_delete(
            &def,
            &call(&def, &fields),
            &restart(&added.captures),
            &trace,
        )
        .await
        .unwrap();
    stub.assert_done();
    assert_redacted(&trace, &["cfg_AuthToken"]);
}

#[tokio::test]
async fn desec_keeps_the_other_value_of_the_name() {
    let Some(def) = load("dns-providers/desec/certstore_desec.dxl") else {
        return;
    };
    // the name already carries VALUE2 (the wildcard's challenge): the PUT
    // holds both values, and the delete leaves VALUE2
    let stub = StubServer::start(vec![
        desec_get().reply(200, Some(desec_rrset(&[VALUE2], 3600))),
        desec_put(&[VALUE, VALUE2]).reply(200, Some(json!([desec_rrset(&[VALUE, VALUE2], 60)]))),
        desec_get().reply(200, Some(desec_rrset(&[VALUE, VALUE2], 60))),
        desec_put(&[VALUE2]).reply(200, Some(json!([desec_rrset(&[VALUE2], 60)]))),
    ])
    .await;
    let fields = desec_fields(&stub.base_url());
    let trace = MemoryTrace::default();
    let added = engine()
        .dxl_add(&def, &call(&def, &fields), &trace)
        .await
        .unwrap();
    engine()
        .dxl_delete(
            &def,
            &call(&def, &fields),
            &restart(&added.captures),
            &trace,
        )
        .await
        .unwrap();
    stub.assert_done();
    assert_redacted(&trace, &["cfg_AuthToken"]);
}

#[tokio::test]
async fn desec_invalid_token_fails_the_add_with_its_message() {
    let Some(def) = load("dns-providers/desec/certstore_desec.dxl") else {
        return;
    };
    // Django REST framework's token authentication: 401 {"detail": "Invalid token."}
    let denied = json!({"detail": "Invalid token."});
    let stub = StubServer::start(vec![
        desec_get().reply(401, Some(denied.clone())),
        desec_put(&[VALUE]).reply(401, Some(denied)),
    ])
    .await;
    let trace = MemoryTrace::default();
    let e = engine()
        .dxl_add(&def, &call(&def, &desec_fields(&stub.base_url())), &trace)
        .await
        .unwrap_err();
    stub.assert_done();
    // StatusFormula is ret_AddStatus
    assert_refused(&e, "Add", &["Invalid token.", "StatusFormula gave 401"]);
    assert_redacted(&trace, &["cfg_AuthToken"]);
}

#[tokio::test]
async fn desec_html_answer_to_the_query_does_not_stop_the_add() {
    let Some(def) = load("dns-providers/desec/certstore_desec.dxl") else {
        return;
    };
    // a proxy's HTML page instead of the RRset: no retJSON_QryAdd fields,
    // the PUT carries the new value only, and ret_AddStatus 200 is success
    let stub = StubServer::start(vec![
        desec_get().reply_text(
            200,
            "text/html",
            "<html><body>Service temporarily moved</body></html>",
        ),
        desec_put(&[VALUE]).reply(200, Some(json!([desec_rrset(&[VALUE], 60)]))),
    ])
    .await;
    let trace = MemoryTrace::default();
    engine()
        .dxl_add(&def, &call(&def, &desec_fields(&stub.base_url())), &trace)
        .await
        .unwrap();
    stub.assert_done();
    assert!(
        trace.text().contains("StatusFormula gave 200"),
        "{}",
        trace.text()
    );
    assert_redacted(&trace, &["cfg_AuthToken"]);
}

// ---------------------------------------------------------------------------
// DigitalOcean (certstore_digitalocean.dxl): POST the record, DELETE it by
// retJSON_Add.domain_record.id.
// https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domain-Records

const DO_RECORD_ID: u64 = 28448433;

fn digitalocean_fields(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("cfg_URL", format!("{base}/v2/domains")),
        ("cfg_AuthToken", SECRET.to_string()),
    ]
}

fn digitalocean_create() -> Exchange {
    Exchange::new("POST", "/v2/domains/example.com/records")
        .query(&[])
        .header("authorization", &format!("Bearer {SECRET}"))
        .header("content-type", "application/json")
        .json(json!({"type": "TXT", "name": format!("{NAME}."), "data": VALUE, "ttl": 30}))
}

#[tokio::test]
async fn digitalocean_creates_and_deletes_by_the_record_id() {
    let Some(def) = load("dns-providers/digitalocean/certstore_digitalocean.dxl") else {
        return;
    };
    let stub = StubServer::start(vec![
        digitalocean_create().reply(
            201,
            Some(json!({"domain_record": {
                "id": DO_RECORD_ID, "type": "TXT", "name": "_acme-challenge.www", "data": VALUE,
                "priority": null, "port": null, "ttl": 30, "weight": null, "flags": null, "tag": null
            }})),
        ),
        Exchange::new("DELETE", &format!("/v2/domains/example.com/records/{DO_RECORD_ID}"))
            .query(&[])
            .header("authorization", &format!("Bearer {SECRET}"))
            .no_body()
            .reply(204, None),
    ])
    .await;
    let fields = digitalocean_fields(&stub.base_url());
    let trace = MemoryTrace::default();
    let added = engine()
        .dxl_add(&def, &call(&def, &fields), &trace)
        .await
        .unwrap();
    assert_eq!(
        saved_field(&added.captures, "retJSON_Add.domain_record.id").as_deref(),
        Some("28448433")
    );
    assert_captures_clean(&added.captures);
    engine()
        .dxl_delete(
            &def,
            &call(&def, &fields),
            &restart(&added.captures),
            &trace,
        )
        .await
        .unwrap();
    stub.assert_done();
    assert_redacted(&trace, &["cfg_AuthToken"]);
}

#[tokio::test]
async fn digitalocean_unauthorized_fails_the_add_with_its_message() {
    let Some(def) = load("dns-providers/digitalocean/certstore_digitalocean.dxl") else {
        return;
    };
    let stub = StubServer::start(vec![digitalocean_create().reply(
        401,
        Some(json!({"id": "Unauthorized", "message": "Unable to authenticate you"})),
    )])
    .await;
    let trace = MemoryTrace::default();
    let e = engine()
        .dxl_add(
            &def,
            &call(&def, &digitalocean_fields(&stub.base_url())),
            &trace,
        )
        .await
        .unwrap_err();
    stub.assert_done();
    assert_refused(
        &e,
        "Add",
        &["Unable to authenticate you", "StatusFormula gave 400"],
    );
    assert_redacted(&trace, &["cfg_AuthToken"]);
}

#[tokio::test]
async fn digitalocean_html_502_after_retries_fails_by_the_status_formula() {
    let Some(def) = load("dns-providers/digitalocean/certstore_digitalocean.dxl") else {
        return;
    };
    let page = digitalocean_create().reply_text(502, "text/html", HTML_502);
    let stub = StubServer::start(vec![page.clone(), page.clone(), page]).await;
    let trace = MemoryTrace::default();
    let e = fast_engine()
        .dxl_add(
            &def,
            &call(&def, &digitalocean_fields(&stub.base_url())),
            &trace,
        )
        .await
        .unwrap_err();
    stub.assert_done();
    assert_refused(&e, "Add", &["StatusFormula gave 400", "502 Bad Gateway"]);
    assert!(trace.text().contains("[Add#3] < 502"), "{}", trace.text());
    assert_redacted(&trace, &["cfg_AuthToken"]);
}

// ---------------------------------------------------------------------------
// Hetzner Cloud DNS (hetzner/certstore_hetzner_dns_cloud.dxl): RRset actions
// add_records / remove_records on the zone (cfg_DnsZone, else its name);
// StatusFormula: 201 is success.
// https://docs.hetzner.cloud/reference/cloud#tag/zone-rrset-actions

fn hetzner_cloud_fields(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("cfg_URL", format!("{base}/v1")),
        ("cfg_AuthToken", SECRET.to_string()),
    ]
}

/// The RRset action on zone `zone` (id, or name when cfg_DnsZone is empty).
fn hetzner_cloud_action(zone: &str, action: &str) -> Exchange {
    Exchange::new(
        "POST",
        &format!("/v1/zones/{zone}/rrsets/_acme-challenge.www/TXT/actions/{action}"),
    )
    .query(&[])
    .header("authorization", &format!("Bearer {SECRET}"))
    .header("content-type", "application/json")
    .json(json!({
        "name": "_acme-challenge.www",
        "type": "TXT",
        "ttl": 60,
        "records": [{"value": quoted(VALUE), "comment": "Created by Domino CertMgr"}]
    }))
}

fn hetzner_cloud_running(id: u64, command: &str) -> Value {
    json!({"action": {
        "id": id, "command": command, "status": "running", "progress": 0,
        "started": "2025-10-06T09:25:00+00:00", "finished": null,
        "resources": [{"id": 4711, "type": "zone"}], "error": null
    }})
}

#[tokio::test]
async fn hetzner_cloud_adds_and_removes_rrset_records() {
    let Some(def) = load("dns-providers/hetzner/certstore_hetzner_dns_cloud.dxl") else {
        return;
    };
    let stub = StubServer::start(vec![
        hetzner_cloud_action(ZONE, "add_records")
            .reply(201, Some(hetzner_cloud_running(13, "add_rrset_records"))),
        hetzner_cloud_action(ZONE, "remove_records")
            .reply(201, Some(hetzner_cloud_running(14, "remove_rrset_records"))),
    ])
    .await;
    let fields = hetzner_cloud_fields(&stub.base_url());
    let trace = MemoryTrace::default();
    let added = engine()
        .dxl_add(&def, &call(&def, &fields), &trace)
        .await
        .unwrap();
    assert!(
        added.account_updates.is_empty(),
        "{:?}",
        added.account_updates
    );
    assert_captures_clean(&added.captures);
    engine()
        .dxl_delete(
            &def,
            &call(&def, &fields),
            &restart(&added.captures),
            &trace,
        )
        .await
        .unwrap();
    stub.assert_done();
    assert_redacted(&trace, &["cfg_AuthToken"]);
}

#[tokio::test]
async fn hetzner_cloud_unauthorized_fails_the_add_with_its_message() {
    let Some(def) = load("dns-providers/hetzner/certstore_hetzner_dns_cloud.dxl") else {
        return;
    };
    let stub = StubServer::start(vec![hetzner_cloud_action(ZONE, "add_records").reply(
        401,
        Some(json!({"error": {"code": "unauthorized", "message": "unable to authenticate", "details": null}})),
    )])
    .await;
    let trace = MemoryTrace::default();
    let e = engine()
        .dxl_add(
            &def,
            &call(&def, &hetzner_cloud_fields(&stub.base_url())),
            &trace,
        )
        .await
        .unwrap_err();
    stub.assert_done();
    assert_refused(
        &e,
        "Add",
        &["unable to authenticate", "StatusFormula gave 400"],
    );
    assert_redacted(&trace, &["cfg_AuthToken"]);
}

#[tokio::test]
async fn hetzner_cloud_201_without_json_is_success_by_the_status_formula() {
    let Some(def) = load("dns-providers/hetzner/certstore_hetzner_dns_cloud.dxl") else {
        return;
    };
    // the StatusFormula reads only ret_AddStatus: a 201 whose body is not
    // JSON is a success, and the delete still finds its URL. The account
    // names the zone by id (cfg_DnsZone), which replaces the zone name.
    let stub = StubServer::start(vec![
        hetzner_cloud_action("4711", "add_records").reply_text(201, "text/plain", "Created"),
        hetzner_cloud_action("4711", "remove_records").reply_text(201, "text/plain", "Created"),
    ])
    .await;
    let mut fields = hetzner_cloud_fields(&stub.base_url());
    fields.push(("cfg_DnsZone", "4711".to_string()));
    let trace = MemoryTrace::default();
    let added = engine()
        .dxl_add(&def, &call(&def, &fields), &trace)
        .await
        .unwrap();
    engine()
        .dxl_delete(
            &def,
            &call(&def, &fields),
            &restart(&added.captures),
            &trace,
        )
        .await
        .unwrap();
    stub.assert_done();
    assert!(
        trace.text().contains("StatusFormula gave 200"),
        "{}",
        trace.text()
    );
    assert_redacted(&trace, &["cfg_AuthToken"]);
}

// ---------------------------------------------------------------------------
// Hetzner DNS, legacy console API (hetzner/legacy/certstore_hetzner.dxl):
// Lookup the zone id by name when cfg_DnsZone is empty and @SetField it,
// POST the record with that zone_id, DELETE it by retJSON_Add.record.id.
// https://dns.hetzner.com/api-docs

const HETZNER_ZONE_ID: &str = "HBJgPbxTTrtgtrgDz2xMeD";
const HETZNER_RECORD_ID: &str = "7c4b7c5f9e14e2a30b6b1d3e0f7bd2a5";

fn hetzner_fields(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("cfg_URL", format!("{base}/api/v1")),
        ("cfg_AuthToken", SECRET.to_string()),
    ]
}

fn hetzner_lookup() -> Exchange {
    Exchange::new("GET", "/api/v1/zones")
        .query(&[("name", ZONE)])
        .header("auth-api-token", SECRET)
        .no_body()
}

fn hetzner_create(zone_id: &str) -> Exchange {
    Exchange::new("POST", "/api/v1/records")
        .query(&[])
        .header("auth-api-token", SECRET)
        .header("content-type", "application/json")
        .json(json!({"type": "TXT", "name": "_acme-challenge.www", "value": VALUE, "ttl": 60, "zone_id": zone_id}))
}

#[tokio::test]
async fn hetzner_legacy_looks_up_the_zone_sets_it_and_deletes_by_id() {
    let Some(def) = load("dns-providers/hetzner/legacy/certstore_hetzner.dxl") else {
        return;
    };
    let stub = StubServer::start(vec![
        hetzner_lookup().reply(
            200,
            Some(json!({
                "zones": [{
                    "id": HETZNER_ZONE_ID, "name": ZONE, "ttl": 86400, "registrar": "",
                    "legacy_dns_host": "", "legacy_ns": [], "ns": ["hydrogen.ns.hetzner.com", "oxygen.ns.hetzner.com", "helium.ns.hetzner.de"],
                    "created": "2021-01-22 13:26:21.526 +0000 UTC", "verified": "", "modified": "2021-01-22 13:26:22.479 +0000 UTC",
                    "project": "", "owner": "", "permission": "", "status": "verified", "paused": false,
                    "is_secondary_dns": false, "records_count": 4
                }],
                "meta": {"pagination": {"page": 1, "per_page": 100, "previous_page": 1, "next_page": 1, "last_page": 1, "total_entries": 1}}
            })),
        ),
        hetzner_create(HETZNER_ZONE_ID).reply(
            200,
            Some(json!({"record": {
                "type": "TXT", "id": HETZNER_RECORD_ID, "created": "2025-10-06 09:25:00.000 +0000 UTC",
                "modified": "2025-10-06 09:25:00.000 +0000 UTC", "zone_id": HETZNER_ZONE_ID,
                "name": "_acme-challenge.www", "value": VALUE, "ttl": 60
            }})),
        ),
        Exchange::new("DELETE", &format!("/api/v1/records/{HETZNER_RECORD_ID}"))
            .query(&[])
            .header("auth-api-token", SECRET)
            .no_body()
            .reply(200, None),
    ])
    .await;
    let fields = hetzner_fields(&stub.base_url());
    let trace = MemoryTrace::default();
    let added = engine()
        .dxl_add(&def, &call(&def, &fields), &trace)
        .await
        .unwrap();
    assert_eq!(
        added.account_updates.get("cfg_DnsZone").map(String::as_str),
        Some(HETZNER_ZONE_ID),
        "@SetField of the looked-up zone id goes back to the account"
    );
    assert_eq!(
        added.account_updates.len(),
        1,
        "{:?}",
        added.account_updates
    );
    assert_captures_clean(&added.captures);
    // the delete starts from the updated account: the Lookup is skipped
    let mut fields = fields;
    fields.push(("cfg_DnsZone", HETZNER_ZONE_ID.to_string()));
    let deleted = engine()
        .dxl_delete(
            &def,
            &call(&def, &fields),
            &restart(&added.captures),
            &trace,
        )
        .await
        .unwrap();
    assert!(
        deleted.account_updates.is_empty(),
        "{:?}",
        deleted.account_updates
    );
    stub.assert_done();
    assert!(
        trace.text().contains("[Lookup] skipped"),
        "{}",
        trace.text()
    );
    assert_redacted(&trace, &["cfg_AuthToken"]);
}

#[tokio::test]
async fn hetzner_legacy_invalid_token_fails_the_add_with_its_message() {
    let Some(def) = load("dns-providers/hetzner/legacy/certstore_hetzner.dxl") else {
        return;
    };
    let denied = json!({"message": "Invalid authentication credentials"});
    let stub = StubServer::start(vec![
        hetzner_lookup().reply(401, Some(denied.clone())),
        // no zone found: @SetField gives "", the Add goes on with zone_id ""
        hetzner_create("").reply(401, Some(denied)),
    ])
    .await;
    let trace = MemoryTrace::default();
    let e = engine()
        .dxl_add(&def, &call(&def, &hetzner_fields(&stub.base_url())), &trace)
        .await
        .unwrap_err();
    stub.assert_done();
    assert_refused(
        &e,
        "Add",
        &[
            "Invalid authentication credentials",
            "StatusFormula gave 400",
        ],
    );
    assert_redacted(&trace, &["cfg_AuthToken"]);
}

#[tokio::test]
async fn hetzner_legacy_text_answer_fails_by_the_status_formula() {
    let Some(def) = load("dns-providers/hetzner/legacy/certstore_hetzner.dxl") else {
        return;
    };
    // the account knows its zone (no Lookup); a 200 whose body is not JSON
    // has no retJSON_Add.record.id: the StatusFormula gives 400
    let stub = StubServer::start(vec![hetzner_create(HETZNER_ZONE_ID).reply_text(
        200,
        "text/plain",
        "OK",
    )])
    .await;
    let mut fields = hetzner_fields(&stub.base_url());
    fields.push(("cfg_DnsZone", HETZNER_ZONE_ID.to_string()));
    let trace = MemoryTrace::default();
    let e = engine()
        .dxl_add(&def, &call(&def, &fields), &trace)
        .await
        .unwrap_err();
    stub.assert_done();
    assert_refused(&e, "Add", &["StatusFormula gave 400", "→ OK"]);
    assert!(
        trace.text().contains("[Lookup] skipped"),
        "{}",
        trace.text()
    );
    assert_redacted(&trace, &["cfg_AuthToken"]);
}

// ---------------------------------------------------------------------------
// IONOS Cloud DNS (ionos_cloud/certstore_ionos_cloud.dxl): QryAdd finds the
// zone by filter.zoneName when cfg_DnsZone is empty, Add POSTs the record,
// Del DELETEs it by retJSON_Add.id.
// https://api.ionos.com/docs/dns/v1/

const IONOS_ZONE_ID: &str = "e74d0d15-f567-4b7b-9069-26ee1f93bae3";
const IONOS_RECORD_ID: &str = "90d81ac0-3a30-44d4-95a5-12959effa6ee";

fn ionos_fields(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("cfg_URL", base.to_string()),
        ("cfg_AuthToken", SECRET.to_string()),
    ]
}

fn ionos_zones() -> Exchange {
    Exchange::new("GET", "/zones")
        .query(&[("filter.zoneName", ZONE)])
        .header("authorization", &format!("Bearer {SECRET}"))
        .no_body()
}

fn ionos_create(zone_id: &str) -> Exchange {
    Exchange::new("POST", &format!("/zones/{zone_id}/records"))
        .query(&[])
        .header("authorization", &format!("Bearer {SECRET}"))
        .header("content-type", "application/json")
        .json(json!({"properties": {
            "name": "_acme-challenge.www", "type": "TXT", "content": quoted(VALUE), "ttl": 60, "enabled": true
        }}))
}

fn ionos_zone(id: &str, name: &str) -> Value {
    json!({
        "id": id, "type": "zone", "href": format!("/zones/{id}"),
        "metadata": {
            "createdDate": "2022-08-21T15:52:53Z", "lastModifiedDate": "2022-08-21T15:52:53Z",
            "state": "AVAILABLE", "nameservers": ["ns-ic.ui-dns.com", "ns-ic.ui-dns.de", "ns-ic.ui-dns.org", "ns-ic.ui-dns.biz"]
        },
        "properties": {"zoneName": name, "description": format!("The hosted zone is used for {name}"), "enabled": true}
    })
}

#[tokio::test]
async fn ionos_cloud_finds_the_zone_by_name_and_deletes_by_id() {
    let Some(def) = load("dns-providers/ionos_cloud/certstore_ionos_cloud.dxl") else {
        return;
    };
    let stub = StubServer::start(vec![
        ionos_zones().reply(
            200,
            Some(json!({
                "id": "5a1f2a1e-0e0f-4a8b-9a41-21c2b8d0f9f1", "type": "collection", "href": "/zones",
                "offset": 0, "limit": 100, "_links": {},
                "items": [ionos_zone(IONOS_ZONE_ID, ZONE)]
            })),
        ),
        ionos_create(IONOS_ZONE_ID).reply(
            202,
            Some(json!({
                "id": IONOS_RECORD_ID, "type": "record", "href": format!("/zones/{IONOS_ZONE_ID}/records/{IONOS_RECORD_ID}"),
                "metadata": {
                    "createdDate": "2025-10-06T09:25:00Z", "lastModifiedDate": "2025-10-06T09:25:00Z",
                    "state": "PROVISIONING", "fqdn": NAME, "zoneId": IONOS_ZONE_ID
                },
                "properties": {"name": "_acme-challenge.www", "type": "TXT", "content": quoted(VALUE), "ttl": 60, "priority": 0, "enabled": true}
            })),
        ),
        Exchange::new("DELETE", &format!("/zones/{IONOS_ZONE_ID}/records/{IONOS_RECORD_ID}"))
            .query(&[])
            .header("authorization", &format!("Bearer {SECRET}"))
            .no_body()
            .reply(202, None),
    ])
    .await;
    let fields = ionos_fields(&stub.base_url());
    let trace = MemoryTrace::default();
    let added = engine()
        .dxl_add(&def, &call(&def, &fields), &trace)
        .await
        .unwrap();
    // the zone id found by QryAdd is a capture, not an account update
    assert!(
        added.account_updates.is_empty(),
        "{:?}",
        added.account_updates
    );
    assert_captures_clean(&added.captures);
    engine()
        .dxl_delete(
            &def,
            &call(&def, &fields),
            &restart(&added.captures),
            &trace,
        )
        .await
        .unwrap();
    stub.assert_done();
    assert_redacted(&trace, &["cfg_AuthToken"]);
}

#[tokio::test]
async fn ionos_cloud_unauthorized_fails_the_add_with_its_message() {
    let Some(def) = load("dns-providers/ionos_cloud/certstore_ionos_cloud.dxl") else {
        return;
    };
    let denied = json!({"httpStatus": 401, "messages": [{
        "errorCode": "paas-auth-1",
        "message": "Unauthorized, wrong or no api key provided to process this request"
    }]});
    let stub = StubServer::start(vec![
        ionos_zones().reply(401, Some(denied.clone())),
        // no zone id: the formula builds /zones//records
        ionos_create("").reply(401, Some(denied)),
    ])
    .await;
    let trace = MemoryTrace::default();
    let e = engine()
        .dxl_add(&def, &call(&def, &ionos_fields(&stub.base_url())), &trace)
        .await
        .unwrap_err();
    stub.assert_done();
    assert_refused(
        &e,
        "Add",
        &[
            "Unauthorized, wrong or no api key provided",
            "StatusFormula gave 400",
        ],
    );
    assert_redacted(&trace, &["cfg_AuthToken"]);
}

#[tokio::test]
async fn ionos_cloud_accepted_without_json_is_success_and_skips_the_delete() {
    let Some(def) = load("dns-providers/ionos_cloud/certstore_ionos_cloud.dxl") else {
        return;
    };
    // cfg_DnsZone given: no QryAdd. A 202 whose body is not JSON is a
    // success for the StatusFormula (2xx), but leaves no retJSON_Add.id:
    // the Del URL formula gives "" and the delete sends nothing.
    let stub = StubServer::start(vec![ionos_create(IONOS_ZONE_ID).reply_text(
        202,
        "text/plain",
        "Accepted",
    )])
    .await;
    let mut fields = ionos_fields(&stub.base_url());
    fields.push(("cfg_DnsZone", IONOS_ZONE_ID.to_string()));
    let trace = MemoryTrace::default();
    let added = engine()
        .dxl_add(&def, &call(&def, &fields), &trace)
        .await
        .unwrap();
    engine()
        .dxl_delete(
            &def,
            &call(&def, &fields),
            &restart(&added.captures),
            &trace,
        )
        .await
        .unwrap();
    stub.assert_done();
    assert_eq!(stub.received().len(), 1);
    let text = trace.text();
    assert!(text.contains("[QryAdd] skipped"), "{text}");
    assert!(text.contains("[Del] skipped"), "{text}");
    assert!(text.contains("StatusFormula gave 200"), "{text}");
    assert_redacted(&trace, &["cfg_AuthToken"]);
}

// ---------------------------------------------------------------------------
// kapper.net (certstore_kapper.dxl): GET requests with APIKey / APISecret
// in the query; add sends the record as URL-encoded JSON in `data`, delete
// names the record only. StatusFormula: "OK": false is a failure.
// API 1.2 is not public; the answers follow acme.sh's dnsapi/dns_kappernet.sh
// (`{"OK":true` / `"OK":false`).

fn kapper_fields(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("cfg_URL", format!("{base}/API/1.2")),
        ("cfg_AuthKey", KEY.to_string()),
        ("cfg_AuthToken", SECRET.to_string()),
        ("cfg_DnsZone", ZONE.to_string()),
    ]
}

/// The credentials as the server decodes them: the formula puts them in the
/// query unencoded, so a `+` reads as a space.
fn form_decoded(raw: &str) -> String {
    raw.replace('+', " ")
}

fn kapper_new() -> Exchange {
    // one text, in the formula's key order
    let data =
        format!(r#"{{"name":"{NAME}","type":"TXT","content":"{VALUE}","ttl":"60","prio":""}}"#);
    Exchange::new("GET", "/API/1.2/")
        .query(&[
            ("action", "new"),
            ("subject", ZONE),
            ("APIKey", &form_decoded(KEY)),
            ("APISecret", &form_decoded(SECRET)),
            ("data", &data),
        ])
        .no_body()
}

#[tokio::test]
async fn kapper_adds_with_get_and_deletes_by_name() {
    let Some(def) = load("dns-providers/kapper/certstore_kapper.dxl") else {
        return;
    };
    let stub = StubServer::start(vec![
        kapper_new().reply(200, Some(json!({"OK": true}))),
        Exchange::new("GET", "/API/1.2/")
            .query(&[
                ("action", "del"),
                ("subject", NAME),
                ("APIKey", &form_decoded(KEY)),
                ("APISecret", &form_decoded(SECRET)),
            ])
            .no_body()
            .reply(200, Some(json!({"OK": true}))),
    ])
    .await;
    let fields = kapper_fields(&stub.base_url());
    let trace = MemoryTrace::default();
    let added = engine()
        .dxl_add(&def, &call(&def, &fields), &trace)
        .await
        .unwrap();
    assert_captures_clean(&added.captures);
    engine()
        .dxl_delete(
            &def,
            &call(&def, &fields),
            &restart(&added.captures),
            &trace,
        )
        .await
        .unwrap();
    stub.assert_done();
    // the data JSON is percent-encoded by @URLEncode("Domino"; ...)
    let raw = trace.text();
    assert!(raw.contains("data=%7B%22name%22%3A%22"), "{raw}");
    assert_redacted(&trace, &["cfg_AuthKey", "cfg_AuthToken"]);
}

#[tokio::test]
async fn kapper_ok_false_fails_the_add_with_its_message() {
    let Some(def) = load("dns-providers/kapper/certstore_kapper.dxl") else {
        return;
    };
    let stub = StubServer::start(vec![kapper_new().reply(
        200,
        Some(json!({"OK": false, "info": "authentication failed: unknown APIKey"})),
    )])
    .await;
    let trace = MemoryTrace::default();
    let e = engine()
        .dxl_add(&def, &call(&def, &kapper_fields(&stub.base_url())), &trace)
        .await
        .unwrap_err();
    stub.assert_done();
    assert_refused(
        &e,
        "Add",
        &[
            "authentication failed: unknown APIKey",
            "StatusFormula gave 400",
        ],
    );
    // the request URL in the message carries both secrets: redacted
    assert!(e.to_string().contains("<redacted:cfg_AuthToken>"), "{e}");
    assert_redacted(&trace, &["cfg_AuthKey", "cfg_AuthToken"]);
}

#[tokio::test]
async fn kapper_text_answer_is_success_by_the_status_formula() {
    let Some(def) = load("dns-providers/kapper/certstore_kapper.dxl") else {
        return;
    };
    // only "OK": false fails: a body that is not JSON leaves retJSON_Add.OK
    // empty, and the StatusFormula gives 200
    let stub = StubServer::start(vec![kapper_new().reply_text(
        200,
        "text/html",
        "<html><body>OK</body></html>",
    )])
    .await;
    let trace = MemoryTrace::default();
    engine()
        .dxl_add(&def, &call(&def, &kapper_fields(&stub.base_url())), &trace)
        .await
        .unwrap();
    stub.assert_done();
    assert!(
        trace.text().contains("StatusFormula gave 200"),
        "{}",
        trace.text()
    );
    assert_redacted(&trace, &["cfg_AuthKey", "cfg_AuthToken"]);
}
