//! Named points where a test can freeze the process to kill it (SIGKILL) there.
//!
//! Compiled in only with the `failpoints` feature, which test builds turn on
//! (the `certmgr` crate's dev-dependencies): release builds carry none. With
//! `CERTMGR_FAILPOINT=<name>` in the environment, the process prints
//! `failpoint <name> reached` on stderr when it gets there and then stops
//! making progress until it is killed. Crash-safety tests use this to kill
//! an issuance at an exact step and check that the next run completes it.
//! The wait is an async pending future: only the task at the failpoint
//! stops, never a runtime worker thread.

/// The environment variable that names the failpoint to stop at.
pub const FAILPOINT_ENV: &str = "CERTMGR_FAILPOINT";

/// Stop here forever if `CERTMGR_FAILPOINT` names this point. Only this
/// task stops: the runtime's other work (the process's heartbeat, servers)
/// goes on, as it would while an issuance waits on a slow CA.
#[cfg(feature = "failpoints")]
pub async fn failpoint(name: &str) {
    if std::env::var(FAILPOINT_ENV).is_ok_and(|wanted| wanted == name) {
        eprintln!("failpoint {name} reached");
        std::future::pending::<()>().await;
    }
}

/// Without the `failpoints` feature a failpoint is nothing at all.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub async fn failpoint(_name: &str) {}
