//! `certmgr renew --due`: issue or renew every credential that needs it.
//!
//! A credential is due when it has no certificate yet (or an order was cut
//! short), when its renewal time has come, or when its backoff after a failure
//! has passed. The renewal time is planned once per certificate: the CA's ARI
//! window when it offers one (RFC 9773, asked again after its Retry-After),
//! otherwise the credential's policy, spread by a stable jitter. ACME orders
//! run concurrently up to each account's limit, with one responder per
//! challenge type shared by all of them. Each credential runs under its own
//! deadlines ([`crate::commands::issue_limits`]): one that is stuck fails
//! alone, and the others finish and are reported.

use std::collections::HashMap;
use std::sync::Arc;

use certmgr_acme::AcmeAccount;
use certmgr_core::renewal::{RenewalPolicy, renew_at, stable_fraction};
use certmgr_core::{ChallengeKind, IssuerRef, Status};
use certmgr_store::{AcmeAccountRecord, CredentialRecord, Store};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::cli::RenewArgs;
use crate::commands::acme_issue::{AnswerOptions, Responders, issue_with};
use crate::commands::issue_limits::{Issued, Lease, superseded, take_lease};
use crate::commands::{acme, issue};
use crate::error::{CliError, CliResult};
use crate::output::{print_json, print_table, timestamp};
use crate::solver::RunSolver;

/// Orders at once per ACME account when the account sets no limit.
const DEFAULT_CONCURRENT_ORDERS: u32 = 4;
/// Bounds on how long to wait before asking a CA's renewalInfo again: its
/// Retry-After (RFC 9773 §4.3), at least a second, at most a day.
const ARI_RECHECK_MIN_SECS: i64 = 1;
const ARI_RECHECK_MAX_SECS: i64 = 24 * 3600;

/// What `renew --due` decided for one credential, and what came of it.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    name: String,
    due: bool,
    reason: String,
    result: Option<String>,
    ok: Option<bool>,
}

/// How a renewal run answers ACME challenges.
pub enum SolverChoice<'a> {
    /// A solver the caller runs (the server's own responders).
    Given(&'a RunSolver<'a>),
    /// Decide from the user's options, and only if an ACME credential is due
    /// (so a run with nothing to do never binds a port).
    FromOptions(AnswerOptions),
}

pub async fn run(store: &Store, args: &RenewArgs, json: bool) -> CliResult<()> {
    let options = AnswerOptions::from(&args.answer);
    let decisions = plan_and_run(
        store,
        SolverChoice::FromOptions(options),
        args.dry_run,
        json,
    )
    .await?;
    let failed = decisions.iter().filter(|d| d.ok == Some(false)).count();
    let due = decisions.iter().filter(|d| d.due).count();
    if json {
        print_json(&decisions)?;
    } else {
        let rows: Vec<Vec<String>> = decisions
            .iter()
            .map(|d| {
                vec![
                    d.name.clone(),
                    if d.due { "due" } else { "-" }.into(),
                    d.reason.clone(),
                    d.result.clone().unwrap_or_default(),
                ]
            })
            .collect();
        print_table(&["NAME", "DUE", "WHY", "RESULT"], &rows)?;
    }
    if failed > 0 {
        return Err(CliError::failed(format!(
            "{failed} of {due} due credential(s) failed; see `certmgr cred show NAME --events`"
        )));
    }
    Ok(())
}

/// One scheduler run with the caller's solver (`certmgr server`).
pub async fn renew_due(
    store: &Store,
    solver: &RunSolver<'_>,
    dry_run: bool,
    quiet: bool,
) -> CliResult<Vec<Decision>> {
    plan_and_run(store, SolverChoice::Given(solver), dry_run, quiet).await
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

async fn plan_and_run(
    store: &Store,
    solver: SolverChoice<'_>,
    dry_run: bool,
    quiet: bool,
) -> CliResult<Vec<Decision>> {
    // Records a killed run left in DNS go first.
    crate::dns01::cleanup_stale(store).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut accounts: HashMap<String, (AcmeAccountRecord, AcmeAccount)> = HashMap::new();
    let mut decisions = Vec::new();
    let mut due = Vec::new();
    for credential in store.list_credentials().await? {
        let (is_due, reason) = decide(store, &credential, now, &mut accounts).await?;
        decisions.push(Decision {
            name: credential.name.clone(),
            due: is_due,
            reason,
            result: None,
            ok: None,
        });
        if is_due {
            due.push(credential);
        }
    }
    if !dry_run && !due.is_empty() {
        let results = renew_all(store, solver, &due, &accounts, quiet).await?;
        for decision in &mut decisions {
            if let Some((ok, text)) = results.get(&decision.name) {
                decision.ok = Some(*ok);
                decision.result = Some(text.clone());
            }
        }
    }
    Ok(decisions)
}

/// Is this credential due, and why (or until when not)?
async fn decide(
    store: &Store,
    credential: &CredentialRecord,
    now: i64,
    accounts: &mut HashMap<String, (AcmeAccountRecord, AcmeAccount)>,
) -> CliResult<(bool, String)> {
    let automatic = matches!(
        credential.issuer,
        IssuerRef::MicroCa(_) | IssuerRef::Acme(_)
    );
    if !automatic {
        return Ok((
            false,
            format!("issued outside certmgr ({})", credential.issuer),
        ));
    }
    match credential.status {
        Status::Revoked => return Ok((false, "revoked".into())),
        Status::Pending => return Ok((true, "no certificate yet".into())),
        Status::Issuing => return Ok((true, "an order was cut short: resume it".into())),
        Status::Failed => {
            return Ok(match credential.next_attempt_at {
                Some(at) if at > now => (
                    false,
                    format!(
                        "backing off after {} failure(s) until {}",
                        credential.failure_count,
                        timestamp(at)
                    ),
                ),
                _ => (true, "retry after failure".into()),
            });
        }
        Status::Valid | Status::RenewalDue | Status::Expired => {}
    }
    let keys = store.key_versions(credential, None).await?;
    let Some(first) = keys
        .iter()
        .filter_map(|k| k.certificate.as_ref())
        .min_by_key(|c| c.not_after)
    else {
        return Ok((true, "no certificate yet".into()));
    };
    if first.not_after <= now {
        return Ok((true, "expired".into()));
    }
    let ari_due = credential.ari_next_check.is_none_or(|at| at <= now);
    let mut plan = credential.renew_at;
    let mut source = "policy";
    if let IssuerRef::Acme(account_name) = &credential.issuer
        && ari_due
    {
        let account = match accounts.get(account_name) {
            Some((_, account)) => account.clone(),
            None => {
                let record = store.acme_account(account_name).await?;
                let account = acme::connect(store, &record).await?;
                accounts.insert(account_name.clone(), (record, account.clone()));
                account
            }
        };
        let jitter = stable_fraction(&format!("{}/{}", credential.id, credential.current_version));
        let policy = RenewalPolicy {
            renew_before_days: credential.renew_before_days,
        };
        match account.renewal_window(&first.cert_der).await {
            Ok(Some(window)) => {
                let at = renew_at(
                    first.not_before,
                    first.not_after,
                    policy,
                    Some((window.start, window.end)),
                    jitter,
                );
                let next_check = now
                    + window
                        .retry_after_secs
                        .clamp(ARI_RECHECK_MIN_SECS, ARI_RECHECK_MAX_SECS);
                store
                    .set_renewal_plan(credential, at, Some(next_check))
                    .await?;
                plan = Some(at);
                source = "ARI window";
            }
            Ok(None) => {}
            // The CA's ARI being down must not stop renewals: fall back to the policy.
            Err(_) => {}
        }
    } else if credential.renew_at.is_some() && credential.ari_next_check.is_some() {
        source = "ARI window";
    }
    let at = match plan {
        Some(at) => at,
        None => {
            let jitter =
                stable_fraction(&format!("{}/{}", credential.id, credential.current_version));
            let at = renew_at(
                first.not_before,
                first.not_after,
                RenewalPolicy {
                    renew_before_days: credential.renew_before_days,
                },
                None,
                jitter,
            );
            store.set_renewal_plan(credential, at, None).await?;
            at
        }
    };
    Ok(if at <= now {
        (
            true,
            format!("renewal time reached ({source}, {})", timestamp(at)),
        )
    } else {
        (false, format!("renews at {} ({source})", timestamp(at)))
    })
}

/// Renew every due credential: MicroCA ones one after the other (local CPU),
/// ACME ones concurrently up to each account's limit.
async fn renew_all(
    store: &Store,
    solver: SolverChoice<'_>,
    due: &[CredentialRecord],
    accounts: &HashMap<String, (AcmeAccountRecord, AcmeAccount)>,
    quiet: bool,
) -> CliResult<HashMap<String, (bool, String)>> {
    let mut results = HashMap::new();
    let mut acme_due = Vec::new();
    for credential in due {
        match &credential.issuer {
            IssuerRef::MicroCa(_) => {
                let result = issue_microca_planned(store, credential).await;
                results.insert(credential.name.clone(), report(result));
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
            Some(Responders::for_run(store, &kinds, &options, quiet).await?),
            None,
        ),
        SolverChoice::Given(given) => (None, Some(given)),
    };
    let solver: &RunSolver<'_> = match (&responders, given) {
        (Some(responders), _) => &responders.solver,
        (None, Some(given)) => given,
        (None, None) => return Err(CliError::failed("no challenge solver for this run")),
    };
    let mut connected = accounts.clone();
    let mut limits: HashMap<String, Arc<Semaphore>> = HashMap::new();
    for credential in &acme_due {
        let IssuerRef::Acme(name) = &credential.issuer else {
            continue;
        };
        if !connected.contains_key(name) {
            let record = store.acme_account(name).await?;
            let account = acme::connect(store, &record).await?;
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
            let result = issue_with(store, credential, record, account, solver, true, true).await;
            let result = report(result);
            if !quiet {
                eprintln!("  {}: {}", credential.name, result.1);
            }
            (credential.name.clone(), result)
        }
    });
    for (name, result) in futures_util::future::join_all(runs).await {
        results.insert(name, result);
    }
    Ok(results)
}

fn report(result: CliResult<Issued>) -> (bool, String) {
    match result {
        Ok(Issued::Version(version)) => (true, format!("issued version {version}")),
        Ok(Issued::Superseded(reason)) => (true, reason),
        Err(error) => (false, format!("failed: {error}")),
    }
}

/// A planned MicroCA renewal: under the credential's lease, and only if no
/// other run renewed it since this run read it.
async fn issue_microca_planned(store: &Store, credential: &CredentialRecord) -> CliResult<Issued> {
    let owner = match take_lease(store, credential).await? {
        Lease::Taken(owner) => owner,
        Lease::Held(holder) => {
            return Ok(Issued::Superseded(format!(
                "being issued by another run ({holder})"
            )));
        }
    };
    let result = match superseded(store, credential).await {
        Ok(Some(reason)) => Ok(Issued::Superseded(reason)),
        Ok(None) => issue::issue_from_microca(store, credential)
            .await
            .map(Issued::Version),
        Err(e) => Err(e),
    };
    store.release_lease(credential, owner).await?;
    result
}
