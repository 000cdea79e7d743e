//! No secret leaves the API without an audited export: a store holding
//! every kind of secret (CA keys, credential keys of every origin, an ACME
//! account key and its EAB key, DNS tokens and TSIG secrets, API tokens,
//! password hashes) is read through every GET route of the OpenAPI
//! document by every role, and no body holds any of them. Then the one
//! route that hands out a key does, for an admin only, with one audit entry
//! and one `exported` event.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use certmgr_engine::acme::account::{AccountOptions, NewAccount, register};
use certmgr_engine::dns01::{DnsAccountRequest, Propagation, create_account};
use certmgr_testkit::openssl_available;
use certmgr_testkit::pebble::{Pebble, PebbleOptions, pebble_available};
use certmgr_testkit::stub::{Exchange, StubServer};
use common::Api;
use serde_json::json;
use zeroize::Zeroizing;

/// The roles whose reads are scanned.
const ROLES: [&str; 4] = ["admin", "operator", "viewer", "web-operator"];

/// Every needle is at least this long (the scan indexes them by prefix).
const PREFIX: usize = 8;

/// The EAB HMAC key Pebble hands out (base64url of 32 bytes).
const EAB_HMAC: &str = "cmIJ6q5hcCP-Vsky-HDZ1Vj1nluptmV7DbQkAnK6yuQ";
/// The Cloudflare API token.
const CF_TOKEN: &str = "cf-secret-token-4Zq8Lw2Rk7Tn3Vb9Xm5Hc1Jp6Gd0Fs";
/// The API token of a Cloudflare account whose API (a stub) refuses it,
/// quoting it back.
const CF_REFUSED_TOKEN: &str = "cf-refused-token-8Yt2Wq6Er0Ui4Op9As3Df7Gh1Jk5";
/// The PowerDNS API key.
const PDNS_KEY: &str = "pdns-secret-key-Nw7Qe3Rt9Yu1Io5Pa8Sd2Fg6Hj4Kl";
/// The TSIG secret (base64 of 32 bytes).
const TSIG_SECRET: &str = "b+rdXPrLru96PXR0Dvun/6Mo8ett/CrMeqehjRv5dSU=";
const SMTP_PASSWORD: &str = "smtp-password-Zq81xW";
const HOOK_SECRET: &str = "hook-hmac-secret-Kp40vN";
const HOOK_PATH_TOKEN: &str = "T0PATH/B0PATH/xoxPathToken9";
/// The users' passwords.
const ALICE_PASSWORD: &str = "alice-password-Tr0ub4dor&3-horse";
const CAROL_PASSWORD: &str = "carol-password-correct-battery-staple";

/// Byte strings that must not appear in a read, each with what it is.
#[derive(Default)]
struct Needles {
    items: Vec<(String, Vec<u8>)>,
}

impl Needles {
    fn add(&mut self, label: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        let (label, bytes) = (label.into(), bytes.into());
        assert!(
            bytes.len() >= PREFIX,
            "{label}: a needle of {} bytes finds too much",
            bytes.len()
        );
        self.items.push((label, bytes));
    }

    /// A secret text: as is, and in both base64 alphabets.
    fn text(&mut self, label: &str, text: &str) {
        self.add(label, text.as_bytes());
        self.add(format!("{label} (base64)"), STANDARD.encode(text));
        self.add(format!("{label} (base64url)"), URL_SAFE_NO_PAD.encode(text));
    }

    /// Secret bytes: raw, hex (both cases), and both base64 alphabets.
    fn bytes(&mut self, label: &str, bytes: &[u8]) {
        self.add(label, bytes);
        self.add(format!("{label} (hex)"), hex(bytes));
        self.add(format!("{label} (HEX)"), hex(bytes).to_uppercase());
        self.add(format!("{label} (base64)"), STANDARD.encode(bytes));
        self.add(
            format!("{label} (base64url)"),
            URL_SAFE_NO_PAD.encode(bytes),
        );
    }

    fn scanner(&self) -> Scanner<'_> {
        let mut by_prefix: HashMap<&[u8], Vec<usize>> = HashMap::new();
        for (i, (_, bytes)) in self.items.iter().enumerate() {
            by_prefix.entry(&bytes[..PREFIX]).or_default().push(i);
        }
        Scanner {
            needles: self,
            by_prefix,
        }
    }
}

/// Finds every needle in a body in one pass (bodies and needles are many).
struct Scanner<'a> {
    needles: &'a Needles,
    by_prefix: HashMap<&'a [u8], Vec<usize>>,
}

impl Scanner<'_> {
    /// What the body holds, by label.
    fn hits(&self, body: &[u8]) -> BTreeSet<&str> {
        let mut found = BTreeSet::new();
        for start in 0..body.len().saturating_sub(PREFIX - 1) {
            if let Some(candidates) = self.by_prefix.get(&body[start..start + PREFIX]) {
                for &i in candidates {
                    let (label, needle) = &self.needles.items[i];
                    if body[start..].starts_with(needle) {
                        found.insert(label.as_str());
                    }
                }
            }
        }
        found
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Run openssl in `dir`; panics with its output on failure.
#[track_caller]
fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The base64 lines of a PEM text (header and footer left out).
fn pem_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 32)
        .map(str::to_owned)
        .collect()
}

/// What identifies the private key `der` (PKCS#8): the DER itself, the
/// base64 lines of its PEM forms (PKCS#8 and the traditional one, in both
/// alphabets), the whole DER in base64 and hex, and windows of its secret
/// numbers (RSA private exponent, primes and CRT values; the EC scalar)
/// raw, in hex and as openssl prints them, plus each whole number in base64
/// (JWK). Windows of the whole DER would also hit the public key, which
/// certificates rightly carry. Returns the PKCS#8 PEM's lines, which an
/// export must hold.
fn key_needles(needles: &mut Needles, dir: &Path, label: &str, der: &[u8]) -> Vec<String> {
    let file = label.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
    std::fs::write(dir.join(format!("{file}.der")), der).unwrap();
    let own: Vec<String> = pem_lines(
        &STANDARD
            .encode(der)
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let pkcs8 = openssl(
        dir,
        &["pkey", "-inform", "DER", "-in", &format!("{file}.der")],
    );
    let traditional = openssl(
        dir,
        &[
            "pkey",
            "-inform",
            "DER",
            "-in",
            &format!("{file}.der"),
            "-traditional",
        ],
    );
    needles.add(format!("{label}: DER"), der);
    needles.add(format!("{label}: DER (hex)"), hex(der));
    needles.add(
        format!("{label}: DER (base64url)"),
        URL_SAFE_NO_PAD.encode(der),
    );
    let mut lines: BTreeSet<String> = own.iter().cloned().collect();
    lines.extend(pem_lines(&pkcs8));
    lines.extend(pem_lines(&traditional));
    for line in lines {
        needles.add(
            format!("{label}: PEM line (base64url)"),
            line.replace('+', "-").replace('/', "_"),
        );
        needles.add(format!("{label}: PEM line"), line);
    }
    let text = openssl(
        dir,
        &[
            "pkey",
            "-inform",
            "DER",
            "-in",
            &format!("{file}.der"),
            "-noout",
            "-text",
        ],
    );
    let numbers = secret_numbers(&text);
    assert!(!numbers.is_empty(), "{label}: no secret number in\n{text}");
    for number in numbers {
        assert!(number.len() >= 24, "{label}: secret number too short");
        for window in number.windows(24).step_by(8) {
            needles.add(format!("{label}: secret number"), window);
            needles.add(format!("{label}: secret number (hex)"), hex(window));
            needles.add(
                format!("{label}: secret number (HEX)"),
                hex(window).to_uppercase(),
            );
            let printed: Vec<String> = window.iter().map(|b| format!("{b:02x}")).collect();
            needles.add(
                format!("{label}: secret number (openssl text)"),
                printed.join(":"),
            );
        }
        let trimmed = &number[number.iter().take_while(|b| **b == 0).count()..];
        needles.add(
            format!("{label}: secret number (base64url)"),
            URL_SAFE_NO_PAD.encode(trimmed),
        );
        needles.add(
            format!("{label}: secret number (base64)"),
            STANDARD.encode(trimmed),
        );
    }
    own
}

/// The secret numbers in `openssl pkey -text` output, as bytes.
fn secret_numbers(text: &str) -> Vec<Vec<u8>> {
    const SECRET: [&str; 7] = [
        "privateExponent",
        "prime1",
        "prime2",
        "exponent1",
        "exponent2",
        "coefficient",
        "priv",
    ];
    let mut numbers = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    for line in text.lines() {
        if line.starts_with(' ') {
            if let Some(bytes) = current.as_mut() {
                bytes.extend(
                    line.trim()
                        .split(':')
                        .filter(|h| !h.is_empty())
                        .map(|h| u8::from_str_radix(h, 16).unwrap()),
                );
            }
            continue;
        }
        numbers.extend(current.take());
        if SECRET.contains(&line.trim_end_matches(':')) {
            current = Some(Vec::new());
        }
    }
    numbers.extend(current);
    numbers
}

/// An API call that must succeed with `status`; returns the JSON body.
async fn expect(
    api: &Api,
    method: Method,
    uri: &str,
    who: &str,
    body: Option<serde_json::Value>,
    status: StatusCode,
) -> serde_json::Value {
    let answer = api.call(method.clone(), uri, Some(who), body).await;
    assert_eq!(
        answer.status,
        status,
        "{method} {uri} as {who}: {}",
        answer.text()
    );
    if answer.body.is_empty() {
        serde_json::Value::Null
    } else {
        answer.json()
    }
}

/// Start a job (issue or renew) as admin and wait until it ends with
/// `outcome` (succeeded or failed).
async fn job(api: &Api, credential: &str, kind: &str, outcome: &str) -> String {
    let started = expect(
        api,
        Method::POST,
        &format!("/api/credentials/{credential}/{kind}"),
        "admin",
        None,
        StatusCode::ACCEPTED,
    )
    .await;
    let id = started["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let view = expect(
            api,
            Method::GET,
            &format!("/api/jobs/{id}"),
            "admin",
            None,
            StatusCode::OK,
        )
        .await;
        match view["status"].as_str().unwrap() {
            "running" => {}
            status if status == outcome => return id,
            status => panic!("{kind} of {credential} {status}: {view}"),
        }
        assert!(Instant::now() < deadline, "{kind} of {credential}: {view}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An external CA made with openssl: `NAME.key` + `NAME.pem` in `dir`,
/// valid long enough for the API's clock (which runs in 2027).
fn openssl_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            &format!("/CN={name}"),
            "-days",
            "3650",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

/// Have the openssl CA `ca` sign the CSR file `csr` into `out`.
fn openssl_sign(dir: &Path, ca: &str, csr: &str, out: &str) {
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-days",
            "3000",
            "-copy_extensions",
            "copy",
            "-out",
            out,
        ],
    );
}

/// Every GET route of the OpenAPI document (and the document itself), with
/// its path parameters filled by `fill`.
fn get_routes(fill: &BTreeMap<&str, Vec<String>>) -> (BTreeSet<String>, Vec<(String, String)>) {
    let document = certmgr_server::api::openapi();
    let mut routes: BTreeSet<String> = document
        .paths
        .paths
        .iter()
        .filter(|(_, item)| item.get.is_some())
        .map(|(path, _)| path.clone())
        .collect();
    for undocumented in certmgr_server::api::UNDOCUMENTED {
        routes.insert(undocumented.to_owned());
    }
    let mut uris = Vec::new();
    for route in &routes {
        let prefix = fill
            .keys()
            .filter(|prefix| route.starts_with(*prefix))
            .max_by_key(|prefix| prefix.len());
        match prefix {
            Some(prefix) => {
                for value in &fill[prefix] {
                    let uri = route.replace("{name}", value).replace("{id}", value);
                    assert!(!uri.contains('{'), "{route}: which parameters?");
                    uris.push((route.clone(), uri));
                }
            }
            None => {
                assert!(
                    !route.contains('{'),
                    "{route}: the test does not know what to fill in"
                );
                uris.push((route.clone(), route.clone()));
            }
        }
    }
    // Pages past the first: the audit log and the listing hold more.
    uris.push(("/api/audit".into(), "/api/audit?limit=1000".into()));
    uris.push((
        "/api/credentials".into(),
        "/api/credentials?limit=1000".into(),
    ));
    (routes, uris)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_leaves_without_an_audited_export() {
    if !pebble_available() || !openssl_available() {
        return;
    }
    let pebble = Pebble::start_with(PebbleOptions {
        eab_keys: vec![("kid-secrets".into(), EAB_HMAC.into())],
        ..PebbleOptions::default()
    });
    let api = Api::new().await;
    let dir = api.test.work_dir().to_owned();
    let engine = api.engine();

    // --- Every kind of object and secret -------------------------------
    // MicroCAs: "lab" (root only, ECDSA) from the helper; "inter" (RSA,
    // signing with an intermediate).
    expect(
        &api,
        Method::POST,
        "/api/cas",
        "admin",
        Some(json!({"name": "inter", "key": "rsa-2048", "intermediate": true})),
        StatusCode::CREATED,
    )
    .await;
    // MicroCA-issued: dual RSA + ECDSA under the intermediate, issued and
    // renewed as jobs; a single ECDSA key under the root.
    expect(
        &api,
        Method::POST,
        "/api/credentials",
        "operator",
        Some(json!({
            "name": "dual",
            "hostnames": ["dual.example.test"],
            "keys": ["rsa-2048", "ecdsa-p384"],
            "issuer": "ca:inter",
            "tags": {"team": "web"},
        })),
        StatusCode::CREATED,
    )
    .await;
    let issue_job = job(&api, "dual", "issue", "succeeded").await;
    api.issued("plain", &["team=db"]).await;
    let renew_job = job(&api, "plain", "renew", "succeeded").await;
    // The manual flow: one CSR signed elsewhere and imported, one waiting.
    openssl_ca(&dir, "ext");
    let ext_root = std::fs::read_to_string(dir.join("ext.pem")).unwrap();
    expect(
        &api,
        Method::POST,
        "/api/trust",
        "admin",
        Some(json!({ "pem": ext_root })),
        StatusCode::OK,
    )
    .await;
    for name in ["manual", "waiting"] {
        expect(
            &api,
            Method::POST,
            "/api/credentials",
            "web-operator",
            Some(json!({
                "name": name,
                "hostnames": [format!("{name}.example.test")],
                "issuer": "manual",
            })),
            StatusCode::CREATED,
        )
        .await;
        let csr = expect(
            &api,
            Method::POST,
            &format!("/api/credentials/{name}/csr"),
            "web-operator",
            None,
            StatusCode::OK,
        )
        .await;
        std::fs::write(
            dir.join(format!("{name}.csr")),
            csr["csrs"][0]["pem"].as_str().unwrap(),
        )
        .unwrap();
    }
    openssl_sign(&dir, "ext", "manual.csr", "manual.pem");
    expect(
        &api,
        Method::POST,
        "/api/credentials/manual/import",
        "operator",
        Some(json!({
            "certificate_pem": std::fs::read_to_string(dir.join("manual.pem")).unwrap(),
        })),
        StatusCode::OK,
    )
    .await;
    // A key made elsewhere, imported with its certificate.
    openssl(
        &dir,
        &[
            "req",
            "-new",
            "-nodes",
            "-newkey",
            "rsa:2048",
            "-keyout",
            "imported.key",
            "-out",
            "imported.csr",
            "-subj",
            "/CN=imported.example.test",
            "-addext",
            "subjectAltName=DNS:imported.example.test",
        ],
    );
    openssl_sign(&dir, "ext", "imported.csr", "imported.pem");
    let imported_key = std::fs::read_to_string(dir.join("imported.key")).unwrap();
    expect(
        &api,
        Method::POST,
        "/api/credentials",
        "operator",
        Some(json!({
            "name": "imported",
            "hostnames": ["imported.example.test"],
            "keys": ["rsa-2048"],
            "issuer": "import",
        })),
        StatusCode::CREATED,
    )
    .await;
    // A refused import carrying a key (the wrong one) leaves no trace of it
    // in the answer's problem or the audit log...
    let wrong = api
        .call(
            Method::POST,
            "/api/credentials/imported/import",
            Some("operator"),
            Some(json!({
                "certificate_pem": std::fs::read_to_string(dir.join("manual.pem")).unwrap(),
                "key_pem": imported_key,
            })),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.text());
    let mut refusals = vec![("the refused import".to_owned(), wrong.body)];
    // ... and the right one is stored.
    expect(
        &api,
        Method::POST,
        "/api/credentials/imported/import",
        "operator",
        Some(json!({
            "certificate_pem": std::fs::read_to_string(dir.join("imported.pem")).unwrap(),
            "key_pem": imported_key,
        })),
        StatusCode::OK,
    )
    .await;
    // An ACME account at Pebble, bound to an external account (EAB).
    let account = register(
        &engine,
        NewAccount {
            name: "pb".into(),
            directory: Some(pebble.directory_url()),
            options: AccountOptions {
                emails: vec!["admin@example.test".into()],
                agree_tos: true,
                eab: Some((
                    "kid-secrets".into(),
                    Zeroizing::new(URL_SAFE_NO_PAD.decode(EAB_HMAC).unwrap()),
                )),
                ca_bundle_pem: Some(std::fs::read_to_string(pebble.ca_bundle_path()).unwrap()),
                ..AccountOptions::default()
            },
            ..NewAccount::default()
        }
        .parse()
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(account.eab_kid.as_deref(), Some("kid-secrets"));
    // DNS accounts holding an API token, an API key and a TSIG secret
    // (created without contacting the provider).
    for (name, provider, zone, params) in [
        (
            "cf",
            "cloudflare",
            "cf.example.test",
            vec![("api_token", CF_TOKEN)],
        ),
        (
            "pdns",
            "powerdns",
            "pdns.example.test",
            vec![
                ("api_url", "https://pdns.example.test/api/v1"),
                ("api_key", PDNS_KEY),
            ],
        ),
        (
            "tsig",
            "rfc2136",
            "tsig.example.test",
            vec![
                ("server", "192.0.2.53:53"),
                ("key_name", "certmgr-test"),
                ("key_algorithm", "hmac-sha256"),
                ("key_secret", TSIG_SECRET),
            ],
        ),
    ] {
        create_account(
            &engine,
            DnsAccountRequest {
                name: name.into(),
                provider: provider.into(),
                zones: vec![zone.into()],
                params: params
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
                nameservers: Vec::new(),
                resolver: None,
                nameserver_port: None,
                propagation_timeout_secs: 10,
                propagation: Propagation::Check,
                network: certmgr_dns::NetworkAccess::default(),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("DNS account {name}: {e}"));
    }
    // A dns-01 issuance whose provider (a stub) refuses the token and
    // quotes it back: the failed job's problem and the credential's events
    // are read below like everything else.
    let refusing = StubServer::start(vec![
        Exchange::new("GET", "/zones").reply(
            403,
            Some(json!({
                "success": false,
                "errors": [{"code": 9109, "message": format!("Invalid access token {CF_REFUSED_TOKEN}")}],
            })),
        ),
    ])
    .await;
    create_account(
        &engine,
        DnsAccountRequest {
            name: "cf-refused".into(),
            provider: "cloudflare".into(),
            zones: vec!["refused.example.test".into()],
            params: [
                ("api_token".to_owned(), CF_REFUSED_TOKEN.to_owned()),
                ("api_url".to_owned(), refusing.base_url()),
            ]
            .into(),
            nameservers: Vec::new(),
            resolver: None,
            nameserver_port: None,
            propagation_timeout_secs: 10,
            propagation: Propagation::Check,
            network: certmgr_dns::NetworkAccess {
                private_network: true,
                plain_http: true,
            },
        },
    )
    .await
    .unwrap();
    expect(
        &api,
        Method::POST,
        "/api/credentials",
        "operator",
        Some(json!({
            "name": "refused",
            "hostnames": ["www.refused.example.test"],
            "issuer": "acme:pb",
            "challenge": "dns-01",
            "dns_account": "cf-refused",
            // Named, so no CNAME is looked up (through the system's resolver).
            "challenge_alias": "challenge.refused.example.test",
        })),
        StatusCode::CREATED,
    )
    .await;
    let failed_job = job(&api, "refused", "issue", "failed").await;
    assert!(
        refusing
            .received()
            .iter()
            .any(|r| r.headers.iter().any(|(_, v)| v.contains(CF_REFUSED_TOKEN))),
        "the provider was sent the token"
    );
    // Users: one with a password given, one with a password made; a refused
    // one whose password must not reach the audit log.
    let bob = expect(
        &api,
        Method::POST,
        "/api/users",
        "admin",
        Some(json!({"name": "bob", "role": "operator"})),
        StatusCode::CREATED,
    )
    .await;
    let bob_password = bob["password"].as_str().unwrap().to_owned();
    expect(
        &api,
        Method::POST,
        "/api/users",
        "admin",
        Some(json!({"name": "alice", "role": "viewer", "password": ALICE_PASSWORD})),
        StatusCode::CREATED,
    )
    .await;
    let carol = api
        .call(
            Method::POST,
            "/api/users",
            Some("admin"),
            Some(json!({"name": "carol", "role": "viewer", "tag": "no scope", "password": CAROL_PASSWORD})),
        )
        .await;
    assert_eq!(carol.status, StatusCode::BAD_REQUEST, "{}", carol.text());
    refusals.push(("the refused user".to_owned(), carol.body));
    // One more token, made over the API.
    let made = expect(
        &api,
        Method::POST,
        "/api/tokens",
        "admin",
        Some(json!({"name": "deploy", "role": "operator", "tag": "team=web"})),
        StatusCode::CREATED,
    )
    .await;
    // Notification channels: an SMTP password, a webhook URL whose path is
    // a token (Slack's kind), an HMAC secret.
    expect(
        &api,
        Method::POST,
        "/api/notifications/channels",
        "admin",
        Some(
            json!({"name": "mail", "email": {"host": "smtp.example.test",
            "username": "certmgr", "password": SMTP_PASSWORD,
            "from": "certmgr@example.test", "to": ["ops@example.test"]}}),
        ),
        StatusCode::CREATED,
    )
    .await;
    expect(
        &api,
        Method::POST,
        "/api/notifications/channels",
        "admin",
        Some(json!({"name": "hook", "webhook": {
            "url": format!("https://hooks.example.test/services/{HOOK_PATH_TOKEN}"),
            "secret": HOOK_SECRET}})),
        StatusCode::CREATED,
    )
    .await;
    let mut token_secrets: Vec<(String, String)> = api
        .tokens
        .iter()
        .map(|(name, secret)| (name.to_string(), secret.clone()))
        .collect();
    token_secrets.push(("deploy".into(), made["secret"].as_str().unwrap().to_owned()));

    // --- The needles ----------------------------------------------------
    let store = &api.store;
    let mut needles = Needles::default();
    let mut key_lines: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    let credentials = ["dual", "plain", "manual", "waiting", "imported", "refused"];
    for name in credentials {
        let credential = store.credential(name).await.unwrap();
        let mut held = 0;
        for key in store.history(&credential).await.unwrap() {
            let der = store.unseal_key(&key).unwrap();
            let lines = key_needles(
                &mut needles,
                &dir,
                &format!("key of {name} v{} {}", key.version, key.family),
                &der,
            );
            if key.version == credential.current_version {
                key_lines.entry(name.to_owned()).or_default().push(lines);
            }
            held += 1;
        }
        // Keys of orders still in flight (the refused dns-01 issuance).
        for order in store.pending_orders(&credential).await.unwrap() {
            let der = store.unseal_pending_key(&order).unwrap();
            key_needles(
                &mut needles,
                &dir,
                &format!("order key of {name} {}", order.spec),
                &der,
            );
            held += 1;
        }
        assert!(held > 0 || name == "refused", "{name} holds keys");
    }
    assert_eq!(key_lines["dual"].len(), 2, "dual: two current keys");
    for ca in store.list_cas().await.unwrap() {
        let (_, der) = store.unseal_ca_issuer(&ca).unwrap();
        key_needles(&mut needles, &dir, &format!("key of CA {}", ca.name), &der);
    }
    let acme: serde_json::Value =
        serde_json::from_slice(&store.unseal_acme_credentials(&account).unwrap()).unwrap();
    let acme_key = URL_SAFE_NO_PAD
        .decode(acme["key_pkcs8"].as_str().unwrap())
        .unwrap();
    key_needles(&mut needles, &dir, "ACME account key", &acme_key);
    needles.text("EAB HMAC key", EAB_HMAC);
    needles.bytes(
        "EAB HMAC key (decoded)",
        &URL_SAFE_NO_PAD.decode(EAB_HMAC).unwrap(),
    );
    for dns in store.list_dns_accounts().await.unwrap() {
        // Control: the secrets are in the store, sealed.
        let sealed = String::from_utf8(store.unseal_dns_params(&dns).unwrap().to_vec()).unwrap();
        let secret = match dns.name.as_str() {
            "cf" => CF_TOKEN,
            "cf-refused" => CF_REFUSED_TOKEN,
            "pdns" => PDNS_KEY,
            "tsig" => TSIG_SECRET,
            other => panic!("unexpected DNS account {other}"),
        };
        assert!(sealed.contains(secret), "{}: {sealed}", dns.name);
    }
    needles.text("Cloudflare API token", CF_TOKEN);
    needles.text("refused Cloudflare API token", CF_REFUSED_TOKEN);
    needles.text("PowerDNS API key", PDNS_KEY);
    needles.text("TSIG secret", TSIG_SECRET);
    needles.text("SMTP password", SMTP_PASSWORD);
    needles.text("webhook HMAC secret", HOOK_SECRET);
    needles.text("webhook URL token", HOOK_PATH_TOKEN);
    needles.bytes(
        "TSIG secret (decoded)",
        &STANDARD.decode(TSIG_SECRET).unwrap(),
    );
    for (name, secret) in &token_secrets {
        needles.text(&format!("secret of token {name}"), secret);
        let body = secret.strip_prefix("cmt_").unwrap();
        needles.add(format!("secret of token {name} (random part)"), body);
        std::fs::write(dir.join("token.txt"), secret).unwrap();
        let digest = openssl(&dir, &["dgst", "-sha256", "-r", "token.txt"]);
        let digest = digest.split_whitespace().next().unwrap();
        needles.add(format!("hash of token {name}"), digest);
        needles.add(format!("hash of token {name} (HEX)"), digest.to_uppercase());
    }
    for (name, password) in [
        ("alice", ALICE_PASSWORD),
        ("bob", bob_password.as_str()),
        ("carol", CAROL_PASSWORD),
    ] {
        needles.text(&format!("password of {name}"), password);
    }
    for name in ["alice", "bob"] {
        let hash = store
            .user(name)
            .await
            .unwrap()
            .password_hash()
            .unwrap()
            .to_owned();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        needles.add(format!("password hash of {name}"), hash.as_str());
        needles.add(
            format!("password hash of {name} (digest)"),
            hash.rsplit('$').next().unwrap(),
        );
    }
    needles.add("a password hash", "$argon2id$");
    let scanner = needles.scanner();
    assert!(needles.items.len() > 500, "{} needles", needles.items.len());
    // Control: the scan finds a key in the one place it was sent.
    assert!(
        scanner
            .hits(imported_key.as_bytes())
            .iter()
            .any(|l| l.starts_with("key of imported")),
        "the scan finds the imported key in its own PEM"
    );

    for (what, body) in &refusals {
        let hits = scanner.hits(body);
        assert!(hits.is_empty(), "{what} shows {hits:?}");
    }

    // --- Every GET route, as every role -----------------------------------
    let mut fill: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    fill.insert(
        "/api/credentials/",
        credentials.iter().map(|c| c.to_string()).collect(),
    );
    fill.insert("/api/cas/", vec!["lab".into(), "inter".into()]);
    fill.insert(
        "/api/dns/providers/",
        vec!["cloudflare".into(), "powerdns".into()],
    );
    fill.insert("/api/jobs/", vec![issue_job, renew_job, failed_job]);
    fill.insert("/api/acme/accounts/", vec!["pb".into()]);
    fill.insert(
        "/api/dns/accounts/",
        vec![
            "cf".into(),
            "pdns".into(),
            "tsig".into(),
            "cf-refused".into(),
        ],
    );
    fill.insert(
        "/api/notifications/channels/",
        vec!["mail".into(), "hook".into()],
    );
    let (routes, uris) = get_routes(&fill);
    assert!(routes.len() >= 18, "only {} GET routes", routes.len());
    let mut read = 0;
    let mut visible: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for who in ROLES {
        for (route, uri) in &uris {
            let answer = api.call(Method::GET, uri, Some(who), None).await;
            let what = format!("GET {uri} as {who}: {}", answer.status);
            // Only providers imported from DXL export as DXL: the built-in
            // ones answer that (400), which is scanned like any answer.
            let toml_as_dxl = route == "/api/dns/providers/{name}/dxl";
            if route.starts_with("/api/oidc/") {
                // Single sign-on's redirects, not reads (not configured here).
                continue;
            }
            assert!(
                [200, 403, 404].contains(&answer.status.as_u16())
                    || (toml_as_dxl && answer.status == StatusCode::BAD_REQUEST),
                "{what}: {}",
                answer.text()
            );
            if who == "admin" && !toml_as_dxl {
                assert_eq!(answer.status, StatusCode::OK, "{what}: {}", answer.text());
            }
            let mut seen = answer.body.clone();
            for (name, value) in &answer.headers {
                seen.extend_from_slice(name.as_str().as_bytes());
                seen.extend_from_slice(value.as_bytes());
            }
            let hits = scanner.hits(&seen);
            assert!(hits.is_empty(), "{what} shows {hits:?}");
            read += seen.len();
            if answer.status == StatusCode::OK || toml_as_dxl {
                visible.entry(who).or_default().insert(route.clone());
            }
        }
    }
    let data_routes: BTreeSet<String> = routes
        .iter()
        .filter(|route| !route.starts_with("/api/oidc/"))
        .cloned()
        .collect();
    assert_eq!(
        visible["admin"], data_routes,
        "the admin read every GET route"
    );
    assert!(
        visible["web-operator"].contains("/api/credentials/{name}"),
        "the scoped role read credentials of its scope"
    );
    assert!(read > 200_000, "the scan read {read} bytes");

    // --- The export: the admin's, audited; nobody else's ---------------
    let dual = store.credential("dual").await.unwrap();
    let exported_events = || async {
        store
            .events(&dual)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.kind == "exported")
            .count()
    };
    for who in ["operator", "web-operator", "viewer"] {
        let before = api.audit_entries().await.len();
        let answer = api
            .call(
                Method::POST,
                "/api/credentials/dual/export",
                Some(who),
                Some(json!({})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text());
        let hits = scanner.hits(&answer.body);
        assert!(hits.is_empty(), "{who}'s refused export shows {hits:?}");
        let entries = api.audit_entries().await;
        assert_eq!(entries.len(), before + 1, "the refusal is audited");
        let entry = entries.last().unwrap();
        assert_eq!(
            (
                entry.action.as_str(),
                entry.target.as_str(),
                entry.actor.as_str(),
                entry.outcome.as_str()
            ),
            (
                "cred.export",
                "dual",
                format!("token:{who}").as_str(),
                "bad-input"
            ),
        );
        assert_eq!(exported_events().await, 0, "{who} exported nothing");
    }
    let before = api.audit_entries().await.len();
    let answer = api
        .call(
            Method::POST,
            "/api/credentials/dual/export",
            Some("admin"),
            Some(json!({})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let body = answer.text();
    for lines in &key_lines["dual"] {
        for line in lines {
            assert!(body.contains(line.as_str()), "the export holds {line}");
        }
    }
    let hits = scanner.hits(&answer.body);
    assert!(
        hits.iter().all(|l| l.starts_with("key of dual v1")),
        "the export holds no other secret: {hits:?}"
    );
    for exported in answer.json().as_array().unwrap() {
        // The key handed out is the key stored.
        let family = exported["family"].as_str().unwrap();
        let pem = exported["key_pem"].as_str().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
        let base64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = STANDARD.decode(base64).unwrap();
        let stored = store
            .key_versions(&dual, None)
            .await
            .unwrap()
            .into_iter()
            .find(|k| k.family.to_string() == family)
            .unwrap();
        assert_eq!(
            der,
            store.unseal_key(&stored).unwrap().to_vec(),
            "the exported {family} key"
        );
    }
    let entries = api.audit_entries().await;
    assert_eq!(entries.len(), before + 1, "exactly one audit entry");
    let entry = entries.last().unwrap();
    assert_eq!(
        (
            entry.action.as_str(),
            entry.target.as_str(),
            entry.actor.as_str(),
            entry.outcome.as_str()
        ),
        ("cred.export", "dual", "token:admin", "ok"),
    );
    assert_eq!(exported_events().await, 1, "one exported event");
    let events = expect(
        &api,
        Method::GET,
        "/api/credentials/dual/events",
        "viewer",
        None,
        StatusCode::OK,
    )
    .await;
    let last = events.as_array().unwrap().last().unwrap();
    assert_eq!(last["kind"], "exported", "{events}");
    assert!(
        last["message"].as_str().unwrap().contains("token:admin"),
        "{last}"
    );
}
