//! One module per noun; each command takes the opened store and its arguments.

mod access;
mod acme;
pub(crate) mod audit;
mod ca;
mod check;
mod cred;
mod dns;
mod dxl_import;
mod export;
mod import;
mod init;
mod issue;
mod renew;
mod server;
mod trust;

use certmgr_engine::Engine;
use certmgr_engine::responders::AnswerOptions;
use certmgr_store::Store;

use crate::cli::{
    AcmeAccountCommand, AcmeCommand, AuditCommand, CaCommand, Cli, Command, CredCommand,
    DnsAccountCommand, DnsCommand, DnsProviderCommand, TokenCommand, TrustCommand, UserCommand,
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
    crate::progress::install(show_for(&cli.command, json));
    if let Command::Server(args) = cli.command {
        return server::run(&location, args).await;
    }
    let store = location.open().await?;
    // The process's registration (an owner of leases and journal entries)
    // is renewed for as long as the command runs.
    let audited = audit::audited(&cli.command);
    let result = tokio::select! {
        result = dispatch(&store, cli.command, json) => result,
        () = certmgr_engine::instance::keep_alive(&store) => Ok(()),
    };
    let result = match audited {
        Some((action, target)) => {
            audit::record_command(&Engine::new(&store), action, &target, result).await
        }
        None => result,
    };
    certmgr_engine::instance::leave(&store).await;
    store.close().await;
    result
}

/// Which of the engine's progress lines a command prints: none of the steps
/// under `--json`; a renewal run prints one line per credential instead of
/// the interleaved steps of its concurrent orders; the server prefixes its
/// lines with its name.
fn show_for(command: &Command, json: bool) -> crate::progress::Show {
    use crate::progress::Show;
    match command {
        Command::Server(_) => Show {
            steps: false,
            results: false,
            prefix: "certmgr server: ",
        },
        Command::Renew(_) => Show {
            steps: false,
            results: !json,
            prefix: "",
        },
        _ => Show {
            steps: !json,
            results: !json,
            prefix: "",
        },
    }
}

/// The answer options of a command line.
fn answer_options(args: &crate::cli::AnswerArgs) -> AnswerOptions {
    AnswerOptions {
        http01_listen: args.http01_listen,
        tls_alpn01_listen: args.tls_alpn01_listen,
        webroot: args.webroot.clone(),
    }
}

/// Run one command on the opened store.
async fn dispatch(store: &Store, command: Command, json: bool) -> CliResult<()> {
    let engine = Engine::new(store);
    let engine = &engine;
    match command {
        Command::Init(_) => Ok(()),
        Command::Cred(command) => match command {
            CredCommand::Create(args) => cred::create(engine, &args, json).await,
            CredCommand::List(args) => cred::list(engine, &args, json).await,
            CredCommand::Show(args) => cred::show(engine, &args, json).await,
            CredCommand::Delete(args) => cred::delete(engine, &args.name, json).await,
            CredCommand::Issue(args) => issue::issue(engine, &args, json).await,
            CredCommand::Revoke(args) => issue::revoke(engine, &args, json).await,
            CredCommand::Check(args) => check::run(engine, &args, json).await,
            CredCommand::Csr(args) => issue::csr(engine, &args, json).await,
            CredCommand::Import(args) => import::run(engine, &args, json).await,
            CredCommand::Export(args) => export::run(engine, &args, json).await,
            CredCommand::Tag(args) => cred::tag(engine, &args, json).await,
            CredCommand::Untag(args) => cred::untag(engine, &args, json).await,
        },
        Command::Ca(command) => match command {
            CaCommand::Create(args) => ca::create(engine, &args, json).await,
            CaCommand::List => ca::list(engine, json).await,
            CaCommand::Show(args) => ca::show(engine, &args, json).await,
        },
        Command::Acme(command) => match command {
            AcmeCommand::Cas => Ok(()),
            AcmeCommand::Account(command) => match command {
                AcmeAccountCommand::Create(args) => acme::create(engine, &args, json).await,
                AcmeAccountCommand::List => acme::list(engine, json).await,
                AcmeAccountCommand::Show(args) => acme::show(engine, &args.name, json).await,
                AcmeAccountCommand::Rollover(args) => {
                    acme::rollover(engine, &args.name, json).await
                }
                AcmeAccountCommand::Deactivate(args) => {
                    acme::deactivate(engine, &args.name, json).await
                }
            },
        },
        Command::Dns(command) => match command {
            DnsCommand::Provider(DnsProviderCommand::List) => {
                dns::provider_list(engine, json).await
            }
            DnsCommand::Provider(DnsProviderCommand::Show(args)) => {
                dns::provider_show(engine, &args.name, json).await
            }
            DnsCommand::Provider(DnsProviderCommand::Docs) => Ok(()),
            DnsCommand::Provider(DnsProviderCommand::Import(args)) => {
                dns::provider_import(engine, &args, json).await
            }
            DnsCommand::Provider(DnsProviderCommand::Export(args)) => {
                dns::provider_export(engine, &args).await
            }
            DnsCommand::Account(DnsAccountCommand::Create(args)) => {
                dns::account_create(engine, &args, json).await
            }
            DnsCommand::Account(DnsAccountCommand::List) => dns::account_list(engine, json).await,
            DnsCommand::Account(DnsAccountCommand::Show(args)) => {
                dns::account_show(engine, &args.name, json).await
            }
            DnsCommand::Account(DnsAccountCommand::Test(args)) => {
                dns::account_test(engine, &args, json).await
            }
            DnsCommand::Account(DnsAccountCommand::Delete(args)) => {
                dns::account_delete(engine, &args.name, json).await
            }
        },
        Command::Renew(args) => renew::run(engine, &args, json).await,
        Command::Audit(AuditCommand::List(args)) => audit::list(engine, &args, json).await,
        Command::Audit(AuditCommand::Verify) => audit::verify(engine, json).await,
        Command::Token(TokenCommand::Create(args)) => {
            access::token_create(engine, &args, json).await
        }
        Command::Token(TokenCommand::List) => access::token_list(engine, json).await,
        Command::Token(TokenCommand::Revoke(args)) => {
            access::token_revoke(engine, &args.name, json).await
        }
        Command::User(UserCommand::Add(args)) => access::user_add(engine, &args, json).await,
        Command::User(UserCommand::List) => access::user_list(engine, json).await,
        Command::Server(_) => Ok(()),
        Command::Trust(command) => match command {
            TrustCommand::Add(args) => trust::add(engine, &args, json).await,
            TrustCommand::List => trust::list(engine, json).await,
        },
    }
}
