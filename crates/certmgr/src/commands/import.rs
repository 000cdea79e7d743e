//! `certmgr cred import`: a signed certificate for a waiting CSR (manual flow),
//! or a key and certificate made elsewhere (PEM bundle or PKCS#12).
//!
//! Everything is read, parsed and verified before the store is touched, and
//! the store is then changed in one transaction: a refused import leaves no trace.

use certmgr_core::{Health, Hostname, IssuerRef, Status};
use certmgr_pki::{
    Bundle, ChainOptions, PrivateKey, VerifiedChain, build_chain, certificate_info, find_leaf,
    key_matches, read_pem_bundle, read_pkcs12,
};
use certmgr_store::{
    CertificateRecord, CredentialRecord, NewCredential, NewKeyVersion, Outcome, Store, StoreError,
    VersionSource,
};
use serde_json::json;
use zeroize::Zeroizing;

use crate::cli::CredImportArgs;
use crate::commands::{certificate_record, outcome_for, trust_anchors};
use crate::error::{CliError, CliResult};
use crate::input::{read_input, read_password};
use crate::output::print_json;

pub async fn run(store: &Store, args: &CredImportArgs, json: bool) -> CliResult<()> {
    certmgr_core::validate_name(&args.name)?;
    let bundle = read_bundle(args)?;
    let existing = match store.credential(&args.name).await {
        Ok(credential) => Some(credential),
        Err(StoreError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let options = ChainOptions {
        allow_expired: args.allow_expired,
        trust_bundle_root: args.trust_bundled_root,
        now: time::OffsetDateTime::now_utc(),
    };
    let anchors = trust_anchors(store).await?;
    let summary = match bundle.key {
        None => {
            let credential = existing.ok_or_else(|| {
                CliError::bad_input(format!(
                    "no credential named {:?}: a certificate without its key can only answer a CSR made with `certmgr cred csr`; pass --key (or --pkcs12) to import a key made elsewhere",
                    args.name
                ))
            })?;
            attach_signed(store, &credential, &bundle.certs, &anchors, &options).await?
        }
        Some(key) => {
            let leaf = find_leaf(&bundle.certs, Some(&key))?;
            let others: Vec<Vec<u8>> = bundle
                .certs
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != leaf)
                .map(|(_, c)| c.clone())
                .collect();
            let chain = build_chain(&bundle.certs[leaf], &others, &anchors, &options)?;
            import_key(store, &args.name, existing, &key, &chain).await?
        }
    };
    for warning in &summary.warnings {
        eprintln!("warning: {warning}");
    }
    if json {
        return print_json(&json!({
            "name": args.name,
            "version": summary.version,
            "key": summary.family,
            "status": summary.status,
            "warnings": summary.warnings,
        }));
    }
    println!(
        "{} certificate imported into {:?} (version {}, status {})",
        summary.family, args.name, summary.version, summary.status
    );
    Ok(())
}

/// What an import did, for the report.
struct ImportSummary {
    version: i64,
    family: String,
    status: Status,
    warnings: Vec<String>,
}

/// Read --cert/--key or --pkcs12 into one bundle.
fn read_bundle(args: &CredImportArgs) -> CliResult<Bundle> {
    if let Some(path) = &args.pkcs12 {
        let password_file = args.password_file.as_ref().ok_or_else(|| {
            CliError::bad_input(
                "--pkcs12 needs --password-file (a file whose first line is the password)",
            )
        })?;
        let password = read_password(password_file)?;
        let data = read_input(path)?;
        return read_pkcs12(&data, &password)
            .map_err(|e| CliError::from(e).context(path.display()));
    }
    let cert_path = args
        .cert
        .as_ref()
        .ok_or_else(|| CliError::bad_input("give --cert FILE or --pkcs12 FILE"))?;
    let key_password: Option<Zeroizing<String>> = args
        .key_password_file
        .as_ref()
        .map(|p| read_password(p))
        .transpose()?;
    let password = key_password.as_ref().map(|p| p.as_bytes());
    let data = read_input(cert_path)?;
    let mut bundle = read_pem_bundle(&data, password)
        .map_err(|e| CliError::from(e).context(cert_path.display()))?;
    if bundle.certs.is_empty() {
        return Err(CliError::bad_input(format!(
            "{}: no certificate in the file",
            cert_path.display()
        )));
    }
    if let Some(key_path) = &args.key {
        if bundle.key.is_some() {
            return Err(CliError::bad_input(format!(
                "{} already holds a private key; do not also pass --key",
                cert_path.display()
            )));
        }
        let text = Zeroizing::new(read_input(key_path)?);
        let text = std::str::from_utf8(&text).map_err(|_| {
            CliError::bad_input(format!("{}: not a PEM key file", key_path.display()))
        })?;
        bundle.key = Some(
            PrivateKey::from_pem(text, password)
                .map_err(|e| CliError::from(e).context(key_path.display()))?,
        );
    }
    Ok(bundle)
}

/// Manual flow: the external CA's answer to our CSR.
async fn attach_signed(
    store: &Store,
    credential: &CredentialRecord,
    certs: &[Vec<u8>],
    anchors: &certmgr_pki::TrustAnchors,
    options: &ChainOptions,
) -> CliResult<ImportSummary> {
    let current = store.key_versions(credential, None).await?;
    let waiting: Vec<_> = current.iter().filter(|k| k.certificate.is_none()).collect();
    if waiting.is_empty() {
        return Err(CliError::bad_input(format!(
            "credential {:?} has no CSR waiting for a certificate: run `certmgr cred csr {} --out req.pem` first, or pass --key to import a key made elsewhere",
            credential.name, credential.name
        )));
    }
    for key_version in &waiting {
        let key = PrivateKey::from_pkcs8_der(&store.unseal_key(key_version)?)?;
        let Some(leaf) = certs
            .iter()
            .position(|c| key_matches(&key, c).unwrap_or(false))
        else {
            continue;
        };
        let others: Vec<Vec<u8>> = certs
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != leaf)
            .map(|(_, c)| c.clone())
            .collect();
        let chain = build_chain(&certs[leaf], &others, anchors, options)?;
        let mut warnings = chain.warnings.clone();
        warnings.extend(hostname_warnings(&chain, &credential.hostnames)?);
        let record = certificate_record(&chain)?;
        let still_waiting = waiting.len() > 1;
        let outcome = if still_waiting {
            Outcome {
                status: Status::Pending,
                health: Health::Ok,
                last_error: None,
            }
        } else {
            let mut all: Vec<&CertificateRecord> = current
                .iter()
                .filter_map(|k| k.certificate.as_ref())
                .collect();
            all.push(&record);
            outcome_for(&all)
        };
        let message = format!(
            "signed certificate for the {} key imported, serial {}",
            key_version.family, record.serial
        );
        store
            .attach_certificate(
                credential,
                key_version.family,
                &record,
                &outcome,
                ("imported", &message),
            )
            .await?;
        return Ok(ImportSummary {
            version: credential.current_version,
            family: key_version.family.to_string(),
            status: outcome.status,
            warnings,
        });
    }
    Err(CliError::bad_input(format!(
        "the certificate's public key does not match the key of the CSR waiting in {:?}: it was signed for another key",
        credential.name
    )))
}

/// Import a key made elsewhere with its verified chain, as a new version.
async fn import_key(
    store: &Store,
    name: &str,
    existing: Option<CredentialRecord>,
    key: &PrivateKey,
    chain: &VerifiedChain,
) -> CliResult<ImportSummary> {
    let family = key.spec().family();
    let record = certificate_record(chain)?;
    let mut warnings = chain.warnings.clone();
    let message = format!(
        "{} key and certificate imported, serial {}",
        key.spec(),
        record.serial
    );
    let Some(credential) = existing else {
        // A new credential named after the certificate: created together with its
        // first version, in one transaction.
        let keys = [NewKeyVersion {
            spec: key.spec(),
            pkcs8_der: key.pkcs8_der(),
            certificate: Some(record.clone()),
        }];
        let outcome = outcome_for(&[&record]);
        let (_, version) = store
            .create_credential_with_version(
                &NewCredential {
                    name: name.to_owned(),
                    hostnames: hostnames_of(chain)?,
                    key_specs: vec![key.spec()],
                    issuer: IssuerRef::Import,
                    validity_days: None,
                    renew_before_days: None,
                    challenge: None,
                    profile: None,
                    preferred_chain: None,
                    dns_account: None,
                    challenge_alias: None,
                },
                VersionSource::Import,
                &keys,
                &outcome,
                ("imported", &message),
            )
            .await?;
        return Ok(ImportSummary {
            version,
            family: family.to_string(),
            status: outcome.status,
            warnings,
        });
    };
    if !credential.key_specs.iter().any(|s| s.family() == family) {
        return Err(CliError::bad_input(format!(
            "credential {name:?} has no {family} key ({}): import into a new credential instead",
            credential
                .key_specs
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" + ")
        )));
    }
    warnings.extend(hostname_warnings(chain, &credential.hostnames)?);
    // A dual credential keeps its other key in the new version.
    let mut carried = Vec::new();
    for other in store.key_versions(&credential, None).await? {
        if other.family != family {
            let der = store.unseal_key(&other)?;
            carried.push((other.spec, der, other.certificate.clone()));
        }
    }
    let mut keys = vec![NewKeyVersion {
        spec: key.spec(),
        pkcs8_der: key.pkcs8_der(),
        certificate: Some(record),
    }];
    for (spec, der, certificate) in &carried {
        keys.push(NewKeyVersion {
            spec: *spec,
            pkcs8_der: der,
            certificate: certificate.clone(),
        });
    }
    let outcome = if keys.iter().any(|k| k.certificate.is_none()) {
        Outcome {
            status: Status::Pending,
            health: Health::Ok,
            last_error: None,
        }
    } else {
        outcome_for(
            &keys
                .iter()
                .filter_map(|k| k.certificate.as_ref())
                .collect::<Vec<_>>(),
        )
    };
    let version = store
        .add_version(
            &credential,
            VersionSource::Import,
            &keys,
            &outcome,
            ("imported", &message),
        )
        .await?;
    Ok(ImportSummary {
        version,
        family: family.to_string(),
        status: outcome.status,
        warnings,
    })
}

/// Hostnames of a new credential, from the certificate's SANs.
fn hostnames_of(chain: &VerifiedChain) -> CliResult<Vec<Hostname>> {
    let info = certificate_info(&chain.leaf)?;
    let mut hostnames: Vec<Hostname> = Vec::new();
    for name in &info.dns_names {
        if let Ok(hostname) = name.parse::<Hostname>()
            && !hostnames.contains(&hostname)
        {
            hostnames.push(hostname);
        }
    }
    for ip in &info.ip_addresses {
        let hostname = Hostname::Ip(*ip);
        if !hostnames.contains(&hostname) {
            hostnames.push(hostname);
        }
    }
    if hostnames.is_empty() {
        return Err(CliError::bad_input(
            "the certificate names no DNS name or IP address (no subjectAltName): it cannot serve TLS",
        ));
    }
    Ok(hostnames)
}

/// Warn when the certificate does not cover a hostname of the credential.
fn hostname_warnings(chain: &VerifiedChain, hostnames: &[Hostname]) -> CliResult<Vec<String>> {
    let covered = hostnames_of(chain)?;
    Ok(hostnames
        .iter()
        .filter(|h| !covered.contains(h))
        .map(|h| format!("the certificate does not name {h}, which the credential lists"))
        .collect())
}
