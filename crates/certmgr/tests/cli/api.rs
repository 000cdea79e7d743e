//! The REST API of a real `certmgr server --listen`, spoken to over TCP
//! with a minimal HTTP/1.1 client: health, authentication failures as
//! problem documents, the client's address in the audit log, and issue and
//! renew jobs against Pebble whose progress streams as Server-Sent Events.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use certmgr_testkit::pebble::pebble_available;
use serde_json::{Value, json};

use crate::acme::AcmeEnv;
use crate::need_pebble;
use crate::util::{Env, openssl};

/// A running `certmgr server` with the API on a port of its own choosing,
/// killed on drop.
pub(crate) struct ApiServer {
    child: Child,
    pub(crate) api: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl ApiServer {
    /// `certmgr server --listen 127.0.0.1:0 --plain-http --http-listen HTTP
    /// --no-https --no-renew`; waits until it says where the API is.
    pub(crate) fn start(env: &Env, http_listen: &str) -> ApiServer {
        ApiServer::start_with(env, http_listen, &[])
    }

    /// [`ApiServer::start`] with more environment variables.
    pub(crate) fn start_with(env: &Env, http_listen: &str, vars: &[(&str, &str)]) -> ApiServer {
        let mut child = env
            .command(&[
                "server",
                "--listen",
                "127.0.0.1:0",
                "--plain-http",
                "--http-listen",
                http_listen,
                "--no-https",
                "--no-renew",
            ])
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
                panic!("the server ended before it listened:\n{}", seen.join(""));
            }
            if let Some(rest) = line.strip_prefix("certmgr server: http://") {
                let address = rest.split('/').next().unwrap();
                api = Some(address.parse::<SocketAddr>().unwrap());
            }
            let started = line.contains("HTTP-01 on");
            seen.push(line);
            if started {
                break;
            }
        }
        let api = api.unwrap_or_else(|| panic!("no API address in:\n{}", seen.join("")));
        // Keep draining its log, so it never blocks on a full pipe.
        let log = Arc::new(Mutex::new(seen));
        std::thread::spawn({
            let log = log.clone();
            move || {
                for line in stderr.lines() {
                    log.lock().unwrap().push(line.unwrap_or_default());
                }
            }
        });
        ApiServer { child, api, log }
    }

    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// One request: `method path`, with a bearer token and a JSON body.
    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let (head, mut body, _) = self.send(method, path, token, body);
        let mut bytes = Vec::new();
        body.read_to_end(&mut bytes).unwrap();
        Answer {
            status: head.status,
            headers: head.headers,
            body: bytes,
        }
    }

    /// Send a request and read the answer's head; the body is left to read
    /// as it comes (chunked transfer decoded). Also returns a handle on the
    /// connection (to change its read timeout).
    fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (Head, Box<dyn BufRead>, TcpStream) {
        let mut stream = self.connect();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.api
        );
        if let Some(token) = token {
            request.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        if !body.is_empty() {
            request.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        request.push_str("\r\n");
        request.push_str(&body);
        stream.write_all(request.as_bytes()).unwrap();
        let handle = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        let head = Head::read(&mut reader);
        let body: Box<dyn BufRead> = if head.header("transfer-encoding") == Some("chunked") {
            Box::new(BufReader::new(Chunked {
                inner: reader,
                left: 0,
                done: false,
            }))
        } else {
            match head.header("content-length") {
                Some(length) => Box::new(BufReader::new(reader.take(length.parse().unwrap()))),
                None => Box::new(reader),
            }
        };
        (head, body, handle)
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.api).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .unwrap();
        stream
    }

    /// Stop with SIGTERM and check the clean exit.
    pub(crate) fn stop(mut self) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let status = self.child.wait().unwrap();
        assert!(status.success(), "server exit: {status}\n{}", self.log());
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status line and headers of an answer.
struct Head {
    status: u16,
    /// Names in lower case.
    headers: Vec<(String, String)>,
}

impl Head {
    fn read(reader: &mut impl BufRead) -> Head {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP status line: {line:?}"));
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.trim().to_lowercase(), value.trim().to_owned()));
        }
        Head { status, headers }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A whole answer.
pub(crate) struct Answer {
    pub(crate) status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }

    /// The JSON body, once the status is `status`.
    #[track_caller]
    pub(crate) fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        self.json()
    }
}

/// A chunked body (RFC 9112 §7.1), decoded as it arrives.
struct Chunked<R> {
    inner: R,
    left: usize,
    done: bool,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut line = String::new();
            if self.inner.read_line(&mut line)? == 0 {
                return Err(std::io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "the connection closed inside a chunked body",
                ));
            }
            let size = line.trim().split(';').next().unwrap_or_default();
            self.left = usize::from_str_radix(size, 16).map_err(|_| {
                std::io::Error::new(ErrorKind::InvalidData, format!("chunk size {line:?}"))
            })?;
            if self.left == 0 {
                self.done = true;
                return Ok(0);
            }
        }
        let wanted = buf.len().min(self.left);
        let n = self.inner.read(&mut buf[..wanted])?;
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        self.left -= n;
        if self.left == 0 {
            let mut crlf = [0u8; 2];
            self.inner.read_exact(&mut crlf)?;
        }
        Ok(n)
    }
}

/// One Server-Sent Event.
#[derive(Debug)]
struct Sse {
    event: String,
    id: Option<String>,
    data: Value,
}

/// The next event of a stream (comments skipped), or `None` at its end.
fn next_event(body: &mut dyn BufRead) -> Option<Sse> {
    let (mut event, mut id, mut data) = (String::new(), None, String::new());
    loop {
        let mut line = String::new();
        if body.read_line(&mut line).unwrap() == 0 {
            assert!(
                event.is_empty() && data.is_empty(),
                "the stream ended inside an event"
            );
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if data.is_empty() && event.is_empty() {
                continue;
            }
            return Some(Sse {
                event,
                id,
                data: serde_json::from_str(&data).unwrap_or_else(|e| panic!("{e}: {data}")),
            });
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => event = value.to_owned(),
            "id" => id = Some(value.to_owned()),
            "data" => {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(value);
            }
            other => panic!("unexpected SSE field {other:?}"),
        }
    }
}

/// A step line with what differs between two issuances taken out: names,
/// URLs, numbers.
fn normalized(step: &str, names: &[&str]) -> String {
    let mut words = Vec::new();
    for word in step.split_whitespace() {
        let word = if word.contains("://") {
            "URL".to_owned()
        } else {
            let mut word = word.to_owned();
            for name in names {
                word = word.replace(name, "NAME");
            }
            word.chars()
                .map(|c| if c.is_ascii_digit() { '0' } else { c })
                .collect()
        };
        words.push(word);
    }
    words.join(" ")
}

/// An admin token of `env`'s store, made with the command line.
fn admin_token(env: &Env) -> String {
    env.ok(&["token", "create", "api-admin", "--role", "admin"])
        .trim()
        .to_owned()
}

/// The audit log, as the API shows it to an admin.
fn audit(server: &ApiServer, token: &str) -> Vec<Value> {
    server
        .call("GET", "/api/audit?limit=1000", Some(token), None)
        .expect(200)
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn the_api_listener_answers_refuses_bad_tokens_and_audits_the_client_address() {
    let env = Env::new();
    let admin = admin_token(&env);
    let operator = env
        .ok(&["token", "create", "api-operator", "--role", "operator"])
        .trim()
        .to_owned();
    let revoked = env
        .ok(&["token", "create", "gone", "--role", "admin"])
        .trim()
        .to_owned();
    env.ok(&["token", "revoke", "gone"]);
    let server = ApiServer::start(&env, "127.0.0.1:0");

    let health = server.call("GET", "/api/health", None, None);
    assert_eq!(
        health.expect(200),
        json!({"status": "ok", "single_sign_on": false})
    );
    assert_eq!(health.header("content-type"), Some("application/json"));
    let document = server
        .call("GET", "/api/openapi.json", None, None)
        .expect(200);
    assert_eq!(document["info"]["title"], "certmgr", "{document}");

    // Refused, and not audited (nobody to name): no token, an unknown one,
    // a revoked one.
    let before = audit(&server, &admin).len();
    let bogus = format!("cmt_{}", "A".repeat(43));
    for (token, why) in [
        (None, "send an API token"),
        (Some(bogus.as_str()), "unknown API token"),
        (Some(revoked.as_str()), "revoked"),
    ] {
        let refused = server.call("POST", "/api/cas", token, Some(json!({"name": "refused"})));
        assert_eq!(refused.status, 401, "{token:?}: {}", refused.text());
        assert_eq!(
            refused.header("content-type"),
            Some("application/problem+json"),
            "{token:?}"
        );
        let problem = refused.json();
        assert_eq!(problem["type"], "urn:certmgr:problem:unauthenticated");
        assert_eq!(problem["status"], 401);
        assert!(
            problem["detail"].as_str().unwrap().contains(why),
            "{token:?}: {problem}"
        );
    }
    let missing = server.call("GET", "/api/nothing-here", Some(&admin), None);
    assert_eq!(missing.status, 404, "{}", missing.text());
    assert_eq!(
        missing.header("content-type"),
        Some("application/problem+json")
    );

    let me = server
        .call("GET", "/api/session", Some(&admin), None)
        .expect(200);
    assert_eq!(me["name"], "token:api-admin");
    assert_eq!(me["role"], "admin");
    // A change, a refused change and a refused secret read: each audited
    // with the client's address; the command line's entries have none.
    server
        .call(
            "POST",
            "/api/cas",
            Some(&admin),
            Some(json!({"name": "lab"})),
        )
        .expect(201);
    server
        .call(
            "POST",
            "/api/cas",
            Some(&operator),
            Some(json!({"name": "other"})),
        )
        .expect(403);
    server
        .call(
            "POST",
            "/api/credentials",
            Some(&operator),
            Some(json!({"name": "web", "hostnames": ["web.example.test"], "issuer": "ca:lab"})),
        )
        .expect(201);
    server
        .call(
            "POST",
            "/api/credentials/web/export",
            Some(&operator),
            Some(json!({})),
        )
        .expect(403);
    let entries = audit(&server, &admin);
    let made: Vec<String> = entries[before..]
        .iter()
        .map(|e| {
            assert_eq!(e["address"], "127.0.0.1", "{e}");
            format!(
                "{} {} {} {}",
                e["actor"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["target"].as_str().unwrap(),
                e["outcome"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        made,
        [
            "token:api-admin ca.create lab ok",
            "token:api-operator ca.create - bad-input",
            "token:api-operator cred.create web ok",
            "token:api-operator cred.export web bad-input",
        ]
    );
    for entry in &entries[..before] {
        // The command line's, and the server's own first admin.
        let actor = entry["actor"].as_str().unwrap();
        assert!(actor.starts_with("local:") || actor == "server", "{entry}");
        assert!(entry["address"].is_null(), "made on this machine: {entry}");
    }
    // The same log, read by the command line.
    let listed = env.json(&["audit", "list"]);
    let last = listed.as_array().unwrap().last().unwrap();
    assert_eq!(last["action"], "cred.export");
    assert_eq!(last["address"], "127.0.0.1");
    server.stop();
}

#[test]
fn issue_and_renew_jobs_against_pebble_stream_their_progress() {
    need_pebble!();
    if !certmgr_testkit::openssl_available() {
        return;
    }
    let t = AcmeEnv::start();
    let admin = admin_token(&t.env);
    let server = ApiServer::start(&t.env, &t.http01());

    // The reference: the steps the command line prints for the same kind of
    // credential (it answers through the server's HTTP-01 listener).
    t.env.ok(&[
        "cred",
        "create",
        "cli",
        "--host",
        "cli.example.test",
        "--issuer",
        "acme:pb",
        "--challenge",
        "http-01",
    ]);
    let out = t.env.run(&["cred", "issue", "cli"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}\n{}", server.log());
    let cli_steps: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .map(|l| normalized(l, &["cli.example.test", "cli"]))
        .collect();
    assert!(cli_steps.len() >= 4, "{stderr}");

    server
        .call(
            "POST",
            "/api/credentials",
            Some(&admin),
            Some(json!({
                "name": "web",
                "hostnames": ["web.example.test"],
                "issuer": "acme:pb",
                "challenge": "http-01",
            })),
        )
        .expect(201);
    let started = server.call("POST", "/api/credentials/web/issue", Some(&admin), None);
    let job = started.expect(202);
    let id = job["id"].as_str().unwrap().to_owned();
    assert_eq!(
        started.header("location"),
        Some(format!("/api/jobs/{id}").as_str())
    );
    assert_eq!(job["events_url"], format!("/api/jobs/{id}/events"));

    // Watch the progress as it happens.
    let (head, mut stream, _) =
        server.send("GET", &format!("/api/jobs/{id}/events"), Some(&admin), None);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    let mut events = Vec::new();
    let end = loop {
        let event = next_event(&mut *stream)
            .unwrap_or_else(|| panic!("no end event after {events:?}\n{}", server.log()));
        if event.event == "end" {
            break event;
        }
        events.push(event);
    };
    assert!(
        next_event(&mut *stream).is_none(),
        "nothing after the end event"
    );
    for (i, event) in events.iter().enumerate() {
        let seq = i as u64 + 1;
        assert_eq!(event.data["seq"], seq, "in order: {events:?}");
        assert_eq!(event.id.as_deref(), Some(seq.to_string().as_str()));
        assert_eq!(event.data["level"], event.event.as_str(), "{event:?}");
        assert!(
            ["step", "warning", "result"].contains(&event.event.as_str()),
            "{event:?}"
        );
    }
    assert_eq!(end.data["status"], "succeeded", "{}", end.data);
    assert_eq!(end.data["id"], id.as_str());
    assert_eq!(end.data["kind"], "issue");
    assert_eq!(end.data["credential"], "web");
    assert_eq!(end.data["actor"], "token:api-admin");
    assert_eq!(end.data["result"]["status"], "valid", "{}", end.data);
    assert_eq!(
        end.data["events"].as_array().unwrap().len(),
        events.len(),
        "the end holds every event streamed"
    );
    let job_steps: Vec<String> = events
        .iter()
        .filter(|e| e.event == "step")
        .map(|e| {
            normalized(
                e.data["message"].as_str().unwrap(),
                &["web.example.test", "web"],
            )
        })
        .collect();
    assert_eq!(
        job_steps, cli_steps,
        "the job's steps are the command line's"
    );

    // The chain, exported over the API, verifies against Pebble's root.
    let exported = server
        .call(
            "POST",
            "/api/credentials/web/export",
            Some(&admin),
            Some(json!({})),
        )
        .expect(200);
    let exported = &exported.as_array().unwrap()[0];
    assert!(
        exported["key_pem"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    t.env.file(
        "api-leaf.pem",
        exported["certificate_pem"].as_str().unwrap(),
    );
    t.env
        .file("api-chain.pem", exported["chain_pem"].as_str().unwrap());
    let dir = t.env.store.work_dir();
    let verified = openssl(
        dir,
        &[
            "verify",
            "-CAfile",
            "pebble-root.pem",
            "-untrusted",
            "api-chain.pem",
            "api-leaf.pem",
        ],
    );
    assert!(verified.contains("api-leaf.pem: OK"), "{verified}");
    let text = openssl(dir, &["x509", "-in", "api-leaf.pem", "-noout", "-text"]);
    assert!(text.contains("DNS:web.example.test"), "{text}");

    // A renewal goes on when its watcher goes away at once.
    let started = server.call("POST", "/api/credentials/web/renew", Some(&admin), None);
    let renewal = started.expect(202)["id"].as_str().unwrap().to_owned();
    {
        let mut watcher = server.connect();
        watcher
            .write_all(
                format!(
                    "GET /api/jobs/{renewal}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\n\r\n"
                )
                .as_bytes(),
            )
            .unwrap();
        watcher.shutdown(std::net::Shutdown::Both).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let view = loop {
        let view = server
            .call("GET", &format!("/api/jobs/{renewal}"), Some(&admin), None)
            .expect(200);
        if view["status"] != "running" {
            break view;
        }
        assert!(Instant::now() < deadline, "{view}\n{}", server.log());
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(view["status"], "succeeded", "{view}\n{}", server.log());
    assert_eq!(view["kind"], "renew");
    assert_eq!(view["result"]["version"], 2, "{view}");
    assert!(!view["events"].as_array().unwrap().is_empty(), "{view}");
    let detail = server
        .call("GET", "/api/credentials/web", Some(&admin), None)
        .expect(200);
    assert_eq!(detail["credential"]["current_version"], 2, "{detail}");
    assert_eq!(detail["credential"]["status"], "valid", "{detail}");

    // Everything the token did is in the audit log, with the client address.
    let mine: Vec<String> = audit(&server, &admin)
        .iter()
        .filter(|e| e["actor"] == "token:api-admin")
        .map(|e| {
            assert_eq!(e["address"], "127.0.0.1", "{e}");
            format!(
                "{} {} {}",
                e["action"].as_str().unwrap(),
                e["target"].as_str().unwrap(),
                e["outcome"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        mine,
        [
            "cred.create web ok",
            "cred.issue web ok",
            "cred.export web ok",
            "cred.renew web ok",
        ]
    );
    server.stop();
}

#[test]
fn a_job_can_be_watched_for_longer_than_a_challenge_connection_lives() {
    need_pebble!();
    let t = AcmeEnv::start();
    let admin = admin_token(&t.env);
    // The job stops once its order is created, and stays running.
    let server = ApiServer::start_with(
        &t.env,
        &t.http01(),
        &[("CERTMGR_FAILPOINT", "order-created")],
    );
    server
        .call(
            "POST",
            "/api/credentials",
            Some(&admin),
            Some(json!({
                "name": "slow",
                "hostnames": ["slow.example.test"],
                "issuer": "acme:pb",
            })),
        )
        .expect(201);
    let id = server
        .call("POST", "/api/credentials/slow/issue", Some(&admin), None)
        .expect(202)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let watching = Instant::now();
    let (head, mut stream, connection) =
        server.send("GET", &format!("/api/jobs/{id}/events"), Some(&admin), None);
    assert_eq!(head.status, 200);
    let first = next_event(&mut *stream).unwrap();
    assert_eq!(first.data["seq"], 1, "{first:?}");
    // The stream stays open (with keep-alive comments) past the deadline of
    // a challenge listener's connection, for as long as the job runs.
    let past = certmgr_acme::listener::CONNECTION_DEADLINE + Duration::from_secs(5);
    loop {
        let left = past.saturating_sub(watching.elapsed());
        if left.is_zero() {
            break;
        }
        connection.set_read_timeout(Some(left)).unwrap();
        let mut line = String::new();
        match stream.read_line(&mut line) {
            Ok(n) if n > 0 => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            end => panic!(
                "the stream ended after {:?}: {end:?}\n{}",
                watching.elapsed(),
                server.log()
            ),
        }
    }
    let view = server
        .call("GET", &format!("/api/jobs/{id}"), Some(&admin), None)
        .expect(200);
    assert_eq!(view["status"], "running", "{view}");
}

/// One keep-alive `GET /api/health` on `reader`'s connection; its status.
fn health_on(reader: &mut BufReader<TcpStream>) -> u16 {
    reader
        .get_mut()
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: certmgr.test\r\n\r\n")
        .unwrap();
    let head = Head::read(reader);
    let length: usize = head.header("content-length").unwrap().parse().unwrap();
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    head.status
}

#[test]
fn the_api_keeps_idle_connections_and_serves_many_from_one_address() {
    let env = Env::new();
    let server = ApiServer::start(&env, "127.0.0.1:0");
    // More connections from one address than a challenge listener lets a
    // client have (a proxy or a NAT in front of the API looks like this):
    // every one is served, and stays usable.
    let over = certmgr_acme::listener::MAX_CONNECTIONS_PER_CLIENT + 16;
    let mut connections: Vec<_> = (0..over)
        .map(|_| BufReader::new(server.connect()))
        .collect();
    for (i, connection) in connections.iter_mut().enumerate() {
        assert_eq!(
            health_on(connection),
            200,
            "connection {i}\n{}",
            server.log()
        );
    }
    // A pooled connection left idle for longer than a challenge listener
    // waits for a request header is still open when the client reuses it.
    std::thread::sleep(certmgr_acme::listener::HEADER_READ_TIMEOUT + Duration::from_secs(2));
    for (i, connection) in connections.iter_mut().enumerate().step_by(16) {
        assert_eq!(
            health_on(connection),
            200,
            "connection {i}\n{}",
            server.log()
        );
    }
    server.stop();
}

#[test]
fn a_body_refused_before_it_is_read_leaves_the_connection_usable() {
    let env = Env::new();
    let admin = admin_token(&env);
    let server = ApiServer::start(&env, "127.0.0.1:0");
    let mut connection = BufReader::new(server.connect());
    // Refused for its content type, which the server sees before the body:
    // the body is still read, the answer arrives whole, and the connection
    // serves the next request (no reset while the client is still writing).
    let body = "x".repeat(256 * 1024);
    let head = format!(
        "POST /api/cas HTTP/1.1\r\nHost: certmgr.test\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    connection.get_mut().write_all(head.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    connection.get_mut().write_all(body.as_bytes()).unwrap();
    let answer = Head::read(&mut connection);
    assert_eq!(answer.status, 400);
    let length: usize = answer.header("content-length").unwrap().parse().unwrap();
    let mut problem = vec![0; length];
    connection.read_exact(&mut problem).unwrap();
    assert!(String::from_utf8_lossy(&problem).contains("application/json"));
    assert_eq!(health_on(&mut connection), 200, "{}", server.log());
    // Refused by the gate (no token) before the body: the same.
    let head = format!(
        "POST /api/cas HTTP/1.1\r\nHost: certmgr.test\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    connection.get_mut().write_all(head.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    connection.get_mut().write_all(body.as_bytes()).unwrap();
    let answer = Head::read(&mut connection);
    assert_eq!(answer.status, 401);
    let length: usize = answer.header("content-length").unwrap().parse().unwrap();
    let mut problem = vec![0; length];
    connection.read_exact(&mut problem).unwrap();
    assert_eq!(health_on(&mut connection), 200, "{}", server.log());
    // A body declared larger than the API reads is refused at once.
    let too_large = server.call(
        "POST",
        "/api/cas",
        Some(&admin),
        Some(json!({"name": "x".repeat(1024 * 1024 + 1)})),
    );
    assert_eq!(too_large.status, 413, "{}", too_large.text());
    assert_eq!(too_large.json()["type"], "urn:certmgr:problem:too-large");
    server.stop();
}
