//! One ACME order (RFC 8555 §7.4), from newOrder to the certificate chain, as a
//! state machine that can start from any state: a fresh order, or one found
//! again by URL after the process was killed.

use std::collections::HashSet;
use std::time::Duration;

use certmgr_core::{ChallengeKind, Hostname};
use instant_acme::{
    AuthorizationStatus, ChallengeStatus, ChallengeType, Identifier, NewOrder, OrderStatus,
    RetryPolicy,
};

use crate::error::problem_text;
use crate::nonce::{is_bad_nonce, retry_bad_nonce};
use crate::{AcmeAccount, AcmeError, Http01Tokens, TlsAlpnCertificates, failpoint};

/// How long to wait for validation and for the certificate.
const ORDER_TIMEOUT: Duration = Duration::from_secs(90);
/// The first wait before asking the CA again about an order; each further
/// wait is 1.5 times longer (10 ms, 15, 22, ... about 20 polls in 90 s).
const FIRST_POLL: Duration = Duration::from_millis(10);
/// Longest time withdrawing an order's answers may take once the order is
/// over (done, failed or out of time). Records a cleanup could not remove in
/// time stay in the TXT journal, and the next run removes them.
pub const CLEANUP_LIMIT: Duration = Duration::from_secs(120);

/// Time limits of one order, so that a stuck DNS provider, a propagation
/// that never completes or a CA that keeps an order `processing` fails this
/// order instead of stalling the run.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// Longest challenge phase: publishing every answer (DNS records and
    /// their propagation included) and the CA's validation.
    pub challenge: Duration,
    /// The limit of the whole issuance, for messages.
    pub order: Duration,
    /// When the whole issuance must be over (its start plus `order`).
    pub order_until: tokio::time::Instant,
}

impl Deadlines {
    /// Limits for an issuance starting now.
    pub fn starting_now(challenge: Duration, order: Duration) -> Deadlines {
        Deadlines {
            challenge,
            order,
            order_until: tokio::time::Instant::now() + order,
        }
    }
}

/// A duration in words for messages: "15 min", "90 s".
pub fn human_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs >= 60 && secs.is_multiple_of(60) {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} s")
    }
}
/// What to order.
#[derive(Debug, Clone)]
pub struct OrderRequest<'a> {
    /// The identifiers (all become SANs).
    pub hostnames: &'a [Hostname],
    /// A certificate profile (draft-ietf-acme-profiles), if the credential asks for one.
    pub profile: Option<&'a str>,
    /// The certificate (DER) this order replaces, sent as ARI `replaces` (RFC 9773 §5).
    pub replaces: Option<&'a [u8]>,
}

/// One challenge answer, as a solver publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeAnswer {
    /// Which challenge.
    pub kind: ChallengeKind,
    /// The identifier being validated (DNS name without `*.`, or IP address).
    pub identifier: String,
    /// The challenge token (the HTTP-01 path segment).
    pub token: String,
    /// `token.thumbprint`: the HTTP-01 response body.
    pub key_authorization: String,
    /// SHA-256 of the key authorization: the TLS-ALPN-01 `acmeIdentifier` value.
    pub digest: Vec<u8>,
    /// base64url(SHA-256): the DNS-01 TXT record value.
    pub dns_value: String,
}

/// Publishes challenge answers where the CA will look for them: in this
/// process's responders ([`Solvers`]), in the store for a running certmgr
/// server, in a web server's document root, and (later) in DNS.
pub trait ChallengeSolver: Send + Sync {
    /// Make `answer` visible to the CA.
    fn present(
        &self,
        answer: &ChallengeAnswer,
    ) -> impl std::future::Future<Output = Result<(), AcmeError>> + Send;
    /// Withdraw `answer` (validation is over, or failed).
    fn cleanup(
        &self,
        answer: &ChallengeAnswer,
    ) -> impl std::future::Future<Output = Result<(), AcmeError>> + Send;
}

/// Answers held in memory for this process's own responders.
#[derive(Debug, Clone, Default)]
pub struct Solvers {
    /// HTTP-01 tokens (served by an [`crate::Http01Responder`]).
    pub http01: Http01Tokens,
    /// TLS-ALPN-01 certificates (served by a [`crate::TlsAlpnResponder`]).
    pub tls_alpn01: TlsAlpnCertificates,
}

/// The issued chain: leaf first, then the intermediates, as the CA sent them.
#[derive(Debug, Clone)]
pub struct IssuedChain {
    /// Certificates, DER, leaf first.
    pub certs_der: Vec<Vec<u8>>,
    /// Where the CA serves it (and links its alternate chains from).
    pub certificate_url: Option<String>,
}

/// An order at the CA, new or found again by URL.
pub struct AcmeOrder {
    inner: instant_acme::Order,
}

impl std::fmt::Debug for AcmeOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcmeOrder")
            .field("url", &self.inner.url())
            .finish_non_exhaustive()
    }
}

impl AcmeOrder {
    /// Place a new order (newOrder).
    pub async fn create(
        account: &AcmeAccount,
        request: &OrderRequest<'_>,
    ) -> Result<AcmeOrder, AcmeError> {
        let identifiers: Vec<Identifier> = request.hostnames.iter().map(identifier).collect();
        let mut new_order = NewOrder::new(&identifiers);
        if let Some(profile) = request.profile {
            new_order = new_order.profile(profile);
        }
        let replaced = match request.replaces {
            Some(der) => {
                let certificate = rustls::pki_types::CertificateDer::from(der.to_vec());
                Some(
                    instant_acme::CertificateIdentifier::try_from(&certificate)
                        .map_err(|e| AcmeError::BadCertificate(e.to_string()))?
                        .into_owned(),
                )
            }
            None => None,
        };
        if let Some(id) = replaced {
            new_order = new_order.replaces(id);
        }
        let inner = match retry_bad_nonce!(account.inner.new_order(&new_order).await) {
            // `replaces` needs ARI; a CA without it just gets a plain order.
            Err(instant_acme::Error::Unsupported(_)) if request.replaces.is_some() => {
                let mut plain = NewOrder::new(&identifiers);
                if let Some(profile) = request.profile {
                    plain = plain.profile(profile);
                }
                retry_bad_nonce!(account.inner.new_order(&plain).await)
            }
            other => other,
        }
        .map_err(|e| AcmeError::from_client(&account.directory_url, e))?;
        Ok(AcmeOrder { inner })
    }

    /// Find an order again by URL. `None` when it can no longer complete
    /// (invalid, expired, or unknown to the CA): start a new one then.
    pub async fn resume(account: &AcmeAccount, url: &str) -> Result<Option<AcmeOrder>, AcmeError> {
        match retry_bad_nonce!(account.inner.order(url.to_owned()).await) {
            Ok(mut inner) => {
                let status = inner.state().status;
                Ok((status != OrderStatus::Invalid).then_some(AcmeOrder { inner }))
            }
            Err(instant_acme::Error::Api(problem))
                if problem.status == Some(404)
                    || problem.r#type.as_deref()
                        == Some("urn:ietf:params:acme:error:malformed") =>
            {
                Ok(None)
            }
            // A CA may answer an order it does not know with a bare 404 (Pebble
            // does), which instant-acme reports as unreadable JSON: ask for the
            // status itself.
            Err(unread @ instant_acme::Error::Json(_)) => match account.status_of(url).await {
                Some(404) => Ok(None),
                _ => Err(AcmeError::from_client(&account.directory_url, unread)),
            },
            Err(other) => Err(AcmeError::from_client(&account.directory_url, other)),
        }
    }

    /// The order URL (persist it before the next step).
    pub fn url(&self) -> &str {
        self.inner.url()
    }

    /// Drive the order to a certificate from whatever state it is in:
    /// answer pending authorizations, finalize with `csr_der`, download;
    /// within `deadlines` (a phase that runs out of time fails the order
    /// with [`AcmeError::Deadline`]). The answers published are withdrawn
    /// whatever happened, within [`CLEANUP_LIMIT`].
    pub async fn complete<S: ChallengeSolver>(
        &mut self,
        account: &AcmeAccount,
        csr_der: &[u8],
        challenge: ChallengeKind,
        solver: &S,
        deadlines: &Deadlines,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<IssuedChain, AcmeError> {
        let mut presented = Vec::new();
        let url = self.inner.url().to_owned();
        let driven = tokio::time::timeout_at(
            deadlines.order_until,
            self.drive(
                account,
                csr_der,
                challenge,
                solver,
                &mut presented,
                deadlines.challenge,
                progress,
            ),
        )
        .await;
        let result = driven.unwrap_or_else(|_| {
            Err(AcmeError::Deadline {
                phase: "issuance as a whole",
                limit: human_duration(deadlines.order),
                url,
            })
        });
        // Withdraw every answer, whatever happened; a failed cleanup is not
        // worth failing an issued certificate for. What is not withdrawn in
        // time stays journalled for the next run.
        let withdraw = async {
            for answer in &presented {
                let _ = solver.cleanup(answer).await;
            }
        };
        if tokio::time::timeout(CLEANUP_LIMIT, withdraw).await.is_err() {
            progress(&format!(
                "withdrawing the answers took over {}: the next run removes what is left",
                human_duration(CLEANUP_LIMIT)
            ));
        }
        result
    }

    // The whole context of one order; `complete` is the entry point.
    #[allow(clippy::too_many_arguments)]
    async fn drive<S: ChallengeSolver>(
        &mut self,
        account: &AcmeAccount,
        csr_der: &[u8],
        challenge: ChallengeKind,
        solver: &S,
        presented: &mut Vec<ChallengeAnswer>,
        challenge_limit: Duration,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<IssuedChain, AcmeError> {
        let directory = account.directory_url.clone();
        let client_error = |e| AcmeError::from_client(&directory, e);
        // Ask again soon, then less and less often: a CA that validates or
        // signs in milliseconds is seen at once, a slow one is not hammered
        // (its Retry-After wins when it sends one).
        let retries = RetryPolicy::new()
            .initial_delay(FIRST_POLL)
            .backoff(1.5)
            .timeout(ORDER_TIMEOUT);
        let url = self.inner.url().to_owned();
        let mut readied: HashSet<String> = HashSet::new();
        // The challenge phase's clock starts when the order is first found pending.
        let mut challenge_until: Option<tokio::time::Instant> = None;
        loop {
            match self.inner.state().status {
                OrderStatus::Pending => {
                    let until = *challenge_until
                        .get_or_insert_with(|| tokio::time::Instant::now() + challenge_limit);
                    let phase = tokio::time::timeout_at(
                        until,
                        challenge_phase(
                            &mut self.inner,
                            challenge,
                            solver,
                            presented,
                            &mut readied,
                            &retries,
                            progress,
                        ),
                    )
                    .await
                    .map_err(|_| AcmeError::Deadline {
                        phase: "challenge phase",
                        limit: human_duration(challenge_limit),
                        url: url.clone(),
                    })?;
                    match phase? {
                        Phase::Restart => {
                            // A request failed for a bad nonce mid-way: look again.
                            retry_bad_nonce!(self.inner.refresh().await.map(|_| ()))
                                .map_err(client_error)?;
                            continue;
                        }
                        Phase::Polled(Ok(OrderStatus::Invalid)) => {
                            return Err(validation_failure(&mut self.inner, &directory).await);
                        }
                        Phase::Polled(Ok(_)) => {}
                        Phase::Polled(Err(instant_acme::Error::Api(problem)))
                            if is_bad_nonce(&problem) => {}
                        Phase::Polled(Err(instant_acme::Error::Api(_))) => {
                            return Err(validation_failure(&mut self.inner, &directory).await);
                        }
                        Phase::Polled(Err(instant_acme::Error::Timeout(_))) => {
                            return Err(AcmeError::Timeout {
                                url,
                                status: "pending".into(),
                            });
                        }
                        Phase::Polled(Err(other)) => return Err(client_error(other)),
                    }
                }
                OrderStatus::Ready => {
                    progress("all authorizations valid");
                    failpoint("authorized").await;
                    retry_bad_nonce!(self.inner.finalize_csr(csr_der).await)
                        .map_err(client_error)?;
                    progress("order finalized");
                    failpoint("finalized").await;
                }
                OrderStatus::Processing | OrderStatus::Valid => {
                    // Often signed by the time the finalization is answered:
                    // fetch it at once, poll only while it is still processing.
                    let ready =
                        retry_bad_nonce!(self.inner.certificate().await).map_err(client_error)?;
                    let pem = match ready {
                        Some(pem) => pem,
                        None => retry_bad_nonce!(self.inner.poll_certificate(&retries).await)
                            .map_err(|e| match e {
                                instant_acme::Error::Timeout(_) => AcmeError::Timeout {
                                    url: url.clone(),
                                    status: "processing".into(),
                                },
                                other => client_error(other),
                            })?,
                    };
                    let certs_der = parse_chain(&pem)?;
                    progress(&format!(
                        "certificate downloaded ({} certificates in the chain)",
                        certs_der.len()
                    ));
                    let certificate_url = self.inner.state().certificate.clone();
                    return Ok(IssuedChain {
                        certs_der,
                        certificate_url,
                    });
                }
                OrderStatus::Invalid => {
                    return Err(validation_failure(&mut self.inner, &directory).await);
                }
            }
        }
    }
}

impl ChallengeSolver for Solvers {
    async fn present(&self, answer: &ChallengeAnswer) -> Result<(), AcmeError> {
        match answer.kind {
            ChallengeKind::Http01 => {
                self.http01.insert(&answer.token, &answer.key_authorization);
                Ok(())
            }
            ChallengeKind::TlsAlpn01 => self.tls_alpn01.insert(&answer.identifier, &answer.digest),
            ChallengeKind::Dns01 => Err(AcmeError::BadInput(
                "dns-01 answers are published through a DNS account, not by this process's responders"
                    .into(),
            )),
        }
    }

    async fn cleanup(&self, answer: &ChallengeAnswer) -> Result<(), AcmeError> {
        match answer.kind {
            ChallengeKind::Http01 => self.http01.remove(&answer.token),
            ChallengeKind::TlsAlpn01 => self.tls_alpn01.remove(&answer.identifier),
            ChallengeKind::Dns01 => {}
        }
        Ok(())
    }
}

fn identifier(hostname: &Hostname) -> Identifier {
    match hostname {
        Hostname::Dns(name) => Identifier::Dns(name.clone()),
        Hostname::Ip(ip) => Identifier::Ip(*ip),
    }
}

fn challenge_type(kind: ChallengeKind) -> ChallengeType {
    match kind {
        ChallengeKind::Http01 => ChallengeType::Http01,
        ChallengeKind::TlsAlpn01 => ChallengeType::TlsAlpn01,
        ChallengeKind::Dns01 => ChallengeType::Dns01,
    }
}

/// How one pass of the challenge phase ended.
enum Phase {
    /// A request failed for a bad nonce: refresh the order and start again.
    Restart,
    /// Every answer is published and readied; the CA's validation ended so.
    Polled(Result<OrderStatus, instant_acme::Error>),
}

/// Publish every answer, tell the CA, and wait for its validation.
async fn challenge_phase<S: ChallengeSolver>(
    order: &mut instant_acme::Order,
    challenge: ChallengeKind,
    solver: &S,
    presented: &mut Vec<ChallengeAnswer>,
    readied: &mut HashSet<String>,
    retries: &RetryPolicy,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Phase, AcmeError> {
    if !present(order, challenge, solver, presented, readied, progress).await? {
        return Ok(Phase::Restart);
    }
    failpoint("challenges-ready").await;
    Ok(Phase::Polled(order.poll_ready(retries).await))
}

/// Publish the answer for every pending authorization and tell the CA about
/// the challenges not yet under validation. Returns `false` when a request
/// failed for a bad nonce and the walk must start again (answers already
/// presented stay; challenges already readied are remembered in `readied`).
async fn present<S: ChallengeSolver>(
    order: &mut instant_acme::Order,
    challenge: ChallengeKind,
    solver: &S,
    presented: &mut Vec<ChallengeAnswer>,
    readied: &mut HashSet<String>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<bool, AcmeError> {
    let wanted = challenge_type(challenge);
    let mut authorizations = order.authorizations();
    while let Some(authorization) = authorizations.next().await {
        let mut authorization = match authorization {
            Ok(authorization) => authorization,
            Err(instant_acme::Error::Api(problem)) if is_bad_nonce(&problem) => return Ok(false),
            Err(other) => return Err(AcmeError::from_client("the CA", other)),
        };
        let name = authorization.identifier().to_string();
        match authorization.status {
            AuthorizationStatus::Valid => continue,
            AuthorizationStatus::Pending => {}
            other => {
                return Err(AcmeError::Validation {
                    identifier: name,
                    problem: format!("authorization is {other:?}"),
                    document: None,
                });
            }
        }
        let mut handle = authorization.challenge(wanted.clone()).ok_or_else(|| {
            AcmeError::ChallengeUnavailable {
                identifier: name.clone(),
                challenge: challenge.to_string(),
            }
        })?;
        let key_authorization = handle.key_authorization();
        // Publish in every case: a resumed order may be under validation
        // right now, and this process's responder starts empty.
        let answer = ChallengeAnswer {
            kind: challenge,
            identifier: match &authorization_identifier(&name) {
                Some(bare) => bare.clone(),
                None => name.clone(),
            },
            token: handle.token.clone(),
            key_authorization: key_authorization.as_str().to_owned(),
            digest: key_authorization.digest().as_ref().to_vec(),
            dns_value: key_authorization.dns_value(),
        };
        // Remembered before it is published: a publication that fails half-way
        // (record created, propagation timed out) is withdrawn too.
        if !presented.contains(&answer) {
            presented.push(answer.clone());
        }
        solver.present(&answer).await?;
        if handle.status != ChallengeStatus::Pending || readied.contains(&handle.url) {
            progress(&format!("{name}: {challenge} challenge under validation"));
            continue;
        }
        match handle.set_ready().await {
            Ok(()) => {}
            Err(instant_acme::Error::Api(problem)) if is_bad_nonce(&problem) => return Ok(false),
            // A fast CA may validate at once and answer with the challenge's error.
            Err(instant_acme::Error::Api(problem)) => {
                return Err(AcmeError::Validation {
                    identifier: name,
                    problem: problem_text(&problem),
                    document: Some(Box::new(problem)),
                });
            }
            Err(other) => return Err(AcmeError::from_client("the CA", other)),
        }
        readied.insert(handle.url.clone());
        progress(&format!("{name}: {challenge} challenge ready"));
    }
    Ok(true)
}

/// The identifier without a wildcard label (`*.example.com` is validated as
/// `example.com`, RFC 8555 §7.1.3).
fn authorization_identifier(name: &str) -> Option<String> {
    name.strip_prefix("*.").map(str::to_owned)
}

pub(crate) fn parse_chain(pem: &str) -> Result<Vec<Vec<u8>>, AcmeError> {
    let certs: Vec<Vec<u8>> = pem::parse_many(pem.as_bytes())
        .map_err(|e| AcmeError::BadCertificate(e.to_string()))?
        .into_iter()
        .filter(|block| block.tag() == "CERTIFICATE")
        .map(|block| block.into_contents())
        .collect();
    if certs.is_empty() {
        return Err(AcmeError::BadCertificate(
            "no certificate in the chain".into(),
        ));
    }
    Ok(certs)
}

/// Find which authorization failed and with what problem document.
async fn validation_failure(order: &mut instant_acme::Order, directory: &str) -> AcmeError {
    let mut authorizations = order.authorizations();
    while let Some(authorization) = authorizations.next().await {
        let Ok(mut authorization) = authorization else {
            continue;
        };
        if let Ok(state) = authorization.refresh().await
            && state.status == AuthorizationStatus::Invalid
        {
            let document = state.challenges.iter().find_map(|c| c.error.clone());
            return AcmeError::Validation {
                identifier: state.identifier().to_string(),
                problem: document
                    .as_ref()
                    .map(problem_text)
                    .unwrap_or_else(|| "the CA gave no reason".into()),
                document: document.map(Box::new),
            };
        }
    }
    AcmeError::Problem(format!("the order became invalid (CA at {directory})"))
}
