//! certmgr's manager as a service.
//!
//! - [`api`]: the REST API (axum), its routes and its generated OpenAPI
//!   document; every route passes the [`gate`] (authentication, the
//!   [`policy`] table, tag scopes, the audit log).
//! - [`jobs`]: issuing and renewing as jobs whose progress streams as
//!   Server-Sent Events.
//! - [`problem`]: errors as RFC 9457 problem documents.
//! - [`metrics`] and [`health`]: `/metrics` (Prometheus) and
//!   `/healthz`, `/readyz`; [`log`]: the process's log, text or JSON.
//! - [`process`]: the long-running process (`certmgr server`): the API
//!   listener, the HTTP-01 and TLS-ALPN-01 listeners, the heartbeat and the
//!   renewal scheduler.
//!
//! Like the command line, the server is a front end: every handler parses
//! the request, calls one function of [`certmgr_engine`], and renders what
//! it returns.

// Handlers answer problems by value: axum turns them into responses at
// once, and a problem document is a few strings, so boxing it would buy
// nothing but noise.
#![allow(clippy::result_large_err)]

pub mod api;
mod body;
pub mod config;
mod extract;
pub mod gate;
pub mod headers;
pub mod health;
pub mod jobs;
mod listeners;
pub mod log;
pub mod metrics;
pub mod policy;
pub mod problem;
pub mod process;
mod routes;
pub mod throttle;
pub mod tls;
pub mod ui;

use std::sync::Arc;

use certmgr_engine::{Clock, Engine, SystemClock};
use certmgr_store::Store;

/// What every request works with: the store, the clock and the jobs.
#[derive(Clone)]
pub struct AppState {
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    jobs: jobs::Jobs,
    throttle: Arc<throttle::LoginThrottle>,
    secure_cookies: bool,
    sso: Option<Arc<routes::oidc::Sso>>,
    scheduler: Arc<health::Scheduler>,
}

impl AppState {
    /// The API on this store, on the system clock.
    pub fn new(store: Arc<Store>) -> Self {
        Self::with_clock(store, Arc::new(SystemClock))
    }

    /// The API on this store, reading the time from `clock` (tests).
    pub fn with_clock(store: Arc<Store>, clock: Arc<dyn Clock>) -> Self {
        AppState {
            store,
            clock,
            jobs: jobs::Jobs::default(),
            throttle: Arc::default(),
            secure_cookies: false,
            sso: None,
            scheduler: Arc::default(),
        }
    }

    /// Single sign-on with the provider `config` names (its discovery
    /// document is read now: a provider that cannot be reached stops the
    /// start, rather than every sign-in later).
    pub async fn with_oidc(
        mut self,
        config: Option<certmgr_oidc::OidcConfig>,
    ) -> certmgr_engine::EngineResult<Self> {
        if let Some(config) = config {
            let client = certmgr_oidc::OidcClient::discover(config)
                .await
                .map_err(|e| certmgr_engine::EngineError::failed(format!("single sign-on: {e}")))?;
            self.sso = Some(routes::oidc::Sso::new(client));
        }
        Ok(self)
    }

    /// Single sign-on, when configured.
    pub(crate) fn sso(&self) -> Option<&routes::oidc::Sso> {
        self.sso.as_deref()
    }

    /// Mark session cookies `Secure`: the API is served over TLS.
    pub fn with_secure_cookies(mut self) -> Self {
        self.secure_cookies = true;
        self
    }

    /// Whether session cookies are marked `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }

    /// The sign-in limiter.
    pub fn throttle(&self) -> &throttle::LoginThrottle {
        &self.throttle
    }

    /// The lifecycle for one request.
    pub fn engine(&self) -> Engine<'_> {
        Engine::with_clock(&self.store, &*self.clock)
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store, to hand to a job's task.
    pub fn shared_store(&self) -> Arc<Store> {
        self.store.clone()
    }

    /// The clock, to hand to a job's task.
    pub fn shared_clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The jobs.
    pub fn jobs(&self) -> &jobs::Jobs {
        &self.jobs
    }

    /// The renewal scheduler's life (off unless the process turns it on).
    pub fn scheduler(&self) -> &health::Scheduler {
        &self.scheduler
    }

    /// The scheduler's life, to hand to the scheduler's task.
    pub fn shared_scheduler(&self) -> Arc<health::Scheduler> {
        self.scheduler.clone()
    }
}
