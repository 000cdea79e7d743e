//! Every request body is read whole before anything answers.
//!
//! A handler, an extractor or the gate may refuse a request before it has
//! read the body (a wrong content type, a missing token). hyper then closes
//! the connection with the rest of the body unread, and the client, still
//! writing it, gets a reset instead of the answer (Python reports
//! "EOF occurred in violation of protocol"). Reading the body first (at
//! most [`MAX_BODY_BYTES`], the API's bodies are read whole anyway) keeps
//! every answer deliverable and the connection reusable.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::MAX_BODY_BYTES;
use crate::problem::{Problem, ProblemKind};

/// The middleware.
pub async fn read_body_first(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return too_large();
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(error) => {
            let over =
                std::iter::successors(Some(&error as &(dyn std::error::Error + 'static)), |e| {
                    e.source()
                })
                .any(|e| e.is::<http_body_util::LengthLimitError>());
            if over {
                too_large()
            } else {
                Problem::bad_input(format!("the body could not be read: {error}")).into_response()
            }
        }
    }
}

fn too_large() -> Response {
    Problem::new(
        ProblemKind::TooLarge,
        format!("the body is larger than {MAX_BODY_BYTES} bytes"),
    )
    .into_response()
}
