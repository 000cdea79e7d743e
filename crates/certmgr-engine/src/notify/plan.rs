//! The planner: which notices are due at `now`, from the credentials' rows
//! and the notices already recorded. Pure (no store, no clock of its own),
//! so every rule is tested on fixed times.
//!
//! Rules, per credential and its current version `v`:
//!
//! - **revoked**: status revoked; nothing else is said about it.
//! - **issuance-failed**: status failed (the last issuance or renewal
//!   failed; the message carries the last error).
//! - **expired**: the version's earliest certificate expiry has passed.
//! - **expiring**: it expires within 14, 7, 3 or 1 days; only the tightest
//!   threshold crossed is noticed (a credential first seen 2 days before its
//!   expiry gets the 3-day notice, not three at once), each threshold once.
//! - **renewal-overdue**: its recorded renewal time is more than
//!   [`OVERDUE_AFTER_SECS`] past and it has not expired.
//!
//! A notice's dedupe key is credential id / version / event [/ threshold]:
//! the same condition is noticed once, and a renewal (a new version) starts
//! afresh, so a renewed certificate that nears its expiry again is noticed
//! again.

use std::collections::HashSet;

use certmgr_core::Status;
use certmgr_store::{CredentialRecord, NewNotice};

use super::NoticeEvent;
use crate::clock::timestamp;

/// The expiry thresholds, in days, loosest first.
pub const THRESHOLDS_DAYS: [u32; 4] = [14, 7, 3, 1];

/// How long past its recorded renewal time a credential that was not
/// renewed is overdue: the scheduler renews at that time, and retries a
/// failure within minutes to hours (its backoff reaches a day), so a day
/// without a new version means renewal is not happening by itself.
pub const OVERDUE_AFTER_SECS: i64 = 86_400;

const DAY: i64 = 86_400;

/// The key that makes a notice new: what it is about, down to the version.
pub fn dedupe_key(
    credential_id: &str,
    version: i64,
    event: NoticeEvent,
    threshold: Option<u32>,
) -> String {
    match threshold {
        Some(days) => format!("{credential_id}/v{version}/{}/{days}d", event.as_str()),
        None => format!("{credential_id}/v{version}/{}", event.as_str()),
    }
}

/// The notices due at `now` for `credentials` that `sent` (dedupe keys of
/// notices already recorded) does not hold yet.
pub fn plan(credentials: &[CredentialRecord], sent: &HashSet<String>, now: i64) -> Vec<NewNotice> {
    let mut out = Vec::new();
    for c in credentials {
        for (event, threshold, message) in conditions(c, now) {
            let key = dedupe_key(&c.id, c.current_version, event, threshold);
            if sent.contains(&key) {
                continue;
            }
            out.push(NewNotice {
                dedupe_key: key,
                credential_id: c.id.clone(),
                credential_name: c.name.clone(),
                event: event.as_str().to_owned(),
                threshold_days: threshold,
                version: c.current_version,
                not_after: c.not_after,
                message,
            });
        }
    }
    out
}

/// What holds for `c` at `now`: each event with its threshold and message.
fn conditions(c: &CredentialRecord, now: i64) -> Vec<(NoticeEvent, Option<u32>, String)> {
    let name = &c.name;
    let mut found = Vec::new();
    if c.status == Status::Revoked {
        found.push((
            NoticeEvent::Revoked,
            None,
            format!(
                "{name}: its certificate (version {}) was revoked",
                c.current_version
            ),
        ));
        return found;
    }
    if c.status == Status::Failed {
        let why = c.last_error.as_deref().unwrap_or("no reason was recorded");
        found.push((
            NoticeEvent::IssuanceFailed,
            None,
            format!("{name}: issuance failed: {why}"),
        ));
    }
    let Some(not_after) = c.not_after.filter(|_| c.current_version > 0) else {
        return found;
    };
    if not_after <= now {
        found.push((
            NoticeEvent::Expired,
            None,
            format!(
                "{name}: its certificate (version {}) expired at {}",
                c.current_version,
                timestamp(not_after)
            ),
        ));
        return found;
    }
    let left = not_after - now;
    if let Some(days) = THRESHOLDS_DAYS
        .iter()
        .rev()
        .copied()
        .find(|days| left <= i64::from(*days) * DAY)
    {
        found.push((
            NoticeEvent::Expiring,
            Some(days),
            format!(
                "{name}: its certificate (version {}) expires at {} ({} left), within {days} day{} and not renewed",
                c.current_version,
                timestamp(not_after),
                left_words(left),
                if days == 1 { "" } else { "s" }
            ),
        ));
    }
    if let Some(renew_at) = c.renew_at
        && now >= renew_at.saturating_add(OVERDUE_AFTER_SECS)
    {
        found.push((
            NoticeEvent::RenewalOverdue,
            None,
            format!(
                "{name}: renewal is overdue: due since {}, not renewed; the certificate expires at {}",
                timestamp(renew_at),
                timestamp(not_after)
            ),
        ));
    }
    found
}

/// `3 days 4 hours`, `5 hours`, `12 minutes`.
fn left_words(secs: i64) -> String {
    let days = secs / DAY;
    let hours = (secs % DAY) / 3600;
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match (days, hours) {
        (0, 0) => plural((secs / 60).max(1), "minute"),
        (0, h) => plural(h, "hour"),
        (d, 0) => plural(d, "day"),
        (d, h) => format!("{} {}", plural(d, "day"), plural(h, "hour")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Clock, FixedClock};
    use certmgr_core::{Health, IssuerRef};

    const T0: i64 = 1_800_000_000;

    fn credential(name: &str, version: i64, not_after: Option<i64>) -> CredentialRecord {
        CredentialRecord {
            id: format!("id-{name}"),
            name: name.into(),
            hostnames: vec![],
            key_specs: vec![],
            issuer: "ca:lab".parse::<IssuerRef>().unwrap(),
            status: Status::Valid,
            health: Health::Ok,
            last_error: None,
            validity_days: None,
            renew_before_days: None,
            challenge: None,
            profile: None,
            preferred_chain: None,
            dns_account: None,
            challenge_alias: None,
            renew_at: None,
            ari_next_check: None,
            failure_count: 0,
            next_attempt_at: None,
            current_version: version,
            created_at: T0,
            updated_at: T0,
            not_after,
            due_at: None,
        }
    }

    /// Run passes at each time, recording what each decides (like the
    /// store does), and return the events decided per pass.
    fn passes(c: &mut CredentialRecord, clock: &FixedClock, steps: &[i64]) -> Vec<Vec<String>> {
        let mut sent = HashSet::new();
        let mut out = Vec::new();
        for step in steps {
            clock.set(*step);
            let decided = plan(std::slice::from_ref(c), &sent, clock.unix());
            let words = decided
                .iter()
                .map(|n| match n.threshold_days {
                    Some(d) => format!("{}:{d}", n.event),
                    None => n.event.clone(),
                })
                .collect();
            sent.extend(decided.into_iter().map(|n| n.dedupe_key));
            // A second pass at the same time decides nothing.
            assert!(plan(std::slice::from_ref(c), &sent, clock.unix()).is_empty());
            out.push(words);
        }
        out
    }

    #[test]
    fn each_threshold_once_then_expired_once() {
        let clock = FixedClock::at(T0);
        let not_after = T0 + 30 * DAY;
        let mut c = credential("web", 1, Some(not_after));
        let at = |days_left: f64| not_after - (days_left * DAY as f64) as i64;
        let got = passes(
            &mut c,
            &clock,
            &[
                at(20.0),
                at(14.0),
                at(13.5),
                at(7.0),
                at(6.9),
                at(3.0),
                at(2.0),
                at(1.0),
                at(0.5),
                not_after,
                not_after + DAY,
            ],
        );
        let expected: Vec<Vec<&str>> = vec![
            vec![],
            vec!["expiring:14"],
            vec![],
            vec!["expiring:7"],
            vec![],
            vec!["expiring:3"],
            vec![],
            vec!["expiring:1"],
            vec![],
            vec!["expired"],
            vec![],
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn a_credential_first_seen_late_gets_only_the_tightest_threshold() {
        let clock = FixedClock::at(T0);
        let mut c = credential("late", 1, Some(T0 + 2 * DAY));
        assert_eq!(
            passes(&mut c, &clock, &[T0, T0 + DAY + 1]),
            vec![vec!["expiring:3"], vec!["expiring:1"]]
        );
    }

    #[test]
    fn a_renewal_resets_the_thresholds() {
        let mut sent = HashSet::new();
        let mut c = credential("web", 1, Some(T0 + 5 * DAY));
        let first = plan(std::slice::from_ref(&c), &sent, T0);
        assert_eq!(first.len(), 1);
        sent.extend(first.into_iter().map(|n| n.dedupe_key));
        // Renewed: version 2, 90 days.
        c.current_version = 2;
        c.not_after = Some(T0 + 90 * DAY);
        assert!(plan(std::slice::from_ref(&c), &sent, T0 + DAY).is_empty());
        // And it nears its expiry again.
        let again = plan(std::slice::from_ref(&c), &sent, T0 + 84 * DAY);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].threshold_days, Some(7));
        assert_eq!(again[0].version, 2);
        assert_ne!(
            again[0].dedupe_key,
            dedupe_key(&c.id, 1, NoticeEvent::Expiring, Some(7))
        );
    }

    #[test]
    fn revoked_says_only_revoked() {
        let mut c = credential("gone", 3, Some(T0 - DAY));
        c.status = Status::Revoked;
        let got = plan(&[c], &HashSet::new(), T0);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].event, "revoked");
        assert_eq!(got[0].dedupe_key, "id-gone/v3/revoked");
    }

    #[test]
    fn issuance_failed_carries_the_error_and_is_noticed_once_per_version() {
        let mut c = credential("acme", 0, None);
        c.status = Status::Failed;
        c.last_error = Some("the CA refused: rateLimited".into());
        let got = plan(std::slice::from_ref(&c), &HashSet::new(), T0);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].event, "issuance-failed");
        assert!(got[0].message.contains("rateLimited"));
        let sent: HashSet<String> = got.into_iter().map(|n| n.dedupe_key).collect();
        assert!(plan(std::slice::from_ref(&c), &sent, T0 + DAY).is_empty());
        // Issued, then failing to renew: a new notice.
        c.current_version = 1;
        c.not_after = Some(T0 + 60 * DAY);
        let again = plan(&[c], &sent, T0 + 2 * DAY);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].event, "issuance-failed");
    }

    #[test]
    fn overdue_a_day_after_the_renewal_time_and_not_once_expired() {
        let mut c = credential("slow", 1, Some(T0 + 30 * DAY));
        c.renew_at = Some(T0);
        assert!(plan(std::slice::from_ref(&c), &HashSet::new(), T0 + DAY - 1).is_empty());
        let got = plan(std::slice::from_ref(&c), &HashSet::new(), T0 + DAY);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].event, "renewal-overdue");
        let expired = plan(&[c], &HashSet::new(), T0 + 31 * DAY);
        assert_eq!(
            expired.iter().map(|n| n.event.as_str()).collect::<Vec<_>>(),
            ["expired"]
        );
    }

    #[test]
    fn nothing_for_healthy_or_certificateless_credentials() {
        let healthy = credential("ok", 1, Some(T0 + 60 * DAY));
        let pending = credential("new", 0, None);
        assert!(plan(&[healthy, pending], &HashSet::new(), T0).is_empty());
    }

    #[test]
    fn words_for_time_left() {
        assert_eq!(left_words(3 * DAY + 4 * 3600), "3 days 4 hours");
        assert_eq!(left_words(5 * 3600), "5 hours");
        assert_eq!(left_words(30), "1 minute");
        assert_eq!(left_words(DAY + 3600), "1 day 1 hour");
    }
}
