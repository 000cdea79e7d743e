//! `certmgr server`: answers challenges for every process sharing the store,
//! over HTTP, HTTPS and TLS-ALPN, and renews on schedule.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use certmgr_testkit::pebble::pebble_available;

use crate::acme::AcmeEnv;
use crate::need_pebble;

/// A running `certmgr server`, killed on drop.
pub struct Server {
    child: Child,
}

impl Server {
    /// Start on the Pebble's HTTP-01 and TLS-ALPN-01 ports, with `extra` flags.
    pub fn start(t: &AcmeEnv, extra: &[&str]) -> Server {
        let http = t.http01();
        let https = t.tls_alpn01();
        let mut child = t
            .env
            .command(&[
                "server",
                "--listen",
                "off",
                "--http-listen",
                &http,
                "--https-listen",
                &https,
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        assert!(line.contains("HTTP-01 on"), "server did not start: {line}");
        // Keep draining its log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in stderr.lines() {});
        Server { child }
    }

    /// Stop with SIGTERM and check the clean exit.
    pub fn stop(mut self) {
        crate::util::terminate(&self.child);
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "server exits cleanly on SIGTERM: {status}"
        );
        std::mem::forget(self);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn curl_https(port: u16, path: &str) -> String {
    let out = Command::new("curl")
        .args([
            "-sk",
            "--max-time",
            "5",
            &format!("https://127.0.0.1:{port}{path}"),
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_server_answers_for_other_processes_over_http_https_and_tls_alpn() {
    need_pebble!();
    let t = AcmeEnv::start();
    let server = Server::start(&t, &["--no-renew"]);
    assert_eq!(
        curl_https(t.pebble.tls_alpn01_port(), "/healthz"),
        "ok\n",
        "HTTPS with any certificate"
    );
    assert_eq!(t.env.live_servers(), 1, "the server registered itself");

    t.env.ok(&[
        "cred",
        "create",
        "web",
        "--host",
        "web.example.test",
        "--issuer",
        "acme:pb",
    ]);
    let out = t.env.run(&["cred", "issue", "web"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("answering through the certmgr server"),
        "{stderr}"
    );
    t.verify("web", &[""]);

    t.env.ok(&[
        "cred",
        "create",
        "alpn",
        "--host",
        "alpn.example.test",
        "--issuer",
        "acme:pb",
        "--challenge",
        "tls-alpn-01",
    ]);
    t.env.ok(&["cred", "issue", "alpn"]);
    t.verify("alpn", &[""]);

    server.stop();
    assert_eq!(
        t.env.live_servers(),
        0,
        "the server unregistered on SIGTERM"
    );
}

#[test]
fn the_server_issues_what_is_due_on_schedule() {
    need_pebble!();
    let t = AcmeEnv::start();
    t.env.ok(&["ca", "create", "lab"]);
    t.env.ok(&[
        "cred",
        "create",
        "auto",
        "--host",
        "auto.example.test",
        "--issuer",
        "acme:pb",
    ]);
    t.env.ok(&[
        "cred",
        "create",
        "local",
        "--host",
        "local.example.test",
        "--issuer",
        "ca:lab",
    ]);
    let server = Server::start(&t, &["--renew-interval", "1"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = t.env.json(&["cred", "list"]);
        if list
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "valid")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the scheduler did not issue in time: {list}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    server.stop();
    t.verify("auto", &[""]);
}

#[test]
fn webroot_mode_writes_the_answer_where_a_web_server_serves_it() {
    need_pebble!();
    let t = AcmeEnv::start();
    // A stand-in for an existing web server: Python's, serving the web root.
    let root = t.env.path("htdocs");
    std::fs::create_dir_all(&root).unwrap();
    let port = t.pebble.http01_port().to_string();
    let web = crate::check::KillOnDrop(
        Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port,
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(&root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", t.pebble.http01_port())).is_err() {
        assert!(Instant::now() < deadline, "web server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    t.env.ok(&[
        "cred",
        "create",
        "site",
        "--host",
        "site.example.test",
        "--issuer",
        "acme:pb",
    ]);
    let result = t
        .env
        .run(&["cred", "issue", "site", "--webroot", root.to_str().unwrap()]);
    drop(web);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    t.verify("site", &[""]);
    let left: Vec<_> = std::fs::read_dir(root.join(".well-known/acme-challenge"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "answer files are removed after validation");
}
