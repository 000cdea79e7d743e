//! The `certmgr` command: parse, run, turn the result into an exit code.

mod cli;
mod commands;
mod context;
mod error;
mod hardening;
mod input;
mod output;
mod progress;
mod remote;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

fn main() -> ExitCode {
    // First, while the process has one thread: it changes the environment.
    hardening::harden_process();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error, json_requested()),
    };
    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return report(
                &error::CliError::failed(format!("cannot start the async runtime: {e}")),
                json,
            );
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => report(&error, json),
    }
}

/// Prints an error on stderr: one line of text, or under `--json` one JSON
/// object (kind, exit code, message) for scripts.
fn report(error: &error::CliError, json: bool) -> ExitCode {
    if json {
        eprintln!("{}", error.to_json());
    } else {
        eprintln!("certmgr: {error}");
    }
    error.exit_code()
}

/// Whether `--json` is among the arguments, for errors found before they parse.
fn json_requested() -> bool {
    std::env::args_os()
        .skip(1)
        .take_while(|arg| arg != "--")
        .any(|arg| arg == "--json")
}

/// Print a usage error on one line, or as a JSON object under `--json` (help
/// and version print as clap makes them).
fn usage_error(error: &clap::Error, json: bool) -> ExitCode {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        // Printing help can only fail on a closed stdout, where nothing can be done.
        let _ = error.print();
        return if error.exit_code() == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        };
    }
    let rendered = error.render().to_string();
    let reason = rendered
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with("Usage:"))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let reason = reason.strip_prefix("error: ").unwrap_or(&reason);
    if json {
        eprintln!(
            "{}",
            error::json_error("usage", 2, &format!("{reason} (see --help)"))
        );
    } else {
        eprintln!("certmgr: {reason} (see --help)");
    }
    ExitCode::from(2)
}
