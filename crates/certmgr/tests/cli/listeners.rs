//! `certmgr server` against slow and idle clients (issue 9, item 6): hundreds
//! of silent connections, headers and ClientHellos trickled byte by byte, and
//! a process out of file descriptors. Validators and `/healthz` must still be
//! answered promptly, idle connections must be closed after the timeouts, and
//! the server must not spin.
//!
//! Every connection goes to 127.0.0.1; the attackers connect from other
//! loopback addresses (127.0.0.2 and up) so that the per-client cap can be
//! seen at work while the "validator" connects from 127.0.0.1.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use certmgr_core::ChallengeKind;
use certmgr_store::{MasterKey, Store};

use crate::util::{Env, collect_lines, terminate, wait_exit};

/// The server's header-read and TLS-handshake timeouts (10 s each).
const TIMEOUT: Duration = Duration::from_secs(10);
const TOKEN: &str = "listener-test-token";
const KEY_AUTHORIZATION: &str = "listener-test-token.thumbprint";

/// A running `certmgr server` on ephemeral ports, killed on drop.
struct Server {
    child: Child,
    http: SocketAddr,
    https: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Start with the open-file limit of the test, or `open_files` (as a
    /// service manager would set it: systemd's default soft limit is 1024).
    fn start(env: &Env, open_files: Option<u32>) -> Server {
        let server = env.command(&[
            "server",
            "--listen",
            "off",
            "--http-listen",
            "127.0.0.1:0",
            "--https-listen",
            "127.0.0.1:0",
            "--no-renew",
        ]);
        let mut command = match open_files {
            None => server,
            Some(limit) => {
                // prlimit execs the command: same process, lower limit.
                let mut command = Command::new("prlimit");
                command
                    .arg(format!("--nofile={limit}:{limit}"))
                    .arg("--")
                    .arg(server.get_program())
                    .args(server.get_args());
                for (key, value) in server.get_envs() {
                    match value {
                        Some(value) => command.env(key, value),
                        None => command.env_remove(key),
                    };
                }
                if let Some(dir) = server.get_current_dir() {
                    command.current_dir(dir);
                }
                command
            }
        };
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        // "certmgr server: HTTP-01 on A, TLS-ALPN-01 and HTTPS on B; ..."
        let address = |after: &str| -> SocketAddr {
            let rest = line.split(after).nth(1).expect(&line);
            rest.split([',', ';'])
                .next()
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        let (http, https) = (address("HTTP-01 on "), address("HTTPS on "));
        let log = collect_lines(stderr, String::new());
        Server {
            child,
            http,
            https,
            log,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// CPU time (user + system) the server used so far.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        // Fields after "(comm)": state is index 0, utime 11, stime 12.
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        Duration::from_millis(ticks * 1000 / clock_ticks())
    }

    /// The share of one core the server used over `period`.
    fn cpu_share(&self, period: Duration) -> f64 {
        let before = self.cpu();
        std::thread::sleep(period);
        (self.cpu() - before).as_secs_f64() / period.as_secs_f64()
    }

    /// SIGTERM, and the server must stop cleanly.
    fn stop(mut self) {
        terminate(&self.child);
        let log = self.log.clone();
        let status = wait_exit(&mut self.child, Duration::from_secs(15), || {
            log.lock().unwrap().clone()
        });
        assert!(
            status.success(),
            "server exits cleanly: {status}\n{}",
            self.log()
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn clock_ticks() -> u64 {
    let out = Command::new("getconf").arg("CLK_TCK").output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(100)
}

/// Publish answers in the store, as `cred issue` does for a running server.
fn publish_answers(env: &Env) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let key = MasterKey::read_file(&env.store.data_dir().join("master.key")).unwrap();
        let url = match env.store.database_url() {
            Some(url) => url.to_owned(),
            None => Store::sqlite_url(&env.store.data_dir().join("certmgr.db")),
        };
        let store = Store::open(&url, key).await.unwrap();
        store
            .publish_challenge(
                ChallengeKind::Http01,
                "web.example.test",
                TOKEN,
                KEY_AUTHORIZATION,
            )
            .await
            .unwrap();
        store
            .publish_challenge(
                ChallengeKind::TlsAlpn01,
                "alpn.example.test",
                "listener-alpn-token",
                "listener-alpn-token.thumbprint",
            )
            .await
            .unwrap();
        store.close().await;
    });
}

/// Up to `count` connections to `to` from the loopback address `from`; stops
/// at the first that is not accepted by the kernel within 2 s (backlog full).
fn connect_many(from: Ipv4Addr, to: SocketAddr, count: usize) -> Vec<TcpStream> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut streams = Vec::with_capacity(count);
        for _ in 0..count {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind((from, 0).into()).unwrap();
            let connect = tokio::time::timeout(Duration::from_secs(2), socket.connect(to));
            let Ok(Ok(stream)) = connect.await else {
                eprintln!(
                    "connection {} from {from} to {to} failed",
                    streams.len() + 1
                );
                break;
            };
            let stream = stream.into_std().unwrap();
            stream.set_nonblocking(false).unwrap();
            streams.push(stream);
        }
        streams
    })
}

/// Whether the server closed (or reset) this connection; never blocks.
fn is_closed(mut stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 256];
    let closed = loop {
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break false,
            Err(_) => break true,
        }
    };
    stream.set_nonblocking(false).unwrap();
    closed
}

/// Wait (at most `limit`) until every connection is closed; how many are not.
fn wait_closed(streams: &[TcpStream], limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        let open = streams.iter().filter(|s| !is_closed(s)).count();
        if open == 0 || Instant::now() >= deadline {
            return open;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A plain HTTP GET from 127.0.0.1: (status line + body, latency).
fn try_http_get(address: SocketAddr, path: &str) -> std::io::Result<(String, Duration)> {
    let started = Instant::now();
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: web.example.test\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok((answer, started.elapsed()))
}

#[track_caller]
fn http_get(address: SocketAddr, path: &str) -> (String, Duration) {
    try_http_get(address, path).unwrap()
}

/// A client that sends `prefix` one byte every 500 ms for up to 20 s and
/// reports after how long the server closed the connection.
fn trickle(
    from: Ipv4Addr,
    to: SocketAddr,
    prefix: &'static [u8],
) -> std::thread::JoinHandle<Option<Duration>> {
    let Some(mut stream) = connect_many(from, to, 1).pop() else {
        return std::thread::spawn(|| None);
    };
    std::thread::spawn(move || {
        let started = Instant::now();
        for byte in prefix.iter().cycle().take(40) {
            if stream.write_all(&[*byte]).is_err() || is_closed(&stream) {
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        None
    })
}

const SLOW_HEADER: &[u8] = b"GET /.well-known/acme-challenge/x HTTP/1.1\r\nHost: a\r\nX-Slow: ";
/// A TLS record header announcing a ClientHello, then its first bytes.
const SLOW_HELLO: &[u8] = &[
    0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
];

fn loopback(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, last)
}

#[test]
fn idle_and_trickling_clients_leave_validation_and_healthz_reachable() {
    let env = Env::new();
    publish_answers(&env);
    // The open-file limit systemd gives a service unless told otherwise.
    let server = Server::start(&env, Some(1024));

    // 600 silent connections on each port, from ten addresses each (each
    // under the per-client cap): more than the process has descriptors for.
    // The listeners keep what fits and close the oldest to make room.
    let opened = Instant::now();
    let mut idle: Vec<TcpStream> = Vec::new();
    for i in 0..10 {
        idle.extend(connect_many(loopback(20 + i), server.http, 60));
        idle.extend(connect_many(loopback(40 + i), server.https, 60));
    }
    // One greedy client: only its share is kept, the rest are closed at once.
    let greedy = connect_many(loopback(12), server.http, 200);
    let tricklers: Vec<_> = (0..4)
        .flat_map(|_| {
            [
                trickle(loopback(13), server.http, SLOW_HEADER),
                trickle(loopback(13), server.https, SLOW_HELLO),
            ]
        })
        .collect();

    let share = server.cpu_share(Duration::from_secs(3));
    eprintln!(
        "server CPU with 1400 idle/slow connections: {:.1}% of a core",
        share * 100.0
    );
    assert!(
        share < 0.25,
        "the server spins: {:.0}% of a core",
        share * 100.0
    );

    let deadline = Instant::now() + Duration::from_secs(2);
    let greedy_open = loop {
        let open = greedy.iter().filter(|s| !is_closed(s)).count();
        if open <= 64 || Instant::now() >= deadline {
            break open;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        greedy_open <= 64,
        "{greedy_open} of 200 connections kept for one client"
    );
    eprintln!("one client with 200 connections: {greedy_open} kept, the rest closed at once");

    for _ in 0..5 {
        let (answer, latency) =
            http_get(server.http, &format!("/.well-known/acme-challenge/{TOKEN}"));
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with(KEY_AUTHORIZATION), "{answer}");
        assert!(
            latency < Duration::from_secs(1),
            "HTTP-01 answer took {latency:?}"
        );
        let (answer, latency) = http_get(server.http, "/healthz");
        assert!(answer.ends_with("ok\n"), "{answer}");
        assert!(
            latency < Duration::from_secs(1),
            "/healthz took {latency:?}"
        );
        eprintln!("HTTP-01 answer and /healthz under load: {latency:?}");
    }
    let started = Instant::now();
    let alpn = Command::new("openssl")
        .args(["s_client", "-connect", &server.https.to_string()])
        .args(["-servername", "alpn.example.test", "-alpn", "acme-tls/1"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let alpn_out = String::from_utf8_lossy(&alpn.stdout);
    assert!(alpn_out.contains("ALPN protocol: acme-tls/1"), "{alpn_out}");
    let latency = started.elapsed();
    assert!(
        latency < Duration::from_secs(3),
        "TLS-ALPN-01 handshake took {latency:?}"
    );
    eprintln!("TLS-ALPN-01 validation handshake under load: {latency:?}");
    let https = Command::new("curl")
        .args(["-sk", "--max-time", "5"])
        .arg(format!("https://{}/healthz", server.https))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&https.stdout),
        "ok\n",
        "HTTPS /healthz"
    );

    assert_eq!(idle.len(), 1200, "every connection reached the listeners");
    if opened.elapsed() < TIMEOUT - Duration::from_secs(1) {
        let open = idle.iter().filter(|s| !is_closed(s)).count();
        eprintln!("idle connections still open before the timeout: {open} of 1200");
        // (1024 - 256 reserved) / 2 = 384 places per listener, some taken by
        // the greedy client, the trickling ones and the validators.
        assert!(
            (600..=768).contains(&open),
            "the listeners keep what fits: {open} of 1200 open\n{}",
            server.log()
        );
    }
    // The header / handshake timeout closes the silent connections, even
    // those that keep sending a byte now and then.
    let open = wait_closed(
        &idle,
        TIMEOUT + Duration::from_secs(5) - opened.elapsed().min(TIMEOUT),
    );
    eprintln!("idle connections closed after {:?}", opened.elapsed());
    assert_eq!(
        open,
        0,
        "idle connections still open after {:?}",
        opened.elapsed()
    );
    for trickler in tricklers {
        let closed = trickler
            .join()
            .unwrap()
            .expect("a trickling client is cut off");
        assert!(
            closed < TIMEOUT + Duration::from_secs(3),
            "trickler closed after {closed:?}"
        );
    }
    let (answer, _) = http_get(server.http, "/healthz");
    assert!(answer.ends_with("ok\n"), "{answer}");
    let log = server.log();
    assert!(log.contains("connection limit reached"), "{log}");
    assert!(
        !log.contains("cannot accept"),
        "descriptors ran out:\n{log}"
    );
    server.stop();
}

#[test]
fn accept_backs_off_when_file_descriptors_run_out() {
    let env = Env::new();
    let server = Server::start(&env, None);
    let pid = server.pid().to_string();
    let limited = Command::new("prlimit")
        .args(["--pid", &pid, "--nofile=64:64"])
        .status()
        .unwrap();
    assert!(limited.success(), "prlimit failed");

    // Far more connections than descriptors: the rest wait in the backlog and
    // every accept fails with EMFILE.
    let mut attack: Vec<TcpStream> = Vec::new();
    for i in 0..2 {
        attack.extend(connect_many(loopback(2 + i), server.https, 60));
    }
    attack.extend(connect_many(loopback(4), server.http, 40));
    std::thread::sleep(Duration::from_secs(1));
    let share = server.cpu_share(Duration::from_secs(3));
    eprintln!(
        "server CPU out of descriptors: {:.1}% of a core",
        share * 100.0
    );
    assert!(
        share < 0.25,
        "the accept loop spins: {:.0}% of a core",
        share * 100.0
    );
    assert!(
        server.log().contains("cannot accept connections"),
        "{}",
        server.log()
    );
    let log = server.log();
    assert!(
        log.matches("cannot accept connections").count() <= 4,
        "logged once per burst, not per attempt:\n{log}"
    );

    drop(attack);
    let closed = Instant::now();
    let recovered = loop {
        if let Ok((answer, _)) = try_http_get(server.http, "/healthz")
            && answer.ends_with("ok\n")
        {
            break closed.elapsed();
        }
        assert!(
            closed.elapsed() < Duration::from_secs(10),
            "no recovery:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!("server answered again {recovered:?} after the connections closed");
    assert!(
        server.log().contains("accepting connections again"),
        "{}",
        server.log()
    );
    server.stop();
}
