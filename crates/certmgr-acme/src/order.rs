//! One ACME order (RFC 8555 §7.4), from newOrder to the certificate chain.

use std::time::Duration;

use certmgr_core::{ChallengeKind, Hostname};
use instant_acme::{
    AuthorizationStatus, ChallengeType, Identifier, NewOrder, OrderStatus, RetryPolicy,
};

use crate::error::problem_text;
use crate::{AcmeAccount, AcmeError, Http01Tokens, TlsAlpnCertificates};

/// How long to wait for validation and for the certificate.
const ORDER_TIMEOUT: Duration = Duration::from_secs(90);

/// What to order.
#[derive(Debug, Clone)]
pub struct OrderRequest<'a> {
    /// The identifiers (all become SANs).
    pub hostnames: &'a [Hostname],
    /// The CSR (DER) made from the credential's key.
    pub csr_der: &'a [u8],
    /// How to prove control of the identifiers.
    pub challenge: ChallengeKind,
    /// A certificate profile (draft-ietf-acme-profiles), if the credential asks for one.
    pub profile: Option<&'a str>,
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
    /// The order URL, for the event log.
    pub order_url: String,
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

/// Run one order to completion. `progress` receives one line per step.
pub async fn order_certificate(
    account: &AcmeAccount,
    request: &OrderRequest<'_>,
    solvers: &Solvers,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<IssuedChain, AcmeError> {
    let directory = account.directory_url.as_str();
    let client_error = |e| AcmeError::from_client(directory, e);
    if request.challenge == ChallengeKind::Dns01 {
        return Err(AcmeError::BadInput(
            "dns-01 needs a DNS provider, which this version does not have yet: use http-01 or tls-alpn-01".into(),
        ));
    }
    let identifiers: Vec<Identifier> = request.hostnames.iter().map(identifier).collect();
    let mut new_order = NewOrder::new(&identifiers);
    if let Some(profile) = request.profile {
        new_order = new_order.profile(profile);
    }
    let mut order = account
        .inner
        .new_order(&new_order)
        .await
        .map_err(client_error)?;
    let order_url = order.url().to_owned();
    progress(&format!("order created: {order_url}"));

    let mut published = Published {
        solvers,
        http_tokens: Vec::new(),
        alpn_names: Vec::new(),
    };
    let wanted = challenge_type(request.challenge);
    let mut authorizations = order.authorizations();
    while let Some(authorization) = authorizations.next().await {
        let mut authorization = authorization.map_err(client_error)?;
        let name = authorization.identifier().to_string();
        match authorization.status {
            AuthorizationStatus::Valid => {
                progress(&format!("{name}: already authorized"));
                continue;
            }
            AuthorizationStatus::Pending => {}
            other => {
                return Err(AcmeError::Validation {
                    identifier: name,
                    problem: format!("authorization is {other:?}"),
                });
            }
        }
        let mut challenge = authorization.challenge(wanted.clone()).ok_or_else(|| {
            AcmeError::ChallengeUnavailable {
                identifier: name.clone(),
                challenge: request.challenge.to_string(),
            }
        })?;
        let key_authorization = challenge.key_authorization();
        match request.challenge {
            ChallengeKind::Http01 => {
                solvers
                    .http01
                    .insert(&challenge.token, key_authorization.as_str());
                published.http_tokens.push(challenge.token.clone());
            }
            ChallengeKind::TlsAlpn01 => {
                solvers
                    .tls_alpn01
                    .insert(&name, key_authorization.digest().as_ref())?;
                published.alpn_names.push(name.clone());
            }
            ChallengeKind::Dns01 => {}
        }
        // A fast CA may validate at once and answer with the challenge's error.
        challenge.set_ready().await.map_err(|e| match e {
            instant_acme::Error::Api(problem) => AcmeError::Validation {
                identifier: name.clone(),
                problem: problem_text(&problem),
            },
            other => client_error(other),
        })?;
        progress(&format!("{name}: {} challenge ready", request.challenge));
    }

    let retries = RetryPolicy::new()
        .initial_delay(Duration::from_millis(100))
        .backoff(1.5)
        .timeout(ORDER_TIMEOUT);
    let status = match order.poll_ready(&retries).await {
        Ok(status) => status,
        Err(instant_acme::Error::Timeout(_)) => {
            return Err(AcmeError::Timeout {
                url: order_url.clone(),
                status: "pending".into(),
            });
        }
        // The order's own problem document; the failed authorization says more.
        Err(instant_acme::Error::Api(_)) => OrderStatus::Invalid,
        Err(other) => return Err(client_error(other)),
    };
    match status {
        OrderStatus::Ready => progress("all authorizations valid"),
        OrderStatus::Invalid => return Err(validation_failure(&mut order, directory).await),
        other => {
            return Err(AcmeError::Timeout {
                url: order_url,
                status: format!("{other:?}"),
            });
        }
    }
    drop(published);

    order
        .finalize_csr(request.csr_der)
        .await
        .map_err(client_error)?;
    progress("order finalized");
    let pem = order
        .poll_certificate(&retries)
        .await
        .map_err(|e| match e {
            instant_acme::Error::Timeout(_) => AcmeError::Timeout {
                url: order_url.clone(),
                status: "processing".into(),
            },
            other => client_error(other),
        })?;
    let certs_der: Vec<Vec<u8>> = pem::parse_many(pem.as_bytes())
        .map_err(|e| AcmeError::BadCertificate(e.to_string()))?
        .into_iter()
        .filter(|block| block.tag() == "CERTIFICATE")
        .map(|block| block.into_contents())
        .collect();
    if certs_der.is_empty() {
        return Err(AcmeError::BadCertificate(
            "no certificate in the chain".into(),
        ));
    }
    progress(&format!(
        "certificate downloaded ({} certificates in the chain)",
        certs_der.len()
    ));
    Ok(IssuedChain {
        certs_der,
        order_url,
    })
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
