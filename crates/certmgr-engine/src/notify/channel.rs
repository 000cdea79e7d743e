//! Notification channels: what a request may ask for (checked once, each
//! error naming its field), what is stored (settings in clear, secrets
//! sealed), and what is shown (secrets left out).

use std::fmt;

use certmgr_core::Hostname;
use certmgr_store::ChannelRecord;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::NoticeEvent;
use crate::error::{EngineError, EngineResult};

mod validate;
pub(crate) use validate::{Valid, validate};

/// How an SMTP connection is protected. Plain SMTP is not offered: the
/// password and the notices would cross the network in clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Connect in clear, then upgrade with STARTTLS (refused when the
    /// server does not offer it); port 587 by default.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, "implicit TLS"); port 465 by default.
    Tls,
}

/// The shape of a webhook's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// certmgr's JSON, signed with HMAC-SHA256 (`X-Certmgr-Signature`).
    #[default]
    Generic,
    /// A Slack incoming webhook (`text` and `blocks`).
    Slack,
    /// A Microsoft Teams workflow or incoming webhook (an Adaptive Card).
    Teams,
}

/// A channel as a request gives it (create, or replace all of it).
#[derive(Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelRequest {
    /// Its name (creating; when replacing, the path names it).
    #[serde(default)]
    pub name: Option<String>,
    /// Whether notices go out on it (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The events it receives (empty or absent: all of them).
    #[serde(default)]
    pub events: Vec<NoticeEvent>,
    /// Collect the notices and send one message a day instead of each at once.
    #[serde(default)]
    pub digest: bool,
    /// With `digest`: the hour of the day (UTC, 0-23) the digest goes out (default 8).
    #[serde(default)]
    pub digest_hour: Option<u8>,
    /// E-mail over SMTP (give this or `webhook`).
    #[serde(default)]
    pub email: Option<EmailRequest>,
    /// A webhook (give this or `email`).
    #[serde(default)]
    pub webhook: Option<WebhookRequest>,
}

impl fmt::Debug for ChannelRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelRequest")
            .field("name", &self.name)
            .field("enabled", &self.enabled)
            .field("events", &self.events)
            .field("digest", &self.digest)
            .field("digest_hour", &self.digest_hour)
            .field("email", &self.email)
            .field("webhook", &self.webhook)
            .finish()
    }
}

/// E-mail settings as a request gives them.
#[derive(Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    /// The SMTP server (DNS name or IP address).
    pub host: String,
    /// Its port (default 587 with STARTTLS, 465 with TLS).
    #[serde(default)]
    pub port: Option<u16>,
    /// `starttls` (default) or `tls`.
    #[serde(default)]
    pub security: Option<SmtpSecurity>,
    /// The user to authenticate as (AUTH PLAIN or LOGIN), if the server wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// Its password: sealed in the store, never shown again. Absent when
    /// replacing a channel: the stored one is kept; `""` removes it.
    #[serde(default)]
    pub password: Option<String>,
    /// The sender address.
    pub from: String,
    /// The recipients (1 to 50 addresses).
    pub to: Vec<String>,
    /// PEM of the CA(s) to trust for the server's certificate instead of
    /// the system's (a private CA).
    #[serde(default)]
    pub ca_pem: Option<String>,
}

impl fmt::Debug for EmailRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailRequest")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

/// Webhook settings as a request gives them.
#[derive(Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// Where to POST (https; a Slack or Teams webhook URL is a secret: it
    /// is sealed and shown only as its origin). Absent when replacing a
    /// channel: the stored one is kept.
    #[serde(default)]
    pub url: Option<String>,
    /// `generic` (default), `slack` or `teams`.
    #[serde(default)]
    pub format: Option<WebhookFormat>,
    /// `generic`: the HMAC-SHA256 key the receiver verifies
    /// `X-Certmgr-Signature` with (16 characters at least; required).
    /// Sealed, never shown again; absent when replacing: kept.
    #[serde(default)]
    pub secret: Option<String>,
    /// PEM of the CA(s) to trust for the receiver's certificate instead of
    /// the system's.
    #[serde(default)]
    pub ca_pem: Option<String>,
    /// Allow a plain `http://` URL (a receiver on the same host or network).
    #[serde(default)]
    pub allow_plain_http: bool,
}

impl fmt::Debug for WebhookRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookRequest")
            .field("url", &self.url.as_ref().map(|_| "<redacted>"))
            .field("format", &self.format)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("allow_plain_http", &self.allow_plain_http)
            .finish_non_exhaustive()
    }
}

/// What is stored in clear: everything but the secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Settings {
    pub(crate) events: Vec<NoticeEvent>,
    pub(crate) digest_hour: Option<u8>,
    #[serde(default)]
    pub(crate) email: Option<EmailSettings>,
    #[serde(default)]
    pub(crate) webhook: Option<WebhookSettings>,
}

/// E-mail settings as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EmailSettings {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) security: SmtpSecurity,
    pub(crate) username: Option<String>,
    pub(crate) from: String,
    pub(crate) to: Vec<String>,
    pub(crate) ca_pem: Option<String>,
}

/// Webhook settings as stored (the URL is a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WebhookSettings {
    pub(crate) format: WebhookFormat,
    /// `scheme://host[:port]` of the URL, what views show of it.
    pub(crate) origin: String,
    pub(crate) ca_pem: Option<String>,
    pub(crate) allow_plain_http: bool,
}

/// What is sealed.
#[derive(Default, Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub(crate) struct Secrets {
    #[serde(default)]
    pub(crate) password: Option<String>,
    #[serde(default)]
    pub(crate) url: Option<String>,
    #[serde(default)]
    pub(crate) hmac_secret: Option<String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

/// A stored channel, read and unsealed: what a pass sends on.
#[derive(Debug, Clone)]
pub struct Channel {
    /// The row.
    pub record: ChannelRecord,
    pub(crate) settings: Settings,
    pub(crate) secrets: Secrets,
}

impl Channel {
    /// Read a stored channel: its settings, and its secrets unsealed.
    pub(crate) fn load(store: &certmgr_store::Store, record: ChannelRecord) -> EngineResult<Self> {
        let settings: Settings = serde_json::from_str(&record.settings).map_err(|e| {
            EngineError::failed(format!(
                "notification channel {:?}: its stored settings do not parse ({e}); create it again",
                record.name
            ))
        })?;
        let plain = store.unseal_channel_secrets(&record)?;
        let secrets: Secrets = serde_json::from_slice(&plain).map_err(|e| {
            EngineError::failed(format!(
                "notification channel {:?}: its sealed secrets do not parse ({e}); create it again",
                record.name
            ))
        })?;
        Ok(Channel {
            record,
            settings,
            secrets,
        })
    }

    /// Whether the channel receives notices of `event`.
    pub fn wants(&self, event: NoticeEvent) -> bool {
        self.settings.events.contains(&event)
    }

    /// The digest's hour (UTC), when the channel collects notices into one
    /// message a day.
    pub fn digest_hour(&self) -> Option<u8> {
        self.settings.digest_hour
    }
}

/// A channel as shown: its settings, and only whether each secret is set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelView {
    /// Its name.
    pub name: String,
    /// `email` or `webhook`.
    pub kind: String,
    /// Whether notices go out on it.
    pub enabled: bool,
    /// The events it receives.
    pub events: Vec<NoticeEvent>,
    /// Whether it collects notices into a daily digest.
    pub digest: bool,
    /// The digest's hour (UTC).
    pub digest_hour: Option<u8>,
    /// E-mail settings.
    pub email: Option<EmailView>,
    /// Webhook settings.
    pub webhook: Option<WebhookView>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// When its last digest went out (Unix seconds).
    pub last_digest_at: Option<i64>,
}

/// E-mail settings as shown (no password).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailView {
    /// The SMTP server.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// `starttls` or `tls`.
    pub security: SmtpSecurity,
    /// The user it authenticates as, if any.
    pub username: Option<String>,
    /// Whether a password is stored (it is never shown).
    pub password_set: bool,
    /// The sender.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// The CA(s) trusted for the server's certificate, if not the system's.
    pub ca_pem: Option<String>,
}

/// Webhook settings as shown (the URL as its origin only, no secret).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookView {
    /// The URL's origin and `/…`: the path may be a secret (Slack, Teams).
    pub url: String,
    /// `generic`, `slack` or `teams`.
    pub format: WebhookFormat,
    /// Whether an HMAC secret is stored (it is never shown).
    pub secret_set: bool,
    /// Whether plain http:// is allowed.
    pub allow_plain_http: bool,
    /// The CA(s) trusted for the receiver's certificate, if not the system's.
    pub ca_pem: Option<String>,
}

impl ChannelView {
    /// The view of a loaded channel.
    pub fn of(channel: &Channel) -> Self {
        let s = &channel.settings;
        ChannelView {
            name: channel.record.name.clone(),
            kind: channel.record.kind.clone(),
            enabled: channel.record.enabled,
            events: s.events.clone(),
            digest: s.digest_hour.is_some(),
            digest_hour: s.digest_hour,
            email: s.email.as_ref().map(|e| EmailView {
                host: e.host.clone(),
                port: e.port,
                security: e.security,
                username: e.username.clone(),
                password_set: channel.secrets.password.is_some(),
                from: e.from.clone(),
                to: e.to.clone(),
                ca_pem: e.ca_pem.clone(),
            }),
            webhook: s.webhook.as_ref().map(|w| WebhookView {
                url: format!("{}/…", w.origin),
                format: w.format,
                secret_set: channel.secrets.hmac_secret.is_some(),
                allow_plain_http: w.allow_plain_http,
                ca_pem: w.ca_pem.clone(),
            }),
            created_at: channel.record.created_at,
            updated_at: channel.record.updated_at,
            last_digest_at: channel.record.last_digest_at,
        }
    }
}
