//! A private BIND 9 name server per test, accepting RFC 2136 dynamic updates signed with TSIG.
//!
//! [`Bind::start`] runs `named -g` (Debian `bind9`) on 127.0.0.1 with a port of its own (UDP
//! and TCP), one primary zone per requested name that allows updates signed with the key
//! `certmgr-test` (hmac-sha256, random secret per instance), waits until every zone answers
//! SOA, and kills the server (SIGKILL) when the value is dropped, also while a test panics.
//! Several instances can run at once.
//!
//! ```no_run
//! use certmgr_testkit::bind::{bind_available, Bind};
//!
//! if !bind_available() {
//!     return;
//! }
//! let bind = Bind::start(&["example.test"]);
//! let server = bind.dns_address(); // send UPDATEs here
//! let key = (bind.tsig_name(), bind.tsig_algorithm(), bind.tsig_secret_base64());
//! assert!(bind.txt("_acme-challenge.www.example.test").is_empty());
//! # let _ = (server, key);
//! ```
//!
//! Setup facts (Debian BIND 9.18):
//! * `named -g -4 -c <dir>/named.conf`: foreground, logs to stderr, IPv4 only; it runs as the
//!   invoking user (no `-u`);
//! * outside its system service it needs its own `pid-file`, `session-keyfile` and
//!   `managed-keys-directory`; `controls { };` disables the rndc channel on 127.0.0.1:953;
//!   `listen-on-v6 { none; }`, `recursion no`, `notify no`;
//! * each zone file has SOA `ns1.<zone>.`, NS `ns1.<zone>.`, `ns1 A 127.0.0.1` and
//!   `* A 127.0.0.1`; journals (`.jnl`) live in the temporary directory and go with it;
//! * the TSIG secret is 32 random bytes (what `tsig-keygen -a hmac-sha256` makes).
//!
//! External tools: `dig` (Debian `bind9-dnsutils`, for [`Bind::txt`] and readiness) and `sh`
//! (the watchdog). Tests typically send updates with `nsupdate -y` (also `bind9-dnsutils`).

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, Command};
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::pebble::free_port;
use crate::powerdns::{DIG_BIN, fqdn, support};

/// Path of the BIND name server binary (Debian package `bind9`).
pub const NAMED_BIN: &str = "/usr/sbin/named";
/// Path of `nsupdate` (Debian package `bind9-dnsutils`).
pub const NSUPDATE_BIN: &str = "/usr/bin/nsupdate";

/// Name of the TSIG key the zones accept updates from.
const TSIG_NAME: &str = "certmgr-test";
/// Algorithm of that key.
const TSIG_ALGORITHM: &str = "hmac-sha256";
/// How long [`Bind::start`] waits for the server to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Skip-or-fail policy for tests that need BIND.
///
/// Returns `true` when `named`, `dig` and `nsupdate` are installed. Otherwise it writes a
/// visible `SKIPPED: BIND not installed` line straight to the process's stderr and returns
/// `false`, or panics when `CI=true`.
pub fn bind_available() -> bool {
    let missing: Vec<String> = [NAMED_BIN, DIG_BIN, NSUPDATE_BIN]
        .into_iter()
        .filter(|bin| !Path::new(bin).exists())
        .map(str::to_owned)
        .collect();
    support::available_or_skip("BIND", &missing, "bind9 bind9-utils bind9-dnsutils")
}

/// A running BIND `named`, listening on 127.0.0.1 only.
///
/// Owns the process and a temporary directory (configuration, zone files, journals, log).
/// Dropping it kills the process with SIGKILL and waits for it.
pub struct Bind {
    child: Child,
    watchdog: Option<(Child, ChildStdin)>,
    port: u16,
    secret: String,
    dir: tempfile::TempDir,
    zones: Vec<String>,
    startup: Duration,
}

impl Bind {
    /// Starts a server with the given zones (e.g. `"example.test"`; a trailing dot is optional)
    /// and waits until each answers SOA.
    ///
    /// Retries once with another port when it was taken between choosing and binding it;
    /// otherwise panics with the server's log when it does not come up within 20 seconds.
    pub fn start(zones: &[&str]) -> Bind {
        let zones: Vec<String> = zones.iter().map(|z| fqdn(z)).collect();
        match Bind::try_start(&zones) {
            Ok(bind) => bind,
            Err(first) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "BIND harness: port collision, retrying with another port:\n{first}"
                );
                Bind::try_start(&zones).unwrap_or_else(|second| {
                    panic!("BIND did not start (port collision twice):\n{second}")
                })
            }
        }
    }

    /// `Err` only for a port collision (worth one retry); other failures panic.
    fn try_start(zones: &[String]) -> Result<Bind, String> {
        Bind::launch(zones, free_port(true), Instant::now())
    }

    fn launch(zones: &[String], port: u16, started: Instant) -> Result<Bind, String> {
        let dir = tempfile::Builder::new()
            .prefix("certmgr-bind-")
            .tempdir()
            .expect("temporary directory for BIND");
        let secret = base64::engine::general_purpose::STANDARD.encode(support::random_bytes(32));
        let config = dir.path().join("named.conf");
        std::fs::write(&config, named_config(dir.path(), port, &secret, zones))
            .expect("write named.conf");
        for zone in zones {
            std::fs::write(zone_file(dir.path(), zone), zone_data(zone)).expect("write zone");
        }
        let child = support::spawn(
            Command::new(NAMED_BIN)
                .args(["-g", "-4", "-c"])
                .arg(&config),
            &dir.path().join("named.log"),
        );
        let watchdog = support::spawn_watchdog(&[child.id()]);
        let mut bind = Bind {
            child,
            watchdog: Some(watchdog),
            port,
            secret,
            dir,
            zones: zones.to_vec(),
            startup: Duration::ZERO,
        };
        // From here on, a panic drops `bind`, which kills the process.
        bind.wait_ready(started)?;
        bind.startup = started.elapsed();
        Ok(bind)
    }

    fn wait_ready(&mut self, started: Instant) -> Result<(), String> {
        let deadline = started + READY_TIMEOUT;
        let mut pending = self.zones.clone();
        loop {
            let logs = self.logs();
            if support::port_taken(&logs) {
                return Err(format!("port {} was taken:\n{logs}", self.port));
            }
            if let Some(status) = self.child.try_wait().expect("try_wait named") {
                panic!("named exited during start-up ({status}):\n{logs}");
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                pending.retain(|zone| {
                    !matches!(support::dig(self.dns_address(), zone, "SOA"),
                              Ok(answer) if !answer.is_empty())
                });
                if pending.is_empty() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "BIND not ready after {READY_TIMEOUT:?} (zones without SOA: {pending:?}):\n{}",
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Address of the DNS server (UDP and TCP, queries and updates), `127.0.0.1:PORT`.
    pub fn dns_address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Name of the TSIG key the zones accept updates from (`certmgr-test`).
    pub fn tsig_name(&self) -> &str {
        TSIG_NAME
    }

    /// Algorithm of the TSIG key (`hmac-sha256`).
    pub fn tsig_algorithm(&self) -> &str {
        TSIG_ALGORITHM
    }

    /// The TSIG secret, base64 (32 random bytes per instance).
    pub fn tsig_secret_base64(&self) -> &str {
        &self.secret
    }

    /// The zones served, as FQDNs with a trailing dot.
    pub fn zones(&self) -> &[String] {
        &self.zones
    }

    /// The TXT values served for `name` right now (one string per record, its
    /// character-strings joined); empty for NXDOMAIN or no TXT data.
    ///
    /// Panics when the server does not answer NOERROR or NXDOMAIN.
    pub fn txt(&self, name: &str) -> Vec<String> {
        support::dig_txt(self.dns_address(), name)
            .unwrap_or_else(|err| panic!("TXT {name} from BIND: {err}\n{}", self.logs()))
    }

    /// Process id of `named`.
    pub fn process_id(&self) -> u32 {
        self.child.id()
    }

    /// How long [`Bind::start`] took until every zone answered.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// The temporary directory with configuration, zones and log (removed on drop).
    pub fn work_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The last few KiB of named's log, for failure messages.
    pub fn logs(&self) -> String {
        format!(
            "----- named.log (tail) -----\n{}\n",
            support::tail(&self.dir.path().join("named.log"))
        )
    }
}

impl Drop for Bind {
    fn drop(&mut self) {
        support::stop(&mut self.watchdog, &mut self.child);
    }
}

impl std::fmt::Debug for Bind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bind")
            .field("dns_address", &self.dns_address())
            .field("zones", &self.zones)
            .field("process_id", &self.child.id())
            .field("work_dir", &self.dir.path())
            .finish()
    }
}

fn zone_file(dir: &Path, zone: &str) -> std::path::PathBuf {
    dir.join(format!("{}zone", zone))
}

fn zone_data(zone: &str) -> String {
    format!(
        "$TTL 60
@   IN SOA ns1.{zone} hostmaster.{zone} ( 1 3600 600 86400 60 )
    IN NS  ns1.{zone}
ns1 IN A   127.0.0.1
*   IN A   127.0.0.1
"
    )
}

fn named_config(dir: &Path, port: u16, secret: &str, zones: &[String]) -> String {
    let d = dir.display();
    let mut config = format!(
        r#"// generated by certmgr-testkit
key "{TSIG_NAME}" {{
  algorithm {TSIG_ALGORITHM};
  secret "{secret}";
}};
options {{
  directory "{d}";
  pid-file "{d}/named.pid";
  session-keyfile "{d}/session.key";
  managed-keys-directory "{d}";
  listen-on port {port} {{ 127.0.0.1; }};
  listen-on-v6 {{ none; }};
  recursion no;
  dnssec-validation no;
  notify no;
  allow-query {{ 127.0.0.1; }};
  allow-transfer {{ none; }};
}};
controls {{ }};
"#
    );
    for zone in zones {
        config.push_str(&format!(
            r#"zone "{zone}" {{
  type primary;
  file "{file}";
  allow-update {{ key "{TSIG_NAME}"; }};
}};
"#,
            file = zone_file(dir, zone).display()
        ));
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;

    /// A taken UDP port (named exits) is reported as `Err`, so `start` retries.
    #[test]
    fn taken_port_is_a_retryable_error() {
        if !bind_available() {
            return;
        }
        let zones = ["example.test.".to_owned()];
        let port = free_port(true);
        let blocker = UdpSocket::bind(("127.0.0.1", port)).unwrap();
        let err = Bind::launch(&zones, port, Instant::now()).unwrap_err();
        assert!(err.contains("unable to listen"), "{err}");
        drop(blocker);
        // A taken TCP port is only logged by named, possibly after it already
        // answers over UDP; that detection is best effort and not asserted here.
    }

    #[test]
    fn config_has_one_update_policy_per_zone() {
        let zones = ["a.test.".to_owned(), "b.test.".to_owned()];
        let config = named_config(Path::new("/tmp/x"), 5353, "c2VjcmV0", &zones);
        assert_eq!(
            config
                .matches(r#"allow-update { key "certmgr-test"; };"#)
                .count(),
            2,
            "{config}"
        );
        assert!(config.contains(r#"file "/tmp/x/a.test.zone";"#), "{config}");
    }
}
