//! Browser sessions: a cookie's secret (stored as its SHA-256) standing for
//! a principal — a local user, or one signed in through OpenID Connect —
//! with the role and scope granted at sign-in, until an absolute expiry.
//! The deciding columns are authenticated ([`super::integrity`]) like the
//! tokens': a row planted with SQL grants nothing.

use certmgr_core::Role;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::access::{role_of, scope_of};
use super::integrity::SESSIONS;
use super::{Store, new_id, now};
use crate::StoreError;
use crate::store::access::TagScope;

/// A session as stored (its secret is only in the browser's cookie).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Stable id.
    pub id: String,
    /// `user:NAME` or `oidc:NAME`, as the audit log records it.
    pub principal: String,
    /// The role granted at sign-in.
    pub role: Role,
    /// The tag scope granted at sign-in, if any.
    pub scope: Option<TagScope>,
    /// Unix seconds.
    pub created_at: i64,
    /// When it stops working (Unix seconds).
    pub expires_at: i64,
}

/// A session to store.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// `user:NAME` or `oidc:NAME`.
    pub principal: &'a str,
    /// The role granted.
    pub role: Role,
    /// The tag scope granted, if any.
    pub scope: Option<&'a TagScope>,
    /// When it stops working (Unix seconds).
    pub expires_at: i64,
}

const COLUMNS: &str =
    "id, secret_hash, principal, role, scope_key, scope_value, created_at, expires_at, mac";

impl Store {
    /// Store a session whose cookie secret hashes to `secret_hash`.
    pub async fn create_session(
        &self,
        new: &NewSession<'_>,
        secret_hash: &str,
    ) -> Result<SessionRecord, StoreError> {
        let id = new_id();
        let mut tx = self.begin_write().await?;
        // Sessions that ended are dropped as new ones begin.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (id, secret_hash, principal, role, scope_key, scope_value, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(secret_hash)
        .bind(new.principal)
        .bind(new.role.as_str())
        .bind(new.scope.map(|s| s.key.clone()))
        .bind(new.scope.map(|s| s.value.clone()))
        .bind(now())
        .bind(new.expires_at)
        .execute(&mut *tx)
        .await?;
        self.rows.stamp(&mut tx, &SESSIONS, &id).await?;
        tx.commit().await?;
        self.session_by_secret_hash(secret_hash)
            .await?
            .ok_or_else(|| StoreError::Conflict("the new session vanished".into()))
    }

    /// The session whose secret hashes to `secret_hash`, if any (its row
    /// checked; expiry is the caller's to judge, on its clock).
    pub async fn session_by_secret_hash(
        &self,
        secret_hash: &str,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM sessions WHERE secret_hash = $1"
        )))
        .bind(secret_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(|row| self.session_from_row(row))
            .transpose()
    }

    /// End a session (signing out).
    pub async fn delete_session(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    fn session_from_row(&self, row: &AnyRow) -> Result<SessionRecord, StoreError> {
        self.rows.check(&SESSIONS, row)?;
        Ok(SessionRecord {
            id: row.try_get("id")?,
            principal: row.try_get("principal")?,
            role: role_of(row)?,
            scope: scope_of(row)?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
        })
    }
}
