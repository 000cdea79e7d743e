//! Credentials and what hangs off them: their versions (one row per key per
//! version, with its certificate), their history and their event log. Every
//! change is one transaction that also appends to the credential's log.
//! (Reading and listing credential rows: `credential_rows`.)

use certmgr_core::{Health, KeyFamily, Status};
use sqlx::Row;
use sqlx::any::AnyRow;
use zeroize::Zeroizing;

use super::credential_rows::{self, CredentialColumns};
use super::integrity::CREDENTIALS;
use super::{LogEntry, Store, Tx, corrupt, fetch_named, insert_event, new_id, now, parse_text};
use crate::StoreError;
use crate::der;
use crate::model::{
    CertificateRecord, CredentialRecord, Event, KeyVersion, NewCredential, NewKeyVersion, Outcome,
    VersionSource,
};

macro_rules! key_select {
    () => {
        "SELECT credential_id, version, family, key_spec, sealed_key, cert_der, \
    chain_der, root_der, serial, fingerprint, not_before, not_after, source, created_at FROM credential_keys"
    };
}

/// Associated data of a sealed credential key: bound to its credential,
/// version and family.
fn key_context(credential_id: &str, version: i64, family: KeyFamily) -> String {
    format!("credential_keys/{credential_id}/{version}/{family}")
}

impl Store {
    /// Create a credential (status `pending`); the name must be new.
    pub async fn create_credential(
        &self,
        new: &NewCredential,
    ) -> Result<CredentialRecord, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = insert_credential(&mut tx, new).await?;
        self.rows.stamp(&mut tx, &CREDENTIALS, &id).await?;
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
        self.rows.stamp(&mut tx, &CREDENTIALS, &id).await?;
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
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(name);
        let columns = fetch_named(
            &self.pool,
            query,
            ("credential", name),
            CredentialColumns::from_row,
        )
        .await?;
        columns.check(&self.rows)?;
        columns.into_record()
    }

    /// Delete a credential with its versions (its events stay, for the record).
    /// A credential whose row fails its integrity check can be deleted too:
    /// deleting is how it is recreated.
    pub async fn delete_credential(&self, name: &str) -> Result<(), StoreError> {
        let query = sqlx::query("SELECT id FROM credentials WHERE name = $1").bind(name);
        let id: String = fetch_named(&self.pool, query, ("credential", name), |row| {
            Ok(row.try_get("id")?)
        })
        .await?;
        let entry = LogEntry::credential(
            &id,
            name,
            "deleted",
            "deleted with all its keys and certificates",
        );
        let mut tx = self.begin_logged(entry).await?;
        sqlx::query("DELETE FROM credential_keys WHERE credential_id = $1")
            .bind(&id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM credential_tags WHERE credential_id = $1")
            .bind(&id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM credentials WHERE id = $1")
            .bind(&id)
            .execute(&mut **tx)
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
        let query = sqlx::query("SELECT current_version FROM credentials WHERE id = $1")
            .bind(&credential.id);
        let current: i64 = fetch_named(&mut *tx, query, ("credential", &credential.name), |row| {
            Ok(row.try_get("current_version")?)
        })
        .await?;
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
        let entry = LogEntry::credential(credential_id, credential_name, event.0, event.1);
        insert_event(tx, &entry).await?;
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
        let entry = LogEntry::credential(&credential.id, &credential.name, event.0, event.1);
        let mut tx = self.begin_logged(entry).await?;
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
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if updated != 1 {
            return Err(StoreError::Conflict(format!(
                "credential {:?} has no {family} key waiting for a certificate",
                credential.name
            )));
        }
        update_credential(&mut tx, &credential.id, None, outcome, now()).await?;
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
        let logged =
            format!("{message} (attempt {failures}; next automatic attempt after {next_attempt})");
        let entry = LogEntry::credential(&credential.id, &credential.name, kind, &logged);
        let mut tx = self.begin_logged(entry).await?;
        sqlx::query(
            "UPDATE credentials SET failure_count = $1, next_attempt_at = $2 WHERE id = $3",
        )
        .bind(i64::from(failures))
        .bind(next_attempt)
        .bind(&credential.id)
        .execute(&mut **tx)
        .await?;
        let outcome = Outcome {
            status: Status::Failed,
            health: Health::Error,
            last_error: Some(message.to_owned()),
        };
        update_credential(&mut tx, &credential.id, None, &outcome, now()).await?;
        tx.commit().await?;
        Ok(next_attempt)
    }

    /// Set a credential's status, health and last error, with an event.
    pub async fn set_outcome(
        &self,
        credential: &CredentialRecord,
        outcome: &Outcome,
        event: (&str, &str),
    ) -> Result<(), StoreError> {
        let entry = LogEntry::credential(&credential.id, &credential.name, event.0, event.1);
        let mut tx = self.begin_logged(entry).await?;
        update_credential(&mut tx, &credential.id, None, outcome, now()).await?;
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
        let entry = LogEntry::credential(&credential.id, &credential.name, kind, message);
        let tx = self.begin_logged(entry).await?;
        tx.commit().await
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
}

fn key_version_from_row(row: &AnyRow) -> Result<KeyVersion, StoreError> {
    let spec = parse_text::<certmgr_core::KeySpec>(row, "key_spec")?;
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

/// Set the outcome (and, with `version`, the current version) of the
/// credential `id` inside `tx`, and recompute its due time: the last write
/// of every change to a credential's status, certificates or backoff.
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
    // The status, the certificates, the plan or the backoff changed.
    Store::refresh_due(tx, id).await
}

/// Insert a new credential row and its `created` event inside `tx`; returns
/// its id (the caller stamps the row).
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
    Store::refresh_due(tx, &id).await?;
    let names: Vec<String> = new.hostnames.iter().map(ToString::to_string).collect();
    let specs: Vec<&str> = new.key_specs.iter().map(|k| k.as_str()).collect();
    let message = format!(
        "created for {} with key {} from {}",
        names.join(", "),
        specs.join(" + "),
        new.issuer
    );
    insert_event(
        tx,
        &LogEntry::credential(&id, &new.name, "created", &message),
    )
    .await?;
    Ok(id)
}
