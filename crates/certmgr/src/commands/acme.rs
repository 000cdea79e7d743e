//! `certmgr acme account ...` and `certmgr acme cas`.

use base64::Engine;
use certmgr_acme::{AccountRequest, AcmeAccount, catalog, find_ca};
use certmgr_core::validate_name;
use certmgr_store::{AcmeAccountRecord, NewAcmeAccount, Store, StoreError};
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

pub async fn create(store: &Store, args: &AcmeAccountCreateArgs, json: bool) -> CliResult<()> {
    validate_name(&args.name)?;
    match store.acme_account(&args.name).await {
        Ok(_) => {
            return Err(CliError::bad_input(format!(
                "an ACME account named {:?} already exists",
                args.name
            )));
        }
        Err(StoreError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let (ca_id, directory_url) = match (&args.ca, &args.directory) {
        (Some(id), _) => {
            let entry = find_ca(id)?;
            if entry.discontinued {
                return Err(CliError::bad_input(format!(
                    "{} no longer issues certificates: pick another CA (certmgr acme cas)",
                    entry.name
                )));
            }
            if entry.eab_required && args.eab_kid.is_none() {
                return Err(CliError::bad_input(format!(
                    "{} requires External Account Binding: pass --eab-kid and --eab-hmac-file from the CA's account page ({})",
                    entry.name, entry.docs
                )));
            }
            (Some(entry.id), entry.directory)
        }
        (None, Some(url)) => {
            if !url.starts_with("https://") {
                return Err(CliError::bad_input(format!(
                    "--directory {url:?}: an ACME directory URL starts with https://"
                )));
            }
            (None, url.clone())
        }
        (None, None) => return Err(CliError::bad_input("give --ca ID or --directory URL")),
    };
    for email in &args.emails {
        if !email.contains('@') || email.contains(char::is_whitespace) {
            return Err(CliError::bad_input(format!(
                "--email {email:?} is not an e-mail address"
            )));
        }
    }
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
    if args.max_concurrent_orders == Some(0) {
        return Err(CliError::bad_input(
            "--max-concurrent-orders must be at least 1",
        ));
    }
    let record = register(
        store,
        Registration {
            name: args.name.clone(),
            ca_id,
            directory_url,
            emails: args.emails.clone(),
            agree_tos: args.agree_tos,
            eab,
            ca_bundle_pem,
            profile: args.profile.clone(),
            max_concurrent_orders: args.max_concurrent_orders,
            preferred_chain: args.preferred_chain.clone(),
        },
    )
    .await?;
    if json {
        return print_json(&record);
    }
    println!(
        "ACME account {:?} registered: {}",
        record.name, record.account_url
    );
    Ok(())
}

/// What registering an account needs, however the user described it
/// (command line, Domino `AcmeAccount` document).
pub struct Registration {
    /// certmgr's name for the account.
    pub name: String,
    /// Catalog CA id, when chosen from the catalog.
    pub ca_id: Option<String>,
    /// Directory URL.
    pub directory_url: String,
    /// Contact e-mail addresses.
    pub emails: Vec<String>,
    /// The user agreed to the CA's terms.
    pub agree_tos: bool,
    /// External Account Binding key id and HMAC key.
    pub eab: Option<(String, Zeroizing<Vec<u8>>)>,
    /// PEM of the CA behind the directory's TLS certificate (private CAs).
    pub ca_bundle_pem: Option<String>,
    /// Default certificate profile.
    pub profile: Option<String>,
    /// Concurrent orders allowed.
    pub max_concurrent_orders: Option<u32>,
    /// Preferred chain issuer.
    pub preferred_chain: Option<String>,
}

/// Registers an account at the CA and stores it.
pub async fn register(store: &Store, r: Registration) -> CliResult<AcmeAccountRecord> {
    let request = AccountRequest {
        directory_url: r.directory_url.clone(),
        emails: r.emails.clone(),
        agree_tos: r.agree_tos,
        eab: r.eab.clone(),
        ca_bundle_pem: r.ca_bundle_pem.clone(),
    };
    let (account, credentials) = AcmeAccount::create(&request).await?;
    if let Some(profile) = &r.profile {
        account.check_profile(profile)?;
    }
    Ok(store
        .create_acme_account(&NewAcmeAccount {
            name: r.name.clone(),
            ca_id: r.ca_id,
            directory_url: r.directory_url,
            account_url: account.url().to_owned(),
            contacts: r.emails.iter().map(|e| format!("mailto:{e}")).collect(),
            eab_kid: r.eab.as_ref().map(|(kid, _)| kid.clone()),
            credentials_json: &credentials,
            ca_bundle_pem: r.ca_bundle_pem,
            profile: r.profile,
            max_concurrent_orders: r.max_concurrent_orders,
            preferred_chain: r.preferred_chain,
        })
        .await?)
}

pub async fn list(store: &Store, json: bool) -> CliResult<()> {
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
                a.status.clone(),
                a.directory_url.clone(),
            ]
        })
        .collect();
    print_table(&["NAME", "CA", "STATUS", "DIRECTORY"], &rows)?;
    Ok(())
}

pub async fn show(store: &Store, name: &str, json: bool) -> CliResult<()> {
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

/// Restore a usable client account from the store.
pub async fn connect(store: &Store, record: &AcmeAccountRecord) -> CliResult<AcmeAccount> {
    if record.status != "valid" {
        return Err(CliError::bad_input(format!(
            "ACME account {:?} is {}",
            record.name, record.status
        )));
    }
    let credentials = store.unseal_acme_credentials(record)?;
    Ok(AcmeAccount::restore(
        &credentials,
        &record.directory_url,
        record.ca_bundle_pem.as_deref(),
    )
    .await?)
}

pub async fn rollover(store: &Store, name: &str, json: bool) -> CliResult<()> {
    let record = store.acme_account(name).await?;
    let mut account = connect(store, &record).await?;
    let credentials = account.rollover().await?;
    store
        .update_acme_account(
            &record,
            Some(&credentials),
            "valid",
            (
                "acme-account-rollover",
                &format!("ACME account {name:?}: key replaced"),
            ),
        )
        .await?;
    if json {
        return print_json(&json!({ "name": name, "rolled_over": true }));
    }
    println!("ACME account {name:?}: new key in use");
    Ok(())
}

pub async fn deactivate(store: &Store, name: &str, json: bool) -> CliResult<()> {
    let record = store.acme_account(name).await?;
    let account = connect(store, &record).await?;
    account.deactivate().await?;
    store
        .update_acme_account(
            &record,
            None,
            "deactivated",
            (
                "acme-account-deactivated",
                &format!("ACME account {name:?} deactivated at the CA"),
            ),
        )
        .await?;
    if json {
        return print_json(&json!({ "name": name, "status": "deactivated" }));
    }
    println!("ACME account {name:?} deactivated");
    Ok(())
}
