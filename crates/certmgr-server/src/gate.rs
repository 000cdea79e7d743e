//! The gate in front of every API route: find the route's policy,
//! authenticate the caller, check role and tag scope, run the handler, and
//! write the audit entry of a change or a secret read. Handlers never check
//! access themselves (the job routes add the one check a path cannot
//! carry); they find the [`Caller`] in the request.

use std::net::SocketAddr;

use axum::extract::{FromRequestParts as _, MatchedPath, RawPathParams, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use certmgr_engine::access::{self, Principal};
use certmgr_engine::audit::{self, Actor, Outcome};
use certmgr_engine::session;
use certmgr_engine::{EngineError, ErrorKind};
use certmgr_store::{CredentialRecord, SessionRecord, StoreError};
use zeroize::Zeroizing;

use crate::AppState;
use crate::policy::{self, Policy, Scoping};
use crate::problem::{Problem, ProblemKind};

/// The client's address, set per connection by the listener.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub SocketAddr);

/// Who is calling, once the gate let them in.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The authenticated principal: role and scope.
    pub principal: Principal,
    /// The principal and address, as the audit log records them.
    pub actor: Actor,
    /// The session, when the caller came with a session cookie.
    pub session: Option<SessionRecord>,
}

impl Caller {
    /// Whether `tags` put a credential inside the caller's scope.
    pub fn reaches(&self, tags: &std::collections::BTreeMap<String, String>) -> bool {
        self.principal
            .scope
            .as_ref()
            .is_none_or(|scope| tags.get(&scope.key) == Some(&scope.value))
    }
}

/// What the audit entry names as the object of a change, when the path
/// does not (a credential or token being created); set by the handler on
/// its response.
#[derive(Debug, Clone)]
pub struct AuditTarget(pub String);

/// The one-line reason of a refused or failed request, kept on the
/// response for the audit entry.
#[derive(Debug, Clone)]
pub struct AuditDetail(pub String);

/// The middleware: see the module's documentation.
pub async fn gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(route) = request.extensions().get::<MatchedPath>().cloned() else {
        // No route matched: the router's 404.
        return next.run(request).await;
    };
    let Some(policy) = policy::policy(request.method(), route.as_str()) else {
        return Problem::new(
            ProblemKind::Forbidden,
            format!(
                "{} {} has no access policy, so it is closed to everyone",
                request.method(),
                route.as_str()
            ),
        )
        .into_response();
    };
    let address = request
        .extensions()
        .get::<ClientAddress>()
        .map(|a| a.0.ip().to_string());
    if policy.role.is_none() {
        // Open to anyone; a sign-in is still audited, as `anonymous`.
        let response = next.run(request).await;
        return match policy.audit {
            Some(action) => {
                let actor = Actor {
                    name: "anonymous".into(),
                    address,
                };
                record(&state, &actor, action, None, response).await
            }
            None => response,
        };
    }
    let (principal, session) = match authenticate(&state, request.method(), request.headers()).await
    {
        Ok(found) => found,
        Err(problem) => return problem.into_response(),
    };
    let caller = Caller {
        actor: Actor {
            name: principal.name.clone(),
            address,
        },
        principal,
        session,
    };
    let (mut parts, body) = request.into_parts();
    let name = match RawPathParams::from_request_parts(&mut parts, &state).await {
        Ok(params) => params
            .iter()
            .find(|(key, _)| *key == "name")
            .map(|(_, value)| value.to_owned()),
        Err(_) => None,
    };
    let reached = match authorize(&state, &caller, policy, name.as_deref()).await {
        Ok(reached) => reached,
        Err(problem) => {
            // An authenticated caller's refused change is audited like any other.
            return match policy.audit {
                Some(action) => {
                    record(
                        &state,
                        &caller.actor,
                        action,
                        name.as_deref(),
                        problem.into_response(),
                    )
                    .await
                }
                None => problem.into_response(),
            };
        }
    };
    if let Some(credential) = reached {
        parts.extensions.insert(Reached(credential));
    }
    parts.extensions.insert(caller.clone());
    let response = next
        .run(axum::extract::Request::from_parts(parts, body))
        .await;
    match policy.audit {
        Some(action) => record(&state, &caller.actor, action, name.as_deref(), response).await,
        None => response,
    }
}

/// The principal of the request's bearer token, or of its session cookie
/// (then a request that changes something must carry the session's CSRF
/// token in `X-CSRF-Token`).
async fn authenticate(
    state: &AppState,
    method: &Method,
    headers: &axum::http::HeaderMap,
) -> Result<(Principal, Option<SessionRecord>), Problem> {
    let unauthenticated = |error: EngineError| match error.kind() {
        ErrorKind::BadInput => Problem::new(ProblemKind::Unauthenticated, error.to_string()),
        ErrorKind::Failed => Problem::from(error),
    };
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                Problem::new(
                    ProblemKind::Unauthenticated,
                    "the Authorization header must be Bearer and an API token",
                )
            })?;
        let principal = access::authenticate_token(&state.engine(), token)
            .await
            .map_err(unauthenticated)?;
        return Ok((principal, None));
    }
    let Some(secret) = session_cookie(headers) else {
        return Err(Problem::new(
            ProblemKind::Unauthenticated,
            "sign in (POST /api/session) or send an API token as Authorization: Bearer cmt_...",
        ));
    };
    let (principal, record) = session::authenticate(&state.engine(), &secret)
        .await
        .map_err(unauthenticated)?;
    let safe = matches!(*method, Method::GET | Method::HEAD);
    let csrf = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !safe && !constant_time_eq(csrf.as_bytes(), session::csrf_token(&secret).as_bytes()) {
        return Err(Problem::new(
            ProblemKind::Forbidden,
            "a change made with a session cookie needs the session's CSRF token in X-CSRF-Token (GET /api/session gives it)",
        ));
    }
    Ok((principal, Some(record)))
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "certmgr_session";

/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of the session cookie, if the request has one.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<Zeroizing<String>> {
    cookie(headers, SESSION_COOKIE)
}

/// The value of the cookie `wanted`, if the request has one.
pub(crate) fn cookie(headers: &axum::http::HeaderMap, wanted: &str) -> Option<Zeroizing<String>> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| Zeroizing::new(value.to_owned()))
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The credential a per-credential route names, as the gate read it (in
/// the caller's scope), for its handler to use without reading it again.
#[derive(Debug, Clone)]
pub struct Reached(pub CredentialRecord);

/// Role, then scope; a credential outside the scope is not found. A
/// per-credential route's credential comes back, read once here.
async fn authorize(
    state: &AppState,
    caller: &Caller,
    policy: Policy,
    name: Option<&str>,
) -> Result<Option<CredentialRecord>, Problem> {
    let principal = &caller.principal;
    if let Some(needed) = policy.role
        && !policy::allows(principal.role, needed)
    {
        return Err(Problem::new(
            ProblemKind::Forbidden,
            format!(
                "{} has the {} role; this needs {}",
                principal.name, principal.role, needed
            ),
        ));
    }
    match policy.scoping {
        Scoping::Any => Ok(None),
        Scoping::Unscoped => match &principal.scope {
            Some(scope) => Err(Problem::new(
                ProblemKind::Forbidden,
                format!(
                    "{} is limited to credentials tagged {}={}; this needs an unscoped role",
                    principal.name, scope.key, scope.value
                ),
            )),
            None => Ok(None),
        },
        Scoping::Credential => {
            let name = name.unwrap_or_default();
            credential_in_scope(state, caller, name).await.map(Some)
        }
    }
}

/// The credential `name` if the caller's scope reaches it; otherwise the
/// same 404 as for a credential that does not exist.
pub async fn credential_in_scope(
    state: &AppState,
    caller: &Caller,
    name: &str,
) -> Result<CredentialRecord, Problem> {
    let store = state.store();
    let not_found = || {
        Problem::from(EngineError::from(StoreError::NotFound {
            kind: "credential",
            name: name.to_owned(),
        }))
    };
    if name.contains('\0') {
        // No name holds NUL, and PostgreSQL refuses to look one up.
        return Err(not_found());
    }
    let credential = match store.credential(name).await {
        Ok(credential) => credential,
        Err(StoreError::NotFound { .. }) => return Err(not_found()),
        Err(error) => return Err(EngineError::from(error).into()),
    };
    if caller.principal.scope.is_some() {
        let tags = store.tags(&credential).await?;
        if !caller.reaches(&tags) {
            return Err(not_found());
        }
    }
    Ok(credential)
}

/// Write the audit entry of a finished request: what the handler named, how
/// it ended.
async fn record(
    state: &AppState,
    actor: &Actor,
    action: &str,
    name: Option<&str>,
    response: Response,
) -> Response {
    let status = response.status();
    if status == axum::http::StatusCode::TOO_MANY_REQUESTS {
        // Turned away before anything was checked: a flood of these would
        // only fill the log.
        return response;
    }
    let outcome = if status.is_success() {
        Outcome::Ok
    } else if status.is_client_error() {
        Outcome::BadInput
    } else {
        Outcome::Failed
    };
    let target = response
        .extensions()
        .get::<AuditTarget>()
        .map(|t| t.0.clone())
        .or_else(|| name.map(str::to_owned))
        .unwrap_or_else(|| "-".to_owned());
    let detail = response
        .extensions()
        .get::<AuditDetail>()
        .map(|d| d.0.clone())
        .unwrap_or_default();
    match audit::record(&state.engine(), actor, action, &target, outcome, &detail).await {
        Ok(_) => response,
        Err(error) => Problem::failed(format!(
            "{}; the operation itself ended with HTTP {}",
            error,
            status.as_u16()
        ))
        .into_response(),
    }
}
