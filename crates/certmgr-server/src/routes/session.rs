//! `/api/session`: signing in with a password (a session cookie, HttpOnly
//! and SameSite=Strict, Secure over TLS), who is signed in with the
//! session's CSRF token, and signing out.

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use certmgr_core::Role;
use certmgr_engine::ErrorKind;
use certmgr_engine::session::{self, SESSION_SECS};
use certmgr_store::TagScope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::JsonBody;
use crate::gate::{AuditTarget, Caller, ClientAddress, SESSION_COOKIE, session_cookie};
use crate::problem::{ApiResult, Problem, ProblemKind};

/// A password sign-in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    /// The user's name.
    user: String,
    /// Their password.
    password: String,
}

/// The signed-in caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// `user:NAME`, `oidc:NAME` or `token:NAME`.
    name: String,
    /// admin, operator or viewer.
    role: Role,
    /// Only credentials with this tag, if set.
    scope: Option<TagScope>,
    /// Send this in `X-CSRF-Token` with every change made with the session
    /// cookie (absent for API tokens, which need none).
    csrf_token: Option<String>,
    /// When the session ends (Unix seconds; absent for API tokens).
    expires_at: Option<i64>,
    /// The operations this caller may call, as `METHOD /route` the way
    /// the API document writes them: a front end shows only the actions
    /// the gate would let through.
    allowed: Vec<String>,
}

/// Sign in with a password: sets the session cookie. Five wrong passwords
/// a minute for one user or from one address, and the next waits (429).
#[utoipa::path(post, path = "/api/session", tag = "access", request_body = SignInBody, security(()),
    responses((status = 201, body = SessionView), (status = 401, body = Problem),
        (status = 429, body = Problem)))]
pub async fn sign_in(
    State(state): State<AppState>,
    address: Option<Extension<ClientAddress>>,
    JsonBody(body): JsonBody<SignInBody>,
) -> ApiResult<Response> {
    let target = AuditTarget(format!("user:{}", body.user));
    let mut keys = vec![format!("user:{}", body.user)];
    if let Some(Extension(ClientAddress(address))) = address {
        keys.push(format!("address:{}", address.ip()));
    }
    if let Some(wait) = state.throttle().wait(&keys) {
        let secs = wait.as_secs().max(1);
        let mut response = Problem::new(
            ProblemKind::RateLimited,
            format!("too many wrong passwords: try again in {secs} s"),
        )
        .into_response();
        if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response.extensions_mut().insert(target);
        return Ok(response);
    }
    let mut response = match session::sign_in(&state.engine(), &body.user, &body.password).await {
        Ok(started) => {
            state.throttle().succeeded(&keys[0]);
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECS}{}",
                started.secret.as_str(),
                if state.secure_cookies() {
                    "; Secure"
                } else {
                    ""
                }
            );
            let view = SessionView {
                name: started.record.principal.clone(),
                role: started.record.role,
                scope: started.record.scope.clone(),
                csrf_token: Some(session::csrf_token(&started.secret)),
                expires_at: Some(started.record.expires_at),
                allowed: crate::policy::allowed(
                    started.record.role,
                    started.record.scope.is_some(),
                ),
            };
            let mut response = (StatusCode::CREATED, Json(view)).into_response();
            match HeaderValue::from_str(&cookie) {
                Ok(value) => {
                    response.headers_mut().insert(header::SET_COOKIE, value);
                }
                Err(_) => return Err(Problem::failed("the session cookie is not a header value")),
            }
            response
        }
        Err(error) if error.kind() == ErrorKind::BadInput => {
            state.throttle().failed(&keys);
            Problem::new(ProblemKind::Unauthenticated, error.to_string()).into_response()
        }
        Err(error) => Problem::from(error).into_response(),
    };
    response.extensions_mut().insert(target);
    Ok(response)
}

/// Who is signed in, with the session's CSRF token.
#[utoipa::path(get, path = "/api/session", tag = "access",
    responses((status = 200, body = SessionView), (status = 401, body = Problem)))]
pub async fn current(
    Extension(caller): Extension<Caller>,
    headers: axum::http::HeaderMap,
) -> Json<SessionView> {
    let secret = caller.session.as_ref().and(session_cookie(&headers));
    Json(SessionView {
        allowed: crate::policy::allowed(caller.principal.role, caller.principal.scope.is_some()),
        name: caller.principal.name,
        role: caller.principal.role,
        scope: caller.principal.scope,
        csrf_token: secret.map(|s| session::csrf_token(&s)),
        expires_at: caller.session.map(|s| s.expires_at),
    })
}

/// A session ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedOut {
    /// For a single sign-on session: the provider's end-session page, to
    /// end the session there too.
    logout_url: Option<String>,
}

/// Sign out: ends the session and clears the cookie.
#[utoipa::path(delete, path = "/api/session", tag = "access",
    responses((status = 200, body = SignedOut), (status = 400, body = Problem)))]
pub async fn sign_out(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Response> {
    let Some(record) = &caller.session else {
        return Err(Problem::bad_input(
            "this request came with an API token, not a session: revoke the token instead",
        ));
    };
    session::sign_out(&state.engine(), record).await?;
    let logout_url = record
        .principal
        .starts_with("oidc:")
        .then(|| crate::routes::oidc::logout_url(&state))
        .flatten();
    let mut response = Json(SignedOut { logout_url }).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("certmgr_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(response)
}
