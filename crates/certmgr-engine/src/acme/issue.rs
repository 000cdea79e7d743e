//! ACME issuance and revocation of a credential: one order per key (a dual
//! credential gets two certificates), answered by responders this process runs.
//!
//! Crash safety: the issuance lease is taken first, so only one order per
//! credential is in flight; each key is sealed into the store before the CA
//! is contacted, and the order URL is recorded as soon as the CA returns it.
//! A run that finds such a pending order resumes it (or starts over with the
//! same key when the CA no longer knows it).
//!
//! Deadlines: the challenge phase of each order and the issuance as a whole
//! are limited ([`crate::limits`]); running out of time is a
//! failure like any other (backoff, lease released, answers withdrawn).

use certmgr_acme::{
    AcmeAccount, AcmeOrder, Deadlines, OrderRequest, RevocationReason, failpoint, human_duration,
};
use certmgr_core::{ChallengeKind, Health, IssuerRef, KeySpec, Status};
use certmgr_pki::{ChainOptions, PkiError, PrivateKey, VerifiedChain, build_chain, create_csr};
use certmgr_store::{
    AcmeAccountRecord, CertificateRecord, CredentialRecord, NewKeyVersion, Outcome, PendingOrder,
    VersionSource,
};

use crate::Engine;
use crate::acme::account;
use crate::error::{EngineError, EngineResult};
use crate::limits::{
    Issued, Lease, backstop, deadlines_from_now, superseded, take_lease, take_lease_or_fail,
};
use crate::progress::{step, warning};
use crate::records::{certificate_record, outcome_for, trust_anchors};
use crate::responders::{AnswerOptions, Responders};
use crate::solver::RunSolver;

/// Order certificates for every key of an ACME credential, answering the
/// challenges as the options say; returns the new version.
pub async fn issue(
    engine: &Engine<'_>,
    credential: &CredentialRecord,
    options: &AnswerOptions,
) -> EngineResult<i64> {
    let store = engine.store();
    let challenge = credential.challenge.unwrap_or(ChallengeKind::Http01);
    // Records a killed run left in DNS go first.
    crate::dns01::cleanup_stale(store).await;
    let responders = Responders::for_run(store, &[challenge], options).await?;
    let (record, account) = connect_for(engine, credential).await?;
    match issue_with(
        engine,
        credential,
        &record,
        &account,
        &responders.solver,
        false,
    )
    .await?
    {
        Issued::Version(version) => Ok(version),
        // Only a planned run is superseded; this one was asked for.
        Issued::Superseded(reason) => Err(EngineError::failed(reason)),
    }
}

/// The ACME account of a credential, connected.
pub async fn connect_for(
    engine: &Engine<'_>,
    credential: &CredentialRecord,
) -> EngineResult<(AcmeAccountRecord, AcmeAccount)> {
    let IssuerRef::Acme(account_name) = &credential.issuer else {
        return Err(EngineError::bad_input(
            "the credential is not issued by ACME",
        ));
    };
    let record = engine.store().acme_account(account_name).await?;
    let account = account::connect(engine, &record).await?;
    Ok((record, account))
}

/// Order certificates for every key of an ACME credential with responders
/// already running, under the credential's issuance lease and within the
/// issuance deadlines ([`crate::limits`]): a credential that
/// runs out of time is recorded as failed (with the usual backoff) and its
/// lease released, like any other failure. A `planned` run (renewal) first
/// checks under the lease that no other run issued the credential since it
/// was read, and orders nothing if one did.
pub async fn issue_with(
    engine: &Engine<'_>,
    credential: &CredentialRecord,
    record: &AcmeAccountRecord,
    account: &AcmeAccount,
    solver: &RunSolver<'_>,
    planned: bool,
) -> EngineResult<Issued> {
    let store = engine.store();
    let profile = credential
        .profile
        .clone()
        .or_else(|| record.profile.clone());
    if let Some(profile) = &profile {
        account.check_profile(profile)?;
    }
    solver.use_dns_choices(credential);
    let owner = if planned {
        match take_lease(engine, credential).await? {
            Lease::Taken(owner) => owner,
            Lease::Held(holder) => {
                return Ok(Issued::Superseded(format!(
                    "being issued by another run ({holder})"
                )));
            }
        }
    } else {
        take_lease_or_fail(engine, credential).await?
    };
    if planned && let Some(reason) = superseded(store, credential).await? {
        store.release_lease(credential, owner).await?;
        return Ok(Issued::Superseded(reason));
    }
    let deadlines = deadlines_from_now();
    // The orders enforce their own deadlines and withdraw their answers; this
    // is the last resort for anything else that would not end.
    let result = tokio::time::timeout(
        backstop(&deadlines),
        order_all(engine, credential, record, account, solver, &deadlines),
    )
    .await
    .unwrap_or_else(|_| {
        Err(EngineError::failed(format!(
            "the issuance of {:?} ran past its {} limit and was stopped; certmgr retries after its backoff, and the next run removes any challenge record left behind",
            credential.name,
            human_duration(deadlines.order)
        )))
    });
    let outcome = match result {
        Ok(version) => Ok(Issued::Version(version)),
        Err(error) => {
            store
                .record_failure(credential, "issue-failed", &error.to_string())
                .await?;
            Err(error)
        }
    };
    store.release_lease(credential, owner).await?;
    outcome
}

async fn order_all(
    engine: &Engine<'_>,
    credential: &CredentialRecord,
    record: &AcmeAccountRecord,
    account: &AcmeAccount,
    solver: &RunSolver<'_>,
    deadlines: &Deadlines,
) -> EngineResult<i64> {
    let store = engine.store();
    let challenge = credential.challenge.unwrap_or(ChallengeKind::Http01);
    let profile = credential.profile.as_deref().or(record.profile.as_deref());
    let progress = |line: &str| step!("{line}");
    let pending = store.pending_orders(credential).await?;
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
                &if pending.is_empty() {
                    format!("ordering from {} with {challenge}", credential.issuer)
                } else {
                    format!("resuming the order in flight with {challenge}")
                },
            ),
        )
        .await?;
    let anchors = trust_anchors(store).await?;
    let preferred_chain = credential
        .preferred_chain
        .clone()
        .or_else(|| record.preferred_chain.clone());
    // The certificates being replaced, for ARI's `replaces` (RFC 9773 §5).
    let current = store.key_versions(credential, None).await?;
    let mut issued: Vec<(PrivateKey, CertificateRecord)> = Vec::new();
    let mut warnings = Vec::new();
    for spec in &credential.key_specs {
        let existing = pending.iter().find(|p| p.spec == *spec).cloned();
        let replaces = current
            .iter()
            .find(|k| k.family == spec.family())
            .and_then(|k| k.certificate.as_ref())
            .map(|c| c.cert_der.as_slice());
        let order = OrderPlan {
            spec: *spec,
            existing,
            challenge,
            profile,
            preferred_chain: preferred_chain.as_deref(),
            replaces,
            deadlines,
        };
        let (key, verified) = order_one(
            engine, credential, account, order, solver, &anchors, &progress,
        )
        .await?;
        warnings.extend(verified.warnings.iter().cloned());
        issued.push((key, certificate_record(&verified)?));
    }
    failpoint("downloaded").await;
    for text in &warnings {
        warning!("{text}");
    }
    let new_keys: Vec<NewKeyVersion<'_>> = issued
        .iter()
        .map(|(key, record)| NewKeyVersion {
            spec: key.spec(),
            pkcs8_der: key.pkcs8_der(),
            certificate: Some(record.clone()),
        })
        .collect();
    let outcome = outcome_for(
        &issued.iter().map(|(_, r)| r).collect::<Vec<_>>(),
        engine.now(),
    );
    let serials: Vec<&str> = issued.iter().map(|(_, r)| r.serial.as_str()).collect();
    // Stores the version and removes the orders in flight, in one transaction.
    let version = store
        .add_version(
            credential,
            VersionSource::Acme,
            &new_keys,
            &outcome,
            (
                "issued",
                &format!(
                    "issued by {} ({challenge}), serial {}",
                    credential.issuer,
                    serials.join(", ")
                ),
            ),
        )
        .await?;
    Ok(version)
}

/// What to order for one key.
struct OrderPlan<'a> {
    spec: KeySpec,
    existing: Option<PendingOrder>,
    challenge: ChallengeKind,
    profile: Option<&'a str>,
    preferred_chain: Option<&'a str>,
    replaces: Option<&'a [u8]>,
    deadlines: &'a Deadlines,
}

/// One key: find or place its order, complete it, verify the chain.
async fn order_one(
    engine: &Engine<'_>,
    credential: &CredentialRecord,
    account: &AcmeAccount,
    plan: OrderPlan<'_>,
    solver: &RunSolver<'_>,
    anchors: &certmgr_pki::TrustAnchors,
    progress: &(dyn Fn(&str) + Sync),
) -> EngineResult<(PrivateKey, VerifiedChain)> {
    let store = engine.store();
    let OrderPlan {
        spec,
        existing,
        challenge,
        profile,
        preferred_chain,
        replaces,
        deadlines,
    } = plan;
    let (pending, key) = match existing {
        Some(pending) => {
            let key = PrivateKey::from_pkcs8_der(&store.unseal_pending_key(&pending)?)?;
            (pending, key)
        }
        None => {
            let key = PrivateKey::generate(spec)?;
            let pending = store
                .save_pending_order(credential, spec, key.pkcs8_der())
                .await?;
            failpoint("key-saved").await;
            (pending, key)
        }
    };
    let request = OrderRequest {
        hostnames: &credential.hostnames,
        profile,
        replaces,
    };
    let resumed = match &pending.order_url {
        Some(url) => {
            let order = AcmeOrder::resume(account, url).await?;
            match &order {
                Some(_) => progress(&format!("{spec} key: resuming order {url}")),
                None => progress(&format!(
                    "{spec} key: order {url} can no longer complete; placing a new one with the same key"
                )),
            }
            order
        }
        None => None,
    };
    let mut order = match resumed {
        Some(order) => order,
        None => {
            let order = AcmeOrder::create(account, &request).await?;
            store.set_pending_order_url(&pending, order.url()).await?;
            store
                .record_event(
                    credential,
                    "order-created",
                    &format!("{spec} key: order {}", order.url()),
                )
                .await?;
            progress(&format!("{spec} key: order created: {}", order.url()));
            failpoint("order-created").await;
            order
        }
    };
    let csr_der = csr_der(&key, credential)?;
    let mut chain = order
        .complete(account, &csr_der, challenge, solver, deadlines, progress)
        .await?;
    let mut notes = Vec::new();
    if let Some(preferred) = preferred_chain {
        match account.preferred_chain(&chain, preferred).await {
            Ok(Some(certs)) => {
                progress(&format!("{spec} key: using the chain to {preferred:?}"));
                chain.certs_der = certs;
            }
            Ok(None) => notes.push(format!(
                "no chain offered by the CA leads to {preferred:?}; kept the default chain to {:?}",
                certmgr_acme::chain_top_issuer(&chain.certs_der).unwrap_or_default()
            )),
            Err(e) => notes.push(format!(
                "could not fetch the alternate chains ({e}); kept the default chain"
            )),
        }
    }
    let mut verified = verify_acme_chain(&chain.certs_der, anchors, engine.clock().now())?;
    verified.warnings.extend(notes);
    if !certmgr_pki::key_matches(&key, &verified.leaf).map_err(EngineError::ca_certificate)? {
        return Err(EngineError::failed(
            "the CA returned a certificate for another key: the order is not ours",
        ));
    }
    Ok((key, verified))
}

fn csr_der(key: &PrivateKey, credential: &CredentialRecord) -> EngineResult<Vec<u8>> {
    let pem = create_csr(key, &credential.hostnames)?;
    let block = pem::parse(pem.as_bytes())
        .map_err(|e| EngineError::failed(format!("cannot read back our own CSR: {e}")))?;
    Ok(block.into_contents())
}

/// Verify the chain the CA sent against our trust anchors. A chain whose root
/// is not trusted here (a private or test CA) is kept as sent, with a warning:
/// the CA is authoritative for what it issued, but the user should know.
/// Any other verification error is the CA's failure, not the caller's.
fn verify_acme_chain(
    certs_der: &[Vec<u8>],
    anchors: &certmgr_pki::TrustAnchors,
    now: time::OffsetDateTime,
) -> EngineResult<VerifiedChain> {
    let (leaf, intermediates) = certs_der
        .split_first()
        .ok_or_else(|| EngineError::failed("the CA returned an empty chain"))?;
    let options = ChainOptions {
        allow_expired: false,
        trust_bundle_root: false,
        now,
    };
    match build_chain(leaf, intermediates, anchors, &options) {
        Ok(chain) => Ok(chain),
        Err(PkiError::BrokenChain { issuer, .. }) => Ok(VerifiedChain {
            leaf: leaf.clone(),
            intermediates: intermediates.to_vec(),
            root: None,
            warnings: vec![format!(
                "the chain ends at {issuer:?}, which certmgr does not trust: add that root to the trust store to verify it"
            )],
        }),
        Err(other) => Err(EngineError::ca_certificate(other)),
    }
}

/// Revoke the current certificates of a credential.
pub async fn revoke(
    engine: &Engine<'_>,
    credential: &CredentialRecord,
    reason: &str,
) -> EngineResult<usize> {
    let store = engine.store();
    let reason: RevocationReason = reason.parse()?;
    let keys = store.key_versions(credential, None).await?;
    let certificates: Vec<_> = keys.iter().filter_map(|k| k.certificate.as_ref()).collect();
    if certificates.is_empty() {
        return Err(EngineError::bad_input(format!(
            "credential {:?} has no certificate to revoke",
            credential.name
        )));
    }
    if credential.status == Status::Revoked {
        return Err(EngineError::bad_input(format!(
            "credential {:?} is already revoked",
            credential.name
        )));
    }
    match &credential.issuer {
        IssuerRef::Acme(account_name) => {
            let record = store.acme_account(account_name).await?;
            let account = account::connect(engine, &record).await?;
            for certificate in &certificates {
                account.revoke(&certificate.cert_der, reason).await?;
            }
        }
        IssuerRef::MicroCa(_) => {
            // The MicroCA publishes no CRL or OCSP yet: the revocation is recorded here.
        }
        IssuerRef::Manual | IssuerRef::Import => {
            return Err(EngineError::bad_input(format!(
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
