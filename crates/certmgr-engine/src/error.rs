//! The engine's one error type, and the one place that decides whether an
//! error is the caller's to fix or a failure of the operation.
//!
//! Errors of the crates below keep their types (`#[from]` variants), so a
//! caller can still match on the store's `NotFound` or the CA's problem
//! document. Messages name the problem and the fix in words that fit any
//! front end; where the fix is an option of a front end (a command-line
//! flag, an API field), the error carries a [`Hint`] that the front end
//! renders in its own terms.

use certmgr_acme::AcmeError;
use certmgr_dns::DnsError;
use certmgr_pki::PkiError;
use certmgr_store::StoreError;

/// Whether the caller can fix an error by changing what they asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input: a name, a file, an option, a state that does not allow
    /// the operation. Nothing was changed.
    BadInput,
    /// The operation failed for another reason (a CA, a DNS provider, the
    /// database, a bug).
    Failed,
}

/// A fix that a front end names in its own terms (the CLI as a flag, the
/// API as a field). The API also sends it as data, so that the command line
/// used as its client words it as it does locally.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Hint {
    /// Give the DNS provider parameter with this name.
    SetParameter(String),
    /// Allow the DNS account to reach loopback, private and link-local addresses.
    AllowPrivateNetwork,
    /// Allow the DNS account to use plain `http://` URLs.
    AllowPlainHttp,
    /// Create a DNS account serving the zone.
    CreateDnsAccount,
    /// Finish an interrupted ACME account registration (the account is
    /// stored as pending).
    FinishRegistration(String),
    /// Try the registration of this ACME account again: the key is stored,
    /// the CA's answer was lost.
    RetryRegistration(String),
    /// The credential uses the manual flow: make a CSR, have it signed, import it.
    ManualFlow(String),
    /// The credential is imported: import a key and certificate into it.
    ImportFlow(String),
    /// The credential's issuer issues it: issue it instead of making a CSR.
    IssueInstead(String),
    /// Give the private key with the certificate (a key made elsewhere).
    ImportKeyToo,
    /// Make a CSR for the credential first, or give the key with the certificate.
    CsrFirst(String),
    /// Add the issuer to the trust store.
    TrustIssuer,
    /// Add the bundle's root to the trust store.
    TrustRoot,
    /// Allow expired certificates (an import for the record).
    AllowExpired,
    /// Answer challenges on another address, or through a running server.
    ListenAddress,
    /// Give a directory URL instead of a catalog CA.
    DirectoryUrl,
    /// Test the named DNS accounts (dns-01 is checked through them).
    TestDnsAccounts(Vec<String>),
}

/// Everything that can go wrong in the credential lifecycle.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The store refused or failed.
    #[error(transparent)]
    Store(Box<StoreError>),
    /// Keys, certificates or files the caller handed over.
    #[error(transparent)]
    Pki(Box<PkiError>),
    /// A certificate or chain that a CA returned does not verify: the CA's
    /// fault, not the caller's.
    #[error("{0}")]
    CaCertificate(Box<PkiError>),
    /// The ACME CA or the client (problem documents kept whole).
    #[error(transparent)]
    Acme(Box<AcmeError>),
    /// A DNS provider definition or call.
    #[error(transparent)]
    Dns(Box<DnsError>),
    /// A credential rule that a request breaks.
    #[error(transparent)]
    Rule(#[from] Rule),
    /// An ACME account rule that a request breaks.
    #[error(transparent)]
    AccountRule(#[from] AccountRule),
    /// An error about one field of a request (the issuer, the DNS account).
    #[error(transparent)]
    Field(FieldError),
    /// A name, hostname, key spec or other value that does not parse.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The request cannot be carried out as given.
    #[error("{message}")]
    BadInput {
        /// What is wrong and what to do, in a front end's neutral words.
        message: String,
        /// The fix, for the front end to name.
        hint: Option<Hint>,
    },
    /// The operation failed.
    #[error("{message}")]
    Failed {
        /// What failed.
        message: String,
        /// The fix, for the front end to name.
        hint: Option<Hint>,
    },
    /// One field of a request is wrong; `field` names it as the request
    /// spells it (`email.to[1]`, `webhook.url`), so a form can point at it.
    #[error("{field}: {message}")]
    InvalidField {
        /// The field's path in the request.
        field: String,
        /// What is wrong with it and what to give instead.
        message: String,
    },
    /// A notification could not be delivered: the SMTP server or the
    /// webhook's receiver could not be reached, refused it, or failed.
    #[error("{0}")]
    Delivery(String),
    /// An error with what was being read or done in front of it.
    #[error("{context}: {source}")]
    Context {
        /// What was being read or done.
        context: String,
        /// The error.
        source: Box<EngineError>,
    },
}

/// A credential rule that a request breaks. `Display` words it for any
/// front end; the CLI words it with its flags.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rule {
    /// No hostname at all.
    #[error("give at least one hostname")]
    NoHostname,
    /// A hostname listed twice.
    #[error("hostname {0} is given twice")]
    DuplicateHostname(String),
    /// Two keys of one family.
    #[error("two keys must be one RSA and one ECDSA key (a dual credential)")]
    SameKeyFamily,
    /// More than two keys.
    #[error("at most two keys: one RSA and one ECDSA key")]
    TooManyKeys,
    /// A challenge type for an issuer that is not ACME.
    #[error("a challenge type applies to ACME issuers only")]
    ChallengeNotAcme,
    /// An ACME-only option for an issuer that is not ACME.
    #[error("the {0} applies to ACME issuers only")]
    AcmeOnly(&'static str),
    /// A wildcard validated by HTTP-01 or TLS-ALPN-01.
    #[error("{0} is a wildcard: ACME CAs validate wildcards only with dns-01")]
    WildcardNeedsDns01(String),
    /// An IP address validated by DNS-01.
    #[error("{0} is an IP address: validate it with http-01 or tls-alpn-01")]
    IpNotByDns01(String),
    /// A challenge alias that is not a DNS name.
    #[error("the challenge alias {0:?} is not a DNS name")]
    AliasNotDnsName(String),
    /// A challenge alias without dns-01.
    #[error("a challenge alias applies to dns-01 only")]
    AliasNeedsDns01,
    /// A DNS account without dns-01.
    #[error("a DNS account applies to dns-01 only")]
    DnsAccountNeedsDns01,
    /// A validity outside 1..=3650 days.
    #[error("a validity of {0} days: use 1 to 3650")]
    Validity(u32),
}

/// Which field of the request an error is about, for the front end's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The name of the object being made (taken already).
    Name,
    /// The issuer.
    Issuer,
    /// The DNS account.
    DnsAccount,
    /// A zone of a DNS account.
    Zone,
}

/// An error about one field of a request.
#[derive(Debug, thiserror::Error)]
#[error("{source}")]
pub struct FieldError {
    /// The field.
    pub field: Field,
    /// What is wrong with it.
    pub source: Box<EngineError>,
}

/// An account rule a request breaks. `Display` words it for any front end;
/// the CLI words it with its flags.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountRule {
    /// Neither a catalog CA nor a directory.
    #[error("name a CA from the catalog or a directory URL")]
    NoCa,
    /// The catalog CA issues no more.
    #[error("{0} no longer issues certificates: pick another CA")]
    Discontinued(String),
    /// The catalog CA needs External Account Binding and none was given.
    #[error(
        "{name} requires External Account Binding: give the key id and HMAC key from the CA's account page ({docs})"
    )]
    EabRequired {
        /// The CA's name.
        name: String,
        /// Where the CA documents it.
        docs: String,
    },
    /// A directory URL that is not https.
    #[error("directory {0:?}: an ACME directory URL starts with https://")]
    NotHttps(String),
    /// A contact that is not an e-mail address.
    #[error("{0:?} is not an e-mail address")]
    NotEmail(String),
    /// Zero concurrent orders.
    #[error("the number of concurrent orders must be at least 1")]
    NoConcurrency,
}

/// Errors of values that do not parse (names, hostnames, key specs, issuers,
/// challenge kinds), kept apart so the front ends can match on them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// A hostname.
    #[error(transparent)]
    Hostname(#[from] certmgr_core::HostnameError),
    /// A key spec.
    #[error(transparent)]
    KeySpec(#[from] certmgr_core::KeySpecError),
    /// An issuer reference.
    #[error(transparent)]
    Issuer(#[from] certmgr_core::IssuerRefError),
    /// An object name.
    #[error(transparent)]
    Name(#[from] certmgr_core::NameError),
    /// A challenge kind.
    #[error(transparent)]
    Challenge(#[from] certmgr_core::ChallengeKindError),
}

macro_rules! input_from {
    ($($ty:ty),+) => {
        $(impl From<$ty> for EngineError {
            fn from(error: $ty) -> Self {
                EngineError::Input(error.into())
            }
        })+
    };
}

input_from!(
    certmgr_core::HostnameError,
    certmgr_core::KeySpecError,
    certmgr_core::IssuerRefError,
    certmgr_core::NameError,
    certmgr_core::ChallengeKindError
);

impl From<StoreError> for EngineError {
    fn from(error: StoreError) -> Self {
        EngineError::Store(Box::new(error))
    }
}

impl From<PkiError> for EngineError {
    fn from(error: PkiError) -> Self {
        EngineError::Pki(Box::new(error))
    }
}

impl From<DnsError> for EngineError {
    fn from(error: DnsError) -> Self {
        EngineError::Dns(Box::new(error))
    }
}

/// Result type of the engine.
pub type EngineResult<T> = Result<T, EngineError>;

impl EngineError {
    /// A certificate or chain from a CA that does not verify (a failure).
    pub fn ca_certificate(error: PkiError) -> Self {
        EngineError::CaCertificate(Box::new(error))
    }

    /// Bad input, without a front-end fix.
    pub fn bad_input(message: impl Into<String>) -> Self {
        EngineError::BadInput {
            message: message.into(),
            hint: None,
        }
    }

    /// Bad input that a front end's option fixes.
    pub fn bad_input_hint(message: impl Into<String>, hint: Hint) -> Self {
        EngineError::BadInput {
            message: message.into(),
            hint: Some(hint),
        }
    }

    /// A failure.
    pub fn failed(message: impl Into<String>) -> Self {
        EngineError::Failed {
            message: message.into(),
            hint: None,
        }
    }

    /// A failure that a front end's option fixes.
    pub fn failed_hint(message: impl Into<String>, hint: Hint) -> Self {
        EngineError::Failed {
            message: message.into(),
            hint: Some(hint),
        }
    }

    /// One field of a request is wrong (bad input naming the field).
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        EngineError::InvalidField {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The request field at fault, when the error names one.
    pub fn field(&self) -> Option<&str> {
        match self {
            EngineError::InvalidField { field, .. } => Some(field),
            EngineError::Context { source, .. } => source.field(),
            _ => None,
        }
    }

    /// Put what was being read or done in front of the message.
    pub fn context(self, context: impl std::fmt::Display) -> Self {
        EngineError::Context {
            context: context.to_string(),
            source: Box::new(self),
        }
    }

    /// The fix a front end names, if any.
    pub fn hint(&self) -> Option<Hint> {
        use certmgr_dns::Refusal;
        match self {
            EngineError::BadInput { hint, .. } | EngineError::Failed { hint, .. } => hint.clone(),
            EngineError::Context { source, .. } => source.hint(),
            EngineError::Field(e) => e.source.hint(),
            EngineError::Pki(pki) => match pki.as_ref() {
                PkiError::BrokenChain { .. } => Some(Hint::TrustIssuer),
                PkiError::UntrustedRoot { .. } => Some(Hint::TrustRoot),
                PkiError::Expired { .. } => Some(Hint::AllowExpired),
                _ => None,
            },
            EngineError::Acme(acme) => match acme.as_ref() {
                AcmeError::Listen { .. } => Some(Hint::ListenAddress),
                AcmeError::UnknownCa { .. } => Some(Hint::DirectoryUrl),
                _ => None,
            },
            EngineError::Dns(dns) => match dns.as_ref() {
                DnsError::Destination {
                    refusal: Refusal::PrivateNetwork,
                    ..
                } => Some(Hint::AllowPrivateNetwork),
                DnsError::Destination {
                    refusal: Refusal::PlainHttp,
                    ..
                } => Some(Hint::AllowPlainHttp),
                _ => None,
            },
            _ => None,
        }
    }

    /// Bad input or failure: decided here, once, for every front end.
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::Store(e) => store_kind(e),
            EngineError::Pki(e) => pki_kind(e),
            EngineError::CaCertificate(_) => ErrorKind::Failed,
            EngineError::Acme(e) => acme_kind(e),
            EngineError::Dns(e) => dns_kind(e),
            EngineError::Input(_)
            | EngineError::Rule(_)
            | EngineError::AccountRule(_)
            | EngineError::BadInput { .. }
            | EngineError::InvalidField { .. } => ErrorKind::BadInput,
            EngineError::Field(e) => e.source.kind(),
            EngineError::Failed { .. } | EngineError::Delivery(_) => ErrorKind::Failed,
            EngineError::Context { source, .. } => source.kind(),
        }
    }
}

/// The store: names that do not exist or already do, a conflicting state, a
/// master key that does not open the store are the caller's to fix.
pub fn store_kind(error: &StoreError) -> ErrorKind {
    match error {
        StoreError::NotFound { .. }
        | StoreError::AlreadyExists { .. }
        | StoreError::Conflict(_)
        | StoreError::BadMasterKey(_)
        | StoreError::WrongMasterKey
        | StoreError::KeyFilePermissions { .. }
        | StoreError::UnsupportedBackend(_) => ErrorKind::BadInput,
        _ => ErrorKind::Failed,
    }
}

/// PKI errors come from what the caller handed over (files, passwords,
/// chains), except a crypto library failure and unusable CA material in
/// the store.
pub fn pki_kind(error: &PkiError) -> ErrorKind {
    match error {
        PkiError::Crypto { .. } | PkiError::BadIssuer { .. } => ErrorKind::Failed,
        _ => ErrorKind::BadInput,
    }
}

/// ACME: an unknown CA or unusable input is the caller's; what the CA says
/// or does is a failure.
pub fn acme_kind(error: &AcmeError) -> ErrorKind {
    match error {
        AcmeError::BadInput(_) | AcmeError::UnknownCa { .. } => ErrorKind::BadInput,
        AcmeError::Pki(e) => pki_kind(e),
        _ => ErrorKind::Failed,
    }
}

/// DNS: a definition or parameters that do not load, or a destination the
/// account does not allow, are the caller's; a provider's answer is a failure.
pub fn dns_kind(error: &DnsError) -> ErrorKind {
    if error.is_bad_input() {
        ErrorKind::BadInput
    } else {
        ErrorKind::Failed
    }
}

impl From<EngineError> for AcmeError {
    /// For the [`certmgr_acme::ChallengeSolver`] boundary: an engine error
    /// inside a solver travels through the ACME crate whole, and
    /// [`From<AcmeError>`] takes it out again.
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::Acme(e) => *e,
            other => AcmeError::Solver(Box::new(other)),
        }
    }
}

impl From<AcmeError> for EngineError {
    /// An ACME error; an engine error that went through a solver comes back
    /// as itself.
    fn from(error: AcmeError) -> Self {
        match error {
            AcmeError::Solver(inner) => match inner.downcast::<EngineError>() {
                Ok(engine) => *engine,
                Err(other) => EngineError::Acme(Box::new(AcmeError::Solver(other))),
            },
            other => EngineError::Acme(Box::new(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_chain_that_fails_verification_is_a_failure_not_bad_input() {
        let chain = PkiError::SignatureInvalid {
            subject: "leaf".into(),
            issuer: "ca".into(),
        };
        assert_eq!(EngineError::from(chain).kind(), ErrorKind::BadInput);
        let chain = PkiError::SignatureInvalid {
            subject: "leaf".into(),
            issuer: "ca".into(),
        };
        assert_eq!(EngineError::ca_certificate(chain).kind(), ErrorKind::Failed);
    }

    #[test]
    fn an_internal_crypto_error_is_a_failure() {
        let crypto = PkiError::Crypto {
            operation: "signing",
            reason: "boom".into(),
        };
        assert_eq!(EngineError::from(crypto).kind(), ErrorKind::Failed);
        let wrapped = AcmeError::Pki(PkiError::Crypto {
            operation: "signing",
            reason: "boom".into(),
        });
        assert_eq!(EngineError::from(wrapped).kind(), ErrorKind::Failed);
    }

    #[test]
    fn an_engine_error_comes_back_whole_through_a_solver() {
        let error = EngineError::bad_input_hint("no DNS account serves x", Hint::CreateDnsAccount);
        let through = EngineError::from(AcmeError::from(error));
        assert_eq!(through.kind(), ErrorKind::BadInput);
        assert_eq!(through.hint(), Some(Hint::CreateDnsAccount));
        let other = EngineError::from(AcmeError::Solver("provider said no".into()));
        assert_eq!(other.kind(), ErrorKind::Failed);
        assert_eq!(other.to_string(), "provider said no");
    }

    #[test]
    fn context_keeps_the_kind_and_the_hint() {
        let error = EngineError::bad_input_hint("x", Hint::AllowPlainHttp).context("account");
        assert_eq!(error.kind(), ErrorKind::BadInput);
        assert_eq!(error.hint(), Some(Hint::AllowPlainHttp));
        assert_eq!(error.to_string(), "account: x");
    }
}
