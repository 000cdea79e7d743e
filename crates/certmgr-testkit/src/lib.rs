/*!
Test support: a fresh, isolated store per test, on the backend the test run asks for.

`scripts/test` runs the suite twice: with `CERTMGR_TEST_BACKEND=sqlite` (the
default) and with `CERTMGR_TEST_BACKEND=postgres` plus
`CERTMGR_TEST_POSTGRES_URL` pointing at a PostgreSQL server whose user may
create databases. Each [`TestStore`] then gets its own data directory and, on
PostgreSQL, its own database, dropped when the value is dropped.

[`Pebble`] (module [`pebble`]) starts a private ACME test CA per test
(Debian's `pebble` + `pebble-challtestsrv` on 127.0.0.1, free ports),
killed when the value is dropped.

[`AriProxy`] (module [`ari_proxy`]) is an HTTPS reverse proxy in front of a
[`Pebble`] that adds ACME Renewal Information (RFC 9773) and certificate
profiles, which pebble 2.4 lacks, and records what the client sent.

[`stub::StubServer`] is a scripted HTTP server for DNS provider conformance
tests: expected requests in order, canned answers, `599` for anything else.

[`PowerDns`] (module [`powerdns`]) and [`Bind`] (module [`bind`]) are private
authoritative DNS servers for DNS-01 tests (PowerDNS REST API; BIND RFC 2136
updates with TSIG); point pebble at one with [`PebbleOptions::dns_server`].

[`Prometheus`] (module [`prometheus`]) is a private Prometheus scraping a
test's server, with alerting rules; [`promtool_check_metrics`] lints a
scraped text.

With the feature `oidc`, module `oidc` has a real OpenID provider
(django-oidc-provider, `scripts/oidc-provider`) per test and a browser that
signs its users in.
*/
#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: failing loudly is the point

pub mod ari_proxy;
pub mod bind;
pub mod browser;
pub mod notify_peers;
#[cfg(feature = "oidc")]
pub mod oidc;
pub mod pebble;
pub mod powerdns;
pub mod prometheus;
pub mod seed;
pub mod skip;
pub mod stub;

pub use ari_proxy::{AriProxy, AriProxyOptions, RenewalWindowRule};
pub use bind::{Bind, bind_available};
pub use notify_peers::{SmtpServer, WebhookReceiver, aiosmtpd_available};
pub use pebble::{Pebble, PebbleOptions, pebble_available};
pub use powerdns::{PowerDns, powerdns_available};
pub use prometheus::{Prometheus, prometheus_available, promtool_check_metrics};
pub use seed::{repo_root, seed_dxl};
pub use skip::{openssl_available, skip};

use std::path::{Path, PathBuf};
use std::process::Command;

/// A free TCP port on 127.0.0.1, never handed out twice by this process
/// (below the kernel's ephemeral range when possible, so that outgoing
/// connections cannot take it before a server binds it).
pub fn free_port() -> u16 {
    pebble::free_port(false)
}

/// Which database backend this test run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    /// SQLite file in the data directory.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `CERTMGR_TEST_POSTGRES_URL`.
    Postgres,
}

impl TestBackend {
    /// The backend selected by `CERTMGR_TEST_BACKEND` (default SQLite).
    pub fn from_env() -> TestBackend {
        match std::env::var("CERTMGR_TEST_BACKEND").as_deref() {
            Ok("postgres") => TestBackend::Postgres,
            Ok("sqlite") | Ok("") | Err(_) => TestBackend::Sqlite,
            Ok(other) => panic!("CERTMGR_TEST_BACKEND={other:?}: use sqlite or postgres"),
        }
    }
}

/// An isolated store location for one test.
pub struct TestStore {
    dir: tempfile::TempDir,
    postgres: Option<PostgresDatabase>,
}

struct PostgresDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestStore {
    /// A new empty location (nothing initialised yet).
    pub fn new() -> TestStore {
        let dir = tempfile::tempdir().expect("temporary directory");
        let postgres = match TestBackend::from_env() {
            TestBackend::Sqlite => None,
            TestBackend::Postgres => Some(PostgresDatabase::create()),
        };
        TestStore { dir, postgres }
    }

    /// The backend in use.
    pub fn backend(&self) -> TestBackend {
        if self.postgres.is_some() {
            TestBackend::Postgres
        } else {
            TestBackend::Sqlite
        }
    }

    /// The data directory (master.key, and certmgr.db on SQLite).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A scratch directory for the test's own files.
    pub fn work_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The database URL, or `None` for the default SQLite file in the data dir.
    pub fn database_url(&self) -> Option<&str> {
        self.postgres.as_ref().map(|p| p.url.as_str())
    }

    /// The URL a library test opens: PostgreSQL's, or a SQLite file in the temp dir.
    pub fn url_for_library(&self) -> String {
        match &self.postgres {
            Some(pg) => pg.url.clone(),
            None => {
                std::fs::create_dir_all(self.data_dir()).expect("create data dir");
                format!(
                    "sqlite://{}?mode=rwc",
                    self.data_dir().join("certmgr.db").display()
                )
            }
        }
    }

    /// Environment variables that point the `certmgr` binary at this store.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![("CERTMGR_DATA_DIR", self.data_dir().display().to_string())];
        env.push((
            "CERTMGR_DATABASE_URL",
            self.database_url().unwrap_or_default().to_owned(),
        ));
        env
    }

    /// The raw bytes of the whole store: the SQLite files (db, WAL) or a
    /// `pg_dump` of the database. For scanning for leaked secrets.
    pub fn raw_bytes(&self) -> Vec<u8> {
        match &self.postgres {
            Some(pg) => {
                let out = Command::new("pg_dump")
                    .args(["--data-only", "--inserts", "--no-owner", &pg.url])
                    .output()
                    .expect("run pg_dump");
                assert!(
                    out.status.success(),
                    "pg_dump failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                out.stdout
            }
            None => {
                let mut bytes = Vec::new();
                for entry in std::fs::read_dir(self.data_dir()).expect("data dir") {
                    let path = entry.expect("entry").path();
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    if name.starts_with("certmgr.db") {
                        bytes.extend(std::fs::read(&path).expect("read db file"));
                    }
                }
                bytes
            }
        }
    }
}

impl Default for TestStore {
    fn default() -> Self {
        Self::new()
    }
}

impl PostgresDatabase {
    fn create() -> PostgresDatabase {
        let admin_url = std::env::var("CERTMGR_TEST_POSTGRES_URL").expect(
            "CERTMGR_TEST_BACKEND=postgres needs CERTMGR_TEST_POSTGRES_URL (scripts/test sets both)",
        );
        let name = format!("certmgr_test_{}", uuid::Uuid::now_v7().simple());
        psql(&admin_url, &format!("CREATE DATABASE {name}"));
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base)
            .expect("CERTMGR_TEST_POSTGRES_URL ends in /DATABASE");
        let url = format!("{base}/{name}");
        PostgresDatabase {
            admin_url,
            name,
            url,
        }
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        psql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql {sql:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
