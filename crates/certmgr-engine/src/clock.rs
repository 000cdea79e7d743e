//! The time as the lifecycle sees it, settable in tests.
//!
//! Everything that decides by the time of day (is a credential due, has its
//! backoff passed, is a certificate valid yet, when does a lease holder's
//! registration lapse) reads it from a [`Clock`], so renewal and backoff
//! are tested on a fixed clock without sleeping. Deadlines and timeouts
//! measure durations and stay on the monotonic clock.

use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// Where the lifecycle reads the time.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> OffsetDateTime;

    /// Now, in Unix seconds.
    fn unix(&self) -> i64 {
        self.now().unix_timestamp()
    }
}

/// The system's clock: what every front end uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        #[cfg(feature = "test-hooks")]
        let now = now + time::Duration::seconds(test_offset());
        now
    }
}

/// Test builds only: seconds added to the system clock, from
/// `CERTMGR_TEST_CLOCK_OFFSET`, so that a test of the whole program can step
/// past a Retry-After or a backoff without sleeping.
#[cfg(feature = "test-hooks")]
fn test_offset() -> i64 {
    static OFFSET: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *OFFSET.get_or_init(|| {
        std::env::var("CERTMGR_TEST_CLOCK_OFFSET")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    })
}

/// A clock that says what a test sets, and moves only when told.
#[derive(Debug)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    /// A clock standing at `unix` seconds.
    pub fn at(unix: i64) -> Self {
        FixedClock(AtomicI64::new(unix))
    }

    /// Set the time.
    pub fn set(&self, unix: i64) {
        self.0.store(unix, Ordering::SeqCst);
    }

    /// Move the time forward (or back, with a negative amount).
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0.load(Ordering::SeqCst))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// Unix seconds as an RFC 3339 UTC timestamp (the seconds themselves when
/// out of range), for messages and views.
pub fn timestamp(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_moves_only_when_told() {
        let clock = FixedClock::at(1_000);
        assert_eq!(clock.unix(), 1_000);
        clock.advance(60);
        assert_eq!(clock.unix(), 1_060);
        clock.set(5);
        assert_eq!(clock.unix(), 5);
    }
}
