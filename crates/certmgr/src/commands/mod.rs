//! One module per noun; each command takes the opened store and its arguments.

mod acme;
pub(crate) mod acme_issue;
mod ca;
mod check;
mod cred;
mod dns;
mod dxl_import;
mod export;
mod import;
mod init;
mod issue;
pub(crate) mod issue_limits;
pub(crate) mod renew;
mod trust;

use certmgr_core::{Health, Status};
use certmgr_pki::{TrustAnchors, VerifiedChain, certificate_info};
use certmgr_store::{CertificateRecord, Outcome, Store};

use crate::cli::{
    AcmeAccountCommand, AcmeCommand, CaCommand, Cli, Command, CredCommand, DnsAccountCommand,
    DnsCommand, DnsProviderCommand, TrustCommand,
};
use crate::context::Location;
use crate::error::{CliError, CliResult};

/// Run the parsed command line.
pub async fn run(cli: Cli) -> CliResult<()> {
    let location = Location::resolve(cli.data_dir, cli.database_url)?;
    let json = cli.json;
    // Commands that read only built-in data work without a store.
    match &cli.command {
        Command::Init(args) => return init::run(&location, args, json).await,
        Command::Acme(AcmeCommand::Cas) => return acme::cas(json).await,
        Command::Dns(DnsCommand::Provider(DnsProviderCommand::Docs)) => {
            let catalog = certmgr_dns::catalog().map_err(|e| CliError::failed(e.to_string()))?;
            print!("{}", certmgr_dns::catalog_markdown(&catalog));
            return Ok(());
        }
        _ => {}
    }
    let store = location.open().await?;
    if let Command::Server(args) = cli.command {
        let options = crate::server::ServerOptions {
            http_listen: args.http_listen,
            https_listen: (!args.no_https).then_some(args.https_listen),
            renew_interval: (!args.no_renew).then_some(args.renew_interval),
        };
        return crate::server::run(store, options).await;
    }
    // The process's registration (an owner of leases and journal entries)
    // is renewed for as long as the command runs.
    let result = tokio::select! {
        result = dispatch(&store, cli.command, json) => result,
        () = crate::instance::keep_alive(&store) => Ok(()),
    };
    crate::instance::leave(&store).await;
    store.close().await;
    result
}

/// Run one command on the opened store.
async fn dispatch(store: &Store, command: Command, json: bool) -> CliResult<()> {
    match command {
        Command::Init(_) => Ok(()),
        Command::Cred(command) => match command {
            CredCommand::Create(args) => cred::create(store, &args, json).await,
            CredCommand::List => cred::list(store, json).await,
            CredCommand::Show(args) => cred::show(store, &args, json).await,
            CredCommand::Delete(args) => cred::delete(store, &args.name, json).await,
            CredCommand::Issue(args) => issue::issue(store, &args, json).await,
            CredCommand::Revoke(args) => issue::revoke(store, &args, json).await,
            CredCommand::Check(args) => check::run(store, &args, json).await,
            CredCommand::Csr(args) => issue::csr(store, &args, json).await,
            CredCommand::Import(args) => import::run(store, &args, json).await,
            CredCommand::Export(args) => export::run(store, &args, json).await,
        },
        Command::Ca(command) => match command {
            CaCommand::Create(args) => ca::create(store, &args, json).await,
            CaCommand::List => ca::list(store, json).await,
            CaCommand::Show(args) => ca::show(store, &args, json).await,
        },
        Command::Acme(command) => match command {
            AcmeCommand::Cas => Ok(()),
            AcmeCommand::Account(command) => match command {
                AcmeAccountCommand::Create(args) => acme::create(store, &args, json).await,
                AcmeAccountCommand::List => acme::list(store, json).await,
                AcmeAccountCommand::Show(args) => acme::show(store, &args.name, json).await,
                AcmeAccountCommand::Rollover(args) => acme::rollover(store, &args.name, json).await,
                AcmeAccountCommand::Deactivate(args) => {
                    acme::deactivate(store, &args.name, json).await
                }
            },
        },
        Command::Dns(command) => match command {
            DnsCommand::Provider(DnsProviderCommand::List) => dns::provider_list(store, json).await,
            DnsCommand::Provider(DnsProviderCommand::Show(args)) => {
                dns::provider_show(store, &args.name, json).await
            }
            DnsCommand::Provider(DnsProviderCommand::Docs) => Ok(()),
            DnsCommand::Provider(DnsProviderCommand::Import(args)) => {
                dns::provider_import(store, &args, json).await
            }
            DnsCommand::Provider(DnsProviderCommand::Export(args)) => {
                dns::provider_export(store, &args).await
            }
            DnsCommand::Account(DnsAccountCommand::Create(args)) => {
                dns::account_create(store, &args, json).await
            }
            DnsCommand::Account(DnsAccountCommand::List) => dns::account_list(store, json).await,
            DnsCommand::Account(DnsAccountCommand::Show(args)) => {
                dns::account_show(store, &args.name, json).await
            }
            DnsCommand::Account(DnsAccountCommand::Test(args)) => {
                dns::account_test(store, &args, json).await
            }
            DnsCommand::Account(DnsAccountCommand::Delete(args)) => {
                dns::account_delete(store, &args.name, json).await
            }
        },
        Command::Renew(args) => renew::run(store, &args, json).await,
        Command::Server(_) => Ok(()),
        Command::Trust(command) => match command {
            TrustCommand::Add(args) => trust::add(store, &args, json).await,
            TrustCommand::List => trust::list(store, json).await,
        },
    }
}

/// Everything certmgr trusts when it completes and verifies a chain: the
/// system roots, the imported anchors and the roots of every MicroCA.
async fn trust_anchors(store: &Store) -> CliResult<TrustAnchors> {
    let mut anchors = TrustAnchors::with_system_roots();
    for anchor in store.trust_anchors().await? {
        anchors.add_der(anchor.der)?;
    }
    for ca in store.list_cas().await? {
        anchors.add_der(ca.root_der)?;
    }
    Ok(anchors)
}

/// The store's record of a verified chain.
fn certificate_record(chain: &VerifiedChain) -> CliResult<CertificateRecord> {
    let info = certificate_info(&chain.leaf)?;
    Ok(CertificateRecord {
        cert_der: chain.leaf.clone(),
        chain_der: chain.intermediates.clone(),
        root_der: chain.root.clone(),
        serial: info.serial_hex,
        fingerprint: info.sha256_fingerprint,
        not_before: info.not_before.unix_timestamp(),
        not_after: info.not_after.unix_timestamp(),
    })
}

/// The status a credential has once these certificates are current.
fn outcome_for(certificates: &[&CertificateRecord]) -> Outcome {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let expired = certificates
        .iter()
        .any(|c| c.not_after <= now || c.not_before > now);
    if expired {
        Outcome {
            status: Status::Expired,
            health: Health::Error,
            last_error: Some("a current certificate is expired or not yet valid".into()),
        }
    } else {
        Outcome {
            status: Status::Valid,
            health: Health::Ok,
            last_error: None,
        }
    }
}
