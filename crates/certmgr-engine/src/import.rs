//! Importing: a signed certificate for a waiting CSR (manual flow), or a key
//! and certificate made elsewhere (PEM bundle or PKCS#12, read by the front
//! end into a [`Bundle`]).
//!
//! Everything is parsed and verified before the store is touched, and the
//! store is then changed in one transaction: a refused import leaves no trace.

use certmgr_core::{Hostname, Status};
use certmgr_pki::{
    Bundle, ChainOptions, PrivateKey, VerifiedChain, build_chain, certificate_info, find_leaf,
    key_matches,
};
use certmgr_store::{
    CertificateRecord, CredentialRecord, NewKeyVersion, Store, StoreError, VersionSource,
};

use crate::Engine;
use crate::credential::ValidCredential;
use crate::error::{EngineError, EngineResult, Hint};
use crate::records::{certificate_record, outcome_for, pending_outcome, trust_anchors};

/// How strictly an imported chain is checked.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Keep an expired certificate (for the record).
    pub allow_expired: bool,
    /// Trust the root the bundle brings.
    pub trust_bundled_root: bool,
}

/// Import `bundle` into the credential `name`: a certificate alone answers
/// the CSR waiting there; a key with its certificate becomes a new version
/// (or a new credential, named after the certificate, when none has that name).
pub async fn import(
    engine: &Engine<'_>,
    name: &str,
    bundle: Bundle,
    options: ImportOptions,
) -> EngineResult<ImportSummary> {
    let store = engine.store();
    certmgr_core::validate_name(name)?;
    let existing = match store.credential(name).await {
        Ok(credential) => Some(credential),
        Err(StoreError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let options = ChainOptions {
        allow_expired: options.allow_expired,
        trust_bundle_root: options.trust_bundled_root,
        now: engine.clock().now(),
    };
    let anchors = trust_anchors(store).await?;
    let now = engine.now();
    match bundle.key {
        None => {
            let credential = existing.ok_or_else(|| {
                EngineError::bad_input_hint(
                    format!(
                        "no credential named {name:?}: a certificate without its key can only answer a CSR made by certmgr"
                    ),
                    Hint::ImportKeyToo,
                )
            })?;
            attach_signed(store, &credential, &bundle.certs, &anchors, &options, now).await
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
            import_key(store, name, existing, &key, &chain, now).await
        }
    }
}

/// What an import did.
#[derive(Debug)]
pub struct ImportSummary {
    /// The credential's version that holds the certificate.
    pub version: i64,
    /// The key family the certificate is for.
    pub family: String,
    /// The credential's status now.
    pub status: Status,
    /// What the user should know (an untrusted root kept, a hostname not covered).
    pub warnings: Vec<String>,
}

/// Manual flow: the external CA's answer to our CSR.
async fn attach_signed(
    store: &Store,
    credential: &CredentialRecord,
    certs: &[Vec<u8>],
    anchors: &certmgr_pki::TrustAnchors,
    options: &ChainOptions,
    now: i64,
) -> EngineResult<ImportSummary> {
    let current = store.key_versions(credential, None).await?;
    let waiting: Vec<_> = current.iter().filter(|k| k.certificate.is_none()).collect();
    if waiting.is_empty() {
        return Err(EngineError::bad_input_hint(
            format!(
                "credential {:?} has no CSR waiting for a certificate",
                credential.name
            ),
            Hint::CsrFirst(credential.name.clone()),
        ));
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
            pending_outcome()
        } else {
            let mut all: Vec<&CertificateRecord> = current
                .iter()
                .filter_map(|k| k.certificate.as_ref())
                .collect();
            all.push(&record);
            outcome_for(&all, now)
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
    Err(EngineError::bad_input(format!(
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
    now: i64,
) -> EngineResult<ImportSummary> {
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
        let outcome = outcome_for(&[&record], now);
        let new = ValidCredential::imported(name, hostnames_of(chain)?, key.spec())?;
        let (_, version) = store
            .create_credential_with_version(
                new.get(),
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
        return Err(EngineError::bad_input(format!(
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
        pending_outcome()
    } else {
        outcome_for(
            &keys
                .iter()
                .filter_map(|k| k.certificate.as_ref())
                .collect::<Vec<_>>(),
            now,
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
fn hostnames_of(chain: &VerifiedChain) -> EngineResult<Vec<Hostname>> {
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
        return Err(EngineError::bad_input(
            "the certificate names no DNS name or IP address (no subjectAltName): it cannot serve TLS",
        ));
    }
    Ok(hostnames)
}

/// Warn when the certificate does not cover a hostname of the credential.
fn hostname_warnings(chain: &VerifiedChain, hostnames: &[Hostname]) -> EngineResult<Vec<String>> {
    let covered = hostnames_of(chain)?;
    Ok(hostnames
        .iter()
        .filter(|h| !covered.contains(h))
        .map(|h| format!("the certificate does not name {h}, which the credential lists"))
        .collect())
}
