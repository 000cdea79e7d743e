//! One module per noun; each command takes where it runs ([`Target`]: the
//! store here, or a manager through its API) and its arguments, and renders
//! what it gets the same way in both cases.

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
mod login;
mod renew;
mod server;
mod trust;

use certmgr_engine::Engine;
use certmgr_engine::responders::AnswerOptions;

use crate::cli::{
    AcmeAccountCommand, AcmeCommand, AuditCommand, CaCommand, Cli, Command, CredCommand,
    DnsAccountCommand, DnsCommand, DnsProviderCommand, TokenCommand, TrustCommand, UserCommand,
};
use crate::context::Location;
use crate::error::{CliError, CliResult};
use crate::remote::Remote;

/// Where a command runs.
pub enum Target<'a> {
    /// On the store here, through the engine.
    Local(&'a Engine<'a>),
    /// On a manager, through its API.
    Remote(&'a Remote),
}

impl Target<'_> {
    /// The engine, for a command that runs only where the store is.
    pub fn engine(&self, command: &str) -> CliResult<&Engine<'_>> {
        match self {
            Target::Local(engine) => Ok(engine),
            Target::Remote(_) => Err(CliError::bad_input(format!(
                "`certmgr {command}` runs where the store is: run it on the manager, without --server"
            ))),
        }
    }
}

/// Run the parsed command line.
pub async fn run(cli: Cli) -> CliResult<()> {
    let json = cli.json;
    if let Command::Login(args) = &cli.command {
        return login::run(args, cli.server_ca.as_deref(), json).await;
    }
    if let Some(server) = &cli.server {
        if matches!(cli.command, Command::Init(_) | Command::Server(_)) {
            return Err(CliError::bad_input(
                "init and server run where the store is: leave out --server",
            ));
        }
        if let Some(done) = built_in(&cli.command, json).await {
            return done;
        }
        let remote = Remote::connect(
            server,
            cli.server_ca.as_deref(),
            crate::hardening::env_token(),
        )?;
        return dispatch(&Target::Remote(&remote), cli.command, json).await;
    }
    let location = Location::resolve(cli.data_dir, cli.database_url)?;
    if let Command::Init(args) = &cli.command {
        return init::run(&location, args, json).await;
    }
    if let Some(done) = built_in(&cli.command, json).await {
        return done;
    }
    if let Command::Server(args) = cli.command {
        // The server installs its own log (text or JSON).
        return server::run(&location, args).await;
    }
    crate::progress::install(show_for(&cli.command, json));
    let store = location.open().await?;
    // The process's registration (an owner of leases and journal entries)
    // is renewed for as long as the command runs.
    let audited = audit::audited(&cli.command);
    let engine = Engine::new(&store);
    let target = Target::Local(&engine);
    let result = tokio::select! {
        result = dispatch(&target, cli.command, json) => result,
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

/// Commands that read only built-in data: they need no store and no manager.
async fn built_in(command: &Command, json: bool) -> Option<CliResult<()>> {
    match command {
        Command::Acme(AcmeCommand::Cas) => Some(acme::cas(json).await),
        Command::Dns(DnsCommand::Provider(DnsProviderCommand::Docs)) => Some(
            certmgr_dns::catalog()
                .map(|catalog| print!("{}", certmgr_dns::catalog_markdown(&catalog)))
                .map_err(|e| CliError::failed(e.to_string())),
        ),
        _ => None,
    }
}

/// Which of the engine's progress lines a command prints: none of the steps
/// under `--json`; a renewal run prints one line per credential instead of
/// the interleaved steps of its concurrent orders. (The server logs
/// through [`certmgr_server::log`].)
fn show_for(command: &Command, json: bool) -> crate::progress::Show {
    use crate::progress::Show;
    match command {
        Command::Renew(_) => Show {
            steps: false,
            results: !json,
        },
        _ => Show {
            steps: !json,
            results: !json,
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

/// Run one command where `target` says.
async fn dispatch(target: &Target<'_>, command: Command, json: bool) -> CliResult<()> {
    let engine = target;
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
        Command::Server(_) | Command::Login(_) => Ok(()),
        Command::Trust(command) => match command {
            TrustCommand::Add(args) => trust::add(engine, &args, json).await,
            TrustCommand::List => trust::list(engine, json).await,
        },
    }
}
