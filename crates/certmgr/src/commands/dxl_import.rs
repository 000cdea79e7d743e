//! `certmgr dns provider import FILE.dxl`: moving a Domino CertMgr setup
//! over. The import is the engine's ([`certmgr_engine::dxl_import`]); this
//! reads the CA bundle and prints what was imported.

use certmgr_engine::Engine;
use certmgr_engine::dxl_import::{DxlImportOptions, import as import_dxl};
use serde_json::json;

use crate::cli::DnsProviderImportArgs;
use crate::commands::dns::{print_destinations, propagation};
use crate::error::{CliError, CliResult};
use crate::input::read_input;
use crate::output::print_json;
use certmgr_engine::view::Destinations;

pub async fn import(
    engine: &Engine<'_>,
    args: &DnsProviderImportArgs,
    text: &str,
    file_name: &str,
    json: bool,
) -> CliResult<()> {
    let ca_bundle_pem = match &args.ca_bundle {
        Some(path) => Some(
            String::from_utf8(read_input(path)?)
                .map_err(|_| CliError::bad_input(format!("{}: not a PEM file", path.display())))?,
        ),
        None => None,
    };
    let options = DxlImportOptions {
        propagation: propagation(args.propagation),
        network: certmgr_dns::NetworkAccess {
            private_network: args.allow_private_network,
            plain_http: args.allow_plain_http,
        },
        ca_bundle_pem,
    };
    let report = import_dxl(engine, text, file_name, &options).await?;
    if json {
        // Where each imported provider sends requests, for the user to review.
        let destinations: serde_json::Map<String, serde_json::Value> = report
            .providers
            .iter()
            .map(|p| (p.meta().id.clone(), serde_json::json!(Destinations::of(p))))
            .collect();
        return print_json(&json!({
            "providers": report.providers.iter().map(|p| p.meta().id.clone()).collect::<Vec<_>>(),
            "dns_accounts": report.dns_accounts.iter().map(|a| a.name.clone()).collect::<Vec<_>>(),
            "acme_accounts": report.acme_accounts, "skipped": report.skipped,
            "warnings": report.warnings,
            "destinations": destinations,
        }));
    }
    for p in &report.providers {
        println!(
            "DNS provider {:?} imported from {file_name} (Domino DXL)",
            p.meta().id
        );
        print_destinations(&Destinations::of(p), "  ");
    }
    for a in &report.dns_accounts {
        println!(
            "DNS account {:?} ({}) serves {}{}",
            a.name,
            a.provider,
            a.zone,
            if a.acme_account.is_empty() {
                String::new()
            } else {
                format!(" (Domino ACME account {:?})", a.acme_account)
            }
        );
    }
    for name in &report.acme_accounts {
        println!("ACME account {name:?} registered");
    }
    for s in &report.skipped {
        println!("skipped {s}");
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}
