//! Account requests certmgr signs itself, with keys it generated and sealed
//! into the store *before* the CA sees them: registration (with External
//! Account Binding), finding an account by its key (`onlyReturnExisting`,
//! RFC 8555 §7.3.1) and key rollover to a given key (RFC 8555 §7.3.5).
//! instant-acme only offers these with keys it makes up on the spot, which a
//! crash would lose after the CA took them.
//!
//! Stored credentials are instant-acme's JSON (`id`, `key_pkcs8`,
//! `directory`), plus, during a rollover, `pending_key_pkcs8` and
//! `pending_since`: the new key, kept until the CA is known to use it.

use std::time::Duration;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use crate::AcmeError;
use crate::alternate::{HttpsClient, header, https_client, send};

/// Longest wait for one answer from the CA.
const REQUEST_TIMEOUT: Duration = crate::http::REQUEST_TIMEOUT;
/// The problem type of a key the CA knows no account for.
const ACCOUNT_DOES_NOT_EXIST: &str = "urn:ietf:params:acme:error:accountDoesNotExist";

/// An ES256 account key (the key type instant-acme uses).
pub(crate) struct AccountKey {
    pair: EcdsaKeyPair,
    pkcs8: Zeroizing<Vec<u8>>,
}

impl AccountKey {
    /// A fresh P-256 key.
    pub(crate) fn generate() -> Result<AccountKey, AcmeError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| AcmeError::BadInput("cannot generate an account key".into()))?;
        AccountKey::from_pkcs8(document.as_ref())
    }

    /// A key from its PKCS#8 DER.
    pub(crate) fn from_pkcs8(der: &[u8]) -> Result<AccountKey, AcmeError> {
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).map_err(|_| {
                AcmeError::BadInput("the stored account key is not an ECDSA P-256 key".into())
            })?;
        Ok(AccountKey {
            pair,
            pkcs8: Zeroizing::new(der.to_vec()),
        })
    }

    /// A key from the base64url PKCS#8 of stored credentials.
    pub(crate) fn from_b64(text: &str) -> Result<AccountKey, AcmeError> {
        let der = Zeroizing::new(
            B64.decode(text.as_bytes())
                .map_err(|e| AcmeError::BadInput(format!("stored account key: {e}")))?,
        );
        AccountKey::from_pkcs8(&der)
    }

    /// The PKCS#8 DER, base64url, as stored credentials hold it.
    pub(crate) fn to_b64(&self) -> Zeroizing<String> {
        Zeroizing::new(B64.encode(self.pkcs8.as_slice()))
    }

    /// The public key as a JWK (RFC 7518 §6.2).
    fn jwk(&self) -> Value {
        // An uncompressed P-256 point: 0x04 || x (32 bytes) || y (32 bytes).
        let coordinates = self.pair.public_key().as_ref().get(1..).unwrap_or_default();
        let (x, y) = coordinates.split_at(coordinates.len() / 2);
        json!({ "crv": "P-256", "kty": "EC", "x": B64.encode(x), "y": B64.encode(y) })
    }

    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, AcmeError> {
        self.pair
            .sign(&aws_lc_rs::rand::SystemRandom::new(), input)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| AcmeError::BadInput("signing with the account key failed".into()))
    }
}

/// A flattened JWS (RFC 7515 §7.2.2) of `payload` (`None`: POST-as-GET).
fn jws(
    protected: &Value,
    payload: Option<&Value>,
    sign: impl Fn(&[u8]) -> Result<Vec<u8>, AcmeError>,
) -> Result<Value, AcmeError> {
    let protected = B64.encode(protected.to_string());
    let payload = payload
        .map(|p| B64.encode(p.to_string()))
        .unwrap_or_default();
    let signature = sign(format!("{protected}.{payload}").as_bytes())?;
    Ok(json!({ "protected": protected, "payload": payload, "signature": B64.encode(signature) }))
}

/// How a request is signed: with the key itself (`jwk`, for requests about
/// the key) or as the account (`kid`).
enum Signer<'a> {
    Jwk(&'a AccountKey),
    Kid(&'a AccountKey, &'a str),
}

/// One conversation with a CA: its directory and the next nonce.
pub(crate) struct Session {
    client: HttpsClient,
    directory_url: String,
    new_nonce: String,
    new_account: String,
    key_change: Option<String>,
    /// The certificate profiles the directory offers (draft-ietf-acme-profiles).
    pub(crate) profiles: Vec<String>,
    nonce: Option<String>,
}

/// An answer: HTTP status, `Location`, body.
struct Answer {
    status: u16,
    location: Option<String>,
    body: Value,
}

impl Answer {
    fn problem_type(&self) -> Option<&str> {
        self.body.get("type").and_then(Value::as_str)
    }

    /// The CA's refusal: its problem document kept whole when the body is
    /// one, else what was being done and the HTTP status.
    fn problem(&self, what: &str) -> AcmeError {
        match serde_json::from_value::<crate::Problem>(self.body.clone()) {
            Ok(mut problem) if problem.r#type.is_some() || problem.detail.is_some() => {
                problem.status.get_or_insert(self.status);
                AcmeError::Refused(Box::new(problem))
            }
            _ => AcmeError::Problem(format!(
                "{what}: no problem document (HTTP {})",
                self.status
            )),
        }
    }
}

impl Session {
    /// Read the CA's directory.
    pub(crate) async fn open(
        directory_url: &str,
        ca_bundle_pem: Option<&str>,
    ) -> Result<Session, AcmeError> {
        let bad = |reason: String| AcmeError::Connection {
            directory: directory_url.to_owned(),
            reason,
        };
        let client = https_client(ca_bundle_pem).map_err(bad)?;
        let (status, _, body) = timed(send(&client, hyper::Method::GET, directory_url, None))
            .await
            .map_err(bad)?;
        if status != 200 {
            return Err(bad(format!("the directory answered HTTP {status}")));
        }
        let directory: Value = serde_json::from_slice(&body)
            .map_err(|e| bad(format!("the directory is not JSON: {e}")))?;
        let url = |name: &str| {
            directory
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Ok(Session {
            client,
            directory_url: directory_url.to_owned(),
            new_nonce: url("newNonce")
                .ok_or_else(|| bad("the directory has no newNonce".into()))?,
            new_account: url("newAccount")
                .ok_or_else(|| bad("the directory has no newAccount".into()))?,
            key_change: url("keyChange"),
            profiles: directory
                .pointer("/meta/profiles")
                .and_then(Value::as_object)
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default(),
            nonce: None,
        })
    }

    async fn nonce(&mut self) -> Result<String, AcmeError> {
        if let Some(nonce) = self.nonce.take() {
            return Ok(nonce);
        }
        let (_, headers, _) = timed(send(
            &self.client,
            hyper::Method::HEAD,
            &self.new_nonce,
            None,
        ))
        .await
        .map_err(|reason| self.unreachable(reason))?;
        header(&headers, "replay-nonce")
            .ok_or_else(|| AcmeError::Problem("the CA gave no nonce".into()))
    }

    fn unreachable(&self, reason: String) -> AcmeError {
        AcmeError::Connection {
            directory: self.directory_url.clone(),
            reason,
        }
    }

    /// POST a signed `payload` to `url`, again while the CA refuses the nonce.
    async fn post(
        &mut self,
        url: &str,
        signer: Signer<'_>,
        payload: Option<&Value>,
    ) -> Result<Answer, AcmeError> {
        for _ in 0..crate::nonce::NONCE_RETRIES {
            let nonce = self.nonce().await?;
            let (key, mut protected) = match &signer {
                Signer::Jwk(key) => (*key, json!({ "alg": "ES256", "jwk": key.jwk() })),
                Signer::Kid(key, kid) => (*key, json!({ "alg": "ES256", "kid": kid })),
            };
            protected["nonce"] = json!(nonce);
            protected["url"] = json!(url);
            let body = jws(&protected, payload, |input| key.sign(input))?.to_string();
            let (status, headers, response) =
                timed(send(&self.client, hyper::Method::POST, url, Some(body)))
                    .await
                    .map_err(|reason| self.unreachable(reason))?;
            self.nonce = header(&headers, "replay-nonce");
            let answer = Answer {
                status,
                location: header(&headers, "location"),
                body: serde_json::from_slice(&response).unwrap_or(Value::Null),
            };
            if answer.problem_type() == Some("urn:ietf:params:acme:error:badNonce") {
                continue;
            }
            return Ok(answer);
        }
        Err(AcmeError::Problem("the CA kept rejecting nonces".into()))
    }

    /// The URL of the account `key` belongs to, `None` when the CA knows no
    /// account with this key (`onlyReturnExisting`, RFC 8555 §7.3.1).
    pub(crate) async fn find_account(
        &mut self,
        key: &AccountKey,
    ) -> Result<Option<String>, AcmeError> {
        let url = self.new_account.clone();
        let answer = self
            .post(
                &url,
                Signer::Jwk(key),
                Some(&json!({ "onlyReturnExisting": true })),
            )
            .await?;
        if answer.problem_type() == Some(ACCOUNT_DOES_NOT_EXIST) {
            return Ok(None);
        }
        if !(200..300).contains(&answer.status) {
            return Err(answer.problem("looking the account up by its key"));
        }
        answer
            .location
            .map(Some)
            .ok_or_else(|| self.unreachable("the CA gave no account URL (Location header)".into()))
    }

    /// Register an account for `key` (RFC 8555 §7.3), bound to an external
    /// account when `eab` (key id, raw HMAC key) is given; returns its URL.
    pub(crate) async fn new_account(
        &mut self,
        key: &AccountKey,
        contacts: &[String],
        eab: Option<(&str, &[u8])>,
    ) -> Result<String, AcmeError> {
        let url = self.new_account.clone();
        let mut payload = json!({ "termsOfServiceAgreed": true, "contact": contacts });
        if let Some((kid, hmac_key)) = eab {
            // RFC 8555 §7.3.4: the account key, MACed with the CA's key.
            let protected = json!({ "alg": "HS256", "kid": kid, "url": url });
            let mac_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, hmac_key);
            payload["externalAccountBinding"] = jws(&protected, Some(&key.jwk()), |input| {
                Ok(aws_lc_rs::hmac::sign(&mac_key, input).as_ref().to_vec())
            })?;
        }
        let answer = self.post(&url, Signer::Jwk(key), Some(&payload)).await?;
        if !(200..300).contains(&answer.status) {
            return Err(answer.problem("registering the account"));
        }
        answer
            .location
            .ok_or_else(|| self.unreachable("the CA gave no account URL (Location header)".into()))
    }

    /// The HTTP status of a POST-as-GET of `url` signed as the account
    /// `account_url`, for answers instant-acme cannot read (a bare 404).
    pub(crate) async fn status_of(
        &mut self,
        url: &str,
        key: &AccountKey,
        account_url: &str,
    ) -> Result<u16, AcmeError> {
        Ok(self
            .post(url, Signer::Kid(key, account_url), None)
            .await?
            .status)
    }

    /// Switch the account at `account_url` from `old` to `new` (RFC 8555 §7.3.5).
    pub(crate) async fn key_change(
        &mut self,
        account_url: &str,
        old: &AccountKey,
        new: &AccountKey,
    ) -> Result<(), AcmeError> {
        let url = self.key_change.clone().ok_or_else(|| {
            AcmeError::Problem("this CA does not support account key rollover".into())
        })?;
        let inner = jws(
            &json!({ "alg": "ES256", "jwk": new.jwk(), "url": url }),
            Some(&json!({ "account": account_url, "oldKey": old.jwk() })),
            |input| new.sign(input),
        )?;
        let answer = self
            .post(&url, Signer::Kid(old, account_url), Some(&inner))
            .await?;
        if !(200..300).contains(&answer.status) {
            return Err(answer.problem("replacing the account key"));
        }
        Ok(())
    }
}

async fn timed<T>(
    request: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::time::timeout(REQUEST_TIMEOUT, request)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "no answer within {REQUEST_TIMEOUT:?}; try again later"
            ))
        })
}

/// Stored credentials as a JSON object (unknown fields kept). The text
/// values (keys among them) are wiped from memory on drop.
#[derive(Default)]
pub(crate) struct Credentials(Map<String, Value>);

impl std::ops::Deref for Credentials {
    type Target = Map<String, Value>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Credentials {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Credentials {
    /// Set `name` to `value`, wiping the value it replaces.
    pub(crate) fn set(&mut self, name: &str, value: Value) {
        wipe(self.0.insert(name.to_owned(), value));
    }

    /// Remove `name`, wiping its value.
    pub(crate) fn unset(&mut self, name: &str) {
        wipe(self.0.remove(name));
    }
}

fn wipe(value: Option<Value>) {
    use zeroize::Zeroize;
    if let Some(Value::String(mut text)) = value {
        text.zeroize();
    }
}

impl Drop for Credentials {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for value in self.0.values_mut() {
            if let Value::String(text) = value {
                text.zeroize();
            }
        }
    }
}

/// Stored credentials, parsed.
pub(crate) fn parse_credentials(json: &[u8]) -> Result<Credentials, AcmeError> {
    match serde_json::from_slice(json) {
        Ok(Value::Object(map)) => Ok(Credentials(map)),
        _ => Err(AcmeError::BadInput(
            "the stored account credentials do not parse".into(),
        )),
    }
}

/// A text field of stored credentials.
pub(crate) fn field<'a>(credentials: &'a Credentials, name: &str) -> Option<&'a str> {
    credentials.get(name).and_then(Value::as_str)
}

/// Stored credentials back to JSON.
pub(crate) fn credentials_bytes(
    credentials: &Credentials,
) -> Result<Zeroizing<Vec<u8>>, AcmeError> {
    serde_json::to_vec(&credentials.0)
        .map(Zeroizing::new)
        .map_err(|e| AcmeError::BadInput(format!("cannot encode account credentials: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_jws_verifies_with_the_key_of_its_jwk() {
        let key = AccountKey::generate().unwrap();
        let jwk = key.jwk();
        let x = B64.decode(jwk["x"].as_str().unwrap()).unwrap();
        let y = B64.decode(jwk["y"].as_str().unwrap()).unwrap();
        assert_eq!((x.len(), y.len()), (32, 32));
        let signed = jws(&json!({"alg": "ES256"}), Some(&json!({"a": 1})), |i| {
            key.sign(i)
        })
        .unwrap();
        let input = format!(
            "{}.{}",
            signed["protected"].as_str().unwrap(),
            signed["payload"].as_str().unwrap()
        );
        let signature = B64.decode(signed["signature"].as_str().unwrap()).unwrap();
        let point = [&[4u8][..], &x, &y].concat();
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
            point,
        )
        .verify(input.as_bytes(), &signature)
        .unwrap();
        // The key survives a trip through stored credentials.
        let again = AccountKey::from_b64(&key.to_b64()).unwrap();
        assert_eq!(again.jwk(), jwk);
    }

    #[test]
    fn a_pending_key_is_kept_until_promoted_and_credentials_stay_readable() {
        let fresh = crate::account::new_account_credentials("https://ca.test/dir").unwrap();
        let pending = crate::account::with_pending_key(&fresh, 100).unwrap();
        let first = parse_credentials(&pending).unwrap();
        let again = crate::account::with_pending_key(&pending, 200).unwrap();
        let second = parse_credentials(&again).unwrap();
        assert_eq!(
            field(&first, "pending_key_pkcs8"),
            field(&second, "pending_key_pkcs8"),
            "an interrupted rollover's key is reused"
        );
        assert_ne!(
            field(&first, "pending_key_pkcs8"),
            field(&first, "key_pkcs8")
        );
        // instant-acme still reads them (unknown fields are ignored).
        let _: instant_acme::AccountCredentials = serde_json::from_slice(&again).unwrap();
    }
}
