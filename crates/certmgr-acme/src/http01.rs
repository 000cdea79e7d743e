//! The built-in HTTP-01 responder (RFC 8555 §8.3): answers
//! `GET /.well-known/acme-challenge/<token>` with the key authorization,
//! within the bounds of [`crate::listener`] (header timeout, connection caps).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::task::JoinHandle;

use crate::AcmeError;
use crate::listener::{self, ListenerLimits};

/// The tokens being answered, shared between the order flow and the responder.
#[derive(Debug, Clone, Default)]
pub struct Http01Tokens(Arc<RwLock<HashMap<String, String>>>);

impl Http01Tokens {
    /// Answer `token` with `key_authorization` from now on.
    pub fn insert(&self, token: &str, key_authorization: &str) {
        // A poisoned lock only means another thread panicked while holding it;
        // the map itself is still consistent (single insert/remove operations).
        let mut map = self.0.write().unwrap_or_else(|e| e.into_inner());
        map.insert(token.to_owned(), key_authorization.to_owned());
    }

    /// Stop answering `token`.
    pub fn remove(&self, token: &str) {
        let mut map = self.0.write().unwrap_or_else(|e| e.into_inner());
        map.remove(token);
    }

    /// The key authorization for `token`, if it is being answered.
    pub fn get(&self, token: &str) -> Option<String> {
        let map = self.0.read().unwrap_or_else(|e| e.into_inner());
        map.get(token).cloned()
    }
}

/// A running HTTP-01 responder; stops when dropped.
#[derive(Debug)]
pub struct Http01Responder {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl Http01Responder {
    /// Listen on `address` and answer the tokens in `tokens`, within
    /// [`ListenerLimits::fitting`] (room for this and a TLS-ALPN-01 responder).
    pub async fn start(address: SocketAddr, tokens: Http01Tokens) -> Result<Self, AcmeError> {
        Self::start_with_limits(address, tokens, ListenerLimits::fitting(2)).await
    }

    /// [`Http01Responder::start`] with other bounds.
    pub async fn start_with_limits(
        address: SocketAddr,
        tokens: Http01Tokens,
        limits: ListenerLimits,
    ) -> Result<Self, AcmeError> {
        let socket =
            tokio::net::TcpListener::bind(address)
                .await
                .map_err(|e| AcmeError::Listen {
                    address: address.to_string(),
                    challenge: "http-01",
                    reason: e.to_string(),
                })?;
        let address = socket.local_addr().unwrap_or(address);
        let router = router(tokens);
        let name = format!("HTTP-01 responder on {address}");
        let shared = limits.clone();
        // The server only ends when the task is aborted.
        let task = tokio::spawn(listener::serve(socket, limits, name, move |stream| {
            let router = router.clone();
            let limits = shared.clone();
            async move { listener::serve_http(stream, router, &limits).await }
        }));
        Ok(Http01Responder { address, task })
    }

    /// The address actually bound (useful with port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for Http01Responder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The responder's routes, for embedding in a larger server.
pub fn router<L: Http01Lookup>(lookup: L) -> Router {
    Router::new()
        .route("/.well-known/acme-challenge/{token}", get(answer::<L>))
        .with_state(lookup)
}

/// Where an HTTP-01 responder finds the key authorization of a token: this
/// process's memory ([`Http01Tokens`]), or more (a server that also reads
/// the answers other processes published in its store).
pub trait Http01Lookup: Clone + Send + Sync + 'static {
    /// The key authorization for `token`, if this responder answers it.
    fn key_authorization(&self, token: &str) -> impl Future<Output = Option<String>> + Send;
}

impl Http01Lookup for Http01Tokens {
    async fn key_authorization(&self, token: &str) -> Option<String> {
        self.get(token)
    }
}

async fn answer<L: Http01Lookup>(State(lookup): State<L>, Path(token): Path<String>) -> Response {
    match lookup.key_authorization(&token).await {
        Some(key_authorization) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            key_authorization,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "unknown ACME challenge token\n").into_response(),
    }
}
