//! Errors as RFC 9457 problem documents: a stable `type` URI per kind of
//! problem, the HTTP status, and the same one-line reason the command line
//! prints. The engine classified the error once ([`EngineError::kind`]);
//! this decides only the status and words the engine's [`Hint`] as API
//! fields.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use certmgr_engine::{EngineError, ErrorKind, Hint};
use certmgr_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// Where the problem types live: `urn:certmgr:problem:` and a slug. URNs
/// never resolve, so clients match on them and nothing is fetched.
pub const TYPE_PREFIX: &str = "urn:certmgr:problem:";

/// The media type of problem documents (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:certmgr:problem:` and a stable slug (`not-found`, `bad-input`, ...).
    #[serde(rename = "type")]
    pub type_uri: String,
    /// The slug's title.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What is wrong and what to do, in one line.
    pub detail: String,
    /// The request field that fixes it, if one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The same fix as data, for clients that word it themselves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Hint>,
    /// The request body's member at fault, as the request spells it
    /// (`hostnames`, `pkcs12_password`, `email.to[1]`), when one is: a
    /// form shows the problem next to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The kinds of problems, each with its status and slug.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The request is wrong; nothing changed.
    BadInput,
    /// No such object (or one outside the caller's tag scope).
    NotFound,
    /// The name is taken, or the object changed under the request.
    Conflict,
    /// No credentials, or credentials that are unknown, revoked or expired.
    Unauthenticated,
    /// The caller's role does not allow the operation.
    Forbidden,
    /// The body is larger than the server accepts.
    TooLarge,
    /// Too many attempts; try again later.
    RateLimited,
    /// A CA, a DNS provider or a notification peer (SMTP server, webhook
    /// receiver) failed or could not be reached.
    Upstream,
    /// The server failed (the database, a bug).
    Failed,
    /// The server cannot do its work now (`/readyz`: the store does not
    /// answer, the scheduler stopped).
    Unavailable,
}

impl ProblemKind {
    /// The HTTP status of this kind.
    pub fn status(self) -> StatusCode {
        match self {
            ProblemKind::BadInput => StatusCode::BAD_REQUEST,
            ProblemKind::NotFound => StatusCode::NOT_FOUND,
            ProblemKind::Conflict => StatusCode::CONFLICT,
            ProblemKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ProblemKind::Forbidden => StatusCode::FORBIDDEN,
            ProblemKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProblemKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ProblemKind::Upstream => StatusCode::BAD_GATEWAY,
            ProblemKind::Failed => StatusCode::INTERNAL_SERVER_ERROR,
            ProblemKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable slug of the `type` URI.
    pub fn slug(self) -> &'static str {
        match self {
            ProblemKind::BadInput => "bad-input",
            ProblemKind::NotFound => "not-found",
            ProblemKind::Conflict => "conflict",
            ProblemKind::Unauthenticated => "unauthenticated",
            ProblemKind::Forbidden => "forbidden",
            ProblemKind::TooLarge => "too-large",
            ProblemKind::RateLimited => "rate-limited",
            ProblemKind::Upstream => "upstream-failed",
            ProblemKind::Failed => "failed",
            ProblemKind::Unavailable => "not-ready",
        }
    }

    fn title(self) -> &'static str {
        match self {
            ProblemKind::BadInput => "The request cannot be carried out as given",
            ProblemKind::NotFound => "No such object",
            ProblemKind::Conflict => "The object exists or changed",
            ProblemKind::Unauthenticated => "Authentication required",
            ProblemKind::Forbidden => "Not allowed for this role",
            ProblemKind::TooLarge => "The request body is too large",
            ProblemKind::RateLimited => "Too many attempts",
            ProblemKind::Upstream => "A CA, DNS provider or notification peer failed",
            ProblemKind::Failed => "The operation failed",
            ProblemKind::Unavailable => "The server is not ready",
        }
    }
}

impl Problem {
    /// A problem of `kind` with this reason.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Problem {
            type_uri: format!("{TYPE_PREFIX}{}", kind.slug()),
            title: kind.title().to_owned(),
            status: kind.status().as_u16(),
            detail: detail.into(),
            hint: None,
            fix: None,
            field: None,
        }
    }

    /// The same problem, about the request body's member `field`.
    pub fn at(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    /// The request is wrong.
    pub fn bad_input(detail: impl Into<String>) -> Self {
        Problem::new(ProblemKind::BadInput, detail)
    }

    /// Nothing by that name the caller may see.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(ProblemKind::NotFound, detail)
    }

    /// A failure of the server.
    pub fn failed(detail: impl Into<String>) -> Self {
        Problem::new(ProblemKind::Failed, detail)
    }
}

impl From<EngineError> for Problem {
    fn from(error: EngineError) -> Self {
        let kind = match innermost(&error) {
            EngineError::Store(e) => match **e {
                StoreError::NotFound { .. } => ProblemKind::NotFound,
                StoreError::AlreadyExists { .. } | StoreError::Conflict(_) => ProblemKind::Conflict,
                _ => classify(&error),
            },
            _ => classify(&error),
        };
        let mut problem = Problem::new(kind, error.to_string());
        problem.fix = error.hint();
        problem.hint = problem.fix.clone().map(hint_words);
        problem.field = error
            .field()
            .or_else(|| field_of(&error))
            .map(str::to_owned);
        problem
    }
}

/// The request member an engine error is about, named as the API's
/// bodies name it, when the error's type says.
fn field_of(error: &EngineError) -> Option<&'static str> {
    use certmgr_engine::error::{Field, InputError, Rule};
    match error {
        EngineError::Context { source, .. } => field_of(source),
        EngineError::Field(e) => Some(match e.field {
            Field::Name => "name",
            Field::Issuer => "issuer",
            Field::DnsAccount => "dns_account",
            Field::Zone => "zones",
        }),
        EngineError::Input(e) => match e {
            InputError::Hostname(_) => Some("hostnames"),
            InputError::KeySpec(_) => Some("keys"),
            InputError::Issuer(_) => Some("issuer"),
            InputError::Name(_) => Some("name"),
            InputError::Challenge(_) => Some("challenge"),
            _ => None,
        },
        EngineError::Rule(rule) => match rule {
            Rule::NoHostname
            | Rule::DuplicateHostname(_)
            | Rule::WildcardNeedsDns01(_)
            | Rule::IpNotByDns01(_) => Some("hostnames"),
            Rule::SameKeyFamily | Rule::TooManyKeys => Some("keys"),
            Rule::ChallengeNotAcme => Some("challenge"),
            Rule::AliasNotDnsName(_) | Rule::AliasNeedsDns01 => Some("challenge_alias"),
            Rule::DnsAccountNeedsDns01 => Some("dns_account"),
            Rule::Validity(_) => Some("validity_days"),
            _ => None,
        },
        _ => None,
    }
}

impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        EngineError::from(error).into()
    }
}

fn classify(error: &EngineError) -> ProblemKind {
    match (error.kind(), innermost(error)) {
        (ErrorKind::BadInput, _) => ProblemKind::BadInput,
        (
            ErrorKind::Failed,
            EngineError::Acme(_)
            | EngineError::Dns(_)
            | EngineError::CaCertificate(_)
            | EngineError::Delivery(_),
        ) => ProblemKind::Upstream,
        (ErrorKind::Failed, _) => ProblemKind::Failed,
    }
}

/// The error under its added contexts.
fn innermost(error: &EngineError) -> &EngineError {
    match error {
        EngineError::Context { source, .. } => innermost(source),
        EngineError::Field(field) => innermost(&field.source),
        other => other,
    }
}

/// A hint in the API's terms: the request field that fixes the problem.
fn hint_words(hint: Hint) -> String {
    match hint {
        Hint::SetParameter(name) => format!("set parameters.{name}"),
        Hint::AllowPrivateNetwork => "set allow_private_network: true".into(),
        Hint::AllowPlainHttp => "set allow_plain_http: true".into(),
        Hint::CreateDnsAccount => "create a DNS account with POST /api/dns/accounts".into(),
        Hint::FinishRegistration(name) | Hint::RetryRegistration(name) => {
            format!("register the ACME account again with POST /api/acme/accounts/{name}/register")
        }
        Hint::ManualFlow(name) => format!(
            "POST /api/credentials/{name}/csr, have it signed, then POST /api/credentials/{name}/import"
        ),
        Hint::ImportFlow(name) => format!("POST /api/credentials/{name}/import"),
        Hint::IssueInstead(name) => format!("POST /api/credentials/{name}/issue"),
        Hint::ImportKeyToo => "give key_pem with certificate_pem".into(),
        Hint::CsrFirst(name) => {
            format!("POST /api/credentials/{name}/csr first, or give key_pem with the certificate")
        }
        Hint::TrustIssuer => "add the root with POST /api/trust".into(),
        Hint::TrustRoot => {
            "add the root with POST /api/trust (or, importing, set trust_bundled_root: true)".into()
        }
        Hint::AllowExpired => "set allow_expired: true".into(),
        Hint::ListenAddress => "run the challenge listeners of certmgr server".into(),
        Hint::DirectoryUrl => "give directory_url instead of ca".into(),
        Hint::TestDnsAccounts(names) => format!(
            "test the DNS accounts with POST /api/dns/accounts/NAME/test: {}",
            names.join(", ")
        ),
        _ => "see the documentation of this endpoint".into(),
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let detail = crate::gate::AuditDetail(self.detail.clone());
        let mut response = (status, Json(self)).into_response();
        response.extensions_mut().insert(detail);
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

/// What every handler returns.
pub type ApiResult<T> = Result<T, Problem>;
