//! The audit log: append-only, each entry authenticated together with the
//! one before it.
//!
//! Every entry's `mac` is HMAC-SHA256, under a key derived from the master
//! key (label [`AUDIT_KEY_LABEL`]), over the previous entry's mac and this
//! entry's fields, each length-prefixed. `audit_head` holds the last seq and
//! mac with a MAC of its own. [`Store::verify_audit`] walks the chain: an
//! edited entry fails its mac, a deleted one leaves a gap in `seq`, a
//! deleted tail no longer matches the head, and none of these can be
//! repaired with SQL alone (that takes the master key). What SQL alone can
//! still do is put back an older copy of the head together with the rows it
//! covered, which needs a copy of the database made earlier.
//!
//! Appends are serialized by the update of the head row, which comes first
//! in the transaction (a row lock on PostgreSQL; SQLite's write lock is
//! taken at `BEGIN IMMEDIATE`).

use aws_lc_rs::hmac;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, now};
use crate::StoreError;

/// Label of the audit key's derivation from the master key.
const AUDIT_KEY_LABEL: &[u8] = b"certmgr audit chain v1";

/// One audit entry, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Its place in the log: 1, 2, 3, ...
    pub seq: i64,
    /// When (Unix seconds).
    pub at: i64,
    /// Who: a user, a token, or `local:USER` for the command line.
    pub actor: String,
    /// From where: the client's address; `None` on this machine.
    pub address: Option<String>,
    /// What, e.g. `cred.create`, `cred.export`.
    pub action: String,
    /// What it acted on (a name), or empty.
    pub target: String,
    /// `ok`, `bad-input` or `failed`.
    pub outcome: String,
    /// One line: what was done, or why it was refused or failed.
    pub detail: String,
}

/// An entry to append.
#[derive(Debug, Clone, Copy)]
pub struct NewAuditEntry<'a> {
    /// Who.
    pub actor: &'a str,
    /// From where.
    pub address: Option<&'a str>,
    /// What.
    pub action: &'a str,
    /// On what.
    pub target: &'a str,
    /// How it ended.
    pub outcome: &'a str,
    /// One line of detail.
    pub detail: &'a str,
}

/// Which entries to list: after a seq (the cursor of the previous page), at
/// most `limit`, optionally of one actor, action or target.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Entries after this seq.
    pub after: i64,
    /// At most this many (0: 100).
    pub limit: u32,
    /// Only this actor.
    pub actor: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only this target.
    pub target: Option<String>,
}

/// What [`Store::verify_audit`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditCheck {
    /// Every entry is there, unchanged, in order.
    Intact {
        /// How many entries there are.
        entries: i64,
    },
    /// The first place the chain breaks.
    Broken {
        /// The entry where it breaks.
        seq: i64,
        /// What is wrong there.
        reason: String,
    },
}

/// The most entries one page lists.
const MAX_PAGE: u32 = 1000;

impl Store {
    fn audit_key(&self) -> hmac::Key {
        let bytes = self.key.derive(AUDIT_KEY_LABEL);
        hmac::Key::new(hmac::HMAC_SHA256, bytes.as_ref())
    }

    /// Append one entry to the audit log.
    pub async fn append_audit(&self, new: &NewAuditEntry<'_>) -> Result<AuditEntry, StoreError> {
        let key = self.audit_key();
        let mut tx = self.begin_write().await?;
        // First the head: on PostgreSQL this update locks the row, so that
        // concurrent appends take their turns.
        sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let head = sqlx::query("SELECT seq, mac FROM audit_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let seq: i64 = head.try_get("seq")?;
        let previous: String = head.try_get("mac")?;
        let entry = AuditEntry {
            seq,
            at: now(),
            actor: new.actor.to_owned(),
            address: new.address.map(str::to_owned),
            action: new.action.to_owned(),
            target: new.target.to_owned(),
            outcome: new.outcome.to_owned(),
            detail: new.detail.to_owned(),
        };
        let mac = entry_mac(&key, &previous, &entry);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, address, action, target, outcome, detail, mac) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(entry.seq)
        .bind(entry.at)
        .bind(&entry.actor)
        .bind(entry.address.clone())
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.outcome)
        .bind(&entry.detail)
        .bind(&mac)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE audit_head SET mac = $1, head_mac = $2 WHERE id = 1")
            .bind(&mac)
            .bind(head_mac(&key, seq, &mac))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(entry)
    }

    /// A page of the audit log, oldest first.
    pub async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = match query.limit {
            0 => 100,
            n => n.min(MAX_PAGE),
        };
        // An empty filter value matches everything.
        let filter = |value: &Option<String>| value.clone().unwrap_or_default();
        sqlx::query(
            "SELECT seq, at, actor, address, action, target, outcome, detail FROM audit_log \
             WHERE seq > $1 AND ($2 = '' OR actor = $2) AND ($3 = '' OR action = $3) \
             AND ($4 = '' OR target = $4) ORDER BY seq LIMIT $5",
        )
        .bind(query.after)
        .bind(filter(&query.actor))
        .bind(filter(&query.action))
        .bind(filter(&query.target))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(entry_from_row)
        .collect()
    }

    /// Walk the whole chain and say where it breaks, if it does.
    pub async fn verify_audit(&self) -> Result<AuditCheck, StoreError> {
        let key = self.audit_key();
        let rows = sqlx::query(
            "SELECT seq, at, actor, address, action, target, outcome, detail, mac FROM audit_log ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut previous = String::new();
        let mut expected = 1;
        for row in &rows {
            let entry = entry_from_row(row)?;
            if entry.seq != expected {
                return Ok(AuditCheck::Broken {
                    seq: expected,
                    reason: format!(
                        "entry {expected} is missing (the next entry is {}): entries were deleted",
                        entry.seq
                    ),
                });
            }
            let mac: String = row.try_get("mac")?;
            if mac != entry_mac(&key, &previous, &entry) {
                return Ok(AuditCheck::Broken {
                    seq: entry.seq,
                    reason: format!(
                        "entry {} ({} {} by {}) was changed after it was written",
                        entry.seq, entry.action, entry.target, entry.actor
                    ),
                });
            }
            previous = mac;
            expected += 1;
        }
        let last = expected - 1;
        let head = sqlx::query("SELECT seq, mac, head_mac FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let (seq, mac, stamp): (i64, String, String) = (
            head.try_get("seq")?,
            head.try_get("mac")?,
            head.try_get("head_mac")?,
        );
        let head_ok = if seq == 0 {
            mac.is_empty() && stamp.is_empty()
        } else {
            stamp == head_mac(&key, seq, &mac)
        };
        if !head_ok {
            return Ok(AuditCheck::Broken {
                seq,
                reason: "the head of the log was changed".into(),
            });
        }
        if seq != last || mac != previous {
            return Ok(AuditCheck::Broken {
                seq: last + 1,
                reason: format!(
                    "the log ends at entry {last} but was written up to entry {seq}: entries were deleted"
                ),
            });
        }
        Ok(AuditCheck::Intact { entries: last })
    }
}

fn entry_from_row(row: &AnyRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        address: row.try_get("address")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        outcome: row.try_get("outcome")?,
        detail: row.try_get("detail")?,
    })
}

/// The mac of `entry` following the entry whose mac is `previous`.
fn entry_mac(key: &hmac::Key, previous: &str, entry: &AuditEntry) -> String {
    let mut ctx = hmac::Context::with_key(key);
    let mut field = |bytes: &[u8]| {
        ctx.update(&(bytes.len() as u64).to_be_bytes());
        ctx.update(bytes);
    };
    field(previous.as_bytes());
    field(&entry.seq.to_be_bytes());
    field(&entry.at.to_be_bytes());
    field(entry.actor.as_bytes());
    match &entry.address {
        Some(address) => field(format!("+{address}").as_bytes()),
        None => field(b"-"),
    }
    field(entry.action.as_bytes());
    field(entry.target.as_bytes());
    field(entry.outcome.as_bytes());
    field(entry.detail.as_bytes());
    hex::encode(ctx.sign().as_ref())
}

/// The mac of the head: the last seq and mac.
fn head_mac(key: &hmac::Key, seq: i64, mac: &str) -> String {
    let mut ctx = hmac::Context::with_key(key);
    ctx.update(b"head");
    ctx.update(&seq.to_be_bytes());
    ctx.update(mac.as_bytes());
    hex::encode(ctx.sign().as_ref())
}
