//! Users and API tokens: who may use the manager, with which role, over
//! which credentials (an optional tag scope), and until when. Both tables'
//! deciding columns are authenticated ([`super::integrity`]): a row planted
//! or changed with SQL is refused, never honoured.

use certmgr_core::Role;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::integrity::{API_TOKENS, USERS};
use super::{Store, corrupt, fetch_named, new_id, not_found, now};
use crate::StoreError;

/// Credentials carrying this tag: what a scoped role applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagScope {
    /// The tag's key, e.g. `team`.
    pub key: String,
    /// The tag's value, e.g. `web`.
    pub value: String,
}

/// A user, as stored (the password hash stays in the store).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserRecord {
    /// Stable id.
    pub id: String,
    /// Unique login name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// Only over credentials with this tag, if set.
    pub scope: Option<TagScope>,
    /// Whether the user signs in with a local password (else single sign-on only).
    pub has_password: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// When the user was disabled, if so.
    pub disabled_at: Option<i64>,
    #[serde(skip)]
    pub(crate) password_hash: Option<String>,
}

impl UserRecord {
    /// The argon2id hash of the user's password, to check a sign-in against.
    pub fn password_hash(&self) -> Option<&str> {
        self.password_hash.as_deref()
    }
}

/// An API token, as stored: never its secret, only the secret's hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenRecord {
    /// Stable id.
    pub id: String,
    /// Unique name (what it is for: `deploy-web`).
    pub name: String,
    /// What the token may do.
    pub role: Role,
    /// Only over credentials with this tag, if set.
    pub scope: Option<TagScope>,
    /// Unix seconds.
    pub created_at: i64,
    /// When it stops working, if ever.
    pub expires_at: Option<i64>,
    /// When it was revoked, if so.
    pub revoked_at: Option<i64>,
    /// When it was last used, if ever.
    pub last_used_at: Option<i64>,
}

/// A user or token to store.
#[derive(Debug, Clone)]
pub struct NewPrincipal<'a> {
    /// The unique name.
    pub name: &'a str,
    /// The role.
    pub role: Role,
    /// The tag scope, if any.
    pub scope: Option<&'a TagScope>,
}

const USER_COLUMNS: &str =
    "id, name, password_hash, role, scope_key, scope_value, created_at, disabled_at, mac";
const TOKEN_COLUMNS: &str = "id, name, secret_hash, role, scope_key, scope_value, created_at, \
     expires_at, revoked_at, last_used_at, mac";

impl Store {
    /// Add a user with an argon2id password hash (`None`: single sign-on only).
    pub async fn create_user(
        &self,
        new: &NewPrincipal<'_>,
        password_hash: Option<&str>,
    ) -> Result<UserRecord, StoreError> {
        let id = new_id();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO users (id, name, password_hash, role, scope_key, scope_value, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(new.name)
        .bind(password_hash.map(str::to_owned))
        .bind(new.role.as_str())
        .bind(new.scope.map(|s| s.key.clone()))
        .bind(new.scope.map(|s| s.value.clone()))
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::on_unique(e, "user", new.name))?;
        self.rows.stamp(&mut tx, &USERS, &id).await?;
        tx.commit().await?;
        self.user(new.name).await
    }

    /// The user with this name.
    pub async fn user(&self, name: &str) -> Result<UserRecord, StoreError> {
        fetch_named(
            &self.pool,
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users WHERE name = $1"
            )))
            .bind(name),
            ("user", name),
            |row| self.user_from_row(row),
        )
        .await
    }

    /// Every user, by name.
    pub async fn list_users(&self) -> Result<Vec<UserRecord>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY name"
        )))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| self.user_from_row(row))
        .collect()
    }

    /// Store a token whose secret hashes to `secret_hash`.
    pub async fn create_token(
        &self,
        new: &NewPrincipal<'_>,
        secret_hash: &str,
        expires_at: Option<i64>,
    ) -> Result<TokenRecord, StoreError> {
        let id = new_id();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, name, secret_hash, role, scope_key, scope_value, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(new.name)
        .bind(secret_hash)
        .bind(new.role.as_str())
        .bind(new.scope.map(|s| s.key.clone()))
        .bind(new.scope.map(|s| s.value.clone()))
        .bind(now())
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::on_unique(e, "API token", new.name))?;
        self.rows.stamp(&mut tx, &API_TOKENS, &id).await?;
        tx.commit().await?;
        self.token(new.name).await
    }

    /// The token with this name.
    pub async fn token(&self, name: &str) -> Result<TokenRecord, StoreError> {
        fetch_named(
            &self.pool,
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE name = $1"
            )))
            .bind(name),
            ("API token", name),
            |row| self.token_from_row(row),
        )
        .await
    }

    /// The token whose secret hashes to `secret_hash`, if any (its row checked).
    pub async fn token_by_secret_hash(
        &self,
        secret_hash: &str,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = $1"
        )))
        .bind(secret_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(|row| self.token_from_row(row)).transpose()
    }

    /// Every token, by name.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY name"
        )))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| self.token_from_row(row))
        .collect()
    }

    /// Revoke the token `name` (it stays listed, refused from now on).
    pub async fn revoke_token(&self, name: &str) -> Result<TokenRecord, StoreError> {
        let token = self.token(name).await?;
        if token.revoked_at.is_some() {
            return Err(StoreError::Conflict(format!(
                "API token {name:?} is already revoked"
            )));
        }
        let mut tx = self.begin_write().await?;
        if !self.rows.check_in(&mut tx, &API_TOKENS, &token.id).await? {
            return Err(not_found("API token", name));
        }
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(now())
            .bind(&token.id)
            .execute(&mut *tx)
            .await?;
        self.rows.stamp(&mut tx, &API_TOKENS, &token.id).await?;
        tx.commit().await?;
        self.token(name).await
    }

    /// Note that the token was used now.
    pub async fn touch_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now())
            .bind(&token.id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    fn user_from_row(&self, row: &AnyRow) -> Result<UserRecord, StoreError> {
        self.rows.check(&USERS, row)?;
        let password_hash: Option<String> = row.try_get("password_hash")?;
        Ok(UserRecord {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            role: role_of(row)?,
            scope: scope_of(row)?,
            has_password: password_hash.is_some(),
            created_at: row.try_get("created_at")?,
            disabled_at: row.try_get("disabled_at")?,
            password_hash,
        })
    }

    fn token_from_row(&self, row: &AnyRow) -> Result<TokenRecord, StoreError> {
        self.rows.check(&API_TOKENS, row)?;
        Ok(TokenRecord {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            role: role_of(row)?,
            scope: scope_of(row)?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            revoked_at: row.try_get("revoked_at")?,
            last_used_at: row.try_get("last_used_at")?,
        })
    }
}

pub(super) fn role_of(row: &AnyRow) -> Result<Role, StoreError> {
    let role: String = row.try_get("role")?;
    role.parse().map_err(|_| corrupt("role", &role))
}

pub(super) fn scope_of(row: &AnyRow) -> Result<Option<TagScope>, StoreError> {
    let key: Option<String> = row.try_get("scope_key")?;
    let value: Option<String> = row.try_get("scope_value")?;
    Ok(match (key, value) {
        (Some(key), Some(value)) => Some(TagScope { key, value }),
        _ => None,
    })
}
