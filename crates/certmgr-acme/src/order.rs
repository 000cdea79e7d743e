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

/// Where challenge answers are published for the responders.
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
            Err(other) => Err(AcmeError::from_client(&account.directory_url, other)),
        }
    }

    /// The order URL (persist it before the next step).
    pub fn url(&self) -> &str {
        self.inner.url()
    }

    /// Drive the order to a certificate from whatever state it is in:
    /// answer pending authorizations, finalize with `csr_der`, download.
    pub async fn complete(
        &mut self,
        account: &AcmeAccount,
        csr_der: &[u8],
        challenge: ChallengeKind,
        solvers: &Solvers,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<IssuedChain, AcmeError> {
        let directory = account.directory_url.clone();
        let client_error = |e| AcmeError::from_client(&directory, e);
        if challenge == ChallengeKind::Dns01 {
            return Err(AcmeError::BadInput(
                "dns-01 needs a DNS provider, which this version does not have yet: use http-01 or tls-alpn-01"
                    .into(),
            ));
        }
        let retries = RetryPolicy::new()
            .initial_delay(Duration::from_millis(100))
            .backoff(1.5)
            .timeout(ORDER_TIMEOUT);
        let url = self.inner.url().to_owned();
        let mut published = Published {
            solvers,
            http_tokens: Vec::new(),
            alpn_names: Vec::new(),
        };
        let mut readied: HashSet<String> = HashSet::new();
        loop {
            match self.inner.state().status {
                OrderStatus::Pending => {
                    if !present(
                        &mut self.inner,
                        challenge,
                        &mut published,
                        &mut readied,
                        progress,
                    )
                    .await?
                    {
                        // A request failed for a bad nonce mid-way: look again.
                        retry_bad_nonce!(self.inner.refresh().await.map(|_| ()))
                            .map_err(client_error)?;
                        continue;
                    }
                    failpoint("challenges-ready");
                    match self.inner.poll_ready(&retries).await {
                        Ok(OrderStatus::Invalid) => {
                            return Err(validation_failure(&mut self.inner, &directory).await);
                        }
                        Ok(_) => {}
                        Err(instant_acme::Error::Api(problem)) if is_bad_nonce(&problem) => {}
                        Err(instant_acme::Error::Api(_)) => {
                            return Err(validation_failure(&mut self.inner, &directory).await);
                        }
                        Err(instant_acme::Error::Timeout(_)) => {
                            return Err(AcmeError::Timeout {
                                url,
                                status: "pending".into(),
                            });
                        }
                        Err(other) => return Err(client_error(other)),
                    }
                }
                OrderStatus::Ready => {
                    progress("all authorizations valid");
                    failpoint("authorized");
                    retry_bad_nonce!(self.inner.finalize_csr(csr_der).await)
                        .map_err(client_error)?;
                    progress("order finalized");
                    failpoint("finalized");
                }
                OrderStatus::Processing | OrderStatus::Valid => {
                    let pem = retry_bad_nonce!(self.inner.poll_certificate(&retries).await)
                        .map_err(|e| match e {
                            instant_acme::Error::Timeout(_) => AcmeError::Timeout {
                                url: url.clone(),
                                status: "processing".into(),
                            },
                            other => client_error(other),
                        })?;
                    let certs_der = parse_chain(&pem)?;
                    progress(&format!(
                        "certificate downloaded ({} certificates in the chain)",
                        certs_der.len()
                    ));
                    return Ok(IssuedChain { certs_der });
                }
                OrderStatus::Invalid => {
                    return Err(validation_failure(&mut self.inner, &directory).await);
                }
            }
        }
    }
}

/// Published challenge answers, withdrawn when dropped (also on error paths).
struct Published<'a> {
    solvers: &'a Solvers,
    http_tokens: Vec<String>,
    alpn_names: Vec<String>,
}

impl Drop for Published<'_> {
    fn drop(&mut self) {
        for token in &self.http_tokens {
            self.solvers.http01.remove(token);
        }
        for name in &self.alpn_names {
            self.solvers.tls_alpn01.remove(name);
        }
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

/// Publish the answer for every pending authorization and tell the CA about
/// the challenges not yet under validation. Returns `false` when a request
/// failed for a bad nonce and the walk must start again (answers already
/// published stay; challenges already readied are remembered in `readied`).
async fn present(
    order: &mut instant_acme::Order,
    challenge: ChallengeKind,
    published: &mut Published<'_>,
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
        match challenge {
            ChallengeKind::Http01 => {
                published
                    .solvers
                    .http01
                    .insert(&handle.token, key_authorization.as_str());
                published.http_tokens.push(handle.token.clone());
            }
            ChallengeKind::TlsAlpn01 => {
                published
                    .solvers
                    .tls_alpn01
                    .insert(&name, key_authorization.digest().as_ref())?;
                published.alpn_names.push(name.clone());
            }
            ChallengeKind::Dns01 => {}
        }
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
                });
            }
            Err(other) => return Err(AcmeError::from_client("the CA", other)),
        }
        readied.insert(handle.url.clone());
        progress(&format!("{name}: {challenge} challenge ready"));
    }
    Ok(true)
}

fn parse_chain(pem: &str) -> Result<Vec<Vec<u8>>, AcmeError> {
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
            let problem = state
                .challenges
                .iter()
                .find_map(|c| c.error.as_ref())
                .map(problem_text)
                .unwrap_or_else(|| "the CA gave no reason".into());
            return AcmeError::Validation {
                identifier: state.identifier().to_string(),
                problem,
            };
        }
    }
    AcmeError::Problem(format!("the order became invalid (CA at {directory})"))
}
