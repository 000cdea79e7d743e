//! `certmgr acme account ...` and `certmgr acme cas`.

use base64::Engine as _;
use certmgr_acme::catalog;
use certmgr_core::validate_name;
use certmgr_engine::acme::account::existing_pending;
use certmgr_engine::acme::{AccountOptions, NewAccount, register};
use certmgr_store::AcmeAccountRecord;
use reqwest::Method;
use serde_json::json;
use zeroize::Zeroizing;

use crate::cli::AcmeAccountCreateArgs;
use crate::commands::Target;
use crate::error::{CliError, CliResult};
use crate::input::{read_input, read_password};
use crate::output::{print_json, print_table, timestamp};
use crate::remote::segment;

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
    target: &Target<'_>,
    args: &AcmeAccountCreateArgs,
    json: bool,
) -> CliResult<()> {
    validate_name(&args.name)?;
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
    let record: AcmeAccountRecord = match target {
        Target::Local(engine) => {
            // A `pending` account is an interrupted registration: running the
            // same command again finishes it (see `register`).
            existing_pending(engine, &args.name).await?;
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
            register(engine, registration).await?
        }
        Target::Remote(remote) => {
            let (eab_kid, eab_hmac_key) = match &eab {
                Some((kid, key)) => (
                    Some(kid.clone()),
                    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.as_slice())),
                ),
                None => (None, None),
            };
            remote
                .send(
                    Method::POST,
                    "/api/acme/accounts",
                    &json!({
                        "name": args.name,
                        "ca": args.ca,
                        "directory": args.directory,
                        "emails": args.emails,
                        "agree_tos": args.agree_tos,
                        "eab_kid": eab_kid,
                        "eab_hmac_key": eab_hmac_key,
                        "ca_bundle_pem": ca_bundle_pem,
                        "profile": args.profile,
                        "max_concurrent_orders": args.max_concurrent_orders,
                        "preferred_chain": args.preferred_chain,
                    }),
                )
                .await?
        }
    };
    if json {
        return print_json(&record);
    }
    println!(
        "ACME account {:?} registered: {}",
        record.name, record.account_url
    );
    Ok(())
}

pub async fn list(target: &Target<'_>, json: bool) -> CliResult<()> {
    let accounts: Vec<AcmeAccountRecord> = match target {
        Target::Local(engine) => engine.store().list_acme_accounts().await?,
        Target::Remote(remote) => remote.get("/api/acme/accounts").await?,
    };
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

pub async fn show(target: &Target<'_>, name: &str, json: bool) -> CliResult<()> {
    let account: AcmeAccountRecord = match target {
        Target::Local(engine) => engine.store().acme_account(name).await?,
        Target::Remote(remote) => {
            remote
                .get(&format!("/api/acme/accounts/{}", segment(name)))
                .await?
        }
    };
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

pub async fn rollover(target: &Target<'_>, name: &str, json: bool) -> CliResult<()> {
    match target {
        Target::Local(engine) => certmgr_engine::acme::rollover(engine, name).await?,
        Target::Remote(remote) => {
            let _: serde_json::Value = remote
                .send(
                    Method::POST,
                    &format!("/api/acme/accounts/{}/rollover", segment(name)),
                    &json!({}),
                )
                .await?;
        }
    }
    if json {
        return print_json(&json!({ "name": name, "rolled_over": true }));
    }
    println!("ACME account {name:?}: new key in use");
    Ok(())
}

pub async fn deactivate(target: &Target<'_>, name: &str, json: bool) -> CliResult<()> {
    match target {
        Target::Local(engine) => certmgr_engine::acme::deactivate(engine, name).await?,
        Target::Remote(remote) => {
            let _: serde_json::Value = remote
                .send(
                    Method::POST,
                    &format!("/api/acme/accounts/{}/deactivate", segment(name)),
                    &json!({}),
                )
                .await?;
        }
    }
    if json {
        return print_json(&json!({ "name": name, "status": "deactivated" }));
    }
    println!("ACME account {name:?} deactivated");
    Ok(())
}
