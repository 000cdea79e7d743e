//! The certmgr processes at work on a store, so that leases and journal
//! entries have an owner whose liveness is known; and the running `certmgr
//! server`s, so that other processes can let them answer challenges.
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
use crate::model::ServerRecord;

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

    // ----- servers -----------------------------------------------------------

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
}
