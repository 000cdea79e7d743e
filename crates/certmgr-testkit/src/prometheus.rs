//! A private Prometheus per test, and `promtool check metrics`.
//!
//! [`Prometheus::start`] runs `prometheus` (Debian package `prometheus`) on
//! 127.0.0.1 with a port, a configuration and a data directory of its own
//! (a temporary directory), scraping one target every second with a bearer
//! token and evaluating the given alerting rules every second. It waits
//! until Prometheus says it is ready, and kills it when the value is
//! dropped, also while a test panics (a watchdog kills it if the test
//! process dies without unwinding). Its HTTP API is read with `curl`.

use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::pebble::free_port;
use crate::powerdns::support;

/// The Prometheus server (Debian package `prometheus`).
pub const PROMETHEUS_BIN: &str = "/usr/bin/prometheus";
/// Its command-line tool (same package).
pub const PROMTOOL_BIN: &str = "/usr/bin/promtool";

/// How long [`Prometheus::start`] waits for the server to be ready.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether `prometheus`, `promtool` and `curl` are installed; otherwise the
/// running test is skipped with a visible line (a failure under `CI=true`).
pub fn prometheus_available() -> bool {
    let missing: Vec<&str> = [PROMETHEUS_BIN, PROMTOOL_BIN, "/usr/bin/curl"]
        .into_iter()
        .filter(|bin| !Path::new(bin).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    crate::skip(
        &format!("prometheus not installed ({} missing)", missing.join(", ")),
        "install the Debian packages `prometheus` and `curl` (scripts/install-deps)",
    );
    false
}

/// `promtool check metrics` on a scraped text: `Ok` with nothing to say, or
/// what the linter said.
pub fn promtool_check_metrics(text: &str) -> Result<(), String> {
    use std::io::Write as _;
    let mut child = Command::new(PROMTOOL_BIN)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {PROMTOOL_BIN}: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin for promtool")?;
    let text = text.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child
        .wait_with_output()
        .map_err(|e| format!("promtool: {e}"))?;
    let _ = writer.join();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && said.trim().is_empty() {
        Ok(())
    } else {
        Err(format!("promtool check metrics ({}): {said}", out.status))
    }
}

/// A running Prometheus, killed on drop.
pub struct Prometheus {
    child: Child,
    watchdog: Option<(Child, ChildStdin)>,
    port: u16,
    dir: tempfile::TempDir,
}

impl Prometheus {
    /// Scrape `target` (`host:port`, plain HTTP, path `/metrics`) every
    /// second with `token` as bearer, evaluating `rules` (the text of a
    /// rule file) every second.
    pub fn start(target: &str, token: &str, rules: &str) -> Prometheus {
        let dir = tempfile::tempdir().expect("temporary directory");
        let token_file = dir.path().join("token");
        std::fs::write(&token_file, token).expect("write the token file");
        std::fs::write(dir.path().join("rules.yml"), rules).expect("write the rules");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {rules}\n\
             scrape_configs:\n  - job_name: certmgr\n    metrics_path: /metrics\n    \
             authorization:\n      type: Bearer\n      credentials_file: {token}\n    \
             static_configs:\n      - targets: ['{target}']\n",
            rules = dir.path().join("rules.yml").display(),
            token = token_file.display(),
        );
        let config_file = dir.path().join("prometheus.yml");
        std::fs::write(&config_file, config).expect("write the configuration");
        let port = free_port(false);
        let child = support::spawn(
            Command::new(PROMETHEUS_BIN).args([
                &format!("--config.file={}", config_file.display()),
                &format!("--storage.tsdb.path={}", dir.path().join("data").display()),
                &format!("--web.listen-address=127.0.0.1:{port}"),
                "--log.level=warn",
            ]),
            &dir.path().join("prometheus.log"),
        );
        let watchdog = support::spawn_watchdog(&[child.id()]);
        let mut prometheus = Prometheus {
            child,
            watchdog: Some(watchdog),
            port,
            dir,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        while prometheus.curl("/-/ready").is_none() {
            if let Ok(Some(status)) = prometheus.child.try_wait() {
                panic!("prometheus ended ({status}):\n{}", prometheus.logs());
            }
            assert!(
                Instant::now() < deadline,
                "prometheus not ready within {READY_TIMEOUT:?}:\n{}",
                prometheus.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        prometheus
    }

    /// Its address: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The body of a successful GET of `path`, if there is one.
    fn curl(&self, path: &str) -> Option<String> {
        let out = Command::new("curl")
            .args(["-fsS", "--max-time", "5", &format!("{}{path}", self.url())])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `GET /api/v1/<path>` as JSON (`data` of a successful answer).
    pub fn api(&self, path: &str) -> serde_json::Value {
        let body = self
            .curl(&format!("/api/v1/{path}"))
            .unwrap_or_else(|| panic!("GET /api/v1/{path} failed:\n{}", self.logs()));
        let answer: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("GET /api/v1/{path}: {e}: {body}"));
        assert_eq!(answer["status"], "success", "{answer}");
        answer["data"].clone()
    }

    /// Poll `GET /api/v1/<path>` until `done` says yes about its data, for
    /// up to `timeout`; the last data either way.
    pub fn wait_for(
        &self,
        path: &str,
        timeout: Duration,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let data = self.api(path);
            if done(&data) || Instant::now() >= deadline {
                return data;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The end of its log.
    pub fn logs(&self) -> String {
        support::tail(&self.dir.path().join("prometheus.log"))
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        support::stop(&mut self.watchdog, &mut self.child);
    }
}
