//! How long one credential's ACME issuance may take, and the lease that
//! keeps other processes off it meanwhile.
//!
//! Every credential runs under its own deadlines, so that one stuck
//! credential (a DNS provider that never answers, a propagation that never
//! completes, a CA that keeps an order `processing`) fails alone, with the
//! usual backoff, while `renew --due` and the server's scheduler finish the
//! others.

use std::time::Duration;

use certmgr_acme::{CLEANUP_LIMIT, Deadlines};
use certmgr_store::{CredentialRecord, Store};

use crate::Engine;
use crate::error::{EngineError, EngineResult};

/// Longest challenge phase of one order: publishing every answer (DNS
/// records and their propagation included) and the CA's validation. A DNS
/// account's propagation timeout fits inside it.
pub const CHALLENGE_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// Longest issuance of one credential, start to stored certificate (every
/// key's order included).
pub const ORDER_DEADLINE: Duration = Duration::from_secs(30 * 60);

/// Test-only: `CHALLENGE_SECS,ORDER_SECS` replacing [`CHALLENGE_DEADLINE`] and
/// [`ORDER_DEADLINE`], so that a test can watch a stuck credential fail
/// within seconds. Not for production use.
const TEST_DEADLINES_ENV: &str = "CERTMGR_TEST_DEADLINES";

/// Margin on top of the issuance's limits before the lease expires.
const LEASE_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The limits of one issuance: the built-in ones, or those of
/// `CERTMGR_TEST_DEADLINES` (tests only; the one place it is read).
pub fn limits() -> (Duration, Duration) {
    let from_env = std::env::var(TEST_DEADLINES_ENV).ok().and_then(|value| {
        let (challenge, order) = value.split_once(',')?;
        let challenge: u64 = challenge.trim().parse().ok()?;
        let order: u64 = order.trim().parse().ok()?;
        (challenge > 0 && order > 0)
            .then(|| (Duration::from_secs(challenge), Duration::from_secs(order)))
    });
    from_env.unwrap_or((CHALLENGE_DEADLINE, ORDER_DEADLINE))
}

/// Deadlines of an issuance starting now.
pub fn deadlines_from_now() -> Deadlines {
    let (challenge, order) = limits();
    Deadlines::starting_now(challenge, order)
}

/// How long the last resort around a whole issuance waits: the order's
/// limit, then time to withdraw its answers.
pub fn backstop(deadlines: &Deadlines) -> Duration {
    deadlines.order + CLEANUP_LIMIT + Duration::from_secs(10)
}

/// How long an issuance lease lasts before another process may take over:
/// longer than an issuance may run, so that a live holder keeps it.
fn lease_secs() -> i64 {
    let (_, order) = limits();
    i64::try_from((order + CLEANUP_LIMIT + LEASE_MARGIN).as_secs()).unwrap_or(i64::MAX)
}

/// What an issuance under the credential's lease came to.
#[derive(Debug)]
pub enum Issued {
    /// A new version was stored.
    Version(i64),
    /// Nothing was ordered: another run changed the credential between this
    /// run's plan and its lease (it issued it, or it failed and backs off).
    Superseded(String),
}

/// Whether this process got a credential's issuance lease.
pub enum Lease {
    /// Taken, by this owner id.
    Taken(&'static str),
    /// Held by another live process, described for people.
    Held(String),
}

/// Take the credential's lease for this process (registered as an instance
/// on first use).
pub async fn take_lease(engine: &Engine<'_>, credential: &CredentialRecord) -> EngineResult<Lease> {
    let store = engine.store();
    let owner = crate::instance::join(store).await?;
    Ok(
        match store.take_lease(credential, owner, lease_secs()).await? {
            None => Lease::Taken(owner),
            Some(holder) => Lease::Held(crate::instance::describe(engine, &holder).await),
        },
    )
}

/// The lease of a run that was asked for (not planned): held elsewhere is an error.
pub async fn take_lease_or_fail(
    engine: &Engine<'_>,
    credential: &CredentialRecord,
) -> EngineResult<&'static str> {
    match take_lease(engine, credential).await? {
        Lease::Taken(owner) => Ok(owner),
        Lease::Held(holder) => Err(EngineError::failed(format!(
            "an issuance of {:?} is already running ({holder}); wait for it",
            credential.name
        ))),
    }
}

/// Under the lease: has another run changed the credential since `planned`
/// was read? A run that planned an order must not place it again when
/// another run issued the credential (or failed and backs off) meanwhile:
/// that would be a duplicate order against the CA's rate limits.
pub async fn superseded(store: &Store, planned: &CredentialRecord) -> EngineResult<Option<String>> {
    let now = store.credential(&planned.name).await?;
    Ok(if now.id != planned.id {
        Some("the credential was replaced meanwhile".to_owned())
    } else if now.current_version != planned.current_version {
        Some(format!(
            "issued meanwhile by another run (version {})",
            now.current_version
        ))
    } else if now.failure_count != planned.failure_count {
        Some(format!(
            "failed meanwhile in another run ({} failure(s)); backing off",
            now.failure_count
        ))
    } else {
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_outlasts_an_issuance() {
        let (challenge, order) = limits();
        assert!(challenge <= order);
        assert!(lease_secs() as u64 > order.as_secs() + CLEANUP_LIMIT.as_secs());
    }
}
