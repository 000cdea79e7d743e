//! `certmgr cred check NAME`: before ordering, does each hostname's challenge
//! reach this node's responder? The check itself is the engine's
//! ([`certmgr_engine::check`]); this prints its findings.

use crate::commands::Target;
use certmgr_engine::check::{CheckOptions, check};

use crate::cli::CredCheckArgs;
use crate::commands::answer_options;
use crate::error::{CliError, CliResult};
use crate::output::{print_json, print_table};

pub async fn run(target: &Target<'_>, args: &CredCheckArgs, json: bool) -> CliResult<()> {
    let engine = target.engine("cred check")?;
    let options = CheckOptions {
        answer: answer_options(&args.answer),
        http_port: args.http_port,
        tls_port: args.tls_port,
    };
    let probes = check(engine, &args.name, &options).await?;
    let failed = probes.iter().filter(|p| !p.ok).count();
    if json {
        print_json(&probes)?;
    } else {
        let rows: Vec<Vec<String>> = probes
            .iter()
            .map(|p| {
                vec![
                    p.hostname.clone(),
                    p.challenge.clone(),
                    if p.ok { "ok" } else { "FAIL" }.into(),
                    p.detail.clone(),
                ]
            })
            .collect();
        print_table(&["HOSTNAME", "CHALLENGE", "RESULT", "DETAIL"], &rows)?;
    }
    if failed > 0 {
        return Err(CliError::failed(format!(
            "{failed} of {} hostname(s) would fail validation",
            probes.len()
        )));
    }
    Ok(())
}
