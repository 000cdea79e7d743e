//! The one error type of this crate.

/// Everything that can go wrong loading a provider definition or running it.
///
/// Messages are one line, name the file or provider, step and field
/// involved, and never contain a secret parameter value.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// The definition file is not valid TOML or has fields the format does not know.
    #[error("{file}: line {line}, column {column}: {message} (fix the provider definition)")]
    Syntax {
        /// File name as given to [`crate::Definition::parse`].
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the TOML parser reported.
        message: String,
    },
    /// The definition parses but is wrong: bad template, unknown variable, bad JSONPath, ...
    #[error("{file}: {location}: {message}")]
    Invalid {
        /// File name as given to [`crate::Definition::parse`].
        file: String,
        /// Where, e.g. `step "add" field "url"`.
        location: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// No catalog provider has this id.
    #[error("unknown DNS provider {id:?}; known providers: {known}")]
    UnknownProvider {
        /// The id asked for.
        id: String,
        /// Comma-separated ids of the catalog.
        known: String,
    },
    /// A required parameter was not given when binding an account to a provider.
    #[error(
        "provider {provider:?}: missing required parameter {name:?} ({help}); pass it with the account's DNS settings"
    )]
    MissingParameter {
        /// Provider id.
        provider: String,
        /// Parameter name.
        name: String,
        /// The parameter's help text.
        help: String,
    },
    /// A parameter was given that the provider does not declare.
    #[error("provider {provider:?}: unknown parameter {name:?}; this provider takes: {known}")]
    UnknownParameter {
        /// Provider id.
        provider: String,
        /// Parameter name given.
        name: String,
        /// Comma-separated declared names.
        known: String,
    },
    /// The record name, zone or value handed to the engine is unusable.
    #[error("{0}")]
    BadInput(String),
    /// A template failed while rendering a request.
    #[error("provider {provider:?} step {step:?} field {field:?}: {message}")]
    Render {
        /// Provider id.
        provider: String,
        /// Step name.
        step: String,
        /// Field, e.g. `url` or `headers.Authorization`.
        field: String,
        /// What failed (secrets redacted).
        message: String,
    },
    /// The request could not be sent or got no answer (after retries).
    #[error(
        "provider {provider:?} step {step:?}: {method} {url} failed after {attempts} attempt(s): {message}; check the API URL and network access"
    )]
    Transport {
        /// Provider id.
        provider: String,
        /// Step name.
        step: String,
        /// HTTP method.
        method: String,
        /// URL (secrets redacted).
        url: String,
        /// Attempts made.
        attempts: u32,
        /// Last error (secrets redacted).
        message: String,
    },
    /// The API answered with a status the step does not accept.
    #[error(transparent)]
    Status(Box<StatusError>),
    /// A capture's JSONPath matched nothing, or the body was not JSON.
    #[error("provider {provider:?} step {step:?} capture {capture:?}: {message}")]
    Capture {
        /// Provider id.
        provider: String,
        /// Step name.
        step: String,
        /// Capture name.
        capture: String,
        /// What went wrong (body excerpt redacted).
        message: String,
    },
    /// The API answered with an accepted status, but the answer says it
    /// failed (`success_when`), or an asynchronous change never completed
    /// (`repeat_until`).
    #[error("provider {provider:?} step {step:?}: {message}")]
    Refused {
        /// Provider id.
        provider: String,
        /// Step name.
        step: String,
        /// What the provider answered (secrets redacted) and what to do.
        message: String,
    },
    /// The `[auth]` helper could not authenticate (bad key file, token
    /// endpoint refused the client).
    #[error("provider {provider:?} authentication ({kind}): {message}")]
    Auth {
        /// Provider id.
        provider: String,
        /// Auth helper kind.
        kind: String,
        /// What failed (secrets redacted) and what to do.
        message: String,
    },
    /// A request was refused before it was sent: its host is not a
    /// destination of the provider, or needs the account's opt-in (private
    /// network, plain HTTP).
    #[error("provider {provider:?} step {step:?}: {message}")]
    Destination {
        /// Provider id.
        provider: String,
        /// Step name (`auth` for a token request).
        step: String,
        /// The host refused.
        host: String,
        /// Why.
        refusal: crate::destination::Refusal,
        /// What was refused and what to do (no CLI flag names).
        message: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// Details of [`DnsError::Status`] (boxed: it is the largest variant).
#[derive(Debug, thiserror::Error)]
#[error(
    "provider {provider:?} step {step:?}: {method} {url} answered HTTP {status} (expected {expected}) after {attempts} attempt(s): {body}; {hint}"
)]
pub struct StatusError {
    /// Provider id.
    pub provider: String,
    /// Step name.
    pub step: String,
    /// HTTP method.
    pub method: String,
    /// URL (secrets redacted).
    pub url: String,
    /// Status received.
    pub status: u16,
    /// What the step accepts.
    pub expected: String,
    /// Attempts made.
    pub attempts: u32,
    /// Body excerpt (secrets redacted).
    pub body: String,
    /// What to do about it.
    pub hint: &'static str,
}

impl DnsError {
    /// Whether the caller can fix this by changing the definition, the
    /// account's parameters or its destinations (rather than a provider
    /// or network failure).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            DnsError::Syntax { .. }
                | DnsError::Invalid { .. }
                | DnsError::UnknownProvider { .. }
                | DnsError::MissingParameter { .. }
                | DnsError::UnknownParameter { .. }
                | DnsError::BadInput(_)
                | DnsError::Destination { .. }
        )
    }
}
