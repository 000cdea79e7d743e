//! Engine features provider definitions rely on, each with a small inline
//! definition against the stub: answers that report failure with a 2xx
//! (`success_when`), plain-text and XML answers, every pagination mode,
//! polling an asynchronous change, rate limits, and the OAuth2 token helper.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;

use certmgr_dns::{Definition, DnsError};

const HEAD: &str = r#"
[provider]
id = "t"
name = "T"
website = "https://t.example"
api_docs = "https://t.example/docs"
min_ttl = 60
multi_value_txt = true

[[parameter]]
name = "api_url"
help = "base"
required = true

[[parameter]]
name = "token"
help = "token"
secret = true
default = ""
"#;

fn def(steps: &str) -> Definition {
    Definition::parse(&format!("{HEAD}\n{steps}"), "t.toml").unwrap()
}

fn call(base: &str, def: &Definition) -> CallContext {
    let params = def
        .bind([("api_url", base.to_string()), ("token", SECRET.to_string())])
        .unwrap();
    CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
}

async fn add(def: &Definition, script: Vec<Exchange>) -> (Result<Captures, DnsError>, String) {
    let stub = StubServer::start(script).await;
    let trace = MemoryTrace::default();
    let r = fast_engine()
        .add_record(def, &call(&stub.base_url(), def), &trace)
        .await;
    stub.assert_done();
    (r, trace.text())
}

#[tokio::test]
async fn success_when_turns_a_200_failure_into_an_error_naming_the_step() {
    let d = def(r#"
[[step]]
phase = "add"
name = "update"
method = "GET"
url = "{{ params.api_url }}/update?txt={{ value | urlencode }}&token={{ params.token | urlencode }}"
success_when = "response.body | trim == 'OK'"
"#);
    let ok = Exchange::new("GET", "/update")
        .query(&[("txt", VALUE), ("token", SECRET)])
        .reply_text(200, "text/plain", "OK\n");
    let (r, _) = add(&d, vec![ok.clone()]).await;
    r.unwrap();

    let ko = ok.reply_text(200, "text/plain", "KO");
    let (r, trace) = add(&d, vec![ko]).await;
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.contains("step \"update\"") && msg.contains("reports a failure") && msg.contains("KO"),
        "{msg}"
    );
    assert!(
        !msg.contains(SECRET) && !trace.contains(SECRET),
        "{msg}\n{trace}"
    );
}

#[tokio::test]
async fn success_when_reads_json_and_xml_answers() {
    let d = def(r#"
[[step]]
phase = "add"
name = "create"
method = "POST"
url = "{{ params.api_url }}/api"
raw = "<x/>"
content_type = "text/xml"
success_when = "response.json.ApiResponse['@Status'] == 'OK'"
capture = { id = "$.ApiResponse.CommandResponse[0].Record[0]['@Id']" }
"#);
    let xml_ok = r#"<?xml version="1.0"?><ApiResponse Status="OK" xmlns="http://api.example/xml"><Errors/><CommandResponse><Record Id="77" Name="x"/></CommandResponse></ApiResponse>"#;
    let ex = Exchange::new("POST", "/api")
        .header("content-type", "text/xml")
        .raw("<x/>");
    let (r, _) = add(&d, vec![ex.clone().reply_text(200, "text/xml", xml_ok)]).await;
    assert_eq!(r.unwrap().get("id"), Some("77"));

    let xml_err = r#"<ApiResponse Status="ERROR"><Errors><Error Number="2019166">Domain not found</Error></Errors></ApiResponse>"#;
    let (r, _) = add(&d, vec![ex.reply_text(200, "text/xml", xml_err)]).await;
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.contains("Domain not found") && msg.contains("step \"create\""),
        "{msg}"
    );
}

#[tokio::test]
async fn capture_regex_reads_plain_text() {
    let d = def(r#"
[[step]]
phase = "add"
name = "create"
method = "POST"
url = "{{ params.api_url }}/nic/update"
form = { txt = "{{ value }}" }
capture_regex = { result = "^(good|nochg) " }
"#);
    let ex = Exchange::new("POST", "/nic/update").form(&[("txt", VALUE)]);
    let (r, _) = add(
        &d,
        vec![
            ex.clone()
                .reply_text(200, "text/plain", &format!("nochg {VALUE}")),
        ],
    )
    .await;
    assert_eq!(r.unwrap().get("result"), Some("nochg"));

    let (r, _) = add(&d, vec![ex.reply_text(200, "text/plain", "badauth")]).await;
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.contains("capture \"result\"")
            && msg.contains("regular expression")
            && msg.contains("badauth"),
        "{msg}"
    );
}

#[tokio::test]
async fn capture_all_collects_every_page_and_fromjson_reads_it_back() {
    let d = def(r#"
[[step]]
phase = "query"
name = "list"
method = "GET"
url = "{{ params.api_url }}/records?per_page=2"
capture_all = { ids = "$.records[?@.type == 'TXT'].id" }
paginate = { next_url = "$.links.next" }

[[step]]
phase = "add"
name = "create"
method = "POST"
url = "{{ params.api_url }}/records"
json = '''{"existing": {{ captures.ids | fromjson | tojson }}, "count": {{ captures.ids | fromjson | length }}}'''
"#);
    let script = vec![
        Exchange::new("GET", "/records")
            .query(&[("per_page", "2")])
            .reply(
                200,
                Some(
                    json!({"records": [{"id": 1, "type": "A"}, {"id": 2, "type": "TXT"}],
                            "links": {"next": "/records?per_page=2&page=2"}}),
                ),
            ),
        Exchange::new("GET", "/records")
            .query(&[("per_page", "2"), ("page", "2")])
            .reply(
                200,
                Some(json!({"records": [{"id": 3, "type": "TXT"}], "links": {"next": null}})),
            ),
        Exchange::new("POST", "/records")
            .json(json!({"existing": [2, 3], "count": 2}))
            .reply(201, Some(json!({}))),
    ];
    let (r, _) = add(&d, script).await;
    assert_eq!(r.unwrap().get("ids"), Some("[2,3]"));
}

#[tokio::test]
async fn pagination_by_page_number_stops_when_the_capture_is_found() {
    let d = def(r#"
[[step]]
phase = "lookup"
name = "zone"
method = "GET"
url = "{{ params.api_url }}/zones"
capture = { zone_id = "$.data[?@.domain == {{ zone | tojson }}].id" }
paginate = { page_param = "page", total_pages = "$.pages" }

[[step]]
phase = "add"
name = "create"
method = "POST"
url = "{{ params.api_url }}/zones/{{ captures.zone_id }}/records"
json = '{}'
"#);
    let page = |n: &str, data: Value| {
        let ex = Exchange::new("GET", "/zones");
        let ex = if n == "1" {
            ex.query(&[])
        } else {
            ex.query(&[("page", n)])
        };
        ex.reply(
            200,
            Some(json!({"data": data, "page": n.parse::<u32>().unwrap(), "pages": 3})),
        )
    };
    let script = vec![
        page("1", json!([{"id": 10, "domain": "other.org"}])),
        page("2", json!([{"id": 11, "domain": "example.com"}])),
        Exchange::new("POST", "/zones/11/records").reply(200, Some(json!({}))),
    ];
    let (r, _) = add(&d, script).await;
    assert_eq!(r.unwrap().get("zone_id"), Some("11"));

    // not on any page: all pages read, then the capture error says so
    let script = vec![
        page("1", json!([])),
        page("2", json!([])),
        page("3", json!([{"id": 12, "domain": "else.net"}])),
    ];
    let (r, _) = add(&d, script).await;
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains("matched nothing in 3 page(s)"), "{msg}");
}

#[tokio::test]
async fn pagination_by_cursor() {
    let d = def(r#"
[[step]]
phase = "query"
name = "records"
method = "GET"
url = "{{ params.api_url }}/records?per_page=1"
capture = { record_id = "$.records[?@.data == {{ value | tojson }}].id" }
paginate = { next_token = "$.meta.links.next", token_param = "cursor", max_pages = 5 }

[[step]]
phase = "add"
name = "create"
method = "PATCH"
url = "{{ params.api_url }}/records/{{ captures.record_id }}"
json = '{}'
"#);
    let script = vec![
        Exchange::new("GET", "/records")
            .query(&[("per_page", "1")])
            .reply(200, Some(json!({"records": [{"id": "a", "data": "x"}], "meta": {"links": {"next": "bmV4dA=="}}}))),
        Exchange::new("GET", "/records")
            .query(&[("per_page", "1"), ("cursor", "bmV4dA==")])
            .reply(200, Some(json!({"records": [{"id": "b", "data": VALUE}], "meta": {"links": {"next": ""}}}))),
        Exchange::new("PATCH", "/records/b").reply(200, Some(json!({}))),
    ];
    let (r, _) = add(&d, script).await;
    assert_eq!(r.unwrap().get("record_id"), Some("b"));
}

#[tokio::test]
async fn repeat_until_polls_an_asynchronous_change() {
    let d = def(r#"
[[step]]
phase = "add"
name = "change"
method = "POST"
url = "{{ params.api_url }}/change"
json = '{}'
capture = { change_id = "$.id" }

[[step]]
phase = "add"
name = "wait"
method = "GET"
url = "{{ params.api_url }}/change/{{ captures.change_id }}"
repeat_until = "response.json.status == 'INSYNC'"
repeat_interval_secs = 0
repeat_max = 3
"#);
    let poll = |status: &str| {
        Exchange::new("GET", "/change/c1").reply(200, Some(json!({"id": "c1", "status": status})))
    };
    let start =
        Exchange::new("POST", "/change").reply(200, Some(json!({"id": "c1", "status": "PENDING"})));
    let (r, _) = add(
        &d,
        vec![
            start.clone(),
            poll("PENDING"),
            poll("PENDING"),
            poll("INSYNC"),
        ],
    )
    .await;
    r.unwrap();

    let (r, _) = add(
        &d,
        vec![start, poll("PENDING"), poll("PENDING"), poll("PENDING")],
    )
    .await;
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.contains("step \"wait\"") && msg.contains("still false after 3 request(s)"),
        "{msg}"
    );
}

#[tokio::test]
async fn rate_limits_are_retried_after_the_announced_delay() {
    let d = def(r#"
[[step]]
phase = "add"
name = "create"
method = "POST"
url = "{{ params.api_url }}/records"
json = '{}'
"#);
    let ex = Exchange::new("POST", "/records");
    let limited = ex
        .clone()
        .reply(429, Some(json!({"error": "rate limited"})))
        .reply_header("retry-after", "1");
    let stub = StubServer::start(vec![limited, ex.reply(201, Some(json!({})))]).await;
    let trace = MemoryTrace::default();
    let started = std::time::Instant::now();
    // a long backoff, so only Retry-After explains a 1 s wait
    Engine::new()
        .unwrap()
        .with_retry(RetryPolicy {
            attempts: 2,
            initial_backoff: Duration::from_secs(30),
        })
        .add_record(&d, &call(&stub.base_url(), &d), &trace)
        .await
        .unwrap();
    stub.assert_done();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(20),
        "{waited:?}"
    );
    assert!(trace.text().contains("< 429"), "{}", trace.text());
}

const OAUTH: &str = r#"
[auth]
kind = "oauth2-client-credentials"
token_url = "{{ params.api_url }}/tenant-1/oauth2/v2.0/token"
client_id = "app-id"
client_secret = "{{ params.token }}"
scope = "https://management.example/.default"

[[step]]
phase = "add"
name = "put"
method = "PUT"
url = "{{ params.api_url }}/zones/{{ zone }}/TXT/{{ record_relative }}"
json = '{}'
"#;

#[tokio::test]
async fn oauth2_fetches_one_token_per_call_and_redacts_it() {
    let d = def(&format!(
        "{OAUTH}\n[[step]]\nphase = \"add\"\nname = \"get\"\nmethod = \"GET\"\nurl = \"{{{{ params.api_url }}}}/check\"\n"
    ));
    let token = "eyJ0eXAiOiJKV1QiLCJhbGciOi.access-token-value";
    let script = vec![
        Exchange::new("POST", "/tenant-1/oauth2/v2.0/token")
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "app-id"),
                ("client_secret", SECRET),
                ("scope", "https://management.example/.default"),
            ])
            .reply(
                200,
                Some(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": token})),
            ),
        Exchange::new("PUT", "/zones/example.com/TXT/_acme-challenge.www")
            .header("authorization", &format!("Bearer {token}"))
            .reply(200, Some(json!({}))),
        Exchange::new("GET", "/check")
            .header("authorization", &format!("Bearer {token}"))
            .reply(200, Some(json!({}))),
    ];
    let (r, trace) = add(&d, script).await;
    r.unwrap();
    assert!(!trace.contains(token) && !trace.contains(SECRET), "{trace}");
    assert!(trace.contains("<redacted:auth_token>"), "{trace}");
}

#[tokio::test]
async fn oauth2_refusal_is_an_authentication_error() {
    let d = def(OAUTH);
    let script = vec![
        Exchange::new("POST", "/tenant-1/oauth2/v2.0/token").reply(
            401,
            Some(json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})),
        ),
    ];
    let (r, _) = add(&d, script).await;
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.contains("authentication (oauth2-client-credentials)")
            && msg.contains("HTTP 401")
            && msg.contains("Invalid client secret"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_step_can_opt_out_of_auth() {
    let d = def(r#"
[auth]
kind = "ovh"
application_key = "ak"
application_secret = "{{ params.token }}"
consumer_key = "ck"

[[step]]
phase = "lookup"
name = "time"
method = "GET"
url = "{{ params.api_url }}/auth/time"
auth = false

[[step]]
phase = "add"
name = "create"
method = "POST"
url = "{{ params.api_url }}/domain/zone/{{ zone }}/record"
json = '{}'
"#);
    let stub = StubServer::start(vec![
        Exchange::new("GET", "/auth/time").reply(200, Some(json!(1_700_000_000))),
        Exchange::new("POST", "/domain/zone/example.com/record")
            .header("x-ovh-application", "ak")
            .header("x-ovh-timestamp", "1700000000")
            .header_prefix("x-ovh-signature", "$1$")
            .reply(200, Some(json!({"id": 1}))),
    ])
    .await;
    let trace = MemoryTrace::default();
    fast_engine()
        .with_fixed_time(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .add_record(&d, &call(&stub.base_url(), &d), &trace)
        .await
        .unwrap();
    stub.assert_done();
    let time_req = &stub.received()[0];
    assert!(
        !time_req.headers.iter().any(|(k, _)| k.starts_with("x-ovh")),
        "{:?}",
        time_req.headers
    );
}

fn invalid(steps: &str) -> String {
    Definition::parse(&format!("{HEAD}\n{steps}"), "bad.toml")
        .unwrap_err()
        .to_string()
}

const ADD: &str = r#"
[[step]]
phase = "add"
name = "create"
method = "POST"
url = "{{ params.api_url }}"
"#;

#[test]
fn bad_new_fields_are_refused_at_import_naming_the_field() {
    let e = invalid(&format!("{ADD}capture_regex = {{ id = \"(unclosed\" }}\n"));
    assert!(
        e.contains("bad.toml: step \"create\" capture_regex \"id\": invalid regular expression"),
        "{e}"
    );

    let e = invalid(&format!(
        "{ADD}paginate = {{ next_url = \"$.a\", page_param = \"p\" }}\n"
    ));
    assert!(e.contains("field \"paginate\": give exactly one of"), "{e}");

    let e = invalid(&format!("{ADD}paginate = {{ next_url = \"$.[\" }}\n"));
    assert!(e.contains("field \"paginate\": invalid JSONPath"), "{e}");

    let e = invalid(&format!("{ADD}success_when = \"responze.status == 200\"\n"));
    assert!(
        e.contains("field \"success_when\": undefined variable \"responze\""),
        "{e}"
    );

    let e = invalid(&format!("{ADD}when = \"response.status == 200\"\n"));
    assert!(
        e.contains("field \"when\": undefined variable \"response\""),
        "{e}"
    );

    let e = invalid(&format!("{ADD}repeat_max = 3\n"));
    assert!(e.contains("need repeat_until"), "{e}");

    let e = invalid(&format!("[auth]\nkind = \"kerberos\"\n{ADD}"));
    assert!(
        e.contains("auth field \"kind\": unknown helper \"kerberos\""),
        "{e}"
    );

    let e = invalid(&format!(
        "[auth]\nkind = \"ovh\"\napplication_key = \"a\"\n{ADD}"
    ));
    assert!(
        e.contains("auth field \"application_secret\": missing"),
        "{e}"
    );

    let e = invalid(&format!(
        "[auth]\nkind = \"exoscale\"\napi_key = \"a\"\napi_secret = \"{{{{ params.nope }}}}\"\n{ADD}"
    ));
    assert!(
        e.contains("auth field \"api_secret\": undefined variable \"params.nope\""),
        "{e}"
    );

    let e = invalid(&format!(
        "[auth]\nkind = \"exoscale\"\napi_key = \"a\"\napi_secret = \"b\"\nregion = \"x\"\n{ADD}"
    ));
    assert!(
        e.contains("auth field \"region\": not a field of exoscale"),
        "{e}"
    );
}
