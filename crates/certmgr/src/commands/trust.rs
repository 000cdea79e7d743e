//! `certmgr trust add | list`: roots and intermediates used to complete chains.

use certmgr_engine::Engine;
use serde_json::json;

use crate::cli::TrustAddArgs;
use crate::error::{CliError, CliResult};
use crate::input::read_input;
use crate::output::{days_until, print_json, print_table};

pub async fn add(engine: &Engine<'_>, args: &TrustAddArgs, json: bool) -> CliResult<()> {
    let data = read_input(&args.file)?;
    let results = certmgr_engine::trust::add(engine, &data)
        .await
        .map_err(|e| CliError::from(e).context(args.file.display()))?;
    let mut added = Vec::new();
    for result in &results {
        let anchor = &result.anchor;
        added.push(json!({ "subject": anchor.subject, "fingerprint": anchor.fingerprint, "added": result.new }));
        if !json {
            println!(
                "{} {} ({})",
                if result.new {
                    "trusted"
                } else {
                    "already trusted"
                },
                anchor.subject,
                if anchor.is_root {
                    "root"
                } else {
                    "intermediate"
                }
            );
        }
    }
    if json {
        print_json(&added)?;
    }
    Ok(())
}

pub async fn list(engine: &Engine<'_>, json: bool) -> CliResult<()> {
    let store = engine.store();
    let anchors = store.trust_anchors().await?;
    if json {
        return print_json(&anchors);
    }
    let rows: Vec<Vec<String>> = anchors
        .iter()
        .map(|a| {
            vec![
                a.subject.clone(),
                if a.is_root { "root" } else { "intermediate" }.into(),
                format!("{}d", days_until(a.not_after)),
                a.fingerprint.chars().take(16).collect(),
            ]
        })
        .collect();
    print_table(&["SUBJECT", "KIND", "EXPIRES IN", "SHA256"], &rows)?;
    Ok(())
}
