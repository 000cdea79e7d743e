//! DNS-01: publishing `_acme-challenge` TXT records through DNS accounts.
//!
//! Each TXT record is written to the store's journal before it is created and
//! leaves it only after its deletion succeeded, so a crash never leaves one
//! behind: the next run ([`cleanup_stale`]) removes what a dead process left.
//! A name holding several values at once (a wildcard and its base name in one
//! order) is handled by giving providers that replace whole record sets every
//! value certmgr currently wants there.

use std::net::SocketAddr;
use std::time::Duration;

use certmgr_acme::{AcmeError, ChallengeAnswer};
use certmgr_dns::{CallContext, Captures, Definition, Engine, NoTrace, Params};
use certmgr_store::{DnsAccountRecord, Store, TxtJournalEntry};
use serde::{Deserialize, Serialize};

/// TTL of challenge records (providers raise it to their minimum).
const CHALLENGE_TTL: u32 = 60;
/// Journal entries of live processes older than this are taken as abandoned.
const ABANDONED_SECS: i64 = 15 * 60;
/// How often the propagation check asks each authoritative server.
const PROPAGATION_INTERVAL: Duration = Duration::from_millis(500);

/// What a DNS account keeps, sealed: the provider's parameters and how to
/// check propagation.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DnsAccountConfig {
    /// Provider parameter values (tokens included).
    pub params: std::collections::BTreeMap<String, String>,
    /// The zone's authoritative servers to check before telling the CA
    /// (`host:port`); empty = wait the provider's propagation hint instead.
    #[serde(default)]
    pub nameservers: Vec<SocketAddr>,
    /// How long to wait for every nameserver to serve a new value.
    #[serde(default = "default_propagation_timeout")]
    pub propagation_timeout_secs: u64,
}

fn default_propagation_timeout() -> u64 {
    120
}

fn failed(e: impl std::fmt::Display) -> AcmeError {
    AcmeError::Problem(e.to_string())
}

/// The provider definition with this id (the built-in catalog).
pub fn definition(id: &str) -> Result<Definition, AcmeError> {
    certmgr_dns::provider(id).map_err(|e| AcmeError::BadInput(e.to_string()))
}

/// An account's configuration and bound parameters.
pub fn account_config(
    store: &Store,
    account: &DnsAccountRecord,
) -> Result<(Definition, DnsAccountConfig, Params), AcmeError> {
    let definition = definition(&account.provider)?;
    let sealed = store.unseal_dns_params(account).map_err(failed)?;
    let config: DnsAccountConfig = serde_json::from_slice(&sealed).map_err(failed)?;
    let params = definition
        .bind(config.params.iter().map(|(k, v)| (k.clone(), v.clone())))
        .map_err(|e| AcmeError::BadInput(e.to_string()))?;
    Ok((definition, config, params))
}

/// The DNS account whose zone is the most specific suffix of `record_name`,
/// and that zone.
pub async fn account_for(
    store: &Store,
    record_name: &str,
) -> Result<(DnsAccountRecord, String), AcmeError> {
    let name = record_name.trim_end_matches('.').to_ascii_lowercase();
    let mut best: Option<(DnsAccountRecord, String)> = None;
    for account in store.list_dns_accounts().await.map_err(failed)? {
        for zone in &account.zones {
            let zone = zone.trim_end_matches('.').to_ascii_lowercase();
            let inside = name == zone || name.ends_with(&format!(".{zone}"));
            let better = best.as_ref().is_none_or(|(_, z)| zone.len() > z.len());
            if inside && better {
                best = Some((account.clone(), zone));
            }
        }
    }
    best.ok_or_else(|| {
        AcmeError::BadInput(format!(
            "no DNS account serves {name}: create one with `certmgr dns account create NAME --provider ID --zone ZONE`"
        ))
    })
}

/// The `host:pid` that owns journal entries made by this process.
fn owner() -> String {
    format!(
        "{}:{}",
        crate::commands::acme_issue::host_name(),
        std::process::id()
    )
}

/// Values certmgr wants on `record_name` right now, from the journal.
async fn wanted_values(store: &Store, record_name: &str) -> Result<Vec<String>, AcmeError> {
    Ok(store
        .txt_journal()
        .await
        .map_err(failed)?
        .into_iter()
        .filter(|e| e.record_name == record_name)
        .map(|e| e.value)
        .collect())
}

/// Create the TXT record for `answer` and wait until the zone serves it.
pub async fn present(store: &Store, answer: &ChallengeAnswer) -> Result<(), AcmeError> {
    let record_name = format!("_acme-challenge.{}", answer.identifier);
    let (account, zone) = account_for(store, &record_name).await?;
    let (definition, config, params) = account_config(store, &account)?;
    let entry = store
        .journal_txt(
            &account.name,
            &zone,
            &record_name,
            &answer.dns_value,
            &owner(),
        )
        .await
        .map_err(failed)?;
    let values = wanted_values(store, &record_name).await?;
    let context = CallContext::new(&zone, &record_name, &answer.dns_value, params)
        .map_err(|e| AcmeError::BadInput(e.to_string()))?
        .with_values(values)
        .with_ttl(CHALLENGE_TTL);
    let engine = Engine::new().map_err(failed)?;
    let captures = engine
        .add_record(&definition, &context, &NoTrace)
        .await
        .map_err(|e| AcmeError::Problem(format!("DNS account {:?}: {e}", account.name)))?;
    store
        .update_txt_journal(
            &entry.id,
            "present",
            &serde_json::to_string(&captures).map_err(failed)?,
        )
        .await
        .map_err(failed)?;
    if config.nameservers.is_empty() {
        tokio::time::sleep(Duration::from_secs(definition.provider.propagation_secs)).await;
        return Ok(());
    }
    certmgr_dnswire::wait_for_txt(
        &config.nameservers,
        &record_name,
        &answer.dns_value,
        Duration::from_secs(config.propagation_timeout_secs),
        PROPAGATION_INTERVAL,
    )
    .await
    .map_err(|e| AcmeError::Problem(format!("propagation: {e}")))
}

/// Delete the TXT record of `answer` (and its journal entry once gone).
pub async fn cleanup(store: &Store, answer: &ChallengeAnswer) -> Result<(), AcmeError> {
    let record_name = format!("_acme-challenge.{}", answer.identifier);
    let journal = store.txt_journal().await.map_err(failed)?;
    for entry in journal
        .into_iter()
        .filter(|e| e.record_name == record_name && e.value == answer.dns_value)
    {
        remove(store, &entry).await?;
    }
    Ok(())
}

/// Delete one journalled record and forget it.
async fn remove(store: &Store, entry: &TxtJournalEntry) -> Result<(), AcmeError> {
    let account = store
        .dns_account(&entry.dns_account)
        .await
        .map_err(failed)?;
    let (definition, _, params) = account_config(store, &account)?;
    let remaining: Vec<String> = wanted_values(store, &entry.record_name)
        .await?
        .into_iter()
        .filter(|v| v != &entry.value)
        .collect();
    let context = CallContext::new(&entry.zone, &entry.record_name, &entry.value, params)
        .map_err(|e| AcmeError::BadInput(e.to_string()))?
        .with_values(remaining)
        .with_ttl(CHALLENGE_TTL);
    let mut captures: Captures = serde_json::from_str(&entry.captures).unwrap_or_default();
    store
        .update_txt_journal(&entry.id, "deleting", &entry.captures)
        .await
        .map_err(failed)?;
    Engine::new()
        .map_err(failed)?
        .delete_record(&definition, &context, &mut captures, &NoTrace)
        .await
        .map_err(|e| AcmeError::Problem(format!("DNS account {:?}: {e}", account.name)))?;
    store.remove_txt_journal(&entry.id).await.map_err(failed)
}

/// Remove the records a dead process (or an abandoned run) left behind.
/// Returns how many were removed; failures stay journalled for the next run.
pub async fn cleanup_stale(store: &Store) -> usize {
    let Ok(journal) = store.txt_journal().await else {
        return 0;
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let host = crate::commands::acme_issue::host_name();
    let mut removed = 0;
    for entry in journal {
        let owner_dead = entry.owner.as_deref().is_none_or(|owner| {
            owner.rsplit_once(':').is_some_and(|(h, pid)| {
                h == host && !std::path::Path::new(&format!("/proc/{pid}")).exists()
            })
        });
        let abandoned = now - entry.created_at > ABANDONED_SECS;
        if (owner_dead || abandoned) && remove(store, &entry).await.is_ok() {
            removed += 1;
        }
    }
    removed
}
