//! The renewal due index: `credentials.due_at`, from when the renewal
//! planner must look at a credential, so that a scheduler pass reads the
//! few credentials that may be due (a range scan of
//! `credentials_by_due_at`) instead of planning every one.
//!
//! The due time is derived data, computed here from the credential's row
//! alone ([`due_time`]): its issuer and status, its backoff, its recorded
//! renewal plan (`renew_at`, `ari_next_check`) and the earliest expiry of
//! its current certificates. Every write that changes one of those
//! recomputes it in its own transaction (`Store::refresh_due`); rows of a
//! store from before the index get theirs on the first open
//! (`Store::backfill_due`).
//!
//! It is never trusted to say that a credential *is* due: the planner
//! decides about every credential it selects from its inputs, so a due time
//! that is too early costs one look. A due time that is too late (a row
//! changed with SQL) would hide a credential from the scheduler's passes;
//! the planner's full pass compares every row's due time with
//! [`CredentialRecord::expected_due_at`] and repairs it
//! (`docs/architecture.md`, "Renewal due index").

use certmgr_core::{IssuerRef, Status};
use sqlx::Row;

use super::credential_rows::NOT_AFTER;
use super::{Store, Tx};
use crate::StoreError;
use crate::model::{CredentialRecord, PlannedRenewal};

/// How many credentials' plans [`Store::record_plans`] writes per
/// transaction.
const PLANS_PER_TRANSACTION: usize = 500;

/// The due time of a credential that is to be looked at now, whatever the
/// time (never issued, an order cut short, a failure without backoff, a
/// renewal not planned yet).
const DUE_AT_ONCE: i64 = 0;

/// What a credential's due time is computed from.
#[derive(Debug, Clone, Copy)]
struct DueInputs<'a> {
    issuer: &'a IssuerRef,
    status: Status,
    renew_at: Option<i64>,
    ari_next_check: Option<i64>,
    next_attempt_at: Option<i64>,
    not_after: Option<i64>,
}

/// From when the renewal planner must look at a credential (`None`: never
/// by itself). The planner finds a credential due only at or after it; the
/// reverse does not hold (an ACME credential is looked at when its CA's
/// renewal information is to be asked again, and may stay not due).
///
/// - issued outside certmgr (`manual`, `import`), or revoked: never;
/// - pending or issuing: at once;
/// - failed: when its backoff ends (at once without one);
/// - valid, renewal-due or expired: at once without a certificate or a
///   recorded renewal time (the planner records one); else the earlier of
///   the renewal time and the expiry, and for an ACME credential also the
///   next renewal-information check (at once if it was never asked).
fn due_time(inputs: DueInputs<'_>) -> Option<i64> {
    let acme = match inputs.issuer {
        IssuerRef::Acme(_) => true,
        IssuerRef::MicroCa(_) => false,
        IssuerRef::Manual | IssuerRef::Import => return None,
    };
    match inputs.status {
        Status::Revoked => None,
        Status::Pending | Status::Issuing => Some(DUE_AT_ONCE),
        Status::Failed => Some(inputs.next_attempt_at.unwrap_or(DUE_AT_ONCE)),
        Status::Valid | Status::RenewalDue | Status::Expired => {
            let (Some(not_after), Some(renew_at)) = (inputs.not_after, inputs.renew_at) else {
                return Some(DUE_AT_ONCE);
            };
            let planned = renew_at.min(not_after);
            Some(if acme {
                planned.min(inputs.ari_next_check.unwrap_or(DUE_AT_ONCE))
            } else {
                planned
            })
        }
    }
}

impl CredentialRecord {
    /// The due time this credential's fields call for (what every write
    /// stores in [`CredentialRecord::due_at`]). A stored due time later
    /// than this one hides the credential from the due index: see
    /// [`CredentialRecord::due_index_behind`].
    pub fn expected_due_at(&self) -> Option<i64> {
        due_time(DueInputs {
            issuer: &self.issuer,
            status: self.status,
            renew_at: self.renew_at,
            ari_next_check: self.ari_next_check,
            next_attempt_at: self.next_attempt_at,
            not_after: self.not_after,
        })
    }

    /// Whether the stored due time is later than [`Self::expected_due_at`]
    /// (`None` counting as never): the due index would select the
    /// credential too late, or never. Not something certmgr writes: the
    /// row was changed behind its back.
    pub fn due_index_behind(&self) -> bool {
        match (self.due_at, self.expected_due_at()) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(stored), Some(expected)) => stored > expected,
        }
    }
}

/// `SELECT` of what the due time of one credential (`$1`) is computed from.
fn inputs_sql() -> String {
    format!(
        "SELECT c.id, c.issuer, c.status, c.renew_at, c.ari_next_check, c.next_attempt_at, \
         {NOT_AFTER} AS not_after FROM credentials c"
    )
}

/// The due time of a row read with [`inputs_sql`]. A row whose issuer or
/// status does not parse is looked at at once (the planner then reports it).
fn due_time_of(row: &sqlx::any::AnyRow) -> Result<Option<i64>, StoreError> {
    let issuer: String = row.try_get("issuer")?;
    let status: String = row.try_get("status")?;
    let (Ok(issuer), Ok(status)) = (issuer.parse::<IssuerRef>(), status.parse::<Status>()) else {
        return Ok(Some(DUE_AT_ONCE));
    };
    Ok(due_time(DueInputs {
        issuer: &issuer,
        status,
        renew_at: row.try_get("renew_at")?,
        ari_next_check: row.try_get("ari_next_check")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        not_after: row.try_get("not_after")?,
    }))
}

impl Store {
    /// Recompute the due time of the credential `id` from what `tx` sees
    /// (call last in every write that changes what it is computed from).
    pub(super) async fn refresh_due(tx: &mut Tx<'_>, id: &str) -> Result<(), StoreError> {
        let sql = format!("{} WHERE c.id = $1", inputs_sql());
        // Built from constants; the id is bound.
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(row) = row else {
            return Ok(());
        };
        sqlx::query("UPDATE credentials SET due_at = $1 WHERE id = $2")
            .bind(due_time_of(&row)?)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Record what a renewal run planned: each newly planned renewal time
    /// (and next renewal-information check), only while the credential's
    /// current version is still the one it was planned for, and each
    /// credential's due time recomputed. In transactions of at most 500
    /// credentials, so that a run that planned many does not hold the
    /// write lock for long.
    pub async fn record_plans(&self, planned: &[PlannedRenewal<'_>]) -> Result<(), StoreError> {
        for chunk in planned.chunks(PLANS_PER_TRANSACTION) {
            let mut tx = self.begin_write().await?;
            for one in chunk {
                let id = &one.credential.id;
                if let Some((renew_at, ari_next_check)) = one.plan {
                    sqlx::query(
                        "UPDATE credentials SET renew_at = $1, ari_next_check = $2 \
                         WHERE id = $3 AND current_version = $4",
                    )
                    .bind(renew_at)
                    .bind(ari_next_check)
                    .bind(id)
                    .bind(one.credential.current_version)
                    .execute(&mut *tx)
                    .await?;
                }
                Store::refresh_due(&mut tx, id).await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// Compute the due time of every credential, once, for a store from
    /// before the due index (its migration leaves the `due_at_backfill`
    /// entry in `meta`): one transaction, which also removes the entry.
    /// A row another process wrote meanwhile (it has a due time already)
    /// is left as that process computed it.
    pub(super) async fn backfill_due(&self) -> Result<(), StoreError> {
        let pending = sqlx::query("SELECT key FROM meta WHERE key = 'due_at_backfill'")
            .fetch_optional(&self.pool)
            .await?;
        if pending.is_none() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query("DELETE FROM meta WHERE key = 'due_at_backfill'")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if removed == 0 {
            // Another process did it meanwhile.
            tx.rollback().await?;
            return Ok(());
        }
        let sql = format!("{} WHERE c.due_at IS NULL", inputs_sql());
        // Built from constants.
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *tx)
            .await?;
        for row in rows {
            let Some(due_at) = due_time_of(&row)? else {
                continue;
            };
            let id: String = row.try_get("id")?;
            sqlx::query("UPDATE credentials SET due_at = $1 WHERE id = $2 AND due_at IS NULL")
                .bind(due_at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_800_000_000;

    fn inputs(issuer: &IssuerRef, status: Status) -> DueInputs<'_> {
        DueInputs {
            issuer,
            status,
            renew_at: Some(T + 100),
            ari_next_check: Some(T + 50),
            next_attempt_at: Some(T + 10),
            not_after: Some(T + 200),
        }
    }

    #[test]
    fn outside_certmgr_and_revoked_are_never_due_by_themselves() {
        for issuer in [IssuerRef::Manual, IssuerRef::Import] {
            for status in [Status::Pending, Status::Valid, Status::Failed] {
                assert_eq!(due_time(inputs(&issuer, status)), None);
            }
        }
        let ca = IssuerRef::MicroCa("lab".into());
        assert_eq!(due_time(inputs(&ca, Status::Revoked)), None);
    }

    #[test]
    fn new_cut_short_and_failed_credentials() {
        let ca = IssuerRef::MicroCa("lab".into());
        assert_eq!(due_time(inputs(&ca, Status::Pending)), Some(DUE_AT_ONCE));
        assert_eq!(due_time(inputs(&ca, Status::Issuing)), Some(DUE_AT_ONCE));
        assert_eq!(due_time(inputs(&ca, Status::Failed)), Some(T + 10));
        let mut no_backoff = inputs(&ca, Status::Failed);
        no_backoff.next_attempt_at = None;
        assert_eq!(due_time(no_backoff), Some(DUE_AT_ONCE));
    }

    #[test]
    fn the_plan_or_the_expiry_whichever_comes_first() {
        let ca = IssuerRef::MicroCa("lab".into());
        for status in [Status::Valid, Status::RenewalDue, Status::Expired] {
            // MicroCA: the ARI check does not count.
            assert_eq!(due_time(inputs(&ca, status)), Some(T + 100));
        }
        let mut late_plan = inputs(&ca, Status::Valid);
        late_plan.renew_at = Some(T + 500);
        assert_eq!(due_time(late_plan), Some(T + 200));
        let mut unplanned = inputs(&ca, Status::Valid);
        unplanned.renew_at = None;
        assert_eq!(due_time(unplanned), Some(DUE_AT_ONCE));
        let mut no_certificate = inputs(&ca, Status::Valid);
        no_certificate.not_after = None;
        assert_eq!(due_time(no_certificate), Some(DUE_AT_ONCE));
    }

    #[test]
    fn acme_credentials_are_looked_at_when_the_ca_is_to_be_asked_again() {
        let acme = IssuerRef::Acme("le".into());
        assert_eq!(due_time(inputs(&acme, Status::Valid)), Some(T + 50));
        let mut never_asked = inputs(&acme, Status::Valid);
        never_asked.ari_next_check = None;
        assert_eq!(due_time(never_asked), Some(DUE_AT_ONCE));
        let mut asked_later = inputs(&acme, Status::Valid);
        asked_later.ari_next_check = Some(T + 1000);
        assert_eq!(due_time(asked_later), Some(T + 100));
    }
}
