//! What a message says, in each channel's format: an e-mail (RFC 5322,
//! plain text), certmgr's generic JSON with its HMAC signature, a Slack
//! message, a Teams Adaptive Card.
//!
//! Generic webhooks carry (names also in [`SIGNATURE_HEADER`] and the
//! other constants):
//!
//! - `X-Certmgr-Timestamp: <unix seconds>` when the request was made;
//! - `X-Certmgr-Signature: sha256=<hex>`: HMAC-SHA256 under the channel's
//!   secret over `<timestamp>.<raw body>` (GitHub's header format, Stripe's
//!   binding of the timestamp). A receiver recomputes it, compares in
//!   constant time, and refuses a timestamp more than 5 minutes away from
//!   its clock, so a captured request cannot be replayed later;
//! - `X-Certmgr-Event: notice | digest | test` and `X-Certmgr-Delivery: <id>`
//!   (the same id on a retry of the same message, for idempotent receivers).

use aws_lc_rs::hmac;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::clock::timestamp;

/// The signature header of generic webhooks.
pub const SIGNATURE_HEADER: &str = "X-Certmgr-Signature";
/// The header carrying the signed timestamp (Unix seconds).
pub const TIMESTAMP_HEADER: &str = "X-Certmgr-Timestamp";
/// The header naming what the message is (`notice`, `digest`, `test`).
pub const EVENT_HEADER: &str = "X-Certmgr-Event";
/// The header carrying the message's id.
pub const DELIVERY_HEADER: &str = "X-Certmgr-Delivery";
/// How far a receiver should accept a timestamp from its clock.
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

/// What a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// One notice, sent as it was decided.
    Notice,
    /// The day's notices of a digest channel, in one message.
    Digest,
    /// A test of the channel ("send test").
    Test,
}

impl Purpose {
    /// The text form (the `X-Certmgr-Event` header, the JSON `type`).
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Notice => "notice",
            Purpose::Digest => "digest",
            Purpose::Test => "test",
        }
    }
}

/// One notice in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeItem {
    /// The notice's id.
    pub id: String,
    /// `issuance-failed`, `renewal-overdue`, `expiring`, `expired`, `revoked`.
    pub event: String,
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
}

impl NoticeItem {
    /// The item of a recorded notice.
    pub fn of(record: &certmgr_store::NoticeRecord) -> Self {
        let n = &record.notice;
        NoticeItem {
            id: record.id.clone(),
            event: n.event.clone(),
            threshold_days: n.threshold_days,
            credential: n.credential_name.clone(),
            version: n.version,
            not_after: n.not_after.map(timestamp),
            message: n.message.clone(),
            created_at: timestamp(record.created_at),
        }
    }
}

/// A message to send on one channel.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// What it is.
    pub purpose: Purpose,
    /// The channel's name.
    pub channel: String,
    /// The message's id (`X-Certmgr-Delivery`, the e-mail's Message-ID).
    pub id: String,
    /// When it is sent (Unix seconds).
    pub at: i64,
    /// The notices (none for a test).
    pub items: Vec<NoticeItem>,
}

impl Outgoing {
    /// A subject line.
    pub fn subject(&self) -> String {
        match (self.purpose, self.items.as_slice()) {
            (Purpose::Test, _) => {
                format!("[certmgr] test of notification channel {}", self.channel)
            }
            (Purpose::Digest, items) => format!(
                "[certmgr] daily digest: {} notice{}",
                items.len(),
                if items.len() == 1 { "" } else { "s" }
            ),
            (Purpose::Notice, [one]) => format!("[certmgr] {}", headline(one)),
            (Purpose::Notice, items) => format!("[certmgr] {} notices", items.len()),
        }
    }

    /// The plain-text body (lines end in `\n`).
    pub fn text(&self) -> String {
        let mut out = String::new();
        match self.purpose {
            Purpose::Test => out.push_str(&format!(
                "This is a test message of certmgr's notification channel {:?}, sent at {}.\n\
                 Notices about credentials (issuance failed, renewal overdue, expiring, \
                 expired, revoked) will arrive like this one.\n",
                self.channel,
                timestamp(self.at)
            )),
            Purpose::Digest => out.push_str(&format!(
                "certmgr's notices since the last digest ({}):\n\n",
                timestamp(self.at)
            )),
            Purpose::Notice => {}
        }
        for item in &self.items {
            if self.purpose == Purpose::Digest {
                out.push_str("- ");
            }
            out.push_str(&item.message);
            out.push('\n');
        }
        out
    }

    /// certmgr's generic JSON.
    pub fn generic_json(&self) -> serde_json::Value {
        json!({
            "type": self.purpose.as_str(),
            "id": self.id,
            "channel": self.channel,
            "sent_at": timestamp(self.at),
            "notices": self.items,
        })
    }

    /// A Slack incoming-webhook message: `text` (the notification's
    /// fallback) and `blocks` (a header and one section per notice).
    pub fn slack_json(&self) -> serde_json::Value {
        let mut blocks = vec![json!({
            "type": "header",
            "text": {"type": "plain_text", "text": truncate(&self.subject(), 150)},
        })];
        let lines: Vec<String> = if self.items.is_empty() {
            vec![self.text()]
        } else {
            self.items.iter().map(|i| i.message.clone()).collect()
        };
        // Slack allows 50 blocks, 3000 characters of section text.
        for line in lines.iter().take(49) {
            blocks.push(json!({
                "type": "section",
                "text": {"type": "plain_text", "text": truncate(line, 3000)},
            }));
        }
        json!({"text": truncate(&format!("{}\n{}", self.subject(), self.text()), 4000), "blocks": blocks})
    }

    /// A Microsoft Teams message: one Adaptive Card (what Teams workflows'
    /// "when a webhook request is received" and incoming webhooks accept).
    pub fn teams_json(&self) -> serde_json::Value {
        let mut body = vec![json!({
            "type": "TextBlock",
            "text": self.subject(),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": true,
        })];
        if self.items.is_empty() {
            body.push(json!({"type": "TextBlock", "text": self.text(), "wrap": true}));
        }
        for item in &self.items {
            body.push(json!({"type": "TextBlock", "text": item.message, "wrap": true}));
        }
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                },
            }],
        })
    }
}

/// A short headline of one notice.
fn headline(item: &NoticeItem) -> String {
    let what = match (item.event.as_str(), item.threshold_days) {
        ("expiring", Some(1)) => "expires within 1 day".to_owned(),
        ("expiring", Some(days)) => format!("expires within {days} days"),
        ("issuance-failed", _) => "issuance failed".to_owned(),
        ("renewal-overdue", _) => "renewal overdue".to_owned(),
        ("expired", _) => "certificate expired".to_owned(),
        ("revoked", _) => "certificate revoked".to_owned(),
        (other, _) => other.to_owned(),
    };
    format!("{}: {what}", item.credential)
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The `X-Certmgr-Signature` value of `body` sent at `timestamp` under
/// `secret`: `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("sha256={}", hex::encode(ctx.sign().as_ref()))
}

/// What a receiver does: whether `signature_header` signs `body` at
/// `timestamp_header` under `secret`, and the timestamp is within
/// [`SIGNATURE_TOLERANCE_SECS`] of `now` (constant-time comparison).
pub fn verify_signature(
    secret: &[u8],
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
) -> bool {
    let Ok(sent_at) = timestamp_header.trim().parse::<i64>() else {
        return false;
    };
    if (now - sent_at).abs() > SIGNATURE_TOLERANCE_SECS {
        return false;
    }
    let Some(given) = signature_header
        .trim()
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut signed = sent_at.to_string().into_bytes();
    signed.push(b'.');
    signed.extend_from_slice(body);
    hmac::verify(&key, &signed, &given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing(purpose: Purpose, n: usize) -> Outgoing {
        Outgoing {
            purpose,
            channel: "ops".into(),
            id: "m1".into(),
            at: 1_800_000_000,
            items: (0..n)
                .map(|i| NoticeItem {
                    id: format!("n{i}"),
                    event: "expiring".into(),
                    threshold_days: Some(7),
                    credential: format!("web{i}"),
                    version: 2,
                    not_after: Some("2027-01-22T08:00:00Z".into()),
                    message: format!("web{i}: expires soon"),
                    created_at: "2027-01-15T08:00:00Z".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn signatures_verify_and_bind_body_time_and_key() {
        let body = br#"{"type":"test"}"#;
        let sig = signature(b"0123456789abcdef", 1000, body);
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        assert!(verify_signature(
            b"0123456789abcdef",
            "1000",
            &sig,
            body,
            1100
        ));
        assert!(!verify_signature(
            b"0123456789abcdef",
            "1001",
            &sig,
            body,
            1100
        ));
        assert!(!verify_signature(
            b"other-secret-000",
            "1000",
            &sig,
            body,
            1100
        ));
        assert!(!verify_signature(
            b"0123456789abcdef",
            "1000",
            &sig,
            b"{}",
            1100
        ));
        assert!(!verify_signature(
            b"0123456789abcdef",
            "1000",
            &sig,
            body,
            1000 + 301
        ));
        assert!(!verify_signature(
            b"0123456789abcdef",
            "1000",
            "md5=00",
            body,
            1000
        ));
    }

    #[test]
    fn slack_and_teams_payloads_have_their_published_shapes() {
        let digest = outgoing(Purpose::Digest, 3);
        let slack = digest.slack_json();
        assert!(
            slack["text"]
                .as_str()
                .unwrap()
                .contains("web1: expires soon")
        );
        assert_eq!(slack["blocks"][0]["type"], "header");
        assert_eq!(slack["blocks"].as_array().unwrap().len(), 4);
        let teams = digest.teams_json();
        assert_eq!(teams["type"], "message");
        let card = &teams["attachments"][0];
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        assert_eq!(card["content"]["body"].as_array().unwrap().len(), 4);
        let generic = digest.generic_json();
        assert_eq!(generic["type"], "digest");
        assert_eq!(generic["notices"][2]["credential"], "web2");
        assert_eq!(generic["notices"][0]["threshold_days"], 7);
    }

    #[test]
    fn subjects() {
        assert_eq!(
            outgoing(Purpose::Notice, 1).subject(),
            "[certmgr] web0: expires within 7 days"
        );
        assert_eq!(
            outgoing(Purpose::Digest, 2).subject(),
            "[certmgr] daily digest: 2 notices"
        );
        let test = outgoing(Purpose::Test, 0);
        assert!(test.subject().contains("test"));
        assert!(
            test.slack_json()["blocks"][1]["text"]["text"]
                .as_str()
                .unwrap()
                .contains("test message")
        );
    }
}
