//! `/healthz` (the process answers) and `/readyz` (it can do its work: the
//! store answers a trivial query, and the renewal scheduler is alive), on
//! the API listener and open to anyone, for load balancers and
//! orchestrators. Neither names a credential or a secret.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::problem::{Problem, ProblemKind};

/// Longest wait for the store's answer before the server is not ready.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// Longest a scheduler pass may run before it counts as stalled: a pass
/// issuing many ACME certificates takes minutes, never an hour.
pub const PASS_LIMIT_SECS: i64 = 3600;

/// The scheduler's life, as the process reports it and `/readyz` and
/// `/metrics` read it. Times are Unix seconds; 0 is never.
#[derive(Debug, Default)]
pub struct Scheduler {
    interval_secs: AtomicU64,
    on_since: AtomicI64,
    pass_started: AtomicI64,
    pass_finished: AtomicI64,
}

impl Scheduler {
    /// The scheduler runs a pass every `interval_secs`, from `now`.
    pub fn turn_on(&self, interval_secs: u64, now: i64) {
        self.on_since.store(now, Ordering::Relaxed);
        self.interval_secs.store(interval_secs, Ordering::Relaxed);
    }

    /// A pass began.
    pub fn pass_started(&self, now: i64) {
        self.pass_started.store(now, Ordering::Relaxed);
    }

    /// A pass ended (well or not).
    pub fn pass_finished(&self, now: i64) {
        self.pass_finished.store(now, Ordering::Relaxed);
        self.pass_started.store(0, Ordering::Relaxed);
    }

    /// When the last pass ended, if one did.
    pub fn last_pass(&self) -> Option<i64> {
        Some(self.pass_finished.load(Ordering::Relaxed)).filter(|t| *t > 0)
    }

    /// Whether the scheduler is alive at `now`: off, in a pass shorter than
    /// [`PASS_LIMIT_SECS`], or idle for no longer than its interval and a
    /// grace (the interval again, at least a minute). Says how, or what is
    /// wrong.
    pub fn check(&self, now: i64) -> Result<String, String> {
        let interval = self.interval_secs.load(Ordering::Relaxed) as i64;
        if interval == 0 {
            return Ok("off".into());
        }
        let started = self.pass_started.load(Ordering::Relaxed);
        if started > 0 {
            let running = now - started;
            return if running <= PASS_LIMIT_SECS {
                Ok(format!("in a pass for {running} s"))
            } else {
                Err(format!(
                    "the scheduler's pass has run for {running} s (more than {PASS_LIMIT_SECS} s): it is stuck; see the log, and restart the server"
                ))
            };
        }
        let since = self
            .last_pass()
            .unwrap_or_else(|| self.on_since.load(Ordering::Relaxed));
        let idle = now - since;
        let bound = interval + interval.max(60);
        if idle <= bound {
            Ok(format!("last pass {idle} s ago, every {interval} s"))
        } else {
            Err(format!(
                "the scheduler has not run a pass for {idle} s though it runs every {interval} s: it has stopped; see the log, and restart the server"
            ))
        }
    }
}

/// The answer of `/healthz` and `/readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ok` (`/healthz`) or `ready` (`/readyz`).
    status: String,
    /// The store's check (`/readyz` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    store: Option<String>,
    /// The scheduler's check (`/readyz` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduler: Option<String>,
}

/// Whether the process answers (no authentication; no check of the store).
#[utoipa::path(get, path = "/healthz", tag = "system", security(()),
    responses((status = 200, body = Readiness)))]
pub async fn healthz() -> Json<Readiness> {
    Json(Readiness {
        status: "ok".into(),
        store: None,
        scheduler: None,
    })
}

/// Whether the server can do its work: the store answers and the renewal
/// scheduler is alive (no authentication). 503 says what is wrong.
#[utoipa::path(get, path = "/readyz", tag = "system", security(()),
    responses(
        (status = 200, body = Readiness),
        (status = 503, description = "Not ready: the store does not answer or the scheduler stopped", body = Problem)
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Readiness>, Problem> {
    let store = match tokio::time::timeout(STORE_TIMEOUT, state.store().ping()).await {
        Ok(Ok(())) => Ok("ok".to_owned()),
        Ok(Err(e)) => Err(format!("the store does not answer: {e}")),
        Err(_) => Err(format!(
            "the store did not answer within {} s",
            STORE_TIMEOUT.as_secs()
        )),
    };
    let scheduler = state.scheduler().check(state.engine().now());
    match (store, scheduler) {
        (Ok(store), Ok(scheduler)) => Ok(Json(Readiness {
            status: "ready".into(),
            store: Some(store),
            scheduler: Some(scheduler),
        })),
        (store, scheduler) => {
            let wrong: Vec<String> = [store.err(), scheduler.err()]
                .into_iter()
                .flatten()
                .collect();
            Err(Problem::new(
                ProblemKind::Unavailable,
                format!("not ready: {}", wrong.join("; ")),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheduler_is_alive_when_off_in_a_short_pass_or_idle_within_its_bound() {
        let scheduler = Scheduler::default();
        assert_eq!(scheduler.check(1_000), Ok("off".into()));
        scheduler.turn_on(60, 1_000);
        assert!(scheduler.check(1_100).is_ok());
        assert!(scheduler.check(1_121).unwrap_err().contains("has stopped"));
        scheduler.pass_started(1_200);
        assert!(scheduler.check(1_200 + PASS_LIMIT_SECS).is_ok());
        assert!(
            scheduler
                .check(1_201 + PASS_LIMIT_SECS)
                .unwrap_err()
                .contains("stuck")
        );
        scheduler.pass_finished(5_000);
        assert_eq!(scheduler.last_pass(), Some(5_000));
        assert!(scheduler.check(5_100).is_ok());
    }
}
