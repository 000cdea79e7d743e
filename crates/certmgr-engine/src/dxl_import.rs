//! Moving a Domino CertMgr setup over from a DXL export: provider
//! configurations become DXL providers, DNS provider accounts become DNS
//! accounts (secrets sealed), ACME accounts with a directory are
//! registered. Everything is checked before anything is stored or
//! registered; registrations (which talk to the CA and may fail) go first.

use base64::Engine as _;
use certmgr_core::validate_name;
use certmgr_dns::dxl::{DxlAccount, DxlAcmeAccount, read_import};
use certmgr_dns::{NetworkAccess, ProviderDefinition};
use certmgr_store::{NewDnsAccount, StoreError};
use zeroize::Zeroizing;

use crate::Engine;
use crate::acme::{AccountOptions, Registration, register};
use crate::dns01::{DnsAccountConfig, Propagation, check_id_free, definition};
use crate::error::{EngineError, EngineResult};

/// How the DNS accounts and ACME accounts of a DXL file are set up.
#[derive(Debug, Clone, Default)]
pub struct DxlImportOptions {
    /// How the DNS accounts wait for propagation (Domino waits a delay).
    pub propagation: Propagation,
    /// Non-public destinations the DNS accounts allow.
    pub network: NetworkAccess,
    /// PEM of the CA behind the ACME directories' TLS certificates.
    pub ca_bundle_pem: Option<String>,
}

/// A DNS account created from the file, with what it came from.
#[derive(Debug)]
pub struct ImportedAccount {
    /// certmgr's name for it (the zone).
    pub name: String,
    /// The provider (configuration) id.
    pub provider: String,
    /// The zone it serves.
    pub zone: String,
    /// The Domino ACME account it belonged to, if any.
    pub acme_account: String,
}

/// What a DXL import did.
#[derive(Debug)]
pub struct DxlImportReport {
    /// The provider definitions imported.
    pub providers: Vec<ProviderDefinition>,
    /// The DNS accounts created.
    pub dns_accounts: Vec<ImportedAccount>,
    /// The ACME accounts registered.
    pub acme_accounts: Vec<String>,
    /// Documents of the file that were not imported, and why.
    pub skipped: Vec<String>,
    /// What the user should check.
    pub warnings: Vec<String>,
}

/// A DNS account to create, checked.
struct PlannedAccount<'a> {
    name: String,
    source: &'a DxlAccount,
    config: DnsAccountConfig,
}

/// Import a DXL file read from `file_name`.
pub async fn import(
    engine: &Engine<'_>,
    text: &str,
    file_name: &str,
    options: &DxlImportOptions,
) -> EngineResult<DxlImportReport> {
    let store = engine.store();
    let import = read_import(text, file_name).map_err(|e| EngineError::bad_input(e.to_string()))?;
    for p in &import.providers {
        check_id_free(p.id(), file_name)?;
        if store.dns_provider_source(p.id()).await?.is_some() {
            return Err(EngineError::bad_input(format!(
                "{file_name}: a DNS provider {:?} was imported before; remove it or rename the configuration",
                p.id()
            )));
        }
    }

    let mut accounts = Vec::new();
    for a in &import.accounts {
        let def = match import.providers.iter().find(|p| p.id() == a.provider) {
            Some(p) => ProviderDefinition::Dxl(Box::new(p.clone())),
            None => definition(store, &a.provider).await.map_err(|_| {
                EngineError::bad_input(format!(
                    "{file_name}: the DNS provider account for {} uses the configuration {:?}, which is neither in this file nor imported",
                    a.zone, a.provider
                ))
            })?,
        };
        // A field the account seals must be a secret of the configuration
        // (those of this file were sealed to match by read_import).
        if let Some((k, _, _)) = a.fields.iter().find(|(k, _, sealed)| {
            *sealed
                && !def
                    .parameters()
                    .iter()
                    .any(|p| p.secret && p.name.eq_ignore_ascii_case(k))
        }) {
            return Err(EngineError::bad_input(format!(
                "{file_name}: the DNS provider account for {} seals {k:?}, which the configuration {:?} does not treat as a secret; import the configuration with the item sealed (seal='true') in the same file",
                a.zone, a.provider
            )));
        }
        let mut config = DnsAccountConfig::default();
        config.params = a
            .fields
            .iter()
            .map(|(k, v, _)| (k.clone(), v.clone()))
            .collect();
        config.propagation = options.propagation;
        config.network = options.network;
        def.bind(config.params.iter().map(|(k, v)| (k.clone(), v.clone())))
            .map_err(|e| EngineError::bad_input(format!("{file_name}: {e}")))?;
        let name = a.zone.clone();
        validate_name(&name)?;
        refuse_existing(
            store.dns_account(&name).await,
            "DNS account",
            &name,
            file_name,
        )?;
        accounts.push(PlannedAccount {
            name,
            source: a,
            config,
        });
    }

    let mut registrations = Vec::new();
    for a in &import.acme_accounts {
        validate_name(&a.name)?;
        refuse_existing(
            store.acme_account(&a.name).await,
            "ACME account",
            &a.name,
            file_name,
        )?;
        registrations.push(registration(a, options.ca_bundle_pem.clone(), file_name)?);
    }

    // Registration talks to the CA and may fail: do it before storing the rest.
    let mut registered = Vec::new();
    for r in registrations {
        registered.push(register(engine, r).await?.name);
    }
    let mut providers = Vec::new();
    for p in &import.providers {
        store
            .import_dns_provider(p.id(), &certmgr_dns::dxl::export_dxl(p), file_name)
            .await?;
        providers.push(ProviderDefinition::Dxl(Box::new(p.clone())));
    }
    let mut created = Vec::new();
    for a in &accounts {
        let sealed = Zeroizing::new(
            serde_json::to_vec(&a.config).map_err(|e| EngineError::failed(e.to_string()))?,
        );
        store
            .create_dns_account(&NewDnsAccount {
                name: a.name.clone(),
                provider: a.source.provider.clone(),
                zones: vec![a.source.zone.clone()],
                params_json: &sealed,
            })
            .await?;
        created.push(ImportedAccount {
            name: a.name.clone(),
            provider: a.source.provider.clone(),
            zone: a.source.zone.clone(),
            acme_account: a.source.acme_account.clone(),
        });
    }
    Ok(DxlImportReport {
        providers,
        dns_accounts: created,
        acme_accounts: registered,
        skipped: import.skipped,
        warnings: import.warnings,
    })
}

fn refuse_existing<T>(
    found: Result<T, StoreError>,
    kind: &str,
    name: &str,
    file_name: &str,
) -> EngineResult<()> {
    match found {
        Ok(_) => Err(EngineError::bad_input(format!(
            "{file_name}: a {kind} named {name:?} already exists; nothing was imported"
        ))),
        Err(StoreError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn registration(
    a: &DxlAcmeAccount,
    ca_bundle_pem: Option<String>,
    file_name: &str,
) -> EngineResult<Registration> {
    if !a.directory.starts_with("https://") {
        return Err(EngineError::bad_input(format!(
            "{file_name}: ACME account {:?}: directory {:?} is not an https:// URL",
            a.name, a.directory
        )));
    }
    if !a.agree_tos {
        return Err(EngineError::bad_input(format!(
            "{file_name}: ACME account {:?} has not agreed to the CA's terms (AcmeAgreeToServiceTerms); agree in Domino, or create the account in certmgr agreeing to the terms",
            a.name
        )));
    }
    let eab = match (a.eab_kid.is_empty(), a.eab_hmac.is_empty()) {
        (true, true) => None,
        (false, false) => {
            let key = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(a.eab_hmac.trim().trim_end_matches('='))
                .map_err(|_| {
                    EngineError::bad_input(format!(
                        "{file_name}: ACME account {:?}: AcmeEabHmac is not base64url text",
                        a.name
                    ))
                })?;
            Some((a.eab_kid.clone(), Zeroizing::new(key)))
        }
        _ => {
            return Err(EngineError::bad_input(format!(
                "{file_name}: ACME account {:?}: AcmeEabKid and AcmeEabHmac go together",
                a.name
            )));
        }
    };
    Ok(Registration {
        name: a.name.clone(),
        ca_id: None,
        directory_url: a.directory.clone(),
        options: AccountOptions {
            emails: if a.email.is_empty() {
                Vec::new()
            } else {
                vec![a.email.clone()]
            },
            agree_tos: true,
            eab,
            ca_bundle_pem,
            ..AccountOptions::default()
        },
    })
}
