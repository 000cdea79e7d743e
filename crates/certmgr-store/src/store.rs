//! [`Store`]: the connection, the migrations, and the plumbing every area
//! shares (write transactions, "fetch by name or not found", "write and log
//! an event in one transaction"). The queries live in one module per area:
//!
//! - `credentials`: credentials, their versions, keys, history and events
//!   (`credential_rows`: reading and listing credential rows);
//! - `cas`: MicroCAs; `trust_anchors`: the imported trust store;
//! - `acme_accounts`: ACME accounts (`acme_pending`: registrations in progress);
//! - `issuance`: the issuance lease, orders in flight, challenge answers;
//! - `dns_rows`: DNS accounts, the TXT journal, imported provider definitions;
//! - `instances`: the certmgr processes and servers at work on the store;
//! - `notify_rows`: notification channels, notices and their deliveries;
//! - `due`: the renewal due index (`credentials.due_at`);
//! - `integrity`: row MACs; `digest`: the content digest.

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use crate::{MasterKey, StoreError};

#[path = "access.rs"]
pub(crate) mod access;
#[path = "acme_accounts.rs"]
mod acme_accounts;
#[path = "acme_pending.rs"]
mod acme_pending;
#[path = "audit.rs"]
pub(crate) mod audit;
#[path = "cas.rs"]
mod cas;
#[path = "credential_rows.rs"]
mod credential_rows;
#[path = "credentials.rs"]
mod credentials;
#[path = "digest.rs"]
mod digest;
#[path = "dns_rows.rs"]
mod dns_rows;
#[path = "due.rs"]
mod due;
#[path = "instances.rs"]
mod instances;
#[path = "integrity.rs"]
mod integrity;
#[path = "issuance.rs"]
mod issuance;
#[path = "notify_rows.rs"]
pub(crate) mod notify_rows;
#[path = "sessions.rs"]
pub(crate) mod sessions;
#[path = "tags.rs"]
mod tags;
#[path = "trust_anchors.rs"]
mod trust_anchors;

use integrity::RowKey;

pub use instances::InstanceRecord;

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// The page cache of each SQLite connection: 512 KiB (a negative
/// `cache_size` is in KiB), a quarter of SQLite's default.
const SQLITE_CACHE_SIZE: &str = "PRAGMA cache_size = -512";

/// The store: a connection pool plus the master key.
#[derive(Debug)]
pub struct Store {
    pool: AnyPool,
    key: MasterKey,
    /// Authenticates the rows that decide where secrets go (`integrity`).
    rows: RowKey,
    backend: Backend,
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// A query on the `Any` driver, its parameters bound.
type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `url` with the password of its user info replaced by `***`, for messages.
pub fn redact_url(url: &str) -> String {
    match password_of(url) {
        Some(pw) => url.replacen(&format!(":{pw}@"), ":***@", 1),
        None => url.to_owned(),
    }
}

/// The password in `scheme://user:password@host/...`, if any.
fn password_of(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let userinfo = &rest[..rest.rfind('@')?];
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl Store {
    /// Connect to `url` (`sqlite://PATH` or `postgres://...`), bring the schema
    /// up to date and check that `key` is this store's master key (a new, empty
    /// store adopts it).
    pub async fn open(url: &str, key: MasterKey) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedBackend(redact_url(url)));
        };
        let mut options = AnyPoolOptions::new();
        if backend == Backend::Sqlite {
            crate::files::prepare_sqlite_files(url)?;
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // sqlx's SQLite driver already waits 5 s on a busy database
                    // (sqlite3_busy_timeout). Switching to WAL needs an exclusive
                    // lock that cannot wait, so it is done only when the file is
                    // not in WAL mode yet (the mode is persistent): once, at creation.
                    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                        .fetch_one(&mut *conn)
                        .await?;
                    if !mode.eq_ignore_ascii_case("wal") {
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                    }
                    // Each pooled connection keeps a page cache of its own (2 MiB
                    // by default), and a pass over every credential fills all of
                    // them: 16 MiB that a long-running server held for ever.
                    // The operating system caches the file as well.
                    for pragma in [
                        "PRAGMA foreign_keys = ON",
                        "PRAGMA synchronous = NORMAL",
                        SQLITE_CACHE_SIZE,
                    ] {
                        sqlx::query(pragma).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            });
        }
        let connect_failed = |e: sqlx::Error| StoreError::Connect {
            url: redact_url(url),
            // sqlx may quote the URL; the password never leaves.
            message: password_of(url)
                .map_or_else(|| e.to_string(), |pw| e.to_string().replace(pw, "***")),
        };
        if backend == Backend::Postgres {
            // The pool retries a refused connection until its acquire timeout
            // (30 s); one direct attempt first reports an unreachable or
            // misconfigured server at once.
            use sqlx::Connection;
            sqlx::AnyConnection::connect(url)
                .await
                .map_err(connect_failed)?
                .close()
                .await
                .map_err(connect_failed)?;
        }
        let pool = options
            .max_connections(8)
            .connect(url)
            .await
            .map_err(connect_failed)?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        let rows = RowKey::derive(&key);
        let store = Store {
            pool,
            key,
            rows,
            backend,
        };
        store.check_master_key().await?;
        store.backfill_due().await?;
        Ok(store)
    }

    /// Begin a transaction that will write. On SQLite it takes the write lock
    /// up front (`BEGIN IMMEDIATE`), so that a transaction which reads first
    /// waits for other writers instead of failing with SQLITE_BUSY_SNAPSHOT.
    async fn begin_write(&self) -> Result<Tx<'static>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// The SQLite URL for a database file, creating the file if missing.
    pub fn sqlite_url(path: &std::path::Path) -> String {
        format!("sqlite://{}?mode=rwc", path.display())
    }

    /// Which backend this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers: one trivial query (the server's
    /// readiness check).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Close the pool, waiting for connections to finish (flushes SQLite's WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

// ----- shared plumbing -------------------------------------------------------

/// The refusal of a lookup: no `kind` (credential, CA, ...) named `name`.
fn not_found(kind: &'static str, name: &str) -> StoreError {
    StoreError::NotFound {
        kind,
        name: name.to_owned(),
    }
}

/// The one row `query` selects, read by `read`, or [`StoreError::NotFound`]
/// naming the `kind` called `name` when there is none. `executor` is the
/// pool, or a transaction's connection (`&mut *tx`, `&mut **tx` through a
/// [`LoggedTx`]) for a lookup that must see, or lock for, its writes.
async fn fetch_named<'c, T>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Any>,
    query: AnyQuery<'_>,
    (kind, name): (&'static str, &str),
    read: impl FnOnce(&AnyRow) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let row = query
        .fetch_optional(executor)
        .await?
        .ok_or_else(|| not_found(kind, name))?;
    read(&row)
}

/// One entry of the event log, before it is written: what happened, and to
/// which credential (`None` for the store as a whole: CAs, accounts, ...).
struct LogEntry<'a> {
    /// The credential's id and name (the name outlives the credential).
    credential: Option<(&'a str, &'a str)>,
    kind: &'a str,
    message: &'a str,
}

impl<'a> LogEntry<'a> {
    /// An event of the store as a whole.
    fn general(kind: &'a str, message: &'a str) -> Self {
        LogEntry {
            credential: None,
            kind,
            message,
        }
    }

    /// An event in the log of the credential `id` called `name`.
    fn credential(id: &'a str, name: &'a str, kind: &'a str, message: &'a str) -> Self {
        LogEntry {
            credential: Some((id, name)),
            kind,
            message,
        }
    }
}

/// Append `entry` to the event log inside `tx`.
async fn insert_event(tx: &mut Tx<'_>, entry: &LogEntry<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO events (id, credential_id, credential_name, at, kind, message) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(entry.credential.map(|c| c.0.to_owned()))
    .bind(entry.credential.map(|c| c.1.to_owned()))
    .bind(now())
    .bind(entry.kind)
    .bind(entry.message)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A write transaction that appends its [`LogEntry`] to the event log when
/// it commits, so that a change and its record exist together or not at
/// all. Dropped without [`LoggedTx::commit`] (an error on the way), it rolls
/// back, entry and all. It derefs to the transaction for the writes.
struct LoggedTx<'a> {
    tx: Tx<'static>,
    entry: LogEntry<'a>,
}

impl Store {
    /// Begin a write transaction (as [`Store::begin_write`]) that logs
    /// `entry` when it commits.
    async fn begin_logged<'a>(&self, entry: LogEntry<'a>) -> Result<LoggedTx<'a>, StoreError> {
        Ok(LoggedTx {
            tx: self.begin_write().await?,
            entry,
        })
    }
}

impl LoggedTx<'_> {
    /// Append the entry to the event log and commit, in that transaction.
    async fn commit(mut self) -> Result<(), StoreError> {
        insert_event(&mut self.tx, &self.entry).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

impl std::ops::Deref for LoggedTx<'_> {
    type Target = Tx<'static>;

    fn deref(&self) -> &Tx<'static> {
        &self.tx
    }
}

impl std::ops::DerefMut for LoggedTx<'_> {
    fn deref_mut(&mut self) -> &mut Tx<'static> {
        &mut self.tx
    }
}

/// The refusal of a stored value that does not parse.
pub(super) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?} does not parse"))
}

/// A text column parsed with `FromStr` (a key spec, ...), or [`corrupt`].
fn parse_text<T: std::str::FromStr>(row: &AnyRow, column: &str) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    text.parse().map_err(|_| corrupt(column, &text))
}

/// A stored count of days (or orders), `None` when absent or out of range.
fn days(value: Option<i64>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        AcmeAccountRecord, CertificateRecord, CredentialRecord, DnsAccountRecord, NewAcmeAccount,
        NewCa, NewCredential, NewDnsAccount, Outcome,
    };

    fn send<T: Send>(_: T) {}

    /// The futures of the methods that go through `begin_logged` or
    /// `fetch_named` stay `Send`: callers spawn them.
    #[test]
    fn store_futures_are_send() {
        #[allow(clippy::too_many_arguments)]
        let _ = |store: &Store,
                 credential: &CredentialRecord,
                 certificate: &CertificateRecord,
                 outcome: &Outcome,
                 new_credential: &NewCredential,
                 new_ca: &NewCa<'_>,
                 new_acme: &NewAcmeAccount<'_>,
                 acme: &AcmeAccountRecord,
                 new_dns: &NewDnsAccount<'_>,
                 dns: &DnsAccountRecord| {
            send(store.create_credential(new_credential));
            send(store.credential("x"));
            send(store.delete_credential("x"));
            send(store.add_version(
                credential,
                crate::VersionSource::Import,
                &[],
                outcome,
                ("k", "m"),
            ));
            send(store.attach_certificate(
                credential,
                certmgr_core::KeyFamily::Ecdsa,
                certificate,
                outcome,
                ("k", "m"),
            ));
            send(store.record_failure(credential, "k", "m"));
            send(store.set_outcome(credential, outcome, ("k", "m")));
            send(store.record_event(credential, "k", "m"));
            send(store.create_ca(new_ca));
            send(store.ca("x"));
            send(store.create_acme_account(new_acme));
            send(store.create_pending_acme_account(new_acme));
            send(store.finish_acme_registration(acme, "u", b"{}"));
            send(store.update_acme_account(
                acme,
                None,
                certmgr_core::AcmeAccountStatus::Valid,
                ("k", "m"),
            ));
            send(store.acme_account("x"));
            send(store.create_dns_account(new_dns));
            send(store.update_dns_account_params(dns, b"{}", "why"));
            send(store.dns_account("x"));
            send(store.delete_dns_account("x"));
            send(store.import_dns_provider("x", "s", "f"));
            send(store.txt_journal());
            send(store.txt_journal_for("x"));
            send(store.txt_journal_with_value("x"));
        };
    }
}
