//! A private ACME test CA per test: Debian's `pebble` with `pebble-challtestsrv` as its DNS.
//!
//! [`Pebble::start`] runs both processes on 127.0.0.1 with ports of their own, waits until
//! pebble's directory answers over HTTPS and challtestsrv answers DNS and management requests,
//! and kills both (SIGKILL) when the value is dropped, also while a test panics. Several
//! instances can run at once, in one test process or in several.
//!
//! ```no_run
//! use certmgr_testkit::pebble::{pebble_available, Pebble};
//!
//! if !pebble_available() {
//!     return;
//! }
//! let pebble = Pebble::start();
//! let directory = pebble.directory_url(); // https://127.0.0.1:PORT/dir
//! let trust = pebble.ca_bundle_path(); // trust anchor for that HTTPS connection
//! let port = pebble.http01_port(); // serve HTTP-01 responses on 127.0.0.1:port
//! # let _ = (directory, trust, port);
//! ```
//!
//! Setup facts (Debian `pebble` 2.4.0):
//! * the package ships no TLS certificate for pebble's listeners; each instance makes its own
//!   CA + `localhost`/127.0.0.1 server certificate ([`Pebble::ca_bundle_path`]);
//! * challtestsrv is started with its HTTP-01/HTTPS-01/TLS-ALPN-01 servers disabled (they would
//!   bind :5002/:5003/:5001 on all interfaces) and with an empty default AAAA answer, so pebble
//!   validates against 127.0.0.1 only; every A query answers 127.0.0.1;
//! * pebble runs with `PEBBLE_VA_NOSLEEP=1`, `PEBBLE_AUTHZREUSE=0`, `PEBBLE_VA_ALWAYS_VALID=0`
//!   and `PEBBLE_WFE_NONCEREJECT` from [`PebbleOptions::nonce_reject_percent`];
//! * pebble generates a new issuing hierarchy at every start ([`Pebble::root_pem`]).
//!
//! External tools: the harness runs `curl` (HTTPS readiness and management API requests) and
//! `sh` (a watchdog that kills the processes if the test process dies without unwinding).

use std::collections::HashSet;
use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Path of the pebble binary (Debian package `pebble`).
pub const PEBBLE_BIN: &str = "/usr/bin/pebble";
/// Path of the challtestsrv binary (Debian package `pebble`).
pub const CHALLTESTSRV_BIN: &str = "/usr/bin/pebble-challtestsrv";

/// How long [`Pebble::start`] waits for both processes to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Timeout of one readiness probe of the directory (retried until [`READY_TIMEOUT`]).
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// How many bytes of each log file go into a panic message.
const LOG_TAIL_BYTES: u64 = 4000;

/// Skip-or-fail policy for tests that need pebble.
///
/// Returns `true` when `/usr/bin/pebble` and `/usr/bin/pebble-challtestsrv` exist. Otherwise it
/// writes a visible `SKIPPED: pebble not installed` line straight to the process's stderr (not
/// captured by the test harness) and returns `false`, or panics when the environment variable
/// `CI` is `true` (a CI run must not silently skip).
///
/// ```no_run
/// # fn test() {
/// if !certmgr_testkit::pebble::pebble_available() {
///     return;
/// }
/// # }
/// ```
pub fn pebble_available() -> bool {
    let missing: Vec<&str> = [PEBBLE_BIN, CHALLTESTSRV_BIN]
        .into_iter()
        .filter(|bin| !Path::new(bin).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    crate::skip(
        &format!("pebble not installed ({} missing)", missing.join(", ")),
        "install the Debian packages `pebble` and `curl` (scripts/install-deps)",
    );
    false
}

/// Settings for [`Pebble::start_with`].
#[derive(Debug, Clone, Default)]
pub struct PebbleOptions {
    /// Percentage of valid nonces pebble rejects with `badNonce` (`PEBBLE_WFE_NONCEREJECT`),
    /// 0 by default.
    pub nonce_reject_percent: u8,
    /// Number of alternate root hierarchies (`PEBBLE_ALTERNATE_ROOTS`): each
    /// certificate is then also offered under alternate chains (RFC 8555 §7.4.2).
    pub alternate_roots: u8,
    /// External account binding keys: key id -> base64url-encoded HMAC key
    /// (`externalAccountMACKeys`). When not empty, pebble requires external account binding
    /// (`externalAccountBindingRequired`).
    pub eab_keys: Vec<(String, String)>,
    /// Port on 127.0.0.1 where pebble connects for HTTP-01 validation; `None` picks a free one.
    pub http01_port: Option<u16>,
    /// Port on 127.0.0.1 where pebble connects for TLS-ALPN-01 validation; `None` picks a free
    /// one.
    pub tls_alpn01_port: Option<u16>,
    /// DNS server (UDP and TCP) pebble resolves through for validations (`-dnsserver`), e.g. a
    /// [`crate::PowerDns`] or [`crate::Bind`]; `None` uses this instance's challtestsrv (which
    /// is started either way).
    pub dns_server: Option<SocketAddr>,
    /// Port of the ACME directory on 127.0.0.1 (`https://127.0.0.1:PORT/dir`); `None` picks a
    /// free one. Fixed ports are for files that name them (Domino's lab uses 14000).
    pub acme_port: Option<u16>,
    /// Port of challtestsrv's management API (`/set-txt` ...); `None` picks a free one
    /// (Domino's lab uses 8055).
    pub challtestsrv_api_port: Option<u16>,
}

/// A running pebble + pebble-challtestsrv pair, listening on 127.0.0.1 only.
///
/// Owns both child processes and a temporary directory (configuration, TLS certificates,
/// logs). Dropping it kills both processes with SIGKILL and waits for them.
pub struct Pebble {
    pebble: Child,
    challtestsrv: Child,
    /// Stdin of the watchdog shell; closing it (or our death) makes the watchdog kill both.
    watchdog: Option<(Child, ChildStdin)>,
    ports: Ports,
    dir: tempfile::TempDir,
    ca_bundle: PathBuf,
    startup: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Ports {
    acme: u16,
    management: u16,
    dns: u16,
    challtestsrv_api: u16,
    http01: u16,
    tls_alpn01: u16,
}

impl Pebble {
    /// Starts an instance with [`PebbleOptions::default`].
    ///
    /// Panics (with both processes' logs) when they do not come up within 20 seconds.
    pub fn start() -> Pebble {
        Pebble::start_with(PebbleOptions::default())
    }

    /// Starts an instance with the given options and waits until it answers.
    ///
    /// Retries once with other ports when a port turned out to be taken between choosing and
    /// binding it; otherwise panics with both processes' logs when they do not come up within
    /// 20 seconds.
    pub fn start_with(options: PebbleOptions) -> Pebble {
        match Pebble::try_start(&options) {
            Ok(pebble) => pebble,
            Err(first) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "pebble harness: port collision, retrying with other ports:\n{first}"
                );
                Pebble::try_start(&options).unwrap_or_else(|second| {
                    panic!("pebble did not start (port collision twice):\n{second}")
                })
            }
        }
    }

    /// `Err` only for a port collision (worth one retry); other failures panic.
    fn try_start(options: &PebbleOptions) -> Result<Pebble, String> {
        let started = Instant::now();
        let ports = Ports {
            acme: options.acme_port.unwrap_or_else(|| free_port(false)),
            management: free_port(false),
            dns: free_port(true),
            challtestsrv_api: options
                .challtestsrv_api_port
                .unwrap_or_else(|| free_port(false)),
            http01: options.http01_port.unwrap_or_else(|| free_port(false)),
            tls_alpn01: options.tls_alpn01_port.unwrap_or_else(|| free_port(false)),
        };
        Pebble::launch(options, ports, started)
    }

    fn launch(options: &PebbleOptions, ports: Ports, started: Instant) -> Result<Pebble, String> {
        let dir = tempfile::Builder::new()
            .prefix("certmgr-pebble-")
            .tempdir()
            .expect("temporary directory for pebble");
        let ca_bundle = write_tls_files(dir.path());
        let config = dir.path().join("pebble-config.json");
        std::fs::write(&config, pebble_config(dir.path(), &ports, options))
            .expect("write pebble config");

        let challtestsrv = spawn(
            Command::new(CHALLTESTSRV_BIN)
                .args(["-dns01", &format!("127.0.0.1:{}", ports.dns)])
                .args([
                    "-management",
                    &format!("127.0.0.1:{}", ports.challtestsrv_api),
                ])
                .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
                .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""]),
            &dir.path().join("challtestsrv.log"),
        );
        let pebble = spawn(
            Command::new(PEBBLE_BIN)
                .arg("-config")
                .arg(&config)
                .args([
                    "-dnsserver",
                    &options
                        .dns_server
                        .map_or_else(|| format!("127.0.0.1:{}", ports.dns), |a| a.to_string()),
                ])
                .env("PEBBLE_VA_NOSLEEP", "1")
                .env("PEBBLE_VA_ALWAYS_VALID", "0")
                .env("PEBBLE_AUTHZREUSE", "0")
                .env(
                    "PEBBLE_WFE_NONCEREJECT",
                    options.nonce_reject_percent.to_string(),
                )
                .env(
                    "PEBBLE_ALTERNATE_ROOTS",
                    options.alternate_roots.to_string(),
                )
                .current_dir(dir.path()),
            &dir.path().join("pebble.log"),
        );
        let watchdog = spawn_watchdog(&[pebble.id(), challtestsrv.id()]);
        let mut instance = Pebble {
            pebble,
            challtestsrv,
            watchdog: Some(watchdog),
            ports,
            dir,
            ca_bundle,
            startup: Duration::ZERO,
        };
        // From here on, a panic drops `instance`, which kills the processes.
        instance.wait_ready(started)?;
        instance.startup = started.elapsed();
        Ok(instance)
    }

    fn wait_ready(&mut self, started: Instant) -> Result<(), String> {
        let deadline = started + READY_TIMEOUT;
        let mut dns_ok = false;
        let mut api_ok = false;
        let mut acme_ok = false;
        loop {
            // challtestsrv keeps running when a bind fails, so look at the logs too.
            let logs = self.logs();
            if logs.contains("address already in use") {
                return Err(format!("a port was taken:\n{logs}"));
            }
            let exited = [
                ("pebble", self.pebble.try_wait().expect("try_wait pebble")),
                (
                    "pebble-challtestsrv",
                    self.challtestsrv.try_wait().expect("try_wait challtestsrv"),
                ),
            ];
            for (name, status) in exited {
                if let Some(status) = status {
                    let logs = self.logs();
                    if logs.contains("address already in use") {
                        return Err(format!("{name} exited ({status}):\n{logs}"));
                    }
                    panic!("{name} exited during start-up ({status}):\n{logs}");
                }
            }
            dns_ok = dns_ok || dns_answers(self.ports.dns);
            api_ok =
                api_ok || TcpStream::connect(("127.0.0.1", self.ports.challtestsrv_api)).is_ok();
            // The management listener (roots, intermediates) is bound by its own goroutine.
            acme_ok = acme_ok
                || (TcpStream::connect(("127.0.0.1", self.ports.management)).is_ok()
                    && TcpStream::connect(("127.0.0.1", self.ports.acme)).is_ok()
                    && curl(&self.ca_bundle, &self.directory_url(), PROBE_TIMEOUT).is_ok());
            if dns_ok && api_ok && acme_ok {
                // A probe may have reached another server that holds one of our ports.
                std::thread::sleep(Duration::from_millis(10));
                let logs = self.logs();
                if logs.contains("address already in use") {
                    return Err(format!("a port was taken:\n{logs}"));
                }
                return Ok(());
            }
            if Instant::now() > deadline {
                panic!(
                    "pebble not ready after {READY_TIMEOUT:?} (directory+management: {acme_ok}, \
                     challtestsrv DNS: {dns_ok}, challtestsrv API: {api_ok}):\n{}",
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The ACME directory URL, `https://127.0.0.1:PORT/dir`.
    pub fn directory_url(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.ports.acme)
    }

    /// PEM file of the CA that signed the certificate of pebble's HTTPS listeners (ACME and
    /// management); the ACME client must trust it.
    pub fn ca_bundle_path(&self) -> &Path {
        &self.ca_bundle
    }

    /// The port on 127.0.0.1 where pebble connects for HTTP-01 validation (the client listens
    /// there).
    pub fn http01_port(&self) -> u16 {
        self.ports.http01
    }

    /// The port on 127.0.0.1 where pebble connects for TLS-ALPN-01 validation (the client
    /// listens there).
    pub fn tls_alpn01_port(&self) -> u16 {
        self.ports.tls_alpn01
    }

    /// Pebble's current issuing root certificate (PEM), from its management API
    /// (`/roots/0`). Pebble makes a new one at every start.
    pub fn root_pem(&self) -> String {
        self.management_get("/roots/0")
    }

    /// Root number `index` (0 is the default hierarchy, 1.. the alternates).
    pub fn root_pem_at(&self, index: u8) -> String {
        self.management_get(&format!("/roots/{index}"))
    }

    /// Pebble's current intermediate certificate (PEM), from its management API
    /// (`/intermediates/0`).
    pub fn intermediate_pem(&self) -> String {
        self.management_get("/intermediates/0")
    }

    /// Base URL of pebble's management API, `https://127.0.0.1:PORT` (same TLS trust as the
    /// directory).
    pub fn management_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.ports.management)
    }

    /// Base URL of challtestsrv's management API, `http://127.0.0.1:PORT` (`/set-txt`,
    /// `/clear-txt`, `/add-a`, ...).
    pub fn challtestsrv_api(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.challtestsrv_api)
    }

    /// Address of challtestsrv's DNS server (UDP and TCP), `127.0.0.1:PORT`; pebble resolves
    /// through it. Every A query answers 127.0.0.1, AAAA queries answer nothing.
    pub fn dns_server(&self) -> String {
        format!("127.0.0.1:{}", self.ports.dns)
    }

    /// Every port the two processes listen on (ACME, pebble management, DNS, challtestsrv
    /// management). The validation ports are not among them: the client listens there.
    pub fn listen_ports(&self) -> Vec<u16> {
        vec![
            self.ports.acme,
            self.ports.management,
            self.ports.dns,
            self.ports.challtestsrv_api,
        ]
    }

    /// Process ids of pebble and challtestsrv.
    pub fn process_ids(&self) -> Vec<u32> {
        vec![self.pebble.id(), self.challtestsrv.id()]
    }

    /// How long [`Pebble::start`] took until both processes answered.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// The temporary directory with the configuration, TLS files and logs (removed on drop).
    pub fn work_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The last few KiB of both processes' logs, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for name in ["pebble.log", "challtestsrv.log"] {
            out.push_str(&format!(
                "----- {name} (tail) -----\n{}\n",
                tail(&self.dir.path().join(name))
            ));
        }
        out
    }

    fn management_get(&self, path: &str) -> String {
        let url = format!("{}{path}", self.management_url());
        curl(&self.ca_bundle, &url, Duration::from_secs(10))
            .unwrap_or_else(|err| panic!("GET {url}: {err}\n{}", self.logs()))
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        // Stop the watchdog first so it can never signal a recycled pid.
        if let Some((mut watchdog, stdin)) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
            drop(stdin);
        }
        for child in [&mut self.pebble, &mut self.challtestsrv] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl std::fmt::Debug for Pebble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pebble")
            .field("directory_url", &self.directory_url())
            .field("ports", &self.ports)
            .field("process_ids", &self.process_ids())
            .field("work_dir", &self.dir.path())
            .finish()
    }
}

/// Spawns `command` in its own process group with stdout+stderr appended to `log`.
fn spawn(command: &mut Command, log: &Path) -> Child {
    let out = File::create(log).expect("create log file");
    let err = out.try_clone().expect("clone log file");
    let program = command.get_program().to_string_lossy().into_owned();
    command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        // Ctrl-C on the terminal reaches the test process only; the watchdog cleans up.
        .process_group(0)
        .spawn()
        .unwrap_or_else(|err| panic!("spawn {program}: {err}"))
}

/// A shell that SIGKILLs `pids` when its stdin reaches EOF, i.e. when the test process dies
/// without running `Drop` (abort, SIGKILL, a `static` instance at exit).
fn spawn_watchdog(pids: &[u32]) -> (Child, ChildStdin) {
    let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
    let mut child = Command::new("sh")
        .args([
            "-c",
            &format!("read -r _ignored; kill -9 {} 2>/dev/null", pids.join(" ")),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn watchdog sh");
    let stdin = child.stdin.take().expect("watchdog stdin");
    (child, stdin)
}

/// A free port on 127.0.0.1 (TCP, and UDP too when `udp`), never handed out twice by this
/// process. Chosen below the kernel's ephemeral range when possible, so outgoing connections
/// cannot take it before the server binds it.
pub(crate) fn free_port(udp: bool) -> u16 {
    static USED: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let (low, high) = candidate_range();
    let mut random = RandomState::new().build_hasher();
    for attempt in 0u32..1000 {
        random.write_u32(attempt);
        let port = if high > low {
            low + (random.finish() % u64::from(high - low)) as u16
        } else {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
            listener.local_addr().expect("local addr").port()
        };
        let mut used = USED.lock().unwrap_or_else(|e| e.into_inner());
        let used = used.get_or_insert_with(HashSet::new);
        if used.contains(&port) {
            continue;
        }
        let tcp_ok = TcpListener::bind(("127.0.0.1", port)).is_ok();
        let udp_ok = !udp || UdpSocket::bind(("127.0.0.1", port)).is_ok();
        if tcp_ok && udp_ok {
            used.insert(port);
            return port;
        }
    }
    panic!("no free port found on 127.0.0.1");
}

/// `[20000, start of the ephemeral range)`, or an empty range when that does not fit.
fn candidate_range() -> (u16, u16) {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    if low > 21000 { (20000, low) } else { (0, 0) }
}

/// Makes a TLS CA and a `localhost`/127.0.0.1 server certificate for pebble's listeners;
/// returns the CA bundle path.
pub(crate) fn write_tls_files(dir: &Path) -> PathBuf {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "certmgr-testkit pebble TLS CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).expect("self-sign CA");
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate().expect("server key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("server params");
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &issuer).expect("sign server cert");

    let ca_path = dir.join("tls-ca.pem");
    std::fs::write(&ca_path, ca_cert.pem()).expect("write tls-ca.pem");
    std::fs::write(dir.join("localhost-cert.pem"), cert.pem()).expect("write cert");
    std::fs::write(dir.join("localhost-key.pem"), key.serialize_pem()).expect("write key");
    ca_path
}

/// Pebble's configuration file (JSON).
fn pebble_config(dir: &Path, ports: &Ports, options: &PebbleOptions) -> String {
    let keys: Vec<String> = options
        .eab_keys
        .iter()
        .map(|(kid, key)| format!("{}: {}", json_string(kid), json_string(key)))
        .collect();
    format!(
        r#"{{
  "pebble": {{
    "listenAddress": "127.0.0.1:{acme}",
    "managementListenAddress": "127.0.0.1:{management}",
    "certificate": {cert},
    "privateKey": {key},
    "httpPort": {http01},
    "tlsPort": {tls_alpn01},
    "ocspResponderURL": "",
    "externalAccountBindingRequired": {eab},
    "externalAccountMACKeys": {{{keys}}}
  }}
}}
"#,
        acme = ports.acme,
        management = ports.management,
        cert = json_string(&dir.join("localhost-cert.pem").to_string_lossy()),
        key = json_string(&dir.join("localhost-key.pem").to_string_lossy()),
        http01 = ports.http01,
        tls_alpn01 = ports.tls_alpn01,
        eab = !options.eab_keys.is_empty(),
        keys = keys.join(", "),
    )
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `curl -sS --fail` GET with the given trust anchor; the body, or curl's error message.
fn curl(ca_bundle: &Path, url: &str, max_time: Duration) -> Result<String, String> {
    let out = Command::new("curl")
        .args(["-sS", "--fail", "--max-time"])
        .arg(format!("{:.1}", max_time.as_secs_f64()))
        .arg("--cacert")
        .arg(ca_bundle)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("run curl (is it installed?): {err}"));
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "curl {url}: {} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Whether a DNS server on 127.0.0.1:`port` answers an A query over UDP with NOERROR.
fn dns_answers(port: u16) -> bool {
    let Ok(socket) = UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    let _ = socket.set_read_timeout(Some(Duration::from_millis(200)));
    let id: [u8; 2] = [0x5e, 0xb1];
    let mut query = Vec::with_capacity(40);
    query.extend_from_slice(&id);
    query.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD, 1 question
    for label in ["readiness", "certmgr", "test"] {
        query.push(label.len() as u8);
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0, 0, 1, 0, 1]); // root, type A, class IN
    if socket.send_to(&query, ("127.0.0.1", port)).is_err() {
        return false;
    }
    let mut buf = [0u8; 512];
    match socket.recv(&mut buf) {
        Ok(n) => n >= 12 && buf[..2] == id && buf[2] & 0x80 != 0 && buf[3] & 0x0f == 0,
        Err(_) => false,
    }
}

/// The last [`LOG_TAIL_BYTES`] of a file.
fn tail(path: &Path) -> String {
    let Ok(mut file) = File::open(path) else {
        return format!("<cannot open {}>", path.display());
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut buf = Vec::new();
    if len > LOG_TAIL_BYTES {
        use std::io::Seek;
        let _ = file.seek(std::io::SeekFrom::Start(len - LOG_TAIL_BYTES));
    }
    let _ = file.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports() -> Ports {
        Ports {
            acme: free_port(false),
            management: free_port(false),
            dns: free_port(true),
            challtestsrv_api: free_port(false),
            http01: free_port(false),
            tls_alpn01: free_port(false),
        }
    }

    /// A taken port is reported as `Err` (so `start_with` retries), for either process.
    #[test]
    fn taken_port_is_a_retryable_error() {
        if !pebble_available() {
            return;
        }
        let options = PebbleOptions::default();
        let mut taken = ports();
        let blocker = TcpListener::bind(("127.0.0.1", taken.acme)).unwrap();
        let err = Pebble::launch(&options, taken, Instant::now()).unwrap_err();
        assert!(err.contains("address already in use"), "{err}");
        drop(blocker);

        // challtestsrv does not exit when a bind fails; the logs tell.
        taken = ports();
        let blocker = TcpListener::bind(("127.0.0.1", taken.challtestsrv_api)).unwrap();
        let err = Pebble::launch(&options, taken, Instant::now()).unwrap_err();
        assert!(err.contains("address already in use"), "{err}");
        drop(blocker);
    }

    #[test]
    fn free_ports_are_distinct_and_outside_the_ephemeral_range() {
        let (low, high) = candidate_range();
        let mut seen = HashSet::new();
        for _ in 0..200 {
            let port = free_port(true);
            assert!(seen.insert(port), "{port} handed out twice");
            if high > low {
                assert!((low..high).contains(&port), "{port}");
            }
        }
    }

    #[test]
    fn config_escapes_eab_keys() {
        let options = PebbleOptions {
            eab_keys: vec![("k\"1".to_owned(), "v".to_owned())],
            ..PebbleOptions::default()
        };
        let config = pebble_config(Path::new("/tmp/x"), &ports(), &options);
        assert!(
            config.contains(r#""externalAccountMACKeys": {"k\"1": "v"}"#),
            "{config}"
        );
        assert!(config.contains(r#""externalAccountBindingRequired": true"#));
    }
}
