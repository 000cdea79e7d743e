//! `certmgr cred check`: the pre-flight says what would break validation.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::Env;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A tiny HTTP server (Python) that redirects every GET to `target`, where
/// `{path}` is replaced by the request path.
struct Redirector(Child);

impl Redirector {
    fn start(env: &Env, port: u16, target: &str) -> Redirector {
        let script = env.file(
            "redirect.py",
            "import http.server, sys\n\
             port, target = int(sys.argv[1]), sys.argv[2]\n\
             class H(http.server.BaseHTTPRequestHandler):\n\
             \x20   def do_GET(self):\n\
             \x20       self.send_response(301)\n\
             \x20       self.send_header('Location', target.replace('{path}', self.path))\n\
             \x20       self.end_headers()\n\
             \x20   def log_message(self, *args):\n\
             \x20       pass\n\
             http.server.HTTPServer(('127.0.0.1', port), H).serve_forever()\n",
        );
        let child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(target)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port);
        Redirector(child)
    }
}

impl Drop for Redirector {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A child process killed when the test ends, also when it fails.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "port {port} did not open");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn check_reports_ok_and_each_kind_of_breakage() {
    // ACME credentials need an account; Pebble provides one (it is not contacted by the check).
    if !certmgr_testkit::pebble::pebble_available() {
        return;
    }
    let t = crate::acme::AcmeEnv::start();
    let env = &t.env;
    env.ok(&[
        "cred",
        "create",
        "c",
        "--host",
        "localhost",
        "--host",
        "127.0.0.1",
        "--issuer",
        "acme:pb",
    ]);
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let result = env.json(&[
        "cred",
        "check",
        "c",
        "--http-port",
        &port.to_string(),
        "--http01-listen",
        &listen,
    ]);
    assert!(
        result.as_array().unwrap().iter().all(|p| p["ok"] == true),
        "{result}"
    );

    // Nothing listens where the CA connects.
    let closed = free_port();
    let err = env.fails(
        1,
        &[
            "cred",
            "check",
            "c",
            "--http-port",
            &closed.to_string(),
            "--http01-listen",
            &listen,
        ],
    );
    assert!(err.contains("would fail"), "{err}");
    let out = env.run(&[
        "--json",
        "cred",
        "check",
        "c",
        "--http-port",
        &closed.to_string(),
        "--http01-listen",
        &listen,
    ]);
    let probes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        probes[0]["detail"]
            .as_str()
            .unwrap()
            .contains("connection refused"),
        "{probes}"
    );

    // Another web server answers instead (here: one that redirects in a loop).
    let looping = free_port();
    let _loop = Redirector::start(env, looping, &format!("http://127.0.0.1:{looping}{{path}}"));
    let out = env.run(&[
        "--json",
        "cred",
        "check",
        "c",
        "--http-port",
        &looping.to_string(),
        "--http01-listen",
        &listen,
    ]);
    let probes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        probes[0]["detail"]
            .as_str()
            .unwrap()
            .contains("redirect loop"),
        "{probes}"
    );

    // A plain web server answers where certmgr should (a proxy without the challenge path).
    let other = free_port();
    let web = KillOnDrop(
        Command::new("python3")
            .args([
                "-m",
                "http.server",
                &other.to_string(),
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(env.store.work_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_port(other);
    let out = env.run(&[
        "--json",
        "cred",
        "check",
        "c",
        "--http-port",
        &other.to_string(),
        "--http01-listen",
        &listen,
    ]);
    drop(web);
    let probes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        probes[0]["detail"]
            .as_str()
            .unwrap()
            .contains("HTTP 404: another web server"),
        "{probes}"
    );

    // Port 80 redirects to HTTPS on another port, where a certmgr server answers: fine.
    let https = free_port();
    let http = free_port();
    let _server = KillOnDrop(
        env.command(&[
            "server",
            "--listen",
            "off",
            "--no-renew",
            "--http-listen",
            &format!("127.0.0.1:{http}"),
            "--https-listen",
            &format!("127.0.0.1:{https}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap(),
    );
    wait_for_port(https);
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.live_servers() == 0 {
        assert!(Instant::now() < deadline, "server did not register");
        std::thread::sleep(Duration::from_millis(50));
    }
    let front = free_port();
    let _redirect = Redirector::start(env, front, &format!("https://localhost:{https}{{path}}"));
    // No listen flag: the probe is published through the running server.
    let out = env.run(&[
        "--json",
        "cred",
        "check",
        "c",
        "--http-port",
        &front.to_string(),
    ]);
    let probes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{probes} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        probes[0]["detail"].as_str().unwrap().contains("redirect"),
        "{probes}"
    );

    // TLS-ALPN-01 through the same server.
    env.ok(&[
        "cred",
        "create",
        "a",
        "--host",
        "localhost",
        "--issuer",
        "acme:pb",
        "--challenge",
        "tls-alpn-01",
    ]);
    let result = env.json(&["cred", "check", "a", "--tls-port", &https.to_string()]);
    assert_eq!(result[0]["ok"], true, "{result}");
    drop(_server);

    // A name that does not resolve.
    env.ok(&[
        "cred",
        "create",
        "n",
        "--host",
        "no-such-name.invalid",
        "--issuer",
        "acme:pb",
    ]);
    let out = env.run(&[
        "--json",
        "cred",
        "check",
        "n",
        "--http-port",
        &port.to_string(),
        "--http01-listen",
        &listen,
    ]);
    let probes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        probes[0]["detail"].as_str().unwrap().starts_with("DNS:"),
        "{probes}"
    );
}

#[test]
fn a_dns01_credential_is_pointed_at_its_dns_account_test() {
    if !certmgr_testkit::pebble::pebble_available() {
        return;
    }
    let t = crate::acme::AcmeEnv::start();
    let env = &t.env;
    env.ok(&[
        "dns",
        "account",
        "create",
        "hook",
        "--provider",
        "script",
        "--zone",
        "example.test",
        "--set",
        "command=/bin/true",
    ]);
    env.ok(&[
        "cred",
        "create",
        "d",
        "--host",
        "www.example.test",
        "--host",
        "*.example.test",
        "--issuer",
        "acme:pb",
        "--challenge",
        "dns-01",
    ]);
    let err = env.fails(2, &["cred", "check", "d"]);
    assert!(err.contains("run `certmgr dns account test hook`"), "{err}");
    assert!(!err.contains("later version"), "{err}");
}
