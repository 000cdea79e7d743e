//! API tokens, local users and the audit log.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use certmgr_core::Role;
use certmgr_engine::access::{create_token, create_user, parse_scope};
use certmgr_store::{AuditEntry, AuditQuery, TokenRecord, UserRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zeroize::Zeroizing;

use crate::AppState;
use crate::extract::{JsonBody, PathParams, QueryParams};
use crate::gate::AuditTarget;
use crate::problem::{ApiResult, Problem};

/// Every API token (never a secret).
#[utoipa::path(get, path = "/api/tokens", tag = "access",
    responses((status = 200, body = Vec<TokenRecord>)))]
pub async fn tokens(State(state): State<AppState>) -> ApiResult<Json<Vec<TokenRecord>>> {
    Ok(Json(state.store().list_tokens().await?))
}

/// A token or user to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    /// Its name.
    name: String,
    /// admin, operator or viewer.
    role: Role,
    /// Only credentials with this tag (`key=value`).
    tag: Option<String>,
    /// Days until it expires (1 to 3650; never when not given).
    expires_days: Option<u32>,
}

/// A token just created: its secret is in this answer and nowhere else.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewToken {
    /// The stored token.
    token: TokenRecord,
    /// The secret, shown this once: send it as `Authorization: Bearer`.
    secret: String,
}

/// Create an API token; the answer holds its secret, once.
#[utoipa::path(post, path = "/api/tokens", operation_id = "create_token", tag = "access", request_body = NewTokenBody,
    responses((status = 201, body = NewToken), (status = 400, body = Problem),
        (status = 409, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewTokenBody>,
) -> ApiResult<Response> {
    let scope = body.tag.as_deref().map(parse_scope).transpose()?;
    let issued = create_token(
        &state.engine(),
        &body.name,
        body.role,
        scope.as_ref(),
        body.expires_days,
    )
    .await?;
    let mut response = (
        StatusCode::CREATED,
        Json(NewToken {
            token: issued.record,
            secret: issued.secret.to_string(),
        }),
    )
        .into_response();
    response.extensions_mut().insert(AuditTarget(body.name));
    Ok(response)
}

/// Revoke an API token (it is refused from now on; the record stays).
#[utoipa::path(delete, path = "/api/tokens/{name}", operation_id = "revoke_token", tag = "access",
    params(("name" = String, Path, description = "The token's name")),
    responses((status = 200, body = TokenRecord), (status = 404, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<Json<TokenRecord>> {
    Ok(Json(state.store().revoke_token(&name).await?))
}

/// Every local user (never a password hash).
#[utoipa::path(get, path = "/api/users", tag = "access",
    responses((status = 200, body = Vec<UserRecord>)))]
pub async fn users(State(state): State<AppState>) -> ApiResult<Json<Vec<UserRecord>>> {
    Ok(Json(state.store().list_users().await?))
}

/// A user to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    /// Their name.
    name: String,
    /// admin, operator or viewer.
    role: Role,
    /// Only credentials with this tag (`key=value`).
    tag: Option<String>,
    /// Their password (at least 12 characters); one is made when not given.
    password: Option<String>,
}

/// A user just added.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewUser {
    /// The stored user.
    user: UserRecord,
    /// The password made for them, shown this once (absent when one was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

/// Add a local user.
#[utoipa::path(post, path = "/api/users", tag = "access", request_body = NewUserBody,
    responses((status = 201, body = NewUser), (status = 400, body = Problem),
        (status = 409, body = Problem)))]
pub async fn add_user(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewUserBody>,
) -> ApiResult<Response> {
    let scope = body.tag.as_deref().map(parse_scope).transpose()?;
    let (user, made) = create_user(
        &state.engine(),
        &body.name,
        body.role,
        scope.as_ref(),
        body.password.map(Zeroizing::new),
    )
    .await?;
    let mut response = (
        StatusCode::CREATED,
        Json(NewUser {
            user,
            password: made.map(|p| p.to_string()),
        }),
    )
        .into_response();
    response.extensions_mut().insert(AuditTarget(body.name));
    Ok(response)
}

/// Which audit entries to show.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Entries after this sequence number.
    #[serde(default)]
    after: i64,
    /// At most this many (1 to 1000; 100 when not given).
    limit: Option<u32>,
    /// Only this actor (`token:deploy`, `user:alice`, `local:root`).
    actor: Option<String>,
    /// Only this action (`cred.export`, ...).
    action: Option<String>,
    /// Only this target.
    target: Option<String>,
}

/// The audit log, oldest first.
#[utoipa::path(get, path = "/api/audit", tag = "access", params(AuditParams),
    responses((status = 200, body = Vec<AuditEntry>), (status = 400, body = Problem)))]
pub async fn audit(
    State(state): State<AppState>,
    QueryParams(params): QueryParams<AuditParams>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) || params.after < 0 {
        return Err(Problem::bad_input(
            "limit: use 1 to 1000; after: a sequence number (0 or more)",
        ));
    }
    Ok(Json(
        certmgr_engine::audit::list(
            &state.engine(),
            &AuditQuery {
                after: params.after,
                limit,
                actor: params.actor,
                action: params.action,
                target: params.target,
            },
        )
        .await?,
    ))
}
