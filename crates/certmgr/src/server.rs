//! `certmgr server`: the long-running process of a node.
//!
//! - Answers HTTP-01 on `--http-listen` from its own orders and from the
//!   store, so every node sharing the store answers for every other
//!   (several nodes behind one load balancer all pass validation).
//! - On `--https-listen` it answers TLS-ALPN-01 (RFC 8737) and serves the same
//!   HTTP-01 answers over HTTPS with a self-signed certificate, for sites whose
//!   port 80 redirects to 443 (CAs follow that redirect and do not check the
//!   certificate).
//! - Registers itself in the store with a heartbeat, so `certmgr cred issue`
//!   and `certmgr renew` in other processes publish their answers for it
//!   instead of binding the ports themselves.
//! - Renews what is due every `--renew-interval` seconds (the scheduler):
//!   each pass reads the credentials the store's due index selects; the
//!   first pass, and one an hour, read every credential, which also finds
//!   and repairs a due time changed outside certmgr.
//!
//! Both listeners are bounded by [`certmgr_acme::listener`]: header and TLS
//! handshake timeouts, a deadline per connection, caps on connections in all
//! and per client, and backoff when `accept` fails (out of file descriptors),
//! so slow or idle clients cannot keep validators and `/healthz` out.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use certmgr_acme::listener::{self, ListenerLimits};
use certmgr_acme::{Solvers, single_certificate_config, validation_config, wants_validation};
use certmgr_engine::Engine;
use certmgr_engine::answers::NodeAnswers;
use certmgr_engine::instance::host_name;
use certmgr_engine::renewal::{self, SolverChoice};
use certmgr_engine::solver::{HttpAnswers, RunSolver};
use certmgr_store::{ServerRecord, Store};
use rustls::ServerConfig;
use rustls::sign::CertifiedKey;
use tokio_rustls::LazyConfigAcceptor;

use crate::error::{CliError, CliResult};

/// How often the server refreshes its registration.
const HEARTBEAT_SECS: u64 = 10;
/// Answers older than this were left by killed processes.
const STALE_ANSWER_SECS: i64 = 24 * 3600;
/// How often the scheduler reads every credential instead of those the
/// due index selects ([`renewal::Scope::Every`]).
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// What `certmgr server` was asked to do.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// HTTP-01 listener.
    pub http_listen: SocketAddr,
    /// TLS-ALPN-01 + HTTPS listener, if any.
    pub https_listen: Option<SocketAddr>,
    /// Seconds between scheduler runs; `None` disables the scheduler.
    pub renew_interval: Option<u64>,
}

/// Run until SIGINT/SIGTERM.
pub async fn run(store: Store, options: ServerOptions) -> CliResult<()> {
    let store = Arc::new(store);
    let solvers = Solvers::default();
    // This process's answers first, then those others published in the store.
    let answers = NodeAnswers {
        solvers: solvers.clone(),
        store: store.clone(),
    };
    let http = tokio::net::TcpListener::bind(options.http_listen)
        .await
        .map_err(|e| listen_error(options.http_listen, &e))?;
    let http_address = http.local_addr().unwrap_or(options.http_listen);
    let router = router(answers.clone());
    // Both listeners share the process's file descriptors.
    let limits = ListenerLimits::fitting(1 + usize::from(options.https_listen.is_some()));
    // Ends only when the task is aborted at shutdown.
    let http_task = tokio::spawn(listener::serve(
        http,
        limits.clone(),
        format!("server: HTTP-01 on {http_address}"),
        {
            let router = router.clone();
            let limits = limits.clone();
            move |stream| {
                let router = router.clone();
                let limits = limits.clone();
                async move { listener::serve_http(stream, router, &limits).await }
            }
        },
    ));
    let https = match options.https_listen {
        Some(address) => {
            let socket = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|e| listen_error(address, &e))?;
            let bound = socket.local_addr().unwrap_or(address);
            let fallback = fallback_config()?;
            Some((
                bound,
                tokio::spawn(listener::serve(
                    socket,
                    limits.clone(),
                    format!("server: HTTPS on {bound}"),
                    {
                        let answers = answers.clone();
                        let limits = limits.clone();
                        move |stream| {
                            serve_https(
                                stream,
                                answers.clone(),
                                router.clone(),
                                fallback.clone(),
                                limits.clone(),
                            )
                        }
                    },
                )),
            ))
        }
        None => None,
    };
    store.expire_challenges(STALE_ANSWER_SECS).await?;
    let registration = ServerRecord {
        id: uuid::Uuid::now_v7().to_string(),
        host: host_name(),
        pid: i64::from(std::process::id()),
        http_listen: Some(http_address.to_string()),
        https_listen: https.as_ref().map(|(a, _)| a.to_string()),
        started_at: time::OffsetDateTime::now_utc().unix_timestamp(),
        heartbeat_at: 0,
    };
    store.register_server(&registration).await?;
    eprintln!(
        "certmgr server: HTTP-01 on {http_address}{}; {}",
        https
            .as_ref()
            .map(|(a, _)| format!(", TLS-ALPN-01 and HTTPS on {a}"))
            .unwrap_or_default(),
        match options.renew_interval {
            Some(secs) => format!("renewing what is due every {secs} s"),
            None => "scheduler off".into(),
        }
    );
    let heartbeat = tokio::spawn({
        let store = store.clone();
        let registration = registration.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_secs(HEARTBEAT_SECS)).await;
                if let Err(e) = store.register_server(&registration).await {
                    eprintln!("certmgr server: heartbeat failed: {e}");
                }
            }
        }
    });
    // The scheduler's leases and journal entries belong to this process's
    // instance, kept alive for as long as the server runs.
    let instance = tokio::spawn({
        let store = store.clone();
        async move { certmgr_engine::instance::keep_alive(&store).await }
    });
    let scheduler = options.renew_interval.map(|secs| {
        let store = store.clone();
        let solvers = solvers.clone();
        tokio::spawn(async move {
            let solver = RunSolver::new(&store, HttpAnswers::Memory(solvers));
            let engine = Engine::new(&store);
            let mut last_sweep: Option<std::time::Instant> = None;
            loop {
                let scope = if last_sweep.is_none_or(|at| at.elapsed() >= SWEEP_EVERY) {
                    last_sweep = Some(std::time::Instant::now());
                    renewal::Scope::Every
                } else {
                    renewal::Scope::Due
                };
                match renewal::renew_due(&engine, SolverChoice::Given(&solver), false, scope).await
                {
                    Ok(decisions) => {
                        for line in renewal::summary(&decisions) {
                            eprintln!("certmgr server: {line}");
                        }
                    }
                    Err(e) => eprintln!("certmgr server: renewal run failed: {e}"),
                }
                tokio::time::sleep(Duration::from_secs(secs.max(1))).await;
            }
        })
    });
    shutdown_signal().await;
    eprintln!("certmgr server: stopping");
    if let Some(task) = scheduler {
        task.abort();
    }
    heartbeat.abort();
    instance.abort();
    http_task.abort();
    if let Some((_, task)) = https {
        task.abort();
    }
    certmgr_engine::instance::leave(&store).await;
    store.unregister_server(&registration.id).await?;
    store.close().await;
    Ok(())
}

fn listen_error(address: SocketAddr, error: &std::io::Error) -> CliError {
    CliError::failed(format!(
        "cannot listen on {address}: {error}; pick another address with --http-listen / --https-listen"
    ))
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// HTTP-01 answers (the ACME crate's router, reading memory first and the
/// store second) and a health check.
fn router(answers: NodeAnswers) -> Router {
    certmgr_acme::http01_router(answers).route("/healthz", get(|| async { "ok\n" }))
}

/// The self-signed certificate served to everything that is not TLS-ALPN-01.
fn fallback_config() -> CliResult<Arc<ServerConfig>> {
    let key = rcgen::KeyPair::generate().map_err(|e| CliError::failed(e.to_string()))?;
    let params = rcgen::CertificateParams::new(vec!["certmgr.invalid".to_owned()])
        .map_err(|e| CliError::failed(e.to_string()))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| CliError::failed(e.to_string()))?;
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let signing = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key_der)
        .map_err(|e| CliError::failed(e.to_string()))?;
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
