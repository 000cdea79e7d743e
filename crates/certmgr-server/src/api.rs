//! The REST API: the router (every route behind the [`gate`](crate::gate))
//! and its OpenAPI 3.1 document, generated from the handlers' annotations
//! by the same calls that register them, so the two cannot differ.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router, middleware};
use serde::Serialize;
use utoipa::openapi::OpenApi as OpenApiDocument;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::gate::gate;
use crate::problem::{Problem, ProblemKind};
use crate::routes::{access, acme, credentials, directory, dns, jobs, oidc, session};

/// The largest request body the API reads (a PKCS#12 file in base64 fits).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "certmgr",
        description = "One store for every TLS key and certificate of an organisation: \
                       credentials, issuers, DNS-01, jobs, users and the audit log. \
                       Errors are RFC 9457 problem documents (application/problem+json).",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerToken),
    components(schemas(Problem)),
    tags(
        (name = "credentials", description = "Keys and certificates, and their lifecycle"),
        (name = "jobs", description = "Issuing and renewing, with their progress"),
        (name = "issuers", description = "MicroCAs, ACME accounts and CAs, the trust store"),
        (name = "dns", description = "DNS providers and accounts for DNS-01"),
        (name = "access", description = "Tokens, users and the audit log"),
        (name = "system", description = "Health")
    )
)]
struct ApiDoc;

/// API tokens as HTTP bearer credentials, required on every operation
/// except the open ones.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut OpenApiDocument) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("cmt_...")
                    .description(Some("An API token (certmgr token create)"))
                    .build(),
            ),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "token",
            Vec::<String>::new(),
        )]);
    }
}

/// Whether the server is up.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    status: String,
}

/// Whether the server is up (no authentication).
#[utoipa::path(get, path = "/api/health", tag = "system", security(()),
    responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
    })
}

/// The API's routes and their document.
pub fn routes() -> (Router<AppState>, OpenApiDocument) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(
            session::sign_in,
            session::current,
            session::sign_out
        ))
        .routes(routes!(oidc::login))
        .routes(routes!(oidc::callback))
        .routes(routes!(credentials::list, credentials::create))
        .routes(routes!(credentials::show, credentials::delete))
        .routes(routes!(credentials::events))
        .routes(routes!(jobs::issue))
        .routes(routes!(jobs::renew))
        .routes(routes!(credentials::revoke))
        .routes(routes!(credentials::csr))
        .routes(routes!(credentials::import))
        .routes(routes!(credentials::export))
        .routes(routes!(credentials::tag))
        .routes(routes!(credentials::untag))
        .routes(routes!(jobs::job))
        .routes(routes!(jobs::job_events))
        .routes(routes!(directory::cas, directory::create_ca))
        .routes(routes!(directory::ca))
        .routes(routes!(directory::trust, directory::add_trust))
        .routes(routes!(directory::ca_certificate))
        .routes(routes!(acme::accounts, acme::create_account))
        .routes(routes!(acme::account))
        .routes(routes!(acme::rollover))
        .routes(routes!(acme::deactivate))
        .routes(routes!(acme::catalog))
        .routes(routes!(dns::providers, dns::import_provider))
        .routes(routes!(dns::provider))
        .routes(routes!(dns::export_provider))
        .routes(routes!(dns::accounts, dns::create_account))
        .routes(routes!(dns::account, dns::delete_account))
        .routes(routes!(dns::test_account))
        .routes(routes!(directory::renewal))
        .routes(routes!(jobs::renew_due))
        .routes(routes!(access::audit))
        .routes(routes!(access::tokens, access::create))
        .routes(routes!(access::revoke))
        .routes(routes!(access::users, access::add_user))
        .split_for_parts()
}

/// Routes outside the OpenAPI document: the document itself and the
/// reference page that renders it (built into the binary).
pub const UNDOCUMENTED: [&str; 4] = [
    "/api/openapi.json",
    "/api/docs",
    "/api/docs/docs.js",
    "/api/docs/docs.css",
];

/// A built-in file, answered with its type.
fn asset(content_type: &'static str, text: &'static str) -> axum::response::Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        text,
    )
        .into_response()
}

/// The API's document, as served at `/api/openapi.json`.
pub fn openapi() -> OpenApiDocument {
    routes().1
}

/// The API: its routes, `/api/openapi.json`, the gate in front of all of
/// them, a body limit, and problem documents for unknown routes.
pub fn router(state: AppState) -> Router {
    let (routes, document) = routes();
    let document: Arc<str> = match document.to_json() {
        Ok(text) => text.into(),
        Err(e) => format!("{{\"error\": \"the OpenAPI document: {e}\"}}").into(),
    };
    routes
        .route(
            "/api/openapi.json",
            get(move || {
                let document = document.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        )],
                        document.to_string(),
                    )
                        .into_response()
                }
            }),
        )
        .route(
            "/api/docs",
            get(|| async {
                asset(
                    "text/html; charset=utf-8",
                    include_str!("../assets/docs/index.html"),
                )
            }),
        )
        .route(
            "/api/docs/docs.js",
            get(|| async {
                asset(
                    "text/javascript; charset=utf-8",
                    include_str!("../assets/docs/docs.js"),
                )
            }),
        )
        .route(
            "/api/docs/docs.css",
            get(|| async {
                asset(
                    "text/css; charset=utf-8",
                    include_str!("../assets/docs/docs.css"),
                )
            }),
        )
        .fallback(|| async {
            Problem::new(
                ProblemKind::NotFound,
                "no such route: see /api/openapi.json",
            )
        })
        .layer(middleware::from_fn_with_state(state.clone(), gate))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            state.secure_cookies(),
            crate::headers::security_headers,
        ))
        .with_state(state)
}
