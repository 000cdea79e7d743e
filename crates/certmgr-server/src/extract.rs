//! Request bodies, query strings and path parameters whose rejections are
//! problem documents like every other error (axum's own answer in plain
//! text). Text with a NUL character is refused in all three: no name, tag,
//! PEM or password holds one, and PostgreSQL cannot store one (the store
//! answered such text with a database error, a 500).

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// NUL, percent-encoded: the only way it can be in a URI.
const NUL_ENCODED: &str = "%00";

/// Whether a string anywhere in `value` (a key or a value) holds NUL.
fn holds_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(text) => text.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(holds_nul),
        serde_json::Value::Object(map) => map
            .iter()
            .any(|(key, value)| key.contains('\0') || holds_nul(value)),
        _ => false,
    }
}

/// A JSON request body (its size was checked by [`crate::body`], which
/// read it whole).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        match axum::Json::<serde_json::Value>::from_request(request, state).await {
            Ok(axum::Json(value)) if holds_nul(&value) => Err(Problem::bad_input(
                "the body: text may not hold NUL characters (\\u0000)",
            )),
            Ok(axum::Json(value)) => serde_json::from_value(value)
                .map(JsonBody)
                .map_err(|e| Problem::bad_input(format!("the body: {e}"))),
            Err(rejection) => Err(Problem::bad_input(format!(
                "the body: {} (send JSON with Content-Type: application/json)",
                rejection.body_text()
            ))),
        }
    }
}

/// A query string.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        if parts.uri.query().is_some_and(|q| q.contains(NUL_ENCODED)) {
            return Err(Problem::bad_input(
                "the query string: text may not hold NUL characters (%00)",
            ));
        }
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(QueryParams(value)),
            Err(rejection) => Err(Problem::bad_input(format!(
                "the query string: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// Path parameters (`{name}`): a segment that is not UTF-8 once decoded is
/// a bad request.
pub struct PathParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathParams<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        if parts.uri.path().contains(NUL_ENCODED) {
            return Err(Problem::bad_input(
                "the path: text may not hold NUL characters (%00)",
            ));
        }
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(PathParams(value)),
            Err(rejection) => Err(Problem::bad_input(format!(
                "the path: {}",
                rejection.body_text()
            ))),
        }
    }
}
