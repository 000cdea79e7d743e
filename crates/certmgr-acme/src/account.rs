//! ACME accounts (RFC 8555 §7.3): creation with optional External Account
//! Binding, restore from stored credentials, key rollover, deactivation,
//! revocation.

use instant_acme::{
    Account, AccountBuilder, AccountCredentials, CertificateIdentifier, ExternalAccountKey,
    NewAccount, RevocationRequest,
};
use rustls::pki_types::CertificateDer;
use zeroize::Zeroizing;

use crate::AcmeError;
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
    /// Register a new account; returns it with its credentials (JSON holding the
    /// private key) to be sealed into the store.
    pub async fn create(
        request: &AccountRequest,
    ) -> Result<(AcmeAccount, Zeroizing<Vec<u8>>), AcmeError> {
        if !request.agree_tos {
            return Err(AcmeError::BadInput(
                "the CA's terms of service must be accepted: pass --agree-tos".into(),
            ));
        }
        let contacts: Vec<String> = request
            .emails
            .iter()
            .map(|e| format!("mailto:{e}"))
            .collect();
        let contact_refs: Vec<&str> = contacts.iter().map(String::as_str).collect();
        let eab = request
            .eab
            .as_ref()
            .map(|(kid, key)| ExternalAccountKey::new(kid.clone(), key));
        let new_account = NewAccount {
            contact: &contact_refs,
            terms_of_service_agreed: true,
            only_return_existing: false,
        };
        let (inner, credentials) = retry_bad_nonce!(
            builder(&request.directory_url, request.ca_bundle_pem.as_deref())?
                .create(&new_account, request.directory_url.clone(), eab.as_ref())
                .await
        )
        .map_err(|e| AcmeError::from_client(&request.directory_url, e))?;
        let json = credentials_json(&credentials)?;
        Ok((
            AcmeAccount {
                inner,
                directory_url: request.directory_url.clone(),
                credentials_json: std::sync::Arc::new(json.clone()),
                ca_bundle_pem: request.ca_bundle_pem.clone(),
            },
            json,
        ))
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

    /// Replace the account key (RFC 8555 §7.3.5); returns the new credentials.
    pub async fn rollover(&mut self) -> Result<Zeroizing<Vec<u8>>, AcmeError> {
        let credentials = retry_bad_nonce!(self.inner.update_key().await)
            .map_err(|e| AcmeError::from_client(&self.directory_url, e))?;
        let json = credentials_json(&credentials)?;
        self.credentials_json = std::sync::Arc::new(json.clone());
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

fn credentials_json(credentials: &AccountCredentials) -> Result<Zeroizing<Vec<u8>>, AcmeError> {
    serde_json::to_vec(credentials)
        .map(Zeroizing::new)
        .map_err(|e| AcmeError::BadInput(format!("cannot encode account credentials: {e}")))
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
