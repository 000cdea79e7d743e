//! MicroCAs, the trust store and the renewal plan.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use certmgr_core::KeySpec;
use certmgr_engine::microca::NewMicroCa;
use certmgr_engine::renewal::{Decision, SolverChoice};
use certmgr_engine::responders::AnswerOptions;
use certmgr_engine::view::{self, CaView, CredentialFilter};
use certmgr_store::TrustAnchorRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{JsonBody, PathParams};
use crate::gate::{AuditTarget, Caller};
use crate::problem::{ApiResult, Problem};

/// Every MicroCA.
#[utoipa::path(get, path = "/api/cas", tag = "issuers",
    responses((status = 200, body = Vec<CaView>)))]
pub async fn cas(State(state): State<AppState>) -> ApiResult<Json<Vec<CaView>>> {
    let engine = state.engine();
    let cas = engine.store().list_cas().await?;
    Ok(Json(
        cas.iter()
            .map(|ca| CaView::new(ca, engine.now()))
            .collect::<Result<_, _>>()?,
    ))
}

/// One MicroCA.
#[utoipa::path(get, path = "/api/cas/{name}", tag = "issuers",
    params(("name" = String, Path, description = "The CA's name")),
    responses((status = 200, body = CaView), (status = 404, body = Problem)))]
pub async fn ca(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<Json<CaView>> {
    let engine = state.engine();
    let ca = engine.store().ca(&name).await?;
    Ok(Json(CaView::new(&ca, engine.now())?))
}

/// A MicroCA's certificates, PEM: the root, then the intermediate if it has
/// one (what clients and servers are given to trust).
#[utoipa::path(get, path = "/api/cas/{name}/certificate", tag = "issuers",
    params(("name" = String, Path, description = "The CA's name")),
    responses((status = 200, content_type = "application/x-pem-file", body = String),
        (status = 404, body = Problem)))]
pub async fn ca_certificate(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<Response> {
    let ca = state.store().ca(&name).await?;
    let mut certificates = vec![ca.root_der.clone()];
    certificates.extend(ca.intermediate_der.clone());
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/x-pem-file"),
        )],
        certmgr_pki::certs_to_pem(&certificates),
    )
        .into_response())
}

/// A MicroCA to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCaBody {
    /// Its name.
    name: String,
    /// Its key (ecdsa-p256 when not given).
    key: Option<KeySpec>,
    /// Validity of the root, in days (1 to 3650; 3650 when not given).
    validity_days: Option<u32>,
    /// Sign leaves with an intermediate under the root.
    #[serde(default)]
    intermediate: bool,
    /// The root's common name.
    common_name: Option<String>,
    /// The root's organization.
    organization: Option<String>,
}

/// Create a MicroCA.
#[utoipa::path(post, path = "/api/cas", tag = "issuers", request_body = NewCaBody,
    responses((status = 201, body = CaView), (status = 400, body = Problem),
        (status = 409, body = Problem)))]
pub async fn create_ca(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewCaBody>,
) -> ApiResult<Response> {
    let engine = state.engine();
    let target = AuditTarget(body.name.clone());
    let ca = certmgr_engine::microca::create_ca(
        &engine,
        &NewMicroCa {
            name: body.name,
            key: body.key.unwrap_or(KeySpec::EcdsaP256),
            validity_days: body.validity_days.unwrap_or(3650),
            intermediate: body.intermediate,
            common_name: body.common_name,
            organization: body.organization,
        },
    )
    .await;
    let mut response = match ca {
        Ok(ca) => (StatusCode::CREATED, Json(CaView::new(&ca, engine.now())?)).into_response(),
        Err(error) => Problem::from(error).into_response(),
    };
    response.extensions_mut().insert(target);
    Ok(response)
}

/// The trust store's anchors.
#[utoipa::path(get, path = "/api/trust", tag = "issuers",
    responses((status = 200, body = Vec<TrustAnchorRecord>)))]
pub async fn trust(State(state): State<AppState>) -> ApiResult<Json<Vec<TrustAnchorRecord>>> {
    Ok(Json(state.store().trust_anchors().await?))
}

/// Certificates to trust.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustBody {
    /// One or more CA certificates, PEM.
    pem: String,
}

/// One anchor added (or found trusted already).
#[derive(Debug, Serialize, ToSchema)]
pub struct TrustAdded {
    /// The anchor.
    anchor: TrustAnchorRecord,
    /// False when it was trusted already.
    new: bool,
}

/// Trust CA certificates (each is checked before any is stored).
#[utoipa::path(post, path = "/api/trust", tag = "issuers", request_body = TrustBody,
    responses((status = 200, body = Vec<TrustAdded>), (status = 400, body = Problem)))]
pub async fn add_trust(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<TrustBody>,
) -> ApiResult<Json<Vec<TrustAdded>>> {
    let added = certmgr_engine::trust::add(&state.engine(), body.pem.as_bytes()).await?;
    Ok(Json(
        added
            .into_iter()
            .map(|a| TrustAdded {
                anchor: a.anchor,
                new: a.new,
            })
            .collect(),
    ))
}

/// What renewal would do now (a dry run), for the credentials the caller's
/// scope reaches.
#[utoipa::path(get, path = "/api/renewal", tag = "credentials",
    responses((status = 200, body = Vec<Decision>)))]
pub async fn renewal(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<Decision>>> {
    let engine = state.engine();
    let decisions = certmgr_engine::renewal::renew_due(
        &engine,
        SolverChoice::FromOptions(AnswerOptions::default()),
        true,
        certmgr_engine::renewal::Scope::Every,
    )
    .await?;
    let Some(scope) = &caller.principal.scope else {
        return Ok(Json(decisions));
    };
    let reachable: BTreeSet<String> = view::credentials(
        &engine,
        &CredentialFilter {
            tags: vec![scope.clone()],
            ..CredentialFilter::default()
        },
    )
    .await?
    .into_iter()
    .map(|c| c.name)
    .collect();
    Ok(Json(
        decisions
            .into_iter()
            .filter(|d| reachable.contains(&d.name))
            .collect(),
    ))
}
