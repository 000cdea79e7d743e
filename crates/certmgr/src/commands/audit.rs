//! `certmgr audit list | verify`, and which commands the audit log records.

use crate::commands::Target;
use certmgr_engine::Engine;
use certmgr_engine::audit::{Actor, Outcome, record};
use certmgr_store::AuditQuery;

use crate::cli::{
    AcmeAccountCommand, AcmeCommand, AuditListArgs, CaCommand, Command, CredCommand,
    DnsAccountCommand, DnsCommand, DnsProviderCommand, TokenCommand, TrustCommand, UserCommand,
};
use crate::error::{CliError, CliResult, ErrorClass};
use crate::output::{print_json, print_table, printable, timestamp};

pub async fn list(target: &Target<'_>, args: &AuditListArgs, json: bool) -> CliResult<()> {
    let engine = target.engine("audit list")?;
    let entries = certmgr_engine::audit::list(
        engine,
        &AuditQuery {
            after: args.after,
            limit: args.limit,
            actor: args.actor.clone(),
            action: args.action.clone(),
            target: args.target.clone(),
        },
    )
    .await?;
    if json {
        return print_json(&entries);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                timestamp(e.at),
                printable(&e.actor).into_owned(),
                e.address.clone().unwrap_or_else(|| "-".into()),
                e.action.clone(),
                printable(&e.target).into_owned(),
                e.outcome.clone(),
                printable(&e.detail).into_owned(),
            ]
        })
        .collect();
    print_table(
        &[
            "SEQ", "AT", "ACTOR", "ADDRESS", "ACTION", "TARGET", "OUTCOME", "DETAIL",
        ],
        &rows,
    )
}

pub async fn verify(target: &Target<'_>, json: bool) -> CliResult<()> {
    let engine = target.engine("audit verify")?;
    let entries = certmgr_engine::audit::verify(engine).await?;
    if json {
        return print_json(&serde_json::json!({ "intact": true, "entries": entries }));
    }
    println!("audit log intact: {entries} entries");
    Ok(())
}

/// The action and target a command is recorded under, when it changes
/// something or reads a secret (`None` for reads and dry runs).
pub fn audited(command: &Command) -> Option<(&'static str, String)> {
    let entry = |action: &'static str, target: &str| Some((action, target.to_owned()));
    match command {
        Command::Cred(command) => match command {
            CredCommand::Create(a) => entry("cred.create", &a.name),
            CredCommand::Delete(a) => entry("cred.delete", &a.name),
            CredCommand::Issue(a) => entry("cred.issue", &a.name),
            CredCommand::Revoke(a) => entry("cred.revoke", &a.name),
            CredCommand::Csr(a) => entry("cred.csr", &a.name),
            CredCommand::Import(a) => entry("cred.import", &a.name),
            CredCommand::Export(a) => entry("cred.export", &a.name),
            CredCommand::Tag(a) => entry("cred.tag", &a.name),
            CredCommand::Untag(a) => entry("cred.untag", &a.name),
            CredCommand::List(_) | CredCommand::Show(_) | CredCommand::Check(_) => None,
        },
        Command::Ca(CaCommand::Create(a)) => entry("ca.create", &a.name),
        Command::Trust(TrustCommand::Add(a)) => entry("trust.add", &a.file.display().to_string()),
        Command::Acme(AcmeCommand::Account(command)) => match command {
            AcmeAccountCommand::Create(a) => entry("acme.account.create", &a.name),
            AcmeAccountCommand::Rollover(a) => entry("acme.account.rollover", &a.name),
            AcmeAccountCommand::Deactivate(a) => entry("acme.account.deactivate", &a.name),
            AcmeAccountCommand::List | AcmeAccountCommand::Show(_) => None,
        },
        Command::Dns(DnsCommand::Provider(DnsProviderCommand::Import(a))) => {
            entry("dns.provider.import", &a.file.display().to_string())
        }
        Command::Dns(DnsCommand::Account(command)) => match command {
            DnsAccountCommand::Create(a) => entry("dns.account.create", &a.name),
            DnsAccountCommand::Delete(a) => entry("dns.account.delete", &a.name),
            DnsAccountCommand::Test(a) => entry("dns.account.test", &a.name),
            DnsAccountCommand::List | DnsAccountCommand::Show(_) => None,
        },
        Command::Renew(a) if !a.dry_run => entry("renew.due", ""),
        Command::Token(TokenCommand::Create(a)) => entry("token.create", &a.name),
        Command::Token(TokenCommand::Revoke(a)) => entry("token.revoke", &a.name),
        Command::User(UserCommand::Add(a)) => entry("user.add", &a.name),
        _ => None,
    }
}

/// Record what an audited command came to: the command line when it
/// succeeded (secrets never appear on it: they come from files), the
/// reason when it was refused or failed. A command that succeeded but
/// could not be recorded fails.
pub async fn record_command(
    engine: &Engine<'_>,
    action: &str,
    target: &str,
    result: CliResult<()>,
) -> CliResult<()> {
    let (outcome, detail) = match &result {
        Ok(()) => (Outcome::Ok, command_line()),
        Err(e) if e.class() == ErrorClass::BadInput => (Outcome::BadInput, e.to_string()),
        Err(e) => (Outcome::Failed, e.to_string()),
    };
    let recorded = record(engine, &Actor::local(), action, target, outcome, &detail).await;
    match (result, recorded) {
        (Ok(()), Err(e)) => Err(CliError::from(e)),
        (result, _) => result,
    }
}

/// The arguments this process was started with, as one line.
fn command_line() -> String {
    std::env::args()
        .skip(1)
        .map(|arg| {
            if arg.is_empty() || arg.contains(char::is_whitespace) {
                format!("{arg:?}")
            } else {
                arg
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
