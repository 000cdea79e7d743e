//! This process as an owner of issuance leases and TXT journal entries.
//!
//! The first time a command needs an owner (an issuance, a DNS-01 record),
//! the process registers a random instance id in the store; while the command
//! runs, [`keep_alive`] renews it every third of its lifetime. A process that
//! dies stops renewing, and once its row expires its leases and journal
//! entries are free for others: "dead" is decided by that clock alone,
//! never by looking for a process id, which would be wrong across containers
//! and hosts.

use std::sync::OnceLock;
use std::time::Duration;

use certmgr_store::Store;
use tokio::sync::OnceCell;

use crate::Engine;
use crate::error::EngineResult;

/// How long an instance counts as alive after its last heartbeat. A crashed
/// process's leases and journal entries are taken over this long after it died.
const INSTANCE_TTL: Duration = Duration::from_secs(30);

/// Test-only: seconds replacing [`INSTANCE_TTL`], so that a test can watch a
/// killed process's lease expire within seconds. Read in [`ttl`] only.
const TEST_TTL_ENV: &str = "CERTMGR_TEST_INSTANCE_TTL";

/// How long a long-expired instance row is kept for messages about it.
const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

struct Instance {
    id: String,
    registered: OnceCell<()>,
}

fn me() -> &'static Instance {
    static INSTANCE: OnceLock<Instance> = OnceLock::new();
    INSTANCE.get_or_init(|| Instance {
        id: uuid::Uuid::now_v7().to_string(),
        registered: OnceCell::new(),
    })
}

/// The instance lifetime in force.
pub fn ttl() -> Duration {
    std::env::var(TEST_TTL_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|secs| *secs > 0)
        .map_or(INSTANCE_TTL, Duration::from_secs)
}

fn ttl_secs() -> i64 {
    i64::try_from(ttl().as_secs()).unwrap_or(i64::MAX)
}

/// This process's owner id, registered in the store on first use.
pub async fn join(store: &Store) -> EngineResult<&'static str> {
    let instance = me();
    instance
        .registered
        .get_or_try_init(|| async {
            store
                .register_instance(
                    &instance.id,
                    &host_name(),
                    i64::from(std::process::id()),
                    ttl_secs(),
                )
                .await
        })
        .await?;
    Ok(&instance.id)
}

/// Renews this instance's registration for as long as the returned future is
/// polled (run it beside the command). Does nothing until [`join`] was called.
pub async fn keep_alive(store: &Store) {
    let instance = me();
    let period = ttl() / 3;
    loop {
        tokio::time::sleep(period).await;
        if instance.registered.get().is_none() {
            continue;
        }
        match store.beat_instance(&instance.id, ttl_secs()).await {
            Ok(true) => {}
            // Expired and removed by someone: register again; the leases it
            // held may have been taken over, which the lease holder's own
            // checks (the new version is written under the lease) cover.
            Ok(false) => {
                if let Err(e) = store
                    .register_instance(
                        &instance.id,
                        &host_name(),
                        i64::from(std::process::id()),
                        ttl_secs(),
                    )
                    .await
                {
                    crate::progress::warning!("cannot register this process again: {e}");
                }
            }
            Err(e) => crate::progress::warning!("cannot renew this process's registration: {e}"),
        }
    }
}

/// Unregisters at a clean exit (its leases are given back).
pub async fn leave(store: &Store) {
    let instance = me();
    if instance.registered.get().is_some() {
        let grace = i64::try_from(FORGET_AFTER.as_secs()).unwrap_or(i64::MAX);
        if let Err(e) = store.retire_instance(&instance.id, grace).await {
            crate::progress::warning!("cannot unregister this process: {e}");
        }
    }
}

/// How a lease holder is described in messages: its host and process, and
/// when its lease frees itself if that process is gone.
pub async fn describe(engine: &Engine<'_>, holder: &str) -> String {
    match engine.store().instance(holder).await {
        Ok(Some(record)) => {
            let now = engine.now();
            format!(
                "process {} on {}, alive {} s ago; if it is gone, its lease frees itself within {} s",
                record.pid,
                record.host,
                (now - (record.alive_until - ttl_secs())).max(0),
                (record.alive_until - now).max(0)
            )
        }
        _ => format!("owner {holder}"),
    }
}

/// This machine's host name, for leases and server registrations.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into())
}
