//! `/metrics`, `/healthz`, `/readyz` and the log of a real `certmgr server`:
//! a real Prometheus scrapes it with a viewer's token and fires an
//! "expires in under 7 days" alert for a short-lived MicroCA credential
//! only; `promtool check metrics` finds nothing to say about the text; an
//! issuance through the server against Pebble and PowerDNS shows in the
//! ACME and DNS-01 series; JSON log lines parse and hold no secret.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use certmgr_testkit::pebble::pebble_available;
use certmgr_testkit::prometheus::{Prometheus, prometheus_available, promtool_check_metrics};
use serde_json::Value;

use crate::need_pebble;
use crate::util::Env;

/// A running `certmgr server` (plain HTTP API on a port of its own),
/// killed on drop.
struct Server {
    child: Child,
    api: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// `certmgr server --listen 127.0.0.1:0 --plain-http --no-https` and
    /// `args`; waits for its second line (the listeners and the scheduler).
    fn start(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> Server {
        let mut all = vec![
            "server",
            "--listen",
            "127.0.0.1:0",
            "--plain-http",
            "--no-https",
        ];
        all.extend_from_slice(args);
        let json = args.contains(&"json");
        let mut child = env
            .command(&all)
            .envs(vars.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut api = None;
        let mut seen = Vec::new();
        loop {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap() == 0 {
                let _ = child.kill();
                panic!("the server ended before it listened:\n{}", seen.join("\n"));
            }
            let line = line.trim_end().to_owned();
            let message = if json {
                let object: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
                object["message"].as_str().unwrap_or_default().to_owned()
            } else {
                line.strip_prefix("certmgr server: ")
                    .unwrap_or_default()
                    .to_owned()
            };
            if let Some(rest) = message.strip_prefix("http://") {
                api = Some(rest.split('/').next().unwrap().parse().unwrap());
            }
            let started = message.contains("scheduler off") || message.contains("renewing what");
            seen.push(line);
            if started {
                break;
            }
        }
        let api = api.unwrap_or_else(|| panic!("no API address in:\n{}", seen.join("\n")));
        let log = Arc::new(Mutex::new(seen));
        std::thread::spawn({
            let log = log.clone();
            move || {
                for line in stderr.lines() {
                    log.lock().unwrap().push(line.unwrap_or_default());
                }
            }
        });
        Server { child, api, log }
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// One request; the status and the body.
    fn call(&self, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
        let mut stream = TcpStream::connect(self.api).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: 0\r\n",
            self.api
        );
        if let Some(token) = token {
            request.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(
            !head
                .to_ascii_lowercase()
                .contains("transfer-encoding: chunked"),
            "{head}"
        );
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        (status, body.to_owned())
    }

    /// `/metrics` as `token`, checked by promtool.
    fn metrics(&self, token: &str) -> String {
        let (status, text) = self.call("GET", "/metrics", Some(token));
        assert_eq!(status, 200, "{text}");
        if let Err(said) = promtool_check_metrics(&text) {
            panic!("{said}\n{text}");
        }
        text
    }

    /// Stop with SIGTERM and check the clean exit.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let status = self.child.wait().unwrap();
        assert!(status.success(), "server exit: {status}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of the sample `series` (name and labels, as written), if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().unwrap())
}

fn token(env: &Env, name: &str, role: &str) -> String {
    env.ok(&["token", "create", name, "--role", role])
        .trim()
        .to_owned()
}

/// A MicroCA credential `name` valid for `days`, issued.
fn issued(env: &Env, name: &str, days: &str) {
    env.ok(&[
        "cred",
        "create",
        name,
        "--host",
        &format!("{name}.example.test"),
        "--issuer",
        "ca:lab",
        "--validity-days",
        days,
    ]);
    env.ok(&["cred", "issue", name]);
}

const RULES: &str = "groups:
  - name: certmgr
    rules:
      - alert: CertificateExpiresSoon
        expr: certmanager_certificate_expiration_timestamp_seconds - time() < 7 * 86400
        labels:
          severity: warning
        annotations:
          summary: '{{ $labels.name }} expires in under 7 days'
";

#[test]
fn prometheus_scrapes_the_server_and_alerts_on_a_credential_expiring_within_7_days() {
    if !prometheus_available() {
        return;
    }
    let env = Env::new();
    env.ok(&["ca", "create", "lab"]);
    issued(&env, "short", "2");
    issued(&env, "long", "90");
    env.ok(&[
        "cred",
        "create",
        "never",
        "--host",
        "never.example.test",
        "--issuer",
        "manual",
    ]);
    let viewer = token(&env, "prometheus", "viewer");
    let server = Server::start(
        &env,
        &["--http-listen", "off", "--renew-interval", "3600"],
        &[],
    );

    let (status, body) = server.call("GET", "/metrics", None);
    assert_eq!(status, 401, "{body}");
    assert!(
        body.contains("urn:certmgr:problem:unauthenticated"),
        "{body}"
    );
    let (status, body) = server.call("GET", "/healthz", None);
    assert_eq!((status, body.as_str()), (200, "{\"status\":\"ok\"}"));
    let (status, body) = server.call("GET", "/readyz", None);
    assert_eq!(status, 200, "{body}");
    let ready: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["store"], "ok");

    let text = server.metrics(&viewer);
    let labels = |name: &str| {
        format!(
            "{{name=\"{name}\",namespace=\"\",issuer_name=\"lab\",issuer_kind=\"ca\",issuer_group=\"certmgr\"}}"
        )
    };
    let expiry = |name: &str| {
        sample(
            &text,
            &format!(
                "certmanager_certificate_expiration_timestamp_seconds{}",
                labels(name)
            ),
        )
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    let short = expiry("short").unwrap_or_else(|| panic!("{text}"));
    assert!(
        (short - now - 2.0 * 86_400.0).abs() < 600.0,
        "{short} {now}"
    );
    assert!(expiry("long").unwrap() - now > 80.0 * 86_400.0);
    assert!(
        !text.contains("certmanager_certificate_expiration_timestamp_seconds{name=\"never\""),
        "never issued (manual flow, no certificate): no expiry"
    );
    assert_eq!(
        sample(
            &text,
            "certmanager_certificate_ready_status{name=\"short\",namespace=\"\",condition=\"True\",issuer_name=\"lab\",issuer_kind=\"ca\",issuer_group=\"certmgr\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "certmanager_certificate_ready_status{name=\"never\",namespace=\"\",condition=\"False\",issuer_name=\"\",issuer_kind=\"manual\",issuer_group=\"certmgr\"}"
        ),
        Some(1.0)
    );
    assert_eq!(sample(&text, "certmgr_jobs_running"), Some(0.0));

    let prometheus = Prometheus::start(&server.api.to_string(), &viewer, RULES);
    let firing = |data: &Value| -> Vec<String> {
        data["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| {
                a["state"] == "firing" && a["labels"]["alertname"] == "CertificateExpiresSoon"
            })
            .map(|a| a["labels"]["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let alerts = prometheus.wait_for("alerts", Duration::from_secs(60), |data| {
        !firing(data).is_empty()
    });
    assert_eq!(
        firing(&alerts),
        ["short"],
        "{alerts}\n{}",
        prometheus.logs()
    );
    let targets = prometheus.api("targets");
    let target = &targets["activeTargets"][0];
    assert_eq!(target["health"], "up", "{targets}");
    // The rule keeps firing for the short one only, scrape after scrape.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(firing(&prometheus.api("alerts")), ["short"]);
    let query = prometheus
        .api("query?query=certmanager_certificate_ready_status%7Bcondition%3D%22True%22%7D%3D%3D1");
    let mut ready: Vec<&str> = query["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["metric"]["name"].as_str().unwrap())
        .collect();
    ready.sort();
    assert_eq!(ready, ["long", "short"], "{query}");
    drop(prometheus);
    server.stop();
}

#[test]
fn json_log_lines_parse_and_hold_no_secret() {
    let env = Env::empty();
    let password = "correct-horse-battery-staple-42";
    let server = Server::start(
        &env,
        &["--http-listen", "off", "--no-renew", "--log-format", "json"],
        &[("CERTMGR_ADMIN_PASSWORD", password)],
    );
    let viewer = token(&env, "viewer", "viewer");
    server.metrics(&viewer);
    let (status, _) = server.call("GET", "/metrics", Some("cmt_not-a-real-token"));
    assert_eq!(status, 401);
    let log = server.log.clone();
    server.stop();
    let lines = log.lock().unwrap().clone();
    let mut messages = Vec::new();
    for line in &lines {
        assert!(!line.contains(password), "the password in the log: {line}");
        assert!(!line.contains(&viewer), "a token in the log: {line}");
        let object: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        for field in ["timestamp", "level", "target", "message"] {
            assert!(object[field].is_string(), "{field} missing: {line}");
        }
        messages.push(object["message"].as_str().unwrap().to_owned());
    }
    for wanted in [
        "store created in",
        "http://127.0.0.1:",
        "scheduler off",
        "stopping",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(wanted)),
            "no {wanted:?} in {lines:#?}"
        );
    }
    let listening = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|o| o["message"].as_str().unwrap().starts_with("http://"))
        .unwrap();
    assert!(
        listening["url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
}

#[test]
fn acme_and_dns_step_metrics_after_a_dns01_issuance_through_the_server() {
    need_pebble!();
    let Some((_pdns, t)) = crate::dns01::setup() else {
        return;
    };
    t.env.ok(&[
        "cred",
        "create",
        "w",
        "--host",
        "w.example.test",
        "--issuer",
        "acme:pb",
        "--challenge",
        "dns-01",
    ]);
    let admin = token(&t.env, "admin-token", "admin");
    let server = Server::start(&t.env, &["--http-listen", "off", "--no-renew"], &[]);
    let (status, body) = server.call("POST", "/api/credentials/w/issue", Some(&admin));
    assert_eq!(status, 202, "{body}");
    let job: Value = serde_json::from_str(&body).unwrap();
    let path = format!("/api/jobs/{}", job["id"].as_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(120);
    let view = loop {
        let (_, body) = server.call("GET", &path, Some(&admin));
        let view: Value = serde_json::from_str(&body).unwrap();
        if view["status"] != "running" || Instant::now() > deadline {
            break view;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        view["status"],
        "succeeded",
        "{view}\n{}\n{}",
        server.log().join("\n"),
        t.pebble.logs()
    );

    let text = server.metrics(&admin);
    let ca = t
        .pebble
        .directory_url()
        .trim_start_matches("https://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let posts = sample(
        &text,
        &format!("certmgr_acme_requests_total{{ca=\"{ca}\",method=\"POST\",outcome=\"success\"}}"),
    )
    .unwrap_or_else(|| panic!("{text}"));
    // Account lookup, order, authorization, challenge, finalize, certificate...
    assert!(posts >= 5.0, "{posts}\n{text}");
    let count = sample(
        &text,
        &format!("certmgr_acme_request_duration_seconds_count{{ca=\"{ca}\",outcome=\"success\"}}"),
    )
    .unwrap();
    assert!(count >= posts, "{text}");
    assert!(
        text.contains(
            "certmanager_http_acme_client_request_duration_seconds_count{scheme=\"https\",host=\"127.0.0.1\",action=\"unnamed_action\",method=\"POST\",status=\"200\"}"
        ),
        "{text}"
    );
    for step in ["add", "delete"] {
        assert_eq!(
            sample(
                &text,
                &format!(
                    "certmgr_dns_provider_steps_total{{provider=\"powerdns\",step=\"{step}\",outcome=\"success\"}}"
                )
            ),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            sample(
                &text,
                &format!(
                    "certmgr_dns_provider_step_duration_seconds_bucket{{provider=\"powerdns\",step=\"{step}\",outcome=\"success\",le=\"+Inf\"}}"
                )
            ),
            Some(1.0),
            "{text}"
        );
    }
    assert!(
        text.lines().any(|l| l.starts_with(
            "certmanager_certificate_expiration_timestamp_seconds{name=\"w\",namespace=\"\",issuer_name=\"pb\",issuer_kind=\"acme\",issuer_group=\"certmgr\"} "
        )),
        "{text}"
    );
    server.stop();
}
