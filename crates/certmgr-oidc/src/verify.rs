//! ID token verification: openidconnect's verifier, limited to asymmetric
//! signature algorithms, plus the access token hash check.

use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AccessToken, AccessTokenHash, ClaimsVerificationError, ClientId, IdToken, IdTokenClaims,
    IdTokenVerifier, IssuerUrl, JsonWebKeySet, Nonce, SignatureVerificationError,
};

use crate::claims::OtherClaims;

/// An ID token carrying certmgr's extra claims.
pub(crate) type CertmgrIdToken = IdToken<
    OtherClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// The verified claims of a [`CertmgrIdToken`].
pub(crate) type CertmgrIdTokenClaims = IdTokenClaims<OtherClaims, CoreGenderClaim>;

/// The signature algorithms accepted for ID tokens: the provider's public keys
/// only. HMAC (HS256...) is left out on purpose: it would make the client
/// secret a signing key, so anyone who holds it could mint ID tokens; "none"
/// is never accepted.
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// Why an ID token was refused.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// No key of the key set matches the token's: the provider may have
    /// rotated its keys since discovery, so fetching them again may help.
    UnknownKey,
    /// Anything else: the token is not trusted.
    Invalid(String),
}

/// Verifies `id_token` against the provider's key set: signature (asymmetric
/// algorithms only), `iss` equal to `issuer`, `aud` holding `client_id` (and
/// no untrusted other audience), `exp` in the future, `nonce` equal to the
/// login's, and, when the token carries `at_hash`, that it matches
/// `access_token`.
pub(crate) fn verify_id_token(
    id_token: &CertmgrIdToken,
    client_id: &ClientId,
    issuer: &IssuerUrl,
    jwks: &JsonWebKeySet<CoreJsonWebKey>,
    nonce: &Nonce,
    access_token: Option<&AccessToken>,
) -> Result<CertmgrIdTokenClaims, Refusal> {
    let verifier =
        IdTokenVerifier::new_public_client(client_id.clone(), issuer.clone(), jwks.clone())
            .set_allowed_algs(ALLOWED_ALGS);
    let claims = match id_token.claims(&verifier, nonce) {
        Ok(claims) => claims.clone(),
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => {
            return Err(Refusal::UnknownKey);
        }
        Err(e) => return Err(Refusal::Invalid(describe(&e))),
    };
    if let (Some(expected), Some(access_token)) = (claims.access_token_hash(), access_token) {
        let alg = id_token
            .signing_alg()
            .map_err(|e| Refusal::Invalid(describe(&e)))?;
        let key = id_token
            .signing_key(&verifier)
            .map_err(|e| Refusal::Invalid(describe(&e)))?;
        let actual = AccessTokenHash::from_token(access_token, alg, key)
            .map_err(|e| Refusal::Invalid(describe(&e)))?;
        if actual != *expected {
            return Err(Refusal::Invalid(
                "its at_hash does not match the access token it came with".to_owned(),
            ));
        }
    }
    Ok(claims)
}

/// An error and its sources on one line: openidconnect's top-level messages
/// ("Signature verification failed") leave the cause to the source chain.
pub(crate) fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
