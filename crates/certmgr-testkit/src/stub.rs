/*!
A scripted HTTP stub server for provider conformance tests.

A test lists the exchanges it expects, in order: the request a client must
send (method, path, query, required headers, body) and the answer the stub
gives. The stub listens on `127.0.0.1:0`; any request that does not match the
next expected exchange is answered `599` and recorded with the reason, and
[`StubServer::assert_done`] fails listing what was missing or unexpected.

JSON bodies are compared semantically (key order and whitespace do not
matter), form bodies and query strings as multisets of decoded pairs.
*/

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::Value;

/// The body a request must carry.
#[derive(Debug, Clone)]
pub enum ExpectBody {
    /// JSON, compared semantically.
    Json(Value),
    /// `application/x-www-form-urlencoded`, compared as a multiset of pairs.
    Form(Vec<(String, String)>),
    /// Exact bytes as text.
    Raw(String),
    /// The request must have an empty body.
    Empty,
}

/// One expected request and the stub's answer to it.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// HTTP method, upper case.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Decoded query pairs the request must carry exactly (any order); `None` = not checked.
    pub query: Option<Vec<(String, String)>>,
    /// Headers that must be present with exactly this value (name case-insensitive).
    pub headers: Vec<(String, String)>,
    /// Headers that must be present and start with this prefix (signatures
    /// whose tail depends on the clock).
    pub header_prefixes: Vec<(String, String)>,
    /// Body check; `None` = not checked.
    pub body: Option<ExpectBody>,
    /// Answer status.
    pub status: u16,
    /// Answer headers.
    pub response_headers: Vec<(String, String)>,
    /// Answer body (JSON), or none.
    pub response_body: Option<Value>,
    /// Answer body as text with its content type (XML, plain text), instead of JSON.
    pub response_text: Option<(String, String)>,
}

impl Exchange {
    /// An exchange expecting `method path`, answering `200` with no body until told otherwise.
    pub fn new(method: &str, path: &str) -> Exchange {
        Exchange {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            query: None,
            headers: Vec::new(),
            header_prefixes: Vec::new(),
            body: None,
            status: 200,
            response_headers: Vec::new(),
            response_body: None,
            response_text: None,
        }
    }

    /// Requires exactly these decoded query pairs (an empty slice requires no query).
    pub fn query(mut self, pairs: &[(&str, &str)]) -> Exchange {
        self.query = Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        self
    }

    /// Requires a header with this exact value.
    pub fn header(mut self, name: &str, value: &str) -> Exchange {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Requires a header whose value starts with `prefix`.
    pub fn header_prefix(mut self, name: &str, prefix: &str) -> Exchange {
        self.header_prefixes
            .push((name.to_string(), prefix.to_string()));
        self
    }

    /// Requires this JSON body (semantic comparison).
    pub fn json(mut self, body: Value) -> Exchange {
        self.body = Some(ExpectBody::Json(body));
        self
    }

    /// Requires this form body.
    pub fn form(mut self, pairs: &[(&str, &str)]) -> Exchange {
        self.body = Some(ExpectBody::Form(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ));
        self
    }

    /// Requires this exact raw body.
    pub fn raw(mut self, body: &str) -> Exchange {
        self.body = Some(ExpectBody::Raw(body.to_string()));
        self
    }

    /// Requires an empty body.
    pub fn no_body(mut self) -> Exchange {
        self.body = Some(ExpectBody::Empty);
        self
    }

    /// The answer: status and optional JSON body.
    pub fn reply(mut self, status: u16, body: Option<Value>) -> Exchange {
        self.status = status;
        self.response_body = body;
        self
    }

    /// The answer: status and a text body (XML, plain text) with its content type.
    pub fn reply_text(mut self, status: u16, content_type: &str, body: &str) -> Exchange {
        self.status = status;
        self.response_body = None;
        self.response_text = Some((content_type.to_string(), body.to_string()));
        self
    }

    /// Adds an answer header.
    pub fn reply_header(mut self, name: &str, value: &str) -> Exchange {
        self.response_headers
            .push((name.to_string(), value.to_string()));
        self
    }

    /// Why `req` does not match this exchange, or `None` when it does.
    fn mismatch(&self, req: &Received) -> Option<String> {
        if req.method != self.method || req.path != self.path {
            return Some(format!(
                "expected {} {}, got {} {}",
                self.method, self.path, req.method, req.path
            ));
        }
        if let Some(want) = &self.query {
            let mut want = want.clone();
            let mut got = req.query.clone();
            want.sort();
            got.sort();
            if want != got {
                return Some(format!("query: expected {want:?}, got {got:?}"));
            }
        }
        for (name, value) in &self.headers {
            let got = req
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str());
            if got != Some(value.as_str()) {
                return Some(format!("header {name}: expected {value:?}, got {got:?}"));
            }
        }
        for (name, prefix) in &self.header_prefixes {
            let got = req
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str());
            if !got.is_some_and(|g| g.starts_with(prefix.as_str())) {
                return Some(format!(
                    "header {name}: expected a value starting with {prefix:?}, got {got:?}"
                ));
            }
        }
        match &self.body {
            None => {}
            Some(ExpectBody::Empty) if !req.body.is_empty() => {
                return Some(format!("body: expected none, got {:?}", req.body));
            }
            Some(ExpectBody::Empty) => {}
            Some(ExpectBody::Raw(want)) if &req.body != want => {
                return Some(format!("body: expected {want:?}, got {:?}", req.body));
            }
            Some(ExpectBody::Raw(_)) => {}
            Some(ExpectBody::Json(want)) => match serde_json::from_str::<Value>(&req.body) {
                Ok(got) if &got == want => {}
                Ok(got) => return Some(format!("JSON body: expected {want}, got {got}")),
                Err(e) => {
                    return Some(format!(
                        "body is not JSON ({e}): {:?}; expected {want}",
                        req.body
                    ));
                }
            },
            Some(ExpectBody::Form(want)) => {
                let mut got: Vec<(String, String)> =
                    url::form_urlencoded::parse(req.body.as_bytes())
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect();
                let mut want = want.clone();
                got.sort();
                want.sort();
                if got != want {
                    return Some(format!("form body: expected {want:?}, got {got:?}"));
                }
            }
        }
        None
    }
}

/// A request as the stub received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Method.
    pub method: String,
    /// Path without query.
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// All headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body as text (lossy UTF-8).
    pub body: String,
}

#[derive(Default)]
struct StubState {
    script: VecDeque<Exchange>,
    received: Vec<Received>,
    unexpected: Vec<(Received, String)>,
}

/// A running stub server; stops when dropped.
pub struct StubServer {
    addr: SocketAddr,
    state: Arc<Mutex<StubState>>,
    task: tokio::task::JoinHandle<()>,
}

impl StubServer {
    /// Starts a stub on `127.0.0.1:0` that expects `script` in order.
    pub async fn start(script: Vec<Exchange>) -> StubServer {
        let state = Arc::new(Mutex::new(StubState {
            script: script.into(),
            ..StubState::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind stub server on 127.0.0.1:0");
        let addr = listener.local_addr().expect("stub local address");
        let app = Router::new().fallback(handle).with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StubServer { addr, state, task }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, matched or not.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().expect("stub state").received.clone()
    }

    /// Panics listing exchanges never requested and requests that matched nothing.
    pub fn assert_done(&self) {
        let state = self.state.lock().expect("stub state");
        let mut problems = Vec::new();
        for ex in &state.script {
            problems.push(format!("missing: {} {}", ex.method, ex.path));
        }
        for (req, why) in &state.unexpected {
            problems.push(format!("unexpected: {} {} ({why})", req.method, req.path));
        }
        assert!(
            problems.is_empty(),
            "stub server script not satisfied:\n  {}",
            problems.join("\n  ")
        );
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(State(state): State<Arc<Mutex<StubState>>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, 1 << 20).await.unwrap_or_default();
    let received = Received {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    let mut st = state.lock().expect("stub state");
    st.received.push(received.clone());
    let verdict = match st.script.front() {
        None => Err("no more exchanges expected".to_string()),
        Some(ex) => match ex.mismatch(&received) {
            None => Ok(()),
            Some(why) => Err(why),
        },
    };
    match verdict {
        Ok(()) => {
            let ex = st.script.pop_front().expect("front exists");
            let mut resp = Response::new(match (&ex.response_body, &ex.response_text) {
                (Some(v), _) => Body::from(v.to_string()),
                (None, Some((_, text))) => Body::from(text.clone()),
                (None, None) => Body::empty(),
            });
            *resp.status_mut() =
                StatusCode::from_u16(ex.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            if ex.response_body.is_some() {
                resp.headers_mut()
                    .insert("content-type", HeaderValue::from_static("application/json"));
            }
            if let Some((ct, _)) = &ex.response_text
                && let Ok(v) = HeaderValue::from_str(ct)
            {
                resp.headers_mut().insert("content-type", v);
            }
            for (n, v) in &ex.response_headers {
                if let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(n.as_bytes()),
                    HeaderValue::from_str(v),
                ) {
                    resp.headers_mut().insert(n, v);
                }
            }
            resp
        }
        Err(why) => {
            st.unexpected.push((received, why.clone()));
            let mut resp = Response::new(Body::from(format!("stub: unexpected request: {why}")));
            *resp.status_mut() = StatusCode::from_u16(599).expect("599 is a valid status");
            resp
        }
    }
}
