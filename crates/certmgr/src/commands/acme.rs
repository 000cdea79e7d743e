//! `certmgr acme account ...` and `certmgr acme cas`.

use base64::Engine;
use certmgr_acme::{AccountRequest, AcmeAccount, AcmeError, catalog, failpoint, find_ca};
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
    // A `pending` account is an interrupted registration: running the same
    // command again finishes it (see `register`).
    existing_pending(store, &args.name).await?;
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

/// The account named `name` if its registration was interrupted (status
/// `pending`); an error if a finished account has that name.
async fn existing_pending(store: &Store, name: &str) -> CliResult<Option<AcmeAccountRecord>> {
    match store.acme_account(name).await {
        Ok(record) if record.status == PENDING => Ok(Some(record)),
        Ok(_) => Err(CliError::bad_input(format!(
            "an ACME account named {name:?} already exists"
        ))),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Status of an account whose key is stored but whose registration at the
/// CA is not known to have finished.
const PENDING: &str = "pending";

/// Registers an account at the CA and stores it. The account key is sealed
/// into the store (as a `pending` account) before the CA sees it, and the
/// account URL recorded once the CA answered: a registration cut short after
/// the CA took it (and a single-use EAB key) is resumed by the next attempt
/// with the same name, which finds the account by its key.
pub async fn register(store: &Store, r: Registration) -> CliResult<AcmeAccountRecord> {
    let (record, resume) = match existing_pending(store, &r.name).await? {
        Some(record) => (record, true),
        None => {
            let credentials = certmgr_acme::new_account_credentials(&r.directory_url)?;
            let record = store
                .create_pending_acme_account(&NewAcmeAccount {
                    name: r.name.clone(),
                    ca_id: r.ca_id.clone(),
                    directory_url: r.directory_url.clone(),
                    account_url: String::new(),
                    contacts: r.emails.iter().map(|e| format!("mailto:{e}")).collect(),
                    eab_kid: r.eab.as_ref().map(|(kid, _)| kid.clone()),
                    credentials_json: &credentials,
                    ca_bundle_pem: r.ca_bundle_pem.clone(),
                    profile: r.profile.clone(),
                    max_concurrent_orders: r.max_concurrent_orders,
                    preferred_chain: r.preferred_chain.clone(),
                })
                .await?;
            (record, false)
        }
    };
    // A resumed registration goes to the CA (and with the options) of the first attempt.
    let request = AccountRequest {
        directory_url: record.directory_url.clone(),
        emails: r.emails.clone(),
        agree_tos: r.agree_tos,
        eab: r.eab.clone(),
        ca_bundle_pem: record.ca_bundle_pem.clone().or(r.ca_bundle_pem.clone()),
        profile: record.profile.clone(),
    };
    let credentials = store.unseal_acme_credentials(&record)?;
    let registered = match AcmeAccount::register(&request, &credentials, resume).await {
        Ok(registered) => registered,
        // The CA refused: nothing exists there, so nothing is kept here.
        Err(e @ (AcmeError::Problem(_) | AcmeError::BadInput(_))) => {
            store.forget_pending_acme_account(&record).await?;
            return Err(e.into());
        }
        Err(e) => {
            return Err(CliError::failed(format!(
                "{e}; the account key is stored: run the same command again to finish the registration of {:?}",
                r.name
            )));
        }
    };
    let url = registered.account.url().to_owned();
    eprintln!(
        "  ACME account {:?} {} at the CA: {url}",
        r.name,
        if registered.found_again {
            "found again (an interrupted registration resumed)"
        } else {
            "registered"
        }
    );
    failpoint("account-registered").await;
    Ok(store
        .finish_acme_registration(&record, &url, &registered.credentials_json)
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

/// Restore a usable client account from the store, finishing what an
/// interrupted key rollover left (see [`rollover`]).
pub async fn connect(store: &Store, record: &AcmeAccountRecord) -> CliResult<AcmeAccount> {
    if record.status == PENDING {
        return Err(CliError::bad_input(format!(
            "the registration of ACME account {:?} was interrupted: run `certmgr acme account create {}` again with the same options to finish it",
            record.name, record.name
        )));
    }
    if record.status != "valid" {
        return Err(CliError::bad_input(format!(
            "ACME account {:?} is {}",
            record.name, record.status
        )));
    }
    let mut credentials = store.unseal_acme_credentials(record)?;
    if let Some((settled, what)) = certmgr_acme::settle_pending_key(
        &credentials,
        &record.directory_url,
        record.ca_bundle_pem.as_deref(),
        time::OffsetDateTime::now_utc().unix_timestamp(),
    )
    .await?
    {
        store
            .update_acme_account(
                record,
                Some(&settled),
                "valid",
                (
                    "acme-account-rollover",
                    &format!("ACME account {:?}: {what}", record.name),
                ),
            )
            .await?;
        credentials = settled;
    }
    Ok(AcmeAccount::restore(
        &credentials,
        &record.directory_url,
        record.ca_bundle_pem.as_deref(),
    )
    .await?)
}

/// Replace the account key. The new key is sealed into the store as pending
/// before the CA is asked to switch, so a crash in between loses nothing:
/// the next use of the account ([`connect`]) asks the CA which key it takes.
pub async fn rollover(store: &Store, name: &str, json: bool) -> CliResult<()> {
    let record = store.acme_account(name).await?;
    let mut account = connect(store, &record).await?;
    // Read again: connecting may have settled an earlier rollover.
    let record = store.acme_account(name).await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let pending = certmgr_acme::with_pending_key(&store.unseal_acme_credentials(&record)?, now)?;
    store
        .update_acme_account(
            &record,
            Some(&pending),
            "valid",
            (
                "acme-account-rollover-started",
                &format!("ACME account {name:?}: new key stored, switching at the CA"),
            ),
        )
        .await?;
    failpoint("rollover-key-stored").await;
    let credentials = account.rollover(&pending).await?;
    failpoint("rollover-switched").await;
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
    // Read again: connecting may have settled an interrupted rollover.
    let record = store.acme_account(name).await?;
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
