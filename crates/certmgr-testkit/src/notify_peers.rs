//! The peers of the notification tests: a real SMTP server (Debian's
//! `python3-aiosmtpd`, started per test on a free loopback port, with
//! STARTTLS or implicit TLS and AUTH, saving each message to a file) and a
//! webhook receiver (axum, in the test's process) that keeps every request.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};

/// The Python that has Debian's aiosmtpd.
const PYTHON: &str = "/usr/bin/python3";

/// Whether aiosmtpd can run. Otherwise the running test is skipped with
/// [`crate::skip`] (a failure under `CI=true`) and this returns false.
pub fn aiosmtpd_available() -> bool {
    let ok = Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        crate::skip(
            "python3-aiosmtpd is not installed",
            "install it: apt-get install python3-aiosmtpd (scripts/install-deps)",
        );
    }
    ok
}

/// One message the SMTP server received.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// MAIL FROM.
    pub from: String,
    /// RCPT TO.
    pub to: Vec<String>,
    /// The message (headers and body), as sent.
    pub data: String,
    /// Whether the client authenticated.
    pub authenticated: bool,
    /// Whether the session was TLS.
    pub tls: bool,
}

/// A private SMTP server; stopped when dropped.
pub struct SmtpServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    /// Start one: `implicit_tls` for SMTPS, else STARTTLS (required); the
    /// certificate and key in PEM; AUTH accepts `user` and `password`.
    pub fn start(
        implicit_tls: bool,
        cert_pem: &str,
        key_pem: &str,
        user: &str,
        password: &str,
    ) -> std::io::Result<SmtpServer> {
        let dir = tempfile::tempdir()?;
        let script = dir.path().join("smtp_server.py");
        std::fs::write(&script, include_str!("smtp_server.py"))?;
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, cert_pem)?;
        std::fs::write(&key, key_pem)?;
        let out = dir.path().join("mail");
        std::fs::create_dir(&out)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut child = Command::new(PYTHON)
            .arg(&script)
            .arg(if implicit_tls { "tls" } else { "starttls" })
            .arg(port.to_string())
            .arg(&cert)
            .arg(&key)
            .arg(&out)
            .args([user, password])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout"))?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        if line.trim() != "ready" {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other(format!(
                "the SMTP server did not start: {line:?}"
            )));
        }
        Ok(SmtpServer { port, child, dir })
    }

    fn mail_dir(&self) -> PathBuf {
        self.dir.path().join("mail")
    }

    /// The messages received so far, in order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let mut names: Vec<_> = std::fs::read_dir(self.mail_dir())
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter_map(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .map(|v| ReceivedMail {
                from: v["from"].as_str().unwrap_or_default().to_owned(),
                to: v["to"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
                data: v["data"].as_str().unwrap_or_default().to_owned(),
                authenticated: v["authenticated"].as_bool().unwrap_or(false),
                tls: v["tls"].as_bool().unwrap_or(false),
            })
            .collect()
    }

    /// The messages once there are at least `count` (or after 10 s).
    pub fn wait_for(&self, count: usize) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let messages = self.messages();
            if messages.len() >= count || Instant::now() > deadline {
                return messages;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        // Closing stdin stops it; kill in case it does not.
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request the webhook receiver got.
#[derive(Debug, Clone)]
pub struct ReceivedHook {
    /// Its path.
    pub path: String,
    /// Its headers, names in lower case.
    pub headers: BTreeMap<String, String>,
    /// Its raw body.
    pub body: Vec<u8>,
}

impl ReceivedHook {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A webhook receiver on 127.0.0.1: answers 204 and keeps each request,
/// except under `/fail`, where it answers 500. Stopped when dropped.
pub struct WebhookReceiver {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    received: Arc<Mutex<Vec<ReceivedHook>>>,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    /// Start one (inside a Tokio runtime).
    pub async fn start() -> std::io::Result<WebhookReceiver> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let received: Arc<Mutex<Vec<ReceivedHook>>> = Arc::default();
        let kept = received.clone();
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let kept = kept.clone();
            async move {
                let path = uri.path().to_owned();
                let fail = path.starts_with("/fail");
                if let Ok(mut all) = kept.lock() {
                    all.push(ReceivedHook {
                        path,
                        headers: headers
                            .iter()
                            .map(|(k, v)| {
                                (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())
                            })
                            .collect(),
                        body: body.to_vec(),
                    });
                }
                if fail {
                    (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "receiver broken on purpose",
                    )
                } else {
                    (StatusCode::NO_CONTENT, "")
                }
            }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(WebhookReceiver {
            url,
            received,
            task,
        })
    }

    /// Every request so far, under `path`.
    pub fn received(&self, path: &str) -> Vec<ReceivedHook> {
        self.received
            .lock()
            .map(|all| all.iter().filter(|r| r.path == path).cloned().collect())
            .unwrap_or_default()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
