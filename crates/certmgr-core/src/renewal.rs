//! When to renew a certificate, and how long to wait after a failure.
//!
//! Pure functions of explicit times (Unix seconds), so the policy can be
//! tested without a clock.

/// How far ahead of the nominal renewal time renewals are spread, as a
/// fraction of the lifetime (so 10,000 certificates issued at once do not all
/// renew in the same minute).
const JITTER_FRACTION: f64 = 0.05;
/// First delay after a failed issuance, in seconds.
const FIRST_BACKOFF_SECS: i64 = 300;
/// Longest delay between attempts, in seconds.
const MAX_BACKOFF_SECS: i64 = 24 * 3600;

/// The renewal policy of one credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalPolicy {
    /// Renew this many days before expiry; `None` = when a third of the lifetime remains.
    pub renew_before_days: Option<u32>,
}

/// When to renew a certificate valid from `not_before` to `not_after`.
///
/// Without an ARI window: `not_after - renew_before_days`, or the point where
/// a third of the lifetime remains, moved earlier by up to 5 % of the lifetime
/// according to `jitter` (a value in `[0, 1)`, stable per certificate). With an
/// ARI window (RFC 9773 §4.2) the CA's suggestion wins: a point inside the
/// window chosen by `jitter`.
pub fn renew_at(
    not_before: i64,
    not_after: i64,
    policy: RenewalPolicy,
    ari_window: Option<(i64, i64)>,
    jitter: f64,
) -> i64 {
    let jitter = jitter.clamp(0.0, 1.0);
    if let Some((start, end)) = ari_window
        && end >= start
    {
        return start + ((end - start) as f64 * jitter) as i64;
    }
    let lifetime = (not_after - not_before).max(0);
    let nominal = match policy.renew_before_days {
        Some(days) => not_after - i64::from(days) * 86_400,
        None => not_after - lifetime / 3,
    };
    let spread = (lifetime as f64 * JITTER_FRACTION * jitter) as i64;
    (nominal - spread).max(not_before)
}

/// How long to wait before attempt `failures + 1`, after `failures` failed
/// attempts in a row: 5 minutes, doubling, at most a day.
pub fn backoff_secs(failures: u32) -> i64 {
    if failures == 0 {
        return 0;
    }
    let exponent = (failures - 1).min(20);
    FIRST_BACKOFF_SECS
        .saturating_mul(1_i64 << exponent)
        .min(MAX_BACKOFF_SECS)
}

/// A stable number in `[0, 1)` derived from `seed` (e.g. a credential id and
/// version), used as jitter so every run computes the same renewal time.
pub fn stable_fraction(seed: &str) -> f64 {
    // FNV-1a: small, deterministic, well spread for short strings.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash >> 11) as f64 / (1_u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    #[test]
    fn a_third_of_the_lifetime_by_default() {
        let at = renew_at(
            0,
            90 * DAY,
            RenewalPolicy {
                renew_before_days: None,
            },
            None,
            0.0,
        );
        assert_eq!(at, 60 * DAY);
        let jittered = renew_at(
            0,
            90 * DAY,
            RenewalPolicy {
                renew_before_days: None,
            },
            None,
            0.999,
        );
        assert!(
            jittered < 60 * DAY && jittered > 60 * DAY - 5 * DAY,
            "{jittered}"
        );
    }

    #[test]
    fn days_before_expiry_when_configured() {
        let at = renew_at(
            0,
            90 * DAY,
            RenewalPolicy {
                renew_before_days: Some(10),
            },
            None,
            0.0,
        );
        assert_eq!(at, 80 * DAY);
        // More days than the lifetime: renew at once, never before issuance.
        let at = renew_at(
            5,
            6 * DAY,
            RenewalPolicy {
                renew_before_days: Some(30),
            },
            None,
            0.0,
        );
        assert_eq!(at, 5);
    }

    #[test]
    fn the_ari_window_wins() {
        let policy = RenewalPolicy {
            renew_before_days: Some(10),
        };
        assert_eq!(
            renew_at(0, 90 * DAY, policy, Some((DAY, 3 * DAY)), 0.0),
            DAY
        );
        assert_eq!(
            renew_at(0, 90 * DAY, policy, Some((DAY, 3 * DAY)), 0.5),
            2 * DAY
        );
        // A window whose end is before its start is ignored.
        assert_eq!(
            renew_at(0, 90 * DAY, policy, Some((3 * DAY, DAY)), 0.0),
            80 * DAY
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_secs(0), 0);
        assert_eq!(backoff_secs(1), 300);
        assert_eq!(backoff_secs(2), 600);
        assert_eq!(backoff_secs(5), 4800);
        assert_eq!(backoff_secs(30), 24 * 3600);
    }

    #[test]
    fn stable_fraction_is_stable_and_in_range() {
        let a = stable_fraction("cred-1/3");
        assert_eq!(a, stable_fraction("cred-1/3"));
        assert_ne!(a, stable_fraction("cred-1/4"));
        for i in 0..1000 {
            let f = stable_fraction(&i.to_string());
            assert!((0.0..1.0).contains(&f));
        }
    }
}
