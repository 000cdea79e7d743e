//! Conformance of the providers that report failures in a 200 answer
//! (Hurricane Electric dyn, DuckDNS, Namecheap XML, Njalla JSON-RPC) against a
//! stub of their documented API: exact requests for add and delete, realistic
//! answers, a retried 5xx, three 5xx, the documented refusal in a 200 body
//! (named step and the provider's words in the error), and no secret in the
//! trace.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;

// ---------------------------------------------------------------- harness

/// One provider's script; like `common::Case`, with its own zone and name
/// (DuckDNS zones are `<sub>.duckdns.org`) and no error status (the refusals
/// come with HTTP 200 and are tested by `refused`).
struct Script {
    id: &'static str,
    zone: &'static str,
    name: &'static str,
    params: fn(&str) -> Vec<(&'static str, String)>,
    /// Name of the secret parameter.
    secret: &'static str,
    add: fn() -> Vec<Exchange>,
    /// Delete, after add (captures from add).
    delete: fn() -> Vec<Exchange>,
    /// Values remaining after delete.
    remaining: Vec<String>,
}

fn call(s: &Script, base: &str, values: Option<Vec<String>>) -> CallContext {
    let def = provider(s.id).unwrap();
    let params = def.bind((s.params)(base)).unwrap();
    let c = CallContext::new(s.zone, s.name, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL);
    match values {
        Some(v) => c.with_values(v),
        None => c,
    }
}

fn no_secret(s: &Script, trace: &MemoryTrace) {
    let text = trace.text();
    assert!(
        !text.contains(SECRET) && !text.contains("s3cr3t"),
        "secret in trace:\n{text}"
    );
    assert!(
        text.contains(&format!("<redacted:{}>", s.secret)),
        "trace does not show the redaction:\n{text}"
    );
}

/// Add then delete with exact requests; a 503 retried; three 502 give up.
async fn conformance_200(s: Script) {
    let def = provider(s.id).unwrap();

    let stub = StubServer::start([(s.add)(), (s.delete)()].concat()).await;
    let trace = MemoryTrace::default();
    let mut captures = engine()
        .add_record(&def, &call(&s, &stub.base_url(), None), &trace)
        .await
        .unwrap();
    engine()
        .delete_record(
            &def,
            &call(&s, &stub.base_url(), Some(s.remaining.clone())),
            &mut captures,
            &trace,
        )
        .await
        .unwrap();
    stub.assert_done();
    no_secret(&s, &trace);

    let mut script = (s.add)();
    let first = script[0]
        .clone()
        .reply(503, Some(json!({"error": "temporarily unavailable"})));
    script.insert(0, first);
    let stub = StubServer::start(script).await;
    let trace = MemoryTrace::default();
    engine()
        .add_record(&def, &call(&s, &stub.base_url(), None), &trace)
        .await
        .unwrap();
    stub.assert_done();
    assert!(trace.text().contains("< 503"), "{}", trace.text());
    no_secret(&s, &trace);

    let first = (s.add)()[0]
        .clone()
        .reply(502, Some(json!({"error": "bad gateway"})));
    let stub = StubServer::start(vec![first.clone(), first.clone(), first]).await;
    let e = fast_engine()
        .add_record(
            &def,
            &call(&s, &stub.base_url(), None),
            &MemoryTrace::default(),
        )
        .await
        .unwrap_err();
    stub.assert_done();
    let msg = e.to_string();
    assert!(
        msg.contains("HTTP 502") && msg.contains("after 3 attempt(s)"),
        "{msg}"
    );
}

/// Runs add against `script` (its last exchange being the provider's refusal
/// with HTTP 200): the error names `step`, carries every fragment of the
/// provider's answer, is one line, and holds no secret; nothing is retried.
async fn refused(s: &Script, script: Vec<Exchange>, step: &str, fragments: &[&str]) {
    let def = provider(s.id).unwrap();
    let stub = StubServer::start(script).await;
    let trace = MemoryTrace::default();
    let e = engine()
        .add_record(&def, &call(s, &stub.base_url(), None), &trace)
        .await
        .unwrap_err();
    stub.assert_done();
    let msg = e.to_string();
    assert!(msg.contains(&format!("step {step:?}")), "{msg}");
    for f in fragments {
        assert!(msg.contains(f), "{f:?} missing from: {msg}");
    }
    assert!(!msg.contains(SECRET) && !msg.contains('\n'), "{msg}");
    no_secret(s, &trace);
}

// ---------------------------------------------------------------- Hurricane Electric

fn he_params(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_url", base.to_string()),
        ("ddns_key", SECRET.to_string()),
    ]
}

fn he_update(txt: &str, answer: &str) -> Exchange {
    Exchange::new("POST", "/nic/update")
        .header("content-type", "application/x-www-form-urlencoded")
        .form(&[("hostname", NAME), ("password", SECRET), ("txt", txt)])
        .reply_text(200, "text/plain", answer)
}

fn he_script() -> Script {
    Script {
        id: "hurricane-electric",
        zone: ZONE,
        name: NAME,
        params: he_params,
        secret: "ddns_key",
        add: || vec![he_update(VALUE, &format!("good {VALUE}"))],
        // the dyn interface cannot delete: the value is overwritten
        delete: || vec![he_update(".", "good .")],
        remaining: vec![],
    }
}

#[tokio::test]
async fn hurricane_electric() {
    conformance_200(he_script()).await;
}

#[tokio::test]
async fn hurricane_electric_badauth_names_the_step() {
    let s = he_script();
    refused(
        &s,
        vec![he_update(VALUE, "badauth")],
        "update_txt",
        &["badauth"],
    )
    .await;
}

#[tokio::test]
async fn hurricane_electric_nohost_names_the_step() {
    // the record was not created (or not enabled for dynamic DNS) beforehand
    let s = he_script();
    refused(
        &s,
        vec![he_update(VALUE, "nohost")],
        "update_txt",
        &["nohost"],
    )
    .await;
}

#[tokio::test]
async fn hurricane_electric_nochg_is_success_and_cleanup_value_is_used() {
    let def = provider("hurricane-electric").unwrap();
    let stub = StubServer::start(vec![
        // the record already holds the value (a retried order)
        he_update(VALUE, &format!("nochg \"{VALUE}\"")),
        he_update("retired", "good \"retired\""),
    ])
    .await;
    let mut params = he_params(&stub.base_url());
    params.push(("cleanup_value", "retired".to_string()));
    let params = def.bind(params).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL);
    let mut captures = engine()
        .add_record(&def, &c, &MemoryTrace::default())
        .await
        .unwrap();
    engine()
        .delete_record(
            &def,
            &c.with_values(vec![]),
            &mut captures,
            &MemoryTrace::default(),
        )
        .await
        .unwrap();
    stub.assert_done();
}

#[tokio::test]
async fn hurricane_electric_abuse_on_delete_names_the_step() {
    let def = provider("hurricane-electric").unwrap();
    let stub = StubServer::start(vec![he_update(".", "abuse")]).await;
    let params = def.bind(he_params(&stub.base_url())).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
        .with_values(vec![]);
    let e = engine()
        .delete_record(&def, &c, &mut Captures::default(), &MemoryTrace::default())
        .await
        .unwrap_err();
    stub.assert_done();
    let msg = e.to_string();
    assert!(
        msg.contains("step \"reset_txt\"") && msg.contains("abuse"),
        "{msg}"
    );
}

// ---------------------------------------------------------------- DuckDNS

const DD_ZONE: &str = "myhost.duckdns.org";
const DD_NAME: &str = "_acme-challenge.myhost.duckdns.org";

fn dd_params(base: &str) -> Vec<(&'static str, String)> {
    vec![("api_url", base.to_string()), ("token", SECRET.to_string())]
}

fn dd_set(answer: &str) -> Exchange {
    Exchange::new("GET", "/update")
        .query(&[
            ("domains", "myhost"),
            ("token", SECRET),
            ("txt", VALUE),
            ("verbose", "true"),
        ])
        .no_body()
        .reply_text(200, "text/plain;charset=UTF-8", answer)
}

fn dd_clear() -> Exchange {
    Exchange::new("GET", "/update")
        .query(&[
            ("domains", "myhost"),
            ("token", SECRET),
            ("txt", ""),
            ("clear", "true"),
            ("verbose", "true"),
        ])
        .no_body()
        .reply_text(200, "text/plain;charset=UTF-8", "OK\n\nUPDATED")
}

fn dd_script() -> Script {
    Script {
        id: "duckdns",
        zone: DD_ZONE,
        name: DD_NAME,
        params: dd_params,
        secret: "token",
        add: || vec![dd_set(&format!("OK\n{VALUE}\nUPDATED"))],
        delete: || vec![dd_clear()],
        remaining: vec![],
    }
}

#[tokio::test]
async fn duckdns() {
    conformance_200(dd_script()).await;
}

#[tokio::test]
async fn duckdns_ko_names_the_step() {
    let s = dd_script();
    refused(&s, vec![dd_set("KO")], "set_txt", &["KO"]).await;
}

#[tokio::test]
async fn duckdns_name_below_the_subdomain_updates_the_subdomain() {
    // *.www.myhost.duckdns.org: DuckDNS serves the one TXT of "myhost" for
    // every name below it, so the request names the subdomain only
    let def = provider("duckdns").unwrap();
    let stub = StubServer::start(vec![dd_set(&format!("OK\n{VALUE}\nNOCHANGE")), dd_clear()]).await;
    let params = def.bind(dd_params(&stub.base_url())).unwrap();
    let c = CallContext::new(
        DD_ZONE,
        "_acme-challenge.www.myhost.duckdns.org",
        VALUE,
        params,
    )
    .unwrap()
    .with_network(certmgr_dns::NetworkAccess::LOCAL);
    let trace = MemoryTrace::default();
    let mut captures = engine().add_record(&def, &c, &trace).await.unwrap();
    engine()
        .delete_record(&def, &c.with_values(vec![]), &mut captures, &trace)
        .await
        .unwrap();
    stub.assert_done();
    // the token travels in the query string: redacted there too
    let text = trace.text();
    assert!(text.contains("token=<redacted:token>"), "{text}");
    assert!(!text.contains("s3cr3t"), "{text}");
}

// ---------------------------------------------------------------- Namecheap

const NC_USER: &str = "certmgr-nc";
const NC_IP: &str = "203.0.113.7";
/// SECRET as the urlencode filter writes it.
const NC_KEY_ENC: &str = "s3cr3t-T0KEN%2Fwith%2Bchars%3D";

fn nc_params(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_url", format!("{base}/xml.response")),
        ("api_user", NC_USER.to_string()),
        ("api_key", SECRET.to_string()),
        ("client_ip", NC_IP.to_string()),
    ]
}

/// The host records of example.com before certmgr: an A, a CNAME, an MX
/// (hence EmailType="MX") and an SPF TXT, as the live API writes them.
const NC_HOSTS: &str = r#"
      <host HostId="1301841" Name="@" Type="A" Address="192.0.2.10" MXPref="10" TTL="1800" AssociatedAppTitle="" FriendlyName="" IsActive="true" IsDDNSEnabled="false" />
      <host HostId="1301842" Name="www" Type="CNAME" Address="example.com." MXPref="10" TTL="1800" AssociatedAppTitle="" FriendlyName="" IsActive="true" IsDDNSEnabled="false" />
      <host HostId="1301843" Name="@" Type="MX" Address="mail.example.com." MXPref="10" TTL="3600" AssociatedAppTitle="" FriendlyName="" IsActive="true" IsDDNSEnabled="false" />
      <host HostId="1301844" Name="@" Type="TXT" Address="v=spf1 include:spf.efwd.registrar-servers.com ~all" MXPref="10" TTL="1799" AssociatedAppTitle="" FriendlyName="" IsActive="true" IsDDNSEnabled="false" />"#;

/// The same four records as setHosts fields 1 to 4, urlencoded.
const NC_HOSTS_FORM: &str = "&HostName1=%40&RecordType1=A&Address1=192.0.2.10&MXPref1=10&TTL1=1800\
&HostName2=www&RecordType2=CNAME&Address2=example.com.&MXPref2=10&TTL2=1800\
&HostName3=%40&RecordType3=MX&Address3=mail.example.com.&MXPref3=10&TTL3=3600\
&HostName4=%40&RecordType4=TXT&Address4=v%3Dspf1%20include%3Aspf.efwd.registrar-servers.com%20~all&MXPref4=10&TTL4=1799";

fn nc_txt_host(id: u32, value: &str) -> String {
    format!(
        r#"
      <host HostId="{id}" Name="_acme-challenge.www" Type="TXT" Address="{value}" MXPref="10" TTL="60" AssociatedAppTitle="" FriendlyName="" IsActive="true" IsDDNSEnabled="false" />"#
    )
}

fn nc_get_hosts_xml(hosts: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<ApiResponse Status="OK" xmlns="http://api.namecheap.com/xml.response">
  <Errors />
  <Warnings />
  <RequestedCommand>namecheap.domains.dns.gethosts</RequestedCommand>
  <CommandResponse Type="namecheap.domains.dns.getHosts">
    <DomainDNSGetHostsResult Domain="example.com" EmailType="MX" IsUsingOurDNS="true">{hosts}
    </DomainDNSGetHostsResult>
  </CommandResponse>
  <Server>PHX01APIEXT03</Server>
  <GMTTimeDifference>--5:00</GMTTimeDifference>
  <ExecutionTime>0.077</ExecutionTime>
</ApiResponse>"#
    )
}

fn nc_error_xml(number: &str, text: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<ApiResponse Status="ERROR" xmlns="http://api.namecheap.com/xml.response">
  <Errors>
    <Error Number="{number}">{text}</Error>
  </Errors>
  <Warnings />
  <RequestedCommand />
  <Server>PHX01APIEXT03</Server>
  <GMTTimeDifference>--5:00</GMTTimeDifference>
  <ExecutionTime>0</ExecutionTime>
</ApiResponse>"#
    )
}

const NC_SET_OK: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<ApiResponse Status="OK" xmlns="http://api.namecheap.com/xml.response">
  <Errors />
  <Warnings />
  <RequestedCommand>namecheap.domains.dns.sethosts</RequestedCommand>
  <CommandResponse Type="namecheap.domains.dns.setHosts">
    <DomainDNSSetHostsResult Domain="example.com" IsSuccess="true">
      <Warnings />
    </DomainDNSSetHostsResult>
  </CommandResponse>
  <Server>PHX01APIEXT03</Server>
  <GMTTimeDifference>--5:00</GMTTimeDifference>
  <ExecutionTime>0.412</ExecutionTime>
</ApiResponse>"#;

fn nc_get_hosts(xml: String) -> Exchange {
    Exchange::new("GET", "/xml.response")
        .query(&[
            ("ApiUser", NC_USER),
            ("ApiKey", SECRET),
            ("UserName", NC_USER),
            ("Command", "namecheap.domains.dns.getHosts"),
            ("ClientIp", NC_IP),
            ("SLD", "example"),
            ("TLD", "com"),
        ])
        .no_body()
        .reply_text(200, "text/xml; charset=utf-8", &xml)
}

/// setHosts with exactly this body (`hosts` = the HostName/... fields).
fn nc_set_hosts(hosts: &str, answer: &str) -> Exchange {
    Exchange::new("POST", "/xml.response")
        .query(&[])
        .header("content-type", "application/x-www-form-urlencoded")
        .raw(&format!(
            "ApiUser={NC_USER}&ApiKey={NC_KEY_ENC}&UserName={NC_USER}\
             &Command=namecheap.domains.dns.setHosts&ClientIp={NC_IP}\
             &SLD=example&TLD=com&EmailType=MX{hosts}"
        ))
        .reply_text(200, "text/xml; charset=utf-8", answer)
}

fn nc_script() -> Script {
    Script {
        id: "namecheap",
        zone: ZONE,
        name: NAME,
        params: nc_params,
        secret: "api_key",
        add: || {
            vec![
                nc_get_hosts(nc_get_hosts_xml(NC_HOSTS)),
                nc_set_hosts(
                    &format!(
                        "{NC_HOSTS_FORM}&HostName5=_acme-challenge.www&RecordType5=TXT\
                         &Address5={VALUE}&MXPref5=10&TTL5=60"
                    ),
                    NC_SET_OK,
                ),
            ]
        },
        delete: || {
            vec![
                nc_get_hosts(nc_get_hosts_xml(&format!(
                    "{NC_HOSTS}{}",
                    nc_txt_host(1301850, VALUE)
                ))),
                nc_set_hosts(NC_HOSTS_FORM, NC_SET_OK),
            ]
        },
        remaining: vec![],
    }
}

#[tokio::test]
async fn namecheap() {
    conformance_200(nc_script()).await;
}

#[tokio::test]
async fn namecheap_status_error_on_get_hosts_names_the_step() {
    let s = nc_script();
    refused(
        &s,
        vec![nc_get_hosts(nc_error_xml(
            "1011102",
            "API Key is invalid or API access has not been enabled",
        ))],
        "get_hosts",
        &["API Key is invalid or API access has not been enabled"],
    )
    .await;
}

#[tokio::test]
async fn namecheap_status_error_on_set_hosts_names_the_step() {
    let s = nc_script();
    let mut script = (s.add)();
    let set = script.pop().unwrap();
    let set = set.reply_text(
        200,
        "text/xml; charset=utf-8",
        &nc_error_xml("2030166", "Domain is invalid"),
    );
    script.push(set);
    refused(&s, script, "set_hosts", &["Domain is invalid"]).await;
}

#[tokio::test]
async fn namecheap_second_value_on_one_name_keeps_the_first() {
    // the wildcard's value is already there: add writes both, delete of
    // VALUE writes VALUE2 back; an existing VALUE (a retried add) is not
    // written twice
    let def = provider("namecheap").unwrap();
    let with_value2 = format!("{NC_HOSTS}{}", nc_txt_host(1301849, VALUE2));
    let value2_form = format!(
        "{NC_HOSTS_FORM}&HostName5=_acme-challenge.www&RecordType5=TXT\
         &Address5={VALUE2}&MXPref5=10&TTL5=60"
    );
    let stub = StubServer::start(vec![
        nc_get_hosts(nc_get_hosts_xml(&with_value2)),
        nc_set_hosts(
            &format!(
                "{value2_form}&HostName6=_acme-challenge.www&RecordType6=TXT\
                 &Address6={VALUE}&MXPref6=10&TTL6=300"
            ),
            NC_SET_OK,
        ),
        // retried add: VALUE is already published, it is not duplicated
        nc_get_hosts(nc_get_hosts_xml(&format!(
            "{with_value2}{}",
            nc_txt_host(1301850, VALUE)
        ))),
        nc_set_hosts(
            &format!(
                "{value2_form}&HostName6=_acme-challenge.www&RecordType6=TXT\
                 &Address6={VALUE}&MXPref6=10&TTL6=300"
            ),
            NC_SET_OK,
        ),
        nc_get_hosts(nc_get_hosts_xml(&format!(
            "{with_value2}{}",
            nc_txt_host(1301850, VALUE)
        ))),
        nc_set_hosts(&value2_form, NC_SET_OK),
    ])
    .await;
    let params = def.bind(nc_params(&stub.base_url())).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
        .with_values(vec![VALUE2.into(), VALUE.into()])
        .with_ttl(300);
    let trace = MemoryTrace::default();
    engine().add_record(&def, &c, &trace).await.unwrap();
    let mut captures = engine().add_record(&def, &c, &trace).await.unwrap();
    engine()
        .delete_record(
            &def,
            &c.with_values(vec![VALUE2.into()]),
            &mut captures,
            &trace,
        )
        .await
        .unwrap();
    stub.assert_done();
    let text = trace.text();
    assert!(!text.contains("s3cr3t"), "{text}");
}

#[tokio::test]
async fn namecheap_documented_host_element_and_apex_record() {
    // the documentation's example spells the element <Host>; a record on the
    // zone apex is HostName "@"
    let def = provider("namecheap").unwrap();
    let doc_hosts = r#"
      <Host HostId="12" Name="@" Type="A" Address="1.2.3.4" MXPref="10" TTL="1800" />
      <Host HostId="14" Name="www" Type="A" Address="122.23.3.7" MXPref="10" TTL="1800" />"#;
    let stub = StubServer::start(vec![
        nc_get_hosts(nc_get_hosts_xml(doc_hosts)),
        nc_set_hosts(
            &format!(
                "&HostName1=%40&RecordType1=A&Address1=1.2.3.4&MXPref1=10&TTL1=1800\
                 &HostName2=www&RecordType2=A&Address2=122.23.3.7&MXPref2=10&TTL2=1800\
                 &HostName3=%40&RecordType3=TXT&Address3={VALUE}&MXPref3=10&TTL3=60"
            ),
            NC_SET_OK,
        ),
    ])
    .await;
    let params = def.bind(nc_params(&stub.base_url())).unwrap();
    let c = CallContext::new(ZONE, ZONE, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL);
    engine()
        .add_record(&def, &c, &MemoryTrace::default())
        .await
        .unwrap();
    stub.assert_done();
}

#[tokio::test]
async fn namecheap_empty_host_list() {
    // a domain without any host record: the TXT becomes host 1, and delete
    // writes an empty list back
    let def = provider("namecheap").unwrap();
    let empty = r#"<?xml version="1.0" encoding="utf-8"?>
<ApiResponse Status="OK" xmlns="http://api.namecheap.com/xml.response">
  <Errors />
  <Warnings />
  <RequestedCommand>namecheap.domains.dns.gethosts</RequestedCommand>
  <CommandResponse Type="namecheap.domains.dns.getHosts">
    <DomainDNSGetHostsResult Domain="example.com" EmailType="" IsUsingOurDNS="true" />
  </CommandResponse>
  <Server>PHX01APIEXT03</Server>
  <GMTTimeDifference>--5:00</GMTTimeDifference>
  <ExecutionTime>0.051</ExecutionTime>
</ApiResponse>"#;
    let set = |hosts: &str| {
        Exchange::new("POST", "/xml.response")
            .header("content-type", "application/x-www-form-urlencoded")
            .raw(&format!(
                "ApiUser={NC_USER}&ApiKey={NC_KEY_ENC}&UserName={NC_USER}\
                 &Command=namecheap.domains.dns.setHosts&ClientIp={NC_IP}\
                 &SLD=example&TLD=com{hosts}"
            ))
            .reply_text(200, "text/xml; charset=utf-8", NC_SET_OK)
    };
    let stub = StubServer::start(vec![
        nc_get_hosts(empty.to_string()),
        set(&format!(
            "&HostName1=_acme-challenge.www&RecordType1=TXT&Address1={VALUE}&MXPref1=10&TTL1=60"
        )),
        nc_get_hosts(
            nc_get_hosts_xml(&nc_txt_host(1301850, VALUE))
                .replace("EmailType=\"MX\"", "EmailType=\"\""),
        ),
        set(""),
    ])
    .await;
    let params = def.bind(nc_params(&stub.base_url())).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL);
    let mut captures = engine()
        .add_record(&def, &c, &MemoryTrace::default())
        .await
        .unwrap();
    engine()
        .delete_record(
            &def,
            &c.with_values(vec![]),
            &mut captures,
            &MemoryTrace::default(),
        )
        .await
        .unwrap();
    stub.assert_done();
}

// ---------------------------------------------------------------- Njalla

const NJ_RECORD: &str = "5734301";

fn nj_params(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_url", format!("{base}/api/1/")),
        ("api_token", SECRET.to_string()),
    ]
}

fn nj_call(body: Value, answer: Value) -> Exchange {
    Exchange::new("POST", "/api/1/")
        .header("authorization", &format!("Njalla {SECRET}"))
        .header("content-type", "application/json")
        .json(body)
        .reply(200, Some(answer))
}

fn nj_txt(id: &str, content: &str) -> Value {
    json!({"id": id, "name": "_acme-challenge.www", "type": "TXT", "content": content, "ttl": 60})
}

fn nj_list(records: Value) -> Exchange {
    let mut all = vec![
        json!({"id": "5730017", "name": "@", "type": "A", "content": "192.0.2.10", "ttl": 3600}),
        json!({"id": "5730018", "name": "www", "type": "CNAME", "content": "example.com.", "ttl": 3600}),
    ];
    all.extend(records.as_array().cloned().unwrap_or_default());
    nj_call(
        json!({"method": "list-records", "params": {"domain": "example.com"}}),
        json!({"jsonrpc": "2.0", "result": {"records": all}}),
    )
}

fn nj_add(ttl: u32) -> Exchange {
    nj_call(
        json!({"method": "add-record", "params": {"domain": "example.com", "name": "_acme-challenge.www",
               "type": "TXT", "content": VALUE, "ttl": ttl}}),
        json!({"jsonrpc": "2.0", "result": {"id": NJ_RECORD, "name": "_acme-challenge.www", "type": "TXT",
               "content": VALUE, "ttl": ttl}}),
    )
}

fn nj_remove() -> Exchange {
    nj_call(
        json!({"method": "remove-record", "params": {"domain": "example.com", "id": NJ_RECORD}}),
        json!({"jsonrpc": "2.0", "result": {}}),
    )
}

fn nj_script() -> Script {
    Script {
        id: "njalla",
        zone: ZONE,
        name: NAME,
        params: nj_params,
        secret: "api_token",
        add: || {
            vec![
                nj_list(json!([nj_txt("5733990", "stale-value")])),
                nj_add(60),
            ]
        },
        delete: || vec![nj_remove()],
        remaining: vec![],
    }
}

#[tokio::test]
async fn njalla() {
    conformance_200(nj_script()).await;
}

#[tokio::test]
async fn njalla_error_object_with_200_names_the_step() {
    let s = nj_script();
    refused(
        &s,
        vec![nj_list(json!([])).reply(
            200,
            Some(json!({"jsonrpc": "2.0", "error": {"code": 403, "message": "Invalid token."}})),
        )],
        "find_record",
        &["Invalid token."],
    )
    .await;
}

#[tokio::test]
async fn njalla_add_refused_names_the_step() {
    let s = nj_script();
    refused(
        &s,
        vec![
            nj_list(json!([])),
            nj_add(60).reply(
                200,
                Some(json!({"jsonrpc": "2.0", "error": {"code": 400, "message": "Permission denied."}})),
            ),
        ],
        "add_record",
        &["Permission denied."],
    )
    .await;
}

#[tokio::test]
async fn njalla_delete_without_captures_finds_the_record() {
    let def = provider("njalla").unwrap();
    let stub = StubServer::start(vec![
        nj_list(json!([nj_txt("5734299", VALUE2), nj_txt(NJ_RECORD, VALUE)])),
        nj_remove(),
    ])
    .await;
    let params = def.bind(nj_params(&stub.base_url())).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
        .with_values(vec![VALUE2.into()]);
    let mut captures = Captures::default();
    engine()
        .delete_record(&def, &c, &mut captures, &MemoryTrace::default())
        .await
        .unwrap();
    assert_eq!(captures.get("record_id"), Some(NJ_RECORD));
    stub.assert_done();
}

#[tokio::test]
async fn njalla_ttl_is_rounded_up_to_an_accepted_value() {
    let def = provider("njalla").unwrap();
    for (asked, sent) in [(120, 300), (900, 900), (4000, 10800), (200_000, 86400)] {
        let stub = StubServer::start(vec![nj_list(json!([])), nj_add(sent)]).await;
        let params = def.bind(nj_params(&stub.base_url())).unwrap();
        let c = CallContext::new(ZONE, NAME, VALUE, params)
            .unwrap()
            .with_network(certmgr_dns::NetworkAccess::LOCAL)
            .with_ttl(asked);
        let captures = engine()
            .add_record(&def, &c, &MemoryTrace::default())
            .await
            .unwrap();
        assert_eq!(captures.get("record_id"), Some(NJ_RECORD));
        stub.assert_done();
    }
}
