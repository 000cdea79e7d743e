//! `certmgr trust add | list`: roots and intermediates used to complete chains.

use certmgr_engine::Engine;
use certmgr_pki::{certificate_info, read_certificates};
use certmgr_store::TrustAnchorRecord;
use serde_json::json;

use crate::cli::TrustAddArgs;
use crate::error::{CliError, CliResult};
use crate::input::read_input;
use crate::output::{days_until, print_json, print_table};

pub async fn add(engine: &Engine<'_>, args: &TrustAddArgs, json: bool) -> CliResult<()> {
    let store = engine.store();
    let data = read_input(&args.file)?;
    let certs =
        read_certificates(&data).map_err(|e| CliError::from(e).context(args.file.display()))?;
    // Check every certificate before storing any: a bad file adds nothing.
    let mut anchors = Vec::with_capacity(certs.len());
    for der in certs {
        let info = certificate_info(&der)?;
        if !info.is_ca {
            return Err(CliError::bad_input(format!(
                "{}: {:?} is not a CA certificate; only roots and intermediates can be trusted",
                args.file.display(),
                info.subject
            )));
        }
        anchors.push(TrustAnchorRecord {
            fingerprint: info.sha256_fingerprint,
            subject: info.subject,
            der,
            is_root: info.self_signed,
            not_after: info.not_after.unix_timestamp(),
            added_at: 0,
        });
    }
    let mut added = Vec::new();
    for anchor in &anchors {
        let new = store.add_trust_anchor(anchor).await?;
        added.push(
            json!({ "subject": anchor.subject, "fingerprint": anchor.fingerprint, "added": new }),
        );
        if !json {
            println!(
                "{} {} ({})",
                if new { "trusted" } else { "already trusted" },
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
