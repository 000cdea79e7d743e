//! Listeners that unauthenticated clients cannot take down.
//!
//! Challenge responders face the whole internet: anybody can open a
//! connection to ports 80 and 443 and then say nothing, or send one byte every
//! few seconds. Every connection accepted here therefore has
//!
//! - a place under a cap: at most [`MAX_CONNECTIONS`] per listener (fewer
//!   when the open-file limit is low, see [`ListenerLimits::fitting`]) and
//!   [`MAX_CONNECTIONS_PER_CLIENT`] per client address (per /64 for IPv6).
//!   A connection over its client's cap is closed at once; when the listener
//!   is full, the oldest connection is closed to make room, so validators
//!   (done in milliseconds) keep getting in while idle clients pile up;
//! - a deadline for the request header ([`HEADER_READ_TIMEOUT`], counted from
//!   the first byte awaited, not reset by trickled bytes) or the TLS handshake
//!   ([`HANDSHAKE_TIMEOUT`]), and an overall deadline ([`CONNECTION_DEADLINE`])
//!   that also bounds keep-alive;
//!
//! and the accept loop backs off ([`ACCEPT_BACKOFF_MIN`] doubling up to
//! [`ACCEPT_BACKOFF_MAX`]) when `accept` fails for lack of file descriptors or
//! memory, instead of retrying in a hot loop, logging once per burst.

mod admission;

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

use admission::{Admission, Decision};

/// Time a client has to send a complete HTTP request header, counted from
/// when the server starts waiting for it (also between keep-alive requests).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a client has to send its ClientHello and complete the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest life of one connection, keep-alive included: the answers served
/// here are a few bytes, so a legitimate client is done long before.
pub const CONNECTION_DEADLINE: Duration = Duration::from_secs(30);
/// Connections served at once by one listener; more are closed at once.
pub const MAX_CONNECTIONS: usize = 1024;
/// Connections served at once for one client address (IPv4 address, or IPv6
/// /64 prefix), so that one client cannot take every place. A CA validating
/// many names of one order at once stays well below it.
pub const MAX_CONNECTIONS_PER_CLIENT: usize = 64;
/// First pause after `accept` fails for lack of resources.
pub const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(100);
/// Longest pause between `accept` attempts while resources are lacking.
pub const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Largest buffer for one request header (hyper's minimum is 8 KiB).
const MAX_HEADER_BUFFER: usize = 16 * 1024;
/// At most one "connection limit reached" message per this interval.
const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(60);
/// File descriptors kept out of the listeners' reach by
/// [`ListenerLimits::fitting`]: the store, the CA and DNS clients, logs, and
/// connections accepted only to be refused or waiting for an evicted place.
pub const RESERVED_DESCRIPTORS: usize = 256;
/// Fewest places per listener [`ListenerLimits::fitting`] leaves.
const MIN_CONNECTIONS: usize = 16;

/// The bounds applied by [`serve`], [`serve_http`] and the TLS responders.
/// [`Default`] gives the constants of this module; tests may shorten them.
#[derive(Debug, Clone)]
pub struct ListenerLimits {
    /// See [`HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// See [`HANDSHAKE_TIMEOUT`].
    pub handshake_timeout: Duration,
    /// See [`CONNECTION_DEADLINE`].
    pub connection_deadline: Duration,
    /// See [`MAX_CONNECTIONS`].
    pub max_connections: usize,
    /// See [`MAX_CONNECTIONS_PER_CLIENT`].
    pub max_per_client: usize,
}

impl Default for ListenerLimits {
    fn default() -> Self {
        ListenerLimits {
            header_read_timeout: HEADER_READ_TIMEOUT,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            connection_deadline: CONNECTION_DEADLINE,
            max_connections: MAX_CONNECTIONS,
            max_per_client: MAX_CONNECTIONS_PER_CLIENT,
        }
    }
}

impl ListenerLimits {
    /// The defaults, with fewer places when the process's open-file limit
    /// (`RLIMIT_NOFILE`, read from `/proc/self/limits`) cannot hold
    /// [`MAX_CONNECTIONS`] on each of `listeners` listeners plus
    /// [`RESERVED_DESCRIPTORS`]; a full listener then evicts its oldest
    /// connection instead of the process running out of descriptors (which
    /// would also stop the store and the renewals). Elsewhere than on Linux,
    /// the defaults.
    pub fn fitting(listeners: usize) -> Self {
        let limits = std::fs::read_to_string("/proc/self/limits").ok();
        Self::fitting_within(limits.as_deref().and_then(open_file_limit), listeners)
    }

    fn fitting_within(open_files: Option<usize>, listeners: usize) -> Self {
        let mut limits = ListenerLimits::default();
        if let Some(open_files) = open_files {
            let share = open_files.saturating_sub(RESERVED_DESCRIPTORS) / listeners.max(1);
            limits.max_connections = share.clamp(MIN_CONNECTIONS, MAX_CONNECTIONS);
            limits.max_per_client = limits.max_per_client.min(limits.max_connections);
        }
        limits
    }
}

/// The soft open-file limit in the text of `/proc/self/limits`, unless
/// unlimited.
fn open_file_limit(limits: &str) -> Option<usize> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Accept connections on `listener` forever and run `handler` on each, within
/// `limits` (caps and [`ListenerLimits::connection_deadline`]). `name` (for
/// example `"HTTP-01 on 0.0.0.0:80"`) appears in the log messages.
///
/// Ends only when the task running it is aborted.
pub async fn serve<H, F>(listener: TcpListener, limits: ListenerLimits, name: String, handler: H)
where
    H: Fn(TcpStream) -> F + Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let admission = Admission::new(limits.max_connections, limits.max_per_client);
    let mut backoff: Option<Duration> = None;
    let mut refusals = RefusalLog::default();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) if is_connection_error(&error) => continue,
            Err(error) => {
                let delay = match backoff {
                    None => {
                        eprintln!(
                            "certmgr: {name}: cannot accept connections ({error}); \
                             retrying every {} ms at most",
                            ACCEPT_BACKOFF_MAX.as_millis()
                        );
                        ACCEPT_BACKOFF_MIN
                    }
                    Some(previous) => (previous * 2).min(ACCEPT_BACKOFF_MAX),
                };
                backoff = Some(delay);
                tokio::time::sleep(delay).await;
                continue;
            }
        };
        if backoff.take().is_some() {
            eprintln!("certmgr: {name}: accepting connections again");
        }
        let ticket = match admission.admit(peer.ip()) {
            Decision::Admit(ticket) => ticket,
            // Dropping the stream closes it at once.
            Decision::OverClientCap | Decision::Full => {
                refusals.note(&name, &limits, false);
                continue;
            }
        };
        if ticket.evicted {
            refusals.note(&name, &limits, true);
        }
        let work = handler(stream);
        let deadline = limits.connection_deadline;
        tokio::spawn(async move {
            let Some(place) = ticket.place().await else {
                return;
            };
            tokio::select! {
                _ = tokio::time::timeout(deadline, work) => {}
                _ = place.evicted.notified() => {}
            }
        });
    }
}

/// Serve HTTP/1.1 requests on one connection with `router`, closing it when
/// a request header takes longer than [`ListenerLimits::header_read_timeout`].
pub async fn serve_http<I>(io: I, router: Router, limits: &ListenerLimits)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(router);
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_HEADER_BUFFER)
        .serve_connection(TokioIo::new(io), service)
        .await;
}

/// Errors of one connection (the client gave up before it was accepted):
/// the listener itself is fine, accept the next one at once.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// Logs refused and evicted connections at most once per
/// [`REFUSAL_LOG_INTERVAL`].
#[derive(Default)]
struct RefusalLog {
    last: Option<Instant>,
    refused: u64,
    evicted: u64,
}

impl RefusalLog {
    fn note(&mut self, name: &str, limits: &ListenerLimits, evicted: bool) {
        if evicted {
            self.evicted += 1;
        } else {
            self.refused += 1;
        }
        if self
            .last
            .is_some_and(|last| last.elapsed() < REFUSAL_LOG_INTERVAL)
        {
            return;
        }
        eprintln!(
            "certmgr: {name}: connection limit reached ({} in all, {} per client): \
             {} connection(s) refused, {} oldest closed to make room",
            limits.max_connections, limits.max_per_client, self.refused, self.evicted
        );
        self.last = Some(Instant::now());
        self.refused = 0;
        self.evicted = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn limits(total: usize, per_client: usize) -> ListenerLimits {
        ListenerLimits {
            header_read_timeout: Duration::from_millis(300),
            handshake_timeout: Duration::from_millis(300),
            connection_deadline: Duration::from_secs(2),
            max_connections: total,
            max_per_client: per_client,
        }
    }

    async fn start(limits: ListenerLimits) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let shared = limits.clone();
        tokio::spawn(serve(listener, limits, "test".into(), move |stream| {
            let router = router.clone();
            let limits = shared.clone();
            async move { serve_http(stream, router, &limits).await }
        }));
        address
    }

    /// Reads until the server closes; how long that took.
    async fn time_to_close(stream: &mut TcpStream) -> Duration {
        let started = Instant::now();
        let mut buf = [0u8; 512];
        let bounded = tokio::time::timeout(Duration::from_secs(5), async {
            while !matches!(stream.read(&mut buf).await, Ok(0) | Err(_)) {}
        });
        bounded.await.expect("the server closes the connection");
        started.elapsed()
    }

    #[tokio::test]
    async fn a_trickled_header_is_cut_off_and_others_are_served() {
        let address = start(limits(8, 8)).await;
        let started = Instant::now();
        let mut slow = TcpStream::connect(address).await.unwrap();
        let trickle = async {
            for byte in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa" {
                if slow.write_all(&[*byte]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(3), trickle)
            .await
            .ok();
        time_to_close(&mut slow).await;
        let waited = started.elapsed();
        assert!(
            waited < Duration::from_millis(1500),
            "closed after {waited:?}"
        );

        let mut good = TcpStream::connect(address).await.unwrap();
        good.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        good.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    #[tokio::test]
    async fn over_the_cap_connections_are_closed_at_once() {
        let address = start(limits(8, 2)).await;
        let _held: Vec<TcpStream> = vec![
            TcpStream::connect(address).await.unwrap(),
            TcpStream::connect(address).await.unwrap(),
        ];
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut third = TcpStream::connect(address).await.unwrap();
        let waited = time_to_close(&mut third).await;
        assert!(
            waited < Duration::from_millis(250),
            "closed after {waited:?}"
        );
    }

    #[test]
    fn places_fit_the_open_file_limit() {
        let text = "Limit  Soft Limit  Hard Limit  Units\n\
                    Max open files            1024                 524288               files\n";
        assert_eq!(open_file_limit(text), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(open_file_limit(unlimited), None);
        let systemd = ListenerLimits::fitting_within(Some(1024), 2);
        assert_eq!(systemd.max_connections, (1024 - RESERVED_DESCRIPTORS) / 2);
        assert_eq!(systemd.max_per_client, MAX_CONNECTIONS_PER_CLIENT);
        let roomy = ListenerLimits::fitting_within(Some(1 << 20), 2);
        assert_eq!(roomy.max_connections, MAX_CONNECTIONS);
        let tiny = ListenerLimits::fitting_within(Some(64), 2);
        assert_eq!(tiny.max_connections, MIN_CONNECTIONS);
        assert_eq!(tiny.max_per_client, MIN_CONNECTIONS);
        let unknown = ListenerLimits::fitting_within(None, 2);
        assert_eq!(unknown.max_connections, MAX_CONNECTIONS);
    }

    #[tokio::test]
    async fn a_full_listener_serves_newcomers_by_closing_the_oldest() {
        let address = start(limits(4, 8)).await;
        let mut idle = Vec::new();
        for _ in 0..4 {
            idle.push(TcpStream::connect(address).await.unwrap());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut good = TcpStream::connect(address).await.unwrap();
        good.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        good.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let waited = time_to_close(&mut idle[0]).await;
        assert!(
            waited < Duration::from_millis(250),
            "oldest closed after {waited:?}"
        );
    }

    #[tokio::test]
    async fn idle_keep_alive_connections_end_at_the_deadline() {
        let mut short = limits(8, 8);
        short.header_read_timeout = Duration::from_secs(10);
        short.connection_deadline = Duration::from_millis(400);
        let address = start(short).await;
        let mut idle = TcpStream::connect(address).await.unwrap();
        idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let waited = time_to_close(&mut idle).await;
        assert!(waited < Duration::from_secs(2), "closed after {waited:?}");
    }
}
