//! Request bodies and query strings whose rejections are problem documents
//! like every other error (axum's own answer in plain text).

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::problem::{Problem, ProblemKind};

/// A JSON request body.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(Problem::new(
                    ProblemKind::TooLarge,
                    format!(
                        "the body is larger than {} bytes",
                        crate::api::MAX_BODY_BYTES
                    ),
                ))
            }
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
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(QueryParams(value)),
            Err(rejection) => Err(Problem::bad_input(format!(
                "the query string: {}",
                rejection.body_text()
            ))),
        }
    }
}
