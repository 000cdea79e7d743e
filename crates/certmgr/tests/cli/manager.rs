//! `certmgr server` as the manager, the real process end to end: first start
//! on a fresh data directory (store, first admin, its own certificate from
//! the MicroCA `default`), HTTPS that verifies against that CA's root alone,
//! the plain HTTP listener's redirect, security headers, the session cookie
//! over TLS, `--print-config`, a renewed certificate served without a
//! restart, and a clean stop on SIGTERM.
//!
//! HTTPS is checked with the real `curl` and `openssl s_client`, trusting
//! only the file `certmgr ca show default --pem` wrote.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use certmgr_testkit::{TestBackend, free_port};

use crate::util::{Env, collect_lines, openssl, terminate, wait_exit};

const PASSWORD: &str = "first admin's long password 4 tests";

/// A running `certmgr server` on free loopback ports, killed on drop.
struct Manager {
    child: Child,
    api: u16,
    http: u16,
    /// Its stderr so far (the startup lines, then what it logs).
    log: Arc<Mutex<String>>,
    /// Everything it printed on stdout, once it has exited.
    stdout: Option<JoinHandle<String>>,
}

impl Manager {
    /// `certmgr server` with the API on one free port and plain HTTP on
    /// another, no TLS-ALPN listener, no scheduler; the first admin's
    /// password from the environment when `password` is given. Returns once
    /// it said where it listens.
    fn start(env: &Env, password: Option<&str>, extra: &[&str]) -> Manager {
        let (api, http) = (free_port(), free_port());
        let mut command = env.command(&[
            "server",
            "--listen",
            &format!("127.0.0.1:{api}"),
            "--http-listen",
            &format!("127.0.0.1:{http}"),
            "--https-listen",
            "off",
            "--renew-interval",
            "0",
        ]);
        command.args(extra).env_remove("CERTMGR_ADMIN_PASSWORD");
        if let Some(password) = password {
            command.env("CERTMGR_ADMIN_PASSWORD", password);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = out.read_to_string(&mut text);
            text
        });
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut startup = String::new();
        // The last startup line names the challenge listeners.
        while !startup.contains("HTTP-01 on") {
            let mut line = String::new();
            let read = stderr.read_line(&mut line).unwrap();
            assert!(read > 0, "certmgr server did not start:\n{startup}");
            startup.push_str(&line);
        }
        let log = collect_lines(stderr, startup);
        Manager {
            child,
            api,
            http,
            log,
            stdout: Some(stdout),
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGTERM: the server must exit 0 within a few seconds. Returns what
    /// it printed on stdout.
    fn stop(mut self) -> String {
        terminate(&self.child);
        let log = self.log.clone();
        let status = wait_exit(&mut self.child, Duration::from_secs(5), || {
            log.lock().unwrap().clone()
        });
        assert!(
            status.success(),
            "exit on SIGTERM: {status}\n{}",
            self.log()
        );
        self.stdout.take().unwrap().join().unwrap()
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What curl got: status, headers (names in lower case), body.
struct Fetched {
    status: u16,
    headers: BTreeMap<String, String>,
    body: String,
}

/// `curl` once, trusting only `ca` (the system's roots when `None`);
/// `localhost` is 127.0.0.1. Panics when curl fails.
fn curl(ca: Option<&Path>, url: &str, extra: &[&str]) -> Fetched {
    let output = curl_output(ca, url, extra);
    assert!(
        output.status.success(),
        "curl {url} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text}"));
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_lowercase(), value.trim().to_owned()))
        .collect();
    Fetched {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn curl_output(ca: Option<&Path>, url: &str, extra: &[&str]) -> std::process::Output {
    let port = url
        .rsplit_once(':')
        .and_then(|(_, rest)| rest.split('/').next())
        .unwrap_or_default()
        .to_owned();
    let mut command = Command::new("curl");
    command
        .args(["-sS", "-i", "--max-time", "10", "--resolve"])
        .arg(format!("localhost:{port}:127.0.0.1"));
    if let Some(ca) = ca {
        command.arg("--cacert").arg(ca);
    }
    command.args(extra).arg(url).output().expect("curl runs")
}

/// The certificate the API presents to a client asking for `localhost`
/// (verified against `root`), as PEM.
fn served_certificate(port: u16, root: &Path) -> String {
    let output = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-servername",
            "localhost",
            "-verify_hostname",
            "localhost",
            "-verify_return_error",
            "-CAfile",
        ])
        .arg(root)
        .stdin(Stdio::null())
        .output()
        .expect("openssl runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "openssl s_client failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let begin = text
        .find("-----BEGIN CERTIFICATE-----")
        .expect("a certificate");
    let end = text[begin..].find("-----END CERTIFICATE-----").unwrap() + begin;
    format!("{}-----END CERTIFICATE-----\n", &text[begin..end])
}

/// A field of a certificate as `openssl x509 -noout -<field>` prints it.
fn x509(dir: &Path, pem: &str, field: &[&str]) -> String {
    std::fs::write(dir.join("served.pem"), pem).unwrap();
    let mut args = vec!["x509", "-in", "served.pem", "-noout"];
    args.extend_from_slice(field);
    openssl(dir, &args)
}

/// A SHA-256 fingerprint without separators, in lower case.
fn plain_hex(fingerprint: &str) -> String {
    fingerprint
        .rsplit('=')
        .next()
        .unwrap_or_default()
        .trim()
        .replace(':', "")
        .to_lowercase()
}

/// The credential's current version and the fingerprints of its
/// certificates (one per key).
fn stored_fingerprints(env: &Env, credential: &str) -> (i64, Vec<String>) {
    let shown = env.json(&["cred", "show", credential]);
    let version = shown["credential"]["current_version"].as_i64().unwrap();
    let fingerprints: Vec<String> = shown["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|key| key["certificate"]["sha256_fingerprint"].as_str())
        .map(plain_hex)
        .collect();
    assert!(!fingerprints.is_empty(), "no certificate: {shown}");
    (version, fingerprints)
}

/// Write the MicroCA `default`'s root, as `certmgr ca show default --pem`
/// prints it, to the scratch file `root.pem`.
fn trust_root(env: &Env) -> PathBuf {
    let root = env.ok(&["ca", "show", "default", "--pem"]);
    assert!(root.starts_with("-----BEGIN CERTIFICATE-----"), "{root}");
    env.file("root.pem", root)
}

fn sign_in(ca: &Path, api: u16, password: &str) -> Fetched {
    let body = serde_json::json!({"user": "admin", "password": password}).to_string();
    curl(
        Some(ca),
        &format!("https://localhost:{api}/api/session"),
        &[
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "--data",
            &body,
        ],
    )
}

#[test]
fn the_manager_starts_on_a_fresh_store_serves_https_and_swaps_in_a_renewed_certificate() {
    let env = Env::empty();
    let data = env.store.data_dir();
    assert!(!data.join("master.key").exists());
    // Looks for a renewed certificate every second, not every minute.
    let config = env.file("server.toml", "[tls]\nrefresh_secs = 1\n");
    let server = Manager::start(
        &env,
        Some(PASSWORD),
        &["--config", config.to_str().unwrap()],
    );
    let startup = server.log();

    // The store was made on this start (no `certmgr init`).
    assert!(
        startup.contains(&format!("store created in {}", data.display())),
        "{startup}"
    );
    assert!(data.join("master.key").exists(), "{startup}");
    if env.store.backend() == TestBackend::Sqlite {
        assert!(data.join("certmgr.db").exists(), "{startup}");
    }
    let url = format!("https://127.0.0.1:{}", server.api);
    assert!(
        startup.contains(&format!(
            "certmgr server: {url}/ (API {url}/api, reference {url}/api/docs)"
        )),
        "the URL line: {startup}"
    );
    assert!(
        startup.contains(&format!("HTTP-01 on 127.0.0.1:{}", server.http)),
        "{startup}"
    );

    // HTTPS with the certificate of credential certmgr-server, which
    // verifies against the MicroCA's root alone, for localhost and
    // 127.0.0.1.
    let root = trust_root(&env);
    for host in ["localhost", "127.0.0.1"] {
        let health = curl(
            Some(&root),
            &format!("https://{host}:{}/api/health", server.api),
            &[],
        );
        assert_eq!(health.status, 200, "{host}: {}", health.body);
    }
    let untrusted = curl_output(
        None,
        &format!("https://localhost:{}/api/health", server.api),
        &[],
    );
    assert_eq!(
        untrusted.status.code(),
        Some(60),
        "the system's roots do not know the MicroCA: {}",
        String::from_utf8_lossy(&untrusted.stderr)
    );
    let first = served_certificate(server.api, &root);
    let names = x509(env.store.work_dir(), &first, &["-ext", "subjectAltName"]);
    assert!(names.contains("DNS:localhost"), "{names}");
    assert!(names.contains("IP Address:127.0.0.1"), "{names}");
    let first_fingerprint = plain_hex(&x509(
        env.store.work_dir(),
        &first,
        &["-fingerprint", "-sha256"],
    ));
    let (version, stored) = stored_fingerprints(&env, "certmgr-server");
    assert_eq!(version, 1);
    assert!(
        stored.contains(&first_fingerprint),
        "it serves its credential's certificate: {first_fingerprint} not in {stored:?}"
    );

    // Security headers on API answers, a success and a refusal alike.
    for path in ["/api/health", "/api/session"] {
        let answer = curl(
            Some(&root),
            &format!("https://localhost:{}{path}", server.api),
            &[],
        );
        let header = |name: &str| {
            answer
                .headers
                .get(name)
                .cloned()
                .unwrap_or_else(|| panic!("{path}: no {name}: {:?}", answer.headers))
        };
        let csp = header("content-security-policy");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(
            header("strict-transport-security").starts_with("max-age="),
            "{path}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
    }
    assert_eq!(
        curl(
            Some(&root),
            &format!("https://localhost:{}/api/session", server.api),
            &[]
        )
        .status,
        401
    );

    // The first admin has the password from CERTMGR_ADMIN_PASSWORD; the
    // session cookie is Secure over TLS.
    let signed_in = sign_in(&root, server.api, PASSWORD);
    assert_eq!(signed_in.status, 201, "{}", signed_in.body);
    let cookie = &signed_in.headers["set-cookie"];
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
    for flag in ["Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(attributes.contains(&flag), "{flag} missing: {cookie}");
    }
    assert_eq!(sign_in(&root, server.api, "not the password").status, 401);

    // Plain HTTP: everything is redirected to the API, except the HTTP-01
    // answers, which validators must get here.
    let redirected = curl(
        None,
        &format!("http://127.0.0.1:{}/x?y=1", server.http),
        &[],
    );
    assert_eq!(redirected.status, 308, "{}", redirected.body);
    assert_eq!(redirected.headers["location"], format!("{url}/x?y=1"));
    let challenge = curl(
        None,
        &format!(
            "http://127.0.0.1:{}/.well-known/acme-challenge/foo",
            server.http
        ),
        &[],
    );
    assert_eq!(challenge.status, 404, "{}", challenge.body);
    assert!(!challenge.headers.contains_key("location"));

    // A new version of the credential, issued by another process on the
    // same store, is served without a restart.
    env.ok(&["cred", "issue", "certmgr-server"]);
    let (version, renewed) = stored_fingerprints(&env, "certmgr-server");
    assert_eq!(version, 2);
    assert!(!renewed.contains(&first_fingerprint), "{renewed:?}");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let served = served_certificate(server.api, &root);
        let fingerprint = plain_hex(&x509(
            env.store.work_dir(),
            &served,
            &["-fingerprint", "-sha256"],
        ));
        if renewed.contains(&fingerprint) {
            break;
        }
        assert_eq!(fingerprint, first_fingerprint, "neither version");
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was not picked up:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(
        server
            .log()
            .contains("serving version 2 of the API's certificate"),
        "{}",
        server.log()
    );
    assert_eq!(
        curl(
            Some(&root),
            &format!("https://localhost:{}/api/health", server.api),
            &[]
        )
        .status,
        200
    );

    let stdout = server.stop();
    assert!(!stdout.contains(PASSWORD), "{stdout}");
    assert!(
        stdout.contains("created with the password from CERTMGR_ADMIN_PASSWORD"),
        "{stdout}"
    );
}

#[test]
fn without_an_admin_password_the_first_start_prints_one_once() {
    let env = Env::empty();
    let server = Manager::start(&env, None, &[]);
    let root = trust_root(&env);
    let stdout = server.stop();
    let shown: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.split_once("its password, shown this once: "))
        .map(|(_, password)| password.trim())
        .collect();
    assert_eq!(shown.len(), 1, "{stdout}");
    let password = shown[0].to_owned();
    assert!(password.len() >= 16, "{password}");

    // A second start on the same store: the admin exists, nothing printed,
    // and the printed password is the admin's.
    let server = Manager::start(&env, None, &[]);
    let signed_in = sign_in(&root, server.api, &password);
    assert_eq!(signed_in.status, 201, "{}", signed_in.body);
    let stdout = server.stop();
    assert!(!stdout.contains(&password), "{stdout}");
    assert!(!stdout.contains("created"), "{stdout}");
}

#[test]
fn print_config_shows_the_effective_configuration_with_the_client_secret_redacted() {
    let env = Env::empty();
    let config = env.file(
        "server.toml",
        "renew_interval_secs = 600\n\
         [oidc]\n\
         issuer_url = \"https://id.example.test/realms/corp\"\n\
         client_id = \"certmgr\"\n\
         client_secret = \"oidc-client-s3cret-value\"\n\
         redirect_url = \"https://certmgr.example.test/api/oidc/callback\"\n\
         [oidc.group_roles]\n\
         pki-admins = \"admin\"\n",
    );
    let shown = env.ok(&[
        "server",
        "--config",
        config.to_str().unwrap(),
        "--listen",
        "127.0.0.1:9443",
        "--print-config",
    ]);
    assert!(!shown.contains("oidc-client-s3cret-value"), "{shown}");
    for line in [
        "client_secret = \"[redacted]\"",
        "listen = \"127.0.0.1:9443\"",
        "http_listen = \"0.0.0.0:80\"",
        "renew_interval_secs = 600",
        "refresh_secs = 60",
        "issuer_url = \"https://id.example.test/realms/corp\"",
        "pki-admins = \"admin\"",
    ] {
        assert!(
            shown.lines().any(|l| l.trim() == line),
            "{line} missing:\n{shown}"
        );
    }
    assert!(shown.contains("[oidc]"), "{shown}");
    assert!(
        !env.store.data_dir().join("master.key").exists(),
        "printing the configuration creates no store"
    );
}
