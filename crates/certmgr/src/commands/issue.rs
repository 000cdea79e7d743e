//! `certmgr cred issue`, `cred revoke` and `cred csr` (manual flow): the
//! engine issues ([`certmgr_engine::issuance`]), here or on a manager (as a
//! job whose progress prints as here); this prints and writes files.

use std::path::{Path, PathBuf};

use certmgr_core::{KeyFamily, KeySpec};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::cli::{CredCsrArgs, CredIssueArgs, CredRevokeArgs};
use crate::commands::{Target, answer_options};
use crate::error::{CliError, CliResult};
use crate::input::write_file;
use crate::output::print_json;
use crate::remote::segment;

/// What issuing did: the same fields here and from a manager's job.
#[derive(Deserialize)]
struct Issued {
    version: i64,
    status: certmgr_core::Status,
    not_after: Option<i64>,
}

pub async fn issue(target: &Target<'_>, args: &CredIssueArgs, json: bool) -> CliResult<()> {
    let name = args.name.as_str();
    let issued = match target {
        Target::Local(engine) => {
            let version =
                certmgr_engine::issuance::issue(engine, name, &answer_options(&args.answer))
                    .await?;
            let credential = engine.store().credential(name).await?;
            Issued {
                version,
                status: credential.status,
                not_after: credential.not_after,
            }
        }
        Target::Remote(remote) => {
            if args.answer.http01_listen.is_some()
                || args.answer.tls_alpn01_listen.is_some()
                || args.answer.webroot.is_some()
            {
                return Err(CliError::bad_input(
                    "through --server, the manager answers the challenges: leave out --http01-listen, --tls-alpn01-listen and --webroot",
                ));
            }
            let result = remote
                .run_job(
                    &format!("/api/credentials/{}/issue", segment(name)),
                    &json!({}),
                    json,
                )
                .await?;
            serde_json::from_value(result)
                .map_err(|e| CliError::failed(format!("the job's result: {e}")))?
        }
    };
    if json {
        return print_json(&json!({
            "name": name,
            "version": issued.version,
            "status": issued.status,
            "not_after": issued.not_after,
        }));
    }
    println!(
        "credential {name:?} issued (version {}, status {})",
        issued.version, issued.status
    );
    Ok(())
}

/// What a revocation did, as the API says it.
#[derive(Deserialize)]
struct Revoked {
    revoked: usize,
}

pub async fn revoke(target: &Target<'_>, args: &CredRevokeArgs, json: bool) -> CliResult<()> {
    let count = match target {
        Target::Local(engine) => {
            let credential = engine.store().credential(&args.name).await?;
            certmgr_engine::acme::revoke(engine, &credential, &args.reason).await?
        }
        Target::Remote(remote) => {
            let revoked: Revoked = remote
                .send(
                    Method::POST,
                    &format!("/api/credentials/{}/revoke", segment(&args.name)),
                    &json!({ "reason": args.reason }),
                )
                .await?;
            revoked.revoked
        }
    };
    if json {
        return print_json(&json!({ "name": args.name, "revoked": count, "reason": args.reason }));
    }
    println!("{count} certificate(s) of {:?} revoked", args.name);
    Ok(())
}

/// CSRs as the API sends them.
#[derive(Deserialize)]
struct Csrs {
    csrs: Vec<CsrPem>,
    reused_key: bool,
}

#[derive(Deserialize)]
struct CsrPem {
    key_spec: KeySpec,
    pem: String,
}

pub async fn csr(target: &Target<'_>, args: &CredCsrArgs, json: bool) -> CliResult<()> {
    let (csrs, reused_key) = match target {
        Target::Local(engine) => {
            let made = certmgr_engine::issuance::csr(engine, &args.name).await?;
            (made.csrs, made.reused_key)
        }
        Target::Remote(remote) => {
            let made: Csrs = remote
                .send(
                    Method::POST,
                    &format!("/api/credentials/{}/csr", segment(&args.name)),
                    &json!({}),
                )
                .await?;
            (
                made.csrs.into_iter().map(|c| (c.key_spec, c.pem)).collect(),
                made.reused_key,
            )
        }
    };
    let dual = csrs.len() > 1;
    let mut written = Vec::new();
    for (spec, pem) in &csrs {
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
        print_json(&json!({ "name": args.name, "csrs": written, "reused_key": reused_key }))?;
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
