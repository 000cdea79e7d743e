//! MicroCAs: a root (and optionally an intermediate) certmgr signs leaves
//! with, the keys sealed.

use certmgr_core::KeySpec;
use sqlx::Row;
use sqlx::any::AnyRow;
use zeroize::Zeroizing;

use super::{LogEntry, Store, fetch_named, new_id, now, parse_text};
use crate::StoreError;
use crate::model::{CaRecord, NewCa};

macro_rules! ca_select {
    () => {
        "SELECT id, name, key_spec, root_der, sealed_root_key, intermediate_der, \
    sealed_intermediate_key, not_after, created_at FROM cas"
    };
}

/// Associated data of a CA's sealed key (`which`: `root` or `intermediate`).
fn ca_context(ca_id: &str, which: &str) -> String {
    format!("cas/{ca_id}/{which}")
}

impl Store {
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
        let message = format!("MicroCA {:?} created", new.name);
        let mut tx = self
            .begin_logged(LogEntry::general("ca-created", &message))
            .await?;
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
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::on_unique(e, "CA", &new.name))?;
        tx.commit().await?;
        self.ca(&new.name).await
    }

    /// The MicroCA named `name`.
    pub async fn ca(&self, name: &str) -> Result<CaRecord, StoreError> {
        let query = sqlx::query(concat!(ca_select!(), " WHERE name = $1")).bind(name);
        fetch_named(&self.pool, query, ("CA", name), ca_from_row).await
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
