//! `certmgr dns provider ...` and `certmgr dns account ...`.

use std::collections::BTreeMap;

use certmgr_core::validate_name;
use certmgr_dns::ProviderDefinition;
use certmgr_engine::Engine;
use certmgr_engine::dns01::{DnsAccountRequest, Propagation, definition};
use certmgr_engine::view::{self, Destinations, ProviderDetail, ProviderSummary};
use serde_json::json;

use crate::cli::{
    DnsAccountCreateArgs, DnsAccountTestArgs, DnsProviderExportArgs, DnsProviderImportArgs,
    ProviderFormat,
};
use crate::error::{CliError, CliResult, engine_message};
use crate::output::{print_json, print_table, printable, printable_lines};

pub async fn provider_list(engine: &Engine<'_>, json: bool) -> CliResult<()> {
    let catalog = certmgr_engine::dns01::providers(engine).await?;
    if json {
        let rows: Vec<ProviderSummary> = catalog.iter().map(ProviderSummary::of).collect();
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

pub async fn provider_show(engine: &Engine<'_>, id: &str, json: bool) -> CliResult<()> {
    let store = engine.store();
    let def = definition(store, id).await?;
    let d = def.meta();
    if json {
        return print_json(&ProviderDetail::of(&def));
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
    engine: &Engine<'_>,
    args: &DnsAccountCreateArgs,
    json: bool,
) -> CliResult<()> {
    validate_name(&args.name)?;
    let secret = certmgr_engine::dns01::secret_parameters(engine.store(), &args.provider).await?;
    let params: BTreeMap<String, String> = crate::input::read_params(&args.params, &secret)?
        .into_iter()
        .map(|(name, value)| (name, value.to_string()))
        .collect();
    let account = certmgr_engine::dns01::create_account(
        engine,
        DnsAccountRequest {
            name: args.name.clone(),
            provider: args.provider.clone(),
            zones: args.zones.clone(),
            params,
            nameservers: args.nameservers.clone(),
            resolver: args.resolver,
            nameserver_port: args.nameserver_port,
            propagation_timeout_secs: args.propagation_timeout,
            propagation: propagation(args.propagation),
            network: certmgr_dns::NetworkAccess {
                private_network: args.allow_private_network,
                plain_http: args.allow_plain_http,
            },
        },
    )
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

pub async fn account_list(engine: &Engine<'_>, json: bool) -> CliResult<()> {
    let store = engine.store();
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

pub async fn account_show(engine: &Engine<'_>, name: &str, json: bool) -> CliResult<()> {
    let account = view::dns_account(engine, name).await?;
    if json {
        return print_json(&account);
    }
    let value = serde_json::to_value(&account).map_err(|e| CliError::failed(e.to_string()))?;
    for (key, val) in value.as_object().into_iter().flatten() {
        println!("{:<14} {val}", format!("{key}:"));
    }
    Ok(())
}

pub async fn account_delete(engine: &Engine<'_>, name: &str, json: bool) -> CliResult<()> {
    let store = engine.store();
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

pub async fn account_test(
    engine: &Engine<'_>,
    args: &DnsAccountTestArgs,
    json: bool,
) -> CliResult<()> {
    let test = certmgr_engine::dns01::test_account(engine, &args.name).await?;
    let ok = test.ok();
    let (record, added, deleted, trace) = (&test.record, &test.added, &test.deleted, &test.trace);
    if args.trace && !json {
        eprintln!("{trace}");
    }
    if json {
        print_json(&json!({
            "account": test.account, "record": record, "ok": ok,
            "add": added.as_ref().err().map(engine_message),
            "delete": deleted.as_ref().and_then(|d| d.as_ref().err()).map(engine_message),
            "trace": if args.trace { Some(trace) } else { None },
        }))?;
    } else {
        println!(
            "add {record} TXT: {}",
            match &added {
                Ok(_) => "ok".to_owned(),
                Err(e) => format!("FAILED: {}", engine_message(e)),
            }
        );
        if let Some(deleted) = &deleted {
            println!(
                "delete {record} TXT: {}",
                match deleted {
                    Ok(_) => "ok".to_owned(),
                    Err(e) => format!("FAILED: {}", engine_message(e)),
                }
            );
        }
    }
    if ok {
        Ok(())
    } else {
        Err(CliError::failed(format!(
            "DNS account {:?} failed the test",
            test.account
        )))
    }
}

pub async fn provider_import(
    engine: &Engine<'_>,
    args: &DnsProviderImportArgs,
    json: bool,
) -> CliResult<()> {
    let file = &args.file;
    let data = crate::input::read_input(file)?;
    let text = String::from_utf8(data)
        .map_err(|_| CliError::bad_input(format!("{}: not UTF-8 text", file.display())))?;
    let file_name = file.display().to_string();
    if certmgr_dns::is_dxl(&text, &file_name) {
        return crate::commands::dxl_import::import(engine, args, &text, &file_name, json).await;
    }
    let def = certmgr_engine::dns01::import_provider(engine, &text, &file_name).await?;
    let id = def.meta().id.clone();
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

/// Where a provider sends requests, as JSON.
pub fn destinations_json(def: &ProviderDefinition) -> serde_json::Value {
    json!(Destinations::of(def))
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

pub async fn provider_export(engine: &Engine<'_>, args: &DnsProviderExportArgs) -> CliResult<()> {
    let store = engine.store();
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

/// The command line's propagation mode, as the engine's.
pub fn propagation(mode: crate::cli::PropagationMode) -> Propagation {
    match mode {
        crate::cli::PropagationMode::Check => Propagation::Check,
        crate::cli::PropagationMode::Delay => Propagation::Delay,
    }
}
