//! The dashboard's numbers in one read of the store: credentials by status
//! and by health, expiries per day over the next [`HORIZON_DAYS`] days (in
//! the viewer's time zone), the failing credentials first, and what the
//! scheduler will do next. One answer, so that the page that most people
//! open first costs one request, whatever the store's size.

use certmgr_core::{Health, Status};
use certmgr_store::{CredentialRecord, TagScope};
use serde::{Deserialize, Serialize};

use crate::view::{CredentialSummary, effective_state};
use crate::{Engine, EngineResult};

/// How far ahead the expiry timeline reaches, in days.
pub const HORIZON_DAYS: i64 = 90;
/// How many failing credentials and upcoming renewals are listed.
pub const LISTED: usize = 10;
/// A day, in seconds.
const DAY: i64 = 86_400;

/// Credentials per status, as of now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusCounts {
    /// No certificate yet.
    pub pending: usize,
    /// Being issued.
    pub issuing: usize,
    /// Valid, outside the renewal window.
    pub valid: usize,
    /// Valid, inside the renewal window.
    pub renewal_due: usize,
    /// The last issuance or renewal failed.
    pub failed: usize,
    /// Revoked.
    pub revoked: usize,
    /// Expired.
    pub expired: usize,
}

impl StatusCounts {
    fn add(&mut self, status: Status) {
        let slot = match status {
            Status::Pending => &mut self.pending,
            Status::Issuing => &mut self.issuing,
            Status::Valid => &mut self.valid,
            Status::RenewalDue => &mut self.renewal_due,
            Status::Failed => &mut self.failed,
            Status::Revoked => &mut self.revoked,
            Status::Expired => &mut self.expired,
        };
        *slot += 1;
    }
}

/// Credentials per health, as of now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthCounts {
    /// Nothing to do.
    pub ok: usize,
    /// Needs attention soon.
    pub warning: usize,
    /// Broken.
    pub error: usize,
}

/// The certificates that expire on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayCount {
    /// The day's start (local midnight) in Unix seconds.
    pub day: i64,
    /// Credentials whose earliest certificate expires that day.
    pub count: usize,
}

/// A renewal the scheduler has planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Upcoming {
    /// The credential.
    pub name: String,
    /// When the scheduler takes it up (Unix seconds; past: at its next pass).
    pub due_at: i64,
    /// When its certificate expires, if it has one.
    pub not_after: Option<i64>,
    /// Failed attempts in a row.
    pub failure_count: u32,
}

/// The dashboard.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    /// The time the numbers are for (Unix seconds).
    pub now: i64,
    /// Credentials in all.
    pub total: usize,
    /// Per status.
    pub by_status: StatusCounts,
    /// Per health.
    pub by_health: HealthCounts,
    /// One entry per day from today, [`HORIZON_DAYS`] of them.
    pub expiries: Vec<DayCount>,
    /// Credentials whose issuance or renewal failed, most failures first.
    pub failing: Vec<CredentialSummary>,
    /// How many fail in all (`failing` lists the first [`LISTED`]).
    pub failing_total: usize,
    /// The next renewals, soonest first.
    pub upcoming: Vec<Upcoming>,
}

/// The dashboard of the credentials carrying every tag of `tags` (all
/// credentials without any), with days starting at local midnight for a
/// viewer `utc_offset_minutes` east of UTC.
pub async fn dashboard(
    engine: &Engine<'_>,
    tags: &[TagScope],
    utc_offset_minutes: i32,
) -> EngineResult<Dashboard> {
    let reached = crate::view::tagged_ids(engine, tags).await?;
    let rows = engine.store().list_credentials().await?;
    let selected = rows
        .iter()
        .filter(|c| reached.as_ref().is_none_or(|ids| ids.contains(&c.id)));
    Ok(summarize(selected, engine.now(), utc_offset_minutes))
}

/// The dashboard of `credentials` at `now` (the pure part of [`dashboard`]).
pub fn summarize<'a>(
    credentials: impl Iterator<Item = &'a CredentialRecord>,
    now: i64,
    utc_offset_minutes: i32,
) -> Dashboard {
    let offset = i64::from(utc_offset_minutes.clamp(-14 * 60, 14 * 60)) * 60;
    let today = (now + offset).div_euclid(DAY) * DAY - offset;
    let mut per_day = vec![0usize; HORIZON_DAYS as usize];
    let mut by_status = StatusCounts::default();
    let mut by_health = HealthCounts::default();
    let mut failing: Vec<&CredentialRecord> = Vec::new();
    let mut upcoming: Vec<Upcoming> = Vec::new();
    let mut total = 0;
    for c in credentials {
        total += 1;
        let (status, health) = effective_state(c, now);
        by_status.add(status);
        match health {
            Health::Ok => by_health.ok += 1,
            Health::Warning => by_health.warning += 1,
            Health::Error => by_health.error += 1,
        }
        // Still to come: an expired certificate is counted as expired.
        if let Some(not_after) = c.not_after
            && not_after > now
        {
            let day = (not_after - today) / DAY;
            if let Some(slot) = usize::try_from(day).ok().and_then(|d| per_day.get_mut(d)) {
                *slot += 1;
            }
        }
        if status == Status::Failed || c.failure_count > 0 {
            failing.push(c);
        }
        if let Some(due_at) = c.due_at
            && !matches!(status, Status::Revoked)
        {
            upcoming.push(Upcoming {
                name: c.name.clone(),
                due_at,
                not_after: c.not_after,
                failure_count: c.failure_count,
            });
        }
    }
    let failing_total = failing.len();
    failing.sort_by(|a, b| {
        b.failure_count
            .cmp(&a.failure_count)
            .then_with(|| a.name.cmp(&b.name))
    });
    upcoming.sort_by(|a, b| a.due_at.cmp(&b.due_at).then_with(|| a.name.cmp(&b.name)));
    upcoming.truncate(LISTED);
    Dashboard {
        now,
        total,
        by_status,
        by_health,
        expiries: per_day
            .into_iter()
            .enumerate()
            .map(|(i, count)| DayCount {
                day: today + i as i64 * DAY,
                count,
            })
            .collect(),
        failing: failing
            .into_iter()
            .take(LISTED)
            .map(|c| CredentialSummary::new(c, now))
            .collect(),
        failing_total,
        upcoming,
    }
}

#[cfg(test)]
mod tests {
    use certmgr_core::{Hostname, IssuerRef, KeySpec};

    use super::*;

    /// 2026-12-01T00:00:00Z.
    const T0: i64 = 1_796_083_200;

    fn credential(name: &str, status: Status, not_after: Option<i64>) -> CredentialRecord {
        CredentialRecord {
            id: format!("id-{name}"),
            name: name.into(),
            hostnames: vec![Hostname::Dns(format!("{name}.example.test"))],
            key_specs: vec![KeySpec::EcdsaP256],
            issuer: IssuerRef::Manual,
            status,
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
            current_version: 1,
            created_at: T0,
            updated_at: T0,
            not_after,
            due_at: None,
        }
    }

    #[test]
    fn counts_days_failures_and_the_next_renewals() {
        let now = T0 + 10 * 3600; // 10:00 UTC
        let mut rows = vec![
            // Expires later today (UTC), tomorrow, and past the horizon.
            credential("today", Status::Valid, Some(T0 + 20 * 3600)),
            credential("tomorrow", Status::Valid, Some(T0 + DAY + 60)),
            credential("far", Status::Valid, Some(T0 + 200 * DAY)),
            // Stored as valid but expired an hour ago: counted as expired.
            credential("gone", Status::Valid, Some(now - 3600)),
            credential("pending", Status::Pending, None),
        ];
        let mut broken = credential("broken", Status::Failed, None);
        broken.failure_count = 3;
        broken.due_at = Some(now - 60);
        rows.push(broken);
        let mut flaky = credential("flaky", Status::Valid, Some(T0 + 30 * DAY));
        flaky.failure_count = 1;
        flaky.due_at = Some(now + 3600);
        rows.push(flaky);

        let d = summarize(rows.iter(), now, 0);
        assert_eq!(d.total, 7);
        assert_eq!(
            d.by_status,
            StatusCounts {
                pending: 1,
                valid: 4,
                failed: 1,
                expired: 1,
                ..StatusCounts::default()
            }
        );
        assert_eq!(d.by_health.ok + d.by_health.warning + d.by_health.error, 7);
        assert_eq!(d.expiries.len(), HORIZON_DAYS as usize);
        assert_eq!(d.expiries[0], DayCount { day: T0, count: 1 });
        assert_eq!(d.expiries[1].count, 1);
        assert_eq!(d.expiries[30].count, 1);
        assert_eq!(d.expiries.iter().map(|e| e.count).sum::<usize>(), 3);
        let failing: Vec<_> = d.failing.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(failing, ["broken", "flaky"]);
        assert_eq!(d.failing_total, 2);
        let upcoming: Vec<_> = d.upcoming.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(upcoming, ["broken", "flaky"]);
    }

    #[test]
    fn days_start_at_the_viewers_midnight() {
        let now = T0 + 10 * 3600;
        // 23:30 UTC on T0 is already the next day two hours east of UTC.
        let rows = [credential(
            "late",
            Status::Valid,
            Some(T0 + 23 * 3600 + 1800),
        )];
        let utc = summarize(rows.iter(), now, 0);
        assert_eq!(utc.expiries[0].count, 1);
        let east = summarize(rows.iter(), now, 120);
        assert_eq!(east.expiries[0].day, T0 - 7200);
        assert_eq!(east.expiries[1].count, 1);
        let west = summarize(rows.iter(), now, -300);
        assert_eq!(west.expiries[0].day, T0 + 5 * 3600);
        assert_eq!(west.expiries[0].count, 1);
    }
}
