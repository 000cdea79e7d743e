//! `certmgr cred issue` (MicroCA) and `certmgr cred csr` (manual flow).

use std::path::{Path, PathBuf};

use certmgr_core::{IssuerRef, KeyFamily};
use certmgr_pki::{
    ChainOptions, LeafOptions, PrivateKey, TrustAnchors, build_chain, create_csr, issue_leaf,
};
use certmgr_store::{CredentialRecord, NewKeyVersion, Outcome, Store, VersionSource};
use serde_json::json;

use crate::cli::{CredCsrArgs, CredIssueArgs, CredRevokeArgs};
use crate::commands::{acme_issue, certificate_record, outcome_for};
use crate::error::{CliError, CliResult};
use crate::input::write_file;
use crate::output::print_json;

/// Validity of MicroCA leaves when the credential sets none.
pub const DEFAULT_LEAF_VALIDITY_DAYS: u32 = 90;

pub async fn issue(store: &Store, args: &CredIssueArgs, json: bool) -> CliResult<()> {
    let name = args.name.as_str();
    let credential = store.credential(name).await?;
    let version = match &credential.issuer {
        IssuerRef::MicroCa(_) => issue_from_microca(store, &credential).await?,
        IssuerRef::Acme(_) => {
            acme_issue::issue(store, &credential, &(&args.answer).into(), json).await?
        }
        IssuerRef::Manual => {
            return Err(CliError::bad_input(format!(
                "credential {name:?} uses the manual flow: run `certmgr cred csr {name} --out req.pem`, have the CSR signed, then `certmgr cred import {name} --cert signed.pem`"
            )));
        }
        IssuerRef::Import => {
            return Err(CliError::bad_input(format!(
                "credential {name:?} is imported: run `certmgr cred import {name} --cert FILE --key FILE`"
            )));
        }
    };
    let credential = store.credential(name).await?;
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

pub async fn revoke(store: &Store, args: &CredRevokeArgs, json: bool) -> CliResult<()> {
    let credential = store.credential(&args.name).await?;
    let count = acme_issue::revoke(store, &credential, &args.reason).await?;
    if json {
        return print_json(&json!({ "name": args.name, "revoked": count, "reason": args.reason }));
    }
    println!("{count} certificate(s) of {:?} revoked", args.name);
    Ok(())
}

/// Generate a key per key spec, have the MicroCA sign a leaf for each, verify the
/// chains and store them as one new version.
pub async fn issue_from_microca(store: &Store, credential: &CredentialRecord) -> CliResult<i64> {
    let IssuerRef::MicroCa(ca_name) = &credential.issuer else {
        return Err(CliError::bad_input(
            "the credential is not issued by a MicroCA",
        ));
    };
    let ca = store.ca(ca_name).await?;
    let (issuer_der, issuer_key) = store.unseal_ca_issuer(&ca)?;
    let issuer_key = PrivateKey::from_pkcs8_der(&issuer_key)?;
    let options = LeafOptions {
        validity_days: credential
            .validity_days
            .unwrap_or(DEFAULT_LEAF_VALIDITY_DAYS),
    };
    // The chain of a MicroCA leaf ends at that CA's root: verify against it
    // alone (loading the system roots would cost more than the issuance).
    let mut anchors = TrustAnchors::new();
    anchors.add_der(ca.root_der.clone())?;
    let chain_options = ChainOptions {
        allow_expired: false,
        trust_bundle_root: false,
        now: time::OffsetDateTime::now_utc(),
    };
    let intermediates: Vec<Vec<u8>> = if ca.intermediate_der.is_some() {
        vec![issuer_der.clone()]
    } else {
        Vec::new()
    };
    let mut keys = Vec::with_capacity(credential.key_specs.len());
    let mut records = Vec::with_capacity(credential.key_specs.len());
    for spec in &credential.key_specs {
        let key = PrivateKey::generate(*spec)?;
        let leaf = issue_leaf(
            &issuer_der,
            &issuer_key,
            &key,
            &credential.hostnames,
            &options,
        )?;
        let chain = build_chain(&leaf, &intermediates, &anchors, &chain_options)?;
        records.push(certificate_record(&chain)?);
        keys.push(key);
    }
    let new_keys: Vec<NewKeyVersion<'_>> = keys
        .iter()
        .zip(records)
        .map(|(key, record)| NewKeyVersion {
            spec: key.spec(),
            pkcs8_der: key.pkcs8_der(),
            certificate: Some(record),
        })
        .collect();
    let outcome = outcome_for(
        &new_keys
            .iter()
            .filter_map(|k| k.certificate.as_ref())
            .collect::<Vec<_>>(),
    );
    let serials: Vec<String> = new_keys
        .iter()
        .filter_map(|k| k.certificate.as_ref())
        .map(|c| c.serial.clone())
        .collect();
    let version = store
        .add_version(
            credential,
            VersionSource::MicroCa,
            &new_keys,
            &outcome,
            (
                "issued",
                &format!(
                    "issued by MicroCA {ca_name:?}, valid {} days, serial {}",
                    options.validity_days,
                    serials.join(", ")
                ),
            ),
        )
        .await?;
    Ok(version)
}

pub async fn csr(store: &Store, args: &CredCsrArgs, json: bool) -> CliResult<()> {
    let credential = store.credential(&args.name).await?;
    if matches!(
        credential.issuer,
        IssuerRef::MicroCa(_) | IssuerRef::Acme(_)
    ) {
        return Err(CliError::bad_input(format!(
            "credential {:?} is issued by {}: use `certmgr cred issue`",
            credential.name, credential.issuer
        )));
    }
    let current = store.key_versions(&credential, None).await?;
    // A CSR already out (keys without certificates) is reused, so asking twice
    // does not orphan the key the CA is signing.
    let waiting = !current.is_empty() && current.iter().all(|k| k.certificate.is_none());
    let keys: Vec<PrivateKey> = if waiting {
        current
            .iter()
            .map(|k| {
                let der = store.unseal_key(k)?;
                Ok(PrivateKey::from_pkcs8_der(&der)?)
            })
            .collect::<CliResult<_>>()?
    } else {
        credential
            .key_specs
            .iter()
            .map(|spec| Ok(PrivateKey::generate(*spec)?))
            .collect::<CliResult<_>>()?
    };
    let dual = keys.len() > 1;
    let mut written = Vec::new();
    let mut outputs = Vec::new();
    for key in &keys {
        let pem = create_csr(key, &credential.hostnames)?;
        let path = if dual {
            family_path(&args.out, key.spec().family())
        } else {
            args.out.clone()
        };
        outputs.push((path, pem, key.spec()));
    }
    if !waiting {
        let new_keys: Vec<NewKeyVersion<'_>> = keys
            .iter()
            .map(|key| NewKeyVersion {
                spec: key.spec(),
                pkcs8_der: key.pkcs8_der(),
                certificate: None,
            })
            .collect();
        store
            .add_version(
                &credential,
                VersionSource::Csr,
                &new_keys,
                &Outcome {
                    status: certmgr_core::Status::Pending,
                    health: certmgr_core::Health::Ok,
                    last_error: None,
                },
                (
                    "csr-created",
                    "new key made and CSR written; waiting for the signed certificate",
                ),
            )
            .await?;
    }
    for (path, pem, spec) in outputs {
        write_file(&path, pem.as_bytes(), 0o644)?;
        written.push(json!({ "file": path.display().to_string(), "key_spec": spec }));
        if !json {
            println!("CSR for the {spec} key written to {}", path.display());
        }
    }
    if json {
        print_json(&json!({ "name": credential.name, "csrs": written, "reused_key": waiting }))?;
    } else {
        println!(
            "send it to your CA, then: certmgr cred import {} --cert signed.pem",
            credential.name
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
