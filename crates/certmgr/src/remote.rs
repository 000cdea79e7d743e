//! The command line as a client of a manager (`--server URL`): the same
//! commands, sent to its REST API, rendered by the same code as in local
//! mode. Credentials come from `CERTMGR_TOKEN` (an API token), or from the
//! session `certmgr login` saved for that server.
//!
//! Problems the API answers become errors of the same class (4xx: bad
//! input, exit 2; otherwise: failed, exit 1), with the API's one-line reason
//! and its fix worded as this program's flags.

use std::path::{Path, PathBuf};

use futures_util::StreamExt as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, StatusCode, header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{CliError, CliResult, hint_text};

/// Characters left as they are in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// A path segment (a name), escaped.
pub fn segment(name: &str) -> String {
    utf8_percent_encode(name, SEGMENT).to_string()
}

/// How requests prove who sends them.
enum Auth {
    /// An API token.
    Token(Zeroizing<String>),
    /// A session `certmgr login` started: its cookie and CSRF token.
    Session {
        cookie: Zeroizing<String>,
        csrf: String,
    },
}

/// A manager's API.
pub struct Remote {
    base: String,
    http: reqwest::Client,
    auth: Auth,
}

/// A session saved by `certmgr login`.
#[derive(Serialize, Deserialize)]
pub struct SavedLogin {
    /// The manager's URL.
    pub server: String,
    /// The session cookie's value.
    pub cookie: String,
    /// The session's CSRF token.
    pub csrf: String,
}

/// Where `certmgr login` keeps its session (mode 0600).
pub fn login_file() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(config.join("certmgr").join("login.json"))
}

/// An HTTP client of `server`, trusting only `server_ca` when given.
pub fn http_client(server_ca: Option<&Path>) -> CliResult<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("certmgr/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(10));
    if let Some(path) = server_ca {
        let pem = std::fs::read(path)
            .map_err(|e| CliError::bad_input(format!("--server-ca {}: {e}", path.display())))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| CliError::bad_input(format!("--server-ca {}: {e}", path.display())))?;
        builder = builder.tls_certs_only(certificates);
    }
    builder
        .build()
        .map_err(|e| CliError::failed(format!("cannot make an HTTP client: {e}")))
}

impl Remote {
    /// The API of `server`, with the token or saved session for it.
    pub fn connect(
        server: &str,
        server_ca: Option<&Path>,
        token: Option<Zeroizing<String>>,
    ) -> CliResult<Remote> {
        let base = server.trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(CliError::bad_input(format!(
                "--server {server:?}: give the manager's URL (https://HOST:PORT)"
            )));
        }
        let auth = match token {
            Some(token) => Auth::Token(token),
            None => {
                let saved = login_file()
                    .and_then(|path| std::fs::read(path).ok())
                    .and_then(|data| serde_json::from_slice::<SavedLogin>(&data).ok())
                    .filter(|login| login.server.trim_end_matches('/') == base)
                    .ok_or_else(|| {
                        CliError::bad_input(format!(
                            "no credentials for {base}: set CERTMGR_TOKEN to an API token, or run `certmgr login {base}`"
                        ))
                    })?;
                Auth::Session {
                    cookie: Zeroizing::new(saved.cookie),
                    csrf: saved.csrf,
                }
            }
        };
        Ok(Remote {
            http: http_client(server_ca)?,
            base,
            auth,
        })
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let safe = method == Method::GET;
        let builder = self.http.request(method, format!("{}{path}", self.base));
        match &self.auth {
            Auth::Token(token) => builder.bearer_auth(token.as_str()),
            Auth::Session { cookie, csrf } => {
                let builder = builder.header(
                    header::COOKIE,
                    format!("certmgr_session={}", cookie.as_str()),
                );
                if safe {
                    builder
                } else {
                    builder.header("x-csrf-token", csrf)
                }
            }
        }
    }

    async fn answer(&self, request: reqwest::RequestBuilder) -> CliResult<reqwest::Response> {
        let response = request.send().await.map_err(|e| {
            CliError::failed(format!("cannot reach the manager at {}: {e}", self.base))
        })?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(problem_error(response).await)
    }

    /// `GET path`, as JSON.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> CliResult<T> {
        let response = self.answer(self.request(Method::GET, path)).await?;
        read_json(response).await
    }

    /// `GET path`, as text.
    pub async fn get_text(&self, path: &str) -> CliResult<String> {
        let response = self.answer(self.request(Method::GET, path)).await?;
        response
            .text()
            .await
            .map_err(|e| CliError::failed(format!("the manager's answer: {e}")))
    }

    /// `method path` with a JSON body, answered with JSON.
    pub async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &serde_json::Value,
    ) -> CliResult<T> {
        let response = self.answer(self.request(method, path).json(body)).await?;
        read_json(response).await
    }

    /// `DELETE path`, answered with nothing.
    pub async fn delete(&self, path: &str) -> CliResult<()> {
        self.answer(self.request(Method::DELETE, path)).await?;
        Ok(())
    }

    /// Start a job (`POST path`), print its progress as the local command
    /// prints the engine's (steps on stderr, unless `quiet`), and return
    /// its result once it succeeded.
    pub async fn run_job(
        &self,
        path: &str,
        body: &serde_json::Value,
        quiet: bool,
    ) -> CliResult<serde_json::Value> {
        let started: JobStarted = self.send(Method::POST, path, body).await?;
        let response = self
            .answer(self.request(Method::GET, &started.events_url))
            .await?;
        let mut stream = response.bytes_stream();
        let mut buffer = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                CliError::failed(format!("the progress of job {} broke off: {e}", started.id))
            })?;
            buffer.extend_from_slice(&chunk);
            // Events end with a blank line.
            while let Some(end) = find_event_end(&buffer) {
                let event: Vec<u8> = buffer.drain(..end).collect();
                if let Some(done) = self.on_event(&event, quiet)? {
                    return Ok(done);
                }
            }
        }
        // The stream ended without its `end` event: ask for the job's state.
        let job: JobState = self.get(&started.url).await?;
        job.outcome()
    }

    /// One Server-Sent Event: a step printed, or the job's end.
    fn on_event(&self, event: &[u8], quiet: bool) -> CliResult<Option<serde_json::Value>> {
        let text = String::from_utf8_lossy(event);
        let mut kind = "message";
        let mut data = String::new();
        for line in text.lines() {
            if let Some(value) = line.strip_prefix("event:") {
                kind = value.trim();
            } else if let Some(value) = line.strip_prefix("data:") {
                data.push_str(value.trim_start());
            }
        }
        match kind {
            "end" => {
                let job: JobState = serde_json::from_str(&data)
                    .map_err(|e| CliError::failed(format!("the job's end: {e}")))?;
                job.outcome().map(Some)
            }
            "step" | "result" | "warning" => {
                let line: JobLine = serde_json::from_str(&data)
                    .map_err(|e| CliError::failed(format!("the job's progress: {e}")))?;
                if kind == "warning" {
                    eprintln!("warning: {}", line.message);
                } else if !quiet {
                    eprintln!("  {}", line.message);
                }
                Ok(None)
            }
            _ => Ok(None),
        }
    }
}

/// Where a blank line ends the first event in `buffer`, if one is whole.
fn find_event_end(buffer: &[u8]) -> Option<usize> {
    buffer
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|at| at + 2)
}

async fn read_json<T: DeserializeOwned>(response: reqwest::Response) -> CliResult<T> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| CliError::failed(format!("the manager's answer: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        CliError::failed(format!(
            "the manager's answer is not what this certmgr reads: {e}"
        ))
    })
}

/// A problem document, as far as the command line reads it.
#[derive(Deserialize)]
struct WireProblem {
    detail: String,
    #[serde(default)]
    fix: Option<certmgr_engine::Hint>,
}

impl WireProblem {
    fn into_error(self, status: StatusCode) -> CliError {
        let message = match &self.fix {
            Some(fix) => format!("{}{}", self.detail, hint_text(fix)),
            None => self.detail,
        };
        if status.is_client_error() {
            CliError::bad_input(message)
        } else {
            CliError::failed(message)
        }
    }
}

async fn problem_error(response: reqwest::Response) -> CliError {
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    match serde_json::from_slice::<WireProblem>(&body) {
        Ok(problem) => problem.into_error(status),
        Err(_) => CliError::failed(format!(
            "the manager answered {status}: {}",
            String::from_utf8_lossy(&body).trim()
        )),
    }
}

/// A job the manager started.
#[derive(Deserialize)]
struct JobStarted {
    id: String,
    url: String,
    events_url: String,
}

/// One line of a job's progress.
#[derive(Deserialize)]
struct JobLine {
    message: String,
}

/// A job's state.
#[derive(Deserialize)]
struct JobState {
    status: String,
    #[serde(default)]
    result: Option<serde_json::Value>,
    #[serde(default)]
    problem: Option<WireProblemWithStatus>,
}

#[derive(Deserialize)]
struct WireProblemWithStatus {
    status: u16,
    #[serde(flatten)]
    problem: WireProblem,
}

impl JobState {
    fn outcome(self) -> CliResult<serde_json::Value> {
        match (self.status.as_str(), self.result, self.problem) {
            ("succeeded", Some(result), _) => Ok(result),
            (_, _, Some(p)) => Err(p
                .problem
                .into_error(StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_GATEWAY))),
            (status, _, None) => Err(CliError::failed(format!(
                "the job is {status}: see GET /api/jobs on the manager"
            ))),
        }
    }
}
