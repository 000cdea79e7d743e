//! How one run answers HTTP-01 and TLS-ALPN-01 challenges: into a web
//! root, through a running `certmgr server` sharing the store, or with
//! responders started in this process.

use std::net::SocketAddr;

use certmgr_acme::{Http01Responder, Solvers, TlsAlpnResponder};
use certmgr_core::ChallengeKind;
use certmgr_store::Store;

use crate::error::{EngineError, EngineResult};
use crate::progress::step;
use crate::solver::{HttpAnswers, RunSolver};

/// Default address of the HTTP-01 responder (the CA connects to port 80).
const DEFAULT_HTTP01_LISTEN: &str = "0.0.0.0:80";
/// Default address of the TLS-ALPN-01 responder (the CA connects to port 443).
const DEFAULT_TLS_ALPN01_LISTEN: &str = "0.0.0.0:443";
/// Heartbeats older than this mean the server is gone.
const SERVER_LIVENESS_SECS: i64 = 30;

/// How one run answers challenges, with the responders it started (if any),
/// shared by every order it places.
pub struct Responders<'a> {
    /// Where orders publish their answers.
    pub solver: RunSolver<'a>,
    _http: Option<Http01Responder>,
    _alpn: Option<TlsAlpnResponder>,
}

/// How the user asked a run to answer challenges.
#[derive(Debug, Clone, Default)]
pub struct AnswerOptions {
    /// Answer HTTP-01 on this address.
    pub http01_listen: Option<SocketAddr>,
    /// Answer TLS-ALPN-01 on this address.
    pub tls_alpn01_listen: Option<SocketAddr>,
    /// Write HTTP-01 answers under this document root.
    pub webroot: Option<std::path::PathBuf>,
}

impl<'a> Responders<'a> {
    /// Decide how to answer `kinds` of challenges: into a web root when asked;
    /// through a running `certmgr server` sharing the store when there is one
    /// and no listen address was given; otherwise with responders started here
    /// (before any order tells the CA to validate).
    pub async fn for_run(
        store: &'a Store,
        kinds: &[ChallengeKind],
        options: &AnswerOptions,
    ) -> EngineResult<Responders<'a>> {
        if let Some(root) = &options.webroot {
            return Ok(Responders {
                solver: RunSolver::new(store, HttpAnswers::Webroot(root.clone())),
                _http: None,
                _alpn: None,
            });
        }
        if options.http01_listen.is_none() && options.tls_alpn01_listen.is_none() {
            let servers = store.live_servers(SERVER_LIVENESS_SECS).await?;
            if let Some(server) = servers.first() {
                step!(
                    "answering through the certmgr server on {} (pid {})",
                    server.host,
                    server.pid
                );
                return Ok(Responders {
                    solver: RunSolver::new(store, HttpAnswers::Store),
                    _http: None,
                    _alpn: None,
                });
            }
        }
        let solvers = Solvers::default();
        let http = if kinds.contains(&ChallengeKind::Http01) {
            Some(
                Http01Responder::start(
                    listen_address(options.http01_listen, DEFAULT_HTTP01_LISTEN)?,
                    solvers.http01.clone(),
                )
                .await?,
            )
        } else {
            None
        };
        let alpn = if kinds.contains(&ChallengeKind::TlsAlpn01) {
            Some(
                TlsAlpnResponder::start(
                    listen_address(options.tls_alpn01_listen, DEFAULT_TLS_ALPN01_LISTEN)?,
                    solvers.tls_alpn01.clone(),
                )
                .await?,
            )
        } else {
            None
        };
        Ok(Responders {
            solver: RunSolver::new(store, HttpAnswers::Memory(solvers)),
            _http: http,
            _alpn: alpn,
        })
    }
}

fn listen_address(given: Option<SocketAddr>, default: &str) -> EngineResult<SocketAddr> {
    match given {
        Some(address) => Ok(address),
        None => default
            .parse()
            .map_err(|_| EngineError::failed(format!("bad built-in address {default}"))),
    }
}
