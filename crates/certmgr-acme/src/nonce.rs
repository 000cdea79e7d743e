//! Retrying requests the CA refused for a bad nonce.
//!
//! CAs may reject any nonce (RFC 8555 §6.5); instant-acme tries a POST three
//! times, which a CA rejecting 30 % of nonces defeats once in ~40 requests.
//! Every call certmgr makes goes through [`retry_bad_nonce!`] on top.

/// How often a request refused for a bad nonce is tried again, on top of the
/// client's own three tries (CAs may reject nonces at will, RFC 8555 §6.5).
pub(crate) const NONCE_RETRIES: u32 = 20;

/// Retry an instant-acme call while the CA answers `badNonce`.
macro_rules! retry_bad_nonce {
    ($call:expr) => {{
        let mut attempts = 0u32;
        loop {
            match $call {
                Err(instant_acme::Error::Api(problem))
                    if $crate::nonce::is_bad_nonce(&problem)
                        && attempts < $crate::nonce::NONCE_RETRIES =>
                {
                    attempts += 1;
                }
                other => break other,
            }
        }
    }};
}

pub(crate) fn is_bad_nonce(problem: &instant_acme::Problem) -> bool {
    problem.r#type.as_deref() == Some("urn:ietf:params:acme:error:badNonce")
}

pub(crate) use retry_bad_nonce;
