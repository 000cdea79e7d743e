//! `/api/dashboard`: the numbers of the UI's first page in one answer.

use axum::extract::State;
use axum::{Extension, Json};
use certmgr_engine::dashboard::{self, Dashboard};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::extract::QueryParams;
use crate::gate::Caller;
use crate::problem::{ApiResult, Problem};

/// Where the viewer's days start.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    /// The viewer's offset from UTC in minutes, east positive (-840 to
    /// 840; 0 when not given): the expiry timeline counts their days.
    utc_offset_minutes: Option<i32>,
}

/// Credentials by status and health, expiries per day for 90 days, the
/// failing ones first and the next renewals, for the caller's scope.
#[utoipa::path(get, path = "/api/dashboard", tag = "credentials", params(DashboardQuery),
    responses((status = 200, body = Dashboard), (status = 400, body = Problem)))]
pub async fn dashboard(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    QueryParams(query): QueryParams<DashboardQuery>,
) -> ApiResult<Json<Dashboard>> {
    let offset = query.utc_offset_minutes.unwrap_or(0);
    if !(-840..=840).contains(&offset) {
        return Err(Problem::bad_input(format!(
            "utc_offset_minutes {offset}: use -840 to 840"
        )));
    }
    let scope: Vec<_> = caller.principal.scope.iter().cloned().collect();
    Ok(Json(
        dashboard::dashboard(&state.engine(), &scope, offset).await?,
    ))
}
