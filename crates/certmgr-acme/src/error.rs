//! The ACME engine's error type.

/// Everything that can go wrong talking to an ACME CA. ACME problem documents
/// are kept whole in [`AcmeError::Problem`], so the CA's own words reach the user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcmeError {
    /// The catalog file does not parse (a build problem).
    #[error("the CA catalog is damaged: {0}")]
    Catalog(String),
    /// No catalog entry has this id.
    #[error("unknown CA {id:?}: use one of {known}, or a directory URL")]
    UnknownCa {
        /// What the user asked for.
        id: String,
        /// The ids that exist.
        known: String,
    },
    /// The CA answered with a problem document (RFC 8555 §6.7), kept whole:
    /// its type, detail, status and subproblems.
    #[error("the CA refused: {}", problem_text(.0))]
    Refused(Box<Problem>),
    /// The CA answered in a way the protocol does not allow (no nonce, an
    /// order that turned invalid without a reason, an unknown key).
    #[error("the CA refused: {0}")]
    Problem(String),
    /// The CA could not be reached or spoke no valid ACME.
    #[error("cannot talk to the ACME CA at {directory}: {reason}")]
    Connection {
        /// The directory URL.
        directory: String,
        /// What failed.
        reason: String,
    },
    /// An authorization failed validation.
    #[error("validation of {identifier} failed: {problem}")]
    Validation {
        /// The identifier that failed.
        identifier: String,
        /// The CA's problem document, in words.
        problem: String,
        /// The CA's problem document, whole, when it sent one.
        document: Option<Box<Problem>>,
    },
    /// The CA offers none of the challenge types we can answer for an identifier.
    #[error("the CA offers no {challenge} challenge for {identifier}")]
    ChallengeUnavailable {
        /// The identifier.
        identifier: String,
        /// The challenge type the credential asks for.
        challenge: String,
    },
    /// A challenge responder could not listen.
    #[error(
        "cannot listen on {address} for {challenge}: {reason}; answer on another address, or through a running certmgr server"
    )]
    Listen {
        /// The address.
        address: String,
        /// http-01 or tls-alpn-01.
        challenge: &'static str,
        /// The OS error.
        reason: String,
    },
    /// The order did not become ready or valid in time.
    #[error(
        "the order at {url} did not complete in time (status {status}); it can be resumed by issuing again"
    )]
    Timeout {
        /// The order URL.
        url: String,
        /// Its last status.
        status: String,
    },
    /// A phase of an order ran past its time limit (a DNS provider or the CA
    /// not answering); the answers published were withdrawn.
    #[error(
        "the order at {url} ran past the {limit} limit on its {phase} and was stopped; certmgr retries after its backoff: check the DNS account's provider and propagation, or the CA's status"
    )]
    Deadline {
        /// `challenge phase`, or `issuance as a whole`.
        phase: &'static str,
        /// The limit, in words.
        limit: String,
        /// The order URL.
        url: String,
    },
    /// Publishing or withdrawing a challenge answer failed (DNS provider,
    /// script, store). The solver's own error is kept whole, so the caller
    /// that supplied the solver gets its type back (downcast).
    #[error("{0}")]
    Solver(Box<dyn std::error::Error + Send + Sync>),
    /// Input the user gave is unusable (EAB key, CA bundle, ...).
    #[error("{0}")]
    BadInput(String),
    /// The certificate the CA returned is unusable.
    #[error("the CA returned an unusable certificate: {0}")]
    BadCertificate(String),
    /// A PKI operation failed.
    #[error(transparent)]
    Pki(#[from] certmgr_pki::PkiError),
}

impl AcmeError {
    /// Wrap an instant-acme error, keeping problem documents intact.
    pub(crate) fn from_client(directory: &str, error: instant_acme::Error) -> AcmeError {
        match error {
            instant_acme::Error::Api(problem) => AcmeError::Refused(Box::new(problem)),
            other => AcmeError::Connection {
                directory: directory.to_owned(),
                reason: other.to_string(),
            },
        }
    }
}

/// An RFC 8555 problem document as the CA sent it.
pub use instant_acme::Problem;

/// A problem document in one line: detail, type and subproblems.
pub fn problem_text(problem: &instant_acme::Problem) -> String {
    let mut text = problem
        .detail
        .clone()
        .unwrap_or_else(|| "no detail given".to_owned());
    if let Some(kind) = &problem.r#type {
        text.push_str(&format!(" ({kind})"));
    }
    for sub in &problem.subproblems {
        text.push_str(&format!("; {sub}"));
    }
    text
}

impl AcmeError {
    /// The CA's problem document, when the CA sent one.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            AcmeError::Refused(problem) => Some(problem),
            AcmeError::Validation { document, .. } => document.as_deref(),
            _ => None,
        }
    }
}
