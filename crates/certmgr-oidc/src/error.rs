//! Every way a single sign-on can fail, each with what is wrong and what to do.

/// Why a login, a discovery or a logout URL could not be had. Messages name the
/// cause and the remedy, so that the server can show them to an operator (the
/// `Display` text never contains a secret or a token).
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The `[oidc]` configuration cannot work as written.
    #[error(
        "OIDC configuration: {field}: {problem}; fix it in the [oidc] section of the configuration"
    )]
    Config {
        /// The configuration field at fault.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The provider's discovery document or signing keys could not be fetched
    /// or are not valid.
    #[error(
        "OpenID provider discovery at {url} failed: {detail}; check the issuer URL and that the provider answers"
    )]
    Discovery {
        /// The issuer or key set URL that was asked.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The `state` the browser came back with is not the one this login
    /// started with: a forged, replayed or crossed login.
    #[error(
        "the login's state does not match the one this browser started with (a forged, replayed or crossed login); start a new login"
    )]
    StateMismatch,
    /// The login took longer than the configured limit between its start and
    /// the browser's return.
    #[error(
        "the login was started {age_secs} s ago, longer than the {limit_secs} s allowed; start a new login"
    )]
    LoginExpired {
        /// Seconds since the login started.
        age_secs: u64,
        /// The configured limit (`login_timeout_secs`).
        limit_secs: u64,
    },
    /// The provider sent the browser back with an OAuth error instead of a
    /// code (the user declined consent, or the provider refused the client).
    #[error("the OpenID provider refused the login: {error}{}; start a new login, or check the client's registration at the provider", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    ProviderRefused {
        /// The OAuth error code (`access_denied`, `invalid_scope`, ...).
        error: String,
        /// The provider's explanation, if it gave one.
        description: Option<String>,
    },
    /// The callback carries neither a code and state nor an error, or comes
    /// from another issuer.
    #[error("the redirect back from the OpenID provider is not usable: {0}; start a new login")]
    BadCallback(String),
    /// The token endpoint did not turn the code into tokens.
    #[error(
        "exchanging the authorization code at the provider's token endpoint failed: {0}; start a new login (if it persists, check the client id and secret)"
    )]
    TokenExchange(String),
    /// The token response has no ID token: the provider did not treat the
    /// request as OpenID Connect.
    #[error(
        "the provider's token response carries no ID token; check that the provider supports OpenID Connect for this client and that the scope includes openid"
    )]
    MissingIdToken,
    /// The ID token failed verification (signature, issuer, audience,
    /// expiry, nonce or access token hash): the login is not trusted.
    #[error(
        "the ID token was refused: {0}; the login is not trusted, start a new one (if it persists, check the issuer URL, the client id and the machine's clock)"
    )]
    InvalidIdToken(String),
    /// The userinfo endpoint could not be asked or its answer was refused.
    #[error(
        "fetching the provider's userinfo failed: {0}; start a new login, or set groups_source = \"id-token\" if the provider puts the groups in the ID token"
    )]
    Userinfo(String),
    /// The groups claim is there but is not a string or a list of strings.
    #[error(
        "the {claim:?} claim is not a list of group names: {detail}; set groups_claim to the claim that lists the user's groups"
    )]
    BadGroupsClaim {
        /// The configured claim name.
        claim: String,
        /// What was found instead.
        detail: String,
    },
    /// The user authenticated, but none of their groups maps to a role: they
    /// get nothing.
    #[error(
        "user {subject} is in no group that maps to a certmgr role (their groups: {}); an administrator must add them to a mapped group or map one of their groups in [oidc.group_roles]",
        if groups.is_empty() { "none".to_owned() } else { groups.join(", ") }
    )]
    NoMappedGroup {
        /// The user's subject at the provider.
        subject: String,
        /// The groups the provider listed for them.
        groups: Vec<String>,
    },
    /// The provider advertises no `end_session_endpoint`, so no logout URL
    /// can be built.
    #[error(
        "the OpenID provider advertises no end_session_endpoint: it does not support RP-initiated logout; end the certmgr session only"
    )]
    NoEndSession,
    /// The HTTP client could not be built.
    #[error("the HTTP client for the OpenID provider could not be built: {0}")]
    HttpClient(String),
}
