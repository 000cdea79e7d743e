//! `certmgr renew --due`: issue or renew every credential that needs it.
//! The planner and the run are the engine's ([`certmgr_engine::renewal`]);
//! this prints the decisions, one per credential ([`Scope::Every`]).

use certmgr_engine::renewal::{Decision, Scope, SolverChoice, renew_due};

use crate::cli::RenewArgs;
use crate::commands::{Target, answer_options};
use crate::error::{CliError, CliResult};
use crate::output::{print_json, print_table};

pub async fn run(target: &Target<'_>, args: &RenewArgs, json: bool) -> CliResult<()> {
    let decisions: Vec<Decision> = match target {
        Target::Local(engine) => {
            let solver = SolverChoice::FromOptions(answer_options(&args.answer));
            renew_due(engine, solver, args.dry_run, Scope::Every).await?
        }
        Target::Remote(remote) if args.dry_run => remote.get("/api/renewal").await?,
        Target::Remote(remote) => {
            let result = remote
                .run_job("/api/renewal/run", &serde_json::json!({}), true)
                .await?;
            serde_json::from_value(result)
                .map_err(|e| CliError::failed(format!("the renewal run's result: {e}")))?
        }
    };
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
