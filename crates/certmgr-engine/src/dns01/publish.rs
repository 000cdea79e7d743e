//! Publishing `_acme-challenge` TXT records: which account serves a name,
//! where a CNAME delegates it, the journal that outlives a crash, waiting
//! for propagation, and removing the records afterwards.

use std::net::SocketAddr;
use std::time::Duration;

use certmgr_acme::ChallengeAnswer;
use certmgr_dns::{Captures, NoTrace};
use certmgr_store::{DnsAccountRecord, Store, TxtJournalEntry};

use super::{AccountCache, Backend, Change, DnsAccountConfig, Propagation, save_account_updates};
use crate::error::{EngineError, EngineResult, Hint};
use crate::progress::warning;

/// How often the propagation check asks each authoritative server.
const PROPAGATION_INTERVAL: Duration = Duration::from_millis(500);

/// What a credential asks of DNS-01 publication.
#[derive(Debug, Clone, Default)]
pub struct DnsChoice {
    /// Publish with this DNS account.
    pub account: Option<String>,
    /// Write the TXT records at this name (a delegation target).
    pub alias: Option<String>,
}

/// The DNS account whose zone is the most specific suffix of `record_name`,
/// and that zone.
pub async fn account_for(
    store: &Store,
    record_name: &str,
) -> EngineResult<(DnsAccountRecord, String)> {
    let name = record_name.trim_end_matches('.').to_ascii_lowercase();
    let mut best: Option<(DnsAccountRecord, String)> = None;
    for account in store.list_dns_accounts().await? {
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
        EngineError::bad_input_hint(
            format!("no DNS account serves {name}"),
            Hint::CreateDnsAccount,
        )
    })
}

/// The DNS account a credential named, with the zone of `record_name` it serves.
async fn named_account(
    store: &Store,
    name: &str,
    record_name: &str,
) -> EngineResult<(DnsAccountRecord, String)> {
    let account = store.dns_account(name).await?;
    let record = record_name.trim_end_matches('.').to_ascii_lowercase();
    let zone = account
        .zones
        .iter()
        .map(|z| z.trim_end_matches('.').to_ascii_lowercase())
        .filter(|z| record == *z || record.ends_with(&format!(".{z}")))
        .max_by_key(String::len)
        .ok_or_else(|| {
            EngineError::bad_input(format!(
                "DNS account {name:?} serves {}, not {record}",
                account.zones.join(", ")
            ))
        })?;
    Ok((account, zone))
}

/// Values certmgr wants on `record_name` right now, from the journal.
async fn wanted_values(store: &Store, record_name: &str) -> EngineResult<Vec<String>> {
    Ok(store
        .txt_journal_for(record_name)
        .await?
        .entries
        .into_iter()
        .map(|e| e.value)
        .collect())
}

/// Create the TXT record for `answer` and wait until the zone serves it.
/// When `_acme-challenge.<name>` is a CNAME (delegation to a validation zone),
/// the record is written at the CNAME's target, by the account serving it.
pub async fn present(
    store: &Store,
    accounts: &AccountCache,
    answer: &ChallengeAnswer,
    choice: &DnsChoice,
) -> EngineResult<()> {
    let challenge_name = format!("_acme-challenge.{}", answer.identifier);
    // An explicit alias needs no CNAME lookup (nor the account to look it up with).
    let record_name = match &choice.alias {
        Some(alias) => alias.clone(),
        None => match lookup_server(store, accounts, &challenge_name).await? {
            Some(CnameLookup::Authoritative(server)) => {
                certmgr_dnswire::follow_cname(server, &challenge_name)
                    .await
                    .map_err(wire)?
            }
            Some(CnameLookup::Resolver(resolver)) => {
                match certmgr_dnswire::follow_cname_recursive(resolver, &challenge_name).await {
                    Ok(name) => name,
                    Err(e @ certmgr_dnswire::WireError::CnameChain { .. }) => {
                        return Err(wire(e));
                    }
                    Err(e) => {
                        warning!(
                            "cannot look up {challenge_name} CNAME through {resolver} ({e}); writing the record there; name the challenge alias on the credential if it is delegated"
                        );
                        challenge_name.clone()
                    }
                }
            }
            None => challenge_name.clone(),
        },
    };
    let (account, zone) = match choice.account.as_deref() {
        Some(name) => named_account(store, name, &record_name).await?,
        None => account_for(store, &record_name).await?,
    };
    let loaded = accounts.get(store, &account).await?;
    let (backend, config) = (&loaded.backend, &loaded.config);
    let entry = store
        .journal_txt(
            &account.name,
            &zone,
            &record_name,
            &answer.dns_value,
            crate::instance::join(store).await?,
        )
        .await?;
    let change = Change {
        zone: &zone,
        record_name: &record_name,
        value: &answer.dns_value,
        values: wanted_values(store, &record_name).await?,
    };
    let published = backend
        .add(&change, &NoTrace)
        .await
        .map_err(|e| e.context(format!("DNS account {:?}", account.name)))?;
    // The captures first: they are what the cleanup needs.
    store
        .update_txt_journal(
            &entry.id,
            "present",
            &serde_json::to_string(&published.captures)
                .map_err(|e| EngineError::failed(e.to_string()))?,
        )
        .await?;
    save_account_updates(store, &account, &published.account_updates).await?;
    accounts.forget_if(&account.name, !published.account_updates.is_empty());
    let hint = match backend {
        Backend::Http(definition, _, _) => definition
            .meta()
            .propagation_secs
            .min(certmgr_dns::MAX_PROPAGATION_SECS),
        _ => 0,
    };
    if config.propagation == Propagation::Delay {
        tokio::time::sleep(Duration::from_secs(hint)).await;
        return Ok(());
    }
    let servers = if config.nameservers.is_empty() {
        match discover_nameservers(config, &zone).await {
            Ok(servers) => servers,
            Err(e) => {
                warning!(
                    "DNS account {:?}: {e}; waiting the provider's propagation time ({hint} s) instead",
                    account.name
                );
                tokio::time::sleep(Duration::from_secs(hint)).await;
                return Ok(());
            }
        }
    } else {
        config.nameservers.clone()
    };
    certmgr_dnswire::wait_for_txt(
        &servers,
        &record_name,
        &answer.dns_value,
        Duration::from_secs(config.propagation_timeout_secs),
        PROPAGATION_INTERVAL,
    )
    .await
    .map_err(|e| EngineError::failed(format!("propagation: {e}")))
}

/// The zone's authoritative servers, through the account's resolver or the
/// system's.
async fn discover_nameservers(
    config: &DnsAccountConfig,
    zone: &str,
) -> Result<Vec<SocketAddr>, String> {
    let resolver = resolver_of(config).ok_or_else(|| {
        "no resolver to find the zone's nameservers (none in /etc/resolv.conf); name a resolver or the nameservers on the DNS account".to_string()
    })?;
    certmgr_dnswire::authoritative_servers(resolver, zone, config.nameserver_port.unwrap_or(53))
        .await
        .map_err(|e| e.to_string())
}

/// Where to look `_acme-challenge` CNAMEs up.
enum CnameLookup {
    /// An authoritative server of the zone (recursion off).
    Authoritative(SocketAddr),
    /// A recursive resolver (recursion on), for accounts that find their
    /// nameservers through one.
    Resolver(SocketAddr),
}

/// Where to look `_acme-challenge` CNAMEs up: through the account serving
/// the name (its first nameserver, or its resolver when it checks
/// propagation by discovery), or, when no account serves it (the name is
/// delegated to a validation zone), through any account that can.
async fn lookup_server(
    store: &Store,
    accounts: &AccountCache,
    name: &str,
) -> EngineResult<Option<CnameLookup>> {
    let via = |config: &DnsAccountConfig| -> Option<CnameLookup> {
        if let Some(server) = config.nameservers.first() {
            return Some(CnameLookup::Authoritative(*server));
        }
        if config.propagation == Propagation::Check {
            return resolver_of(config).map(CnameLookup::Resolver);
        }
        None
    };
    if let Ok((account, _)) = account_for(store, name).await {
        let loaded = accounts.get(store, &account).await?;
        return Ok(via(&loaded.config));
    }
    for account in store.list_dns_accounts().await? {
        let loaded = accounts.get(store, &account).await?;
        if let Some(lookup) = via(&loaded.config) {
            return Ok(Some(lookup));
        }
    }
    Ok(None)
}

/// The account's resolver, else the first of /etc/resolv.conf.
fn resolver_of(config: &DnsAccountConfig) -> Option<SocketAddr> {
    config.resolver.or_else(|| {
        std::fs::read_to_string("/etc/resolv.conf")
            .ok()
            .and_then(|t| certmgr_dnswire::resolv_conf_nameserver(&t))
    })
}

/// Delete the TXT record of `answer` (and its journal entry once gone).
pub async fn cleanup(
    store: &Store,
    accounts: &AccountCache,
    answer: &ChallengeAnswer,
) -> EngineResult<()> {
    // The value identifies the record wherever a CNAME put it.
    let journal = store.txt_journal_with_value(&answer.dns_value).await?;
    for entry in &journal.entries {
        remove(store, accounts, entry).await?;
    }
    Ok(())
}

/// Delete one journalled record and forget it.
async fn remove(
    store: &Store,
    accounts: &AccountCache,
    entry: &TxtJournalEntry,
) -> EngineResult<()> {
    let account = store.dns_account(&entry.dns_account).await?;
    let loaded = accounts.get(store, &account).await?;
    let backend = &loaded.backend;
    let remaining: Vec<String> = wanted_values(store, &entry.record_name)
        .await?
        .into_iter()
        .filter(|v| v != &entry.value)
        .collect();
    let change = Change {
        zone: &entry.zone,
        record_name: &entry.record_name,
        value: &entry.value,
        values: remaining,
    };
    // Captures that do not read back: the delete runs without them, and
    // the user hears of it.
    let mut captures: Captures = serde_json::from_str(&entry.captures).unwrap_or_else(|e| {
        crate::progress::warning!(
            "the journal entry of {} holds unreadable captures ({e}); deleting without them",
            entry.record_name
        );
        Captures::default()
    });
    store
        .update_txt_journal(&entry.id, "deleting", &entry.captures)
        .await?;
    let published = backend
        .delete(&change, &mut captures, &NoTrace)
        .await
        .map_err(|e| e.context(format!("DNS account {:?}", account.name)))?;
    save_account_updates(store, &account, &published.account_updates).await?;
    accounts.forget_if(&account.name, !published.account_updates.is_empty());
    Ok(store.remove_txt_journal(&entry.id).await?)
}

/// Remove the records a dead process left behind (one whose registration
/// expired, see [`crate::instance`]). Returns how many were removed;
/// failures stay journalled for the next run, and are said as warnings.
pub async fn cleanup_stale(store: &Store) -> usize {
    let journal = match store.txt_journal().await {
        Ok(journal) => journal,
        Err(e) => {
            warning!("stale TXT records are not cleaned up: {e}");
            return 0;
        }
    };
    // Entries planted or changed with SQL are never used; said once per run.
    for refused in &journal.refused {
        warning!("{refused}");
    }
    // Entries of a live process (this one or another, anywhere) are its own
    // business; those of a dead one (its registration expired) are ours.
    let live = match store.live_instances().await {
        Ok(live) => live,
        Err(e) => {
            warning!("stale TXT records are not cleaned up: {e}");
            return 0;
        }
    };
    let accounts = AccountCache::default();
    let mut removed = 0;
    for entry in journal.entries {
        let owner_dead = entry
            .owner
            .as_deref()
            .is_none_or(|owner| !live.contains(owner));
        if !owner_dead {
            continue;
        }
        match remove(store, &accounts, &entry).await {
            Ok(()) => removed += 1,
            Err(e) => warning!(
                "the TXT record {} left by a stopped run is not removed yet ({e}); the next run tries again",
                entry.record_name
            ),
        }
    }
    removed
}

/// A DNS lookup's error.
fn wire(e: certmgr_dnswire::WireError) -> EngineError {
    EngineError::failed(e.to_string())
}
