//! The REST API: the router (every route behind the [`gate`](crate::gate))
//! and its OpenAPI 3.1 document, generated from the handlers' annotations
//! by the same calls that register them, so the two cannot differ.

use std::sync::Arc;

use axum::http::{HeaderValue, Method, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router, middleware};
use serde::Serialize;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as OpenApiDocument, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::gate::gate;
use crate::problem::{PROBLEM_JSON, Problem, ProblemKind};
use crate::routes::{
    access, acme, credentials, dashboard, directory, dns, jobs, notifications, oidc, session,
    transfer,
};

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
        (name = "notifications", description = "Notification channels (e-mail, webhooks) and the notices sent"),
        (name = "system", description = "Health, readiness and metrics")
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
pub struct ServerHealth {
    /// Always `ok`.
    status: String,
    /// Whether single sign-on is configured (the sign-in page offers it).
    single_sign_on: bool,
}

/// Whether the server is up (no authentication).
#[utoipa::path(get, path = "/api/health", tag = "system", security(()),
    responses((status = 200, body = ServerHealth)))]
async fn health(axum::extract::State(state): axum::extract::State<AppState>) -> Json<ServerHealth> {
    Json(ServerHealth {
        status: "ok".to_owned(),
        single_sign_on: state.sso().is_some(),
    })
}

/// The API's routes and their document.
pub fn routes() -> (Router<AppState>, OpenApiDocument) {
    let (routes, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(crate::health::healthz))
        .routes(routes!(crate::health::readyz))
        .routes(routes!(crate::metrics::metrics))
        .routes(routes!(
            session::sign_in,
            session::current,
            session::sign_out
        ))
        .routes(routes!(oidc::login))
        .routes(routes!(oidc::callback))
        .routes(routes!(dashboard::dashboard))
        .routes(routes!(credentials::list, credentials::create))
        .routes(routes!(credentials::show, credentials::delete))
        .routes(routes!(credentials::events))
        .routes(routes!(jobs::issue))
        .routes(routes!(jobs::renew))
        .routes(routes!(credentials::revoke))
        .routes(routes!(transfer::csr))
        .routes(routes!(transfer::import))
        .routes(routes!(transfer::export))
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
        .routes(routes!(notifications::channels, notifications::create))
        .routes(routes!(
            notifications::show,
            notifications::update,
            notifications::delete
        ))
        .routes(routes!(notifications::test))
        .routes(routes!(notifications::notices))
        .split_for_parts();
    document_problems(&mut document);
    (routes, document)
}

/// Documents the problems every operation can answer besides those its
/// annotation names, from what answers them: the gate (401 and 403 on
/// every route the [`policy`](crate::policy) table closes, 404 for a
/// `{name}` outside the caller's tag scope), the extractors (400 for a
/// path, query or body that does not parse, 413 for a body over
/// [`MAX_BODY_BYTES`]) and the store (500). Problem bodies are declared as
/// `application/problem+json`, the type they are sent with.
fn document_problems(document: &mut OpenApiDocument) {
    for (path, item) in &mut document.paths.paths {
        let operations = [
            (Method::GET, &mut item.get),
            (Method::PUT, &mut item.put),
            (Method::POST, &mut item.post),
            (Method::DELETE, &mut item.delete),
            (Method::PATCH, &mut item.patch),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            let closed = crate::policy::policy(&method, path).is_none_or(|p| p.role.is_some());
            let mut added: Vec<(&str, &str)> = Vec::new();
            if closed {
                added.push((
                    "401",
                    "No API token or session, or one that is unknown, revoked or expired",
                ));
                added.push(("403", "The caller's role or tag scope does not allow this"));
            }
            if path.contains('{') {
                added.push((
                    "404",
                    "No such object, or one outside the caller's tag scope",
                ));
            }
            if operation.request_body.is_some()
                || operation.parameters.as_ref().is_some_and(|p| !p.is_empty())
            {
                added.push((
                    "400",
                    "The request is wrong (a path, query or body that does not parse)",
                ));
            }
            if operation.request_body.is_some() {
                added.push(("413", "The body is larger than the server accepts"));
            }
            added.push(("500", "The server failed (the database, a bug)"));
            add_problems(operation, &added);
        }
    }
}

/// Declares problem bodies as [`PROBLEM_JSON`] and adds the `added`
/// responses the operation does not declare itself.
fn add_problems(operation: &mut Operation, added: &[(&str, &str)]) {
    let problem = || Content::new(Some(Ref::from_schema_name("Problem")));
    for response in operation.responses.responses.values_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let is_problem = response.content.get("application/json").is_some_and(|c| {
            matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location == "#/components/schemas/Problem")
        });
        if is_problem {
            response.content.shift_remove("application/json");
            response.content.insert(PROBLEM_JSON.to_owned(), problem());
        }
    }
    for (status, description) in added {
        operation
            .responses
            .responses
            .entry((*status).to_owned())
            .or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description(*description)
                        .content(PROBLEM_JSON, problem())
                        .build(),
                )
            });
    }
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
/// them, the web UI ([`crate::ui`]), a body limit, and problem documents
/// for unknown routes.
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
        .layer(middleware::from_fn_with_state(state.clone(), gate))
        // The UI's pages and files hold no data: outside the gate.
        .merge(crate::ui::routes())
        .fallback(|| async {
            Problem::new(
                ProblemKind::NotFound,
                "no such route: see /api/openapi.json",
            )
        })
        .layer(middleware::from_fn(crate::body::read_body_first))
        .layer(middleware::from_fn_with_state(
            state.secure_cookies(),
            crate::headers::security_headers,
        ))
        .with_state(state)
}
