//! The server's listeners, each bounded by [`certmgr_acme::listener`]
//! (header and handshake timeouts, a deadline per connection, caps on
//! connections in all and per client, backoff when `accept` fails):
//!
//! - the API: HTTPS with the manager's own certificate ([`crate::tls`]),
//!   or plain HTTP behind a TLS-terminating proxy;
//! - plain HTTP: HTTP-01 answers from this process and the store, a health
//!   check, and a redirect to the API for everything else;
//! - the TLS port: TLS-ALPN-01 validations, and the HTTP-01 answers over
//!   HTTPS with a self-signed certificate for sites whose port 80 redirects
//!   to 443 (CAs follow that redirect and do not check the certificate).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use certmgr_acme::listener::{self, ListenerLimits};
use certmgr_acme::{single_certificate_config, validation_config, wants_validation};
use certmgr_engine::answers::NodeAnswers;
use certmgr_engine::{EngineError, EngineResult, Hint};
use rustls::ServerConfig;
use rustls::sign::CertifiedKey;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::{LazyConfigAcceptor, TlsAcceptor};

use crate::gate::ClientAddress;

/// Bind `address`, saying which setting to change when it cannot be had.
pub async fn bind(address: SocketAddr, setting: &str) -> EngineResult<TcpListener> {
    TcpListener::bind(address).await.map_err(|e| {
        EngineError::failed_hint(
            format!("cannot listen on {address} ({setting}): {e}"),
            Hint::ListenAddress,
        )
    })
}

/// Serve the API on `socket`: over TLS with `tls`, or plain.
pub fn serve_api(
    socket: TcpListener,
    router: Router,
    tls: Option<Arc<ServerConfig>>,
    limits: ListenerLimits,
) -> JoinHandle<()> {
    let bound = socket
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::spawn(listener::serve(
        socket,
        limits.clone(),
        format!("server: API on {bound}"),
        move |stream| {
            let router = match stream.peer_addr() {
                Ok(peer) => router.clone().layer(axum::Extension(ClientAddress(peer))),
                Err(_) => router.clone(),
            };
            let limits = limits.clone();
            let acceptor = acceptor.clone();
            async move {
                match acceptor {
                    Some(acceptor) => {
                        let handshake =
                            tokio::time::timeout(limits.handshake_timeout, acceptor.accept(stream));
                        if let Ok(Ok(tls)) = handshake.await {
                            listener::serve_http(tls, router, &limits).await;
                        }
                    }
                    None => listener::serve_http(stream, router, &limits).await,
                }
            }
        },
    ))
}

/// HTTP-01 answers (the ACME crate's router, reading memory first and the
/// store second), a health check, and — when the API is served — a
/// redirect there for everything else (`/.well-known/acme-challenge/` never
/// redirects: validators must get their answer here).
pub fn challenge_router(answers: NodeAnswers, api: Option<String>) -> Router {
    let router = certmgr_acme::http01_router(answers).route("/healthz", get(|| async { "ok\n" }));
    match api {
        Some(base) => router.fallback(move |request: Request| {
            let base = base.clone();
            async move { redirect(&base, request.uri()) }
        }),
        None => router,
    }
}

/// `308` to the same path and query under the API's base URL.
fn redirect(base: &str, uri: &Uri) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    match HeaderValue::from_str(&format!("{base}{path}")) {
        Ok(location) => (
            StatusCode::PERMANENT_REDIRECT,
            [(header::LOCATION, location)],
        )
            .into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// Serve HTTP-01 answers on `socket`.
pub fn serve_challenges(
    socket: TcpListener,
    router: Router,
    limits: ListenerLimits,
) -> JoinHandle<()> {
    let bound = socket
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tokio::spawn(listener::serve(
        socket,
        limits.clone(),
        format!("server: HTTP-01 on {bound}"),
        move |stream| {
            let router = router.clone();
            let limits = limits.clone();
            async move { listener::serve_http(stream, router, &limits).await }
        },
    ))
}

/// Serve TLS-ALPN-01 (and HTTP-01 over HTTPS) on `socket`.
pub fn serve_validations(
    socket: TcpListener,
    answers: NodeAnswers,
    router: Router,
    limits: ListenerLimits,
) -> EngineResult<JoinHandle<()>> {
    let bound = socket
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let fallback = fallback_config()?;
    Ok(tokio::spawn(listener::serve(
        socket,
        limits.clone(),
        format!("server: HTTPS on {bound}"),
        move |stream| {
            serve_https(
                stream,
                answers.clone(),
                router.clone(),
                fallback.clone(),
                limits.clone(),
            )
        },
    )))
}

/// The self-signed certificate served to everything that is not TLS-ALPN-01.
fn fallback_config() -> EngineResult<Arc<ServerConfig>> {
    let key = rcgen::KeyPair::generate().map_err(|e| EngineError::failed(e.to_string()))?;
    let params = rcgen::CertificateParams::new(vec!["certmgr.invalid".to_owned()])
        .map_err(|e| EngineError::failed(e.to_string()))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| EngineError::failed(e.to_string()))?;
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let signing = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key_der)
        .map_err(|e| EngineError::failed(e.to_string()))?;
    Ok(single_certificate_config(
        Arc::new(CertifiedKey::new(vec![cert.der().clone()], signing)),
        &[b"http/1.1"],
    )?)
}

/// One connection on the HTTPS port: a TLS-ALPN-01 validation handshake (the
/// ACME crate's, with this node's answers), or HTTPS with the self-signed
/// certificate. The ClientHello, the lookup of the answer and the handshake
/// together get [`ListenerLimits::handshake_timeout`].
async fn serve_https(
    stream: tokio::net::TcpStream,
    answers: NodeAnswers,
    router: Router,
    fallback: Arc<ServerConfig>,
    limits: ListenerLimits,
) {
    let handshake = async {
        let acceptor = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream);
        let start = acceptor.await.ok()?;
        let hello = start.client_hello();
        if wants_validation(&hello) {
            let sni = hello.server_name()?.to_owned();
            let config = validation_config(&answers, &sni).await?;
            return Some((start.into_stream(config).await.ok()?, true));
        }
        Some((start.into_stream(fallback).await.ok()?, false))
    };
    let Ok(Some((mut tls, validation))) =
        tokio::time::timeout(limits.handshake_timeout, handshake).await
    else {
        return;
    };
    if validation {
        // The handshake is the whole validation.
        let _ = tokio::io::AsyncWriteExt::shutdown(&mut tls).await;
        return;
    }
    listener::serve_http(tls, router, &limits).await;
}
