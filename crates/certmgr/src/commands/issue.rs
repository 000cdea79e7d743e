//! `certmgr cred issue`, `cred revoke` and `cred csr` (manual flow): the
//! engine issues ([`certmgr_engine::issuance`]); this prints and writes files.

use std::path::{Path, PathBuf};

use certmgr_core::KeyFamily;
use certmgr_engine::Engine;
use serde_json::json;

use crate::cli::{CredCsrArgs, CredIssueArgs, CredRevokeArgs};
use crate::commands::answer_options;
use crate::error::CliResult;
use crate::input::write_file;
use crate::output::print_json;

pub async fn issue(engine: &Engine<'_>, args: &CredIssueArgs, json: bool) -> CliResult<()> {
    let name = args.name.as_str();
    let version =
        certmgr_engine::issuance::issue(engine, name, &answer_options(&args.answer)).await?;
    let credential = engine.store().credential(name).await?;
    if json {
        return print_json(&json!({
            "name": name,
            "version": version,
            "status": credential.status,
            "not_after": credential.not_after,
        }));
    }
    println!(
        "credential {name:?} issued (version {version}, status {})",
        credential.status
    );
    Ok(())
}

pub async fn revoke(engine: &Engine<'_>, args: &CredRevokeArgs, json: bool) -> CliResult<()> {
    let credential = engine.store().credential(&args.name).await?;
    let count = certmgr_engine::acme::revoke(engine, &credential, &args.reason).await?;
    if json {
        return print_json(&json!({ "name": args.name, "revoked": count, "reason": args.reason }));
    }
    println!("{count} certificate(s) of {:?} revoked", args.name);
    Ok(())
}

pub async fn csr(engine: &Engine<'_>, args: &CredCsrArgs, json: bool) -> CliResult<()> {
    let made = certmgr_engine::issuance::csr(engine, &args.name).await?;
    let dual = made.csrs.len() > 1;
    let mut written = Vec::new();
    for (spec, pem) in &made.csrs {
        let path = if dual {
            family_path(&args.out, spec.family())
        } else {
            args.out.clone()
        };
        write_file(&path, pem.as_bytes(), 0o644)?;
        written.push(json!({ "file": path.display().to_string(), "key_spec": spec }));
        if !json {
            println!("CSR for the {spec} key written to {}", path.display());
        }
    }
    if json {
        print_json(&json!({ "name": args.name, "csrs": written, "reused_key": made.reused_key }))?;
    } else {
        println!(
            "send it to your CA, then: certmgr cred import {} --cert signed.pem",
            args.name
        );
    }
    Ok(())
}

/// `req.pem` → `req-rsa.pem`: which key a file of a dual credential holds.
pub fn family_path(path: &Path, family: KeyFamily) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{family}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{family}"),
    };
    path.with_file_name(name)
}
