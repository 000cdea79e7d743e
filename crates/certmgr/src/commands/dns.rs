//! `certmgr dns provider ...` and `certmgr dns account ...`.

use std::collections::BTreeMap;

use certmgr_core::validate_name;
use certmgr_dns::{MemoryTrace, ProviderDefinition};
use certmgr_store::{NewDnsAccount, Store};
use serde_json::json;

use crate::cli::{
    DnsAccountCreateArgs, DnsAccountTestArgs, DnsProviderExportArgs, DnsProviderImportArgs,
    ProviderFormat,
};
use crate::dns01::{
    Change, DnsAccountConfig, RFC2136, SCRIPT, account_config, backend_for, definition,
};
use crate::error::{CliError, CliResult};
use crate::output::{has_controls, print_json, print_table, printable, printable_lines, timestamp};

pub async fn provider_list(store: &Store, json: bool) -> CliResult<()> {
    let mut catalog: Vec<ProviderDefinition> = certmgr_dns::catalog()
        .map_err(|e| CliError::failed(e.to_string()))?
        .into_iter()
        .map(|d| ProviderDefinition::Toml(Box::new(d)))
        .collect();
    for id in store.imported_dns_providers().await? {
        catalog.push(definition(store, &id).await?);
    }
    if json {
        let rows: Vec<_> = catalog
            .iter()
            .map(|d| {
                json!({
                    "id": d.meta().id, "name": d.meta().name, "api_docs": d.meta().api_docs,
                    "multi_value_txt": d.meta().multi_value_txt, "kind": d.kind(),
                })
            })
            .collect();
        return print_json(&rows);
    }
    let rows: Vec<Vec<String>> = catalog
        .iter()
        .map(|d| {
            vec![
                d.meta().id.clone(),
                printable(&d.meta().name).into_owned(),
                d.kind().to_string(),
                printable(&d.meta().api_docs).into_owned(),
            ]
        })
        .collect();
    print_table(&["ID", "NAME", "KIND", "API DOCS"], &rows)?;
    Ok(())
}

pub async fn provider_show(store: &Store, id: &str, json: bool) -> CliResult<()> {
    let def = definition(store, id).await?;
    let d = def.meta();
    let parameters: Vec<_> = def
        .parameters()
        .iter()
        .map(|p| {
            json!({
                "name": p.name, "help": p.help, "required": p.required,
                "secret": p.secret, "default": p.default,
            })
        })
        .collect();
    let value = json!({
        "id": d.id, "name": d.name, "kind": def.kind(), "website": d.website,
        "api_docs": d.api_docs, "token_scopes": d.token_scopes,
        "min_ttl": d.min_ttl, "multi_value_txt": d.multi_value_txt,
        "propagation_secs": d.propagation_secs, "notes": d.notes, "parameters": parameters,
        "destinations": destinations_json(&def),
    });
    if json {
        return print_json(&value);
    }
    // Names, links and notes may come from an imported file: escaped.
    println!("{} ({}, {})", printable(&d.name), d.id, def.kind());
    println!("website:      {}", printable(&d.website));
    println!("API docs:     {}", printable(&d.api_docs));
    if let Some(scopes) = &d.token_scopes {
        println!("token scopes: {}", printable(scopes));
    }
    if let Some(notes) = &d.notes {
        println!("notes:        {}", printable_lines(notes));
    }
    print_destinations(&def, "");
    println!("parameters:");
    for p in def.parameters() {
        println!(
            "  {:<16} {}{}{}",
            printable(&p.name),
            if p.required { "required" } else { "optional" },
            if p.secret { ", secret" } else { "" },
            if p.help.is_empty() {
                String::new()
            } else {
                format!(": {}", printable(&p.help))
            }
        );
    }
    Ok(())
}

pub async fn account_create(
    store: &Store,
    args: &DnsAccountCreateArgs,
    json: bool,
) -> CliResult<()> {
    validate_name(&args.name)?;
    let secret = crate::dns01::secret_parameters(store, &args.provider).await?;
    let params: BTreeMap<String, String> = crate::input::read_params(&args.params, &secret)?
        .into_iter()
        .map(|(name, value)| (name, value.to_string()))
        .collect();
    let mut zones = Vec::new();
    for zone in &args.zones {
        let hostname: certmgr_core::Hostname = zone.parse()?;
        match hostname {
            certmgr_core::Hostname::Dns(name) if !name.starts_with("*.") => zones.push(name),
            _ => {
                return Err(CliError::bad_input(format!(
                    "--zone {zone:?} is not a DNS zone name"
                )));
            }
        }
    }
    let config = DnsAccountConfig {
        params,
        nameservers: args.nameservers.clone(),
        resolver: args.resolver,
        nameserver_port: args.nameserver_port,
        propagation_timeout_secs: args.propagation_timeout,
        propagation: args.propagation,
        network: certmgr_dns::NetworkAccess {
            private_network: args.allow_private_network,
            plain_http: args.allow_plain_http,
        },
    };
    // Refuse unknown or missing parameters before anything is stored.
    backend_for(store, &args.provider, &config).await?;
    let provider = match args.provider.as_str() {
        RFC2136 | SCRIPT => args.provider.clone(),
        id => definition(store, id).await?.meta().id.clone(),
    };
    let sealed_json = zeroize::Zeroizing::new(
        serde_json::to_vec(&config).map_err(|e| CliError::failed(e.to_string()))?,
    );
    let account = store
        .create_dns_account(&NewDnsAccount {
            name: args.name.clone(),
            provider,
            zones,
            params_json: &sealed_json,
        })
        .await?;
    if json {
        return print_json(&account);
    }
    println!(
        "DNS account {:?} ({}) serves {}; try it: certmgr dns account test {}",
        account.name,
        account.provider,
        account.zones.join(", "),
        account.name
    );
    Ok(())
}

pub async fn account_list(store: &Store, json: bool) -> CliResult<()> {
    let accounts = store.list_dns_accounts().await?;
    if json {
        return print_json(&accounts);
    }
    let rows: Vec<Vec<String>> = accounts
        .iter()
        .map(|a| vec![a.name.clone(), a.provider.clone(), a.zones.join(",")])
        .collect();
    print_table(&["NAME", "PROVIDER", "ZONES"], &rows)?;
    Ok(())
}

pub async fn account_show(store: &Store, name: &str, json: bool) -> CliResult<()> {
    let account = store.dns_account(name).await?;
    let (_, config) = account_config(store, &account).await?;
    let value = json!({
        "name": account.name, "provider": account.provider, "zones": account.zones,
        "parameters": config.params.keys().collect::<Vec<_>>(),
        "nameservers": config.nameservers, "resolver": config.resolver,
        "nameserver_port": config.nameserver_port, "propagation": config.propagation,
        "allow_private_network": config.network.private_network,
        "allow_plain_http": config.network.plain_http,
        "created_at": timestamp(account.created_at),
    });
    if json {
        return print_json(&value);
    }
    for (key, val) in value.as_object().into_iter().flatten() {
        println!("{:<14} {val}", format!("{key}:"));
    }
    Ok(())
}

pub async fn account_delete(store: &Store, name: &str, json: bool) -> CliResult<()> {
    let left = store.delete_dns_account(name).await?;
    if json {
        return print_json(&json!({ "deleted": name, "txt_records_left": left }));
    }
    println!("DNS account {} deleted", printable(name));
    for record in &left {
        println!(
            "  its TXT record {} may still exist in DNS: remove it by hand",
            printable(record)
        );
    }
    Ok(())
}

pub async fn account_test(store: &Store, args: &DnsAccountTestArgs, json: bool) -> CliResult<()> {
    let account = store.dns_account(&args.name).await?;
    let (backend, _) = account_config(store, &account).await?;
    let zone = account
        .zones
        .first()
        .ok_or_else(|| CliError::bad_input("the account serves no zone"))?;
    let record = format!("_certmgr-test.{zone}");
    let mut random = [0u8; 12];
    let _ = aws_lc_rs::rand::fill(&mut random);
    let value = format!(
        "certmgr-test-{}",
        random
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
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
        crate::dns01::save_account_updates(store, &account, &published.account_updates).await?;
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
            Some(backend.delete(&change, &mut captures, &trace).await)
        }
        Err(_) => None,
    };
    if args.trace && !json {
        eprintln!("{}", trace.text());
    }
    let ok = added.is_ok() && matches!(deleted, Some(Ok(_)));
    if json {
        print_json(&json!({
            "account": account.name, "record": record, "ok": ok,
            "add": added.as_ref().err().map(ToString::to_string),
            "delete": deleted.as_ref().and_then(|d| d.as_ref().err()).map(ToString::to_string),
            "trace": if args.trace { Some(trace.text()) } else { None },
        }))?;
    } else {
        println!(
            "add {record} TXT: {}",
            match &added {
                Ok(_) => "ok".to_owned(),
                Err(e) => format!("FAILED: {e}"),
            }
        );
        if let Some(deleted) = &deleted {
            println!(
                "delete {record} TXT: {}",
                match deleted {
                    Ok(_) => "ok".to_owned(),
                    Err(e) => format!("FAILED: {e}"),
                }
            );
        }
    }
    if ok {
        Ok(())
    } else {
        Err(CliError::failed(format!(
            "DNS account {:?} failed the test",
            account.name
        )))
    }
}

pub async fn provider_import(
    store: &Store,
    args: &DnsProviderImportArgs,
    json: bool,
) -> CliResult<()> {
    let file = &args.file;
    let data = crate::input::read_input(file)?;
    let text = String::from_utf8(data)
        .map_err(|_| CliError::bad_input(format!("{}: not UTF-8 text", file.display())))?;
    let file_name = file.display().to_string();
    if certmgr_dns::is_dxl(&text, &file_name) {
        return crate::commands::dxl_import::import(store, args, &text, &file_name, json).await;
    }
    let parsed = certmgr_dns::Definition::parse(&text, &file_name)
        .map_err(|e| CliError::bad_input(e.to_string()))?;
    let id = parsed.provider.id.clone();
    if has_controls(&parsed.provider.name) {
        return Err(CliError::bad_input(format!(
            "{file_name}: the provider name {:?} contains control characters (such as terminal escape sequences); remove them",
            parsed.provider.name
        )));
    }
    check_id_free(&id, &file_name)?;
    store.import_dns_provider(&id, &text, &file_name).await?;
    let def = ProviderDefinition::Toml(Box::new(parsed));
    if json {
        return print_json(&json!({
            "imported": id, "destinations": destinations_json(&def),
        }));
    }
    println!(
        "DNS provider {id:?} ({}) imported from {file_name}",
        printable(&def.meta().name)
    );
    print_destinations(&def, "  ");
    Ok(())
}

/// Where a provider sends requests, as JSON: the hosts it names and the
/// parameters whose URL adds a host.
pub fn destinations_json(def: &ProviderDefinition) -> serde_json::Value {
    let parameters: Vec<_> = def
        .url_parameters()
        .into_iter()
        .map(|(name, default)| json!({ "parameter": name, "default_host": default }))
        .collect();
    json!({ "hosts": def.hosts(), "from_account_parameters": parameters })
}

/// Prints where a provider sends requests (`indent` before each line).
pub fn print_destinations(def: &ProviderDefinition, indent: &str) {
    let hosts: Vec<String> = def
        .hosts()
        .iter()
        .map(|h| printable(h).into_owned())
        .collect();
    println!(
        "{indent}sends requests to: {}",
        if hosts.is_empty() {
            "no fixed host".to_owned()
        } else {
            hosts.join(", ")
        }
    );
    let from_params: Vec<String> = def
        .url_parameters()
        .into_iter()
        .map(|(name, default)| match default {
            Some(h) => format!("{} (default {})", printable(name), printable(&h)),
            None => printable(name).into_owned(),
        })
        .collect();
    if !from_params.is_empty() {
        println!(
            "{indent}  and the host of the account's {}",
            from_params.join(", ")
        );
    }
}

/// Refuses an imported provider id that a built-in provider has.
pub fn check_id_free(id: &str, file_name: &str) -> CliResult<()> {
    if certmgr_dns::provider(id).is_ok() || id == RFC2136 || id == SCRIPT {
        return Err(CliError::bad_input(format!(
            "{file_name}: provider id {id:?} is built in; give the imported definition another name"
        )));
    }
    Ok(())
}

pub async fn provider_export(store: &Store, args: &DnsProviderExportArgs) -> CliResult<()> {
    let def = definition(store, &args.name).await?;
    let text = match (&def, args.format) {
        (ProviderDefinition::Dxl(d), ProviderFormat::Dxl) => certmgr_dns::dxl::export_dxl(d),
        (ProviderDefinition::Toml(_), ProviderFormat::Dxl) => {
            return Err(CliError::bad_input(format!(
                "provider {:?} is a TOML definition: only providers imported from DXL export as DXL (its TOML is providers/{}/provider.toml)",
                args.name,
                def.meta().id
            )));
        }
    };
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display()))),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
