//! A real browser for the web UI's tests: Debian's `chromium`, driven
//! headless through `chromedriver` (W3C WebDriver, JSON over HTTP on
//! loopback, spoken here with a few lines over a `TcpStream`), with a
//! download folder, screenshots saved as CI artifacts, and axe-core
//! (vendored) to check each page's accessibility.
//!
//! Chromium runs with a fresh profile and without its background
//! networking, so it never reaches the internet.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::skip::skip;

/// Where Debian puts the browser and its driver.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Where Debian puts the driver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long [`Browser::wait`] and friends wait by default.
pub const WAIT: Duration = Duration::from_secs(20);
/// The key W3C WebDriver gives element references under.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// WebDriver's Tab key, for [`Browser::type_into`].
pub const TAB: char = '\u{E004}';
/// WebDriver's Enter key.
pub const ENTER: char = '\u{E007}';
/// WebDriver's Escape key.
pub const ESCAPE: char = '\u{E00C}';
/// axe-core, vendored (MPL-2.0, see `vendor/axe-core/`).
const AXE: &str = include_str!("../vendor/axe-core/axe.min.js");

/// Whether chromium and chromedriver are installed; otherwise the running
/// test is skipped (a failure under `CI=true`).
pub fn browser_available() -> bool {
    let found = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !found {
        skip(
            "chromium or chromedriver not installed",
            "install the Debian packages `chromium` and `chromium-driver` (scripts/install-deps)",
        );
    }
    found
}

/// Where screenshots go: `$CERTMGR_ARTIFACTS/screenshots`, or a folder
/// under the system's temporary directory (never the source tree).
pub fn artifacts_dir() -> PathBuf {
    let base = std::env::var_os("CERTMGR_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("certmgr-artifacts"));
    base.join("screenshots")
}

/// A headless chromium with its own driver, profile and download folder;
/// both processes end when it is dropped.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    /// The profile and the downloads; removed on drop.
    home: tempfile::TempDir,
    downloads: PathBuf,
    /// Names the screenshots.
    name: String,
    /// Screenshots taken so far (numbers them).
    shots: AtomicUsize,
}

/// An element of the page.
#[derive(Debug, Clone)]
pub struct Element {
    id: String,
}

impl Browser {
    /// Start chromedriver and a browser session; `name` prefixes the
    /// screenshots' file names. `width` × `height` is the window (CSS
    /// pixels).
    pub fn start(name: &str, width: u32, height: u32) -> Browser {
        let port = free_port();
        let home = tempfile::tempdir().expect("a temporary directory");
        let downloads = home.path().join("downloads");
        std::fs::create_dir_all(&downloads).expect("the download folder");
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
            downloads: downloads.clone(),
            home,
            name: name.replace("::", "-"),
            shots: AtomicUsize::new(0),
        };
        let started = Instant::now();
        while browser.request("GET", "/status", None).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not answer on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = browser.home.path().join("profile");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-extensions",
                    "--disable-default-apps", "--no-default-browser-check", "--lang=en-US",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": {
                    "download.default_directory": downloads.display().to_string(),
                    "download.prompt_for_download": false,
                    "safebrowsing.enabled": false,
                },
            },
        }}});
        let answer = browser
            .request("POST", "/session", Some(&capabilities))
            .unwrap_or_else(|e| panic!("no browser session: {e}"));
        browser.session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {answer}"))
            .to_owned();
        // Downloads to the folder, without asking.
        browser.command(
            "POST",
            "goog/cdp/execute",
            json!({"cmd": "Browser.setDownloadBehavior", "params": {
                "behavior": "allow", "downloadPath": downloads.display().to_string()}}),
        );
        browser
    }

    /// Wait for a download named `file_name` to be complete; its path.
    pub fn downloaded(&self, file_name: &str) -> PathBuf {
        let path = self.downloads.join(file_name);
        let started = Instant::now();
        loop {
            let partial = std::fs::read_dir(&self.downloads)
                .map(|d| {
                    d.flatten()
                        .any(|e| e.file_name().to_string_lossy().ends_with(".crdownload"))
                })
                .unwrap_or(false);
            if path.exists() && !partial {
                return path;
            }
            assert!(
                started.elapsed() < WAIT,
                "{file_name} was not downloaded; the folder has {:?}",
                std::fs::read_dir(&self.downloads)
                    .map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
                    .unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Load `url`.
    pub fn goto(&self, url: &str) {
        self.command("POST", "url", json!({ "url": url }));
    }

    /// The page's address.
    pub fn url(&self) -> String {
        self.command("GET", "url", Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Run `script` (a function body; `arguments` holds `args`) in the page.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.command(
            "POST",
            "execute/sync",
            json!({ "script": script, "args": args }),
        )
    }

    /// Run `script` (a function body whose last argument is the callback to
    /// call with the result) in the page and wait for the result.
    pub fn execute_async(&self, script: &str, args: Vec<Value>) -> Value {
        self.command(
            "POST",
            "execute/async",
            json!({ "script": script, "args": args }),
        )
    }

    /// The first element matching `css`, if any, now.
    pub fn find(&self, css: &str) -> Option<Element> {
        let answer = self.try_command(
            "POST",
            "element",
            json!({"using": "css selector", "value": css}),
        );
        answer.ok().and_then(|v| element(&v))
    }

    /// The element that has the keyboard focus.
    pub fn active(&self) -> Option<Element> {
        element(&self.command("GET", "element/active", Value::Null))
    }

    /// Every element matching `css`, now.
    pub fn find_all(&self, css: &str) -> Vec<Element> {
        self.command(
            "POST",
            "elements",
            json!({"using": "css selector", "value": css}),
        )
        .as_array()
        .map(|list| list.iter().filter_map(element).collect())
        .unwrap_or_default()
    }

    /// Wait until an element matching `css` is shown; it.
    #[track_caller]
    pub fn wait(&self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Some(el) = self.find(css)
                && self.displayed(&el)
            {
                return el;
            }
            if started.elapsed() > WAIT {
                self.screenshot("timeout");
                panic!(
                    "no {css} shown after {WAIT:?} on {}:\n{}",
                    self.url(),
                    self.body_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Wait until the page's text contains `text`.
    #[track_caller]
    pub fn wait_text(&self, text: &str) {
        self.wait_until(&format!("the page to say {text:?}"), || {
            self.body_text().contains(text)
        });
    }

    /// Wait until `done` holds, naming `what` if it never does.
    #[track_caller]
    pub fn wait_until(&self, what: &str, mut done: impl FnMut() -> bool) {
        let started = Instant::now();
        while !done() {
            if started.elapsed() > WAIT {
                self.screenshot("timeout");
                panic!(
                    "waited {WAIT:?} for {what} on {}:\n{}",
                    self.url(),
                    self.body_text()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The text the page shows.
    pub fn body_text(&self) -> String {
        self.execute("return document.body.innerText", vec![])
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Click `el`.
    pub fn click(&self, el: &Element) {
        self.command("POST", &format!("element/{}/click", el.id), json!({}));
    }

    /// Type `text` into `el` (a file input takes a path).
    pub fn type_into(&self, el: &Element, text: &str) {
        self.command(
            "POST",
            &format!("element/{}/value", el.id),
            json!({ "text": text }),
        );
    }

    /// Set the value of a text field or textarea at once (long texts such
    /// as PEM, which typing would take seconds for), as if typed.
    pub fn set_value(&self, el: &Element, text: &str) {
        self.execute(
            "arguments[0].value = arguments[1]; \
             arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
            vec![el.reference(), json!(text)],
        );
    }

    /// Choose the option with `value` in the select `el`.
    pub fn select(&self, el: &Element, value: &str) {
        self.execute(
            "arguments[0].value = arguments[1]; \
             arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
            vec![el.reference(), json!(value)],
        );
    }

    /// The text of `el`.
    pub fn text(&self, el: &Element) -> String {
        self.command("GET", &format!("element/{}/text", el.id), Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The attribute or property `name` of `el`.
    pub fn property(&self, el: &Element, name: &str) -> Value {
        self.command(
            "GET",
            &format!("element/{}/property/{name}", el.id),
            Value::Null,
        )
    }

    /// Whether `el` is shown.
    pub fn displayed(&self, el: &Element) -> bool {
        self.try_command("GET", &format!("element/{}/displayed", el.id), Value::Null)
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    }

    /// Fill in the control named `name` of the page's form.
    #[track_caller]
    pub fn fill(&self, name: &str, text: &str) {
        let el = self.wait(&format!("[name=\"{name}\"]"));
        self.set_value(&el, text);
    }

    /// Save a PNG of the page as `<artifacts>/<test>-<n>-<step>.png`.
    pub fn screenshot(&self, step: &str) -> PathBuf {
        let dir = artifacts_dir();
        let _ = std::fs::create_dir_all(&dir);
        let n = self.shots.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("{}-{n:02}-{step}.png", self.name));
        if let Ok(data) = self.try_command("GET", "screenshot", Value::Null)
            && let Some(text) = data.as_str()
            && let Ok(png) = base64::engine::general_purpose::STANDARD.decode(text)
        {
            let _ = std::fs::write(&path, png);
        }
        path
    }

    /// axe-core's serious and critical violations on the page as it is, as
    /// `rule: target (summary)` lines; empty when there are none.
    pub fn accessibility_violations(&self) -> Vec<String> {
        self.execute(AXE, vec![]);
        let answer = self.command(
            "POST",
            "execute/async",
            json!({"script": "const done = arguments[arguments.length - 1]; \
                axe.run(document, {resultTypes: ['violations']}) \
                  .then((r) => done(r.violations)) \
                  .catch((e) => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));",
                "args": []}),
        );
        answer
            .as_array()
            .map(|list| {
                list.iter()
                    .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
                    .map(|v| {
                        let targets: Vec<String> = v["nodes"]
                            .as_array()
                            .map(|nodes| nodes.iter().map(|n| n["target"].to_string()).collect())
                            .unwrap_or_default();
                        format!(
                            "{} ({}): {} at {}",
                            v["id"].as_str().unwrap_or("?"),
                            v["impact"].as_str().unwrap_or("?"),
                            v["help"].as_str().unwrap_or(""),
                            targets.join(", ")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A WebDriver command on this session; panics on an error answer.
    #[track_caller]
    pub fn command(&self, method: &str, path: &str, body: Value) -> Value {
        self.try_command(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    fn try_command(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let body = if method == "POST" { Some(&body) } else { None };
        let answer = self.request(method, &format!("/session/{}/{path}", self.session), body)?;
        Ok(answer["value"].clone())
    }

    /// One HTTP request to the driver; the JSON answer, or the WebDriver
    /// error's message.
    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let mut stream =
            TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| format!("connect: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .map_err(|e| e.to_string())?;
        let payload = body.map(|b| b.to_string()).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\
             Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            self.port,
            payload.len()
        );
        stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(payload.as_bytes()))
            .map_err(|e| format!("send: {e}"))?;
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader
            .read_line(&mut status)
            .map_err(|e| format!("read: {e}"))?;
        let mut length = None;
        loop {
            let mut line = String::new();
            reader
                .read_line(&mut line)
                .map_err(|e| format!("read: {e}"))?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let mut bytes = Vec::new();
        match length {
            Some(n) => {
                bytes.resize(n, 0);
                reader.read_exact(&mut bytes).map_err(|e| e.to_string())?;
            }
            None => {
                reader.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
            }
        }
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&bytes)))?;
        if !status.contains(" 200 ") {
            return Err(format!(
                "{}: {}",
                value["value"]["error"].as_str().unwrap_or(status.trim()),
                value["value"]["message"].as_str().unwrap_or("")
            ));
        }
        Ok(value)
    }
}

impl Element {
    /// The element as a script argument.
    pub fn reference(&self) -> Value {
        json!({ ELEMENT: self.id })
    }
}

fn element(value: &Value) -> Option<Element> {
    value[ELEMENT]
        .as_str()
        .map(|id| Element { id: id.to_owned() })
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.request("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
