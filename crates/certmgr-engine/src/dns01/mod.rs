//! DNS-01: DNS accounts and the backends that change their records.
//!
//! Each TXT record is written to the store's journal before it is created and
//! leaves it only after its deletion succeeded, so a crash never leaves one
//! behind: the next run ([`cleanup_stale`]) removes what a dead process left.
//! A name holding several values at once (a wildcard and its base name in one
//! order) is handled by giving providers that replace whole record sets every
//! value certmgr currently wants there.
//!
//! This module holds an account's sealed configuration and its [`Backend`]
//! (HTTP definitions and DXL, RFC 2136, scripts); its `publish` module holds the
//! publication of challenge answers.

pub mod accounts;
mod publish;

use std::net::SocketAddr;
use std::time::Duration;

use certmgr_dns::{CallContext, Captures, Engine, Params, ProviderDefinition, Published};
use certmgr_store::{DnsAccountRecord, Store};
use serde::{Deserialize, Serialize};

pub use accounts::{
    AccountTest, DnsAccountRequest, check_id_free, create_account, import_provider, providers,
    test_account,
};
pub use publish::{DnsChoice, account_for, cleanup, cleanup_stale, present};

use crate::error::{EngineError, EngineResult, Hint};

/// TTL of challenge records (providers raise it to their minimum).
const CHALLENGE_TTL: u32 = 60;

/// How a DNS account waits for a new record before the CA is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Propagation {
    /// Ask every authoritative server until all serve it.
    #[default]
    Check,
    /// Wait the provider's fixed delay.
    Delay,
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
    pub propagation: Propagation,
    /// Whether the provider may reach loopback, private and link-local
    /// addresses, and plain `http://` URLs; both off unless the account was
    /// created so.
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

fn failed(e: impl std::fmt::Display) -> EngineError {
    EngineError::failed(e.to_string())
}

/// Provider kinds built into certmgr itself rather than described as data.
pub const RFC2136: &str = "rfc2136";
/// Runs an executable to add and delete records.
pub const SCRIPT: &str = "script";

/// The provider definition with this id: one the user imported, else the
/// built-in catalog's.
pub async fn definition(store: &Store, id: &str) -> EngineResult<ProviderDefinition> {
    if let Some((source, file)) = store.dns_provider_source(id).await? {
        return Ok(ProviderDefinition::parse(&source, &file)?);
    }
    Ok(certmgr_dns::provider(id).map(|d| ProviderDefinition::Toml(Box::new(d)))?)
}

/// The names of a provider's secret parameters (tokens, keys, passwords),
/// which must not be given on the command line.
pub async fn secret_parameters(
    store: &Store,
    provider: &str,
) -> EngineResult<std::collections::BTreeSet<String>> {
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

fn param<'a>(config: &'a DnsAccountConfig, kind: &str, name: &str) -> EngineResult<&'a str> {
    config.params.get(name).map(String::as_str).ok_or_else(|| {
        EngineError::bad_input_hint(
            format!("provider {kind} needs the parameter {name:?}"),
            Hint::SetParameter(name.to_owned()),
        )
    })
}

/// Build the backend of a provider kind from parameter values; used at
/// account creation (to refuse bad parameters before storing) and at use.
pub async fn backend_for(
    store: &Store,
    provider: &str,
    config: &DnsAccountConfig,
) -> EngineResult<Backend> {
    match provider {
        RFC2136 => {
            let server = param(config, RFC2136, "server")?;
            let server: SocketAddr = server.parse().map_err(|_| {
                EngineError::bad_input(format!(
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
                                EngineError::bad_input(e.to_string())
                            })?,
                        param(config, RFC2136, "key_secret")?,
                    )
                    .map_err(|e| EngineError::bad_input(e.to_string()))?,
                ),
                None => None,
            };
            Ok(Backend::Rfc2136 { server, key })
        }
        SCRIPT => {
            let command = std::path::PathBuf::from(param(config, SCRIPT, "command")?);
            let timeout = match config.params.get("timeout") {
                Some(secs) => Duration::from_secs(secs.parse().map_err(|_| {
                    EngineError::bad_input(format!("script timeout {secs:?}: give seconds"))
                })?),
                None => Duration::from_secs(60),
            };
            Ok(Backend::Script { command, timeout })
        }
        id => {
            let definition = definition(store, id).await?;
            let params =
                definition.bind(config.params.iter().map(|(k, v)| (k.clone(), v.clone())))?;
            Ok(Backend::Http(Box::new(definition), params, config.network))
        }
    }
}

/// An account's configuration and backend.
pub async fn account_config(
    store: &Store,
    account: &DnsAccountRecord,
) -> EngineResult<(Backend, DnsAccountConfig)> {
    let sealed = store.unseal_dns_params(account)?;
    let config: DnsAccountConfig = serde_json::from_slice(&sealed).map_err(failed)?;
    Ok((
        backend_for(store, &account.provider, &config).await?,
        config,
    ))
}

/// An account unsealed, with its backend built.
pub struct LoadedAccount {
    /// How it changes records.
    pub backend: Backend,
    /// Its configuration (parameters included).
    pub config: DnsAccountConfig,
}

/// The DNS accounts one run uses, each unsealed and built once (not once
/// per challenge), and built again after a provider wrote fields back.
#[derive(Default)]
pub struct AccountCache(
    std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<LoadedAccount>>>,
);

impl AccountCache {
    /// The account, unsealed and built on first use.
    pub async fn get(
        &self,
        store: &Store,
        account: &DnsAccountRecord,
    ) -> EngineResult<std::sync::Arc<LoadedAccount>> {
        // The map only ever receives whole inserts; a poisoned lock holds consistent data.
        let cached = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&account.name)
            .cloned();
        if let Some(loaded) = cached {
            return Ok(loaded);
        }
        let (backend, config) = account_config(store, account).await?;
        let loaded = std::sync::Arc::new(LoadedAccount { backend, config });
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(account.name.clone(), loaded.clone());
        Ok(loaded)
    }

    /// Drop the account's entry when `changed` (its stored fields were updated).
    pub fn forget_if(&self, name: &str, changed: bool) {
        if changed {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(name);
        }
    }
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
    /// The provider's id, as the metrics name it: the definition's id,
    /// [`RFC2136`] or [`SCRIPT`].
    pub fn provider(&self) -> &str {
        match self {
            Backend::Http(definition, _, _) => &definition.meta().id,
            Backend::Rfc2136 { .. } => RFC2136,
            Backend::Script { .. } => SCRIPT,
        }
    }

    /// Count one step of this provider and its latency
    /// ([`certmgr_core::telemetry::DNS_STEPS`]).
    fn measured<T>(&self, step: &str, started: std::time::Instant, result: &EngineResult<T>) {
        use certmgr_core::telemetry::{self, DNS_STEP_DURATION, DNS_STEPS};
        let outcome = if result.is_ok() { "success" } else { "failure" };
        let labels = [self.provider(), step, outcome];
        telemetry::count(&DNS_STEPS, &labels);
        telemetry::observe(&DNS_STEP_DURATION, &labels, started.elapsed().as_secs_f64());
    }

    /// Create the record; returns what the provider's add phase captured
    /// and account fields it changed.
    pub async fn add(
        &self,
        change: &Change<'_>,
        trace: &dyn certmgr_dns::Trace,
    ) -> EngineResult<Published> {
        let started = std::time::Instant::now();
        let result = self.add_record(change, trace).await;
        self.measured("add", started, &result);
        result
    }

    /// Delete the record, starting from the add phase's captures.
    pub async fn delete(
        &self,
        change: &Change<'_>,
        captures: &mut Captures,
        trace: &dyn certmgr_dns::Trace,
    ) -> EngineResult<Published> {
        let started = std::time::Instant::now();
        let result = self.delete_record(change, captures, trace).await;
        self.measured("delete", started, &result);
        result
    }

    async fn add_record(
        &self,
        change: &Change<'_>,
        trace: &dyn certmgr_dns::Trace,
    ) -> EngineResult<Published> {
        match self {
            Backend::Http(definition, params, network) => {
                let context = call_context(change, params, *network)?;
                Ok(definition.add(shared_engine()?, &context, trace).await?)
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

    async fn delete_record(
        &self,
        change: &Change<'_>,
        captures: &mut Captures,
        trace: &dyn certmgr_dns::Trace,
    ) -> EngineResult<Published> {
        match self {
            Backend::Http(definition, params, network) => {
                let context = call_context(change, params, *network)?;
                Ok(definition
                    .delete(shared_engine()?, &context, captures, trace)
                    .await?)
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
fn shared_engine() -> EngineResult<&'static Engine> {
    static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    if let Some(engine) = ENGINE.get() {
        return Ok(engine);
    }
    let engine = Engine::new()?;
    Ok(ENGINE.get_or_init(|| engine))
}

fn call_context(
    change: &Change<'_>,
    params: &Params,
    network: certmgr_dns::NetworkAccess,
) -> EngineResult<CallContext> {
    Ok(CallContext::new(
        change.zone,
        change.record_name,
        change.value,
        params.clone(),
    )?
    .with_values(change.values.clone())
    .with_ttl(CHALLENGE_TTL)
    .with_network(network))
}

/// Writes account fields a provider's formulas changed (a looked-up zone
/// id) back to the DNS account.
pub async fn save_account_updates(
    store: &Store,
    account: &DnsAccountRecord,
    updates: &std::collections::BTreeMap<String, String>,
) -> EngineResult<()> {
    if updates.is_empty() {
        return Ok(());
    }
    let sealed = store.unseal_dns_params(account)?;
    let mut config: DnsAccountConfig = serde_json::from_slice(&sealed).map_err(failed)?;
    for (k, v) in updates {
        config.params.insert(k.clone(), v.clone());
    }
    let json = zeroize::Zeroizing::new(serde_json::to_vec(&config).map_err(failed)?);
    let names: Vec<&str> = updates.keys().map(String::as_str).collect();
    Ok(store
        .update_dns_account_params(
            account,
            &json,
            &format!("{} set by the provider's formulas", names.join(", ")),
        )
        .await?)
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
) -> EngineResult<()> {
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
            EngineError::bad_input(format!(
                "cannot run the DNS script {}: {e}",
                command.display()
            ))
        })?;
    let output = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| {
            EngineError::failed(format!(
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
    Err(EngineError::failed(format!(
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
