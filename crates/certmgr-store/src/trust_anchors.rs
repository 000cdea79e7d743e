//! The trust store: certificates imported as trusted (roots and
//! intermediates), kept by fingerprint.

use sqlx::Row;

use super::{Store, now};
use crate::StoreError;
use crate::model::TrustAnchorRecord;

impl Store {
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
}
