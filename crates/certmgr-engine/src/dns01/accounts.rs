//! DNS accounts and provider definitions: creating an account (its
//! parameters checked before anything is stored), testing it with a probe
//! record, importing a provider definition written in TOML.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use certmgr_core::Hostname;
use certmgr_core::text::has_controls;
use certmgr_dns::{MemoryTrace, NetworkAccess, ProviderDefinition};
use certmgr_store::{DnsAccountRecord, NewDnsAccount};

use super::{
    Change, DnsAccountConfig, Propagation, RFC2136, SCRIPT, account_config, backend_for,
    definition, save_account_updates,
};
use crate::Engine;
use crate::credential::{Field, FieldError};
use crate::error::{EngineError, EngineResult};

/// A DNS account as asked for; parameter values already read (secrets
/// from files or the environment, by the front end). `Debug` shows the
/// parameters' names, never their values.
#[derive(Clone)]
pub struct DnsAccountRequest {
    /// Its name.
    pub name: String,
    /// The provider id (catalog, imported, `rfc2136` or `script`).
    pub provider: String,
    /// The zones it serves.
    pub zones: Vec<String>,
    /// Provider parameter values.
    pub params: BTreeMap<String, String>,
    /// Authoritative servers to check propagation on (empty: discover).
    pub nameservers: Vec<SocketAddr>,
    /// The resolver that discovers them.
    pub resolver: Option<SocketAddr>,
    /// Port of discovered authoritative servers.
    pub nameserver_port: Option<u16>,
    /// How long to wait for propagation, in seconds.
    pub propagation_timeout_secs: u64,
    /// Check the servers, or wait the provider's delay.
    pub propagation: Propagation,
    /// Non-public destinations the account allows.
    pub network: NetworkAccess,
}

impl std::fmt::Debug for DnsAccountRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsAccountRequest")
            .field("name", &self.name)
            .field("provider", &self.provider)
            .field("zones", &self.zones)
            .field("params", &self.params.keys().collect::<Vec<_>>())
            .field("nameservers", &self.nameservers)
            .field("propagation", &self.propagation)
            .field("network", &self.network)
            .finish_non_exhaustive()
    }
}

/// Check the account's name, zones and parameters (against the provider's
/// definition), then store it with its parameters sealed.
pub async fn create_account(
    engine: &Engine<'_>,
    request: DnsAccountRequest,
) -> EngineResult<DnsAccountRecord> {
    let store = engine.store();
    certmgr_core::validate_name(&request.name)?;
    let mut zones = Vec::with_capacity(request.zones.len());
    for zone in &request.zones {
        match zone.parse::<Hostname>()? {
            Hostname::Dns(name) if !name.starts_with("*.") => zones.push(name),
            _ => {
                return Err(EngineError::Field(FieldError {
                    field: Field::Zone,
                    source: Box::new(EngineError::bad_input(format!(
                        "{zone:?} is not a DNS zone name"
                    ))),
                }));
            }
        }
    }
    let config = DnsAccountConfig {
        params: request.params,
        nameservers: request.nameservers,
        resolver: request.resolver,
        nameserver_port: request.nameserver_port,
        propagation_timeout_secs: request.propagation_timeout_secs,
        propagation: request.propagation,
        network: request.network,
    };
    // Refuse unknown or missing parameters before anything is stored.
    backend_for(store, &request.provider, &config).await?;
    let provider = match request.provider.as_str() {
        RFC2136 | SCRIPT => request.provider.clone(),
        id => definition(store, id).await?.meta().id.clone(),
    };
    let sealed_json = zeroize::Zeroizing::new(
        serde_json::to_vec(&config).map_err(|e| EngineError::failed(e.to_string()))?,
    );
    Ok(store
        .create_dns_account(&NewDnsAccount {
            name: request.name,
            provider,
            zones,
            params_json: &sealed_json,
        })
        .await?)
}

/// What a test of a DNS account came to: the probe record added, then
/// deleted, each step's outcome, and the redacted trace of every request.
#[derive(Debug)]
pub struct AccountTest {
    /// The account tested.
    pub account: String,
    /// The probe record's name.
    pub record: String,
    /// Adding the record.
    pub added: EngineResult<()>,
    /// Deleting it again (not tried when adding failed).
    pub deleted: Option<EngineResult<()>>,
    /// The requests and answers, secrets redacted.
    pub trace: String,
}

impl AccountTest {
    /// Whether the record was added and deleted.
    pub fn ok(&self) -> bool {
        self.added.is_ok() && matches!(self.deleted, Some(Ok(())))
    }
}

/// Add a probe TXT record in the account's first zone and delete it again.
pub async fn test_account(engine: &Engine<'_>, name: &str) -> EngineResult<AccountTest> {
    let store = engine.store();
    let account = store.dns_account(name).await?;
    let (backend, _) = account_config(store, &account).await?;
    let zone = account
        .zones
        .first()
        .ok_or_else(|| EngineError::bad_input("the account serves no zone"))?;
    let record = format!("_certmgr-test.{zone}");
    let mut random = [0u8; 12];
    // The system generator failing leaves zeros: still a usable probe value.
    let _ = aws_lc_rs::rand::fill(&mut random);
    let value = format!("certmgr-test-{}", hex::encode(random));
    let trace = MemoryTrace::default();
    let added = backend
        .add(
            &Change {
                zone,
                record_name: &record,
                value: &value,
                values: vec![value.clone()],
            },
            &trace,
        )
        .await;
    if let Ok(published) = &added {
        save_account_updates(store, &account, &published.account_updates).await?;
    }
    let deleted = match &added {
        Ok(published) => {
            let mut captures = published.captures.clone();
            // On delete, `values` are the values that remain: none.
            let change = Change {
                zone,
                record_name: &record,
                value: &value,
                values: Vec::new(),
            };
            Some(
                backend
                    .delete(&change, &mut captures, &trace)
                    .await
                    .map(|_| ()),
            )
        }
        Err(_) => None,
    };
    Ok(AccountTest {
        account: account.name,
        record,
        added: added.map(|_| ()),
        deleted,
        trace: trace.text(),
    })
}

/// Refuses an imported provider id that a built-in provider has.
pub fn check_id_free(id: &str, file_name: &str) -> EngineResult<()> {
    if certmgr_dns::provider(id).is_ok() || id == RFC2136 || id == SCRIPT {
        return Err(EngineError::bad_input(format!(
            "{file_name}: provider id {id:?} is built in; give the imported definition another name"
        )));
    }
    Ok(())
}

/// Import a provider definition written in TOML (DXL files go through
/// the DXL import of this crate): parsed and checked whole, then stored.
pub async fn import_provider(
    engine: &Engine<'_>,
    text: &str,
    file_name: &str,
) -> EngineResult<ProviderDefinition> {
    let parsed = certmgr_dns::Definition::parse(text, file_name)?;
    let id = parsed.provider.id.clone();
    if has_controls(&parsed.provider.name) {
        return Err(EngineError::bad_input(format!(
            "{file_name}: the provider name {:?} contains control characters (such as terminal escape sequences); remove them",
            parsed.provider.name
        )));
    }
    check_id_free(&id, file_name)?;
    engine
        .store()
        .import_dns_provider(&id, text, file_name)
        .await?;
    Ok(ProviderDefinition::Toml(Box::new(parsed)))
}

/// Every provider a DNS account can use: the catalog's, then those imported.
pub async fn providers(engine: &Engine<'_>) -> EngineResult<Vec<ProviderDefinition>> {
    // The catalog is compiled in: one that does not load is a failure.
    let catalog = certmgr_dns::catalog().map_err(|e| EngineError::failed(e.to_string()))?;
    let mut all: Vec<ProviderDefinition> = catalog
        .into_iter()
        .map(|d| ProviderDefinition::Toml(Box::new(d)))
        .collect();
    for id in engine.store().imported_dns_providers().await? {
        all.push(definition(engine.store(), &id).await?);
    }
    Ok(all)
}
