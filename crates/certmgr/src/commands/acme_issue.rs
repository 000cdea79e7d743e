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
//! are limited ([`crate::commands::issue_limits`]); running out of time is a
//! failure like any other (backoff, lease released, answers withdrawn).

use std::net::SocketAddr;

use certmgr_acme::{
    AcmeAccount, AcmeOrder, Deadlines, Http01Responder, OrderRequest, RevocationReason, Solvers,
    TlsAlpnResponder, failpoint, human_duration,
};
use certmgr_core::{ChallengeKind, Health, IssuerRef, KeySpec, Status};
use certmgr_pki::{ChainOptions, PkiError, PrivateKey, VerifiedChain, build_chain, create_csr};
use certmgr_store::{
    AcmeAccountRecord, CertificateRecord, CredentialRecord, NewKeyVersion, Outcome, PendingOrder,
    Store, VersionSource,
};

use crate::commands::issue_limits::{
    Issued, Lease, backstop, deadlines_from_now, superseded, take_lease, take_lease_or_fail,
};
use crate::commands::{acme, certificate_record, outcome_for, trust_anchors};
use crate::error::{CliError, CliResult};
use crate::solver::{HttpAnswers, RunSolver};

/// Default address of the HTTP-01 responder (the CA connects to port 80).
const DEFAULT_HTTP01_LISTEN: &str = "0.0.0.0:80";
/// Default address of the TLS-ALPN-01 responder (the CA connects to port 443).
const DEFAULT_TLS_ALPN01_LISTEN: &str = "0.0.0.0:443";
/// Heartbeats older than this mean the server is gone.
const SERVER_LIVENESS_SECS: i64 = 30;

/// How one run answers challenges, with the responders it started (if any),
/// shared by every order it places.
pub struct Responders<'a> {
    /// Where orders publish their answers.
    pub solver: RunSolver<'a>,
    _http: Option<Http01Responder>,
    _alpn: Option<TlsAlpnResponder>,
}

/// How the user asked a run to answer challenges.
#[derive(Debug, Clone, Default)]
pub struct AnswerOptions {
    /// Answer HTTP-01 on this address.
    pub http01_listen: Option<SocketAddr>,
    /// Answer TLS-ALPN-01 on this address.
    pub tls_alpn01_listen: Option<SocketAddr>,
    /// Write HTTP-01 answers under this document root.
    pub webroot: Option<std::path::PathBuf>,
}

impl From<&crate::cli::AnswerArgs> for AnswerOptions {
    fn from(args: &crate::cli::AnswerArgs) -> Self {
        AnswerOptions {
            http01_listen: args.http01_listen,
            tls_alpn01_listen: args.tls_alpn01_listen,
            webroot: args.webroot.clone(),
        }
    }
}

impl<'a> Responders<'a> {
    /// Decide how to answer `kinds` of challenges: into a web root when asked;
    /// through a running `certmgr server` sharing the store when there is one
    /// and no listen address was given; otherwise with responders started here
    /// (before any order tells the CA to validate).
    pub async fn for_run(
        store: &'a Store,
        kinds: &[ChallengeKind],
        options: &AnswerOptions,
        quiet: bool,
    ) -> CliResult<Responders<'a>> {
        if let Some(root) = &options.webroot {
            return Ok(Responders {
                solver: RunSolver::new(store, HttpAnswers::Webroot(root.clone())),
                _http: None,
                _alpn: None,
            });
        }
        if options.http01_listen.is_none() && options.tls_alpn01_listen.is_none() {
            let servers = store.live_servers(SERVER_LIVENESS_SECS).await?;
            if let Some(server) = servers.first() {
                if !quiet {
                    eprintln!(
                        "  answering through the certmgr server on {} (pid {})",
                        server.host, server.pid
                    );
                }
                return Ok(Responders {
                    solver: RunSolver::new(store, HttpAnswers::Store),
                    _http: None,
                    _alpn: None,
                });
            }
        }
        let solvers = Solvers::default();
        let http = if kinds.contains(&ChallengeKind::Http01) {
            Some(
                Http01Responder::start(
                    listen_address(options.http01_listen, DEFAULT_HTTP01_LISTEN)?,
                    solvers.http01.clone(),
                )
                .await?,
            )
        } else {
            None
        };
        let alpn = if kinds.contains(&ChallengeKind::TlsAlpn01) {
            Some(
                TlsAlpnResponder::start(
                    listen_address(options.tls_alpn01_listen, DEFAULT_TLS_ALPN01_LISTEN)?,
                    solvers.tls_alpn01.clone(),
                )
                .await?,
            )
        } else {
            None
        };
        Ok(Responders {
            solver: RunSolver::new(store, HttpAnswers::Memory(solvers)),
            _http: http,
            _alpn: alpn,
        })
    }
}

/// Order certificates for every key of an ACME credential, answering the
/// challenges as the options say; returns the new version.
pub async fn issue(
    store: &Store,
    credential: &CredentialRecord,
    options: &AnswerOptions,
    quiet: bool,
) -> CliResult<i64> {
    let challenge = credential.challenge.unwrap_or(ChallengeKind::Http01);
    // Records a killed run left in DNS go first.
    crate::dns01::cleanup_stale(store).await;
    let responders = Responders::for_run(store, &[challenge], options, quiet).await?;
    let (record, account) = connect_for(store, credential).await?;
    match issue_with(
        store,
        credential,
        &record,
        &account,
        &responders.solver,
        false,
        quiet,
    )
    .await?
    {
        Issued::Version(version) => Ok(version),
        // Only a planned run is superseded; this one was asked for.
        Issued::Superseded(reason) => Err(CliError::failed(reason)),
    }
}

/// The ACME account of a credential, connected.
pub async fn connect_for(
    store: &Store,
    credential: &CredentialRecord,
) -> CliResult<(AcmeAccountRecord, AcmeAccount)> {
    let IssuerRef::Acme(account_name) = &credential.issuer else {
        return Err(CliError::bad_input("the credential is not issued by ACME"));
    };
    let record = store.acme_account(account_name).await?;
    let account = acme::connect(store, &record).await?;
    Ok((record, account))
}

/// Order certificates for every key of an ACME credential with responders
/// already running, under the credential's issuance lease and within the
/// issuance deadlines ([`crate::commands::issue_limits`]): a credential that
/// runs out of time is recorded as failed (with the usual backoff) and its
/// lease released, like any other failure. A `planned` run (renewal) first
/// checks under the lease that no other run issued the credential since it
/// was read, and orders nothing if one did.
pub async fn issue_with(
    store: &Store,
    credential: &CredentialRecord,
    record: &AcmeAccountRecord,
    account: &AcmeAccount,
    solver: &RunSolver<'_>,
    planned: bool,
    quiet: bool,
) -> CliResult<Issued> {
    let profile = credential
        .profile
        .clone()
        .or_else(|| record.profile.clone());
    if let Some(profile) = &profile {
        account.check_profile(profile)?;
    }
    solver.use_dns_choices(credential);
    let owner = if planned {
        match take_lease(store, credential).await? {
            Lease::Taken(owner) => owner,
            Lease::Held(holder) => {
                return Ok(Issued::Superseded(format!(
                    "being issued by another run ({holder})"
                )));
            }
        }
    } else {
        take_lease_or_fail(store, credential).await?
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
        order_all(store, credential, record, account, solver, &deadlines, quiet),
    )
    .await
    .unwrap_or_else(|_| {
        Err(CliError::failed(format!(
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
    store: &Store,
    credential: &CredentialRecord,
    record: &AcmeAccountRecord,
    account: &AcmeAccount,
    solver: &RunSolver<'_>,
    deadlines: &Deadlines,
    quiet: bool,
) -> CliResult<i64> {
    let challenge = credential.challenge.unwrap_or(ChallengeKind::Http01);
    let profile = credential.profile.as_deref().or(record.profile.as_deref());
    let progress = |line: &str| {
        if !quiet {
            eprintln!("  {line}");
        }
    };
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
            store, credential, account, order, solver, &anchors, &progress,
        )
        .await?;
        warnings.extend(verified.warnings.iter().cloned());
        issued.push((key, certificate_record(&verified)?));
    }
    failpoint("downloaded").await;
    if !quiet {
        for warning in &warnings {
            eprintln!("warning: {warning}");
        }
    }
    let new_keys: Vec<NewKeyVersion<'_>> = issued
        .iter()
        .map(|(key, record)| NewKeyVersion {
            spec: key.spec(),
            pkcs8_der: key.pkcs8_der(),
            certificate: Some(record.clone()),
        })
        .collect();
    let outcome = outcome_for(&issued.iter().map(|(_, r)| r).collect::<Vec<_>>());
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
    store: &Store,
    credential: &CredentialRecord,
    account: &AcmeAccount,
    plan: OrderPlan<'_>,
    solver: &RunSolver<'_>,
    anchors: &certmgr_pki::TrustAnchors,
    progress: &(dyn Fn(&str) + Sync),
) -> CliResult<(PrivateKey, VerifiedChain)> {
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
    let mut verified = verify_acme_chain(&chain.certs_der, anchors)?;
    verified.warnings.extend(notes);
    if !certmgr_pki::key_matches(&key, &verified.leaf)? {
        return Err(CliError::failed(
            "the CA returned a certificate for another key: the order is not ours",
        ));
    }
    Ok((key, verified))
}

/// This machine's host name, for leases and server registrations.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into())
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
