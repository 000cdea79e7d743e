//! `certmgr dns provider ...` and `certmgr dns account ...`.

use std::collections::BTreeMap;

use certmgr_core::validate_name;
use certmgr_dns::ProviderDefinition;
use certmgr_engine::dns01::{DnsAccountRequest, Propagation, definition};
use certmgr_engine::view::{self, Destinations, DnsAccountView, ProviderDetail, ProviderSummary};
use certmgr_store::DnsAccountRecord;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::cli::{
    DnsAccountCreateArgs, DnsAccountTestArgs, DnsProviderExportArgs, DnsProviderImportArgs,
    ProviderFormat,
};
use crate::commands::Target;
use crate::error::{CliError, CliResult, engine_message};
use crate::output::{print_json, print_table, printable, printable_lines};
use crate::remote::segment;

pub async fn provider_list(target: &Target<'_>, json: bool) -> CliResult<()> {
    let rows: Vec<ProviderSummary> = match target {
        Target::Local(engine) => certmgr_engine::dns01::providers(engine)
            .await?
            .iter()
            .map(ProviderSummary::of)
            .collect(),
        Target::Remote(remote) => remote.get("/api/dns/providers").await?,
    };
    if json {
        return print_json(&rows);
    }
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|d| {
            vec![
                d.id.clone(),
                printable(&d.name).into_owned(),
                d.kind.clone(),
                printable(&d.api_docs).into_owned(),
            ]
        })
        .collect();
    print_table(&["ID", "NAME", "KIND", "API DOCS"], &rows)?;
    Ok(())
}

pub async fn provider_show(target: &Target<'_>, id: &str, json: bool) -> CliResult<()> {
    let d: ProviderDetail = match target {
        Target::Local(engine) => ProviderDetail::of(&definition(engine.store(), id).await?),
        Target::Remote(remote) => {
            remote
                .get(&format!("/api/dns/providers/{}", segment(id)))
                .await?
        }
    };
    if json {
        return print_json(&d);
    }
    // Names, links and notes may come from an imported file: escaped.
    println!("{} ({}, {})", printable(&d.name), d.id, d.kind);
    println!("website:      {}", printable(&d.website));
    println!("API docs:     {}", printable(&d.api_docs));
    if let Some(scopes) = &d.token_scopes {
        println!("token scopes: {}", printable(scopes));
    }
    if let Some(notes) = &d.notes {
        println!("notes:        {}", printable_lines(notes));
    }
    print_destinations(&d.destinations, "");
    println!("parameters:");
    for p in &d.parameters {
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
    target: &Target<'_>,
    args: &DnsAccountCreateArgs,
    json: bool,
) -> CliResult<()> {
    validate_name(&args.name)?;
    let account: DnsAccountRecord = match target {
        Target::Local(engine) => {
            let secret =
                certmgr_engine::dns01::secret_parameters(engine.store(), &args.provider).await?;
            let params: BTreeMap<String, String> =
                crate::input::read_params(&args.params, &secret)?
                    .into_iter()
                    .map(|(name, value)| (name, value.to_string()))
                    .collect();
            certmgr_engine::dns01::create_account(
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
            .await?
        }
        Target::Remote(remote) => {
            // Which parameters are secret is the provider's: ask the manager.
            let provider: ProviderDetail = remote
                .get(&format!("/api/dns/providers/{}", segment(&args.provider)))
                .await?;
            let secret = provider
                .parameters
                .iter()
                .filter(|p| p.secret)
                .map(|p| p.name.clone())
                .collect();
            let params: BTreeMap<String, String> =
                crate::input::read_params(&args.params, &secret)?
                    .into_iter()
                    .map(|(name, value)| (name, value.to_string()))
                    .collect();
            remote
                .send(
                    Method::POST,
                    "/api/dns/accounts",
                    &json!({
                        "name": args.name,
                        "provider": args.provider,
                        "zones": args.zones,
                        "parameters": params,
                        "nameservers": args.nameservers,
                        "resolver": args.resolver,
                        "nameserver_port": args.nameserver_port,
                        "propagation_timeout_secs": args.propagation_timeout,
                        "propagation": propagation(args.propagation),
                        "allow_private_network": args.allow_private_network,
                        "allow_plain_http": args.allow_plain_http,
                    }),
                )
                .await?
        }
    };
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

pub async fn account_list(target: &Target<'_>, json: bool) -> CliResult<()> {
    let accounts: Vec<DnsAccountRecord> = match target {
        Target::Local(engine) => engine.store().list_dns_accounts().await?,
        Target::Remote(remote) => remote.get("/api/dns/accounts").await?,
    };
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

pub async fn account_show(target: &Target<'_>, name: &str, json: bool) -> CliResult<()> {
    let account: DnsAccountView = match target {
        Target::Local(engine) => view::dns_account(engine, name).await?,
        Target::Remote(remote) => {
            remote
                .get(&format!("/api/dns/accounts/{}", segment(name)))
                .await?
        }
    };
    if json {
        return print_json(&account);
    }
    let value = serde_json::to_value(&account).map_err(|e| CliError::failed(e.to_string()))?;
    for (key, val) in value.as_object().into_iter().flatten() {
        println!("{:<14} {val}", format!("{key}:"));
    }
    Ok(())
}

pub async fn account_delete(target: &Target<'_>, name: &str, json: bool) -> CliResult<()> {
    let left = match target {
        Target::Local(engine) => engine.store().delete_dns_account(name).await?,
        Target::Remote(remote) => {
            remote
                .delete(&format!("/api/dns/accounts/{}", segment(name)))
                .await?;
            Vec::new()
        }
    };
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

/// A DNS account test, as the API says it.
#[derive(Deserialize)]
struct Tested {
    account: String,
    record: String,
    ok: bool,
    add_error: Option<String>,
    delete_tried: bool,
    delete_error: Option<String>,
    trace: String,
}

pub async fn account_test(
    target: &Target<'_>,
    args: &DnsAccountTestArgs,
    json: bool,
) -> CliResult<()> {
    let test = match target {
        Target::Local(engine) => {
            let test = certmgr_engine::dns01::test_account(engine, &args.name).await?;
            Tested {
                ok: test.ok(),
                add_error: test.added.as_ref().err().map(engine_message),
                delete_tried: test.deleted.is_some(),
                delete_error: test
                    .deleted
                    .as_ref()
                    .and_then(|d| d.as_ref().err())
                    .map(engine_message),
                account: test.account,
                record: test.record,
                trace: test.trace,
            }
        }
        Target::Remote(remote) => {
            remote
                .send(
                    Method::POST,
                    &format!("/api/dns/accounts/{}/test", segment(&args.name)),
                    &json!({}),
                )
                .await?
        }
    };
    let record = &test.record;
    if args.trace && !json {
        eprintln!("{}", test.trace);
    }
    if json {
        print_json(&json!({
            "account": test.account, "record": record, "ok": test.ok,
            "add": test.add_error,
            "delete": test.delete_error,
            "trace": if args.trace { Some(&test.trace) } else { None },
        }))?;
    } else {
        let outcome = |error: &Option<String>| match error {
            None => "ok".to_owned(),
            Some(e) => format!("FAILED: {e}"),
        };
        println!("add {record} TXT: {}", outcome(&test.add_error));
        if test.delete_tried {
            println!("delete {record} TXT: {}", outcome(&test.delete_error));
        }
    }
    if test.ok {
        Ok(())
    } else {
        Err(CliError::failed(format!(
            "DNS account {:?} failed the test",
            test.account
        )))
    }
}

/// What a manager imported.
#[derive(Deserialize)]
struct Imported {
    providers: Vec<String>,
    destinations: BTreeMap<String, Destinations>,
    dns_accounts: Vec<String>,
    acme_accounts: Vec<String>,
    skipped: Vec<String>,
    warnings: Vec<String>,
}

pub async fn provider_import(
    target: &Target<'_>,
    args: &DnsProviderImportArgs,
    json: bool,
) -> CliResult<()> {
    let file = &args.file;
    let data = crate::input::read_input(file)?;
    let text = String::from_utf8(data)
        .map_err(|_| CliError::bad_input(format!("{}: not UTF-8 text", file.display())))?;
    let file_name = file.display().to_string();
    let remote = match target {
        Target::Local(engine) => {
            if certmgr_dns::is_dxl(&text, &file_name) {
                return crate::commands::dxl_import::import(engine, args, &text, &file_name, json)
                    .await;
            }
            let def = certmgr_engine::dns01::import_provider(engine, &text, &file_name).await?;
            return imported_provider(&ProviderDetail::of(&def), &file_name, json);
        }
        Target::Remote(remote) => remote,
    };
    let ca_bundle_pem = match &args.ca_bundle {
        Some(path) => Some(
            String::from_utf8(crate::input::read_input(path)?)
                .map_err(|_| CliError::bad_input(format!("{}: not a PEM file", path.display())))?,
        ),
        None => None,
    };
    let imported: Imported = remote
        .send(
            Method::POST,
            "/api/dns/providers",
            &json!({
                "file_name": file_name,
                "text": text,
                "propagation": propagation(args.propagation),
                "allow_private_network": args.allow_private_network,
                "allow_plain_http": args.allow_plain_http,
                "ca_bundle_pem": ca_bundle_pem,
            }),
        )
        .await?;
    if !certmgr_dns::is_dxl(&text, &file_name)
        && let Some(id) = imported.providers.first()
    {
        let detail: ProviderDetail = remote
            .get(&format!("/api/dns/providers/{}", segment(id)))
            .await?;
        return imported_provider(&detail, &file_name, json);
    }
    if json {
        return print_json(&json!({
            "providers": imported.providers, "dns_accounts": imported.dns_accounts,
            "acme_accounts": imported.acme_accounts, "skipped": imported.skipped,
            "warnings": imported.warnings, "destinations": imported.destinations,
        }));
    }
    for id in &imported.providers {
        println!("DNS provider {id:?} imported from {file_name} (Domino DXL)");
        if let Some(destinations) = imported.destinations.get(id) {
            print_destinations(destinations, "  ");
        }
    }
    for name in &imported.dns_accounts {
        println!("DNS account {name:?} created");
    }
    for name in &imported.acme_accounts {
        println!("ACME account {name:?} registered");
    }
    for s in &imported.skipped {
        println!("skipped {s}");
    }
    for w in &imported.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

/// What a TOML provider import says.
fn imported_provider(detail: &ProviderDetail, file_name: &str, json: bool) -> CliResult<()> {
    if json {
        return print_json(&json!({
            "imported": detail.id, "destinations": detail.destinations,
        }));
    }
    println!(
        "DNS provider {:?} ({}) imported from {file_name}",
        detail.id,
        printable(&detail.name)
    );
    print_destinations(&detail.destinations, "  ");
    Ok(())
}

/// Prints where a provider sends requests (`indent` before each line).
pub fn print_destinations(destinations: &Destinations, indent: &str) {
    let hosts: Vec<String> = destinations
        .hosts
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
    let from_params: Vec<String> = destinations
        .from_account_parameters
        .iter()
        .map(|p| match &p.default_host {
            Some(h) => format!("{} (default {})", printable(&p.parameter), printable(h)),
            None => printable(&p.parameter).into_owned(),
        })
        .collect();
    if !from_params.is_empty() {
        println!(
            "{indent}  and the host of the account's {}",
            from_params.join(", ")
        );
    }
}

pub async fn provider_export(target: &Target<'_>, args: &DnsProviderExportArgs) -> CliResult<()> {
    let engine = match target {
        Target::Local(engine) => engine,
        Target::Remote(remote) => {
            let text = remote
                .get_text(&format!("/api/dns/providers/{}/dxl", segment(&args.name)))
                .await?;
            return write_export(args, &text);
        }
    };
    let def = definition(engine.store(), &args.name).await?;
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
    write_export(args, &text)
}

/// The exported DXL, to its file or standard output.
fn write_export(args: &DnsProviderExportArgs, text: &str) -> CliResult<()> {
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
