//! `certmgr renew --due`: issue or renew every credential that needs it.
//! The planner and the run are the engine's ([`certmgr_engine::renewal`]);
//! this prints the decisions, one per credential ([`Scope::Every`]).

use certmgr_engine::Engine;
use certmgr_engine::renewal::{Scope, SolverChoice, renew_due};

use crate::cli::RenewArgs;
use crate::commands::answer_options;
use crate::error::{CliError, CliResult};
use crate::output::{print_json, print_table};

pub async fn run(engine: &Engine<'_>, args: &RenewArgs, json: bool) -> CliResult<()> {
    let solver = SolverChoice::FromOptions(answer_options(&args.answer));
    let decisions = renew_due(engine, solver, args.dry_run, Scope::Every).await?;
    let failed = decisions.iter().filter(|d| d.ok == Some(false)).count();
    let due = decisions.iter().filter(|d| d.due).count();
    if json {
        print_json(&decisions)?;
    } else {
        let rows: Vec<Vec<String>> = decisions
            .iter()
            .map(|d| {
                vec![
                    d.name.clone(),
                    if d.due { "due" } else { "-" }.into(),
                    d.reason.clone(),
                    d.result.clone().unwrap_or_default(),
                ]
            })
            .collect();
        print_table(&["NAME", "DUE", "WHY", "RESULT"], &rows)?;
    }
    if failed > 0 {
        return Err(CliError::failed(format!(
            "{failed} of {due} due credential(s) failed; see `certmgr cred show NAME --events`"
        )));
    }
    Ok(())
}
