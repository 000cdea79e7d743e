//! Renewal: the planner (is a credential due, and why) and the renewal run.
//!
//! A credential is due when it has no certificate yet (or an order was cut
//! short), when its renewal time has come, or when its backoff after a
//! failure has passed. The renewal time is planned once per certificate: the
//! CA's ARI window when it offers one (RFC 9773, asked again after its
//! Retry-After), otherwise the credential's policy, spread by a stable
//! jitter. The planner itself ([`plan_by_status`], [`plan_certificate`],
//! [`plan_from_row`]) is pure: it reads the time it is given, so it is
//! tested on a fixed clock.
//!
//! A run does not plan every credential from its certificates. The store
//! keeps each credential's due time (`credentials.due_at`, indexed), from
//! when the planner must look at it; a run looks closely (certificates, the
//! CA's renewal information) only at the credentials whose due time has
//! come, and decides about every one of them from its inputs, never from the
//! due time alone. [`Scope::Due`] reads just those (the scheduler's pass, a
//! range scan whatever the store's size); [`Scope::Every`] reads every
//! credential to report on each (`renew --due`), decides about the others
//! from their rows ([`plan_from_row`]), and looks closely at any whose due
//! time is later than its inputs allow, repairing it.
//!
//! ACME orders run concurrently up to each account's limit, with one
//! responder per challenge type shared by all of them. Each credential runs
//! under its own deadlines ([`crate::limits`]): one that is stuck fails
//! alone, and the others finish and are reported.

use std::collections::HashMap;
use std::sync::Arc;

use certmgr_acme::AcmeAccount;
use certmgr_core::renewal::{RenewalPolicy, renew_at, stable_fraction};
use certmgr_core::{ChallengeKind, IssuerRef, Status};
use certmgr_store::{AcmeAccountRecord, CertificateRecord, CredentialRecord, PlannedRenewal};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::Engine;
use crate::clock::timestamp;
use crate::error::{EngineError, EngineResult};
use crate::limits::{Issued, Lease, superseded, take_lease};
use crate::progress::{RESULT, warning};
use crate::responders::{AnswerOptions, Responders};
use crate::solver::RunSolver;

/// Orders at once per ACME account when the account sets no limit.
const DEFAULT_CONCURRENT_ORDERS: u32 = 4;
/// Bounds on how long to wait before asking a CA's renewalInfo again: its
/// Retry-After (RFC 9773 §4.3), at least a second, at most a day.
const ARI_RECHECK_MIN_SECS: i64 = 1;
const ARI_RECHECK_MAX_SECS: i64 = 24 * 3600;

/// What a renewal run decided for one credential, and what came of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    /// The credential.
    pub name: String,
    /// Whether it was due.
    pub due: bool,
    /// Why (or until when not).
    pub reason: String,
    /// What the attempt came to, when there was one.
    pub result: Option<String>,
    /// Whether the attempt succeeded, when there was one.
    pub ok: Option<bool>,
}

/// Which credentials a renewal run reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every credential, each with a decision (`renew --due`, and the
    /// scheduler's periodic sweep): the ones the due index selects are
    /// planned in full, the others from their rows, and a credential whose
    /// stored due time is later than its inputs allow is planned in full
    /// and its due time repaired, with a warning.
    Every,
    /// Only the credentials whose due time has come, by the due index: the
    /// scheduler's pass, whatever the store's size. Decisions come only
    /// for them.
    Due,
}

/// How a renewal run answers ACME challenges.
pub enum SolverChoice<'a> {
    /// A solver the caller runs (the server's own responders).
    Given(&'a RunSolver<'a>),
    /// Decide from the user's options, and only if an ACME credential is due
    /// (so a run with nothing to do never binds a port).
    FromOptions(AnswerOptions),
}

/// What the CA's renewalInfo (ARI) said about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ari {
    /// Not asked: not an ACME credential, or its Retry-After has not passed.
    NotAsked,
    /// The CA's suggested window, and when to ask again.
    Window {
        /// Start of the window (Unix seconds).
        start: i64,
        /// End of the window (Unix seconds).
        end: i64,
        /// Seconds until the CA wants to be asked again.
        retry_after_secs: i64,
    },
    /// The CA offers no window for it (or no ARI at all), or could not be asked.
    NoWindow,
}

/// The planner's verdict on a credential with a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Whether it is due now.
    pub due: bool,
    /// Why, or until when not.
    pub reason: String,
    /// A renewal time (and next ARI check) to record, when newly planned.
    pub record: Option<(i64, Option<i64>)>,
}

/// The verdict that needs no certificate: issued outside certmgr, revoked,
/// never issued, cut short, or failed (due once its backoff has passed).
/// `None`: it depends on the certificates.
pub fn plan_by_status(credential: &CredentialRecord, now: i64) -> Option<(bool, String)> {
    let automatic = matches!(
        credential.issuer,
        IssuerRef::MicroCa(_) | IssuerRef::Acme(_)
    );
    if !automatic {
        return Some((
            false,
            format!("issued outside certmgr ({})", credential.issuer),
        ));
    }
    match credential.status {
        Status::Revoked => Some((false, "revoked".into())),
        Status::Pending => Some((true, "no certificate yet".into())),
        Status::Issuing => Some((true, "an order was cut short: resume it".into())),
        Status::Failed => Some(match credential.next_attempt_at {
            Some(at) if at > now => (
                false,
                format!(
                    "backing off after {} failure(s) until {}",
                    credential.failure_count,
                    timestamp(at)
                ),
            ),
            _ => (true, "retry after failure".into()),
        }),
        Status::Valid | Status::RenewalDue | Status::Expired => None,
    }
}

/// Whether the planner asks the CA's renewalInfo now: an ACME credential
/// whose last answer's Retry-After has passed (or that was never asked).
pub fn asks_ari(credential: &CredentialRecord, now: i64) -> bool {
    matches!(credential.issuer, IssuerRef::Acme(_))
        && credential.ari_next_check.is_none_or(|at| at <= now)
}

/// The verdict for a credential whose certificate expiring first is
/// `first`, given what ARI said.
pub fn plan_certificate(
    credential: &CredentialRecord,
    first: Option<&CertificateRecord>,
    ari: &Ari,
    now: i64,
) -> Plan {
    let Some(first) = first else {
        return Plan {
            due: true,
            reason: "no certificate yet".into(),
            record: None,
        };
    };
    if first.not_after <= now {
        return Plan {
            due: true,
            reason: "expired".into(),
            record: None,
        };
    }
    let jitter = stable_fraction(&format!("{}/{}", credential.id, credential.current_version));
    let policy = RenewalPolicy {
        renew_before_days: credential.renew_before_days,
    };
    let (at, source, record) = match ari {
        Ari::Window {
            start,
            end,
            retry_after_secs,
        } => {
            let at = renew_at(
                first.not_before,
                first.not_after,
                policy,
                Some((*start, *end)),
                jitter,
            );
            let next_check =
                now + retry_after_secs.clamp(&ARI_RECHECK_MIN_SECS, &ARI_RECHECK_MAX_SECS);
            (at, "ARI window", Some((at, Some(next_check))))
        }
        Ari::NotAsked | Ari::NoWindow => {
            let source = if matches!(ari, Ari::NotAsked)
                && credential.renew_at.is_some()
                && credential.ari_next_check.is_some()
            {
                "ARI window"
            } else {
                "policy"
            };
            match credential.renew_at {
                Some(at) => (at, source, None),
                None => {
                    let at = renew_at(first.not_before, first.not_after, policy, None, jitter);
                    (at, source, Some((at, None)))
                }
            }
        }
    };
    let (due, reason) = verdict(at, source, now);
    Plan {
        due,
        reason,
        record,
    }
}

/// The verdict on a renewal time `at` planned from `source`.
fn verdict(at: i64, source: &str, now: i64) -> (bool, String) {
    if at <= now {
        (
            true,
            format!("renewal time reached ({source}, {})", timestamp(at)),
        )
    } else {
        (false, format!("renews at {} ({source})", timestamp(at)))
    }
}

/// The verdict the planner reaches from the credential's row alone, when
/// it needs neither the certificates nor the CA: what [`plan_by_status`]
/// decides, or a recorded renewal time of an unexpired certificate whose
/// CA is not to be asked now. `None`: plan it in full.
///
/// The same verdict as the full planner's ([`plan_certificate`] with
/// [`Ari::NotAsked`]): the earliest expiry of the current certificates is
/// in the row (`not_after`), and a recorded plan is kept as it is.
pub fn plan_from_row(credential: &CredentialRecord, now: i64) -> Option<(bool, String)> {
    if let Some(verdict) = plan_by_status(credential, now) {
        return Some(verdict);
    }
    let (Some(not_after), Some(at)) = (credential.not_after, credential.renew_at) else {
        return None;
    };
    if not_after <= now || asks_ari(credential, now) {
        return None;
    }
    let source = if credential.ari_next_check.is_some() {
        "ARI window"
    } else {
        "policy"
    };
    Some(verdict(at, source, now))
}

/// One renewal run: decide about the credentials of `scope`, and (unless
/// `dry_run`) issue those that are due, answering ACME challenges as
/// `solver` says.
pub async fn renew_due(
    engine: &Engine<'_>,
    solver: SolverChoice<'_>,
    dry_run: bool,
    scope: Scope,
) -> EngineResult<Vec<Decision>> {
    let store = engine.store();
    // Records a killed run left in DNS go first.
    crate::dns01::cleanup_stale(store).await;
    let now = engine.now();
    let mut accounts: HashMap<String, (AcmeAccountRecord, AcmeAccount)> = HashMap::new();
    let mut decisions = Vec::new();
    let mut due = Vec::new();
    let mut to_record = Vec::new();
    let credentials = match scope {
        Scope::Every => store.list_credentials().await?,
        Scope::Due => store.due_credentials(now).await?,
    };
    for credential in &credentials {
        let ((is_due, reason), record) = match scope {
            Scope::Every => decide_listed(engine, credential, now, &mut accounts).await?,
            Scope::Due => decide(engine, credential, now, &mut accounts).await?,
        };
        match record {
            Record::Nothing => {}
            Record::DueTime => to_record.push(PlannedRenewal {
                credential,
                plan: None,
            }),
            Record::Plan(at, next_check) => to_record.push(PlannedRenewal {
                credential,
                plan: Some((at, next_check)),
            }),
        }
        decisions.push(Decision {
            name: credential.name.clone(),
            due: is_due,
            reason,
            result: None,
            ok: None,
        });
        if is_due {
            due.push(credential.clone());
        }
    }
    // Before any issuance: a new version plans afresh.
    store.record_plans(&to_record).await?;
    if !dry_run && !due.is_empty() {
        let results = renew_all(engine, solver, &due, &accounts).await?;
        for decision in &mut decisions {
            if let Some((ok, text)) = results.get(&decision.name) {
                decision.ok = Some(*ok);
                decision.result = Some(text.clone());
            }
        }
    }
    Ok(decisions)
}

/// One line per credential that was due, for logs.
pub fn summary(decisions: &[Decision]) -> Vec<String> {
    decisions
        .iter()
        .filter(|d| d.due)
        .map(|d| {
            format!(
                "{}: {} -> {}",
                d.name,
                d.reason,
                d.result.as_deref().unwrap_or("not attempted")
            )
        })
        .collect()
}

/// What a run records about a credential it decided about.
enum Record {
    /// Nothing: its due time is what its inputs call for.
    Nothing,
    /// Its due time, recomputed (the due index selected it too early, or
    /// missed it).
    DueTime,
    /// A newly planned renewal time and next ARI check (which recomputes
    /// its due time too).
    Plan(i64, Option<i64>),
}

/// [`decide`] for a credential of a listing of every credential: in full
/// when the due index selects it, or when its due time is later than its
/// inputs allow (changed outside certmgr: said, and repaired); else from
/// its row.
async fn decide_listed(
    engine: &Engine<'_>,
    credential: &CredentialRecord,
    now: i64,
    accounts: &mut HashMap<String, (AcmeAccountRecord, AcmeAccount)>,
) -> EngineResult<((bool, String), Record)> {
    let behind = credential.due_index_behind();
    if behind {
        warning!(
            "{}: its renewal due time in the store is later than its renewal plan allows (the row was changed outside certmgr); planned in full, and the due time repaired",
            credential.name
        );
    }
    let selected = [credential.due_at, credential.expected_due_at()]
        .iter()
        .any(|at| at.is_some_and(|at| at <= now));
    if !behind
        && !selected
        && let Some(verdict) = plan_from_row(credential, now)
        && !verdict.0
    {
        return Ok((verdict, Record::Nothing));
    }
    decide(engine, credential, now, accounts).await
}

/// Is this credential due, and why (or until when not)? Asks the CA's ARI
/// when the planner wants it. Says what to record: a newly planned renewal
/// time, or the due time when it is not what the credential's inputs call
/// for.
async fn decide(
    engine: &Engine<'_>,
    credential: &CredentialRecord,
    now: i64,
    accounts: &mut HashMap<String, (AcmeAccountRecord, AcmeAccount)>,
) -> EngineResult<((bool, String), Record)> {
    let (verdict, plan) = plan_in_full(engine, credential, now, accounts).await?;
    let record = match plan {
        Some((at, next_check)) => Record::Plan(at, next_check),
        None if credential.due_at != credential.expected_due_at() => Record::DueTime,
        None => Record::Nothing,
    };
    Ok((verdict, record))
}

/// The planner on one credential, certificates and CA included; also the
/// renewal time (and next ARI check) newly planned, if any.
async fn plan_in_full(
    engine: &Engine<'_>,
    credential: &CredentialRecord,
    now: i64,
    accounts: &mut HashMap<String, (AcmeAccountRecord, AcmeAccount)>,
) -> EngineResult<((bool, String), Option<(i64, Option<i64>)>)> {
    if let Some(verdict) = plan_by_status(credential, now) {
        return Ok((verdict, None));
    }
    let store = engine.store();
    let keys = store.key_versions(credential, None).await?;
    let first = keys
        .iter()
        .filter_map(|k| k.certificate.as_ref())
        .min_by_key(|c| c.not_after);
    let ari = match (&credential.issuer, first) {
        (IssuerRef::Acme(account_name), Some(first))
            if first.not_after > now && asks_ari(credential, now) =>
        {
            let account = match accounts.get(account_name) {
                Some((_, account)) => account.clone(),
                None => {
                    let record = store.acme_account(account_name).await?;
                    let account = crate::acme::connect(engine, &record).await?;
                    accounts.insert(account_name.clone(), (record, account.clone()));
                    account
                }
            };
            match account.renewal_window(&first.cert_der).await {
                Ok(Some(window)) => Ari::Window {
                    start: window.start,
                    end: window.end,
                    retry_after_secs: window.retry_after_secs,
                },
                Ok(None) => Ari::NoWindow,
                // The CA's ARI being down must not stop renewals: the policy
                // plans instead, and the user hears of it.
                Err(e) => {
                    warning!(
                        "{}: the CA's renewal information is unavailable ({e}); planning by the credential's policy",
                        credential.name
                    );
                    Ari::NoWindow
                }
            }
        }
        _ => Ari::NotAsked,
    };
    let plan = plan_certificate(credential, first, &ari, now);
    Ok(((plan.due, plan.reason), plan.record))
}

/// Renew every due credential: MicroCA ones one after the other (local CPU),
/// ACME ones concurrently up to each account's limit.
async fn renew_all(
    engine: &Engine<'_>,
    solver: SolverChoice<'_>,
    due: &[CredentialRecord],
    accounts: &HashMap<String, (AcmeAccountRecord, AcmeAccount)>,
) -> EngineResult<HashMap<String, (bool, String)>> {
    let store = engine.store();
    let mut results = HashMap::new();
    let mut acme_due = Vec::new();
    for credential in due {
        match &credential.issuer {
            IssuerRef::MicroCa(_) => {
                let result = report(credential, issue_microca_planned(engine, credential).await);
                tracing::info!(target: RESULT, "{}: {}", credential.name, result.1);
                results.insert(credential.name.clone(), result);
            }
            IssuerRef::Acme(_) => acme_due.push(credential),
            IssuerRef::Manual | IssuerRef::Import => {}
        }
    }
    if acme_due.is_empty() {
        return Ok(results);
    }
    let kinds: Vec<ChallengeKind> = acme_due
        .iter()
        .map(|c| c.challenge.unwrap_or(ChallengeKind::Http01))
        .collect();
    let (responders, given) = match solver {
        SolverChoice::FromOptions(options) => (
            Some(Responders::for_run(store, &kinds, &options).await?),
            None,
        ),
        SolverChoice::Given(given) => (None, Some(given)),
    };
    let solver: &RunSolver<'_> = match (&responders, given) {
        (Some(responders), _) => &responders.solver,
        (None, Some(given)) => given,
        (None, None) => return Err(EngineError::failed("no challenge solver for this run")),
    };
    let mut connected = accounts.clone();
    let mut limits: HashMap<String, Arc<Semaphore>> = HashMap::new();
    for credential in &acme_due {
        let IssuerRef::Acme(name) = &credential.issuer else {
            continue;
        };
        if !connected.contains_key(name) {
            let record = store.acme_account(name).await?;
            let account = crate::acme::connect(engine, &record).await?;
            connected.insert(name.clone(), (record, account));
        }
        if let Some((record, _)) = connected.get(name) {
            let permits = record
                .max_concurrent_orders
                .unwrap_or(DEFAULT_CONCURRENT_ORDERS)
                .max(1) as usize;
            limits
                .entry(name.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(permits)));
        }
    }
    let runs = acme_due.iter().map(|credential| {
        let connected = &connected;
        let limits = &limits;
        async move {
            let IssuerRef::Acme(name) = &credential.issuer else {
                return (credential.name.clone(), (false, "not ACME".to_owned()));
            };
            let (Some((record, account)), Some(limit)) = (connected.get(name), limits.get(name))
            else {
                return (credential.name.clone(), (false, "no account".to_owned()));
            };
            // The semaphore is never closed, so acquiring cannot fail.
            let _permit = limit.acquire().await;
            let result = report(
                credential,
                crate::acme::issue_with(engine, credential, record, account, solver, true).await,
            );
            tracing::info!(target: RESULT, "{}: {}", credential.name, result.1);
            (credential.name.clone(), result)
        }
    });
    for (name, result) in futures_util::future::join_all(runs).await {
        results.insert(name, result);
    }
    Ok(results)
}

fn report(credential: &CredentialRecord, result: EngineResult<Issued>) -> (bool, String) {
    match result {
        Ok(Issued::Version(version)) => (true, format!("issued version {version}")),
        Ok(Issued::Superseded(reason)) => (true, reason),
        Err(error) => {
            crate::telemetry::count_failure(credential);
            (false, format!("failed: {error}"))
        }
    }
}

/// A planned MicroCA renewal: under the credential's lease, and only if no
/// other run renewed it since this run read it.
async fn issue_microca_planned(
    engine: &Engine<'_>,
    credential: &CredentialRecord,
) -> EngineResult<Issued> {
    let store = engine.store();
    let owner = match take_lease(engine, credential).await? {
        Lease::Taken(owner) => owner,
        Lease::Held(holder) => {
            return Ok(Issued::Superseded(format!(
                "being issued by another run ({holder})"
            )));
        }
    };
    let result = match superseded(store, credential).await {
        Ok(Some(reason)) => Ok(Issued::Superseded(reason)),
        Ok(None) => crate::microca::issue(engine, credential)
            .await
            .map(Issued::Version),
        Err(e) => Err(e),
    };
    store.release_lease(credential, owner).await?;
    result
}

#[cfg(test)]
mod tests;
