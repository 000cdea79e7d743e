//! `certmgr trust add | list`: roots and intermediates used to complete chains.

use certmgr_store::TrustAnchorRecord;
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::cli::TrustAddArgs;
use crate::commands::Target;
use crate::error::{CliError, CliResult};
use crate::input::read_input;
use crate::output::{days_until, print_json, print_table};

/// One anchor added, as the API says it.
#[derive(Deserialize)]
struct Added {
    anchor: TrustAnchorRecord,
    new: bool,
}

pub async fn add(target: &Target<'_>, args: &TrustAddArgs, json: bool) -> CliResult<()> {
    let data = read_input(&args.file)?;
    let results: Vec<Added> = match target {
        Target::Local(engine) => certmgr_engine::trust::add(engine, &data)
            .await
            .map_err(|e| CliError::from(e).context(args.file.display()))?
            .into_iter()
            .map(|a| Added {
                anchor: a.anchor,
                new: a.new,
            })
            .collect(),
        Target::Remote(remote) => {
            let pem = String::from_utf8(data).map_err(|_| {
                CliError::bad_input(format!(
                    "{}: give PEM to a manager (DER is read only here)",
                    args.file.display()
                ))
            })?;
            remote
                .send(Method::POST, "/api/trust", &json!({ "pem": pem }))
                .await
                .map_err(|e| e.context(args.file.display()))?
        }
    };
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

pub async fn list(target: &Target<'_>, json: bool) -> CliResult<()> {
    let anchors: Vec<TrustAnchorRecord> = match target {
        Target::Local(engine) => engine.store().trust_anchors().await?,
        Target::Remote(remote) => remote.get("/api/trust").await?,
    };
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
