//! Conformance of the cloud providers (Azure DNS, Google Cloud DNS, IONOS
//! Cloud DNS) and kapper.net against stubs of their APIs: exact requests,
//! token helpers (client credentials, service-account JWT), whole-RRset
//! replacement, asynchronous changes, pagination, errors in 200 bodies,
//! retries, and no secret or token in the trace.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
use common::*;

use base64::Engine as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::SystemTime;

fn form_pairs(body: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn form_get(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no form field {name:?} in {pairs:?}"))
}

// ---------------------------------------------------------------- Azure DNS

const AZ_TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const AZ_CLIENT: &str = "2b1f3a8e-7c4d-4e5f-9a0b-1c2d3e4f5a6b";
const AZ_SUB: &str = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";
const AZ_RG: &str = "dns-rg";
const AZ_TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tIn0.azureSig0123";

fn az_params(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("tenant_id", AZ_TENANT.to_string()),
        ("client_id", AZ_CLIENT.to_string()),
        ("client_secret", SECRET.to_string()),
        ("subscription_id", AZ_SUB.to_string()),
        ("resource_group", AZ_RG.to_string()),
        ("api_url", base.to_string()),
        ("login_url", base.to_string()),
    ]
}

fn az_token() -> Exchange {
    Exchange::new("POST", &format!("/{AZ_TENANT}/oauth2/v2.0/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", AZ_CLIENT),
            ("client_secret", SECRET),
            ("scope", "https://management.azure.com/.default"),
        ])
        .reply(
            200,
            Some(json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": AZ_TOKEN})),
        )
}

fn az_path() -> String {
    format!(
        "/subscriptions/{AZ_SUB}/resourceGroups/{AZ_RG}/providers/Microsoft.Network/dnsZones/example.com/TXT/_acme-challenge.www"
    )
}

fn az_record_set(values: &[&str], ttl: u32) -> Value {
    json!({
        "id": az_path(),
        "etag": "7b3c1d2e-0f4a-4b5c-8d6e-9f0a1b2c3d4e",
        "name": "_acme-challenge.www",
        "type": "Microsoft.Network/dnsZones/TXT",
        "properties": {
            "TTL": ttl,
            "fqdn": "_acme-challenge.www.example.com.",
            "provisioningState": "Succeeded",
            "TXTRecords": values.iter().map(|v| json!({"value": [v]})).collect::<Vec<_>>()
        }
    })
}

fn az_put(values: &[&str], ttl: u32, status: u16) -> Exchange {
    Exchange::new("PUT", &az_path())
        .query(&[("api-version", "2018-05-01")])
        .header("authorization", &format!("Bearer {AZ_TOKEN}"))
        .header("content-type", "application/json")
        .json(json!({"properties": {
            "TTL": ttl,
            "TXTRecords": values.iter().map(|v| json!({"value": [v]})).collect::<Vec<_>>()
        }}))
        .reply(status, Some(az_record_set(values, ttl)))
}

fn az_delete() -> Exchange {
    Exchange::new("DELETE", &az_path())
        .query(&[("api-version", "2018-05-01")])
        .header("authorization", &format!("Bearer {AZ_TOKEN}"))
        .no_body()
        .reply(200, None)
}

fn az_ctx(base: &str, values: Option<Vec<String>>) -> CallContext {
    let def = provider("azure").unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, def.bind(az_params(base)).unwrap())
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL);
    match values {
        Some(v) => c.with_values(v),
        None => c,
    }
}

/// No client secret nor access token in the trace; both show as redacted.
fn az_check_trace(trace: &MemoryTrace) {
    let text = trace.text();
    assert!(!text.contains("s3cr3t"), "client secret in trace:\n{text}");
    assert!(!text.contains(AZ_TOKEN), "access token in trace:\n{text}");
    assert!(
        !text.contains("azureSig0123"),
        "access token fragment in trace:\n{text}"
    );
    assert!(
        text.contains("<redacted:client_secret>"),
        "trace does not show the client secret redacted:\n{text}"
    );
    assert!(
        text.contains("<redacted:auth_token>"),
        "trace does not show the token redacted:\n{text}"
    );
}

#[tokio::test]
async fn azure() {
    let def = provider("azure").unwrap();
    // One token per call (add, then delete).
    let stub = StubServer::start(vec![
        az_token(),
        az_put(&[VALUE], 1, 201),
        az_token(),
        az_delete(),
    ])
    .await;
    let trace = MemoryTrace::default();
    let mut captures = engine()
        .add_record(&def, &az_ctx(&stub.base_url(), None), &trace)
        .await
        .unwrap();
    engine()
        .delete_record(
            &def,
            &az_ctx(&stub.base_url(), Some(vec![])),
            &mut captures,
            &trace,
        )
        .await
        .unwrap();
    stub.assert_done();
    az_check_trace(&trace);
}

#[tokio::test]
async fn azure_two_values_then_one_remains() {
    let def = provider("azure").unwrap();
    let stub = StubServer::start(vec![
        az_token(),
        az_put(&[VALUE2, VALUE], 300, 200),
        az_token(),
        az_put(&[VALUE2], 300, 200),
    ])
    .await;
    let trace = MemoryTrace::default();
    let c = az_ctx(&stub.base_url(), Some(vec![VALUE2.into(), VALUE.into()])).with_ttl(300);
    let mut captures = engine().add_record(&def, &c, &trace).await.unwrap();
    let c = az_ctx(&stub.base_url(), Some(vec![VALUE2.into()])).with_ttl(300);
    engine()
        .delete_record(&def, &c, &mut captures, &trace)
        .await
        .unwrap();
    stub.assert_done();
    az_check_trace(&trace);
}

#[tokio::test]
async fn azure_retries_and_documented_errors() {
    let def = provider("azure").unwrap();

    // a 503 on the API is retried with the same token
    let stub = StubServer::start(vec![
        az_token(),
        az_put(&[VALUE], 1, 201).reply(503, Some(json!({"error": {"code": "ServiceUnavailable", "message": "The service is temporarily unavailable."}}))),
        az_put(&[VALUE], 1, 201),
    ])
    .await;
    let trace = MemoryTrace::default();
    engine()
        .add_record(&def, &az_ctx(&stub.base_url(), None), &trace)
        .await
        .unwrap();
    stub.assert_done();
    assert!(trace.text().contains("< 503"), "{}", trace.text());
    az_check_trace(&trace);

    // three 502: gives up naming the step
    let bad = az_put(&[VALUE], 1, 201).reply(502, Some(json!({"error": "bad gateway"})));
    let stub = StubServer::start(vec![az_token(), bad.clone(), bad.clone(), bad]).await;
    let e = fast_engine()
        .add_record(
            &def,
            &az_ctx(&stub.base_url(), None),
            &MemoryTrace::default(),
        )
        .await
        .unwrap_err();
    stub.assert_done();
    let msg = e.to_string();
    assert!(
        msg.contains("step \"put_record_set\"")
            && msg.contains("HTTP 502")
            && msg.contains("after 3 attempt(s)"),
        "{msg}"
    );

    // the documented refusal: a principal without DNS Zone Contributor
    let stub = StubServer::start(vec![
        az_token(),
        az_put(&[VALUE], 1, 201).reply(403, Some(json!({"error": {
            "code": "AuthorizationFailed",
            "message": format!("The client '{AZ_CLIENT}' with object id '{AZ_CLIENT}' does not have authorization to perform action 'Microsoft.Network/dnsZones/TXT/write' over scope '{}' or the scope is invalid. If access was recently granted, please refresh your credentials.", az_path())
        }}))),
    ])
    .await;
    let trace = MemoryTrace::default();
    let e = engine()
        .add_record(&def, &az_ctx(&stub.base_url(), None), &trace)
        .await
        .unwrap_err();
    stub.assert_done();
    let msg = e.to_string();
    assert!(
        msg.contains("step \"put_record_set\"")
            && msg.contains("HTTP 403")
            && msg.contains("after 1 attempt(s)")
            && msg.contains("AuthorizationFailed"),
        "{msg}"
    );
    assert!(
        !msg.contains("s3cr3t") && !msg.contains(AZ_TOKEN) && !msg.contains('\n'),
        "{msg}"
    );
    az_check_trace(&trace);
}

#[tokio::test]
async fn azure_token_refused_stops_before_the_api() {
    let def = provider("azure").unwrap();
    let stub = StubServer::start(vec![az_token().reply(
        401,
        Some(json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            "error_codes": [7000215],
            "timestamp": "2024-05-01 10:00:00Z",
            "trace_id": "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
            "correlation_id": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a"
        })),
    )])
    .await;
    let trace = MemoryTrace::default();
    let e = engine()
        .add_record(&def, &az_ctx(&stub.base_url(), None), &trace)
        .await
        .unwrap_err();
    stub.assert_done();
    assert_eq!(
        stub.received().len(),
        1,
        "no API call after a refused token"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("provider \"azure\"")
            && msg.contains("oauth2-client-credentials")
            && msg.contains("HTTP 401")
            && msg.contains("invalid_client"),
        "{msg}"
    );
    assert!(!msg.contains("s3cr3t"), "{msg}");
    assert!(!trace.text().contains("s3cr3t"), "{}", trace.text());
}

// ---------------------------------------------------------------- Google Cloud DNS

const G_PROJECT: &str = "my-project-123";
const G_EMAIL: &str = "certmgr-dns@my-project-123.iam.gserviceaccount.com";
const G_TOKEN: &str = "ya29.c.b0AXv0zTOk3nGoogleAccessToken";
const G_SCOPE: &str = "https://www.googleapis.com/auth/ndev.clouddns.readwrite";
const G_FQDN: &str = "_acme-challenge.www.example.com.";
const G_NOW: u64 = 1_714_557_600;

/// A fresh RSA key (openssl), in a temporary folder with its public half.
struct TestKey {
    dir: PathBuf,
    private_pem: String,
}

impl TestKey {
    fn generate(tag: &str) -> TestKey {
        let dir = std::env::temp_dir().join(format!(
            "certmgr-cloud-{}-{tag}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("key.pem");
        let ok = Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
            ])
            .arg(&key)
            .status()
            .expect("run openssl genpkey");
        assert!(ok.success(), "openssl genpkey failed");
        let ok = Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(dir.join("pub.pem"))
            .status()
            .expect("run openssl pkey");
        assert!(ok.success(), "openssl pkey -pubout failed");
        let private_pem = std::fs::read_to_string(&key).unwrap();
        assert!(private_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        TestKey { dir, private_pem }
    }

    /// A service-account key file whose token_uri is the stub.
    fn credentials_json(&self, base: &str) -> String {
        json!({
            "type": "service_account",
            "project_id": G_PROJECT,
            "private_key_id": "3f2a6c0e9b1d4a7f8e5c2b1a0d9f8e7c6b5a4d3c",
            "private_key": self.private_pem,
            "client_email": G_EMAIL,
            "client_id": "109876543210987654321",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": format!("{base}/token"),
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/certmgr-dns%40my-project-123.iam.gserviceaccount.com",
            "universe_domain": "googleapis.com"
        })
        .to_string()
    }

    /// `openssl dgst -sha256 -verify`: whether `sig` signs `data` with this key.
    fn verifies(&self, data: &[u8], sig: &[u8]) -> bool {
        let input = self.dir.join("input.bin");
        let sig_file = self.dir.join("sig.bin");
        std::fs::write(&input, data).unwrap();
        std::fs::write(&sig_file, sig).unwrap();
        let out = Command::new("openssl")
            .args(["dgst", "-sha256", "-verify"])
            .arg(self.dir.join("pub.pem"))
            .arg("-signature")
            .arg(&sig_file)
            .arg(&input)
            .output()
            .expect("run openssl dgst");
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verified OK")
    }
}

impl Drop for TestKey {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn g_params(base: &str, key: &TestKey, managed_zone: &str) -> Vec<(&'static str, String)> {
    vec![
        ("credentials_json", key.credentials_json(base)),
        ("project", G_PROJECT.to_string()),
        ("managed_zone", managed_zone.to_string()),
        ("api_url", base.to_string()),
    ]
}

fn g_ctx(base: &str, key: &TestKey, managed_zone: &str, values: Vec<String>) -> CallContext {
    let def = provider("google").unwrap();
    CallContext::new(
        ZONE,
        NAME,
        VALUE,
        def.bind(g_params(base, key, managed_zone)).unwrap(),
    )
    .unwrap()
    .with_network(certmgr_dns::NetworkAccess::LOCAL)
    .with_values(values)
}

fn g_engine() -> Engine {
    engine().with_fixed_time(SystemTime::UNIX_EPOCH + Duration::from_secs(G_NOW))
}

/// The token exchange; its JWT is checked from `stub.received()`.
fn g_token() -> Exchange {
    Exchange::new("POST", "/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .reply(
            200,
            Some(json!({"access_token": G_TOKEN, "expires_in": 3599, "token_type": "Bearer"})),
        )
}

fn g_base() -> String {
    format!("/dns/v1/projects/{G_PROJECT}/managedZones")
}

fn g_zones() -> Exchange {
    Exchange::new("GET", &g_base())
        .query(&[("dnsName", "example.com.")])
        .header("authorization", &format!("Bearer {G_TOKEN}"))
        .no_body()
        .reply(
            200,
            Some(json!({
                "kind": "dns#managedZonesListResponse",
                "managedZones": [
                    {"kind": "dns#managedZone", "name": "example-com-internal", "dnsName": "example.com.",
                     "description": "VPC view", "id": "4451283730582716100", "visibility": "private",
                     "creationTime": "2023-02-01T09:00:00.000Z"},
                    {"kind": "dns#managedZone", "name": "example-com", "dnsName": "example.com.",
                     "description": "", "id": "7342819473620193847", "visibility": "public",
                     "nameServers": ["ns-cloud-a1.googledomains.com.", "ns-cloud-a2.googledomains.com.",
                                     "ns-cloud-a3.googledomains.com.", "ns-cloud-a4.googledomains.com."],
                     "creationTime": "2023-01-15T10:20:30.123Z", "dnssecConfig": {"kind": "dns#managedZoneDnsSecConfig", "state": "off"}}
                ]
            })),
        )
}

fn g_rrset(values: &[&str], ttl: u32) -> Value {
    json!({
        "kind": "dns#resourceRecordSet",
        "name": G_FQDN,
        "type": "TXT",
        "ttl": ttl,
        "rrdatas": values.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>()
    })
}

/// The wanted RRset as certmgr sends it (no "kind").
fn g_wanted(values: &[&str], ttl: u32) -> Value {
    json!({
        "name": G_FQDN,
        "type": "TXT",
        "ttl": ttl,
        "rrdatas": values.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>()
    })
}

fn g_rrsets(zone: &str, current: Option<Value>) -> Exchange {
    Exchange::new("GET", &format!("{}/{zone}/rrsets", g_base()))
        .query(&[("name", G_FQDN), ("type", "TXT")])
        .header("authorization", &format!("Bearer {G_TOKEN}"))
        .no_body()
        .reply(
            200,
            Some(json!({
                "kind": "dns#resourceRecordSetsListResponse",
                "rrsets": current.into_iter().collect::<Vec<_>>()
            })),
        )
}

fn g_change(
    zone: &str,
    additions: Vec<Value>,
    deletions: Vec<Value>,
    id: &str,
    status: &str,
) -> Exchange {
    Exchange::new("POST", &format!("{}/{zone}/changes", g_base()))
        .header("authorization", &format!("Bearer {G_TOKEN}"))
        .header("content-type", "application/json")
        .json(json!({"additions": additions.clone(), "deletions": deletions.clone()}))
        .reply(
            200,
            Some(json!({
                "kind": "dns#change", "additions": additions, "deletions": deletions,
                "startTime": "2024-05-01T10:00:00.512Z", "id": id, "status": status
            })),
        )
}

fn g_change_status(zone: &str, id: &str, status: &str) -> Exchange {
    Exchange::new("GET", &format!("{}/{zone}/changes/{id}", g_base()))
        .header("authorization", &format!("Bearer {G_TOKEN}"))
        .no_body()
        .reply(
            200,
            Some(json!({"kind": "dns#change", "startTime": "2024-05-01T10:00:00.512Z", "id": id, "status": status})),
        )
}

fn b64url(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap_or_else(|e| panic!("not base64url ({e}): {s:?}"))
}

/// Checks a token request of the stub: grant type, JWT header and claims, signature.
fn g_check_token_request(req_body: &str, key: &TestKey, base: &str) -> String {
    let form = form_pairs(req_body);
    assert_eq!(
        form_get(&form, "grant_type"),
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    assert_eq!(form.len(), 2, "{form:?}");
    let jwt = form_get(&form, "assertion");
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let header: Value = serde_json::from_slice(&b64url(parts[0])).unwrap();
    assert_eq!(header["alg"], "RS256", "{header}");
    assert_eq!(header["typ"], "JWT", "{header}");
    let claims: Value = serde_json::from_slice(&b64url(parts[1])).unwrap();
    assert_eq!(claims["iss"], G_EMAIL, "{claims}");
    assert_eq!(claims["scope"], G_SCOPE, "{claims}");
    assert_eq!(claims["aud"], format!("{base}/token"), "{claims}");
    let iat = claims["iat"].as_u64().unwrap();
    let exp = claims["exp"].as_u64().unwrap();
    assert_eq!(iat, G_NOW, "{claims}");
    assert_eq!(exp - iat, 3600, "{claims}");
    let signing_input = format!("{}.{}", parts[0], parts[1]);
    let sig = b64url(parts[2]);
    assert_eq!(sig.len(), 256, "RS256 with a 2048-bit key");
    assert!(
        key.verifies(signing_input.as_bytes(), &sig),
        "the JWT signature does not verify with the key's public half"
    );
    // the check can fail: another input does not verify
    assert!(!key.verifies(format!("{signing_input}x").as_bytes(), &sig));
    jwt
}

fn g_check_trace(trace: &MemoryTrace, key: &TestKey, jwt: &str) {
    let text = trace.text();
    assert!(!text.contains(G_TOKEN), "access token in trace:\n{text}");
    assert!(
        !text.contains("PRIVATE KEY") && !text.contains(&key.private_pem[40..80]),
        "private key in trace:\n{text}"
    );
    assert!(!text.contains(jwt), "signed assertion in trace:\n{text}");
    assert!(
        text.contains("<redacted:auth_token>"),
        "trace does not show the token redacted:\n{text}"
    );
}

#[tokio::test]
async fn google() {
    let def = provider("google").unwrap();
    let key = TestKey::generate("google");
    let stub = StubServer::start(vec![
        // add: token, managed zone by DNS name (the public one), no current RRset
        g_token(),
        g_zones(),
        g_rrsets("example-com", None),
        g_change(
            "example-com",
            vec![g_wanted(&[VALUE], 1)],
            vec![],
            "7",
            "pending",
        ),
        g_change_status("example-com", "7", "done"),
        // delete: token, current RRset read again and deleted, nothing added
        g_token(),
        g_rrsets("example-com", Some(g_rrset(&[VALUE], 1))),
        g_change(
            "example-com",
            vec![],
            vec![g_rrset(&[VALUE], 1)],
            "8",
            "done",
        ),
    ])
    .await;
    let base = stub.base_url();
    let trace = MemoryTrace::default();
    let mut captures = g_engine()
        .add_record(&def, &g_ctx(&base, &key, "", vec![VALUE.into()]), &trace)
        .await
        .unwrap();
    assert_eq!(captures.get("managed_zone"), Some("example-com"));
    g_engine()
        .delete_record(&def, &g_ctx(&base, &key, "", vec![]), &mut captures, &trace)
        .await
        .unwrap();
    stub.assert_done();

    let received = stub.received();
    assert_eq!(received.len(), 8);
    let jwt = g_check_token_request(&received[0].body, &key, &base);
    // with a fixed clock the second call signs the same assertion
    assert_eq!(g_check_token_request(&received[5].body, &key, &base), jwt);
    g_check_trace(&trace, &key, &jwt);
}

#[tokio::test]
async fn google_replaces_the_whole_rrset_and_waits_for_the_change() {
    let def = provider("google").unwrap();
    let key = TestKey::generate("google-rrset");
    let stub = StubServer::start(vec![
        // managed zone given: no lookup; the current RRset (another order's
        // value) is deleted and re-added with ours in one change
        g_token(),
        g_rrsets("example-com", Some(g_rrset(&[VALUE2], 300))),
        g_change(
            "example-com",
            vec![g_wanted(&[VALUE2, VALUE], 300)],
            vec![g_rrset(&[VALUE2], 300)],
            "12",
            "pending",
        ),
        g_change_status("example-com", "12", "pending"),
        g_change_status("example-com", "12", "done"),
        // delete: ours goes, the other value stays
        g_token(),
        g_rrsets("example-com", Some(g_rrset(&[VALUE2, VALUE], 300))),
        g_change(
            "example-com",
            vec![g_wanted(&[VALUE2], 300)],
            vec![g_rrset(&[VALUE2, VALUE], 300)],
            "13",
            "pending",
        ),
        g_change_status("example-com", "13", "done"),
    ])
    .await;
    let base = stub.base_url();
    let trace = MemoryTrace::default();
    let c = g_ctx(
        &base,
        &key,
        "example-com",
        vec![VALUE2.into(), VALUE.into()],
    )
    .with_ttl(300);
    let started = std::time::Instant::now();
    let mut captures = g_engine().add_record(&def, &c, &trace).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "the pending change was polled again after the interval"
    );
    let c = g_ctx(&base, &key, "example-com", vec![VALUE2.into()]).with_ttl(300);
    g_engine()
        .delete_record(&def, &c, &mut captures, &trace)
        .await
        .unwrap();
    stub.assert_done();
    let jwt = g_check_token_request(&stub.received()[0].body, &key, &base);
    g_check_trace(&trace, &key, &jwt);
}

#[tokio::test]
async fn google_delete_when_the_rrset_is_already_gone_changes_nothing() {
    let def = provider("google").unwrap();
    let key = TestKey::generate("google-gone");
    let stub = StubServer::start(vec![g_token(), g_rrsets("example-com", None)]).await;
    let c = g_ctx(&stub.base_url(), &key, "example-com", vec![]);
    let mut captures = Captures::default();
    g_engine()
        .delete_record(&def, &c, &mut captures, &MemoryTrace::default())
        .await
        .unwrap();
    stub.assert_done();
    assert_eq!(stub.received().len(), 2, "no change was posted");
}

#[tokio::test]
async fn google_retries_and_documented_errors() {
    let def = provider("google").unwrap();
    let key = TestKey::generate("google-errors");

    // a 503 on the API is retried
    let stub = StubServer::start(vec![
        g_token(),
        g_rrsets("example-com", None).reply(503, Some(json!({"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}}))),
        g_rrsets("example-com", None),
        g_change("example-com", vec![g_wanted(&[VALUE], 1)], vec![], "3", "done"),
    ])
    .await;
    let trace = MemoryTrace::default();
    g_engine()
        .add_record(
            &def,
            &g_ctx(&stub.base_url(), &key, "example-com", vec![VALUE.into()]),
            &trace,
        )
        .await
        .unwrap();
    stub.assert_done();
    assert!(trace.text().contains("< 503"), "{}", trace.text());

    // three 502: gives up naming the step
    let bad = g_rrsets("example-com", None).reply(502, Some(json!({"error": "bad gateway"})));
    let stub = StubServer::start(vec![g_token(), bad.clone(), bad.clone(), bad]).await;
    let e = fast_engine()
        .with_fixed_time(SystemTime::UNIX_EPOCH + Duration::from_secs(G_NOW))
        .add_record(
            &def,
            &g_ctx(&stub.base_url(), &key, "example-com", vec![VALUE.into()]),
            &MemoryTrace::default(),
        )
        .await
        .unwrap_err();
    stub.assert_done();
    let msg = e.to_string();
    assert!(
        msg.contains("step \"get_rrset\"")
            && msg.contains("HTTP 502")
            && msg.contains("after 3 attempt(s)"),
        "{msg}"
    );

    // the documented refusal: the service account lacks dns.changes.create
    let stub = StubServer::start(vec![
        g_token(),
        g_rrsets("example-com", None),
        g_change(
            "example-com",
            vec![g_wanted(&[VALUE], 1)],
            vec![],
            "3",
            "done",
        )
        .reply(
            403,
            Some(json!({"error": {
                "code": 403,
                "message": "Forbidden",
                "errors": [{"message": "Forbidden", "domain": "global", "reason": "forbidden"}]
            }})),
        ),
    ])
    .await;
    let trace = MemoryTrace::default();
    let e = g_engine()
        .add_record(
            &def,
            &g_ctx(&stub.base_url(), &key, "example-com", vec![VALUE.into()]),
            &trace,
        )
        .await
        .unwrap_err();
    stub.assert_done();
    let msg = e.to_string();
    assert!(
        msg.contains("step \"change_rrset\"")
            && msg.contains("HTTP 403")
            && msg.contains("after 1 attempt(s)"),
        "{msg}"
    );
    assert!(
        !msg.contains(G_TOKEN) && !msg.contains("PRIVATE KEY") && !msg.contains('\n'),
        "{msg}"
    );
    let jwt = g_check_token_request(&stub.received()[0].body, &key, &stub.base_url());
    g_check_trace(&trace, &key, &jwt);
}

// ---------------------------------------------------------------- IONOS Cloud DNS

const IO_ZONE: &str = "a363f30c-4c0c-4552-9a07-298d87f219bf";
const IO_RECORD: &str = "90d81ac0-3a30-44d4-95a5-12959effa6ee";

fn io_meta(fqdn: &str) -> Value {
    json!({
        "createdDate": "2024-05-01T10:00:00Z",
        "createdBy": "ionos:iam:cloud:31960002:users/87f9a82e-b28d-49ed-9d04-fba2c0459cd3",
        "createdByUserId": "87f9a82e-b28d-49ed-9d04-fba2c0459cd3",
        "lastModifiedDate": "2024-05-01T10:00:00Z",
        "lastModifiedBy": "ionos:iam:cloud:31960002:users/87f9a82e-b28d-49ed-9d04-fba2c0459cd3",
        "lastModifiedByUserId": "87f9a82e-b28d-49ed-9d04-fba2c0459cd3",
        "resourceURN": "ionos:dns:de-fra:31960002:record",
        "state": "AVAILABLE",
        "fqdn": fqdn,
        "zoneId": IO_ZONE
    })
}

fn io_record(id: &str, name: &str, typ: &str, content: &str) -> Value {
    json!({
        "id": id,
        "type": "record",
        "href": format!("/zones/{IO_ZONE}/records/{id}"),
        "metadata": io_meta(&format!("{name}.example.com")),
        "properties": {"name": name, "type": typ, "content": content, "ttl": 60, "priority": 0, "enabled": true}
    })
}

fn io_zones() -> Exchange {
    let zone = |id: &str, name: &str| {
        json!({
            "id": id, "type": "zone", "href": format!("/zones/{id}"),
            "metadata": {"createdDate": "2023-03-15T09:58:59Z", "lastModifiedDate": "2023-03-15T09:58:59Z",
                         "state": "AVAILABLE", "nameservers": ["ns-ic.ui-dns.com", "ns-ic.ui-dns.de", "ns-ic.ui-dns.org", "ns-ic.ui-dns.biz"]},
            "properties": {"zoneName": name, "description": "", "enabled": true}
        })
    };
    Exchange::new("GET", "/zones")
        .query(&[("filter.zoneName", "example.com"), ("limit", "1000")])
        .header("authorization", &format!("Bearer {SECRET}"))
        .no_body()
        .reply(
            200,
            Some(json!({
                "id": "e74d0d15-f567-4b7b-9069-26ee1f93bae3", "type": "collection", "href": "/zones",
                "offset": 0, "limit": 1000, "_links": {},
                // the filter is a "contains" match: the exact zone is picked
                "items": [zone("2a4428b3-dbe0-4357-9c02-609025b3a40f", "shop.example.com"), zone(IO_ZONE, "example.com")]
            })),
        )
}

fn io_records(query: &[(&str, &str)], items: Vec<Value>, next: Option<&str>) -> Exchange {
    let links = match next {
        Some(n) => json!({"self": "/records", "next": n}),
        None => json!({"self": "/records"}),
    };
    Exchange::new("GET", "/records")
        .query(query)
        .header("authorization", &format!("Bearer {SECRET}"))
        .no_body()
        .reply(
            200,
            Some(json!({
                "id": "6c4d3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a", "type": "collection", "href": "/records",
                "items": items, "offset": 0, "limit": 1000, "_links": links
            })),
        )
}

const IO_QUERY: &[(&str, &str)] = &[
    ("filter.zoneId", IO_ZONE),
    ("filter.name", "_acme-challenge.www"),
    ("limit", "1000"),
];

fn io_delete() -> Exchange {
    Exchange::new("DELETE", &format!("/zones/{IO_ZONE}/records/{IO_RECORD}"))
        .header("authorization", &format!("Bearer {SECRET}"))
        .no_body()
        .reply(202, None)
}

fn io_params(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_url", base.to_string()),
        ("api_token", SECRET.to_string()),
    ]
}

#[tokio::test]
async fn ionos_cloud() {
    conformance(Case {
        id: "ionos-cloud",
        params: io_params,
        secret: "api_token",
        add: || {
            vec![
                io_zones(),
                io_records(
                    IO_QUERY,
                    vec![io_record("7e1a6ecd-0c4b-4f2f-9b6d-5c9a00000001", "_acme-challenge.www", "TXT", "older-value")],
                    None,
                ),
                Exchange::new("POST", &format!("/zones/{IO_ZONE}/records"))
                    .header("authorization", &format!("Bearer {SECRET}"))
                    .header("content-type", "application/json")
                    .json(json!({"properties": {"name": "_acme-challenge.www", "type": "TXT", "content": VALUE, "ttl": 60, "enabled": true}}))
                    .reply(202, Some({
                        let mut r = io_record(IO_RECORD, "_acme-challenge.www", "TXT", VALUE);
                        r["metadata"]["state"] = json!("PROVISIONING");
                        r
                    })),
            ]
        },
        delete: || vec![io_delete()],
        remaining: vec![],
        first_step: "find_zone",
        error: (
            401,
            json!({"httpStatus": 401, "messages": [{"errorCode": "paas-auth-1", "message": "Unauthorized, wrong or no api key provided to process this request"}]}),
        ),
    })
    .await;
}

#[tokio::test]
async fn ionos_cloud_delete_without_captures_follows_pages() {
    let def = provider("ionos-cloud").unwrap();
    let next = format!(
        "/records?filter.zoneId={IO_ZONE}&filter.name=_acme-challenge.www&offset=1000&limit=1000"
    );
    let stub = StubServer::start(vec![
        io_zones(),
        io_records(
            IO_QUERY,
            vec![
                io_record(
                    "0b0b0b0b-0000-4000-8000-000000000001",
                    "_acme-challenge.www",
                    "TXT",
                    VALUE2,
                ),
                io_record(
                    "0b0b0b0b-0000-4000-8000-000000000002",
                    "_acme-challenge.www2",
                    "TXT",
                    VALUE,
                ),
            ],
            Some(&next),
        ),
        io_records(
            &[
                ("filter.zoneId", IO_ZONE),
                ("filter.name", "_acme-challenge.www"),
                ("offset", "1000"),
                ("limit", "1000"),
            ],
            // content stored quoted, as some clients create it
            vec![io_record(
                IO_RECORD,
                "_acme-challenge.www",
                "TXT",
                &format!("\"{VALUE}\""),
            )],
            None,
        ),
        io_delete(),
    ])
    .await;
    let params = def.bind(io_params(&stub.base_url())).unwrap();
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
    assert_eq!(captures.get("zone_id"), Some(IO_ZONE));
    assert_eq!(captures.get("record_id"), Some(IO_RECORD));
    assert!(!trace.text().contains("s3cr3t"), "{}", trace.text());
}

#[tokio::test]
async fn ionos_cloud_add_retried_after_a_crash_reuses_the_record() {
    let def = provider("ionos-cloud").unwrap();
    // the record from the first attempt exists: no second POST
    let stub = StubServer::start(vec![
        io_zones(),
        io_records(
            IO_QUERY,
            vec![io_record(IO_RECORD, "_acme-challenge.www", "TXT", VALUE)],
            None,
        ),
    ])
    .await;
    let params = def.bind(io_params(&stub.base_url())).unwrap();
    let c = CallContext::new(ZONE, NAME, VALUE, params)
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL);
    let captures = engine()
        .add_record(&def, &c, &MemoryTrace::default())
        .await
        .unwrap();
    stub.assert_done();
    assert_eq!(captures.get("record_id"), Some(IO_RECORD));
}

// ---------------------------------------------------------------- kapper.net

const KP_KEY: &str = "kp-APIKEY-4711-abcdef";

fn kp_params(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_url", format!("{base}/API/1.2")),
        ("api_key", KP_KEY.to_string()),
        ("api_secret", SECRET.to_string()),
    ]
}

fn kp_data() -> String {
    format!(r#"{{"name":"{NAME}","type":"TXT","content":"{VALUE}","ttl":"60","prio":""}}"#)
}

fn kp_new() -> Exchange {
    Exchange::new("GET", "/API/1.2")
        .query(&[
            ("action", "new"),
            ("subject", ZONE),
            ("APIKey", KP_KEY),
            ("APISecret", SECRET),
            ("data", &kp_data()),
        ])
        .no_body()
        .reply(200, Some(json!({"OK": true, "info": "record added"})))
}

fn kp_del() -> Exchange {
    Exchange::new("GET", "/API/1.2")
        .query(&[
            ("action", "del"),
            ("subject", NAME),
            ("APIKey", KP_KEY),
            ("APISecret", SECRET),
            ("data", &kp_data()),
        ])
        .no_body()
        .reply(200, Some(json!({"OK": true, "info": "record deleted"})))
}

fn kp_ctx(base: &str) -> CallContext {
    let def = provider("kapper").unwrap();
    CallContext::new(ZONE, NAME, VALUE, def.bind(kp_params(base)).unwrap())
        .unwrap()
        .with_network(certmgr_dns::NetworkAccess::LOCAL)
}

fn kp_check_trace(trace: &MemoryTrace) {
    let text = trace.text();
    assert!(!text.contains("s3cr3t"), "secret in trace:\n{text}");
    assert!(!text.contains(KP_KEY), "API key in trace:\n{text}");
    assert!(
        text.contains("<redacted:api_secret>") && text.contains("<redacted:api_key>"),
        "trace does not show the redactions:\n{text}"
    );
}

#[tokio::test]
async fn kapper() {
    let def = provider("kapper").unwrap();
    let stub = StubServer::start(vec![kp_new(), kp_del()]).await;
    let trace = MemoryTrace::default();
    let mut captures = engine()
        .add_record(&def, &kp_ctx(&stub.base_url()), &trace)
        .await
        .unwrap();
    engine()
        .delete_record(&def, &kp_ctx(&stub.base_url()), &mut captures, &trace)
        .await
        .unwrap();
    stub.assert_done();
    kp_check_trace(&trace);
}

#[tokio::test]
async fn kapper_refusal_in_a_200_body_names_the_step() {
    let def = provider("kapper").unwrap();
    for (answer, step, action) in [
        (
            json!({"OK": "false", "info": "Domain not found or no permission"}),
            "create_record",
            "new",
        ),
        (
            json!({"OK": false, "info": "invalid APIKey"}),
            "create_record",
            "new",
        ),
        (
            json!({"OK": "false", "info": "record not found"}),
            "delete_record",
            "del",
        ),
    ] {
        let ex = if action == "new" { kp_new() } else { kp_del() };
        let stub = StubServer::start(vec![ex.reply(200, Some(answer.clone()))]).await;
        let trace = MemoryTrace::default();
        let c = kp_ctx(&stub.base_url());
        let e = if action == "new" {
            engine().add_record(&def, &c, &trace).await.unwrap_err()
        } else {
            engine()
                .delete_record(&def, &c, &mut Captures::default(), &trace)
                .await
                .unwrap_err()
        };
        stub.assert_done();
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("step {step:?}"))
                && msg.contains(answer["info"].as_str().unwrap()),
            "{answer}: {msg}"
        );
        assert!(!msg.contains("s3cr3t") && !msg.contains(KP_KEY), "{msg}");
        assert!(stub.received().len() == 1, "a refusal is not retried");
        kp_check_trace(&trace);
    }
}

#[tokio::test]
async fn kapper_5xx_retried_then_given_up() {
    let def = provider("kapper").unwrap();
    let stub = StubServer::start(vec![
        kp_new().reply_text(
            503,
            "text/html",
            "<html><body>503 Service Unavailable</body></html>",
        ),
        kp_new(),
    ])
    .await;
    let trace = MemoryTrace::default();
    engine()
        .add_record(&def, &kp_ctx(&stub.base_url()), &trace)
        .await
        .unwrap();
    stub.assert_done();
    assert!(trace.text().contains("< 503"), "{}", trace.text());
    kp_check_trace(&trace);

    let bad = kp_new().reply_text(
        502,
        "text/html",
        "<html><body>502 Bad Gateway</body></html>",
    );
    let stub = StubServer::start(vec![bad.clone(), bad.clone(), bad]).await;
    let e = fast_engine()
        .add_record(&def, &kp_ctx(&stub.base_url()), &MemoryTrace::default())
        .await
        .unwrap_err();
    stub.assert_done();
    let msg = e.to_string();
    assert!(
        msg.contains("step \"create_record\"")
            && msg.contains("HTTP 502")
            && msg.contains("after 3 attempt(s)"),
        "{msg}"
    );
    assert!(!msg.contains("s3cr3t") && !msg.contains(KP_KEY), "{msg}");
}

#[tokio::test]
async fn kapper_non_json_200_is_not_success() {
    let def = provider("kapper").unwrap();
    let stub = StubServer::start(vec![kp_new().reply_text(
        200,
        "text/html",
        "<html><body>Login required</body></html>",
    )])
    .await;
    let e = engine()
        .add_record(&def, &kp_ctx(&stub.base_url()), &MemoryTrace::default())
        .await
        .unwrap_err();
    stub.assert_done();
    assert!(e.to_string().contains("step \"create_record\""), "{e}");
}
