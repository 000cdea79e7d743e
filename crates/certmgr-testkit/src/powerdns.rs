//! A private PowerDNS Authoritative server per test, managed through its REST API.
//!
//! [`PowerDns::start`] runs `pdns_server` (Debian `pdns-server` + `pdns-backend-lmdb`) on
//! 127.0.0.1 with ports of its own: DNS (UDP and TCP) and the REST API (`X-API-Key`). It creates
//! the requested zones through the API, waits until every zone answers SOA over DNS, and kills
//! the server (SIGKILL) when the value is dropped, also while a test panics. Several instances
//! can run at once, in one test process or in several.
//!
//! ```no_run
//! use certmgr_testkit::powerdns::{powerdns_available, PowerDns};
//!
//! if !powerdns_available() {
//!     return;
//! }
//! let pdns = PowerDns::start(&["example.test"]);
//! let api = pdns.api_url(); // http://127.0.0.1:PORT, header X-API-Key: pdns.api_key()
//! let dns = pdns.dns_address(); // point pebble's -dnsserver here (PebbleOptions::dns_server)
//! assert!(pdns.txt("_acme-challenge.www.example.test").is_empty());
//! # let _ = (api, dns);
//! ```
//!
//! Setup facts (Debian PowerDNS 4.7):
//! * backend LMDB in the temporary directory: the SQLite backend answers concurrent API writes
//!   (`PATCH` of one zone) with HTTP 500 (`database is locked`); LMDB writers wait on a lock;
//! * packet, query and negative caches are off (`cache-ttl=0`, `query-cache-ttl=0`,
//!   `negquery-cache-ttl=0`), so a change made through the API is served at once;
//! * no outbound traffic: no security poll (`security-poll-suffix=`), no notifies, no AXFR;
//! * `daemon=no`, `guardian=no`: one foreground process;
//! * each zone is `Native` with SOA `ns1.<zone>. hostmaster.<zone>.`, NS `ns1.<zone>.`,
//!   `ns1.<zone>. A 127.0.0.1` and `*.<zone>. A 127.0.0.1` (so HTTP-01 names resolve too).
//!
//! External tools: `curl` (REST API), `dig` (Debian `bind9-dnsutils`, for [`PowerDns::txt`] and
//! readiness) and `sh` (the watchdog that kills the server if the test process dies without
//! unwinding).

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, Command};
use std::time::{Duration, Instant};

use crate::pebble::free_port;

/// Path of the PowerDNS Authoritative server binary (Debian package `pdns-server`).
pub const PDNS_SERVER_BIN: &str = "/usr/sbin/pdns_server";
/// Path of `dig` (Debian package `bind9-dnsutils`).
pub const DIG_BIN: &str = "/usr/bin/dig";

/// How long [`PowerDns::start`] waits for the server to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Timeout of one readiness probe of the API (retried until [`READY_TIMEOUT`]).
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Timeout of one API request.
const API_TIMEOUT: Duration = Duration::from_secs(10);

/// Skip-or-fail policy for tests that need PowerDNS.
///
/// Returns `true` when `pdns_server`, its LMDB backend, `dig` and `curl` are installed.
/// Otherwise it writes a visible `SKIPPED: PowerDNS not installed` line straight to the
/// process's stderr and returns `false`, or panics when `CI=true`.
pub fn powerdns_available() -> bool {
    let lmdb = lmdb_backend_installed();
    let mut missing: Vec<String> = [PDNS_SERVER_BIN, DIG_BIN]
        .into_iter()
        .filter(|bin| !Path::new(bin).exists())
        .map(str::to_owned)
        .collect();
    if !lmdb {
        missing.push("pdns/liblmdbbackend.so".to_owned());
    }
    if !support::on_path("curl") {
        missing.push("curl".to_owned());
    }
    support::available_or_skip(
        "PowerDNS",
        &missing,
        "pdns-server pdns-backend-lmdb bind9-dnsutils curl",
    )
}

fn lmdb_backend_installed() -> bool {
    let Ok(entries) = std::fs::read_dir("/usr/lib") else {
        return false;
    };
    entries
        .flatten()
        .any(|entry| entry.path().join("pdns/liblmdbbackend.so").exists())
}

/// A running PowerDNS Authoritative server, listening on 127.0.0.1 only.
///
/// Owns the process and a temporary directory (configuration, LMDB database, log). Dropping it
/// kills the process with SIGKILL and waits for it.
pub struct PowerDns {
    child: Child,
    watchdog: Option<(Child, ChildStdin)>,
    dns_port: u16,
    api_port: u16,
    api_key: String,
    dir: tempfile::TempDir,
    zones: Vec<String>,
    startup: Duration,
}

impl PowerDns {
    /// Starts a server with the given zones (e.g. `"example.test"`; a trailing dot is optional)
    /// and waits until each answers SOA over DNS.
    ///
    /// Retries once with other ports when a port was taken between choosing and binding it;
    /// otherwise panics with the server's log when it does not come up within 20 seconds.
    pub fn start(zones: &[&str]) -> PowerDns {
        let zones: Vec<String> = zones.iter().map(|z| fqdn(z)).collect();
        match PowerDns::try_start(&zones) {
            Ok(pdns) => pdns,
            Err(first) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "PowerDNS harness: port collision, retrying with other ports:\n{first}"
                );
                PowerDns::try_start(&zones).unwrap_or_else(|second| {
                    panic!("PowerDNS did not start (port collision twice):\n{second}")
                })
            }
        }
    }

    /// `Err` only for a port collision (worth one retry); other failures panic.
    fn try_start(zones: &[String]) -> Result<PowerDns, String> {
        PowerDns::launch(zones, free_port(true), free_port(false), Instant::now())
    }

    fn launch(
        zones: &[String],
        dns_port: u16,
        api_port: u16,
        started: Instant,
    ) -> Result<PowerDns, String> {
        let dir = tempfile::Builder::new()
            .prefix("certmgr-pdns-")
            .tempdir()
            .expect("temporary directory for PowerDNS");
        let api_key = support::random_hex(16);
        std::fs::write(
            dir.path().join("pdns.conf"),
            pdns_config(dir.path(), dns_port, api_port, &api_key),
        )
        .expect("write pdns.conf");
        let child = support::spawn(
            Command::new(PDNS_SERVER_BIN).arg(format!("--config-dir={}", dir.path().display())),
            &dir.path().join("pdns.log"),
        );
        let watchdog = support::spawn_watchdog(&[child.id()]);
        let mut pdns = PowerDns {
            child,
            watchdog: Some(watchdog),
            dns_port,
            api_port,
            api_key,
            dir,
            zones: zones.to_vec(),
            startup: Duration::ZERO,
        };
        // From here on, a panic drops `pdns`, which kills the process.
        pdns.wait_api(started)?;
        for zone in zones {
            pdns.create_zone(zone);
        }
        pdns.wait_zones(started);
        pdns.startup = started.elapsed();
        Ok(pdns)
    }

    fn wait_api(&mut self, started: Instant) -> Result<(), String> {
        let deadline = started + READY_TIMEOUT;
        loop {
            // pdns_server exits when a DNS port is taken, but runs on without its API.
            let logs = self.logs();
            if support::port_taken(&logs) {
                return Err(format!("a port was taken:\n{logs}"));
            }
            if let Some(status) = self.child.try_wait().expect("try_wait pdns_server") {
                panic!("pdns_server exited during start-up ({status}):\n{logs}");
            }
            if TcpStream::connect(("127.0.0.1", self.api_port)).is_ok()
                && TcpStream::connect(("127.0.0.1", self.dns_port)).is_ok()
            {
                let probe = support::curl_json(
                    "GET",
                    &format!("{}/api/v1/servers/localhost", self.api_url()),
                    &[("X-API-Key", &self.api_key)],
                    None,
                    PROBE_TIMEOUT,
                );
                match probe {
                    Ok((200, body)) if body.contains("\"localhost\"") => return Ok(()),
                    // Another server holds our port.
                    Ok((status, body)) if status != 200 => {
                        return Err(format!(
                            "API port {} answered HTTP {status}: {body}\n{}",
                            self.api_port,
                            self.logs()
                        ));
                    }
                    _ => {}
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "PowerDNS API not ready after {READY_TIMEOUT:?}:\n{}",
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn create_zone(&self, zone: &str) {
        let rrset = |name: String| {
            serde_json::json!({
                "name": name, "type": "A", "ttl": 60, "changetype": "REPLACE",
                "records": [{"content": "127.0.0.1", "disabled": false}],
            })
        };
        let body = serde_json::json!({
            "name": zone,
            "kind": "Native",
            "nameservers": [format!("ns1.{zone}")],
            "rrsets": [rrset(format!("ns1.{zone}")), rrset(format!("*.{zone}"))],
        });
        let path = "/api/v1/servers/localhost/zones";
        match self.api("POST", path, Some(&body.to_string())) {
            Ok((201, _)) => {}
            other => panic!("POST {path} ({zone}): {other:?}\n{}", self.logs()),
        }
    }

    fn wait_zones(&mut self, started: Instant) {
        let deadline = started + READY_TIMEOUT;
        for zone in self.zones.clone() {
            loop {
                if let Some(status) = self.child.try_wait().expect("try_wait pdns_server") {
                    panic!(
                        "pdns_server exited during start-up ({status}):\n{}",
                        self.logs()
                    );
                }
                match support::dig(self.dns_address(), &zone, "SOA") {
                    Ok(answer) if !answer.is_empty() => break,
                    _ if Instant::now() > deadline => panic!(
                        "PowerDNS does not answer SOA {zone} after {READY_TIMEOUT:?}:\n{}",
                        self.logs()
                    ),
                    _ => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
    }

    /// Base URL of the REST API, `http://127.0.0.1:PORT` (endpoints under `/api/v1`).
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.api_port)
    }

    /// The API key (header `X-API-Key`), random per instance.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The server id in API paths (`/api/v1/servers/localhost/...`).
    pub fn server_id(&self) -> &str {
        "localhost"
    }

    /// Address of the DNS server (UDP and TCP), `127.0.0.1:PORT`.
    pub fn dns_address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.dns_port))
    }

    /// The zones created at start, as FQDNs with a trailing dot.
    pub fn zones(&self) -> &[String] {
        &self.zones
    }

    /// The TXT values served for `name` right now (one string per record, its
    /// character-strings joined), asked over DNS; empty for NXDOMAIN or no TXT data.
    ///
    /// Panics when the server does not answer NOERROR or NXDOMAIN.
    pub fn txt(&self, name: &str) -> Vec<String> {
        support::dig_txt(self.dns_address(), name)
            .unwrap_or_else(|err| panic!("TXT {name} from PowerDNS: {err}\n{}", self.logs()))
    }

    /// Names of all rrsets of `zone` (any type) that start with `prefix`, via the REST API;
    /// FQDNs with a trailing dot, sorted, without duplicates.
    pub fn records_named(&self, zone: &str, prefix: &str) -> Vec<String> {
        let path = format!("/api/v1/servers/localhost/zones/{}", fqdn(zone));
        let body = match self.api("GET", &path, None) {
            Ok((200, body)) => body,
            other => panic!("GET {path}: {other:?}\n{}", self.logs()),
        };
        let zone: serde_json::Value = serde_json::from_str(&body).expect("zone JSON");
        let mut names: Vec<String> = zone["rrsets"]
            .as_array()
            .expect("rrsets array")
            .iter()
            .filter_map(|rrset| rrset["name"].as_str())
            .filter(|name| name.starts_with(prefix))
            .map(str::to_owned)
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// One REST API request with `curl` (the API key is added): `Ok((HTTP status, body))`, or
    /// curl's error message when there was no HTTP answer. `path` starts with `/api/v1`.
    pub fn api(
        &self,
        method: &str,
        path: &str,
        json_body: Option<&str>,
    ) -> Result<(u16, String), String> {
        support::curl_json(
            method,
            &format!("{}{path}", self.api_url()),
            &[("X-API-Key", &self.api_key)],
            json_body,
            API_TIMEOUT,
        )
    }

    /// Every port the server listens on (DNS, API).
    pub fn listen_ports(&self) -> Vec<u16> {
        vec![self.dns_port, self.api_port]
    }

    /// Process id of `pdns_server`.
    pub fn process_id(&self) -> u32 {
        self.child.id()
    }

    /// How long [`PowerDns::start`] took (server up, zones created and answering).
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// The temporary directory with configuration, database and log (removed on drop).
    pub fn work_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The last few KiB of the server's log, for failure messages.
    pub fn logs(&self) -> String {
        format!(
            "----- pdns.log (tail) -----\n{}\n",
            support::tail(&self.dir.path().join("pdns.log"))
        )
    }
}

impl Drop for PowerDns {
    fn drop(&mut self) {
        support::stop(&mut self.watchdog, &mut self.child);
    }
}

impl std::fmt::Debug for PowerDns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PowerDns")
            .field("api_url", &self.api_url())
            .field("dns_address", &self.dns_address())
            .field("zones", &self.zones)
            .field("process_id", &self.child.id())
            .field("work_dir", &self.dir.path())
            .finish()
    }
}

fn pdns_config(dir: &Path, dns_port: u16, api_port: u16, api_key: &str) -> String {
    let dir = dir.display();
    format!(
        "# generated by certmgr-testkit
launch=lmdb
lmdb-filename={dir}/pdns.lmdb
lmdb-shards=1
lmdb-map-size=64
lmdb-sync-mode=nosync
local-address=127.0.0.1:{dns_port}
api=yes
api-key={api_key}
webserver=yes
webserver-address=127.0.0.1
webserver-port={api_port}
webserver-allow-from=127.0.0.1/32
socket-dir={dir}
daemon=no
guardian=no
disable-syslog=yes
loglevel=4
security-poll-suffix=
disable-axfr=yes
only-notify=
cache-ttl=0
negquery-cache-ttl=0
query-cache-ttl=0
zone-cache-refresh-interval=0
default-soa-content=ns1.@ hostmaster.@ 0 10800 3600 604800 60
"
    )
}

/// `name` with exactly one trailing dot.
pub(crate) fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.'))
}

/// Helpers shared by the DNS peers (process handling, `dig`, `curl`).
pub(crate) mod support {
    use std::fs::File;
    use std::io::{Read, Seek};
    use std::net::SocketAddr;
    use std::os::unix::process::CommandExt;
    use std::path::Path;
    use std::process::{Child, ChildStdin, Command, Stdio};
    use std::time::Duration;

    /// How many bytes of a log file go into a panic message.
    const LOG_TAIL_BYTES: u64 = 4000;

    /// `true`, or a visible skip line (`false`), or a panic under `CI=true`.
    pub(crate) fn available_or_skip(peer: &str, missing: &[String], packages: &str) -> bool {
        if missing.is_empty() {
            return true;
        }
        crate::skip(
            &format!("{peer} not installed ({} missing)", missing.join(", ")),
            &format!("install the Debian packages {packages} (scripts/install-deps)"),
        );
        false
    }

    /// Whether `program` is an executable file in one of `$PATH`'s directories.
    pub(crate) fn on_path(program: &str) -> bool {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
    }

    /// Whether a log says that a port was already taken.
    pub(crate) fn port_taken(logs: &str) -> bool {
        let logs = logs.to_ascii_lowercase();
        logs.contains("address already in use")
            || logs.contains("address in use")
            // named when its UDP port is taken
            || logs.contains("unable to listen on any configured interfaces")
    }

    /// `len` random bytes from the kernel, hex-encoded.
    pub(crate) fn random_hex(len: usize) -> String {
        random_bytes(len)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// `len` random bytes from `/dev/urandom`.
    pub(crate) fn random_bytes(len: usize) -> Vec<u8> {
        let mut bytes = vec![0u8; len];
        File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut bytes))
            .expect("read /dev/urandom");
        bytes
    }

    /// Spawns `command` in its own process group with stdout+stderr written to `log`.
    pub(crate) fn spawn(command: &mut Command, log: &Path) -> Child {
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

    /// A shell that SIGKILLs `pids` when its stdin reaches EOF, i.e. when the test process
    /// dies without running `Drop`.
    pub(crate) fn spawn_watchdog(pids: &[u32]) -> (Child, ChildStdin) {
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

    /// Stops the watchdog first (so it never signals a recycled pid), then kills and reaps
    /// `child`.
    pub(crate) fn stop(watchdog: &mut Option<(Child, ChildStdin)>, child: &mut Child) {
        if let Some((mut watchdog, stdin)) = watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
            drop(stdin);
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// The last few KiB of a file.
    pub(crate) fn tail(path: &Path) -> String {
        let Ok(mut file) = File::open(path) else {
            return format!("<cannot open {}>", path.display());
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len > LOG_TAIL_BYTES {
            let _ = file.seek(std::io::SeekFrom::Start(len - LOG_TAIL_BYTES));
        }
        let mut buf = Vec::new();
        let _ = file.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Asks `server` over UDP with `dig` (no recursion) for `name`/`rtype`: the rdata of each
    /// answer record of that type, for NOERROR and NXDOMAIN (then empty); `Err` for other
    /// statuses and for no answer.
    pub(crate) fn dig(server: SocketAddr, name: &str, rtype: &str) -> Result<Vec<String>, String> {
        let out = Command::new(super::DIG_BIN)
            .args(["+norecurse", "+noall", "+comments", "+answer"])
            .args(["+time=1", "+tries=2"])
            .arg(format!("@{}", server.ip()))
            .args(["-p", &server.port().to_string()])
            .args([name, rtype])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|err| panic!("run dig (bind9-dnsutils): {err}"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!(
                "dig {name} {rtype} @{server}: {} {stdout} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let status = stdout
            .lines()
            .find_map(|line| line.split_once("status: "))
            .map(|(_, rest)| rest.split(',').next().unwrap_or_default().trim().to_owned())
            .ok_or_else(|| format!("dig {name} {rtype} @{server}: no status in {stdout:?}"))?;
        match status.as_str() {
            "NOERROR" | "NXDOMAIN" => {}
            other => return Err(format!("dig {name} {rtype} @{server}: {other}\n{stdout}")),
        }
        let mut answers = Vec::new();
        for line in stdout.lines() {
            if line.starts_with(';') || line.trim().is_empty() {
                continue;
            }
            // owner TTL class type rdata...
            let mut rest = line;
            let mut fields = Vec::new();
            for _ in 0..4 {
                let trimmed = rest.trim_start();
                let end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
                fields.push(&trimmed[..end]);
                rest = &trimmed[end..];
            }
            if fields[3].eq_ignore_ascii_case(rtype) {
                answers.push(rest.trim().to_owned());
            }
        }
        Ok(answers)
    }

    /// The TXT values of `name` at `server`, each record's character-strings joined.
    pub(crate) fn dig_txt(server: SocketAddr, name: &str) -> Result<Vec<String>, String> {
        Ok(dig(server, name, "TXT")?
            .iter()
            .map(|rdata| join_character_strings(rdata))
            .collect())
    }

    /// `"ab" "c\"d"` (dig's presentation format) -> `abc"d`; `\DDD` escapes are decoded.
    pub(crate) fn join_character_strings(rdata: &str) -> String {
        let mut bytes = Vec::new();
        let mut chars = rdata.bytes().peekable();
        let mut quoted = false;
        while let Some(b) = chars.next() {
            match b {
                b'"' => quoted = !quoted,
                b'\\' if chars.peek().is_some_and(u8::is_ascii_digit) => {
                    let value = (0..3)
                        .filter_map(|_| chars.next_if(u8::is_ascii_digit))
                        .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
                    bytes.push(u8::try_from(value).unwrap_or(b'?'));
                }
                b'\\' => bytes.extend(chars.next()),
                b' ' | b'\t' if !quoted => {}
                other => bytes.push(other),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// One HTTP request with `curl` and an optional JSON body: `Ok((status, body))`, or curl's
    /// error message when no HTTP answer came.
    pub(crate) fn curl_json(
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        json_body: Option<&str>,
        max_time: Duration,
    ) -> Result<(u16, String), String> {
        let mut command = Command::new("curl");
        command
            .args(["-sS", "--max-time"])
            .arg(format!("{:.1}", max_time.as_secs_f64()))
            .args(["-X", method])
            .args(["-w", "\n%{http_code}"]);
        for (name, value) in headers {
            command.arg("-H").arg(format!("{name}: {value}"));
        }
        if let Some(body) = json_body {
            command
                .args(["-H", "Content-Type: application/json"])
                .args(["--data-binary", body]);
        }
        let out = command
            .arg(url)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|err| panic!("run curl (is it installed?): {err}"));
        if !out.status.success() {
            return Err(format!(
                "curl -X {method} {url}: {} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let (body, code) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
        let code = code
            .trim()
            .parse()
            .map_err(|_| format!("curl -X {method} {url}: no status in {stdout:?}"))?;
        Ok((code, body.to_owned()))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn character_strings_are_joined_and_unescaped() {
            assert_eq!(join_character_strings(r#""abc""#), "abc");
            assert_eq!(join_character_strings(r#""ab" "c""#), "abc");
            assert_eq!(join_character_strings(r#""a\"b\\c""#), r#"a"b\c"#);
            assert_eq!(join_character_strings(r#""a b\032c""#), "a b c");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, UdpSocket};

    /// A taken port is reported as `Err` (so `start` retries), for the DNS and the API port.
    #[test]
    fn taken_port_is_a_retryable_error() {
        if !powerdns_available() {
            return;
        }
        let zones = ["example.test.".to_owned()];
        let dns = free_port(true);
        let blocker = UdpSocket::bind(("127.0.0.1", dns)).unwrap();
        let err = PowerDns::launch(&zones, dns, free_port(false), Instant::now()).unwrap_err();
        assert!(err.contains("Address already in use"), "{err}");
        drop(blocker);

        let api = free_port(false);
        let blocker = TcpListener::bind(("127.0.0.1", api)).unwrap();
        let err = PowerDns::launch(&zones, free_port(true), api, Instant::now()).unwrap_err();
        assert!(err.contains("Address already in use"), "{err}");
        drop(blocker);
    }

    #[test]
    fn fqdn_has_one_trailing_dot() {
        assert_eq!(fqdn("example.test"), "example.test.");
        assert_eq!(fqdn("example.test."), "example.test.");
    }
}
