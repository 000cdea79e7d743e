//! Tags on credentials (`team=web`): what a user's or token's scope
//! selects. One value per key; rows authenticated like the others that
//! decide access, so a tag added or changed with SQL is refused.

use std::collections::BTreeMap;

use sqlx::Row;

use super::integrity::CREDENTIAL_TAGS;
use super::{LogEntry, Store};
use crate::StoreError;
use crate::model::CredentialRecord;

impl Store {
    /// Set the tag `key` of the credential to `value` (replacing its value).
    pub async fn set_tag(
        &self,
        credential: &CredentialRecord,
        key: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        let id = tag_id(&credential.id, key);
        let message = format!("tagged {key}={value}");
        let entry = LogEntry::credential(&credential.id, &credential.name, "tagged", &message);
        let mut tx = self.begin_logged(entry).await?;
        sqlx::query("DELETE FROM credential_tags WHERE id = $1")
            .bind(&id)
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "INSERT INTO credential_tags (id, credential_id, tag_key, tag_value) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(&credential.id)
        .bind(key)
        .bind(value)
        .execute(&mut **tx)
        .await?;
        self.rows.stamp(&mut tx, &CREDENTIAL_TAGS, &id).await?;
        tx.commit().await
    }

    /// Remove the tag `key` of the credential; `false` if it had none.
    pub async fn remove_tag(
        &self,
        credential: &CredentialRecord,
        key: &str,
    ) -> Result<bool, StoreError> {
        let message = format!("untagged {key}");
        let entry = LogEntry::credential(&credential.id, &credential.name, "untagged", &message);
        let mut tx = self.begin_logged(entry).await?;
        let removed = sqlx::query("DELETE FROM credential_tags WHERE id = $1")
            .bind(tag_id(&credential.id, key))
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if removed == 0 {
            // Nothing changed: nothing to log.
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The credential's tags, each row checked.
    pub async fn tags(
        &self,
        credential: &CredentialRecord,
    ) -> Result<BTreeMap<String, String>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, credential_id, tag_key, tag_value, mac FROM credential_tags \
             WHERE credential_id = $1 ORDER BY tag_key",
        )
        .bind(&credential.id)
        .fetch_all(&self.pool)
        .await?;
        let mut tags = BTreeMap::new();
        for row in &rows {
            self.rows.check(&CREDENTIAL_TAGS, row)?;
            tags.insert(row.try_get("tag_key")?, row.try_get("tag_value")?);
        }
        Ok(tags)
    }

    /// The ids of the credentials tagged `key=value`, each row checked.
    pub async fn tagged(
        &self,
        key: &str,
        value: &str,
    ) -> Result<std::collections::BTreeSet<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, credential_id, tag_key, tag_value, mac FROM credential_tags \
             WHERE tag_key = $1 AND tag_value = $2",
        )
        .bind(key)
        .bind(value)
        .fetch_all(&self.pool)
        .await?;
        let mut ids = std::collections::BTreeSet::new();
        for row in &rows {
            self.rows.check(&CREDENTIAL_TAGS, row)?;
            ids.insert(row.try_get("credential_id")?);
        }
        Ok(ids)
    }
}

/// A tag row's id: one row per credential and key.
fn tag_id(credential_id: &str, key: &str) -> String {
    format!("{credential_id}/{key}")
}
