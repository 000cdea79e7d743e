//! An HTTPS reverse proxy in front of a [`Pebble`] that adds ACME Renewal Information (ARI,
//! RFC 9773) and certificate profiles (draft-ietf-acme-profiles), which Debian's pebble 2.4
//! lacks.
//!
//! ```no_run
//! use certmgr_testkit::ari_proxy::{AriProxy, AriProxyOptions, RenewalWindowRule};
//! use certmgr_testkit::pebble::{pebble_available, Pebble};
//!
//! if !pebble_available() {
//!     return;
//! }
//! let pebble = Pebble::start();
//! let proxy = AriProxy::start(
//!     &pebble,
//!     AriProxyOptions {
//!         profiles: vec![("shortlived".into(), "6-day certificates".into())],
//!         renewal_window: RenewalWindowRule::renew_now(),
//!         ..AriProxyOptions::default()
//!     },
//! );
//! let directory = proxy.directory_url(); // https://127.0.0.1:PROXYPORT/dir
//! let trust = proxy.ca_bundle_path(); // trust anchor for the proxy's HTTPS certificate
//! // HTTP-01 validation still connects to 127.0.0.1:pebble.http01_port().
//! # let _ = (directory, trust);
//! ```
//!
//! What the proxy does:
//! * every request is forwarded to pebble over HTTPS (trusting [`Pebble::ca_bundle_path`]) with
//!   method, path, query, headers and body unchanged, except that `Host` is set to the
//!   proxy's own `127.0.0.1:PROXYPORT`; pebble's status, headers (`Replay-Nonce`, `Location`,
//!   `Link`, ...) and body come back unchanged except for URL rewriting (below);
//! * `GET /dir`: adds `"renewalInfo": "https://127.0.0.1:PROXYPORT/renewal-info"` (when
//!   [`AriProxyOptions::advertise_ari`]) and `meta.profiles` (when
//!   [`AriProxyOptions::profiles`] is not empty);
//! * `GET /renewal-info/{certID}` is answered by the proxy itself: `200`,
//!   `Retry-After: <secs>` and `{"suggestedWindow": {"start": RFC 3339, "end": RFC 3339}}`
//!   per the current [`RenewalWindowRule`]; `404` (problem document) for a malformed certID.
//!   Every requested certID is recorded ([`AriProxy::renewal_info_requests`]);
//! * newOrder: the JWS payload is decoded and recorded ([`AriProxy::new_orders`]). A `profile`
//!   that is not advertised is answered with `400 urn:ietf:params:acme:error:invalidProfile`
//!   (with a fresh `Replay-Nonce` from pebble) without forwarding. Otherwise the request is
//!   forwarded unchanged, and `replaces` / `profile` from the request are added to the order
//!   object in the response (pebble 2.4 drops them; RFC 9773 §5 says the server MUST reflect
//!   `replaces`) and to every later response carrying that order object (POST-as-GET of the
//!   order URL, the finalize response).
//!
//! How the JWS `url` check is satisfied (pebble's source, confirmed empirically against
//! Debian's pebble 2.4): pebble checks the protected header `url` against
//! `"https://" + r.Host + r.RequestURI`, i.e. the request's `Host` header, not its listen
//! address. Forwarding with pebble's own `Host: 127.0.0.1:PEBBLEPORT` fails every signed POST
//! with `400 urn:ietf:params:acme:error:malformed` "JWS header parameter 'url' incorrect.
//! Expected "https://127.0.0.1:PEBBLEPORT/sign-me-up", got
//! "https://127.0.0.1:PROXYPORT/sign-me-up"". Pebble also builds every absolute URL it returns
//! (directory, `Location`, order/authz/challenge/finalize/certificate URLs, `Link`, the account
//! URL used as `kid`) from `r.Host`. So the proxy forwards with `Host: 127.0.0.1:PROXYPORT`: the
//! URL the client signed is the one pebble expects, and pebble's answers already point at the
//! proxy (verified: with that `Host`, no answer in a full flow contains pebble's port). The proxy
//! still rewrites `https://127.0.0.1:PEBBLEPORT` and `https://localhost:PEBBLEPORT` to its own
//! origin in `Location`, `Link` and JSON bodies (not in problem documents) as a safety net.
//! Consequence: an account created through the proxy is only usable through the proxy (its `kid`
//! URL carries the proxy's port).
//!
//! The proxy runs on a dedicated thread with its own tokio runtime, so it works the same from
//! a plain `#[test]` (e.g. one that runs the `certmgr` binary) and from `#[tokio::test]`.
//! Dropping the [`AriProxy`] stops it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::pebble::{Pebble, free_port, write_tls_files};

/// Path of the proxy's renewalInfo resource (RFC 9773 §4); certIDs follow after a `/`.
pub const RENEWAL_INFO_PATH: &str = "/renewal-info";
/// Problem type for an order that asks for a profile the server does not offer
/// (draft-ietf-acme-profiles).
pub const INVALID_PROFILE: &str = "urn:ietf:params:acme:error:invalidProfile";
/// Default `Retry-After` of renewalInfo answers: 6 hours (RFC 9773 §4.3.2 suggests this).
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 21_600;

/// How long one forwarded request may take before the proxy answers `502`.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// Seconds per day, for the default window.
const DAY: i64 = 86_400;
/// Request headers that are not forwarded (hop-by-hop, or recomputed by the proxy).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
];

/// Settings for [`AriProxy::start`].
#[derive(Debug, Clone)]
pub struct AriProxyOptions {
    /// Profiles advertised in the directory's `meta.profiles`: name -> description. Empty
    /// (the default): no `meta.profiles`, and every order with a `profile` gets
    /// `invalidProfile`.
    pub profiles: Vec<(String, String)>,
    /// How renewalInfo requests are answered (changeable later with [`AriProxy::set_window`]).
    pub renewal_window: RenewalWindowRule,
    /// `Retry-After` (seconds) on renewalInfo answers (RFC 9773 §4.2), default
    /// [`DEFAULT_RETRY_AFTER_SECS`].
    pub retry_after_secs: u64,
    /// Whether the directory advertises `renewalInfo` (default `true`). With `false` the
    /// renewalInfo resource still answers, but clients cannot find it.
    pub advertise_ari: bool,
}

impl Default for AriProxyOptions {
    fn default() -> Self {
        AriProxyOptions {
            profiles: Vec::new(),
            renewal_window: RenewalWindowRule::default(),
            retry_after_secs: DEFAULT_RETRY_AFTER_SECS,
            advertise_ari: true,
        }
    }
}

impl AriProxyOptions {
    /// The defaults, plus Let's Encrypt's profile names (`classic`, `tlsserver`,
    /// `shortlived`) in `meta.profiles`.
    pub fn with_lets_encrypt_profiles() -> Self {
        AriProxyOptions {
            profiles: [
                ("classic", "The same profile you're accustomed to"),
                (
                    "tlsserver",
                    "https://letsencrypt.org/2025/01/09/acme-profiles/",
                ),
                (
                    "shortlived",
                    "https://letsencrypt.org/2025/01/09/acme-profiles/",
                ),
            ]
            .into_iter()
            .map(|(name, description)| (name.to_owned(), description.to_owned()))
            .collect(),
            ..AriProxyOptions::default()
        }
    }
}

/// How the proxy computes the `suggestedWindow` of a renewalInfo answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewalWindowRule {
    /// Window = `[now + start_offset_secs, now + end_offset_secs]`, "now" being the time of
    /// the request. Negative offsets put the window in the past ("renew now"), large positive
    /// ones in the future ("not yet").
    Relative {
        /// Offset of the window start from now, in seconds.
        start_offset_secs: i64,
        /// Offset of the window end from now, in seconds.
        end_offset_secs: i64,
    },
    /// A fixed window.
    Absolute {
        /// Window start.
        start: OffsetDateTime,
        /// Window end.
        end: OffsetDateTime,
    },
}

impl Default for RenewalWindowRule {
    /// `Relative { 30 days, 31 days }`: "not yet".
    fn default() -> Self {
        RenewalWindowRule::not_yet()
    }
}

impl RenewalWindowRule {
    /// A window entirely in the past (`[now - 2 h, now - 1 h]`): per RFC 9773 §4.3 the client
    /// should renew immediately, whatever point of the window it picks.
    pub const fn renew_now() -> Self {
        RenewalWindowRule::Relative {
            start_offset_secs: -7_200,
            end_offset_secs: -3_600,
        }
    }

    /// A window 30 to 31 days from now (the default).
    pub const fn not_yet() -> Self {
        RenewalWindowRule::Relative {
            start_offset_secs: 30 * DAY,
            end_offset_secs: 31 * DAY,
        }
    }

    /// The window for a request at `now`, truncated to whole seconds.
    pub fn window(&self, now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
        let (start, end) = match *self {
            RenewalWindowRule::Relative {
                start_offset_secs,
                end_offset_secs,
            } => (
                now + time::Duration::seconds(start_offset_secs),
                now + time::Duration::seconds(end_offset_secs),
            ),
            RenewalWindowRule::Absolute { start, end } => (start, end),
        };
        let whole = |t: OffsetDateTime| t.replace_nanosecond(0).unwrap_or(t);
        (whole(start), whole(end))
    }
}

/// A running proxy on `127.0.0.1:PORT` in front of a pebble. Dropping it stops it.
///
/// It does not borrow the [`Pebble`]; keep the pebble alive for as long as the proxy is used.
pub struct AriProxy {
    shared: Arc<Shared>,
    port: u16,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    ca_bundle: PathBuf,
    /// Holds the proxy's TLS files (removed on drop).
    _dir: tempfile::TempDir,
}

impl AriProxy {
    /// Starts a proxy in front of `pebble` and waits until it is ready (it has read
    /// pebble's directory). Sync on purpose: the proxy runs on its own thread and runtime, so
    /// this can be called from a plain `#[test]` and from inside a tokio runtime.
    ///
    /// Panics when pebble's directory cannot be read or no port can be bound.
    pub fn start(pebble: &Pebble, options: AriProxyOptions) -> AriProxy {
        let dir = tempfile::Builder::new()
            .prefix("certmgr-ari-proxy-")
            .tempdir()
            .expect("temporary directory for the ARI proxy");
        let ca_bundle = write_tls_files(dir.path());
        let acceptor = TlsAcceptor::from(Arc::new(server_tls_config(dir.path())));
        let connector = TlsConnector::from(Arc::new(client_tls_config(pebble.ca_bundle_path())));

        let (listener, port) = bind_listener();
        let upstream_directory = pebble.directory_url();
        let (upstream_origin, directory_path) = split_url(&upstream_directory)
            .unwrap_or_else(|| panic!("unexpected pebble directory URL {upstream_directory}"));
        let upstream_port: u16 = upstream_origin
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse().ok())
            .unwrap_or_else(|| panic!("no port in pebble directory URL {upstream_directory}"));
        let proxy_authority = format!("127.0.0.1:{port}");
        let upstream = Upstream {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, upstream_port)),
            origins: vec![
                upstream_origin.to_owned(),
                format!("https://localhost:{upstream_port}"),
            ],
            connector,
            host: HeaderValue::from_str(&proxy_authority).expect("valid Host header"),
        };
        let proxy_origin = format!("https://{proxy_authority}");
        let directory_path = directory_path.to_owned();

        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<Arc<Shared>, String>>();
        let (shutdown_tx, shutdown_rx) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(format!("ari-proxy-{port}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime for the ARI proxy");
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(err) => {
                            let _ = ready_tx.send(Err(format!("listener: {err}")));
                            return;
                        }
                    };
                    let paths = match learn_paths(&upstream, &directory_path).await {
                        Ok(paths) => paths,
                        Err(err) => {
                            let _ = ready_tx.send(Err(err));
                            return;
                        }
                    };
                    let shared = Arc::new(Shared {
                        proxy_origin,
                        upstream,
                        paths,
                        profiles: options.profiles,
                        advertise_ari: options.advertise_ari,
                        retry_after_secs: options.retry_after_secs,
                        window: Mutex::new(options.renewal_window),
                        new_orders: Mutex::new(Vec::new()),
                        renewal_info_requests: Mutex::new(Vec::new()),
                        order_fields: Mutex::new(HashMap::new()),
                    });
                    let _ = ready_tx.send(Ok(Arc::clone(&shared)));
                    serve(listener, acceptor, shared, shutdown_rx).await;
                });
            })
            .expect("spawn ARI proxy thread");
        let shared = match ready_rx.recv() {
            Ok(Ok(shared)) => shared,
            Ok(Err(err)) => {
                let _ = thread.join();
                panic!("ARI proxy did not start: {err}\n{}", pebble.logs());
            }
            Err(_) => {
                let _ = thread.join();
                panic!("ARI proxy thread died during start-up");
            }
        };
        AriProxy {
            shared,
            port,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
            ca_bundle,
            _dir: dir,
        }
    }

    /// The proxy's ACME directory URL, `https://127.0.0.1:PROXYPORT/dir`.
    pub fn directory_url(&self) -> String {
        format!(
            "{}{}",
            self.shared.proxy_origin, self.shared.paths.directory
        )
    }

    /// The proxy's origin, `https://127.0.0.1:PROXYPORT`.
    pub fn origin(&self) -> &str {
        &self.shared.proxy_origin
    }

    /// The port on 127.0.0.1 the proxy listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The renewalInfo URL advertised in the directory,
    /// `https://127.0.0.1:PROXYPORT/renewal-info` (append `/` + certID).
    pub fn renewal_info_url(&self) -> String {
        format!("{}{RENEWAL_INFO_PATH}", self.shared.proxy_origin)
    }

    /// PEM file of the CA that signed the proxy's HTTPS certificate (for `localhost` and
    /// 127.0.0.1); the ACME client must trust it. It is not pebble's TLS CA.
    pub fn ca_bundle_path(&self) -> &Path {
        &self.ca_bundle
    }

    /// The decoded JWS payloads of every newOrder POST seen so far, in order (including
    /// those answered with `invalidProfile`). Payloads that were not valid JSON are recorded
    /// as `Value::Null`.
    pub fn new_orders(&self) -> Vec<Value> {
        lock(&self.shared.new_orders).clone()
    }

    /// Every certID requested from the renewalInfo resource so far (the path segment after
    /// `/renewal-info/`, also malformed ones), in order.
    pub fn renewal_info_requests(&self) -> Vec<String> {
        lock(&self.shared.renewal_info_requests).clone()
    }

    /// Changes how later renewalInfo requests are answered.
    pub fn set_window(&self, rule: RenewalWindowRule) {
        *lock(&self.shared.window) = rule;
    }
}

impl Drop for AriProxy {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for AriProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AriProxy")
            .field("directory_url", &self.directory_url())
            .field("upstream", &self.shared.upstream.origins[0])
            .finish()
    }
}

/// State shared between the proxy's connections and the [`AriProxy`] handle.
struct Shared {
    /// `https://127.0.0.1:PROXYPORT`.
    proxy_origin: String,
    upstream: Upstream,
    paths: Paths,
    profiles: Vec<(String, String)>,
    advertise_ari: bool,
    retry_after_secs: u64,
    window: Mutex<RenewalWindowRule>,
    new_orders: Mutex<Vec<Value>>,
    renewal_info_requests: Mutex<Vec<String>>,
    /// Order URL and finalize URL (proxy URLs) -> fields to echo in that order object.
    order_fields: Mutex<HashMap<String, Map<String, Value>>>,
}

/// Paths of pebble's resources, learned from its directory at start-up.
struct Paths {
    directory: String,
    new_order: String,
    new_nonce: String,
}

/// Pebble, as seen from the proxy.
struct Upstream {
    addr: SocketAddr,
    /// Origins pebble could put in URLs (`https://127.0.0.1:P`, `https://localhost:P`).
    origins: Vec<String>,
    connector: TlsConnector,
    /// `Host` sent with every forwarded request: the proxy's own authority.
    host: HeaderValue,
}

/// A buffered response from pebble.
struct Buffered {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

type ProxyResponse = Response<Full<Bytes>>;

impl Upstream {
    /// Sends one request to pebble on a new connection, with `Host` set to the proxy.
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Buffered, String> {
        tokio::time::timeout(
            UPSTREAM_TIMEOUT,
            self.send_inner(method, path_and_query, headers, body),
        )
        .await
        .unwrap_or_else(|_| Err(format!("no answer from pebble within {UPSTREAM_TIMEOUT:?}")))
    }

    async fn send_inner(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Buffered, String> {
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(|err| format!("connect to pebble {}: {err}", self.addr))?;
        let server_name = ServerName::IpAddress(self.addr.ip().into());
        let tls = self
            .connector
            .connect(server_name, tcp)
            .await
            .map_err(|err| format!("TLS handshake with pebble: {err}"))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|err| format!("HTTP handshake with pebble: {err}"))?;
        tokio::spawn(connection);

        let mut request = Request::builder()
            .method(method)
            .uri(path_and_query)
            .body(Full::new(body))
            .map_err(|err| format!("build request: {err}"))?;
        for (name, value) in headers {
            if !HOP_BY_HOP.contains(&name.as_str()) && name != header::ACCEPT_ENCODING {
                request.headers_mut().append(name, value.clone());
            }
        }
        request
            .headers_mut()
            .insert(header::HOST, self.host.clone());

        let response = sender
            .send_request(request)
            .await
            .map_err(|err| format!("request to pebble: {err}"))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|err| format!("response body from pebble: {err}"))?
            .to_bytes();
        Ok(Buffered {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    /// Replaces pebble's origins by the proxy's in `text`.
    fn rewrite(&self, text: &str, proxy_origin: &str) -> String {
        self.origins.iter().fold(text.to_owned(), |text, origin| {
            text.replace(origin.as_str(), proxy_origin)
        })
    }
}

/// Reads pebble's directory (through the proxy's eyes) and notes the resource paths.
async fn learn_paths(upstream: &Upstream, directory_path: &str) -> Result<Paths, String> {
    let response = upstream
        .send(Method::GET, directory_path, &HeaderMap::new(), Bytes::new())
        .await?;
    if response.status != StatusCode::OK {
        return Err(format!("GET {directory_path}: status {}", response.status));
    }
    let directory: Value = serde_json::from_slice(&response.body)
        .map_err(|err| format!("pebble directory is not JSON: {err}"))?;
    let path = |field: &str| {
        directory[field]
            .as_str()
            .and_then(split_url)
            .map(|(_, path)| path.to_owned())
            .ok_or_else(|| format!("pebble directory has no {field}: {directory}"))
    };
    Ok(Paths {
        directory: directory_path.to_owned(),
        new_order: path("newOrder")?,
        new_nonce: path("newNonce")?,
    })
}

/// Accepts connections until `shutdown` fires (or its sender is dropped).
async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => {
                    // E.g. out of file descriptors: do not spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            let service = service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(shared.handle(request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

impl Shared {
    /// Answers one request from the client.
    async fn handle(&self, request: Request<Incoming>) -> ProxyResponse {
        let (parts, body) = request.into_parts();
        let body = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(err) => return plain(StatusCode::BAD_REQUEST, &format!("request body: {err}")),
        };
        let path = parts.uri.path();
        let path_and_query = parts
            .uri
            .path_and_query()
            .map_or_else(|| path.to_owned(), |pq| pq.as_str().to_owned());

        if let Some(cert_id) = path.strip_prefix(RENEWAL_INFO_PATH) {
            return self.renewal_info(&parts.method, cert_id);
        }
        if parts.method == Method::POST && path == self.paths.new_order {
            return self.new_order(&path_and_query, &parts.headers, body).await;
        }
        let is_directory = parts.method == Method::GET && path == self.paths.directory;
        let request_url = format!("{}{path}", self.proxy_origin);
        let upstream = match self
            .upstream
            .send(parts.method, &path_and_query, &parts.headers, body)
            .await
        {
            Ok(upstream) => upstream,
            Err(err) => return plain(StatusCode::BAD_GATEWAY, &err),
        };
        let mut response = self.rewritten(upstream);
        if is_directory && response.status.is_success() {
            self.patch_directory(&mut response);
        } else {
            self.echo_order_fields(&mut response, &request_url);
        }
        self.finish(response)
    }

    /// `GET /renewal-info/{certID}`.
    fn renewal_info(&self, method: &Method, rest: &str) -> ProxyResponse {
        if method != Method::GET && method != Method::HEAD {
            return plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "renewalInfo only answers GET",
            );
        }
        let cert_id = rest.strip_prefix('/').unwrap_or(rest);
        lock(&self.renewal_info_requests).push(cert_id.to_owned());
        if !valid_cert_id(cert_id) {
            return problem(
                StatusCode::NOT_FOUND,
                "urn:ietf:params:acme:error:malformed",
                &format!(
                    "certID {cert_id:?} is not base64url(AKI keyIdentifier) \".\" \
                     base64url(serial)"
                ),
                None,
            );
        }
        let (start, end) = lock(&self.window).window(OffsetDateTime::now_utc());
        let format = |t: OffsetDateTime| t.format(&Rfc3339).expect("RFC 3339 timestamp");
        let body = json!({"suggestedWindow": {"start": format(start), "end": format(end)}});
        let mut response = json_response(StatusCode::OK, &body);
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(self.retry_after_secs),
        );
        response
    }

    /// A newOrder POST: record, check the profile, forward, echo `replaces`/`profile`.
    async fn new_order(
        &self,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> ProxyResponse {
        let payload = jws_payload(&body).unwrap_or(Value::Null);
        lock(&self.new_orders).push(payload.clone());

        if let Some(profile) = payload.get("profile").and_then(Value::as_str)
            && !self.profiles.iter().any(|(name, _)| name == profile)
        {
            let nonce = self.fresh_nonce().await;
            let offered: Vec<&str> = self.profiles.iter().map(|(n, _)| n.as_str()).collect();
            return problem(
                StatusCode::BAD_REQUEST,
                INVALID_PROFILE,
                &format!("profile {profile:?} is not offered (offered: {offered:?})"),
                nonce,
            );
        }

        let upstream = match self
            .upstream
            .send(Method::POST, path_and_query, headers, body)
            .await
        {
            Ok(upstream) => upstream,
            Err(err) => return plain(StatusCode::BAD_GATEWAY, &err),
        };
        let mut response = self.rewritten(upstream);
        let echoed: Map<String, Value> = ["replaces", "profile"]
            .into_iter()
            .filter_map(|field| Some((field.to_owned(), payload.get(field)?.clone())))
            .collect();
        if response.status.is_success() && !echoed.is_empty() {
            let mut fields = lock(&self.order_fields);
            if let Some(location) = response
                .headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
            {
                fields.insert(location.to_owned(), echoed.clone());
            }
            if let Ok(Value::Object(order)) = serde_json::from_slice::<Value>(&response.body)
                && let Some(finalize) = order.get("finalize").and_then(Value::as_str)
            {
                fields.insert(finalize.to_owned(), echoed);
            }
        }
        self.echo_order_fields(&mut response, "");
        self.finish(response)
    }

    /// A fresh nonce from pebble's newNonce resource, if it answers.
    async fn fresh_nonce(&self) -> Option<HeaderValue> {
        let response = self
            .upstream
            .send(
                Method::HEAD,
                &self.paths.new_nonce,
                &HeaderMap::new(),
                Bytes::new(),
            )
            .await
            .ok()?;
        response.headers.get("replay-nonce").cloned()
    }

    /// Pebble's response with its URLs pointing at the proxy.
    fn rewritten(&self, mut response: Buffered) -> Buffered {
        for name in [header::LOCATION, header::LINK] {
            let values: Vec<HeaderValue> = response
                .headers
                .get_all(&name)
                .iter()
                .map(|value| match value.to_str() {
                    Ok(text) => {
                        HeaderValue::from_str(&self.upstream.rewrite(text, &self.proxy_origin))
                            .unwrap_or_else(|_| value.clone())
                    }
                    Err(_) => value.clone(),
                })
                .collect();
            response.headers.remove(&name);
            for value in values {
                response.headers.append(name.clone(), value);
            }
        }
        // Problem documents are left alone: their `detail` may quote pebble's URLs on purpose.
        if is_json(&response.headers)
            && !is_problem(&response.headers)
            && let Ok(text) = std::str::from_utf8(&response.body)
        {
            response.body = Bytes::from(self.upstream.rewrite(text, &self.proxy_origin));
        }
        response
    }

    /// Adds `renewalInfo` and `meta.profiles` to the directory.
    fn patch_directory(&self, response: &mut Buffered) {
        let Ok(Value::Object(mut directory)) = serde_json::from_slice::<Value>(&response.body)
        else {
            return;
        };
        if self.advertise_ari {
            directory.insert(
                "renewalInfo".to_owned(),
                Value::String(format!("{}{RENEWAL_INFO_PATH}", self.proxy_origin)),
            );
        }
        if !self.profiles.is_empty() {
            let meta = directory
                .entry("meta")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(meta) = meta {
                let profiles: Map<String, Value> = self
                    .profiles
                    .iter()
                    .map(|(name, description)| (name.clone(), Value::String(description.clone())))
                    .collect();
                meta.insert("profiles".to_owned(), Value::Object(profiles));
            }
        }
        response.body = Bytes::from(
            serde_json::to_vec_pretty(&Value::Object(directory)).expect("serialize directory"),
        );
    }

    /// Adds the remembered `replaces`/`profile` to an order object: found by the request URL
    /// (POST-as-GET of the order) or by the object's `finalize` URL (e.g. finalize response).
    fn echo_order_fields(&self, response: &mut Buffered, request_url: &str) {
        if !response.status.is_success() || !is_json(&response.headers) {
            return;
        }
        let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(&response.body) else {
            return;
        };
        let fields = {
            let known = lock(&self.order_fields);
            let by_finalize = object
                .get("finalize")
                .and_then(Value::as_str)
                .and_then(|finalize| known.get(finalize));
            match by_finalize.or_else(|| known.get(request_url)) {
                Some(fields) => fields.clone(),
                None => return,
            }
        };
        let mut changed = false;
        for (name, value) in fields {
            if !object.contains_key(&name) {
                object.insert(name, value);
                changed = true;
            }
        }
        if changed {
            response.body = Bytes::from(
                serde_json::to_vec_pretty(&Value::Object(object)).expect("serialize order"),
            );
        }
    }

    /// Turns a buffered (and possibly modified) response into the client's response.
    fn finish(&self, upstream: Buffered) -> ProxyResponse {
        let mut response = Response::new(Full::new(upstream.body));
        *response.status_mut() = upstream.status;
        let headers = response.headers_mut();
        for (name, value) in &upstream.headers {
            // Content-Length is recomputed from the (possibly rewritten) body.
            if !HOP_BY_HOP.contains(&name.as_str()) && name != header::CONTENT_LENGTH {
                headers.append(name, value.clone());
            }
        }
        response
    }
}

/// Whether `cert_id` looks like RFC 9773 §4.1's `base64url(AKI) "." base64url(serial)`.
fn valid_cert_id(cert_id: &str) -> bool {
    let Some((aki, serial)) = cert_id.split_once('.') else {
        return false;
    };
    !aki.is_empty()
        && !serial.is_empty()
        && URL_SAFE_NO_PAD.decode(aki).is_ok()
        && URL_SAFE_NO_PAD.decode(serial).is_ok()
}

/// The decoded payload of a flattened JSON JWS (`{"protected", "payload", "signature"}`).
fn jws_payload(body: &[u8]) -> Option<Value> {
    let jws: Value = serde_json::from_slice(body).ok()?;
    let payload = jws.get("payload")?.as_str()?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    if bytes.is_empty() {
        return Some(Value::Null); // POST-as-GET
    }
    serde_json::from_slice(&bytes).ok()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"))
}

fn is_problem(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("problem+json"))
}

/// `("https://host:port", "/path")` of an absolute URL.
fn split_url(url: &str) -> Option<(&str, &str)> {
    let after_scheme = url.find("://")? + 3;
    let path_start = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    let path = if path_start == url.len() {
        "/"
    } else {
        &url[path_start..]
    };
    Some((&url[..path_start], path))
}

fn plain(status: StatusCode, text: &str) -> ProxyResponse {
    let mut response = Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn json_response(status: StatusCode, body: &Value) -> ProxyResponse {
    let bytes = serde_json::to_vec_pretty(body).expect("serialize JSON");
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// An RFC 7807 problem document, optionally with a `Replay-Nonce`.
fn problem(
    status: StatusCode,
    problem_type: &str,
    detail: &str,
    nonce: Option<HeaderValue>,
) -> ProxyResponse {
    let body = json!({"type": problem_type, "detail": detail, "status": status.as_u16()});
    let mut response = json_response(status, &body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Some(nonce) = nonce {
        response
            .headers_mut()
            .insert(HeaderName::from_static("replay-nonce"), nonce);
    }
    response
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Binds 127.0.0.1 on a port from [`free_port`], retrying a few times.
fn bind_listener() -> (std::net::TcpListener, u16) {
    let mut last_error = None;
    for _ in 0..10 {
        let port = free_port(false);
        match std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            Ok(listener) => {
                listener
                    .set_nonblocking(true)
                    .expect("non-blocking listener");
                return (listener, port);
            }
            Err(err) => last_error = Some(err),
        }
    }
    panic!("ARI proxy: could not bind a port on 127.0.0.1: {last_error:?}");
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// TLS for the proxy's listener: the `localhost`/127.0.0.1 certificate made by
/// [`write_tls_files`] in `dir`.
fn server_tls_config(dir: &Path) -> rustls::ServerConfig {
    let cert = CertificateDer::from_pem_file(dir.join("localhost-cert.pem"))
        .expect("read proxy certificate");
    let key = PrivateKeyDer::from_pem_file(dir.join("localhost-key.pem")).expect("read proxy key");
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("proxy TLS certificate");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// TLS towards pebble: trusts only pebble's TLS CA.
fn client_tls_config(ca_bundle: &Path) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_bundle).expect("read pebble's CA bundle") {
        roots
            .add(cert.expect("PEM certificate in pebble's CA bundle"))
            .expect("add pebble's CA");
    }
    rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cert_ids() {
        assert!(valid_cert_id("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"));
        assert!(!valid_cert_id("aYhba4dGQEHhs3uEe6CuLN4ByNQ"));
        assert!(!valid_cert_id(".AIdlQyE"));
        assert!(!valid_cert_id("aYhb.AIdl.QyE"));
        assert!(!valid_cert_id("a+b/.AIdlQyE"));
        assert!(!valid_cert_id("aYhb=.AIdlQyE"));
    }

    #[test]
    fn urls_split() {
        assert_eq!(
            split_url("https://127.0.0.1:14000/dir"),
            Some(("https://127.0.0.1:14000", "/dir"))
        );
        assert_eq!(
            split_url("https://127.0.0.1:14000"),
            Some(("https://127.0.0.1:14000", "/"))
        );
        assert_eq!(split_url("nope"), None);
    }

    #[test]
    fn jws_payloads() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"profile":"shortlived"}"#);
        let body = format!(r#"{{"protected":"e30","payload":"{payload}","signature":"AA"}}"#);
        assert_eq!(
            jws_payload(body.as_bytes()),
            Some(json!({"profile": "shortlived"}))
        );
        assert_eq!(
            jws_payload(br#"{"protected":"e30","payload":"","signature":"AA"}"#),
            Some(Value::Null)
        );
        assert_eq!(jws_payload(b"not json"), None);
    }

    #[test]
    fn windows() {
        let now = OffsetDateTime::from_unix_timestamp(1_000_000).unwrap();
        let (start, end) = RenewalWindowRule::renew_now().window(now);
        assert!(start < end && end < now);
        let (start, end) = RenewalWindowRule::default().window(now);
        assert_eq!(start - now, time::Duration::days(30));
        assert_eq!(end - now, time::Duration::days(31));
    }
}
