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
use certmgr_dns::{CallContext, Captures, Engine, NoTrace, Params, ProviderDefinition, Published};
use certmgr_store::{DnsAccountRecord, Store, TxtJournalEntry};
use serde::{Deserialize, Serialize};

/// TTL of challenge records (providers raise it to their minimum).
const CHALLENGE_TTL: u32 = 60;
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

/// What a DNS account keeps, sealed: the provider's parameters and how to
/// check propagation. `Debug` shows parameter names only; the values (tokens
/// among them) are wiped from memory on drop.
#[derive(Default, Serialize, Deserialize)]
pub struct DnsAccountConfig {
    /// Provider parameter values (tokens included).
    pub params: std::collections::BTreeMap<String, String>,
    /// The zone's authoritative servers to check before telling the CA
    /// (`host:port`); empty = find them through `resolver`.
    #[serde(default)]
    pub nameservers: Vec<SocketAddr>,
    /// The recursive resolver that finds the zone's authoritative servers
    /// when `nameservers` is empty; `None` = the first of /etc/resolv.conf.
    #[serde(default)]
    pub resolver: Option<SocketAddr>,
    /// Port of the discovered authoritative servers (53 unless a lab says otherwise).
    #[serde(default)]
    pub nameserver_port: Option<u16>,
    /// How long to wait for every nameserver to serve a new value.
    #[serde(default = "default_propagation_timeout")]
    pub propagation_timeout_secs: u64,
    /// Check the authoritative servers, or wait the provider's fixed delay.
    #[serde(default)]
    pub propagation: crate::cli::PropagationMode,
    /// Whether the provider may reach loopback, private and link-local
    /// addresses, and plain `http://` URLs (`--allow-private-network`,
    /// `--allow-plain-http`); both off unless the account was created so.
    #[serde(default)]
    pub network: certmgr_dns::NetworkAccess,
}

impl std::fmt::Debug for DnsAccountConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsAccountConfig")
            .field("params", &self.params.keys().collect::<Vec<_>>())
            .field("nameservers", &self.nameservers)
            .field("resolver", &self.resolver)
            .field("nameserver_port", &self.nameserver_port)
            .field("propagation_timeout_secs", &self.propagation_timeout_secs)
            .field("propagation", &self.propagation)
            .field("network", &self.network)
            .finish()
    }
}

impl Drop for DnsAccountConfig {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for value in self.params.values_mut() {
            value.zeroize();
        }
    }
}

fn default_propagation_timeout() -> u64 {
    120
}

fn failed(e: impl std::fmt::Display) -> AcmeError {
    AcmeError::Solver(e.to_string())
}

/// Provider kinds built into certmgr itself rather than described as data.
pub const RFC2136: &str = "rfc2136";
/// Runs an executable to add and delete records.
pub const SCRIPT: &str = "script";

/// The provider definition with this id: one the user imported, else the
/// built-in catalog's.
pub async fn definition(store: &Store, id: &str) -> Result<ProviderDefinition, AcmeError> {
    if let Some((source, file)) = store.dns_provider_source(id).await.map_err(failed)? {
        return ProviderDefinition::parse(&source, &file)
            .map_err(|e| AcmeError::BadInput(e.to_string()));
    }
    certmgr_dns::provider(id)
        .map(|d| ProviderDefinition::Toml(Box::new(d)))
        .map_err(|e| AcmeError::BadInput(e.to_string()))
}

/// The names of a provider's secret parameters (tokens, keys, passwords),
/// which must not be given on the command line.
pub async fn secret_parameters(
    store: &Store,
    provider: &str,
) -> Result<std::collections::BTreeSet<String>, AcmeError> {
    Ok(match provider {
        RFC2136 => ["key_secret".to_owned()].into(),
        SCRIPT => Default::default(),
        id => definition(store, id)
            .await?
            .parameters()
            .iter()
            .filter(|p| p.secret)
            .map(|p| p.name.clone())
            .collect(),
    })
}

/// How one DNS account changes records.
pub enum Backend {
    /// A declarative HTTP provider definition (TOML or Domino DXL) with
    /// bound parameters and the non-public destinations the account allows.
    Http(Box<ProviderDefinition>, Params, certmgr_dns::NetworkAccess),
    /// RFC 2136 dynamic updates to a primary server, TSIG-signed.
    Rfc2136 {
        /// The primary server (host:port).
        server: SocketAddr,
        /// The TSIG key, if the zone requires one.
        key: Option<certmgr_dnswire::TsigKey>,
    },
    /// An executable: `COMMAND add|delete RECORD VALUE`, with `CERTMGR_*` env.
    Script {
        /// The executable.
        command: std::path::PathBuf,
        /// Longest run allowed.
        timeout: Duration,
    },
}

fn param<'a>(config: &'a DnsAccountConfig, kind: &str, name: &str) -> Result<&'a str, AcmeError> {
    config.params.get(name).map(String::as_str).ok_or_else(|| {
        AcmeError::BadInput(format!(
            "provider {kind} needs the parameter {name:?}: pass --set {name}=..."
        ))
    })
}

/// Build the backend of a provider kind from parameter values; used at
/// account creation (to refuse bad parameters before storing) and at use.
pub async fn backend_for(
    store: &Store,
    provider: &str,
    config: &DnsAccountConfig,
) -> Result<Backend, AcmeError> {
    match provider {
        RFC2136 => {
            let server = param(config, RFC2136, "server")?;
            let server: SocketAddr = server.parse().map_err(|_| {
                AcmeError::BadInput(format!(
                    "rfc2136 server {server:?}: use host:port, e.g. 192.0.2.1:53"
                ))
            })?;
            let key = match config.params.get("key_name") {
                Some(name) => Some(
                    certmgr_dnswire::TsigKey::new(
                        name,
                        config
                            .params
                            .get("key_algorithm")
                            .map(String::as_str)
                            .unwrap_or("hmac-sha256")
                            .parse()
                            .map_err(|e: certmgr_dnswire::WireError| {
                                AcmeError::BadInput(e.to_string())
                            })?,
                        param(config, RFC2136, "key_secret")?,
                    )
                    .map_err(|e| AcmeError::BadInput(e.to_string()))?,
                ),
                None => None,
            };
            Ok(Backend::Rfc2136 { server, key })
        }
        SCRIPT => {
            let command = std::path::PathBuf::from(param(config, SCRIPT, "command")?);
            let timeout = match config.params.get("timeout") {
                Some(secs) => Duration::from_secs(secs.parse().map_err(|_| {
                    AcmeError::BadInput(format!("script timeout {secs:?}: give seconds"))
                })?),
                None => Duration::from_secs(60),
            };
            Ok(Backend::Script { command, timeout })
        }
        id => {
            let definition = definition(store, id).await?;
            let params = definition
                .bind(config.params.iter().map(|(k, v)| (k.clone(), v.clone())))
                .map_err(|e| AcmeError::BadInput(e.to_string()))?;
            Ok(Backend::Http(Box::new(definition), params, config.network))
        }
    }
}

/// An account's configuration and backend.
pub async fn account_config(
    store: &Store,
    account: &DnsAccountRecord,
) -> Result<(Backend, DnsAccountConfig), AcmeError> {
    let sealed = store.unseal_dns_params(account).map_err(failed)?;
    let config: DnsAccountConfig = serde_json::from_slice(&sealed).map_err(failed)?;
    Ok((
        backend_for(store, &account.provider, &config).await?,
        config,
    ))
}

/// What one change of one record is about.
pub struct Change<'a> {
    /// The zone holding the record.
    pub zone: &'a str,
    /// The record's name.
    pub record_name: &'a str,
    /// The value added or deleted.
    pub value: &'a str,
    /// Every value that should be on the name afterwards.
    pub values: Vec<String>,
}

impl Backend {
    /// Create the record; returns what the provider's add phase captured
    /// and account fields it changed.
    pub async fn add(
        &self,
        change: &Change<'_>,
        trace: &dyn certmgr_dns::Trace,
    ) -> Result<Published, AcmeError> {
        match self {
            Backend::Http(definition, params, network) => {
                let context = call_context(change, params, *network)?;
                definition
                    .add(shared_engine()?, &context, trace)
                    .await
                    .map_err(dns_failed)
            }
            Backend::Rfc2136 { server, key } => {
                certmgr_dnswire::update_txt(
                    *server,
                    change.zone,
                    change.record_name,
                    change.value,
                    CHALLENGE_TTL,
                    certmgr_dnswire::UpdateAction::Add,
                    key.as_ref(),
                )
                .await
                .map_err(failed)?;
                Ok(Published::default())
            }
            Backend::Script { command, timeout } => {
                run_script(command, *timeout, "add", change).await?;
                Ok(Published::default())
            }
        }
    }

    /// Delete the record, starting from the add phase's captures.
    pub async fn delete(
        &self,
        change: &Change<'_>,
        captures: &mut Captures,
        trace: &dyn certmgr_dns::Trace,
    ) -> Result<Published, AcmeError> {
        match self {
            Backend::Http(definition, params, network) => {
                let context = call_context(change, params, *network)?;
                definition
                    .delete(shared_engine()?, &context, captures, trace)
                    .await
                    .map_err(dns_failed)
            }
            Backend::Rfc2136 { server, key } => certmgr_dnswire::update_txt(
                *server,
                change.zone,
                change.record_name,
                change.value,
                CHALLENGE_TTL,
                certmgr_dnswire::UpdateAction::Delete,
                key.as_ref(),
            )
            .await
            .map(|()| Published::default())
            .map_err(failed),
            Backend::Script { command, timeout } => run_script(command, *timeout, "delete", change)
                .await
                .map(|()| Published::default()),
        }
    }
}

/// One engine for every DNS call of the process: building its HTTP client
/// loads the system trust store, which cost more CPU than the API calls
/// themselves when done per record (bench/dns01.sh, 100 certificates).
fn shared_engine() -> Result<&'static Engine, AcmeError> {
    static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    if let Some(engine) = ENGINE.get() {
        return Ok(engine);
    }
    let engine = Engine::new().map_err(failed)?;
    Ok(ENGINE.get_or_init(|| engine))
}

fn call_context(
    change: &Change<'_>,
    params: &Params,
    network: certmgr_dns::NetworkAccess,
) -> Result<CallContext, AcmeError> {
    Ok(CallContext::new(
        change.zone,
        change.record_name,
        change.value,
        params.clone(),
    )
    .map_err(|e| AcmeError::BadInput(e.to_string()))?
    .with_values(change.values.clone())
    .with_ttl(CHALLENGE_TTL)
    .with_network(network))
}

/// A provider's error; a refused destination gets the option that allows it.
fn dns_failed(e: certmgr_dns::DnsError) -> AcmeError {
    use certmgr_dns::{DnsError, Refusal};
    let hint = match &e {
        DnsError::Destination {
            refusal: Refusal::PrivateNetwork,
            ..
        } => " (create the DNS account with --allow-private-network)",
        DnsError::Destination {
            refusal: Refusal::PlainHttp,
            ..
        } => " (create the DNS account with --allow-plain-http)",
        _ => "",
    };
    AcmeError::Solver(format!("{e}{hint}"))
}

/// Writes account fields a provider's formulas changed (a looked-up zone
/// id) back to the DNS account.
pub async fn save_account_updates(
    store: &Store,
    account: &DnsAccountRecord,
    updates: &std::collections::BTreeMap<String, String>,
) -> Result<(), AcmeError> {
    if updates.is_empty() {
        return Ok(());
    }
    let sealed = store.unseal_dns_params(account).map_err(failed)?;
    let mut config: DnsAccountConfig = serde_json::from_slice(&sealed).map_err(failed)?;
    for (k, v) in updates {
        config.params.insert(k.clone(), v.clone());
    }
    let json = zeroize::Zeroizing::new(serde_json::to_vec(&config).map_err(failed)?);
    let names: Vec<&str> = updates.keys().map(String::as_str).collect();
    store
        .update_dns_account_params(
            account,
            &json,
            &format!("{} set by the provider's formulas", names.join(", ")),
        )
        .await
        .map_err(failed)
}

/// `PATH` for a script when certmgr itself has none.
const DEFAULT_SCRIPT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Run a script provider: `COMMAND add|delete RECORD VALUE`, with the same in
/// `CERTMGR_ACTION`, `CERTMGR_ZONE`, `CERTMGR_RECORD_NAME`, `CERTMGR_VALUE`,
/// `CERTMGR_TTL`. Exit code 0 is success; otherwise stderr says why.
///
/// The script gets those variables and `PATH`, nothing else of certmgr's
/// environment: that may hold the database URL (with its password) or other
/// secrets, which a hook script has no business seeing.
async fn run_script(
    command: &std::path::Path,
    timeout: Duration,
    action: &str,
    change: &Change<'_>,
) -> Result<(), AcmeError> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| DEFAULT_SCRIPT_PATH.into());
    let child = tokio::process::Command::new(command)
        .args([action, change.record_name, change.value])
        .env_clear()
        .env("PATH", path)
        .env("CERTMGR_ACTION", action)
        .env("CERTMGR_ZONE", change.zone)
        .env("CERTMGR_RECORD_NAME", change.record_name)
        .env("CERTMGR_VALUE", change.value)
        .env("CERTMGR_TTL", CHALLENGE_TTL.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            AcmeError::BadInput(format!(
                "cannot run the DNS script {}: {e}",
                command.display()
            ))
        })?;
    let output = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| {
            AcmeError::Solver(format!(
                "the DNS script {} did not finish {action} within {} s",
                command.display(),
                timeout.as_secs()
            ))
        })?
        .map_err(failed)?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(AcmeError::Solver(format!(
        "the DNS script {} failed to {action} {} ({}): {}",
        command.display(),
        change.record_name,
        output.status,
        stderr
            .trim()
            .lines()
            .last()
            .unwrap_or("no message on stderr")
    )))
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

/// The DNS account a credential named, with the zone of `record_name` it serves.
async fn named_account(
    store: &Store,
    name: &str,
    record_name: &str,
) -> Result<(DnsAccountRecord, String), AcmeError> {
    let account = store.dns_account(name).await.map_err(failed)?;
    let record = record_name.trim_end_matches('.').to_ascii_lowercase();
    let zone = account
        .zones
        .iter()
        .map(|z| z.trim_end_matches('.').to_ascii_lowercase())
        .filter(|z| record == *z || record.ends_with(&format!(".{z}")))
        .max_by_key(String::len)
        .ok_or_else(|| {
            AcmeError::BadInput(format!(
                "DNS account {name:?} serves {}, not {record}",
                account.zones.join(", ")
            ))
        })?;
    Ok((account, zone))
}

/// Values certmgr wants on `record_name` right now, from the journal.
async fn wanted_values(store: &Store, record_name: &str) -> Result<Vec<String>, AcmeError> {
    Ok(store
        .txt_journal()
        .await
        .map_err(failed)?
        .entries
        .into_iter()
        .filter(|e| e.record_name == record_name)
        .map(|e| e.value)
        .collect())
}

/// Create the TXT record for `answer` and wait until the zone serves it.
/// When `_acme-challenge.<name>` is a CNAME (delegation to a validation zone),
/// the record is written at the CNAME's target, by the account serving it.
pub async fn present(
    store: &Store,
    answer: &ChallengeAnswer,
    choice: &DnsChoice,
) -> Result<(), AcmeError> {
    let challenge_name = format!("_acme-challenge.{}", answer.identifier);
    let record_name = match (&choice.alias, lookup_server(store, &challenge_name).await?) {
        (Some(alias), _) => alias.clone(),
        (None, Some(CnameLookup::Authoritative(server))) => {
            certmgr_dnswire::follow_cname(server, &challenge_name)
                .await
                .map_err(failed)?
        }
        (None, Some(CnameLookup::Resolver(resolver))) => {
            match certmgr_dnswire::follow_cname_recursive(resolver, &challenge_name).await {
                Ok(name) => name,
                Err(e @ certmgr_dnswire::WireError::CnameChain { .. }) => return Err(failed(e)),
                Err(e) => {
                    eprintln!(
                        "warning: cannot look up {challenge_name} CNAME through {resolver} ({e}); writing the record there; give --challenge-alias if it is delegated"
                    );
                    challenge_name.clone()
                }
            }
        }
        (None, None) => challenge_name.clone(),
    };
    let (account, zone) = match choice.account.as_deref() {
        Some(name) => named_account(store, name, &record_name).await?,
        None => account_for(store, &record_name).await?,
    };
    let (backend, config) = account_config(store, &account).await?;
    let entry = store
        .journal_txt(
            &account.name,
            &zone,
            &record_name,
            &answer.dns_value,
            crate::instance::join(store)
                .await
                .map_err(|e| AcmeError::Solver(e.to_string()))?,
        )
        .await
        .map_err(failed)?;
    let change = Change {
        zone: &zone,
        record_name: &record_name,
        value: &answer.dns_value,
        values: wanted_values(store, &record_name).await?,
    };
    let published = backend
        .add(&change, &NoTrace)
        .await
        .map_err(|e| AcmeError::Solver(format!("DNS account {:?}: {e}", account.name)))?;
    // The captures first: they are what the cleanup needs.
    store
        .update_txt_journal(
            &entry.id,
            "present",
            &serde_json::to_string(&published.captures).map_err(failed)?,
        )
        .await
        .map_err(failed)?;
    save_account_updates(store, &account, &published.account_updates).await?;
    let hint = match &backend {
        Backend::Http(definition, _, _) => definition
            .meta()
            .propagation_secs
            .min(certmgr_dns::MAX_PROPAGATION_SECS),
        _ => 0,
    };
    if config.propagation == crate::cli::PropagationMode::Delay {
        tokio::time::sleep(Duration::from_secs(hint)).await;
        return Ok(());
    }
    let servers = if config.nameservers.is_empty() {
        match discover_nameservers(&config, &zone).await {
            Ok(servers) => servers,
            Err(e) => {
                eprintln!(
                    "warning: DNS account {:?}: {e}; waiting the provider's propagation time ({hint} s) instead",
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
    .map_err(|e| AcmeError::Solver(format!("propagation: {e}")))
}

/// The zone's authoritative servers, through the account's resolver or the
/// system's.
async fn discover_nameservers(
    config: &DnsAccountConfig,
    zone: &str,
) -> Result<Vec<SocketAddr>, String> {
    let resolver = resolver_of(config).ok_or_else(|| {
        "no resolver to find the zone's nameservers (none in /etc/resolv.conf); give --resolver or --nameserver".to_string()
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
async fn lookup_server(store: &Store, name: &str) -> Result<Option<CnameLookup>, AcmeError> {
    let via = |config: &DnsAccountConfig| -> Option<CnameLookup> {
        if let Some(server) = config.nameservers.first() {
            return Some(CnameLookup::Authoritative(*server));
        }
        if config.propagation == crate::cli::PropagationMode::Check {
            return resolver_of(config).map(CnameLookup::Resolver);
        }
        None
    };
    if let Ok((account, _)) = account_for(store, name).await {
        let (_, config) = account_config(store, &account).await?;
        return Ok(via(&config));
    }
    for account in store.list_dns_accounts().await.map_err(failed)? {
        let (_, config) = account_config(store, &account).await?;
        if let Some(lookup) = via(&config) {
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
pub async fn cleanup(store: &Store, answer: &ChallengeAnswer) -> Result<(), AcmeError> {
    // The value identifies the record wherever a CNAME put it.
    let journal = store.txt_journal().await.map_err(failed)?;
    for entry in journal
        .entries
        .iter()
        .filter(|e| e.value == answer.dns_value)
    {
        remove(store, entry).await?;
    }
    Ok(())
}

/// Delete one journalled record and forget it.
async fn remove(store: &Store, entry: &TxtJournalEntry) -> Result<(), AcmeError> {
    let account = store
        .dns_account(&entry.dns_account)
        .await
        .map_err(failed)?;
    let (backend, _) = account_config(store, &account).await?;
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
    let mut captures: Captures = serde_json::from_str(&entry.captures).unwrap_or_default();
    store
        .update_txt_journal(&entry.id, "deleting", &entry.captures)
        .await
        .map_err(failed)?;
    let published = backend
        .delete(&change, &mut captures, &NoTrace)
        .await
        .map_err(|e| AcmeError::Solver(format!("DNS account {:?}: {e}", account.name)))?;
    save_account_updates(store, &account, &published.account_updates).await?;
    store.remove_txt_journal(&entry.id).await.map_err(failed)
}

/// Remove the records a dead process left behind (one whose registration
/// expired, see `crate::instance`). Returns how many were removed; failures
/// stay journalled for the next run.
pub async fn cleanup_stale(store: &Store) -> usize {
    let journal = match store.txt_journal().await {
        Ok(journal) => journal,
        Err(e) => {
            eprintln!("warning: stale TXT records are not cleaned up: {e}");
            return 0;
        }
    };
    // Entries planted or changed with SQL are never used; said once per run.
    for refused in &journal.refused {
        eprintln!("warning: {refused}");
    }
    // Entries of a live process (this one or another, anywhere) are its own
    // business; those of a dead one (its registration expired) are ours.
    let Ok(live) = store.live_instances().await else {
        return 0;
    };
    let mut removed = 0;
    for entry in journal.entries {
        let owner_dead = entry
            .owner
            .as_deref()
            .is_none_or(|owner| !live.contains(owner));
        if owner_dead && remove(store, &entry).await.is_ok() {
            removed += 1;
        }
    }
    removed
}
