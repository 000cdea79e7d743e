//! ACME issuance and revocation of a credential: one order per key (a dual
//! credential gets two certificates), answered by responders this process runs.

use std::net::SocketAddr;

use certmgr_acme::{
    Http01Responder, OrderRequest, RevocationReason, Solvers, TlsAlpnResponder, order_certificate,
};
use certmgr_core::{ChallengeKind, Health, IssuerRef, Status};
use certmgr_pki::{ChainOptions, PkiError, PrivateKey, VerifiedChain, build_chain, create_csr};
use certmgr_store::{CredentialRecord, NewKeyVersion, Outcome, Store, VersionSource};

use crate::cli::CredIssueArgs;
use crate::commands::{acme, certificate_record, outcome_for, trust_anchors};
use crate::error::{CliError, CliResult};

/// Default address of the HTTP-01 responder (the CA connects to port 80).
const DEFAULT_HTTP01_LISTEN: &str = "0.0.0.0:80";
/// Default address of the TLS-ALPN-01 responder (the CA connects to port 443).
const DEFAULT_TLS_ALPN01_LISTEN: &str = "0.0.0.0:443";

/// Order certificates for every key of an ACME credential; returns the new version.
pub async fn issue(
    store: &Store,
    credential: &CredentialRecord,
    args: &CredIssueArgs,
    quiet: bool,
) -> CliResult<i64> {
    let IssuerRef::Acme(account_name) = &credential.issuer else {
        return Err(CliError::bad_input("the credential is not issued by ACME"));
    };
    let record = store.acme_account(account_name).await?;
    let account = acme::connect(store, &record).await?;
    let challenge = credential.challenge.unwrap_or(ChallengeKind::Http01);
    let solvers = Solvers::default();
    // The responder must be listening before the CA is told to validate.
    let _http = match challenge {
        ChallengeKind::Http01 => Some(
            Http01Responder::start(
                listen_address(args.http01_listen, DEFAULT_HTTP01_LISTEN)?,
                solvers.http01.clone(),
            )
            .await?,
        ),
        _ => None,
    };
    let _alpn = match challenge {
        ChallengeKind::TlsAlpn01 => Some(
            TlsAlpnResponder::start(
                listen_address(args.tls_alpn01_listen, DEFAULT_TLS_ALPN01_LISTEN)?,
                solvers.tls_alpn01.clone(),
            )
            .await?,
        ),
        _ => None,
    };
    let progress = |line: &str| {
        if !quiet {
            eprintln!("  {line}");
        }
    };
    store
        .set_outcome(
            credential,
            &Outcome {
                status: Status::Issuing,
                health: credential.health,
                last_error: credential.last_error.clone(),
            },
            (
                "issuing",
                &format!("ordering from ACME account {account_name:?} with {challenge}"),
            ),
        )
        .await?;
    let anchors = trust_anchors(store).await?;
    let mut keys = Vec::with_capacity(credential.key_specs.len());
    let mut records = Vec::with_capacity(credential.key_specs.len());
    let mut order_urls = Vec::new();
    let mut warnings = Vec::new();
    for spec in &credential.key_specs {
        progress(&format!("{spec} key: new order"));
        let result = async {
            let key = PrivateKey::generate(*spec)?;
            let csr_der = csr_der(&key, credential)?;
            let chain = order_certificate(
                &account,
                &OrderRequest {
                    hostnames: &credential.hostnames,
                    csr_der: &csr_der,
                    challenge,
                    profile: None,
                },
                &solvers,
                &progress,
            )
            .await?;
            let verified = verify_acme_chain(&chain.certs_der, &anchors)?;
            Ok::<_, CliError>((key, verified, chain.order_url))
        }
        .await;
        match result {
            Ok((key, verified, order_url)) => {
                warnings.extend(verified.warnings.iter().cloned());
                records.push(certificate_record(&verified)?);
                keys.push(key);
                order_urls.push(order_url);
            }
            Err(error) => {
                store
                    .record_failure(credential, "issue-failed", &error.to_string())
                    .await?;
                return Err(error);
            }
        }
    }
    for warning in &warnings {
        if !quiet {
            eprintln!("warning: {warning}");
        }
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
    let version = store
        .add_version(
            credential,
            VersionSource::Acme,
            &new_keys,
            &outcome,
            (
                "issued",
                &format!(
                    "issued by ACME account {account_name:?} ({challenge}), order {}",
                    order_urls.join(", ")
                ),
            ),
        )
        .await?;
    Ok(version)
}

fn listen_address(given: Option<SocketAddr>, default: &str) -> CliResult<SocketAddr> {
    match given {
        Some(address) => Ok(address),
        None => default
            .parse()
            .map_err(|_| CliError::failed(format!("bad built-in address {default}"))),
    }
}

fn csr_der(key: &PrivateKey, credential: &CredentialRecord) -> CliResult<Vec<u8>> {
    let pem = create_csr(key, &credential.hostnames)?;
    let block = pem::parse(pem.as_bytes())
        .map_err(|e| CliError::failed(format!("cannot read back our own CSR: {e}")))?;
    Ok(block.into_contents())
}

/// Verify the chain the CA sent against our trust anchors. A chain whose root
/// is not trusted here (a private or test CA) is kept as sent, with a warning:
/// the CA is authoritative for what it issued, but the user should know.
fn verify_acme_chain(
    certs_der: &[Vec<u8>],
    anchors: &certmgr_pki::TrustAnchors,
) -> CliResult<VerifiedChain> {
    let (leaf, intermediates) = certs_der
        .split_first()
        .ok_or_else(|| CliError::failed("the CA returned an empty chain"))?;
    let options = ChainOptions {
        allow_expired: false,
        trust_bundle_root: false,
        now: time::OffsetDateTime::now_utc(),
    };
    match build_chain(leaf, intermediates, anchors, &options) {
        Ok(chain) => Ok(chain),
        Err(PkiError::BrokenChain { issuer, .. }) => Ok(VerifiedChain {
            leaf: leaf.clone(),
            intermediates: intermediates.to_vec(),
            root: None,
            warnings: vec![format!(
                "the chain ends at {issuer:?}, which certmgr does not trust: add that root with `certmgr trust add` to verify it"
            )],
        }),
        Err(other) => Err(other.into()),
    }
}

/// Revoke the current certificates of a credential.
pub async fn revoke(
    store: &Store,
    credential: &CredentialRecord,
    reason: &str,
) -> CliResult<usize> {
    let reason: RevocationReason = reason.parse()?;
    let keys = store.key_versions(credential, None).await?;
    let certificates: Vec<_> = keys.iter().filter_map(|k| k.certificate.as_ref()).collect();
    if certificates.is_empty() {
        return Err(CliError::bad_input(format!(
            "credential {:?} has no certificate to revoke",
            credential.name
        )));
    }
    if credential.status == Status::Revoked {
        return Err(CliError::bad_input(format!(
            "credential {:?} is already revoked",
            credential.name
        )));
    }
    match &credential.issuer {
        IssuerRef::Acme(account_name) => {
            let record = store.acme_account(account_name).await?;
            let account = acme::connect(store, &record).await?;
            for certificate in &certificates {
                account.revoke(&certificate.cert_der, reason).await?;
            }
        }
        IssuerRef::MicroCa(_) => {
            // The MicroCA publishes no CRL or OCSP yet: the revocation is recorded here.
        }
        IssuerRef::Manual | IssuerRef::Import => {
            return Err(CliError::bad_input(format!(
                "credential {:?} was issued outside certmgr: revoke it at the CA that issued it",
                credential.name
            )));
        }
    }
    let serials: Vec<&str> = certificates.iter().map(|c| c.serial.as_str()).collect();
    store
        .set_outcome(
            credential,
            &Outcome {
                status: Status::Revoked,
                health: Health::Error,
                last_error: Some(format!("revoked ({reason:?})")),
            },
            (
                "revoked",
                &format!(
                    "revoked with reason {reason:?} (code {}), serial {}",
                    reason.code(),
                    serials.join(", ")
                ),
            ),
        )
        .await?;
    Ok(certificates.len())
}
