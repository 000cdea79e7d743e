//! `/api/notifications`: notification channels (list, create, show,
//! replace, delete, send a test message; admins only, secrets never shown)
//! and the notices sent (viewers and up, unscoped principals only: notices
//! name credentials of every scope).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use certmgr_engine::notify::{self, ChannelRequest, ChannelView, NoticePage, TestSent};
use certmgr_store::NoticeQuery;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::extract::{JsonBody, PathParams, QueryParams};
use crate::gate::AuditTarget;
use crate::problem::{ApiResult, Problem};

/// Every channel (secrets shown only as whether they are set).
#[utoipa::path(get, path = "/api/notifications/channels", operation_id = "notification_channels",
    tag = "notifications", responses((status = 200, body = Vec<ChannelView>)))]
pub async fn channels(State(state): State<AppState>) -> ApiResult<Json<Vec<ChannelView>>> {
    Ok(Json(notify::channels(&state.engine()).await?))
}

/// Create a channel: `email` (SMTP with STARTTLS or TLS) or `webhook`
/// (`generic` signed JSON, `slack`, `teams`). A refusal names the field at
/// fault in the problem's `field`.
#[utoipa::path(post, path = "/api/notifications/channels", operation_id = "create_channel",
    tag = "notifications", request_body = ChannelRequest,
    responses((status = 201, body = ChannelView), (status = 400, body = Problem),
        (status = 409, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<ChannelRequest>,
) -> ApiResult<Response> {
    let target = AuditTarget(body.name.clone().unwrap_or_else(|| "-".into()));
    let mut response = match notify::create_channel(&state.engine(), &body).await {
        Ok(view) => (StatusCode::CREATED, Json(view)).into_response(),
        Err(error) => Problem::from(error).into_response(),
    };
    response.extensions_mut().insert(target);
    Ok(response)
}

/// One channel.
#[utoipa::path(get, path = "/api/notifications/channels/{name}", operation_id = "notification_channel",
    tag = "notifications",
    params(("name" = String, Path, description = "The channel's name")),
    responses((status = 200, body = ChannelView), (status = 404, body = Problem)))]
pub async fn show(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<Json<ChannelView>> {
    Ok(Json(notify::channel(&state.engine(), &name).await?))
}

/// Replace a channel's settings. Secrets left out of the body (SMTP
/// `password`, webhook `url` and `secret`) are kept while the kind stays
/// the same; `""` removes one.
#[utoipa::path(put, path = "/api/notifications/channels/{name}", operation_id = "update_channel",
    tag = "notifications", request_body = ChannelRequest,
    params(("name" = String, Path, description = "The channel's name")),
    responses((status = 200, body = ChannelView), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
    JsonBody(body): JsonBody<ChannelRequest>,
) -> ApiResult<Json<ChannelView>> {
    Ok(Json(
        notify::update_channel(&state.engine(), &name, &body).await?,
    ))
}

/// Delete a channel (notices already sent on it stay in the log).
#[utoipa::path(delete, path = "/api/notifications/channels/{name}", operation_id = "delete_channel",
    tag = "notifications",
    params(("name" = String, Path, description = "The channel's name")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<StatusCode> {
    notify::delete_channel(&state.engine(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a test message on the channel (enabled or not). 200 when the SMTP
/// server or the webhook's receiver accepted it; 502 (`upstream-failed`)
/// with the reason when not.
#[utoipa::path(post, path = "/api/notifications/channels/{name}/test", operation_id = "test_channel",
    tag = "notifications",
    params(("name" = String, Path, description = "The channel's name")),
    responses((status = 200, body = TestSent), (status = 404, body = Problem),
        (status = 502, body = Problem)))]
pub async fn test(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<Json<TestSent>> {
    Ok(Json(notify::send_test(&state.engine(), &name).await?))
}

/// Which notices to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoticeParams {
    /// Only this credential.
    credential: Option<String>,
    /// Only this event: issuance-failed, renewal-overdue, expiring, expired, revoked.
    event: Option<String>,
    /// Only notices delivered (or to deliver) on this channel.
    channel: Option<String>,
    /// Only notices with a delivery in this state: pending, sent, failed.
    state: Option<String>,
    /// Only notices recorded at or after this time (Unix seconds).
    since: Option<i64>,
    /// The next page: the `next_before` of the previous one.
    before: Option<String>,
    /// At most this many (1-500, default 100).
    limit: Option<u32>,
}

/// The notices decided, newest first, each with its delivery per channel.
#[utoipa::path(get, path = "/api/notifications", operation_id = "notices", tag = "notifications",
    params(NoticeParams),
    responses((status = 200, body = NoticePage), (status = 400, body = Problem)))]
pub async fn notices(
    State(state): State<AppState>,
    QueryParams(params): QueryParams<NoticeParams>,
) -> ApiResult<Json<NoticePage>> {
    let query = NoticeQuery {
        before: params.before,
        limit: params.limit.unwrap_or(100),
        credential: params.credential,
        event: params.event,
        channel: params.channel,
        state: params.state,
        since: params.since,
    };
    Ok(Json(notify::notices(&state.engine(), &query).await?))
}
