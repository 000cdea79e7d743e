//! What an issuance in progress keeps in the store: the credential's
//! issuance lease (one process at a time), the orders in flight with their
//! new keys (sealed before any network step) and the challenge answers the
//! certmgr servers sharing the store give (authenticated rows).

use certmgr_core::{ChallengeKind, KeySpec};
use sqlx::Row;
use sqlx::any::AnyRow;
use zeroize::Zeroizing;

use super::integrity::{ACME_CHALLENGES, ACME_ORDERS};
use super::{Store, new_id, now, parse_text};
use crate::StoreError;
use crate::model::{CredentialRecord, PendingOrder};

/// Associated data of an order's sealed key.
fn order_context(order_id: &str) -> String {
    format!("acme_orders/{order_id}/key")
}

impl Store {
    // ----- the issuance lease ------------------------------------------------

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

    // ----- orders in flight --------------------------------------------------

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
        self.rows.stamp(&mut tx, &ACME_ORDERS, &id).await?;
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
        self.rows.check_in(&mut tx, &ACME_ORDERS, &order.id).await?;
        sqlx::query("UPDATE acme_orders SET order_url = $1 WHERE id = $2")
            .bind(url)
            .bind(&order.id)
            .execute(&mut *tx)
            .await?;
        self.rows.stamp(&mut tx, &ACME_ORDERS, &order.id).await?;
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
                self.rows.check(&ACME_ORDERS, row)?;
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

    // ----- challenge answers -------------------------------------------------

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
        self.rows.stamp(&mut tx, &ACME_CHALLENGES, token).await?;
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
            self.rows.check(&ACME_CHALLENGES, &r)?;
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
}
