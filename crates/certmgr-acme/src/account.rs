//! ACME accounts (RFC 8555 §7.3): creation with optional External Account
//! Binding, restore from stored credentials, key rollover, deactivation,
//! revocation.

use instant_acme::{
    Account, AccountBuilder, AccountCredentials, CertificateIdentifier, RevocationRequest,
};
use rustls::pki_types::CertificateDer;
use zeroize::Zeroizing;

use crate::AcmeError;
use crate::account_key::{
    AccountKey, Credentials, Session, credentials_bytes, field, parse_credentials,
};
use crate::nonce::retry_bad_nonce;

/// What is needed to register an account with a CA.
#[derive(Debug, Clone)]
pub struct AccountRequest {
    /// ACME directory URL.
    pub directory_url: String,
    /// Contact e-mail addresses (without `mailto:`).
    pub emails: Vec<String>,
    /// The user agreed to the CA's terms of service.
    pub agree_tos: bool,
    /// External Account Binding: key id and the raw HMAC key.
    pub eab: Option<(String, Zeroizing<Vec<u8>>)>,
    /// Extra trust (PEM) for the directory's TLS certificate, for private ACME CAs.
    pub ca_bundle_pem: Option<String>,
    /// A default certificate profile the CA must offer (checked before registering).
    pub profile: Option<String>,
}

/// A CA's suggested renewal window (RFC 9773 §4.2), in Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewalWindow {
    /// Renew no earlier than this.
    pub start: i64,
    /// Renew no later than this.
    pub end: i64,
    /// Ask again after this many seconds (the Retry-After header).
    pub retry_after_secs: i64,
    /// Where the CA explains the window, if it says.
    pub explanation_url: Option<String>,
}

/// A usable account at one CA. Cheap to clone.
#[derive(Clone)]
pub struct AcmeAccount {
    pub(crate) inner: Account,
    pub(crate) directory_url: String,
    /// The stored credentials, for the requests instant-acme cannot make
    /// (alternate chains).
    credentials_json: std::sync::Arc<Zeroizing<Vec<u8>>>,
    ca_bundle_pem: Option<String>,
}

impl std::fmt::Debug for AcmeAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcmeAccount")
            .field("url", &self.inner.id())
            .field("directory_url", &self.directory_url)
            .finish_non_exhaustive()
    }
}

/// Why a certificate is revoked (RFC 5280 §5.3.1): the reasons a subscriber may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationReason {
    /// No reason given.
    Unspecified,
    /// The private key was (or may have been) exposed.
    KeyCompromise,
    /// The subject's affiliation changed.
    AffiliationChanged,
    /// A new certificate replaces this one.
    Superseded,
    /// The certificate is no longer needed.
    CessationOfOperation,
    /// The subject no longer controls the names.
    PrivilegeWithdrawn,
}

impl std::str::FromStr for RevocationReason {
    type Err = AcmeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let normalised: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        Ok(match normalised.as_str() {
            "unspecified" => RevocationReason::Unspecified,
            "keycompromise" => RevocationReason::KeyCompromise,
            "affiliationchanged" => RevocationReason::AffiliationChanged,
            "superseded" => RevocationReason::Superseded,
            "cessationofoperation" => RevocationReason::CessationOfOperation,
            "privilegewithdrawn" => RevocationReason::PrivilegeWithdrawn,
            _ => {
                return Err(AcmeError::BadInput(format!(
                    "unknown revocation reason {s:?}: use unspecified, key-compromise, affiliation-changed, superseded, cessation-of-operation or privilege-withdrawn"
                )));
            }
        })
    }
}

impl RevocationReason {
    /// The RFC 5280 reason code.
    pub fn code(self) -> u8 {
        match self {
            RevocationReason::Unspecified => 0,
            RevocationReason::KeyCompromise => 1,
            RevocationReason::AffiliationChanged => 3,
            RevocationReason::Superseded => 4,
            RevocationReason::CessationOfOperation => 5,
            RevocationReason::PrivilegeWithdrawn => 9,
        }
    }

    fn to_client(self) -> instant_acme::RevocationReason {
        match self {
            RevocationReason::Unspecified => instant_acme::RevocationReason::Unspecified,
            RevocationReason::KeyCompromise => instant_acme::RevocationReason::KeyCompromise,
            RevocationReason::AffiliationChanged => {
                instant_acme::RevocationReason::AffiliationChanged
            }
            RevocationReason::Superseded => instant_acme::RevocationReason::Superseded,
            RevocationReason::CessationOfOperation => {
                instant_acme::RevocationReason::CessationOfOperation
            }
            RevocationReason::PrivilegeWithdrawn => {
                instant_acme::RevocationReason::PrivilegeWithdrawn
            }
        }
    }
}

fn builder(directory_url: &str, ca_bundle_pem: Option<&str>) -> Result<AccountBuilder, AcmeError> {
    let client = crate::http::DeadlineClient::new(ca_bundle_pem, crate::http::REQUEST_TIMEOUT)
        .map_err(|reason| match ca_bundle_pem {
            Some(_) => AcmeError::BadInput(reason),
            None => AcmeError::Connection {
                directory: directory_url.to_owned(),
                reason,
            },
        })?;
    Ok(Account::builder_with_http(Box::new(client)))
}

impl AcmeAccount {
    /// Register the account of the key in `credentials_json` (from
    /// [`new_account_credentials`], sealed into the store first) with the CA.
    /// When `resume`, first look for the account this key already has: a
    /// registration interrupted after the CA took it (and its single-use EAB
    /// key) is found again instead of registered anew.
    ///
    /// A refusal by the CA is [`AcmeError::Problem`] (nothing was created
    /// there); anything else may or may not have reached it.
    pub async fn register(
        request: &AccountRequest,
        credentials_json: &[u8],
        resume: bool,
    ) -> Result<Registered, AcmeError> {
        if !request.agree_tos {
            return Err(AcmeError::BadInput(
                "the CA's terms of service must be accepted: pass --agree-tos".into(),
            ));
        }
        let mut credentials = parse_credentials(credentials_json)?;
        let key = AccountKey::from_b64(field(&credentials, "key_pkcs8").unwrap_or_default())?;
        let mut session =
            Session::open(&request.directory_url, request.ca_bundle_pem.as_deref()).await?;
        if let Some(profile) = &request.profile
            && !session.profiles.contains(profile)
        {
            return Err(AcmeError::BadInput(if session.profiles.is_empty() {
                format!("the CA offers no certificate profiles, so {profile:?} cannot be ordered")
            } else {
                format!(
                    "the CA does not offer the profile {profile:?}; it offers: {}",
                    session.profiles.join(", ")
                )
            }));
        }
        let existing = if resume {
            session.find_account(&key).await?
        } else {
            None
        };
        let found_again = existing.is_some();
        let url = match existing {
            Some(url) => url,
            None => {
                let contacts: Vec<String> = request
                    .emails
                    .iter()
                    .map(|e| format!("mailto:{e}"))
                    .collect();
                let eab = request
                    .eab
                    .as_ref()
                    .map(|(kid, mac)| (kid.as_str(), mac.as_slice()));
                session.new_account(&key, &contacts, eab).await?
            }
        };
        // The CA has the account now: whatever fails from here must not
        // read as a refusal (the caller would forget the stored key).
        let registered_but = |e: AcmeError| AcmeError::Connection {
            directory: request.directory_url.clone(),
            reason: format!("the account {url} exists at the CA, but {e}"),
        };
        credentials.set("id", url.as_str().into());
        let json = credentials_bytes(&credentials).map_err(registered_but)?;
        let account = AcmeAccount::restore(
            &json,
            &request.directory_url,
            request.ca_bundle_pem.as_deref(),
        )
        .await
        .map_err(registered_but)?;
        Ok(Registered {
            account,
            credentials_json: json,
            found_again,
        })
    }

    /// Restore an account from its stored credentials.
    pub async fn restore(
        credentials_json: &[u8],
        directory_url: &str,
        ca_bundle_pem: Option<&str>,
    ) -> Result<AcmeAccount, AcmeError> {
        let credentials: AccountCredentials =
            serde_json::from_slice(credentials_json).map_err(|e| {
                AcmeError::BadInput(format!("stored account credentials do not parse: {e}"))
            })?;
        let inner = builder(directory_url, ca_bundle_pem)?
            .from_credentials(credentials)
            .await
            .map_err(|e| AcmeError::from_client(directory_url, e))?;
        Ok(AcmeAccount {
            inner,
            directory_url: directory_url.to_owned(),
            credentials_json: std::sync::Arc::new(Zeroizing::new(credentials_json.to_vec())),
            ca_bundle_pem: ca_bundle_pem.map(str::to_owned),
        })
    }

    /// The account URL (its key id at the CA).
    pub fn url(&self) -> &str {
        self.inner.id()
    }

    /// The certificate profiles the CA offers (draft-ietf-acme-profiles), by name.
    pub fn profiles(&self) -> Vec<String> {
        self.inner.profiles().map(|p| p.name.to_owned()).collect()
    }

    /// Refuse a profile the CA does not offer, naming the ones it does.
    pub fn check_profile(&self, profile: &str) -> Result<(), AcmeError> {
        let offered = self.profiles();
        if offered.iter().any(|p| p == profile) {
            return Ok(());
        }
        Err(AcmeError::BadInput(if offered.is_empty() {
            format!("the CA offers no certificate profiles, so {profile:?} cannot be ordered")
        } else {
            format!(
                "the CA does not offer the profile {profile:?}; it offers: {}",
                offered.join(", ")
            )
        }))
    }

    /// The CA's suggested renewal window for a certificate (RFC 9773), or
    /// `None` when the CA offers no renewal information.
    pub async fn renewal_window(
        &self,
        cert_der: &[u8],
    ) -> Result<Option<RenewalWindow>, AcmeError> {
        let certificate = CertificateDer::from(cert_der.to_vec());
        let id = CertificateIdentifier::try_from(&certificate)
            .map_err(|e| AcmeError::BadCertificate(e.to_string()))?;
        match self.inner.renewal_info(&id).await {
            Ok((info, retry_after)) => Ok(Some(RenewalWindow {
                start: info.suggested_window.start.unix_timestamp(),
                end: info.suggested_window.end.unix_timestamp(),
                retry_after_secs: i64::try_from(retry_after.as_secs()).unwrap_or(i64::MAX),
                explanation_url: info.explanation_url,
            })),
            Err(instant_acme::Error::Unsupported(_)) => Ok(None),
            Err(other) => Err(AcmeError::from_client(&self.directory_url, other)),
        }
    }

    /// The chain to keep for an issued certificate when the user prefers the
    /// chain leading to `preferred` (an issuer common name): the default chain
    /// if it already does, else the first alternate (RFC 8555 §7.4.2) that
    /// does. `None` when no chain matches (keep the default).
    pub async fn preferred_chain(
        &self,
        issued: &crate::IssuedChain,
        preferred: &str,
    ) -> Result<Option<Vec<Vec<u8>>>, AcmeError> {
        let matches = |chain: &[Vec<u8>]| {
            crate::alternate::chain_top_issuer(chain)
                .is_some_and(|cn| cn.eq_ignore_ascii_case(preferred))
        };
        if matches(&issued.certs_der) {
            return Ok(Some(issued.certs_der.clone()));
        }
        let Some(url) = &issued.certificate_url else {
            return Ok(None);
        };
        let mut fetcher = crate::alternate::Fetcher::new(
            &self.credentials_json,
            &self.directory_url,
            self.ca_bundle_pem.as_deref(),
        )
        .await?;
        let (_, alternates) = fetcher.post_as_get(url).await?;
        for alternate in alternates {
            let (pem, _) = fetcher.post_as_get(&alternate).await?;
            let chain = crate::order::parse_chain(&pem)?;
            if matches(&chain) {
                return Ok(Some(chain));
            }
        }
        Ok(None)
    }

    /// The HTTP status the CA answers a POST-as-GET of `url` with, signed by
    /// this account; `None` when it cannot be asked.
    pub(crate) async fn status_of(&self, url: &str) -> Option<u16> {
        let credentials = parse_credentials(&self.credentials_json).ok()?;
        let key = AccountKey::from_b64(field(&credentials, "key_pkcs8")?).ok()?;
        let mut session = Session::open(&self.directory_url, self.ca_bundle_pem.as_deref())
            .await
            .ok()?;
        session.status_of(url, &key, self.url()).await.ok()
    }

    /// Switch the account at the CA to the pending key of `pending_json`
    /// (from [`with_pending_key`], stored before this call) (RFC 8555
    /// §7.3.5); returns the credentials to store, with the new key in use.
    pub async fn rollover(&mut self, pending_json: &[u8]) -> Result<Zeroizing<Vec<u8>>, AcmeError> {
        let current = parse_credentials(&self.credentials_json)?;
        let old = AccountKey::from_b64(field(&current, "key_pkcs8").unwrap_or_default())?;
        let mut pending = parse_credentials(pending_json)?;
        let new = AccountKey::from_b64(field(&pending, PENDING_KEY).ok_or_else(|| {
            AcmeError::BadInput("no pending account key to roll over to".into())
        })?)?;
        let mut session = Session::open(&self.directory_url, self.ca_bundle_pem.as_deref()).await?;
        session.key_change(self.url(), &old, &new).await?;
        promote_pending(&mut pending);
        let json = credentials_bytes(&pending)?;
        *self =
            AcmeAccount::restore(&json, &self.directory_url, self.ca_bundle_pem.as_deref()).await?;
        Ok(json)
    }

    /// Deactivate the account at the CA (RFC 8555 §7.3.6); it cannot be used again.
    pub async fn deactivate(self) -> Result<(), AcmeError> {
        let directory = self.directory_url.clone();
        // Deactivation consumes the account; a clone serves each attempt.
        retry_bad_nonce!(self.inner.clone().deactivate().await)
            .map_err(|e| AcmeError::from_client(&directory, e))
    }

    /// Revoke a certificate this account ordered (RFC 8555 §7.6).
    pub async fn revoke(&self, cert_der: &[u8], reason: RevocationReason) -> Result<(), AcmeError> {
        let certificate = CertificateDer::from(cert_der.to_vec());
        let request = RevocationRequest {
            certificate: &certificate,
            reason: Some(reason.to_client()),
        };
        retry_bad_nonce!(self.inner.revoke(&request).await)
            .map_err(|e| AcmeError::from_client(&self.directory_url, e))
    }
}

/// The stored-credentials field holding a rollover's new key until the CA
/// is known to use it.
const PENDING_KEY: &str = "pending_key_pkcs8";
/// When that key was made (Unix seconds).
const PENDING_SINCE: &str = "pending_since";
/// A rollover started less than this long ago may still be in flight: its
/// pending key is kept even though the CA still takes the current key.
const PENDING_GRACE_SECS: i64 = 600;

/// An account [`AcmeAccount::register`] registered or found again.
#[derive(Debug)]
pub struct Registered {
    /// The account, ready for use.
    pub account: AcmeAccount,
    /// Its final credentials (with the account URL), to store.
    pub credentials_json: Zeroizing<Vec<u8>>,
    /// The CA already had this key's account: an interrupted registration
    /// was resumed.
    pub found_again: bool,
}

/// Credentials for an account not registered yet: a new key and the
/// directory, with no account URL. Seal them into the store before
/// [`AcmeAccount::register`] shows the key to the CA.
pub fn new_account_credentials(directory_url: &str) -> Result<Zeroizing<Vec<u8>>, AcmeError> {
    let key = AccountKey::generate()?;
    let mut credentials = Credentials::default();
    credentials.set("id", "".into());
    credentials.set("key_pkcs8", key.to_b64().as_str().into());
    credentials.set("directory", directory_url.into());
    credentials_bytes(&credentials)
}

/// The credentials with a new key pending for a rollover, to store before
/// [`AcmeAccount::rollover`] asks the CA. A pending key already there is
/// kept: an interrupted rollover may have been switching to it.
pub fn with_pending_key(
    credentials_json: &[u8],
    now: i64,
) -> Result<Zeroizing<Vec<u8>>, AcmeError> {
    let mut credentials = parse_credentials(credentials_json)?;
    if field(&credentials, PENDING_KEY).is_none() {
        let key = AccountKey::generate()?;
        credentials.set(PENDING_KEY, key.to_b64().as_str().into());
    }
    credentials.set(PENDING_SINCE, now.into());
    credentials_bytes(&credentials)
}

/// Finish what an interrupted rollover left: when the credentials hold a
/// pending key, ask the CA which key it takes. Returns the credentials to
/// store and what happened, or `None` when nothing is to change (no pending
/// key, or a rollover started moments ago that may still be running).
pub async fn settle_pending_key(
    credentials_json: &[u8],
    directory_url: &str,
    ca_bundle_pem: Option<&str>,
    now: i64,
) -> Result<Option<(Zeroizing<Vec<u8>>, String)>, AcmeError> {
    let mut credentials = parse_credentials(credentials_json)?;
    let Some(pending) = field(&credentials, PENDING_KEY) else {
        return Ok(None);
    };
    let pending = AccountKey::from_b64(pending)?;
    let current = AccountKey::from_b64(field(&credentials, "key_pkcs8").unwrap_or_default())?;
    let url = field(&credentials, "id").unwrap_or_default().to_owned();
    let since = credentials
        .get(PENDING_SINCE)
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(0);
    let mut session = Session::open(directory_url, ca_bundle_pem).await?;
    if session.find_account(&current).await?.is_some() {
        if now - since < PENDING_GRACE_SECS {
            return Ok(None);
        }
        credentials.unset(PENDING_KEY);
        credentials.unset(PENDING_SINCE);
        return Ok(Some((
            credentials_bytes(&credentials)?,
            "an interrupted key rollover had not reached the CA: the current key stays in use"
                .into(),
        )));
    }
    match session.find_account(&pending).await? {
        Some(found) if found == url => {
            promote_pending(&mut credentials);
            Ok(Some((
                credentials_bytes(&credentials)?,
                "an interrupted key rollover had switched the key at the CA: the new key is now in use"
                    .into(),
            )))
        }
        Some(found) => Err(AcmeError::Problem(format!(
            "the CA holds the pending rollover key for another account ({found}, not {url}): the account key cannot be recovered automatically"
        ))),
        None => Err(AcmeError::Problem(format!(
            "the CA knows neither the current nor the pending key of account {url}: it may have been deactivated or removed at the CA; register a new account"
        ))),
    }
}

/// Make the pending key the account key.
fn promote_pending(credentials: &mut Credentials) {
    if let Some(key) = credentials.remove(PENDING_KEY) {
        credentials.set("key_pkcs8", key);
    }
    credentials.unset(PENDING_SINCE);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocation_reasons_parse_in_any_spelling() {
        assert_eq!(
            "key-compromise".parse::<RevocationReason>().unwrap().code(),
            1
        );
        assert_eq!(
            "keyCompromise".parse::<RevocationReason>().unwrap().code(),
            1
        );
        assert_eq!("superseded".parse::<RevocationReason>().unwrap().code(), 4);
        assert_eq!(
            "PRIVILEGE_WITHDRAWN"
                .parse::<RevocationReason>()
                .unwrap()
                .code(),
            9
        );
        assert!("ca-compromise".parse::<RevocationReason>().is_err());
    }
}
