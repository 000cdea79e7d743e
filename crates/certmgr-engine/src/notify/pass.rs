//! One notification pass (the server runs one after each renewal pass):
//!
//! 1. read the channels (a channel whose row fails its integrity check or
//!    whose secrets do not open is reported and left out);
//! 2. when a channel is enabled, plan ([`super::plan::plan`]) from every
//!    credential and the notices already recorded for their current
//!    versions, and record each new notice with a pending delivery to each
//!    enabled channel that wants its event — the store's unique dedupe key
//!    makes this once per notice, also with several servers on one store;
//! 3. deliver: each channel in its own task, so a slow or failing one does
//!    not hold up the others. An immediate channel gets one message per
//!    notice; a digest channel one message a day, at its hour (UTC), listing
//!    every pending notice. A failed attempt is retried after 5 min,
//!    doubling, and given up (state `failed`) after [`MAX_ATTEMPTS`].

use std::collections::BTreeMap;

use certmgr_store::OpenDelivery;

use super::message::{NoticeItem, Outgoing, Purpose};
use super::{Channel, NoticeEvent, deliver};
use crate::Engine;
use crate::error::EngineResult;
use crate::progress::{step, warning};

/// Attempts of one delivery before it is given up.
pub const MAX_ATTEMPTS: u32 = 5;
/// The wait after the first failed attempt; it doubles with each one.
pub const RETRY_BASE_SECS: i64 = 300;

/// What a pass did.
#[derive(Debug, Clone, Default)]
pub struct PassReport {
    /// The notices decided (their messages).
    pub decided: Vec<String>,
    /// Messages sent (a digest counts once).
    pub sent: usize,
    /// Failed attempts: channel and why.
    pub failed: Vec<(String, String)>,
    /// Deliveries given up in this pass.
    pub given_up: usize,
    /// Channels left out: why.
    pub refused_channels: Vec<String>,
}

impl PassReport {
    /// Lines for a log: nothing when nothing happened.
    pub fn summary(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.decided.is_empty() || self.sent > 0 {
            out.push(format!(
                "notifications: {} new notice(s), {} message(s) sent",
                self.decided.len(),
                self.sent
            ));
        }
        for (channel, why) in &self.failed {
            out.push(format!("notifications: channel {channel:?} failed: {why}"));
        }
        if self.given_up > 0 {
            out.push(format!(
                "notifications: {} delivery(ies) given up after {MAX_ATTEMPTS} attempts",
                self.given_up
            ));
        }
        for why in &self.refused_channels {
            out.push(format!("notifications: channel left out: {why}"));
        }
        out
    }
}

/// The latest digest time at or before `now` for a digest at `hour` (UTC).
pub fn digest_point(now: i64, hour: u8) -> i64 {
    let point = now - now.rem_euclid(86_400) + i64::from(hour) * 3600;
    if now >= point { point } else { point - 86_400 }
}

/// Run one pass at the engine's time.
pub async fn pass(engine: &Engine<'_>) -> EngineResult<PassReport> {
    let now = engine.now();
    let store = engine.store();
    let mut report = PassReport::default();
    let mut channels = Vec::new();
    for record in store.notify_channels().await? {
        match record
            .map_err(Into::into)
            .and_then(|r| Channel::load(store, r))
        {
            Ok(channel) => channels.push(channel),
            Err(e) => {
                warning!("notification channel left out: {e}");
                report.refused_channels.push(e.to_string());
            }
        }
    }
    let enabled: Vec<&Channel> = channels.iter().filter(|c| c.record.enabled).collect();
    if enabled.is_empty() {
        return Ok(report);
    }
    let credentials = store.list_credentials().await?;
    let recorded = store.current_notice_keys().await?;
    for notice in super::plan::plan(&credentials, &recorded, now) {
        let Some(event) = NoticeEvent::parse(&notice.event) else {
            continue;
        };
        let targets: Vec<(&str, &str)> = enabled
            .iter()
            .filter(|c| c.wants(event))
            .map(|c| (c.record.id.as_str(), c.record.name.as_str()))
            .collect();
        if let Some(recorded) = store.record_notice(&notice, &targets, now).await? {
            step!("notice: {}", recorded.notice.message);
            report.decided.push(recorded.notice.message);
        }
    }
    let mut open: BTreeMap<String, Vec<OpenDelivery>> = BTreeMap::new();
    for delivery in store.open_deliveries().await? {
        open.entry(delivery.delivery.channel_id.clone())
            .or_default()
            .push(delivery);
    }
    let runs = enabled.iter().filter_map(|channel| {
        let pending = open.remove(&channel.record.id)?;
        Some(deliver_channel(engine, channel, pending, now))
    });
    for outcome in futures_util::future::join_all(runs).await {
        let outcome = outcome?;
        report.sent += outcome.sent;
        report.given_up += outcome.given_up;
        report.failed.extend(outcome.failed);
    }
    Ok(report)
}

#[derive(Default)]
struct ChannelOutcome {
    sent: usize,
    given_up: usize,
    failed: Vec<(String, String)>,
}

/// Send what is pending on one channel and record how each attempt ended.
async fn deliver_channel(
    engine: &Engine<'_>,
    channel: &Channel,
    pending: Vec<OpenDelivery>,
    now: i64,
) -> EngineResult<ChannelOutcome> {
    let mut outcome = ChannelOutcome::default();
    let due: Vec<OpenDelivery> = pending
        .into_iter()
        .filter(|d| d.delivery.next_attempt_at <= now)
        .collect();
    if due.is_empty() {
        return Ok(outcome);
    }
    let name = channel.record.name.clone();
    let batches: Vec<(Purpose, Vec<OpenDelivery>)> = match channel.digest_hour() {
        Some(hour) => {
            let last = channel
                .record
                .last_digest_at
                .unwrap_or(channel.record.created_at);
            if last >= digest_point(now, hour) {
                return Ok(outcome);
            }
            vec![(Purpose::Digest, due)]
        }
        None => due
            .into_iter()
            .map(|d| (Purpose::Notice, vec![d]))
            .collect(),
    };
    for (purpose, batch) in batches {
        let message = Outgoing {
            purpose,
            channel: name.clone(),
            id: match purpose {
                Purpose::Notice => format!("{}.{}", batch[0].notice.id, channel.record.id),
                _ => uuid::Uuid::now_v7().to_string(),
            },
            at: now,
            items: batch.iter().map(|d| NoticeItem::of(&d.notice)).collect(),
        };
        let ids: Vec<&str> = batch.iter().map(|d| d.notice.id.as_str()).collect();
        let store = engine.store();
        match deliver(channel, &message).await {
            Ok(()) => {
                store
                    .record_delivery(&channel.record.id, &ids, Ok(now))
                    .await?;
                if purpose == Purpose::Digest {
                    store.set_digest_sent(&channel.record.id, now).await?;
                }
                outcome.sent += 1;
            }
            Err(why) => {
                warning!("notification channel {name:?}: {why}");
                // The batch shares its attempts (a digest), so the first
                // one's count decides for all.
                let attempts = batch[0].delivery.attempts.saturating_add(1);
                let next = (attempts < MAX_ATTEMPTS)
                    .then(|| now + RETRY_BASE_SECS * (1_i64 << (attempts - 1).min(16)));
                if next.is_none() {
                    outcome.given_up += batch.len();
                }
                store
                    .record_delivery(&channel.record.id, &ids, Err((&why, next)))
                    .await?;
                outcome.failed.push((name.clone(), why));
                // The rest waits for the next pass: a channel that is down
                // would fail (and time out) once per notice.
                break;
            }
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_point_is_the_last_hour_mark_passed() {
        let day = 1_800_000_000 - 1_800_000_000 % 86_400;
        assert_eq!(digest_point(day + 9 * 3600, 8), day + 8 * 3600);
        assert_eq!(digest_point(day + 8 * 3600, 8), day + 8 * 3600);
        assert_eq!(digest_point(day + 7 * 3600, 8), day - 86_400 + 8 * 3600);
    }
}
