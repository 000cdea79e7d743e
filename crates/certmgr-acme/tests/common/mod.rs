//! Shared helpers of the Pebble integration tests: a private Pebble per test,
//! accounts, CSRs, instrumented challenge solvers, and checks on issued chains.

#![allow(dead_code)] // each test binary uses a part of these helpers

use std::sync::Mutex;
use std::time::Duration;

use certmgr_acme::{
    AccountRequest, AcmeAccount, AcmeError, AcmeOrder, ChallengeAnswer, ChallengeSolver, Deadlines,
    Http01Responder, Http01Tokens, IssuedChain, OrderRequest, Solvers, new_account_credentials,
};
use certmgr_core::{ChallengeKind, Hostname, KeySpec};
use certmgr_pki::{
    ChainOptions, PrivateKey, TrustAnchors, build_chain, certificate_info, create_csr, key_matches,
};
use certmgr_testkit::Pebble;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zeroize::Zeroizing;

/// Return early (skipping the test, visibly) when Pebble is not installed;
/// under `CI=true`, fail instead (`pebble_available` panics).
#[macro_export]
macro_rules! need_pebble {
    () => {
        if !certmgr_testkit::pebble::pebble_available() {
            return;
        }
    };
}

/// Upper bound of any single step that talks to Pebble: a hung step fails
/// the test instead of hanging it.
pub const GUARD: Duration = Duration::from_secs(45);

/// Time limits for orders expected to succeed.
pub fn generous() -> Deadlines {
    Deadlines::starting_now(Duration::from_secs(30), Duration::from_secs(40))
}

/// `future`, or a panic naming `what` when it runs past [`GUARD`].
pub async fn guarded<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(GUARD, future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {GUARD:?}"))
}

/// A fresh Pebble, started off the async worker (start-up blocks).
pub async fn start_pebble() -> Pebble {
    tokio::task::spawn_blocking(Pebble::start)
        .await
        .expect("start pebble")
}

/// The PEM of the CA that signed Pebble's HTTPS certificate.
pub fn ca_bundle(pebble: &Pebble) -> String {
    std::fs::read_to_string(pebble.ca_bundle_path()).expect("read pebble's CA bundle")
}

/// A registration request for `directory_url` with terms agreed.
pub fn account_request(directory_url: &str, ca_bundle_pem: &str) -> AccountRequest {
    AccountRequest {
        directory_url: directory_url.to_owned(),
        emails: vec!["admin@example.test".to_owned()],
        agree_tos: true,
        eab: None,
        ca_bundle_pem: Some(ca_bundle_pem.to_owned()),
        profile: None,
    }
}

/// A new account at `pebble`, with its stored credentials.
pub async fn register(pebble: &Pebble) -> (AcmeAccount, Zeroizing<Vec<u8>>) {
    register_at(&pebble.directory_url(), &ca_bundle(pebble)).await
}

/// A new account at the directory, with its stored credentials.
pub async fn register_at(
    directory_url: &str,
    ca_bundle_pem: &str,
) -> (AcmeAccount, Zeroizing<Vec<u8>>) {
    let credentials = new_account_credentials(directory_url).expect("account credentials");
    let registered = guarded(
        "registration",
        AcmeAccount::register(
            &account_request(directory_url, ca_bundle_pem),
            &credentials,
            false,
        ),
    )
    .await
    .expect("register an account");
    assert!(!registered.found_again, "a new key has no account yet");
    (registered.account, registered.credentials_json)
}

/// Parsed hostnames.
pub fn hostnames(names: &[&str]) -> Vec<Hostname> {
    names
        .iter()
        .map(|n| n.parse().unwrap_or_else(|e| panic!("{n}: {e}")))
        .collect()
}

/// A fresh P-256 key and a CSR (DER) for `names`, made by certmgr-pki.
pub fn key_and_csr(names: &[Hostname]) -> (PrivateKey, Vec<u8>) {
    let key = PrivateKey::generate(KeySpec::EcdsaP256).expect("generate key");
    let pem_text = create_csr(&key, names).expect("create CSR");
    let block = pem::parse(pem_text).expect("CSR PEM");
    assert_eq!(block.tag(), "CERTIFICATE REQUEST");
    (key, block.into_contents())
}

/// Progress messages of one order, collected.
#[derive(Default)]
pub struct Progress(Mutex<Vec<String>>);

impl Progress {
    pub fn record(&self, message: &str) {
        self.lock().push(message.to_owned());
    }

    pub fn messages(&self) -> Vec<String> {
        self.lock().clone()
    }

    pub fn contains(&self, part: &str) -> bool {
        self.lock().iter().any(|m| m.contains(part))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A solver that records every answer it is asked to present and to
/// withdraw, around an inner solver.
pub struct Recording<S> {
    pub inner: S,
    presented: Mutex<Vec<ChallengeAnswer>>,
    cleaned: Mutex<Vec<ChallengeAnswer>>,
}

impl<S> Recording<S> {
    pub fn new(inner: S) -> Recording<S> {
        Recording {
            inner,
            presented: Mutex::new(Vec::new()),
            cleaned: Mutex::new(Vec::new()),
        }
    }

    /// Answers `present` was called with, in order.
    pub fn presented(&self) -> Vec<ChallengeAnswer> {
        self.presented
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Answers `cleanup` was called with, in order.
    pub fn cleaned(&self) -> Vec<ChallengeAnswer> {
        self.cleaned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every presented answer was withdrawn (once), and nothing else was.
    pub fn assert_all_cleaned(&self) {
        let mut presented = self.presented();
        let mut cleaned = self.cleaned();
        assert!(!presented.is_empty(), "nothing was presented");
        let order = |a: &ChallengeAnswer, b: &ChallengeAnswer| a.token.cmp(&b.token);
        presented.sort_by(order);
        presented.dedup();
        cleaned.sort_by(order);
        assert_eq!(cleaned, presented, "every answer is withdrawn once");
    }
}

impl<S: ChallengeSolver> ChallengeSolver for Recording<S> {
    async fn present(&self, answer: &ChallengeAnswer) -> Result<(), AcmeError> {
        self.presented
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(answer.clone());
        self.inner.present(answer).await
    }

    async fn cleanup(&self, answer: &ChallengeAnswer) -> Result<(), AcmeError> {
        self.cleaned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(answer.clone());
        self.inner.cleanup(answer).await
    }
}

/// An HTTP-01 responder on Pebble's validation port, answering `tokens`.
pub async fn http01_responder(pebble: &Pebble, tokens: Http01Tokens) -> Http01Responder {
    let address = format!("127.0.0.1:{}", pebble.http01_port())
        .parse()
        .expect("address");
    Http01Responder::start(address, tokens)
        .await
        .expect("start the HTTP-01 responder")
}

/// Order `names` and complete the order with `challenge` through `solver`.
pub async fn order_and_complete<S: ChallengeSolver>(
    account: &AcmeAccount,
    names: &[&str],
    challenge: ChallengeKind,
    solver: &S,
) -> (PrivateKey, IssuedChain, Progress) {
    let hostnames = hostnames(names);
    let (key, csr) = key_and_csr(&hostnames);
    let request = OrderRequest {
        hostnames: &hostnames,
        profile: None,
        replaces: None,
    };
    let mut order = guarded("newOrder", AcmeOrder::create(account, &request))
        .await
        .expect("create the order");
    assert!(order.url().starts_with("https://"), "{}", order.url());
    let progress = Progress::default();
    let issued = guarded(
        "the order",
        order.complete(account, &csr, challenge, solver, &generous(), &|m: &str| {
            progress.record(m)
        }),
    )
    .await
    .unwrap_or_else(|e| panic!("{challenge} order for {names:?} failed: {e}"));
    (key, issued, progress)
}

/// Issue a certificate for `names` over HTTP-01 with the built-in responder.
pub async fn issue_http01(
    pebble: &Pebble,
    account: &AcmeAccount,
    names: &[&str],
) -> (PrivateKey, IssuedChain) {
    let solvers = Solvers::default();
    let _responder = http01_responder(pebble, solvers.http01.clone()).await;
    let (key, issued, _) =
        order_and_complete(account, names, ChallengeKind::Http01, &solvers).await;
    assert_issued(pebble, &issued, &key, names);
    (key, issued)
}

/// The chain is leaf first, verifies up to this Pebble's root, the leaf
/// names exactly `names` and carries `key`'s public key.
pub fn assert_issued(pebble: &Pebble, issued: &IssuedChain, key: &PrivateKey, names: &[&str]) {
    assert!(
        issued.certs_der.len() >= 2,
        "leaf and intermediate expected, got {} certificates",
        issued.certs_der.len()
    );
    let leaf_der = &issued.certs_der[0];
    let leaf = certificate_info(leaf_der).expect("parse the leaf");
    let mut got = leaf.dns_names.clone();
    got.sort();
    let mut wanted: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    wanted.sort();
    assert_eq!(got, wanted, "the leaf's SANs are the names ordered");
    assert!(leaf.ip_addresses.is_empty(), "{:?}", leaf.ip_addresses);
    assert!(!leaf.is_ca, "the leaf is no CA");
    assert!(
        key_matches(key, leaf_der).expect("compare keys"),
        "the leaf carries the CSR's key"
    );
    let root = pem::parse(pebble.root_pem()).expect("pebble root PEM");
    let mut anchors = TrustAnchors::new();
    anchors.add_der(root.into_contents()).expect("trust anchor");
    let verified = build_chain(
        leaf_der,
        &issued.certs_der[1..],
        &anchors,
        &ChainOptions::default(),
    )
    .unwrap_or_else(|e| panic!("the chain does not verify to this Pebble's root: {e}"));
    assert_eq!(&verified.leaf, leaf_der);
    assert!(!verified.intermediates.is_empty());
    let url = issued
        .certificate_url
        .as_deref()
        .expect("the certificate URL is known");
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
}

/// Publishes DNS-01 answers as TXT records in pebble-challtestsrv (its
/// management API), several values per name, and withdraws them one by one.
/// After each change it asks challtestsrv's DNS server what it serves now.
pub struct ChalltestsrvTxt {
    api: String,
    dns: std::net::SocketAddr,
    /// The values published per record name, as this solver left them.
    records: Mutex<std::collections::BTreeMap<String, Vec<String>>>,
    /// After each `present` and `cleanup`: (record name, the TXT values the
    /// DNS server answered, sorted).
    served: Mutex<Vec<(String, Vec<String>)>>,
}

impl ChalltestsrvTxt {
    pub fn new(pebble: &Pebble) -> ChalltestsrvTxt {
        ChalltestsrvTxt {
            api: pebble.challtestsrv_api(),
            dns: pebble.dns_server().parse().expect("DNS server address"),
            records: Mutex::new(Default::default()),
            served: Mutex::new(Vec::new()),
        }
    }

    /// What the DNS server answered after each change, in order.
    pub fn served(&self) -> Vec<(String, Vec<String>)> {
        self.served
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The TXT values the DNS server answers for `host` now, sorted; also recorded.
    pub async fn observe(&self, host: &str) -> Result<Vec<String>, AcmeError> {
        let mut values = certmgr_dnswire::txt_values(self.dns, host.trim_end_matches('.'))
            .await
            .map_err(|e| AcmeError::Solver(format!("TXT {host}: {e}").into()))?;
        values.sort();
        self.served
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((host.to_owned(), values.clone()));
        Ok(values)
    }

    /// The values published now, per record name (fully qualified).
    pub fn records(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn record_name(answer: &ChallengeAnswer) -> String {
        format!("_acme-challenge.{}.", answer.identifier)
    }
}

impl ChallengeSolver for ChalltestsrvTxt {
    async fn present(&self, answer: &ChallengeAnswer) -> Result<(), AcmeError> {
        assert_eq!(answer.kind, ChallengeKind::Dns01);
        let host = Self::record_name(answer);
        // challtestsrv adds the value to those already published for the name.
        challtestsrv_post(
            &self.api,
            "/set-txt",
            serde_json::json!({ "host": host, "value": answer.dns_value }),
        )
        .await?;
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(host.clone())
            .or_default()
            .push(answer.dns_value.clone());
        self.observe(&host).await.map(|_| ())
    }

    async fn cleanup(&self, answer: &ChallengeAnswer) -> Result<(), AcmeError> {
        let host = Self::record_name(answer);
        // challtestsrv can only clear a name: clear it, then put back the
        // values of the other answers still published there.
        let remaining = {
            let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
            let values = records.entry(host.clone()).or_default();
            values.retain(|v| v != &answer.dns_value);
            let remaining = values.clone();
            if remaining.is_empty() {
                records.remove(&host);
            }
            remaining
        };
        challtestsrv_post(&self.api, "/clear-txt", serde_json::json!({ "host": host })).await?;
        for value in remaining {
            challtestsrv_post(
                &self.api,
                "/set-txt",
                serde_json::json!({ "host": host, "value": value }),
            )
            .await?;
        }
        self.observe(&host).await.map(|_| ())
    }
}

/// POST `body` to challtestsrv's management API (plain HTTP/1.1).
pub async fn challtestsrv_post(
    api: &str,
    path: &str,
    body: serde_json::Value,
) -> Result<(), AcmeError> {
    let fail = |e: String| AcmeError::Solver(format!("challtestsrv {path}: {e}").into());
    let authority = api
        .strip_prefix("http://")
        .ok_or_else(|| fail(format!("not an http:// URL: {api}")))?;
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(authority).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| fail("no answer within 10 s".into()))?
        .map_err(|e| fail(e.to_string()))?;
    let response = String::from_utf8_lossy(&response);
    let status = response.lines().next().unwrap_or_default();
    if status.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(fail(format!("answered {status:?}")))
    }
}
