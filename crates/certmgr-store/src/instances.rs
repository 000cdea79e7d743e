//! The certmgr processes at work on a store, so that leases and journal
//! entries have an owner whose liveness is known.
//!
//! Each process that takes an issuance lease or journals a TXT record
//! registers a row with a random id and keeps `alive_until` in the future
//! with a heartbeat. A lease or journal entry whose owner has no live row
//! belongs to a dead process. Deciding by time rather than by a process
//! table is what keeps two containers with the same host name (and separate
//! PID namespaces) from each declaring the other's live work dead.

use std::collections::HashSet;

use sqlx::Row;

use super::{Store, now};
use crate::StoreError;
use crate::model::CredentialRecord;

/// A registered certmgr process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRecord {
    /// Random id (UUID v7), the owner written into leases and the journal.
    pub id: String,
    /// Host name, for messages.
    pub host: String,
    /// Process id on that host, for messages.
    pub pid: i64,
    /// Unix seconds when it registered.
    pub started_at: i64,
    /// Unix seconds until which it counts as alive without another heartbeat.
    pub alive_until: i64,
}

impl Store {
    /// Register this process as `id`, alive for `ttl_secs`.
    pub async fn register_instance(
        &self,
        id: &str,
        host: &str,
        pid: i64,
        ttl_secs: i64,
    ) -> Result<(), StoreError> {
        let at = now();
        sqlx::query(
            "INSERT INTO instances (id, host, pid, started_at, alive_until) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(host)
        .bind(pid)
        .bind(at)
        .bind(at + ttl_secs)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Extend `id`'s life by `ttl_secs` from now. Returns `false` when its
    /// row is gone (another process found it expired and removed it): the
    /// caller then holds nothing any more and must register again.
    pub async fn beat_instance(&self, id: &str, ttl_secs: i64) -> Result<bool, StoreError> {
        let updated = sqlx::query("UPDATE instances SET alive_until = $1 WHERE id = $2")
            .bind(now() + ttl_secs)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(updated == 1)
    }

    /// Unregister `id` at a clean exit, giving back the leases it still holds,
    /// and forget instances that expired long ago (`grace_secs`).
    pub async fn retire_instance(&self, id: &str, grace_secs: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE credentials SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM instances WHERE id = $1 OR alive_until < $2")
            .bind(id)
            .bind(now() - grace_secs)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The ids of the instances alive now.
    pub async fn live_instances(&self) -> Result<HashSet<String>, StoreError> {
        let rows = sqlx::query("SELECT id FROM instances WHERE alive_until >= $1")
            .bind(now())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| row.try_get::<String, _>("id").map_err(StoreError::from))
            .collect()
    }

    /// One instance, alive or not, if it is still registered.
    pub async fn instance(&self, id: &str) -> Result<Option<InstanceRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, host, pid, started_at, alive_until FROM instances WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(InstanceRecord {
                id: row.try_get("id")?,
                host: row.try_get("host")?,
                pid: row.try_get("pid")?,
                started_at: row.try_get("started_at")?,
                alive_until: row.try_get("alive_until")?,
            })
        })
        .transpose()
    }

    /// Take the credential's issuance lease for the instance `owner`, for at
    /// most `max_secs`. It is free when nobody holds it, when `owner` does,
    /// when it ran past its `max_secs`, or when its holder is no live
    /// instance (a process that died, on this host or any other). Returns
    /// `None` when taken, else the live holder's id.
    pub async fn take_lease(
        &self,
        credential: &CredentialRecord,
        owner: &str,
        max_secs: i64,
    ) -> Result<Option<String>, StoreError> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let taken = sqlx::query(
            "UPDATE credentials SET lease_owner = $1, lease_until = $2 WHERE id = $3 AND \
             (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $4 OR NOT EXISTS \
             (SELECT 1 FROM instances i WHERE i.id = credentials.lease_owner AND i.alive_until >= $4))",
        )
        .bind(owner)
        .bind(at + max_secs)
        .bind(&credential.id)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let holder = if taken == 1 {
            None
        } else {
            sqlx::query("SELECT lease_owner FROM credentials WHERE id = $1")
                .bind(&credential.id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|row| row.try_get::<Option<String>, _>("lease_owner"))
                .transpose()?
                .flatten()
        };
        tx.commit().await?;
        Ok(holder)
    }
}
