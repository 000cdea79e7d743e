//! Single sign-on with OpenID Connect (authorization code + PKCE): the
//! login redirects the browser to the provider; the callback checks the
//! ID token, maps the user's groups to a role (no mapped group: refused)
//! and starts a session like a password sign-in.
//!
//! Logins in progress are kept in this process for
//! [`certmgr_oidc::OidcConfig::login_timeout_secs`]: the provider must send
//! the browser back to the node that sent it (one node, or sticky sessions).
//! Each is bound to the browser that started it by a cookie
//! ([`LOGIN_COOKIE`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use certmgr_engine::access::Principal;
use certmgr_engine::session::{self, SESSION_SECS};
use certmgr_oidc::{OidcClient, OidcError, PendingLogin};

use crate::AppState;
use crate::gate::{AuditTarget, SESSION_COOKIE, constant_time_eq, cookie};
use crate::problem::{ApiResult, Problem, ProblemKind};

/// The cookie that binds a login in progress to the browser that started
/// it; its value is the login's `state`. A callback that comes without it
/// is refused, so that nobody can sign someone else in to their own account
/// by having them open a callback link (login CSRF, RFC 6749 section
/// 10.12). SameSite=Lax: it must come along on the provider's redirect back.
pub const LOGIN_COOKIE: &str = "certmgr_oidc_login";

/// Logins started and not yet back, at most this many (older ones are
/// dropped first).
const MAX_PENDING: usize = 10_000;

/// The provider, and the logins in progress by their `state`.
pub struct Sso {
    /// The relying party.
    pub client: OidcClient,
    pending: Mutex<HashMap<String, PendingLogin>>,
}

impl Sso {
    /// Single sign-on with this provider.
    pub fn new(client: OidcClient) -> Arc<Self> {
        Arc::new(Sso {
            client,
            pending: Mutex::new(HashMap::new()),
        })
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<String, PendingLogin>> {
        // Every write is one insert or removal: a poisoned map is still whole.
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn sso(state: &AppState) -> ApiResult<&Sso> {
    state.sso().ok_or_else(|| {
        Problem::bad_input(
            "single sign-on is not configured: add an [oidc] section to the server's configuration",
        )
    })
}

/// Start a single sign-on: redirect to the provider, with a cookie that
/// binds the login to this browser.
#[utoipa::path(get, path = "/api/oidc/login", tag = "access", security(()),
    responses((status = 303, description = "To the provider's login page"),
        (status = 400, body = Problem)))]
pub async fn login(State(state): State<AppState>) -> ApiResult<Response> {
    let sso = sso(&state)?;
    let (url, pending) = sso.client.begin_login();
    let binding = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={}; Path=/api/oidc/callback; HttpOnly; SameSite=Lax; Max-Age={}{}",
        pending.state,
        sso.client.config().login_timeout_secs,
        if state.secure_cookies() {
            "; Secure"
        } else {
            ""
        }
    ))
    .map_err(|_| Problem::failed("the login's state is not a cookie value"))?;
    {
        let mut table = sso.pending();
        if table.len() >= MAX_PENDING {
            let timeout = sso.client.config().login_timeout_secs;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            table.retain(|_, p| now.saturating_sub(p.started_at) < timeout);
        }
        table.insert(pending.state.clone(), pending);
    }
    let location = HeaderValue::from_str(url.as_str())
        .map_err(|_| Problem::failed("the provider's login URL is not a header value"))?;
    Ok((
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location), (header::SET_COOKIE, binding)],
    )
        .into_response())
}

/// The provider's answer: check it (it must come to the browser that
/// started the login), start a session, go to the UI.
#[utoipa::path(get, path = "/api/oidc/callback", tag = "access", security(()),
    params(("code" = String, Query, description = "The authorization code"),
        ("state" = String, Query, description = "The login's state")),
    responses((status = 200, description = "Signed in: the session cookie, and a page that moves on to the UI"),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 502, body = Problem)))]
pub async fn callback(State(state): State<AppState>, request: Request) -> ApiResult<Response> {
    let sso = sso(&state)?;
    let query = request.uri().query().unwrap_or_default();
    let refused = |error: OidcError| match error {
        OidcError::NoMappedGroup { .. } => Problem::new(ProblemKind::Forbidden, error.to_string()),
        OidcError::ProviderRefused { .. }
        | OidcError::StateMismatch
        | OidcError::LoginExpired { .. }
        | OidcError::BadCallback(_)
        | OidcError::InvalidIdToken(_) => {
            Problem::new(ProblemKind::Unauthenticated, error.to_string())
        }
        other => Problem::new(ProblemKind::Upstream, other.to_string()),
    };
    let callback = sso.client.parse_callback(query).map_err(refused)?;
    let from_this_browser = cookie(request.headers(), LOGIN_COOKIE)
        .is_some_and(|bound| constant_time_eq(bound.as_bytes(), callback.state.as_bytes()));
    if !from_this_browser {
        return Err(Problem::new(
            ProblemKind::Unauthenticated,
            "this sign-in was not started in this browser (or took too long): start again at /api/oidc/login",
        ));
    }
    let Some(pending) = sso.pending().remove(&callback.state) else {
        return Err(Problem::new(
            ProblemKind::Unauthenticated,
            "this sign-in is unknown or was finished already: start again at /api/oidc/login",
        ));
    };
    let identity = match sso
        .client
        .finish_login(pending, &callback.code, &callback.state)
        .await
    {
        Ok(identity) => identity,
        Err(error) => {
            let target = match &error {
                OidcError::NoMappedGroup { subject, .. } => format!("oidc:{subject}"),
                _ => "oidc".to_owned(),
            };
            let mut response = refused(error).into_response();
            response.extensions_mut().insert(AuditTarget(target));
            return Ok(response);
        }
    };
    let name = identity
        .email
        .clone()
        .or(identity.name.clone())
        .unwrap_or_else(|| identity.subject.clone());
    let principal = Principal {
        name: format!("oidc:{name}"),
        role: identity.role,
        scope: None,
    };
    let started = session::start(&state.engine(), &principal).await?;
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECS}{}",
        started.secret.as_str(),
        if state.secure_cookies() {
            "; Secure"
        } else {
            ""
        }
    );
    // A page that moves on to the UI: the browser arrived from the
    // provider's site, and a SameSite=Strict cookie goes only with a
    // navigation started on this one.
    let mut response = (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        SIGNED_IN_PAGE,
    )
        .into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie)
            .map_err(|_| Problem::failed("the session cookie is not a header value"))?,
    );
    response
        .extensions_mut()
        .insert(AuditTarget(principal.name));
    Ok(response)
}

/// What a browser back from the provider sees for an instant.
const SIGNED_IN_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\">\
<meta http-equiv=\"refresh\" content=\"0;url=/\"><title>certmgr</title></head>\
<body><p>Signed in. <a href=\"/\">Continue</a></p></body></html>\n";

/// Where to send the browser after a single sign-on session ended: the
/// provider's end-session page.
pub fn logout_url(state: &AppState) -> Option<String> {
    state
        .sso()
        .and_then(|sso| sso.client.logout_url(None, None).ok())
        .map(|url| url.to_string())
}
