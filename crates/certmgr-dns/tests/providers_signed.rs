//! Providers whose requests are signed (Route 53 with AWS SigV4, OVHcloud,
//! Exoscale) against a stub of their documented APIs: exact requests at a
//! fixed time, signatures recomputed independently with the `openssl` command,
//! realistic answers (XML for Route 53), asynchronous changes polled, error
//! answers, 5xx retries, and no secret in traces or errors.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use certmgr_testkit::stub::Received;

// ---------------------------------------------------------------- shared

/// The fixed clock of these tests: 2023-11-14T22:13:20Z.
const NOW: u64 = 1_700_000_000;

fn fixed_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

fn signed_engine() -> Engine {
    engine().with_fixed_time(fixed_time())
}

fn fast_signed_engine() -> Engine {
    fast_engine().with_fixed_time(fixed_time())
}

/// Runs `openssl ARGS` with `input` on stdin and returns its stdout.
fn openssl(args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the openssl command");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(data: &[u8]) -> Vec<u8> {
    openssl(&["dgst", "-sha256", "-binary"], data)
}

fn sha1_hex(data: &[u8]) -> String {
    hex(&openssl(&["dgst", "-sha1", "-binary"], data))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let key = format!("hexkey:{}", hex(key));
    openssl(
        &[
            "dgst", "-sha256", "-mac", "HMAC", "-macopt", &key, "-binary",
        ],
        data,
    )
}

fn base64(data: &[u8]) -> String {
    String::from_utf8(openssl(&["base64", "-A"], data))
        .unwrap()
        .trim()
        .to_string()
}

fn header<'a>(req: &'a Received, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A conformance script for a signing provider, run at the fixed time.
struct SignedCase {
    id: &'static str,
    /// Parameters, given the stub's base URL.
    params: fn(&str) -> Vec<(&'static str, String)>,
    /// Secret values that must appear neither in the trace nor in an error.
    secrets: Vec<&'static str>,
    /// Secret parameters sent as they are (in a header): the trace shows them redacted.
    shown_redacted: Vec<&'static str>,
    add: fn() -> Vec<Exchange>,
    /// Delete, after add (captures from add).
    delete: fn() -> Vec<Exchange>,
    /// Values remaining after delete.
    remaining: Vec<String>,
    /// Step of the first add request.
    first_step: &'static str,
    /// The provider's documented error answer, given to the first add request.
    error: fn(Exchange) -> Exchange,
    error_status: u16,
    /// Text of the error answer the failure must quote.
    error_text: &'static str,
    /// Checks the signature of every request received, given the base URL.
    verify: fn(&str, &[Received]),
}

fn signed_ctx(case: &SignedCase, base: &str, remaining: Option<Vec<String>>) -> CallContext {
    let def = provider(case.id).unwrap();
    let params = def.bind((case.params)(base)).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL);
    match remaining {
        Some(v) => c.with_values(v),
        None => c,
    }
}

/// No secret in `text`; with `trace`, the secrets sent as they are show redacted.
fn check_secrets(case: &SignedCase, text: &str, trace: bool) {
    for s in &case.secrets {
        assert!(!text.contains(s), "secret {s:?} in:\n{text}");
    }
    assert!(!text.contains("s3cr3t"), "secret fragment in:\n{text}");
    for name in case.shown_redacted.iter().filter(|_| trace) {
        assert!(
            text.contains(&format!("<redacted:{name}>")),
            "no <redacted:{name}> in:\n{text}"
        );
    }
}

async fn signed_conformance(case: SignedCase) {
    let def = provider(case.id).unwrap();

    // add then delete, exact requests, every signature recomputed
    let stub = StubServer::start([(case.add)(), (case.delete)()].concat()).await;
    let base = stub.base_url();
    let trace = MemoryTrace::default();
    let c = signed_ctx(&case, &base, None);
    let mut captures = signed_engine().add_record(&def, &c, &trace).await.unwrap();
    let c = signed_ctx(&case, &base, Some(case.remaining.clone()));
    signed_engine()
        .delete_record(&def, &c, &mut captures, &trace)
        .await
        .unwrap();
    stub.assert_done();
    let received = stub.received();
    assert_eq!(received.len(), (case.add)().len() + (case.delete)().len());
    (case.verify)(&base, &received);
    check_secrets(&case, &trace.text(), true);

    // a 5xx is retried, signed again
    let mut script = (case.add)();
    let first = script[0]
        .clone()
        .reply(503, Some(json!({"message": "Service Unavailable"})));
    script.insert(0, first);
    let stub = StubServer::start(script).await;
    let base = stub.base_url();
    let trace = MemoryTrace::default();
    let c = signed_ctx(&case, &base, None);
    signed_engine().add_record(&def, &c, &trace).await.unwrap();
    stub.assert_done();
    (case.verify)(&base, &stub.received());
    assert!(trace.text().contains("< 503"), "{}", trace.text());
    check_secrets(&case, &trace.text(), true);

    // three 5xx: gives up with the status
    let first = (case.add)()[0]
        .clone()
        .reply(502, Some(json!({"message": "Bad Gateway"})));
    let stub = StubServer::start(vec![first.clone(), first.clone(), first]).await;
    let c = signed_ctx(&case, &stub.base_url(), None);
    let e = fast_signed_engine()
        .add_record(&def, &c, &MemoryTrace::default())
        .await
        .unwrap_err();
    stub.assert_done();
    assert!(e.to_string().contains("HTTP 502"), "{e}");
    assert!(e.to_string().contains("after 3 attempt(s)"), "{e}");

    // the documented error answer: not retried, named step, status and body
    let first = (case.error)((case.add)()[0].clone());
    let stub = StubServer::start(vec![first]).await;
    let trace = MemoryTrace::default();
    let c = signed_ctx(&case, &stub.base_url(), None);
    let e = signed_engine()
        .add_record(&def, &c, &trace)
        .await
        .unwrap_err();
    stub.assert_done();
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("step {:?}", case.first_step))
            && msg.contains(&format!("HTTP {}", case.error_status))
            && msg.contains("after 1 attempt(s)")
            && msg.contains(case.error_text),
        "{msg}"
    );
    assert!(!msg.contains('\n'), "{msg}");
    check_secrets(&case, &msg, false);
    check_secrets(&case, &trace.text(), true);
}

// ---------------------------------------------------------------- Route 53

const AWS_KEY_ID: &str = "AKIDEXAMPLE";
const AWS_SESSION: &str = "s3cr3t-IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH=";
const AMZ_DATE: &str = "20231114T221320Z";
const R53_ZONE_ID: &str = "Z1D633PJN98FT9";
const R53_CHANGE_ID: &str = "C2682N5HXP0BZ4";
const R53_NS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";

fn r53_params(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_url", base.to_string()),
        ("access_key_id", AWS_KEY_ID.to_string()),
        ("secret_access_key", SECRET.to_string()),
        ("session_token", AWS_SESSION.to_string()),
    ]
}

/// Headers every Route 53 request carries at the fixed time.
fn r53_signed(ex: Exchange, with_token: bool) -> Exchange {
    let ex = ex.header("x-amz-date", AMZ_DATE).header_prefix(
        "authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/route53/aws4_request, SignedHeaders=",
    );
    if with_token {
        ex.header("x-amz-security-token", AWS_SESSION)
    } else {
        ex
    }
}

fn r53_zones_xml(name: &str, private: bool) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ListHostedZonesByNameResponse xmlns="{R53_NS}">
   <HostedZones>
      <HostedZone>
         <Id>/hostedzone/{R53_ZONE_ID}</Id>
         <Name>{name}</Name>
         <CallerReference>2023-01-05T10:12:33.071Z</CallerReference>
         <Config>
            <Comment>managed by certmgr tests</Comment>
            <PrivateZone>{private}</PrivateZone>
         </Config>
         <ResourceRecordSetCount>7</ResourceRecordSetCount>
      </HostedZone>
   </HostedZones>
   <DNSName>example.com</DNSName>
   <IsTruncated>true</IsTruncated>
   <NextDNSName>example.net.</NextDNSName>
   <NextHostedZoneId>Z3M3LMPEXAMPLE</NextHostedZoneId>
   <MaxItems>1</MaxItems>
</ListHostedZonesByNameResponse>"#
    )
}

fn r53_zones(with_token: bool, name: &str, private: bool) -> Exchange {
    r53_signed(
        Exchange::new("GET", "/2013-04-01/hostedzonesbyname")
            .query(&[("dnsname", "example.com"), ("maxitems", "1")])
            .no_body(),
        with_token,
    )
    .reply_text(200, "text/xml", &r53_zones_xml(name, private))
}

/// The ChangeResourceRecordSetsRequest the definition must send.
fn r53_change_body(action: &str, values: &[&str], ttl: u32) -> String {
    let records: String = values
        .iter()
        .map(|v| format!("<ResourceRecord><Value>\"{v}\"</Value></ResourceRecord>"))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ChangeResourceRecordSetsRequest xmlns=\"{R53_NS}\"><ChangeBatch><Changes><Change><Action>{action}</Action><ResourceRecordSet><Name>{NAME}.</Name><Type>TXT</Type><TTL>{ttl}</TTL><ResourceRecords>{records}</ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>"
    )
}

fn r53_change_info(root: &str, status: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<{root} xmlns="{R53_NS}">
   <ChangeInfo>
      <Id>/change/{R53_CHANGE_ID}</Id>
      <Status>{status}</Status>
      <SubmittedAt>2023-11-14T22:13:20.958Z</SubmittedAt>
   </ChangeInfo>
</{root}>"#
    )
}

fn r53_post(with_token: bool, action: &str, values: &[&str]) -> Exchange {
    r53_signed(
        Exchange::new(
            "POST",
            &format!("/2013-04-01/hostedzone/{R53_ZONE_ID}/rrset"),
        )
        .query(&[])
        .header("content-type", "text/xml")
        .raw(&r53_change_body(action, values, 60)),
        with_token,
    )
    .reply_text(
        200,
        "text/xml",
        &r53_change_info("ChangeResourceRecordSetsResponse", "PENDING"),
    )
}

fn r53_get_change(with_token: bool, status: &str) -> Exchange {
    r53_signed(
        Exchange::new("GET", &format!("/2013-04-01/change/{R53_CHANGE_ID}"))
            .query(&[])
            .no_body(),
        with_token,
    )
    .reply_text(
        200,
        "text/xml",
        &r53_change_info("GetChangeResponse", status),
    )
}

/// AWS URI encoding: unreserved characters kept, everything else %XX.
fn aws_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The SigV4 signature, computed here from the AWS documentation with openssl.
#[allow(clippy::too_many_arguments)]
fn sigv4(
    secret: &str,
    amz_date: &str,
    region: &str,
    service: &str,
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &[(&str, String)],
    body: &[u8],
) -> String {
    let mut q: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (aws_encode(k), aws_encode(v)))
        .collect();
    q.sort();
    let canonical_query = q
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut h: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    h.sort();
    let canonical_headers: String = h.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = h
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{method}\n{path}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{}",
        hex(&sha256(body))
    );
    let date = &amz_date[..8];
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&sha256(canonical_request.as_bytes()))
    );
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"aws4_request");
    hex(&hmac_sha256(&k_signing, string_to_sign.as_bytes()))
}

#[test]
fn sigv4_helper_matches_the_aws_test_suite() {
    // aws-sig-v4-test-suite "get-vanilla"
    let sig = sigv4(
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "20150830T123600Z",
        "us-east-1",
        "service",
        "GET",
        "/",
        &[],
        &[
            ("host", "example.amazonaws.com".to_string()),
            ("x-amz-date", "20150830T123600Z".to_string()),
        ],
        b"",
    );
    assert_eq!(
        sig,
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
}

/// Recomputes the SigV4 signature of every Route 53 request received.
fn r53_verify_with(base: &str, received: &[Received], token: Option<&str>) {
    let host = base.trim_start_matches("http://").to_string();
    for req in received {
        let auth = header(req, "authorization").expect("authorization header");
        let rest = auth
            .strip_prefix(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/route53/aws4_request, SignedHeaders=",
            )
            .unwrap_or_else(|| panic!("authorization: {auth}"));
        let (signed, signature) = rest.split_once(", Signature=").expect(auth);
        let mut want: Vec<&str> = vec!["host", "x-amz-date"];
        if !req.body.is_empty() {
            want.push("content-type");
        }
        want.sort_unstable();
        let without_token = want.join(";");
        want.push("x-amz-security-token");
        want.sort_unstable();
        let with_token = want.join(";");
        assert!(
            signed == without_token || (token.is_some() && signed == with_token),
            "{} {}: SignedHeaders={signed}",
            req.method,
            req.path
        );
        match token {
            Some(t) => assert_eq!(header(req, "x-amz-security-token"), Some(t)),
            None => assert_eq!(header(req, "x-amz-security-token"), None),
        }
        let headers: Vec<(&str, String)> = signed
            .split(';')
            .map(|name| {
                let v = match name {
                    "host" => host.clone(),
                    "x-amz-date" => AMZ_DATE.to_string(),
                    "content-type" => "text/xml".to_string(),
                    "x-amz-security-token" => token.unwrap().to_string(),
                    other => panic!("unexpected signed header {other}"),
                };
                (name, v)
            })
            .collect();
        let expected = sigv4(
            SECRET,
            AMZ_DATE,
            "us-east-1",
            "route53",
            &req.method,
            &req.path,
            &req.query,
            &headers,
            req.body.as_bytes(),
        );
        assert_eq!(signature, expected, "{} {}", req.method, req.path);
    }
}

fn r53_verify(base: &str, received: &[Received]) {
    r53_verify_with(base, received, Some(AWS_SESSION));
}

fn r53_error_xml(code: &str, message: &str) -> String {
    format!(
        r#"<?xml version="1.0"?>
<ErrorResponse xmlns="{R53_NS}">
  <Error>
    <Type>Sender</Type>
    <Code>{code}</Code>
    <Message>{message}</Message>
  </Error>
  <RequestId>9a2b6bf1-8b3c-4e2a-a1b2-5c9d0e7f1a2b</RequestId>
</ErrorResponse>"#
    )
}

#[tokio::test]
async fn route53() {
    signed_conformance(SignedCase {
        id: "route53",
        params: r53_params,
        secrets: vec![SECRET, AWS_SESSION],
        shown_redacted: vec!["session_token"],
        add: || {
            vec![
                r53_zones(true, "example.com.", false),
                r53_post(true, "UPSERT", &[VALUE]),
                r53_get_change(true, "INSYNC"),
            ]
        },
        delete: || vec![r53_post(true, "DELETE", &[VALUE])],
        remaining: vec![],
        first_step: "find_hosted_zone",
        error: |ex| {
            ex.reply_text(
                403,
                "text/xml",
                &r53_error_xml(
                    "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
                ),
            )
        },
        error_status: 403,
        error_text: "SignatureDoesNotMatch",
        verify: r53_verify,
    })
    .await;
}

/// Two values on one name (wildcard + base): the UPSERT carries both; the
/// change is polled until INSYNC; a configured hosted zone id skips the
/// lookup; no session token, no x-amz-security-token.
#[tokio::test]
async fn route53_upserts_every_value_and_waits_for_insync() {
    let def = provider("route53").unwrap();
    let stub = StubServer::start(vec![
        r53_post(false, "UPSERT", &[VALUE2, VALUE]),
        r53_get_change(false, "PENDING"),
        r53_get_change(false, "INSYNC"),
    ])
    .await;
    let base = stub.base_url();
    let params = def
        .bind([
            ("api_url", base.clone()),
            ("access_key_id", AWS_KEY_ID.to_string()),
            ("secret_access_key", SECRET.to_string()),
            ("hosted_zone_id", format!("/hostedzone/{R53_ZONE_ID}")),
        ])
        .unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
        .with_values(vec![VALUE2.into(), VALUE.into()]);
    let trace = MemoryTrace::default();
    let captures = signed_engine().add_record(&def, &c, &trace).await.unwrap();
    stub.assert_done();
    r53_verify_with(&base, &stub.received(), None);
    assert_eq!(
        captures.get("change_id"),
        Some(format!("/change/{R53_CHANGE_ID}").as_str())
    );
    assert_eq!(captures.get("zone_id"), None);
    let text = trace.text();
    assert!(text.contains("[find_hosted_zone] skipped"), "{text}");
    assert!(!text.contains(SECRET) && !text.contains("s3cr3t"), "{text}");
}

/// Delete with the captures lost while another value stays on the name:
/// the zone is looked up again and the RRset upserted with what remains.
#[tokio::test]
async fn route53_delete_keeps_other_values_after_lost_captures() {
    let def = provider("route53").unwrap();
    let stub = StubServer::start(vec![
        r53_zones(true, "example.com.", false),
        r53_post(true, "UPSERT", &[VALUE2]),
    ])
    .await;
    let base = stub.base_url();
    let params = def.bind(r53_params(&base)).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
        .with_values(vec![VALUE2.into()]);
    let mut captures = Captures::default();
    signed_engine()
        .delete_record(&def, &c, &mut captures, &MemoryTrace::default())
        .await
        .unwrap();
    stub.assert_done();
    r53_verify(&base, &stub.received());
}

/// hostedzonesbyname lists zones from the name on: the first one may be
/// another zone (example.com is not in the account) or a private zone.
#[tokio::test]
async fn route53_refuses_another_or_a_private_zone() {
    let def = provider("route53").unwrap();
    for (name, private) in [("example.com.au.", false), ("example.com.", true)] {
        let stub = StubServer::start(vec![r53_zones(true, name, private)]).await;
        let params = def.bind(r53_params(&stub.base_url())).unwrap();
        let c = CallContext::new(ZONE, NAME, VALUE, params)
            .unwrap()
            .with_network(certmgr_dns::NetworkAccess::LOCAL);
        let e = signed_engine()
            .add_record(&def, &c, &MemoryTrace::default())
            .await
            .unwrap_err();
        stub.assert_done();
        let msg = e.to_string();
        assert!(
            msg.contains("find_hosted_zone") && msg.contains("zone_id"),
            "{name} private={private}: {msg}"
        );
    }
}

// ---------------------------------------------------------------- OVHcloud

const OVH_AK: &str = "7kbG7Bk7S9Nt7ZSV";
const OVH_CK: &str = "s3cr3t-MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1";
const OVH_RECORD: u64 = 5_113_478_557;

fn ovh_params(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_url", format!("{base}/1.0")),
        ("application_key", OVH_AK.to_string()),
        ("application_secret", SECRET.to_string()),
        ("consumer_key", OVH_CK.to_string()),
    ]
}

fn ovh_signed(ex: Exchange) -> Exchange {
    ex.header("x-ovh-application", OVH_AK)
        .header("x-ovh-consumer", OVH_CK)
        .header("x-ovh-timestamp", &NOW.to_string())
        .header_prefix("x-ovh-signature", "$1$")
}

fn ovh_list(ids: Value) -> Exchange {
    ovh_signed(
        Exchange::new("GET", "/1.0/domain/zone/example.com/record")
            .query(&[("fieldType", "TXT"), ("subDomain", "_acme-challenge.www")])
            .no_body(),
    )
    .reply(200, Some(ids))
}

fn ovh_get(id: u64, target: &str) -> Exchange {
    ovh_signed(
        Exchange::new("GET", &format!("/1.0/domain/zone/example.com/record/{id}"))
            .query(&[])
            .no_body(),
    )
    .reply(
        200,
        Some(
            json!({"id": id, "zone": "example.com", "subDomain": "_acme-challenge.www",
                    "fieldType": "TXT", "target": target, "ttl": 60}),
        ),
    )
}

fn ovh_create() -> Exchange {
    ovh_signed(
        Exchange::new("POST", "/1.0/domain/zone/example.com/record")
            .query(&[])
            .json(json!({"fieldType": "TXT", "subDomain": "_acme-challenge.www", "target": VALUE, "ttl": 60})),
    )
    .reply(
        200,
        Some(json!({"id": OVH_RECORD, "zone": "example.com", "subDomain": "_acme-challenge.www",
                    "fieldType": "TXT", "target": format!("\"{VALUE}\""), "ttl": 60})),
    )
}

fn ovh_refresh() -> Exchange {
    ovh_signed(
        Exchange::new("POST", "/1.0/domain/zone/example.com/refresh")
            .query(&[])
            .no_body(),
    )
    .reply(200, Some(Value::Null))
}

fn ovh_delete(id: u64) -> Exchange {
    ovh_signed(
        Exchange::new(
            "DELETE",
            &format!("/1.0/domain/zone/example.com/record/{id}"),
        )
        .query(&[])
        .no_body(),
    )
    .reply(200, Some(Value::Null))
}

/// Recomputes X-Ovh-Signature: "$1$" + SHA1_HEX(AS+"+"+CK+"+"+METHOD+"+"+URL+"+"+BODY+"+"+TSTAMP).
fn ovh_verify(base: &str, received: &[Received]) {
    for req in received {
        let query = req
            .query
            .iter()
            .map(|(k, v)| {
                assert!(
                    v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b)),
                    "{v}"
                );
                format!("{k}={v}")
            })
            .collect::<Vec<_>>()
            .join("&");
        let url = if query.is_empty() {
            format!("{base}{}", req.path)
        } else {
            format!("{base}{}?{query}", req.path)
        };
        let to_sign = format!("{SECRET}+{OVH_CK}+{}+{url}+{}+{NOW}", req.method, req.body);
        let expected = format!("$1${}", sha1_hex(to_sign.as_bytes()));
        assert_eq!(
            header(req, "x-ovh-signature"),
            Some(expected.as_str()),
            "{} {url}",
            req.method
        );
    }
}

#[tokio::test]
async fn ovh() {
    signed_conformance(SignedCase {
        id: "ovh",
        params: ovh_params,
        secrets: vec![SECRET, OVH_CK],
        shown_redacted: vec!["consumer_key"],
        add: || vec![ovh_list(json!([])), ovh_create(), ovh_refresh()],
        delete: || vec![ovh_delete(OVH_RECORD), ovh_refresh()],
        remaining: vec![],
        first_step: "list_records",
        error: |ex| {
            ex.reply(
                403,
                Some(
                    json!({"errorCode": "INVALID_CREDENTIAL", "httpCode": "403 Forbidden",
                            "message": "This credential is not valid"}),
                ),
            )
        },
        error_status: 403,
        error_text: "INVALID_CREDENTIAL",
        verify: ovh_verify,
    })
    .await;
}

/// A delete whose captures were lost: the TXT records of the name are listed
/// (ids only) and fetched one by one until the target is this value.
#[tokio::test]
async fn ovh_delete_without_captures_checks_each_record() {
    let def = provider("ovh").unwrap();
    let stub = StubServer::start(vec![
        ovh_list(json!([5_113_478_001_u64, 5_113_478_002_u64])),
        ovh_get(5_113_478_001, &format!("\"{VALUE2}\"")),
        ovh_get(5_113_478_002, &format!("\"{VALUE}\"")),
        ovh_delete(5_113_478_002),
        ovh_refresh(),
    ])
    .await;
    let base = stub.base_url();
    let params = def.bind(ovh_params(&base)).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
        .with_values(vec![VALUE2.into()]);
    let mut captures = Captures::default();
    signed_engine()
        .delete_record(&def, &c, &mut captures, &MemoryTrace::default())
        .await
        .unwrap();
    stub.assert_done();
    ovh_verify(&base, &stub.received());
}

/// An add retried after a crash finds its record (target unquoted) instead of
/// creating a second one, and the delete that follows removes that record.
#[tokio::test]
async fn ovh_add_again_reuses_the_existing_record() {
    let def = provider("ovh").unwrap();
    let stub = StubServer::start(vec![
        ovh_list(json!([5_113_478_003_u64])),
        ovh_get(5_113_478_003, VALUE),
        ovh_refresh(),
        ovh_delete(5_113_478_003),
        ovh_refresh(),
    ])
    .await;
    let base = stub.base_url();
    let ctx = || {
        CallContext::new(ZONE, NAME, VALUE, def.bind(ovh_params(&base)).unwrap())
            .unwrap()
            .with_network(certmgr_dns::NetworkAccess::LOCAL)
    };
    let trace = MemoryTrace::default();
    let mut captures = signed_engine()
        .add_record(&def, &ctx(), &trace)
        .await
        .unwrap();
    assert!(
        trace.text().contains("[create_record] skipped"),
        "{}",
        trace.text()
    );
    signed_engine()
        .delete_record(&def, &ctx().with_values(vec![]), &mut captures, &trace)
        .await
        .unwrap();
    stub.assert_done();
    ovh_verify(&base, &stub.received());
}

// ---------------------------------------------------------------- Exoscale

const EXO_KEY: &str = "EXO29147e9f89102b7ac1e88514";
const EXO_EXPIRES: u64 = NOW + 600;
const EXO_DOMAIN: &str = "0fa2c8b8-1b7a-4e43-9c8a-7f2b1d3e4a55";
const EXO_RECORD: &str = "8f9b6a3c-2d4e-4f1a-b5c6-d7e8f9a0b1c2";
const EXO_OP: &str = "e2047130-b86e-11ed-afa1-0242ac120002";

fn exo_params(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_url", format!("{base}/v2")),
        ("api_key", EXO_KEY.to_string()),
        ("api_secret", SECRET.to_string()),
    ]
}

/// The Authorization header of Exoscale's documentation, computed here:
/// message = "METHOD PATH\nBODY\nQUERY VALUES\nHEADER VALUES\nEXPIRES".
fn exo_authorization(method: &str, path: &str, body: &str) -> String {
    let message = format!("{method} {path}\n{body}\n\n\n{EXO_EXPIRES}");
    let signature = base64(&hmac_sha256(SECRET.as_bytes(), message.as_bytes()));
    format!("EXO2-HMAC-SHA256 credential={EXO_KEY},expires={EXO_EXPIRES},signature={signature}")
}

/// A bodyless request: its whole Authorization header is known in advance.
fn exo_bodyless(method: &str, path: &str) -> Exchange {
    Exchange::new(method, path)
        .query(&[])
        .no_body()
        .header("authorization", &exo_authorization(method, path, ""))
}

fn exo_domains() -> Exchange {
    exo_bodyless("GET", "/v2/dns-domain").reply(
        200,
        Some(json!({"dns-domains": [
            {"id": "5e0b1b4a-0c8e-4f73-8f8e-1d2f3a4b5c6d", "created-at": "2022-03-01T09:30:00Z", "unicode-name": "example.org"},
            {"id": EXO_DOMAIN, "created-at": "2022-03-01T09:31:00Z", "unicode-name": "example.com"}
        ]})),
    )
}

fn exo_records(records: Value) -> Exchange {
    exo_bodyless("GET", &format!("/v2/dns-domain/{EXO_DOMAIN}/record"))
        .reply(200, Some(json!({"dns-domain-records": records})))
}

fn exo_system_records() -> Vec<Value> {
    vec![
        json!({"id": "11111111-2222-4333-8444-555555555555", "name": "", "type": "SOA",
               "content": "ns1.exoscale.ch admin.dnsimple.com 1699990000 86400 7200 604800 300",
               "ttl": 3600, "priority": 0, "system-record": true,
               "created-at": "2022-03-01T09:31:00Z", "updated-at": "2022-03-01T09:31:00Z"}),
        json!({"id": "11111111-2222-4333-8444-666666666666", "name": "", "type": "NS",
               "content": "ns1.exoscale.ch", "ttl": 3600, "priority": 0, "system-record": true,
               "created-at": "2022-03-01T09:31:00Z", "updated-at": "2022-03-01T09:31:00Z"}),
    ]
}

fn exo_operation(state: &str) -> Value {
    json!({"id": EXO_OP, "state": state,
           "reference": {"id": EXO_RECORD, "link": format!("/v2/dns-domain/{EXO_DOMAIN}/record/{EXO_RECORD}"),
                         "command": "get-dns-domain-record"}})
}

fn exo_create() -> Exchange {
    Exchange::new("POST", &format!("/v2/dns-domain/{EXO_DOMAIN}/record"))
        .query(&[])
        .header("content-type", "application/json")
        .header_prefix(
            "authorization",
            &format!("EXO2-HMAC-SHA256 credential={EXO_KEY},expires={EXO_EXPIRES},signature="),
        )
        .json(json!({"name": "_acme-challenge.www", "type": "TXT", "content": VALUE, "ttl": 60}))
        .reply(200, Some(exo_operation("pending")))
}

fn exo_poll(state: &str) -> Exchange {
    exo_bodyless("GET", &format!("/v2/operation/{EXO_OP}")).reply(200, Some(exo_operation(state)))
}

fn exo_delete() -> Exchange {
    exo_bodyless(
        "DELETE",
        &format!("/v2/dns-domain/{EXO_DOMAIN}/record/{EXO_RECORD}"),
    )
    .reply(
        200,
        Some(json!({"id": "f3c1e0a2-b86e-11ed-afa1-0242ac120002", "state": "success",
                    "reference": {"id": EXO_RECORD, "command": "get-dns-domain-record",
                                  "link": format!("/v2/dns-domain/{EXO_DOMAIN}/record/{EXO_RECORD}")}})),
    )
}

/// Recomputes the Authorization header of every request received (the POST
/// signs the body as sent).
fn exo_verify(_base: &str, received: &[Received]) {
    for req in received {
        assert!(req.query.is_empty(), "{:?}", req.query);
        assert_eq!(
            header(req, "authorization"),
            Some(exo_authorization(&req.method, &req.path, &req.body).as_str()),
            "{} {}",
            req.method,
            req.path
        );
    }
}

#[tokio::test]
async fn exoscale() {
    signed_conformance(SignedCase {
        id: "exoscale",
        params: exo_params,
        secrets: vec![SECRET],
        shown_redacted: vec![],
        add: || {
            vec![
                exo_domains(),
                exo_records(json!(exo_system_records())),
                exo_create(),
                exo_poll("success"),
            ]
        },
        delete: || vec![exo_delete()],
        remaining: vec![],
        first_step: "find_domain",
        error: |ex| ex.reply(403, Some(json!({"message": "Invalid request signature"}))),
        error_status: 403,
        error_text: "Invalid request signature",
        verify: exo_verify,
    })
    .await;
}

/// The record is created by an asynchronous operation: it is polled until
/// its state is success; a failed operation is an error naming the step.
#[tokio::test]
async fn exoscale_waits_for_the_operation() {
    let def = provider("exoscale").unwrap();
    let stub = StubServer::start(vec![
        exo_domains(),
        exo_records(json!(exo_system_records())),
        exo_create(),
        exo_poll("pending"),
        exo_poll("success"),
    ])
    .await;
    let base = stub.base_url();
    let c = CallContext::new(ZONE, NAME, VALUE, def.bind(exo_params(&base)).unwrap())
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL);
    let captures = signed_engine()
        .add_record(&def, &c, &MemoryTrace::default())
        .await
        .unwrap();
    stub.assert_done();
    exo_verify(&base, &stub.received());
    assert_eq!(captures.get("record_id"), Some(EXO_RECORD));
    assert_eq!(captures.get("domain_id"), Some(EXO_DOMAIN));

    let failed = json!({"id": EXO_OP, "state": "failure", "reason": "conflict",
                        "message": "record already exists",
                        "reference": {"id": EXO_RECORD, "command": "get-dns-domain-record",
                                      "link": format!("/v2/dns-domain/{EXO_DOMAIN}/record/{EXO_RECORD}")}});
    let stub = StubServer::start(vec![
        exo_domains(),
        exo_records(json!(exo_system_records())),
        exo_create(),
        exo_bodyless("GET", &format!("/v2/operation/{EXO_OP}")).reply(200, Some(failed)),
    ])
    .await;
    let c = CallContext::new(
        ZONE,
        NAME,
        VALUE,
        def.bind(exo_params(&stub.base_url())).unwrap(),
    )
    .unwrap()
    .with_network(certmgr_dns::NetworkAccess::LOCAL);
    let e = signed_engine()
        .add_record(&def, &c, &MemoryTrace::default())
        .await
        .unwrap_err();
    stub.assert_done();
    let msg = e.to_string();
    assert!(
        msg.contains("wait_operation") && msg.contains("record already exists"),
        "{msg}"
    );
}

/// A delete whose captures were lost finds the record among the others of
/// the zone: TXT, same relative name, content quoted or not.
#[tokio::test]
async fn exoscale_delete_without_captures_finds_the_record() {
    let def = provider("exoscale").unwrap();
    let mut records = exo_system_records();
    records.push(
        json!({"id": "aaaaaaaa-0000-4000-8000-000000000001", "name": "_acme-challenge.www",
                        "type": "TXT", "content": format!("\"{VALUE2}\""), "ttl": 60, "priority": 0,
                        "system-record": false, "created-at": "2023-11-14T22:10:00Z",
                        "updated-at": "2023-11-14T22:10:00Z"}),
    );
    records.push(
        json!({"id": "aaaaaaaa-0000-4000-8000-000000000002", "name": "_acme-challenge",
                        "type": "TXT", "content": format!("\"{VALUE}\""), "ttl": 60, "priority": 0,
                        "system-record": false, "created-at": "2023-11-14T22:11:00Z",
                        "updated-at": "2023-11-14T22:11:00Z"}),
    );
    records.push(
        json!({"id": EXO_RECORD, "name": "_acme-challenge.www", "type": "TXT",
                        "content": format!("\"{VALUE}\""), "ttl": 60, "priority": 0,
                        "system-record": false, "created-at": "2023-11-14T22:12:00Z",
                        "updated-at": "2023-11-14T22:12:00Z"}),
    );
    let stub = StubServer::start(vec![
        exo_domains(),
        exo_records(json!(records)),
        exo_delete(),
    ])
    .await;
    let base = stub.base_url();
    let c = CallContext::new(ZONE, NAME, VALUE, def.bind(exo_params(&base)).unwrap())
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
        .with_values(vec![VALUE2.into()]);
    let mut captures = Captures::default();
    signed_engine()
        .delete_record(&def, &c, &mut captures, &MemoryTrace::default())
        .await
        .unwrap();
    stub.assert_done();
    exo_verify(&base, &stub.received());
}
