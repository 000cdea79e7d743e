//! Notifications: telling people when a credential needs them.
//!
//! - [`plan`]: the pure planner (which notices are due at a time, from the
//!   credentials' rows and the notices already recorded).
//! - [`pass`](pass::pass): what the server's scheduler runs after each
//!   renewal pass: plan, record each new notice once (the store's unique
//!   dedupe key), deliver what is pending on each channel (a failing
//!   channel does not stop the others), send the daily digests.
//! - [`channel`]: channels (e-mail over SMTP, webhooks: generic JSON signed
//!   with HMAC-SHA256, Slack, Teams), checked once with errors naming the
//!   field; secrets sealed in the store, left out of views and `Debug`.
//! - [`message`]: what a message says in each format, and the signature.
//!
//! Front ends call [`create_channel`], [`update_channel`],
//! [`delete_channel`], [`channels`], [`send_test`] and [`notices`].

pub mod channel;
pub mod message;
mod pass;
pub mod plan;
mod smtp;
mod webhook;

use serde::{Deserialize, Serialize};

pub use channel::{
    Channel, ChannelRequest, ChannelView, EmailRequest, EmailView, SmtpSecurity, WebhookFormat,
    WebhookRequest, WebhookView,
};
pub use pass::{MAX_ATTEMPTS, PassReport, RETRY_BASE_SECS, digest_point, pass};

use crate::Engine;
use crate::clock::timestamp;
use crate::error::{EngineError, EngineResult};
use message::{Outgoing, Purpose};

/// What a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum NoticeEvent {
    /// The last issuance or renewal failed.
    IssuanceFailed,
    /// Past its renewal time by a day, not renewed.
    RenewalOverdue,
    /// Expires within 14, 7, 3 or 1 days, not renewed.
    Expiring,
    /// The certificate expired.
    Expired,
    /// The certificate was revoked.
    Revoked,
}

impl NoticeEvent {
    /// Every event.
    pub const ALL: [NoticeEvent; 5] = [
        NoticeEvent::IssuanceFailed,
        NoticeEvent::RenewalOverdue,
        NoticeEvent::Expiring,
        NoticeEvent::Expired,
        NoticeEvent::Revoked,
    ];

    /// The stable text form, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeEvent::IssuanceFailed => "issuance-failed",
            NoticeEvent::RenewalOverdue => "renewal-overdue",
            NoticeEvent::Expiring => "expiring",
            NoticeEvent::Expired => "expired",
            NoticeEvent::Revoked => "revoked",
        }
    }

    /// The event of a text form.
    pub fn parse(text: &str) -> Option<Self> {
        NoticeEvent::ALL.into_iter().find(|e| e.as_str() == text)
    }
}

/// Every channel, by name (refused when a row fails its integrity check:
/// delete that channel and create it again).
pub async fn channels(engine: &Engine<'_>) -> EngineResult<Vec<ChannelView>> {
    let store = engine.store();
    let mut out = Vec::new();
    for record in store.notify_channels().await? {
        out.push(ChannelView::of(&Channel::load(store, record?)?));
    }
    Ok(out)
}

/// One channel.
pub async fn channel(engine: &Engine<'_>, name: &str) -> EngineResult<ChannelView> {
    Ok(ChannelView::of(&load(engine, name).await?))
}

async fn load(engine: &Engine<'_>, name: &str) -> EngineResult<Channel> {
    let record = engine.store().notify_channel(name).await?;
    Channel::load(engine.store(), record)
}

/// Create a channel from `request` (checked first: a refused request
/// stores nothing).
pub async fn create_channel(
    engine: &Engine<'_>,
    request: &ChannelRequest,
) -> EngineResult<ChannelView> {
    let name = request.name.as_deref().unwrap_or("");
    certmgr_core::validate_name(name)
        .map_err(|e| EngineError::invalid_field("name", e.to_string()))?;
    let valid = channel::validate(request, None)?;
    let record = store_new(engine, name, &valid, None).await?;
    Ok(ChannelView::of(&Channel::load(engine.store(), record)?))
}

/// Replace the channel `name` with `request` (its secrets kept where the
/// request leaves them out and the kind stays the same).
pub async fn update_channel(
    engine: &Engine<'_>,
    name: &str,
    request: &ChannelRequest,
) -> EngineResult<ChannelView> {
    if let Some(given) = request.name.as_deref()
        && given != name
    {
        return Err(EngineError::invalid_field(
            "name",
            format!(
                "{given:?} differs from the channel's name {name:?}: channels are not renamed; create a new one"
            ),
        ));
    }
    let old = load(engine, name).await?;
    let valid = channel::validate(request, Some(&old))?;
    let record = store_new(engine, name, &valid, Some(&old.record)).await?;
    Ok(ChannelView::of(&Channel::load(engine.store(), record)?))
}

async fn store_new(
    engine: &Engine<'_>,
    name: &str,
    valid: &channel::Valid,
    old: Option<&certmgr_store::ChannelRecord>,
) -> EngineResult<certmgr_store::ChannelRecord> {
    let settings = serde_json::to_string(&valid.settings)
        .map_err(|e| EngineError::failed(format!("the channel's settings: {e}")))?;
    let secrets = zeroize::Zeroizing::new(
        serde_json::to_vec(&valid.secrets)
            .map_err(|e| EngineError::failed(format!("the channel's secrets: {e}")))?,
    );
    let new = certmgr_store::NewChannel {
        name,
        kind: valid.kind,
        settings: &settings,
        secrets_json: &secrets,
        enabled: valid.enabled,
    };
    Ok(match old {
        Some(old) => engine.store().update_notify_channel(old, &new).await?,
        None => engine.store().create_notify_channel(&new).await?,
    })
}

/// Delete a channel (also one whose row fails its integrity check).
pub async fn delete_channel(engine: &Engine<'_>, name: &str) -> EngineResult<()> {
    Ok(engine.store().delete_notify_channel(name).await?)
}

/// What a test message did.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestSent {
    /// The channel.
    pub channel: String,
    /// `email` or `webhook`.
    pub kind: String,
    /// Where it went: the SMTP server and recipients, or the webhook's origin.
    pub destination: String,
    /// The message's id (`X-Certmgr-Delivery`, the e-mail's Message-ID).
    pub message_id: String,
    /// How long sending took, in milliseconds.
    pub elapsed_ms: u64,
}

/// Send a test message on the channel `name` (enabled or not). A message
/// that cannot be delivered is an [`EngineError::Delivery`] saying why.
pub async fn send_test(engine: &Engine<'_>, name: &str) -> EngineResult<TestSent> {
    let channel = load(engine, name).await?;
    let message = Outgoing {
        purpose: Purpose::Test,
        channel: channel.record.name.clone(),
        id: uuid::Uuid::now_v7().to_string(),
        at: engine.now(),
        items: Vec::new(),
    };
    let started = std::time::Instant::now();
    deliver(&channel, &message)
        .await
        .map_err(|why| EngineError::Delivery(format!("notification channel {name:?}: {why}")))?;
    Ok(TestSent {
        channel: channel.record.name.clone(),
        kind: channel.record.kind.clone(),
        destination: destination(&channel),
        message_id: message.id,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// Where a channel's messages go, in words without secrets.
fn destination(channel: &Channel) -> String {
    match (&channel.settings.email, &channel.settings.webhook) {
        (Some(e), _) => format!("{}:{} to {}", e.host, e.port, e.to.join(", ")),
        (None, Some(w)) => format!("{}/…", w.origin),
        (None, None) => String::new(),
    }
}

/// Send one message on a channel.
async fn deliver(channel: &Channel, message: &Outgoing) -> Result<(), String> {
    match (&channel.settings.email, &channel.settings.webhook) {
        (Some(email), _) => smtp::send(email, channel.secrets.password.as_deref(), message).await,
        (None, Some(hook)) => webhook::send(hook, &channel.secrets, message).await,
        (None, None) => Err("the channel has neither e-mail nor webhook settings".into()),
    }
}

/// A recorded notice, with where it went.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeView {
    /// Its id (the listing's cursor).
    pub id: String,
    /// What it is about.
    pub event: NoticeEvent,
    /// For `expiring`: the threshold crossed, in days.
    pub threshold_days: Option<u32>,
    /// The credential's name.
    pub credential: String,
    /// The credential's version it is about.
    pub version: i64,
    /// The earliest expiry of that version's certificates (RFC 3339).
    pub not_after: Option<String>,
    /// One line for people.
    pub message: String,
    /// When it was decided (RFC 3339).
    pub created_at: String,
    /// Its delivery to each channel.
    pub deliveries: Vec<DeliveryView>,
}

/// A notice's delivery to one channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    /// The channel's name.
    pub channel: String,
    /// `pending` (to send, or waiting for the digest or a retry), `sent`,
    /// or `failed` (given up after [`MAX_ATTEMPTS`]).
    pub state: String,
    /// Attempts so far.
    pub attempts: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was sent (RFC 3339).
    pub sent_at: Option<String>,
    /// Pending: no attempt before this time (RFC 3339).
    pub next_attempt_at: Option<String>,
}

/// One page of notices, newest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticePage {
    /// The notices.
    pub items: Vec<NoticeView>,
    /// Give this as `before` for the next page, if there may be more.
    pub next_before: Option<String>,
}

/// The notices `query` selects (its `limit` capped at 500), newest first.
pub async fn notices(
    engine: &Engine<'_>,
    query: &certmgr_store::NoticeQuery,
) -> EngineResult<NoticePage> {
    if let Some(event) = &query.event
        && NoticeEvent::parse(event).is_none()
    {
        return Err(EngineError::invalid_field(
            "event",
            format!(
                "{event:?} is no event: give one of {}",
                NoticeEvent::ALL.map(NoticeEvent::as_str).join(", ")
            ),
        ));
    }
    if let Some(state) = &query.state
        && !["pending", "sent", "failed"].contains(&state.as_str())
    {
        return Err(EngineError::invalid_field(
            "state",
            format!("{state:?} is no state: give pending, sent or failed"),
        ));
    }
    let mut query = query.clone();
    query.limit = query.limit.clamp(1, 500);
    let rows = engine.store().notices(&query).await?;
    let next_before = (rows.len() == query.limit as usize)
        .then(|| rows.last().map(|(n, _)| n.id.clone()))
        .flatten();
    let items = rows
        .into_iter()
        .filter_map(|(record, deliveries)| {
            let n = record.notice;
            Some(NoticeView {
                event: NoticeEvent::parse(&n.event)?,
                id: record.id,
                threshold_days: n.threshold_days,
                credential: n.credential_name,
                version: n.version,
                not_after: n.not_after.map(timestamp),
                message: n.message,
                created_at: timestamp(record.created_at),
                deliveries: deliveries
                    .into_iter()
                    .map(|d| DeliveryView {
                        next_attempt_at: (d.state == "pending")
                            .then(|| timestamp(d.next_attempt_at)),
                        channel: d.channel_name,
                        state: d.state,
                        attempts: d.attempts,
                        last_error: d.last_error,
                        sent_at: d.sent_at.map(timestamp),
                    })
                    .collect(),
            })
        })
        .collect();
    Ok(NoticePage { items, next_before })
}
