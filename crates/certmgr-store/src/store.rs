//! [`Store`]: connection, migrations and every query.

use std::str::FromStr;

use certmgr_core::{ChallengeKind, Health, KeyFamily, KeySpec, Status};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use zeroize::Zeroizing;

use crate::der;
use crate::model::{
    AcmeAccountRecord, CaRecord, CertificateRecord, CredentialRecord, Event, KeyVersion,
    NewAcmeAccount, NewCa, NewCredential, NewKeyVersion, Outcome, PendingOrder, ServerRecord,
    TrustAnchorRecord, VersionSource,
};
use crate::{MasterKey, StoreError};

#[path = "acme_pending.rs"]
mod acme_pending;
#[path = "credential_rows.rs"]
mod credential_rows;
#[path = "dns_rows.rs"]
mod dns_rows;
#[path = "instances.rs"]
mod instances;
#[path = "integrity.rs"]
mod integrity;

use integrity::RowKey;

pub use instances::InstanceRecord;

macro_rules! key_select {
    () => {
        "SELECT credential_id, version, family, key_spec, sealed_key, cert_der, \
    chain_der, root_der, serial, fingerprint, not_before, not_after, source, created_at FROM credential_keys"
    };
}

macro_rules! acme_select {
    () => {
        "SELECT id, name, ca_id, directory_url, account_url, contacts, eab_kid, sealed_credentials, \
         ca_bundle_pem, status, profile, max_concurrent_orders, preferred_chain, created_at, updated_at, \
         mac FROM acme_accounts"
    };
}

macro_rules! ca_select {
    () => {
        "SELECT id, name, key_spec, root_der, sealed_root_key, intermediate_der, \
    sealed_intermediate_key, not_after, created_at FROM cas"
    };
}

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

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

fn key_context(credential_id: &str, version: i64, family: KeyFamily) -> String {
    format!("credential_keys/{credential_id}/{version}/{family}")
}

fn dns_context(account_id: &str) -> String {
    format!("dns_accounts/{account_id}/params")
}

fn order_context(order_id: &str) -> String {
    format!("acme_orders/{order_id}/key")
}

fn acme_context(account_id: &str) -> String {
    format!("acme_accounts/{account_id}/credentials")
}

fn ca_context(ca_id: &str, which: &str) -> String {
    format!("cas/{ca_id}/{which}")
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
                    for pragma in ["PRAGMA foreign_keys = ON", "PRAGMA synchronous = NORMAL"] {
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

    /// Close the pool, waiting for connections to finish (flushes SQLite's WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ----- credentials -------------------------------------------------------

    /// Create a credential (status `pending`); the name must be new.
    pub async fn create_credential(
        &self,
        new: &NewCredential,
    ) -> Result<CredentialRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = insert_credential(&mut tx, new).await?;
        self.rows
            .stamp(&mut tx, &integrity::CREDENTIALS, &id)
            .await?;
        tx.commit().await?;
        self.credential(&new.name).await
    }

    /// Create a credential and its first version in one transaction (import of
    /// a key made elsewhere): either both exist afterwards or neither does.
    pub async fn create_credential_with_version(
        &self,
        new: &NewCredential,
        source: VersionSource,
        keys: &[NewKeyVersion<'_>],
        outcome: &Outcome,
        event: (&str, &str),
    ) -> Result<(CredentialRecord, i64), StoreError> {
        let mut tx = self.begin_write().await?;
        let id = insert_credential(&mut tx, new).await?;
        self.rows
            .stamp(&mut tx, &integrity::CREDENTIALS, &id)
            .await?;
        let version = self
            .insert_version(&mut tx, (&id, &new.name), 1, source, keys, outcome, event)
            .await?;
        tx.commit().await?;
        Ok((self.credential(&new.name).await?, version))
    }

    /// The credential named `name`.
    pub async fn credential(&self, name: &str) -> Result<CredentialRecord, StoreError> {
        let sql = format!("{} WHERE c.name = $1", credential_rows::select_sql());
        // Built from constants; the name is bound.
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "credential",
                name: name.to_owned(),
            })?;
        let columns = credential_rows::CredentialColumns::from_row(&row)?;
        columns.check(&self.rows)?;
        columns.into_record()
    }

    /// Delete a credential with its versions (its events stay, for the record).
    /// A credential whose row fails its integrity check can be deleted too:
    /// deleting is how it is recreated.
    pub async fn delete_credential(&self, name: &str) -> Result<(), StoreError> {
        let id: String = sqlx::query_scalar("SELECT id FROM credentials WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "credential",
                name: name.to_owned(),
            })?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM credential_keys WHERE credential_id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM credentials WHERE id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        insert_event(
            &mut tx,
            Some((&id, name)),
            "deleted",
            "deleted with all its keys and certificates",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Store a new version (keys sealed, certificates if any), make it current and
    /// set the outcome, all in one transaction. Returns the version number.
    pub async fn add_version(
        &self,
        credential: &CredentialRecord,
        source: VersionSource,
        keys: &[NewKeyVersion<'_>],
        outcome: &Outcome,
        event: (&str, &str),
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let current: i64 = sqlx::query("SELECT current_version FROM credentials WHERE id = $1")
            .bind(&credential.id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "credential",
                name: credential.name.clone(),
            })?
            .try_get("current_version")?;
        let version = self
            .insert_version(
                &mut tx,
                (&credential.id, &credential.name),
                current + 1,
                source,
                keys,
                outcome,
                event,
            )
            .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Write the keys of `version` and make it current (inside a transaction).
    #[allow(clippy::too_many_arguments)]
    async fn insert_version(
        &self,
        tx: &mut Tx<'_>,
        (credential_id, credential_name): (&str, &str),
        version: i64,
        source: VersionSource,
        keys: &[NewKeyVersion<'_>],
        outcome: &Outcome,
        event: (&str, &str),
    ) -> Result<i64, StoreError> {
        let at = now();
        for key in keys {
            let family = key.spec.family();
            let sealed = self
                .key
                .seal(key.pkcs8_der, &key_context(credential_id, version, family))?;
            let cert = key.certificate.as_ref();
            sqlx::query(
                "INSERT INTO credential_keys (credential_id, version, family, key_spec, sealed_key, \
                 cert_der, chain_der, root_der, serial, fingerprint, not_before, not_after, source, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(credential_id)
            .bind(version)
            .bind(family.as_str())
            .bind(key.spec.as_str())
            .bind(sealed)
            .bind(cert.map(|c| c.cert_der.clone()))
            .bind(cert.map(|c| der::join(&c.chain_der)))
            .bind(cert.and_then(|c| c.root_der.clone()))
            .bind(cert.map(|c| c.serial.clone()))
            .bind(cert.map(|c| c.fingerprint.clone()))
            .bind(cert.map(|c| c.not_before))
            .bind(cert.map(|c| c.not_after))
            .bind(source.as_str())
            .bind(at)
            .execute(&mut **tx)
            .await?;
        }
        // A new version supersedes whatever order was in flight.
        sqlx::query("DELETE FROM acme_orders WHERE credential_id = $1")
            .bind(credential_id)
            .execute(&mut **tx)
            .await?;
        // New certificates: plan their renewal afresh, and forget past failures.
        sqlx::query(
            "UPDATE credentials SET renew_at = NULL, ari_next_check = NULL, failure_count = 0, \
             next_attempt_at = NULL WHERE id = $1",
        )
        .bind(credential_id)
        .execute(&mut **tx)
        .await?;
        update_credential(tx, credential_id, Some(version), outcome, at).await?;
        insert_event(tx, Some((credential_id, credential_name)), event.0, event.1).await?;
        Ok(version)
    }

    /// Attach a certificate to a key of the current version that is waiting for
    /// one (manual flow), set the outcome, and log the event, in one transaction.
    pub async fn attach_certificate(
        &self,
        credential: &CredentialRecord,
        family: KeyFamily,
        certificate: &CertificateRecord,
        outcome: &Outcome,
        event: (&str, &str),
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE credential_keys SET cert_der = $1, chain_der = $2, root_der = $3, serial = $4, \
             fingerprint = $5, not_before = $6, not_after = $7 \
             WHERE credential_id = $8 AND version = $9 AND family = $10 AND cert_der IS NULL",
        )
        .bind(certificate.cert_der.clone())
        .bind(der::join(&certificate.chain_der))
        .bind(certificate.root_der.clone())
        .bind(certificate.serial.clone())
        .bind(certificate.fingerprint.clone())
        .bind(certificate.not_before)
        .bind(certificate.not_after)
        .bind(&credential.id)
        .bind(credential.current_version)
        .bind(family.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            return Err(StoreError::Conflict(format!(
                "credential {:?} has no {family} key waiting for a certificate",
                credential.name
            )));
        }
        update_credential(&mut tx, &credential.id, None, outcome, now()).await?;
        insert_event(
            &mut tx,
            Some((&credential.id, &credential.name)),
            event.0,
            event.1,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Mark an operation on a credential as failed, with the reason, and back
    /// off: the next automatic attempt waits [`certmgr_core::renewal::backoff_secs`].
    /// Returns when the next attempt may be made.
    pub async fn record_failure(
        &self,
        credential: &CredentialRecord,
        kind: &str,
        message: &str,
    ) -> Result<i64, StoreError> {
        let failures = credential.failure_count.saturating_add(1);
        let next_attempt = now() + certmgr_core::renewal::backoff_secs(failures);
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE credentials SET failure_count = $1, next_attempt_at = $2 WHERE id = $3",
        )
        .bind(i64::from(failures))
        .bind(next_attempt)
        .bind(&credential.id)
        .execute(&mut *tx)
        .await?;
        let outcome = Outcome {
            status: Status::Failed,
            health: Health::Error,
            last_error: Some(message.to_owned()),
        };
        update_credential(&mut tx, &credential.id, None, &outcome, now()).await?;
        insert_event(
            &mut tx,
            Some((&credential.id, &credential.name)),
            kind,
            &format!("{message} (attempt {failures}; next automatic attempt after {next_attempt})"),
        )
        .await?;
        tx.commit().await?;
        Ok(next_attempt)
    }

    /// Record the renewal plan of the current certificates.
    pub async fn set_renewal_plan(
        &self,
        credential: &CredentialRecord,
        renew_at: i64,
        ari_next_check: Option<i64>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE credentials SET renew_at = $1, ari_next_check = $2 WHERE id = $3")
            .bind(renew_at)
            .bind(ari_next_check)
            .bind(&credential.id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Set a credential's status, health and last error, with an event.
    pub async fn set_outcome(
        &self,
        credential: &CredentialRecord,
        outcome: &Outcome,
        event: (&str, &str),
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        update_credential(&mut tx, &credential.id, None, outcome, now()).await?;
        insert_event(
            &mut tx,
            Some((&credential.id, &credential.name)),
            event.0,
            event.1,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Append an event to a credential's log without changing it.
    pub async fn record_event(
        &self,
        credential: &CredentialRecord,
        kind: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        insert_event(
            &mut tx,
            Some((&credential.id, &credential.name)),
            kind,
            message,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The keys of one version (the current one if `version` is `None`).
    pub async fn key_versions(
        &self,
        credential: &CredentialRecord,
        version: Option<i64>,
    ) -> Result<Vec<KeyVersion>, StoreError> {
        let rows = sqlx::query(concat!(
            key_select!(),
            " WHERE credential_id = $1 AND version = $2 ORDER BY family"
        ))
        .bind(&credential.id)
        .bind(version.unwrap_or(credential.current_version))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(key_version_from_row).collect()
    }

    /// Every key of every version, newest first: the credential's history.
    pub async fn history(
        &self,
        credential: &CredentialRecord,
    ) -> Result<Vec<KeyVersion>, StoreError> {
        let rows = sqlx::query(concat!(
            key_select!(),
            " WHERE credential_id = $1 ORDER BY version DESC, family"
        ))
        .bind(&credential.id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(key_version_from_row).collect()
    }

    /// Decrypt the private key of a key version (PKCS#8 DER).
    pub fn unseal_key(&self, key: &KeyVersion) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        self.key.open(
            &key.sealed_key,
            &key_context(&key.credential_id, key.version, key.family),
        )
    }

    /// The event log of a credential, oldest first.
    pub async fn events(&self, credential: &CredentialRecord) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, kind, message, credential_name FROM events WHERE credential_id = $1 ORDER BY id",
        )
        .bind(&credential.id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Event {
                    at: row.try_get("at")?,
                    kind: row.try_get("kind")?,
                    message: row.try_get("message")?,
                    credential: row.try_get("credential_name")?,
                })
            })
            .collect()
    }

    // ----- MicroCAs ----------------------------------------------------------

    /// Store a new MicroCA (keys sealed).
    pub async fn create_ca(&self, new: &NewCa<'_>) -> Result<CaRecord, StoreError> {
        let id = new_id();
        let sealed_root = self.key.seal(new.root_key, &ca_context(&id, "root"))?;
        let (intermediate_der, sealed_intermediate) = match &new.intermediate {
            Some((der, key)) => (
                Some(der.clone()),
                Some(self.key.seal(key, &ca_context(&id, "intermediate"))?),
            ),
            None => (None, None),
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO cas (id, name, key_spec, root_der, sealed_root_key, intermediate_der, \
             sealed_intermediate_key, not_after, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(&new.name)
        .bind(new.key_spec.as_str())
        .bind(new.root_der.clone())
        .bind(sealed_root)
        .bind(intermediate_der)
        .bind(sealed_intermediate)
        .bind(new.not_after)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::on_unique(e, "CA", &new.name))?;
        insert_event(
            &mut tx,
            None,
            "ca-created",
            &format!("MicroCA {:?} created", new.name),
        )
        .await?;
        tx.commit().await?;
        self.ca(&new.name).await
    }

    /// The MicroCA named `name`.
    pub async fn ca(&self, name: &str) -> Result<CaRecord, StoreError> {
        let row = sqlx::query(concat!(ca_select!(), " WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "CA",
                name: name.to_owned(),
            })?;
        ca_from_row(&row)
    }

    /// Every MicroCA, by name.
    pub async fn list_cas(&self) -> Result<Vec<CaRecord>, StoreError> {
        let rows = sqlx::query(concat!(ca_select!(), " ORDER BY name"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(ca_from_row).collect()
    }

    /// The certificate (DER) and key (PKCS#8 DER) that sign leaves: the
    /// intermediate when the CA has one, otherwise the root.
    pub fn unseal_ca_issuer(
        &self,
        ca: &CaRecord,
    ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>), StoreError> {
        match (&ca.intermediate_der, &ca.sealed_intermediate_key) {
            (Some(der), Some(sealed)) => Ok((
                der.clone(),
                self.key.open(sealed, &ca_context(&ca.id, "intermediate"))?,
            )),
            _ => Ok((
                ca.root_der.clone(),
                self.key
                    .open(&ca.sealed_root_key, &ca_context(&ca.id, "root"))?,
            )),
        }
    }

    // ----- trust store -------------------------------------------------------

    /// Add a trusted certificate; returns `false` if it was already there.
    pub async fn add_trust_anchor(&self, anchor: &TrustAnchorRecord) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO trust_anchors (fingerprint, subject, der, is_root, not_after, added_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (fingerprint) DO NOTHING",
        )
        .bind(&anchor.fingerprint)
        .bind(&anchor.subject)
        .bind(anchor.der.clone())
        .bind(i64::from(anchor.is_root))
        .bind(anchor.not_after)
        .bind(now())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// Every imported trust anchor, by subject.
    pub async fn trust_anchors(&self) -> Result<Vec<TrustAnchorRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT fingerprint, subject, der, is_root, not_after, added_at FROM trust_anchors ORDER BY subject, fingerprint",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TrustAnchorRecord {
                    fingerprint: row.try_get("fingerprint")?,
                    subject: row.try_get("subject")?,
                    der: row.try_get("der")?,
                    is_root: row.try_get::<i64, _>("is_root")? != 0,
                    not_after: row.try_get("not_after")?,
                    added_at: row.try_get("added_at")?,
                })
            })
            .collect()
    }

    // ----- ACME accounts -----------------------------------------------------

    /// Store a new ACME account (credentials sealed).
    pub async fn create_acme_account(
        &self,
        new: &NewAcmeAccount<'_>,
    ) -> Result<AcmeAccountRecord, StoreError> {
        let id = new_id();
        let sealed = self.key.seal(new.credentials_json, &acme_context(&id))?;
        let contacts =
            serde_json::to_string(&new.contacts).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let at = now();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO acme_accounts (id, name, ca_id, directory_url, account_url, contacts, eab_kid, \
             sealed_credentials, ca_bundle_pem, status, profile, max_concurrent_orders, preferred_chain, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'valid', $10, $11, $12, $13, $13)",
        )
        .bind(&id)
        .bind(&new.name)
        .bind(new.ca_id.clone())
        .bind(&new.directory_url)
        .bind(&new.account_url)
        .bind(contacts)
        .bind(new.eab_kid.clone())
        .bind(sealed)
        .bind(new.ca_bundle_pem.clone())
        .bind(new.profile.clone())
        .bind(new.max_concurrent_orders.map(i64::from))
        .bind(new.preferred_chain.clone())
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::on_unique(e, "ACME account", &new.name))?;
        self.rows
            .stamp(&mut tx, &integrity::ACME_ACCOUNTS, &id)
            .await?;
        insert_event(
            &mut tx,
            None,
            "acme-account-created",
            &format!("ACME account {:?} created at {}", new.name, new.account_url),
        )
        .await?;
        tx.commit().await?;
        self.acme_account(&new.name).await
    }

    /// The ACME account named `name`.
    pub async fn acme_account(&self, name: &str) -> Result<AcmeAccountRecord, StoreError> {
        let row = sqlx::query(concat!(acme_select!(), " WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "ACME account",
                name: name.to_owned(),
            })?;
        self.acme_account_from_row(&row)
    }

    /// Every ACME account, by name.
    pub async fn list_acme_accounts(&self) -> Result<Vec<AcmeAccountRecord>, StoreError> {
        let rows = sqlx::query(concat!(acme_select!(), " ORDER BY name"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| self.acme_account_from_row(r)).collect()
    }

    /// Decrypt an account's credentials (JSON holding its private key).
    pub fn unseal_acme_credentials(
        &self,
        account: &AcmeAccountRecord,
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        self.key
            .open(&account.sealed_credentials, &acme_context(&account.id))
    }

    /// Replace an account's credentials (after a key rollover) and/or status.
    pub async fn update_acme_account(
        &self,
        account: &AcmeAccountRecord,
        credentials_json: Option<&[u8]>,
        status: &str,
        event: (&str, &str),
    ) -> Result<(), StoreError> {
        let sealed = match credentials_json {
            Some(json) => self.key.seal(json, &acme_context(&account.id))?,
            None => account.sealed_credentials.clone(),
        };
        let mut tx = self.begin_write().await?;
        self.rows
            .check_in(&mut tx, &integrity::ACME_ACCOUNTS, &account.id)
            .await?;
        sqlx::query(
            "UPDATE acme_accounts SET sealed_credentials = $1, status = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(sealed)
        .bind(status)
        .bind(now())
        .bind(&account.id)
        .execute(&mut *tx)
        .await?;
        self.rows
            .stamp(&mut tx, &integrity::ACME_ACCOUNTS, &account.id)
            .await?;
        insert_event(&mut tx, None, event.0, event.1).await?;
        tx.commit().await?;
        Ok(())
    }

    // ----- orders in flight and the issuance lease ------------------------------

    /// Give the lease back (only if `owner` still holds it).
    pub async fn release_lease(
        &self,
        credential: &CredentialRecord,
        owner: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE credentials SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2",
        )
        .bind(&credential.id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Seal a new key for an order about to be placed (before any network step).
    pub async fn save_pending_order(
        &self,
        credential: &CredentialRecord,
        spec: KeySpec,
        pkcs8_der: &[u8],
    ) -> Result<PendingOrder, StoreError> {
        let id = new_id();
        let sealed = self.key.seal(pkcs8_der, &order_context(&id))?;
        let at = now();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO acme_orders (id, credential_id, family, key_spec, sealed_key, order_url, created_at) \
             VALUES ($1, $2, $3, $4, $5, NULL, $6)",
        )
        .bind(&id)
        .bind(&credential.id)
        .bind(spec.family().as_str())
        .bind(spec.as_str())
        .bind(sealed.clone())
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            StoreError::on_unique(e, "order in flight for this key of", &credential.name)
        })?;
        self.rows
            .stamp(&mut tx, &integrity::ACME_ORDERS, &id)
            .await?;
        tx.commit().await?;
        Ok(PendingOrder {
            id,
            credential_id: credential.id.clone(),
            spec,
            order_url: None,
            created_at: at,
            sealed_key: sealed,
        })
    }

    /// Record the order URL the CA returned.
    pub async fn set_pending_order_url(
        &self,
        order: &PendingOrder,
        url: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        self.rows
            .check_in(&mut tx, &integrity::ACME_ORDERS, &order.id)
            .await?;
        sqlx::query("UPDATE acme_orders SET order_url = $1 WHERE id = $2")
            .bind(url)
            .bind(&order.id)
            .execute(&mut *tx)
            .await?;
        self.rows
            .stamp(&mut tx, &integrity::ACME_ORDERS, &order.id)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forget an order in flight (it failed or expired at the CA).
    pub async fn delete_pending_order(&self, order: &PendingOrder) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM acme_orders WHERE id = $1")
            .bind(&order.id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The orders in flight for a credential.
    pub async fn pending_orders(
        &self,
        credential: &CredentialRecord,
    ) -> Result<Vec<PendingOrder>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, credential_id, family, key_spec, sealed_key, order_url, created_at, mac \
             FROM acme_orders WHERE credential_id = $1 ORDER BY family",
        )
        .bind(&credential.id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                self.rows.check(&integrity::ACME_ORDERS, row)?;
                Ok(PendingOrder {
                    id: row.try_get("id")?,
                    credential_id: row.try_get("credential_id")?,
                    spec: parse_text::<KeySpec>(row, "key_spec")?,
                    order_url: row.try_get("order_url")?,
                    created_at: row.try_get("created_at")?,
                    sealed_key: row.try_get("sealed_key")?,
                })
            })
            .collect()
    }

    /// Decrypt the key of an order in flight.
    pub fn unseal_pending_key(
        &self,
        order: &PendingOrder,
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        self.key.open(&order.sealed_key, &order_context(&order.id))
    }

    // ----- challenge answers and servers ----------------------------------------

    /// Publish a challenge answer for the certmgr servers sharing this store.
    pub async fn publish_challenge(
        &self,
        kind: ChallengeKind,
        identifier: &str,
        token: &str,
        key_authorization: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM acme_challenges WHERE token = $1")
            .bind(token)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO acme_challenges (token, kind, identifier, key_authorization, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token)
        .bind(kind.as_str())
        .bind(identifier)
        .bind(key_authorization)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        self.rows
            .stamp(&mut tx, &integrity::ACME_CHALLENGES, token)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Withdraw a published challenge answer.
    pub async fn withdraw_challenge(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM acme_challenges WHERE token = $1")
            .bind(token)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The HTTP-01 key authorization published for `token` (an error if
    /// its row fails its integrity check: the server must not answer it).
    pub async fn http01_answer(&self, token: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT token, kind, identifier, key_authorization, created_at, mac FROM acme_challenges \
             WHERE token = $1 AND kind = 'http-01'",
        )
        .bind(token)
        .fetch_optional(&self.pool)
        .await?;
        self.challenge_answer(row)
    }

    /// The TLS-ALPN-01 key authorization published for `identifier` (newest
    /// first; an error if that row fails its integrity check).
    pub async fn tls_alpn01_answer(&self, identifier: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT token, kind, identifier, key_authorization, created_at, mac FROM acme_challenges \
             WHERE kind = 'tls-alpn-01' AND identifier = $1 ORDER BY created_at DESC LIMIT 1",
        )
        .bind(identifier)
        .fetch_optional(&self.pool)
        .await?;
        self.challenge_answer(row)
    }

    fn challenge_answer(&self, row: Option<AnyRow>) -> Result<Option<String>, StoreError> {
        row.map(|r| {
            self.rows.check(&integrity::ACME_CHALLENGES, &r)?;
            Ok(r.try_get("key_authorization")?)
        })
        .transpose()
    }

    /// Forget answers older than `max_age_secs` (left by killed processes).
    pub async fn expire_challenges(&self, max_age_secs: i64) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM acme_challenges WHERE created_at < $1")
                .bind(now() - max_age_secs)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Register a running server (or refresh its heartbeat).
    pub async fn register_server(&self, server: &ServerRecord) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM servers WHERE id = $1")
            .bind(&server.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO servers (id, host, pid, http_listen, https_listen, started_at, heartbeat_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&server.id)
        .bind(&server.host)
        .bind(server.pid)
        .bind(server.http_listen.clone())
        .bind(server.https_listen.clone())
        .bind(server.started_at)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Remove a server's registration (it is stopping).
    pub async fn unregister_server(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM servers WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Servers whose heartbeat is at most `max_age_secs` old.
    pub async fn live_servers(&self, max_age_secs: i64) -> Result<Vec<ServerRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, host, pid, http_listen, https_listen, started_at, heartbeat_at FROM servers \
             WHERE heartbeat_at >= $1 ORDER BY started_at",
        )
        .bind(now() - max_age_secs)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ServerRecord {
                    id: row.try_get("id")?,
                    host: row.try_get("host")?,
                    pid: row.try_get("pid")?,
                    http_listen: row.try_get("http_listen")?,
                    https_listen: row.try_get("https_listen")?,
                    started_at: row.try_get("started_at")?,
                    heartbeat_at: row.try_get("heartbeat_at")?,
                })
            })
            .collect()
    }

    // ----- integrity ---------------------------------------------------------

    /// A SHA-256 digest over every row of every table, in a fixed order.
    ///
    /// Two equal digests mean two equal stores: use it to check a backup or to
    /// prove that a refused operation changed nothing.
    pub async fn content_digest(&self) -> Result<String, StoreError> {
        let mut hasher = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        for (table, query) in DIGEST_QUERIES {
            hasher.update(table.as_bytes());
            let rows = sqlx::query(*query).fetch_all(&self.pool).await?;
            for row in rows {
                hasher.update(b"\x1erow");
                for index in 0..row.len() {
                    hasher.update(b"\x1f");
                    hash_value(&mut hasher, &row, index)?;
                }
            }
        }
        Ok(hex::encode(hasher.finish().as_ref()))
    }
}

/// Each table with a query listing all its columns in a stable order.
const DIGEST_QUERIES: &[(&str, &str)] = &[
    ("meta", "SELECT key, value FROM meta ORDER BY key"),
    (
        "credentials",
        "SELECT id, name, hostnames, key_specs, issuer, status, health, last_error, validity_days, \
         renew_before_days, challenge, profile, preferred_chain, dns_account, challenge_alias, renew_at, \
         ari_next_check, failure_count, next_attempt_at, \
         current_version, created_at, updated_at, mac FROM credentials ORDER BY id",
    ),
    (
        "credential_keys",
        "SELECT credential_id, version, family, key_spec, sealed_key, cert_der, chain_der, root_der, \
         serial, fingerprint, not_before, not_after, source, created_at FROM credential_keys \
         ORDER BY credential_id, version, family",
    ),
    (
        "events",
        "SELECT id, credential_id, credential_name, at, kind, message FROM events ORDER BY id",
    ),
    (
        "cas",
        "SELECT id, name, key_spec, root_der, sealed_root_key, intermediate_der, sealed_intermediate_key, \
         not_after, created_at FROM cas ORDER BY id",
    ),
    (
        "acme_accounts",
        "SELECT id, name, ca_id, directory_url, account_url, contacts, eab_kid, sealed_credentials, \
         ca_bundle_pem, status, profile, max_concurrent_orders, preferred_chain, created_at, updated_at, \
         mac FROM acme_accounts ORDER BY id",
    ),
    (
        "acme_orders",
        "SELECT id, credential_id, family, key_spec, sealed_key, order_url, created_at, mac \
         FROM acme_orders ORDER BY id",
    ),
    (
        "dns_accounts",
        "SELECT id, name, provider, zones, sealed_params, created_at, updated_at, mac FROM dns_accounts \
         ORDER BY id",
    ),
    (
        "txt_journal",
        "SELECT id, dns_account, zone, record_name, value, captures, state, owner, created_at, mac \
         FROM txt_journal ORDER BY id",
    ),
    (
        "dns_providers",
        "SELECT id, source, file_name, imported_at, mac FROM dns_providers ORDER BY id",
    ),
    (
        "trust_anchors",
        "SELECT fingerprint, subject, der, is_root, not_after, added_at FROM trust_anchors ORDER BY fingerprint",
    ),
];

fn hash_value(
    hasher: &mut aws_lc_rs::digest::Context,
    row: &AnyRow,
    index: usize,
) -> Result<(), StoreError> {
    if let Ok(value) = row.try_get::<Option<i64>, _>(index) {
        hasher.update(format!("i{value:?}").as_bytes());
    } else if let Ok(value) = row.try_get::<Option<String>, _>(index) {
        hasher.update(format!("s{value:?}").as_bytes());
    } else {
        let value: Option<Vec<u8>> = row.try_get(index)?;
        hasher.update(b"b");
        hasher.update(value.as_deref().unwrap_or(b"\0null"));
    }
    Ok(())
}

pub(super) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?} does not parse"))
}

fn parse_text<T: FromStr>(row: &AnyRow, column: &str) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    text.parse().map_err(|_| corrupt(column, &text))
}

fn days(value: Option<i64>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok())
}

fn key_version_from_row(row: &AnyRow) -> Result<KeyVersion, StoreError> {
    let spec = parse_text::<KeySpec>(row, "key_spec")?;
    let source: String = row.try_get("source")?;
    let cert_der: Option<Vec<u8>> = row.try_get("cert_der")?;
    let certificate = match cert_der {
        Some(cert_der) => Some(CertificateRecord {
            cert_der,
            chain_der: der::split(
                &row.try_get::<Option<Vec<u8>>, _>("chain_der")?
                    .unwrap_or_default(),
            )?,
            root_der: row.try_get("root_der")?,
            serial: row
                .try_get::<Option<String>, _>("serial")?
                .unwrap_or_default(),
            fingerprint: row
                .try_get::<Option<String>, _>("fingerprint")?
                .unwrap_or_default(),
            not_before: row
                .try_get::<Option<i64>, _>("not_before")?
                .unwrap_or_default(),
            not_after: row
                .try_get::<Option<i64>, _>("not_after")?
                .unwrap_or_default(),
        }),
        None => None,
    };
    Ok(KeyVersion {
        credential_id: row.try_get("credential_id")?,
        version: row.try_get("version")?,
        family: spec.family(),
        spec,
        certificate,
        source: VersionSource::parse(&source).ok_or_else(|| corrupt("source", &source))?,
        created_at: row.try_get("created_at")?,
        sealed_key: row.try_get("sealed_key")?,
    })
}

impl Store {
    fn acme_account_from_row(&self, row: &AnyRow) -> Result<AcmeAccountRecord, StoreError> {
        self.rows.check(&integrity::ACME_ACCOUNTS, row)?;
        let contacts: String = row.try_get("contacts")?;
        Ok(AcmeAccountRecord {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            ca_id: row.try_get("ca_id")?,
            directory_url: row.try_get("directory_url")?,
            account_url: row.try_get("account_url")?,
            contacts: serde_json::from_str(&contacts)
                .map_err(|_| corrupt("contacts", &contacts))?,
            eab_kid: row.try_get("eab_kid")?,
            ca_bundle_pem: row.try_get("ca_bundle_pem")?,
            status: row.try_get("status")?,
            profile: row.try_get("profile")?,
            max_concurrent_orders: days(row.try_get("max_concurrent_orders")?),
            preferred_chain: row.try_get("preferred_chain")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            sealed_credentials: row.try_get("sealed_credentials")?,
        })
    }
}

fn ca_from_row(row: &AnyRow) -> Result<CaRecord, StoreError> {
    Ok(CaRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        key_spec: parse_text::<KeySpec>(row, "key_spec")?,
        root_der: row.try_get("root_der")?,
        intermediate_der: row.try_get("intermediate_der")?,
        not_after: row.try_get("not_after")?,
        created_at: row.try_get("created_at")?,
        sealed_root_key: row.try_get("sealed_root_key")?,
        sealed_intermediate_key: row.try_get("sealed_intermediate_key")?,
    })
}

async fn update_credential(
    tx: &mut Tx<'_>,
    id: &str,
    version: Option<i64>,
    outcome: &Outcome,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE credentials SET current_version = COALESCE($1, current_version), status = $2, \
         health = $3, last_error = $4, updated_at = $5 WHERE id = $6",
    )
    .bind(version)
    .bind(outcome.status.as_str())
    .bind(outcome.health.as_str())
    .bind(outcome.last_error.clone())
    .bind(at)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_event(
    tx: &mut Tx<'_>,
    credential: Option<(&str, &str)>,
    kind: &str,
    message: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO events (id, credential_id, credential_name, at, kind, message) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(credential.map(|c| c.0.to_owned()))
    .bind(credential.map(|c| c.1.to_owned()))
    .bind(now())
    .bind(kind)
    .bind(message)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_credential(tx: &mut Tx<'_>, new: &NewCredential) -> Result<String, StoreError> {
    let id = new_id();
    let at = now();
    let hostnames =
        serde_json::to_string(&new.hostnames).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let key_specs =
        serde_json::to_string(&new.key_specs).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO credentials (id, name, hostnames, key_specs, issuer, status, health, \
         validity_days, renew_before_days, challenge, profile, preferred_chain, dns_account, \
         challenge_alias, current_version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 0, $15, $15)",
    )
    .bind(&id)
    .bind(&new.name)
    .bind(hostnames)
    .bind(key_specs)
    .bind(new.issuer.to_string())
    .bind(Status::Pending.as_str())
    .bind(Health::Ok.as_str())
    .bind(new.validity_days.map(i64::from))
    .bind(new.renew_before_days.map(i64::from))
    .bind(new.challenge.map(|c| c.as_str().to_owned()))
    .bind(new.profile.clone())
    .bind(new.preferred_chain.clone())
    .bind(new.dns_account.clone())
    .bind(new.challenge_alias.clone())
    .bind(at)
    .execute(&mut **tx)
    .await
    .map_err(|e| StoreError::on_unique(e, "credential", &new.name))?;
    let names: Vec<String> = new.hostnames.iter().map(ToString::to_string).collect();
    let specs: Vec<&str> = new.key_specs.iter().map(|k| k.as_str()).collect();
    insert_event(
        tx,
        Some((&id, &new.name)),
        "created",
        &format!(
            "created for {} with key {} from {}",
            names.join(", "),
            specs.join(" + "),
            new.issuer
        ),
    )
    .await?;
    Ok(id)
}
