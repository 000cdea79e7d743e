//! `certmgr server`: the long-running process of a manager node.
//!
//! - Serves the REST API ([`crate::api`]) over HTTPS on `listen`, with a
//!   certificate from the store that it issues itself on first start and
//!   picks up again when it is renewed ([`crate::tls`]).
//! - Answers HTTP-01 on `http_listen` (redirecting everything else to the
//!   API) and TLS-ALPN-01 on `https_listen`, from its own orders and from
//!   the store, so every node sharing the store answers for every other.
//! - Registers itself in the store with a heartbeat, so `certmgr cred issue`
//!   and `certmgr renew` in other processes publish their answers for it.
//! - Renews what is due every `renew_interval_secs` (the scheduler), and
//!   after each renewal pass sends the notifications due
//!   ([`certmgr_engine::notify::pass`]).
//! - On SIGTERM or SIGINT stops accepting, lets running jobs finish for up
//!   to [`SHUTDOWN_GRACE_SECS`], and leaves what is left to the next start
//!   (issuance resumes from the store).

use std::sync::Arc;
use std::time::Duration;

use certmgr_acme::Solvers;
use certmgr_acme::listener::ListenerLimits;
use certmgr_core::Role;
use certmgr_engine::answers::NodeAnswers;
use certmgr_engine::instance::host_name;
use certmgr_engine::renewal::{self, SolverChoice};
use certmgr_engine::solver::{HttpAnswers, RunSolver};
use certmgr_engine::{Engine, EngineResult};
use certmgr_store::{ServerRecord, Store};
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

use tracing::{info, warn};

use crate::AppState;
use crate::config::{Listen, ServerConfig};
use crate::listeners::{self, bind};
use crate::log::TARGET;
use crate::tls::ServingCertificate;

/// How often the server refreshes its registration.
const HEARTBEAT_SECS: u64 = 10;
/// Answers older than this were left by killed processes.
const STALE_ANSWER_SECS: i64 = 24 * 3600;
/// Longest life of one API connection. A challenge answer is a few bytes
/// ([`certmgr_acme::listener::CONNECTION_DEADLINE`]), but a job's progress
/// streams for as long as the job runs: an ACME order is given 90 s per key,
/// DNS-01 waits for propagation as long as the account says. Idle
/// connections are still closed after [`API_IDLE_TIMEOUT`].
const API_CONNECTION_DEADLINE: Duration = Duration::from_secs(3600);
/// How long an API connection may wait for its next request header (hyper
/// counts idle keep-alive time as header time). Longer than the challenge
/// listeners' 10 s: a server that closes a pooled connection just as the
/// client reuses it fails that request (a POST is not retried by clients),
/// so the server must outwait the clients' pools — reqwest keeps idle
/// connections 90 s, browsers and scripts pause between requests.
const API_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// The API listener's bounds: those of the challenge listeners (`base`),
/// with [`API_CONNECTION_DEADLINE`] and [`API_IDLE_TIMEOUT`], and no cap per
/// client address below the listener's own: behind a TLS-terminating proxy
/// or a NAT every user arrives from one address, and each request is
/// authenticated anyway.
fn api_limits(base: &ListenerLimits) -> ListenerLimits {
    ListenerLimits {
        connection_deadline: API_CONNECTION_DEADLINE,
        header_read_timeout: API_IDLE_TIMEOUT,
        max_per_client: base.max_connections,
        ..base.clone()
    }
}

/// How often the scheduler reads every credential instead of those the
/// due index selects ([`renewal::Scope::Every`]).
const SWEEP_EVERY: Duration = Duration::from_secs(3600);
/// How long a stopping server waits for running jobs.
pub const SHUTDOWN_GRACE_SECS: u64 = 20;
/// The first user, made on a store without any.
pub const FIRST_ADMIN: &str = "admin";

/// What the process was given besides its configuration.
#[derive(Debug, Default)]
pub struct Startup {
    /// The first admin's password (`CERTMGR_ADMIN_PASSWORD`); made and
    /// printed once when not given.
    pub admin_password: Option<Zeroizing<String>>,
    /// The challenge listeners are the defaults: a node that may not bind
    /// ports 80 and 443 goes on without them, saying so.
    pub default_challenge_ports: bool,
}

/// Run until SIGINT/SIGTERM.
pub async fn run(store: Store, config: ServerConfig, startup: Startup) -> EngineResult<()> {
    let store = Arc::new(store);
    let state = AppState::new(store.clone());
    if config.listen != Listen::Off {
        first_admin(&state, startup.admin_password).await?;
    }
    let solvers = Solvers::default();
    // This process's answers first, then those others published in the store.
    let answers = NodeAnswers {
        solvers: solvers.clone(),
        store: store.clone(),
    };
    let listeners_wanted = [config.listen, config.http_listen, config.https_listen]
        .iter()
        .filter(|l| **l != Listen::Off)
        .count();
    // The listeners share the process's file descriptors.
    let limits = ListenerLimits::fitting(listeners_wanted.max(1));
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();
    let mut api_url = None;
    let mut serving = None;
    if let Some(address) = config.listen.address() {
        let socket = bind(address, "listen").await?;
        let bound = socket.local_addr().unwrap_or(address);
        let (tls, state) = if config.tls.plain_http {
            (None, state.clone())
        } else {
            let engine = state.engine();
            certmgr_engine::serving::prepare(
                &engine,
                &config.tls.credential,
                &config.tls.hostnames,
            )
            .await?;
            let certificate = ServingCertificate::load(&engine, &config.tls.credential).await?;
            let tls = certificate.config()?;
            serving = Some(certificate);
            (Some(tls), state.clone().with_secure_cookies())
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let host = match bound.ip() {
            ip if ip.is_unspecified() => "localhost".to_owned(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        api_url = Some(format!("{scheme}://{host}:{}", bound.port()));
        let router = crate::api::router(state.with_oidc(config.oidc.clone()).await?);
        let api_limits = api_limits(&limits);
        tasks.push(listeners::serve_api(socket, router, tls, api_limits));
    }
    let challenge_router = listeners::challenge_router(answers.clone(), api_url.clone());
    let mut http_address = None;
    if let Some(address) = config.http_listen.address()
        && let Some(socket) =
            optional_bind(address, "http_listen", startup.default_challenge_ports).await?
    {
        http_address = Some(socket.local_addr().unwrap_or(address));
        tasks.push(listeners::serve_challenges(
            socket,
            challenge_router.clone(),
            limits.clone(),
        ));
    }
    let mut https_address = None;
    if let Some(address) = config.https_listen.address()
        && let Some(socket) =
            optional_bind(address, "https_listen", startup.default_challenge_ports).await?
    {
        https_address = Some(socket.local_addr().unwrap_or(address));
        tasks.push(listeners::serve_validations(
            socket,
            answers.clone(),
            challenge_router,
            limits.clone(),
        )?);
    }
    store.expire_challenges(STALE_ANSWER_SECS).await?;
    let registration = ServerRecord {
        id: uuid::Uuid::now_v7().to_string(),
        host: host_name(),
        pid: i64::from(std::process::id()),
        http_listen: http_address.map(|a| a.to_string()),
        https_listen: https_address.map(|a| a.to_string()),
        started_at: time::OffsetDateTime::now_utc().unix_timestamp(),
        heartbeat_at: 0,
    };
    store.register_server(&registration).await?;
    if let Some(url) = &api_url {
        info!(target: TARGET, url = %url, "{url}/ (API {url}/api, reference {url}/api/docs)");
    }
    info!(
        target: TARGET,
        http_listen = http_address.map(|a| a.to_string()),
        https_listen = https_address.map(|a| a.to_string()),
        renew_interval_secs = config.renew_interval_secs,
        "{}; {}",
        match (http_address, https_address) {
            (None, None) => "no challenge listeners".to_owned(),
            (http, https) => [
                http.map(|a| format!("HTTP-01 on {a}")),
                https.map(|a| format!("TLS-ALPN-01 and HTTPS on {a}")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
        },
        match config.renew_interval_secs {
            0 => "scheduler off".to_owned(),
            secs => format!("renewing what is due every {secs} s"),
        }
    );
    tasks.push(tokio::spawn({
        let store = store.clone();
        let registration = registration.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_secs(HEARTBEAT_SECS)).await;
                if let Err(e) = store.register_server(&registration).await {
                    warn!(target: TARGET, error = %e, "heartbeat failed: {e}");
                }
            }
        }
    }));
    // The scheduler's leases and journal entries belong to this process's
    // instance, kept alive for as long as the server runs.
    tasks.push(tokio::spawn({
        let store = store.clone();
        async move { certmgr_engine::instance::keep_alive(&store).await }
    }));
    if let Some(certificate) = serving {
        let every = Duration::from_secs(config.tls.refresh_secs.max(1));
        tasks.push(tokio::spawn({
            let store = store.clone();
            async move {
                loop {
                    tokio::time::sleep(every).await;
                    match certificate.refresh(&Engine::new(&store)).await {
                        Ok(true) => info!(
                            target: TARGET,
                            version = certificate.version(),
                            "serving version {} of the API's certificate",
                            certificate.version()
                        ),
                        Ok(false) => {}
                        Err(e) => {
                            warn!(target: TARGET, error = %e, "the API's certificate: {e}")
                        }
                    }
                }
            }
        }));
    }
    if config.renew_interval_secs > 0 {
        let secs = config.renew_interval_secs;
        let store = store.clone();
        let life = state.shared_scheduler();
        life.turn_on(secs, unix_now());
        tasks.push(tokio::spawn(async move {
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
                life.pass_started(unix_now());
                match renewal::renew_due(&engine, SolverChoice::Given(&solver), false, scope).await
                {
                    Ok(decisions) => {
                        for (decision, line) in decisions
                            .iter()
                            .filter(|d| d.due)
                            .zip(renewal::summary(&decisions))
                        {
                            info!(
                                target: TARGET,
                                credential = %decision.name,
                                ok = decision.ok,
                                "{line}"
                            );
                        }
                    }
                    Err(e) => warn!(target: TARGET, error = %e, "renewal run failed: {e}"),
                }
                // After each renewal pass, what needs people: notices
                // decided once, delivered on every enabled channel.
                match certmgr_engine::notify::pass(&engine).await {
                    Ok(report) => {
                        for line in report.summary() {
                            info!(target: TARGET, "{line}");
                        }
                    }
                    Err(e) => {
                        warn!(target: TARGET, error = %e, "notification pass failed: {e}")
                    }
                }
                life.pass_finished(unix_now());
                tokio::time::sleep(Duration::from_secs(secs)).await;
            }
        }));
    }
    shutdown_signal().await;
    info!(target: TARGET, "stopping");
    // Accept nothing more; let running jobs end.
    for task in &tasks {
        task.abort();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(SHUTDOWN_GRACE_SECS);
    while state.jobs().running() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let left = state.jobs().running();
    if left > 0 {
        warn!(
            target: TARGET,
            jobs = left,
            "{left} job(s) still running are left to the next start (their orders resume from the store)"
        );
    }
    certmgr_engine::instance::leave(&store).await;
    store.unregister_server(&registration.id).await?;
    store.close().await;
    Ok(())
}

/// Bind a challenge listener; when it is a default the process may not
/// have (ports below 1024 without the privilege), go on without it.
async fn optional_bind(
    address: std::net::SocketAddr,
    setting: &str,
    best_effort: bool,
) -> EngineResult<Option<tokio::net::TcpListener>> {
    match bind(address, setting).await {
        Ok(socket) => Ok(Some(socket)),
        Err(error) if best_effort => {
            warn!(
                target: TARGET,
                address = %address,
                error = %error,
                "not answering challenges on {address}: {error}; set {setting} to a port this process may use, or off"
            );
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// On a store without users, make the first admin: with the given
/// password, or with one made here and printed this once.
async fn first_admin(state: &AppState, password: Option<Zeroizing<String>>) -> EngineResult<()> {
    let engine = state.engine();
    if !engine.store().list_users().await?.is_empty() {
        return Ok(());
    }
    let (user, made) =
        certmgr_engine::access::create_user(&engine, FIRST_ADMIN, Role::Admin, None, password)
            .await?;
    certmgr_engine::audit::record(
        &engine,
        &certmgr_engine::audit::Actor {
            name: "server".into(),
            address: None,
        },
        "user.add",
        &user.name,
        certmgr_engine::audit::Outcome::Ok,
        "first start: the first admin",
    )
    .await?;
    match made {
        Some(password) => println!(
            "certmgr server: user {FIRST_ADMIN:?} (admin) created; its password, shown this once: {}",
            password.as_str()
        ),
        None => println!(
            "certmgr server: user {FIRST_ADMIN:?} (admin) created with the password from CERTMGR_ADMIN_PASSWORD"
        ),
    }
    Ok(())
}

/// The system clock in Unix seconds (the scheduler's life is real time).
fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
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
