//! Notifications: the channels notices go out on, the notices the planner
//! decided (deduplicated by a unique key) and their delivery to each
//! channel. A channel's settings and sealed secrets are authenticated
//! (`integrity`); its secrets (SMTP password, webhook URL, HMAC secret) are
//! sealed with the master key, bound to the channel's row. The engine owns
//! what the settings mean; the store keeps them as JSON text.

use std::collections::HashSet;
use std::fmt;

use sqlx::Row;
use sqlx::any::AnyRow;
use zeroize::Zeroizing;

use super::integrity::NOTIFY_CHANNELS;
use super::{LogEntry, Store, fetch_named, new_id, not_found, now};
use crate::StoreError;

/// Associated data of a channel's sealed secrets.
fn secrets_context(channel_id: &str) -> String {
    format!("notify_channels/{channel_id}/secrets")
}

/// A notification channel as stored (its secrets stay sealed).
#[derive(Clone, PartialEq, Eq)]
pub struct ChannelRecord {
    /// Stable id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// `email` or `webhook`.
    pub kind: String,
    /// The settings, JSON without secrets (the engine's format).
    pub settings: String,
    /// The secrets, JSON sealed with the master key.
    pub sealed_secrets: Vec<u8>,
    /// Whether notices go out on it.
    pub enabled: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// When its last daily digest went out (Unix seconds).
    pub last_digest_at: Option<i64>,
}

impl fmt::Debug for ChannelRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelRecord")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("settings", &self.settings)
            .field("sealed_secrets", &"<sealed>")
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// A channel to store, or the new state of one.
pub struct NewChannel<'a> {
    /// Unique name.
    pub name: &'a str,
    /// `email` or `webhook`.
    pub kind: &'a str,
    /// The settings, JSON without secrets.
    pub settings: &'a str,
    /// The secrets, JSON; sealed before they are written.
    pub secrets_json: &'a [u8],
    /// Whether notices go out on it.
    pub enabled: bool,
}

impl fmt::Debug for NewChannel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewChannel")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("settings", &self.settings)
            .field("secrets_json", &"<redacted>")
            .field("enabled", &self.enabled)
            .finish()
    }
}

/// A notice the planner decided, before it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    /// What makes it new: credential id, version, event and threshold. A
    /// second notice with the same key is never recorded.
    pub dedupe_key: String,
    /// The credential's id.
    pub credential_id: String,
    /// The credential's name (kept when the credential is deleted).
    pub credential_name: String,
    /// `issuance-failed`, `renewal-overdue`, `expiring`, `expired`, `revoked`.
    pub event: String,
    /// For `expiring`: the threshold crossed, in days.
    pub threshold_days: Option<u32>,
    /// The credential's version it is about.
    pub version: i64,
    /// The earliest expiry of that version's certificates (Unix seconds).
    pub not_after: Option<i64>,
    /// One line for people.
    pub message: String,
}

/// A recorded notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRecord {
    /// Stable id (UUIDv7: sorts by creation).
    pub id: String,
    /// What it is, as decided.
    pub notice: NewNotice,
    /// When it was recorded (Unix seconds).
    pub created_at: i64,
}

/// Where a notice stands on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// The notice.
    pub notice_id: String,
    /// The channel's id.
    pub channel_id: String,
    /// The channel's name (kept when the channel is deleted).
    pub channel_name: String,
    /// `pending`, `sent` or `failed` (given up).
    pub state: String,
    /// Attempts so far.
    pub attempts: u32,
    /// No attempt before this time (Unix seconds).
    pub next_attempt_at: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was sent (Unix seconds).
    pub sent_at: Option<i64>,
}

/// A delivery still to make, with its notice.
#[derive(Debug, Clone)]
pub struct OpenDelivery {
    /// The notice.
    pub notice: NoticeRecord,
    /// Where it stands on the channel.
    pub delivery: DeliveryRecord,
}

/// Which notices a listing shows, newest first; empty fields match all.
#[derive(Debug, Clone, Default)]
pub struct NoticeQuery {
    /// Only notices older than this one (the id of the last one of the
    /// previous page).
    pub before: Option<String>,
    /// At most this many.
    pub limit: u32,
    /// Only this credential (by name).
    pub credential: Option<String>,
    /// Only this event.
    pub event: Option<String>,
    /// Only notices with a delivery to this channel (by name).
    pub channel: Option<String>,
    /// Only notices with a delivery in this state.
    pub state: Option<String>,
    /// Only notices recorded at or after this time (Unix seconds).
    pub since: Option<i64>,
}

const CHANNEL_COLUMNS: &str = "id, name, kind, settings, sealed_secrets, enabled, created_at, \
     updated_at, last_digest_at, mac";
const NOTICE_COLUMNS: &str = "n.id, n.dedupe_key, n.credential_id, n.credential_name, n.event, \
     n.threshold_days, n.version, n.not_after, n.message, n.created_at";
const DELIVERY_COLUMNS: &str = "d.notice_id, d.channel_id, d.channel_name, d.state, d.attempts, \
     d.next_attempt_at, d.last_error, d.sent_at";

impl Store {
    /// Store a channel (secrets sealed).
    pub async fn create_notify_channel(
        &self,
        new: &NewChannel<'_>,
    ) -> Result<ChannelRecord, StoreError> {
        let id = new_id();
        let sealed = self.key.seal(new.secrets_json, &secrets_context(&id))?;
        let message = format!("notification channel {:?} ({}) created", new.name, new.kind);
        let entry = LogEntry::general("notify-channel-created", &message);
        let mut tx = self.begin_logged(entry).await?;
        sqlx::query(
            "INSERT INTO notify_channels (id, name, kind, settings, sealed_secrets, enabled, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(&id)
        .bind(new.name)
        .bind(new.kind)
        .bind(new.settings)
        .bind(sealed)
        .bind(i64::from(new.enabled))
        .bind(now())
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::on_unique(e, "notification channel", new.name))?;
        self.rows.stamp(&mut tx, &NOTIFY_CHANNELS, &id).await?;
        tx.commit().await?;
        self.notify_channel(new.name).await
    }

    /// Replace a channel's kind, settings, secrets and switch (its name stays).
    pub async fn update_notify_channel(
        &self,
        channel: &ChannelRecord,
        new: &NewChannel<'_>,
    ) -> Result<ChannelRecord, StoreError> {
        let sealed = self
            .key
            .seal(new.secrets_json, &secrets_context(&channel.id))?;
        let message = format!("notification channel {:?} changed", channel.name);
        let entry = LogEntry::general("notify-channel-updated", &message);
        let mut tx = self.begin_logged(entry).await?;
        if !self
            .rows
            .check_in(&mut tx, &NOTIFY_CHANNELS, &channel.id)
            .await?
        {
            return Err(not_found("notification channel", &channel.name));
        }
        sqlx::query(
            "UPDATE notify_channels SET kind = $1, settings = $2, sealed_secrets = $3, \
             enabled = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(new.kind)
        .bind(new.settings)
        .bind(sealed)
        .bind(i64::from(new.enabled))
        .bind(now())
        .bind(&channel.id)
        .execute(&mut **tx)
        .await?;
        self.rows
            .stamp(&mut tx, &NOTIFY_CHANNELS, &channel.id)
            .await?;
        tx.commit().await?;
        self.notify_channel(&channel.name).await
    }

    /// Delete a channel, also when its row fails its integrity check (the
    /// way out of one). Its deliveries still to make go with it; those made
    /// stay in the log under its name.
    pub async fn delete_notify_channel(&self, name: &str) -> Result<(), StoreError> {
        let message = format!("notification channel {name:?} deleted");
        let entry = LogEntry::general("notify-channel-deleted", &message);
        let mut tx = self.begin_logged(entry).await?;
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM notify_channels WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut **tx)
                .await?;
        let id = id.ok_or_else(|| not_found("notification channel", name))?;
        sqlx::query("DELETE FROM notice_deliveries WHERE channel_id = $1 AND state = 'pending'")
            .bind(&id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM notify_channels WHERE id = $1")
            .bind(&id)
            .execute(&mut **tx)
            .await?;
        tx.commit().await
    }

    /// The channel named `name` (refused if its row fails its integrity check).
    pub async fn notify_channel(&self, name: &str) -> Result<ChannelRecord, StoreError> {
        let query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CHANNEL_COLUMNS} FROM notify_channels WHERE name = $1"
        )))
        .bind(name);
        fetch_named(&self.pool, query, ("notification channel", name), |row| {
            self.channel_from_row(row)
        })
        .await
    }

    /// Every channel, by name, each with its integrity check's verdict (one
    /// tampered channel does not hide the others).
    pub async fn notify_channels(
        &self,
    ) -> Result<Vec<Result<ChannelRecord, StoreError>>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CHANNEL_COLUMNS} FROM notify_channels ORDER BY name"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(|r| self.channel_from_row(r)).collect())
    }

    /// The channel's secrets, unsealed (JSON).
    pub fn unseal_channel_secrets(
        &self,
        channel: &ChannelRecord,
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        self.key
            .open(&channel.sealed_secrets, &secrets_context(&channel.id))
    }

    /// Record that the channel's daily digest went out at `at`.
    pub async fn set_digest_sent(&self, channel_id: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE notify_channels SET last_digest_at = $1 WHERE id = $2")
            .bind(at)
            .bind(channel_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    fn channel_from_row(&self, row: &AnyRow) -> Result<ChannelRecord, StoreError> {
        self.rows.check(&NOTIFY_CHANNELS, row)?;
        let enabled: i64 = row.try_get("enabled")?;
        Ok(ChannelRecord {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            kind: row.try_get("kind")?,
            settings: row.try_get("settings")?,
            sealed_secrets: row.try_get("sealed_secrets")?,
            enabled: enabled != 0,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            last_digest_at: row.try_get("last_digest_at")?,
        })
    }

    /// The dedupe keys of the notices about the current version of every
    /// credential: what the planner must not decide again.
    pub async fn current_notice_keys(&self) -> Result<HashSet<String>, StoreError> {
        let keys: Vec<String> = sqlx::query_scalar(
            "SELECT n.dedupe_key FROM notices n JOIN credentials c \
             ON c.id = n.credential_id AND c.current_version = n.version",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(keys.into_iter().collect())
    }

    /// Record a notice and its deliveries to `channels` (id, name), in one
    /// transaction, unless a notice with its dedupe key exists (then
    /// `None`: another pass, maybe on another node, recorded it first).
    pub async fn record_notice(
        &self,
        notice: &NewNotice,
        channels: &[(&str, &str)],
        at: i64,
    ) -> Result<Option<NoticeRecord>, StoreError> {
        let id = new_id();
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO notices (id, dedupe_key, credential_id, credential_name, event, \
             threshold_days, version, not_after, message, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(&id)
        .bind(&notice.dedupe_key)
        .bind(&notice.credential_id)
        .bind(&notice.credential_name)
        .bind(&notice.event)
        .bind(notice.threshold_days.map(i64::from))
        .bind(notice.version)
        .bind(notice.not_after)
        .bind(&notice.message)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(None);
        }
        for (channel_id, channel_name) in channels {
            sqlx::query(
                "INSERT INTO notice_deliveries (notice_id, channel_id, channel_name, state, \
                 attempts, next_attempt_at) VALUES ($1, $2, $3, 'pending', 0, $4)",
            )
            .bind(&id)
            .bind(*channel_id)
            .bind(*channel_name)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(NoticeRecord {
            id,
            notice: notice.clone(),
            created_at: at,
        }))
    }

    /// Every delivery still pending, oldest notice first (whether its
    /// backoff has passed is the caller's to judge).
    pub async fn open_deliveries(&self) -> Result<Vec<OpenDelivery>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {NOTICE_COLUMNS}, {DELIVERY_COLUMNS} FROM notice_deliveries d \
             JOIN notices n ON n.id = d.notice_id WHERE d.state = 'pending' ORDER BY n.id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(OpenDelivery {
                    notice: notice_from_row(row)?,
                    delivery: delivery_from_row(row)?,
                })
            })
            .collect()
    }

    /// Record the outcome of one attempt to send `notice_ids` on a channel:
    /// sent (`Ok`), or failed with the error, to try again at
    /// `next_attempt_at` or (`None`) never again.
    pub async fn record_delivery(
        &self,
        channel_id: &str,
        notice_ids: &[&str],
        outcome: Result<i64, (&str, Option<i64>)>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for notice_id in notice_ids {
            let query = match outcome {
                Ok(sent_at) => sqlx::query(
                    "UPDATE notice_deliveries SET state = 'sent', attempts = attempts + 1, \
                     sent_at = $1, last_error = NULL WHERE notice_id = $2 AND channel_id = $3",
                )
                .bind(sent_at),
                Err((error, Some(next))) => sqlx::query(
                    "UPDATE notice_deliveries SET attempts = attempts + 1, last_error = $1, \
                     next_attempt_at = $2 WHERE notice_id = $3 AND channel_id = $4",
                )
                .bind(error)
                .bind(next),
                Err((error, None)) => sqlx::query(
                    "UPDATE notice_deliveries SET state = 'failed', attempts = attempts + 1, \
                     last_error = $1 WHERE notice_id = $2 AND channel_id = $3",
                )
                .bind(error),
            };
            query
                .bind(*notice_id)
                .bind(channel_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Notices `query` selects, newest first, each with its deliveries.
    pub async fn notices(
        &self,
        query: &NoticeQuery,
    ) -> Result<Vec<(NoticeRecord, Vec<DeliveryRecord>)>, StoreError> {
        let mut sql = format!("SELECT {NOTICE_COLUMNS} FROM notices n WHERE 1 = 1");
        let mut binds: Vec<either::Bind> = Vec::new();
        let mut arg = |sql: &mut String, clause: &str, value: either::Bind| {
            binds.push(value);
            sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
        };
        if let Some(before) = &query.before {
            arg(
                &mut sql,
                " AND n.id < ?",
                either::Bind::Text(before.clone()),
            );
        }
        if let Some(name) = &query.credential {
            arg(
                &mut sql,
                " AND n.credential_name = ?",
                either::Bind::Text(name.clone()),
            );
        }
        if let Some(event) = &query.event {
            arg(
                &mut sql,
                " AND n.event = ?",
                either::Bind::Text(event.clone()),
            );
        }
        if let Some(since) = query.since {
            arg(&mut sql, " AND n.created_at >= ?", either::Bind::Int(since));
        }
        if let Some(channel) = &query.channel {
            arg(
                &mut sql,
                " AND EXISTS (SELECT 1 FROM notice_deliveries d WHERE d.notice_id = n.id \
                 AND d.channel_name = ?)",
                either::Bind::Text(channel.clone()),
            );
        }
        if let Some(state) = &query.state {
            arg(
                &mut sql,
                " AND EXISTS (SELECT 1 FROM notice_deliveries d WHERE d.notice_id = n.id \
                 AND d.state = ?)",
                either::Bind::Text(state.clone()),
            );
        }
        arg(
            &mut sql,
            " ORDER BY n.id DESC LIMIT ?",
            either::Bind::Int(i64::from(query.limit)),
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            q = match bind {
                either::Bind::Text(text) => q.bind(text),
                either::Bind::Int(int) => q.bind(int),
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let notice = notice_from_row(row)?;
            let deliveries = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {DELIVERY_COLUMNS} FROM notice_deliveries d WHERE d.notice_id = $1 \
                 ORDER BY d.channel_name"
            )))
            .bind(&notice.id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(delivery_from_row)
            .collect::<Result<Vec<_>, _>>()?;
            out.push((notice, deliveries));
        }
        Ok(out)
    }
}

/// A value bound to a listing's query.
mod either {
    /// Text or a number.
    pub(super) enum Bind {
        Text(String),
        Int(i64),
    }
}

fn notice_from_row(row: &AnyRow) -> Result<NoticeRecord, StoreError> {
    let threshold: Option<i64> = row.try_get("threshold_days")?;
    Ok(NoticeRecord {
        id: row.try_get("id")?,
        notice: NewNotice {
            dedupe_key: row.try_get("dedupe_key")?,
            credential_id: row.try_get("credential_id")?,
            credential_name: row.try_get("credential_name")?,
            event: row.try_get("event")?,
            threshold_days: threshold.and_then(|t| u32::try_from(t).ok()),
            version: row.try_get("version")?,
            not_after: row.try_get("not_after")?,
            message: row.try_get("message")?,
        },
        created_at: row.try_get("created_at")?,
    })
}

fn delivery_from_row(row: &AnyRow) -> Result<DeliveryRecord, StoreError> {
    let attempts: i64 = row.try_get("attempts")?;
    Ok(DeliveryRecord {
        notice_id: row.try_get("notice_id")?,
        channel_id: row.try_get("channel_id")?,
        channel_name: row.try_get("channel_name")?,
        state: row.try_get("state")?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        sent_at: row.try_get("sent_at")?,
    })
}
