//! Sign-in attempts, limited per user name and per client address: after
//! [`MAX_FAILURES`] wrong passwords within [`WINDOW`], further attempts for
//! that name or from that address are refused (429) until the oldest
//! failure leaves the window. A password guesser gets five tries a minute,
//! not argon2's speed.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong passwords allowed within [`WINDOW`].
pub const MAX_FAILURES: usize = 5;

/// The window failures are counted in.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Keys tracked at most (names and addresses); the oldest are forgotten
/// first, so a flood of made-up names cannot grow it without bound.
const MAX_KEYS: usize = 10_000;

/// Recent failures by key (`user:NAME`, `address:IP`).
#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        // Every write is one push or removal: a poisoned table is still whole.
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long until `keys` may try again, if any of them is over the limit.
    pub fn wait(&self, keys: &[String]) -> Option<Duration> {
        let now = Instant::now();
        let mut table = self.table();
        keys.iter()
            .filter_map(|key| {
                let times = table.get_mut(key)?;
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= WINDOW)
                {
                    times.pop_front();
                }
                (times.len() >= MAX_FAILURES)
                    .then(|| times.front().map(|t| WINDOW - now.duration_since(*t)))
                    .flatten()
            })
            .max()
    }

    /// Count a failure for every one of `keys`.
    pub fn failed(&self, keys: &[String]) {
        let now = Instant::now();
        let mut table = self.table();
        if table.len() >= MAX_KEYS {
            table.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < WINDOW)
            });
        }
        for key in keys {
            let times = table.entry(key.clone()).or_default();
            times.push_back(now);
            while times.len() > MAX_FAILURES {
                times.pop_front();
            }
        }
    }

    /// Forget the failures of `key` (its owner signed in).
    pub fn succeeded(&self, key: &str) {
        self.table().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_failure_within_the_window_waits() {
        let throttle = LoginThrottle::default();
        let keys = ["user:alice".to_owned(), "address:192.0.2.1".to_owned()];
        for _ in 0..MAX_FAILURES {
            assert_eq!(throttle.wait(&keys), None);
            throttle.failed(&keys);
        }
        let wait = throttle.wait(&keys).unwrap();
        assert!(wait > Duration::from_secs(55) && wait <= WINDOW, "{wait:?}");
        // Another user from the same address waits too; the same user from
        // elsewhere as well.
        assert!(
            throttle
                .wait(&["user:bob".into(), keys[1].clone()])
                .is_some()
        );
        assert!(
            throttle
                .wait(&[keys[0].clone(), "address:192.0.2.9".into()])
                .is_some()
        );
        assert_eq!(
            throttle.wait(&["user:bob".into(), "address:192.0.2.9".into()]),
            None
        );
        throttle.succeeded("user:alice");
        assert_eq!(throttle.wait(&[keys[0].clone()]), None);
    }
}
