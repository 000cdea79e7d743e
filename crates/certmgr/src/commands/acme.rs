//! `certmgr acme account ...` and `certmgr acme cas`.

use base64::Engine as _;
use certmgr_acme::catalog;
use certmgr_core::validate_name;
use certmgr_engine::Engine;
use certmgr_engine::acme::account::existing_pending;
use certmgr_engine::acme::{AccountOptions, NewAccount, register};
use serde_json::json;
use zeroize::Zeroizing;

use crate::cli::AcmeAccountCreateArgs;
use crate::error::{CliError, CliResult};
use crate::input::{read_input, read_password};
use crate::output::{print_json, print_table, timestamp};

pub async fn cas(json: bool) -> CliResult<()> {
    let entries = catalog()?;
    if json {
        return print_json(&entries);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let mut notes = Vec::new();
            if e.eab_required {
                notes.push("EAB");
            }
            if e.staging {
                notes.push("staging");
            }
            if e.discontinued {
                notes.push("discontinued");
            }
            vec![
                e.id.clone(),
                e.name.clone(),
                notes.join(","),
                e.directory.clone(),
            ]
        })
        .collect();
    print_table(&["ID", "NAME", "NOTES", "DIRECTORY"], &rows)?;
    Ok(())
}

pub async fn create(
    engine: &Engine<'_>,
    args: &AcmeAccountCreateArgs,
    json: bool,
) -> CliResult<()> {
    validate_name(&args.name)?;
    // A `pending` account is an interrupted registration: running the same
    // command again finishes it (see `register`).
    existing_pending(engine, &args.name).await?;
    let eab = match (&args.eab_kid, &args.eab_hmac_file) {
        (Some(kid), Some(file)) => {
            let text = read_password(file)?;
            let key = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(text.trim().trim_end_matches('='))
                .map_err(|_| {
                    CliError::bad_input(format!(
                        "{}: the EAB HMAC key is not base64url text",
                        file.display()
                    ))
                })?;
            Some((kid.clone(), Zeroizing::new(key)))
        }
        _ => None,
    };
    let ca_bundle_pem = match &args.ca_bundle {
        Some(path) => Some(
            String::from_utf8(read_input(path)?)
                .map_err(|_| CliError::bad_input(format!("{}: not a PEM file", path.display())))?,
        ),
        None => None,
    };
    let registration = NewAccount {
        name: args.name.clone(),
        ca: args.ca.clone(),
        directory: args.directory.clone(),
        options: AccountOptions {
            emails: args.emails.clone(),
            agree_tos: args.agree_tos,
            eab,
            ca_bundle_pem,
            profile: args.profile.clone(),
            max_concurrent_orders: args.max_concurrent_orders,
            preferred_chain: args.preferred_chain.clone(),
        },
    }
    .parse()?;
    let record = register(engine, registration).await?;
    if json {
        return print_json(&record);
    }
    println!(
        "ACME account {:?} registered: {}",
        record.name, record.account_url
    );
    Ok(())
}

pub async fn list(engine: &Engine<'_>, json: bool) -> CliResult<()> {
    let store = engine.store();
    let accounts = store.list_acme_accounts().await?;
    if json {
        return print_json(&accounts);
    }
    let rows: Vec<Vec<String>> = accounts
        .iter()
        .map(|a| {
            vec![
                a.name.clone(),
                a.ca_id.clone().unwrap_or_else(|| "custom".into()),
                a.status.to_string(),
                a.directory_url.clone(),
            ]
        })
        .collect();
    print_table(&["NAME", "CA", "STATUS", "DIRECTORY"], &rows)?;
    Ok(())
}

pub async fn show(engine: &Engine<'_>, name: &str, json: bool) -> CliResult<()> {
    let store = engine.store();
    let account = store.acme_account(name).await?;
    if json {
        return print_json(&account);
    }
    println!("name:          {}", account.name);
    println!(
        "CA:            {}",
        account.ca_id.as_deref().unwrap_or("custom directory")
    );
    println!("directory:     {}", account.directory_url);
    println!("account URL:   {}", account.account_url);
    println!("status:        {}", account.status);
    println!("contacts:      {}", account.contacts.join(", "));
    if let Some(kid) = &account.eab_kid {
        println!("EAB key id:    {kid}");
    }
    println!("created:       {}", timestamp(account.created_at));
    Ok(())
}

pub async fn rollover(engine: &Engine<'_>, name: &str, json: bool) -> CliResult<()> {
    certmgr_engine::acme::rollover(engine, name).await?;
    if json {
        return print_json(&json!({ "name": name, "rolled_over": true }));
    }
    println!("ACME account {name:?}: new key in use");
    Ok(())
}

pub async fn deactivate(engine: &Engine<'_>, name: &str, json: bool) -> CliResult<()> {
    certmgr_engine::acme::deactivate(engine, name).await?;
    if json {
        return print_json(&json!({ "name": name, "status": "deactivated" }));
    }
    println!("ACME account {name:?} deactivated");
    Ok(())
}
