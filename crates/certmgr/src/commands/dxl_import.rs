//! `certmgr dns provider import FILE.dxl`: moving a Domino CertMgr setup
//! over. Provider configurations become DXL providers, DNS provider
//! accounts become DNS accounts (secrets sealed), ACME accounts with a
//! directory are registered. Everything is checked before anything is
//! stored or registered.

use base64::Engine as _;
use certmgr_core::validate_name;
use certmgr_dns::ProviderDefinition;
use certmgr_dns::dxl::{DxlAccount, DxlAcmeAccount, read_import};
use certmgr_store::{NewDnsAccount, Store, StoreError};
use serde_json::json;
use zeroize::Zeroizing;

use crate::cli::DnsProviderImportArgs;
use crate::commands::acme::{Registration, register};
use crate::commands::dns::check_id_free;
use crate::dns01::{DnsAccountConfig, definition};
use crate::error::{CliError, CliResult};
use crate::input::read_input;
use crate::output::print_json;

/// A DNS account to create, checked.
struct PlannedAccount<'a> {
    name: String,
    source: &'a DxlAccount,
    config: DnsAccountConfig,
}

pub async fn import(
    store: &Store,
    args: &DnsProviderImportArgs,
    text: &str,
    file_name: &str,
    json: bool,
) -> CliResult<()> {
    let import = read_import(text, file_name).map_err(|e| CliError::bad_input(e.to_string()))?;
    for p in &import.providers {
        check_id_free(p.id(), file_name)?;
        if store.dns_provider_source(p.id()).await?.is_some() {
            return Err(CliError::bad_input(format!(
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
                CliError::bad_input(format!(
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
            return Err(CliError::bad_input(format!(
                "{file_name}: the DNS provider account for {} seals {k:?}, which the configuration {:?} does not treat as a secret; import the configuration with the item sealed (seal='true') in the same file",
                a.zone, a.provider
            )));
        }
        let params = a
            .fields
            .iter()
            .map(|(k, v, _)| (k.clone(), v.clone()))
            .collect();
        let mut config = DnsAccountConfig::default();
        config.params = params;
        config.propagation = args.propagation;
        config.network = certmgr_dns::NetworkAccess {
            private_network: args.allow_private_network,
            plain_http: args.allow_plain_http,
        };
        def.bind(config.params.iter().map(|(k, v)| (k.clone(), v.clone())))
            .map_err(|e| CliError::bad_input(format!("{file_name}: {e}")))?;
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

    let ca_bundle_pem = match &args.ca_bundle {
        Some(path) => Some(
            String::from_utf8(read_input(path)?)
                .map_err(|_| CliError::bad_input(format!("{}: not a PEM file", path.display())))?,
        ),
        None => None,
    };
    let mut registrations = Vec::new();
    for a in &import.acme_accounts {
        validate_name(&a.name)?;
        refuse_existing(
            store.acme_account(&a.name).await,
            "ACME account",
            &a.name,
            file_name,
        )?;
        registrations.push(registration(a, ca_bundle_pem.clone(), file_name)?);
    }

    // Registration talks to the CA and may fail: do it before storing the rest.
    let mut registered = Vec::new();
    for r in registrations {
        let record = register(store, r).await?;
        registered.push(record.name);
    }
    let mut providers = Vec::new();
    for p in &import.providers {
        store
            .import_dns_provider(p.id(), &certmgr_dns::dxl::export_dxl(p), file_name)
            .await?;
        providers.push(p.id().to_string());
    }
    let mut created = Vec::new();
    for a in &accounts {
        let sealed = Zeroizing::new(
            serde_json::to_vec(&a.config).map_err(|e| CliError::failed(e.to_string()))?,
        );
        store
            .create_dns_account(&NewDnsAccount {
                name: a.name.clone(),
                provider: a.source.provider.clone(),
                zones: vec![a.source.zone.clone()],
                params_json: &sealed,
            })
            .await?;
        created.push(a.name.clone());
    }

    // Where each imported provider sends requests, for the user to review.
    let destinations: serde_json::Map<String, serde_json::Value> = import
        .providers
        .iter()
        .map(|p| {
            (
                p.id().to_string(),
                crate::commands::dns::destinations_json(&ProviderDefinition::Dxl(Box::new(
                    p.clone(),
                ))),
            )
        })
        .collect();
    if json {
        return print_json(&json!({
            "providers": providers, "dns_accounts": created,
            "acme_accounts": registered, "skipped": import.skipped,
            "warnings": import.warnings,
            "destinations": destinations,
        }));
    }
    for p in &import.providers {
        println!(
            "DNS provider {:?} imported from {file_name} (Domino DXL)",
            p.id()
        );
        crate::commands::dns::print_destinations(
            &ProviderDefinition::Dxl(Box::new(p.clone())),
            "  ",
        );
    }
    for (a, name) in accounts.iter().zip(&created) {
        println!(
            "DNS account {name:?} ({}) serves {}{}",
            a.source.provider,
            a.source.zone,
            if a.source.acme_account.is_empty() {
                String::new()
            } else {
                format!(" (Domino ACME account {:?})", a.source.acme_account)
            }
        );
    }
    for name in &registered {
        println!("ACME account {name:?} registered");
    }
    for s in &import.skipped {
        println!("skipped {s}");
    }
    for w in &import.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

fn refuse_existing<T>(
    found: Result<T, StoreError>,
    kind: &str,
    name: &str,
    file_name: &str,
) -> CliResult<()> {
    match found {
        Ok(_) => Err(CliError::bad_input(format!(
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
) -> CliResult<Registration> {
    if !a.directory.starts_with("https://") {
        return Err(CliError::bad_input(format!(
            "{file_name}: ACME account {:?}: directory {:?} is not an https:// URL",
            a.name, a.directory
        )));
    }
    if !a.agree_tos {
        return Err(CliError::bad_input(format!(
            "{file_name}: ACME account {:?} has not agreed to the CA's terms (AcmeAgreeToServiceTerms); agree in Domino or create the account with certmgr acme account create --agree-tos",
            a.name
        )));
    }
    let eab = match (a.eab_kid.is_empty(), a.eab_hmac.is_empty()) {
        (true, true) => None,
        (false, false) => {
            let key = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(a.eab_hmac.trim().trim_end_matches('='))
                .map_err(|_| {
                    CliError::bad_input(format!(
                        "{file_name}: ACME account {:?}: AcmeEabHmac is not base64url text",
                        a.name
                    ))
                })?;
            Some((a.eab_kid.clone(), Zeroizing::new(key)))
        }
        _ => {
            return Err(CliError::bad_input(format!(
                "{file_name}: ACME account {:?}: AcmeEabKid and AcmeEabHmac go together",
                a.name
            )));
        }
    };
    Ok(Registration {
        name: a.name.clone(),
        ca_id: None,
        directory_url: a.directory.clone(),
        emails: if a.email.is_empty() {
            Vec::new()
        } else {
            vec![a.email.clone()]
        },
        agree_tos: true,
        eab,
        ca_bundle_pem,
        profile: None,
        max_concurrent_orders: None,
        preferred_chain: None,
    })
}
