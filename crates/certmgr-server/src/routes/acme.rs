//! `/api/acme`: ACME accounts (register, show, key rollover, deactivate)
//! and the catalog of public ACME CAs.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use certmgr_engine::acme::account::existing_pending;
use certmgr_engine::acme::{AccountOptions, NewAccount, register};
use certmgr_store::AcmeAccountRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use crate::AppState;
use crate::extract::{JsonBody, PathParams};
use crate::gate::AuditTarget;
use crate::problem::{ApiResult, Problem};

/// The ACME accounts (their keys stay in the store).
#[utoipa::path(get, path = "/api/acme/accounts", operation_id = "acme_accounts", tag = "issuers",
    responses((status = 200, body = Vec<AcmeAccountRecord>)))]
pub async fn accounts(State(state): State<AppState>) -> ApiResult<Json<Vec<AcmeAccountRecord>>> {
    Ok(Json(state.store().list_acme_accounts().await?))
}

/// One CA of the ACME catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogCa {
    /// The catalog id (`letsencrypt`, ...).
    id: String,
    /// Its name.
    name: String,
    /// Its ACME directory.
    directory: String,
    /// A test CA whose certificates are not publicly trusted.
    staging: bool,
    /// External Account Binding is required.
    eab_required: bool,
    /// Certificate profiles are offered.
    profiles: bool,
    /// ACME Renewal Information is offered.
    ari: bool,
    /// It issues no more.
    discontinued: bool,
    /// Its documentation.
    docs: String,
}

/// The catalog of public ACME CAs.
#[utoipa::path(get, path = "/api/acme/catalog", tag = "issuers",
    responses((status = 200, body = Vec<CatalogCa>)))]
pub async fn catalog() -> ApiResult<Json<Vec<CatalogCa>>> {
    let catalog = certmgr_acme::catalog()
        .map_err(|e| Problem::failed(format!("the built-in CA catalog: {e}")))?;
    Ok(Json(
        catalog
            .into_iter()
            .map(|e| CatalogCa {
                id: e.id,
                name: e.name,
                directory: e.directory,
                staging: e.staging,
                eab_required: e.eab_required,
                profiles: e.profiles,
                ari: e.ari,
                discontinued: e.discontinued,
                docs: e.docs,
            })
            .collect(),
    ))
}

/// One ACME account (its key stays in the store).
#[utoipa::path(get, path = "/api/acme/accounts/{name}", operation_id = "acme_account", tag = "issuers",
    params(("name" = String, Path, description = "The account's name")),
    responses((status = 200, body = AcmeAccountRecord), (status = 404, body = Problem)))]
pub async fn account(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<Json<AcmeAccountRecord>> {
    Ok(Json(state.store().acme_account(&name).await?))
}

/// An ACME account to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccountBody {
    /// certmgr's name for it.
    name: String,
    /// A catalog CA id (`letsencrypt`, ...).
    ca: Option<String>,
    /// Or the CA's directory URL.
    directory: Option<String>,
    /// Contact e-mail addresses.
    #[serde(default)]
    emails: Vec<String>,
    /// You agree to the CA's terms of service.
    #[serde(default)]
    agree_tos: bool,
    /// External Account Binding key id (from the CA's account page).
    eab_kid: Option<String>,
    /// External Account Binding HMAC key, base64url.
    eab_hmac_key: Option<String>,
    /// PEM of the CA behind the directory's TLS certificate (private CAs).
    ca_bundle_pem: Option<String>,
    /// Default certificate profile.
    profile: Option<String>,
    /// Concurrent orders allowed.
    max_concurrent_orders: Option<u32>,
    /// Preferred chain issuer.
    preferred_chain: Option<String>,
}

/// Register an ACME account (again with the same name, to finish an
/// interrupted registration).
#[utoipa::path(post, path = "/api/acme/accounts", operation_id = "create_acme_account", tag = "issuers", request_body = NewAccountBody,
    responses((status = 201, body = AcmeAccountRecord), (status = 400, body = Problem),
        (status = 409, body = Problem), (status = 500, body = Problem)))]
pub async fn create_account(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewAccountBody>,
) -> ApiResult<Response> {
    let target = AuditTarget(body.name.clone());
    let outcome = async {
        let engine = state.engine();
        certmgr_core::validate_name(&body.name).map_err(certmgr_engine::EngineError::from)?;
        existing_pending(&engine, &body.name).await?;
        let eab = match (body.eab_kid, body.eab_hmac_key) {
            (Some(kid), Some(key)) => Some((
                kid,
                Zeroizing::new(
                    URL_SAFE_NO_PAD
                        .decode(key.trim().trim_end_matches('='))
                        .map_err(|_| {
                            certmgr_engine::EngineError::bad_input(
                                "eab_hmac_key is not base64url text",
                            )
                        })?,
                ),
            )),
            (None, None) => None,
            _ => {
                return Err(certmgr_engine::EngineError::bad_input(
                    "give eab_kid and eab_hmac_key together",
                ));
            }
        };
        let registration = NewAccount {
            name: body.name.clone(),
            ca: body.ca,
            directory: body.directory,
            options: AccountOptions {
                emails: body.emails,
                agree_tos: body.agree_tos,
                eab,
                ca_bundle_pem: body.ca_bundle_pem,
                profile: body.profile,
                max_concurrent_orders: body.max_concurrent_orders,
                preferred_chain: body.preferred_chain,
            },
        }
        .parse()?;
        register(&engine, registration).await
    }
    .await;
    let mut response = match outcome {
        Ok(record) => (StatusCode::CREATED, Json(record)).into_response(),
        Err(error) => Problem::from(error).into_response(),
    };
    response.extensions_mut().insert(target);
    Ok(response)
}

/// What an account operation did.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountDone {
    /// The account.
    name: String,
    /// `rolled-over` or `deactivated`.
    done: String,
}

/// Replace the account's key at the CA (RFC 8555 §7.3.5).
#[utoipa::path(post, path = "/api/acme/accounts/{name}/rollover", tag = "issuers",
    params(("name" = String, Path, description = "The account's name")),
    responses((status = 200, body = AccountDone), (status = 404, body = Problem)))]
pub async fn rollover(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<Json<AccountDone>> {
    certmgr_engine::acme::rollover(&state.engine(), &name).await?;
    Ok(Json(AccountDone {
        name,
        done: "rolled-over".into(),
    }))
}

/// Deactivate the account at the CA (it cannot be used again).
#[utoipa::path(post, path = "/api/acme/accounts/{name}/deactivate", tag = "issuers",
    params(("name" = String, Path, description = "The account's name")),
    responses((status = 200, body = AccountDone), (status = 404, body = Problem)))]
pub async fn deactivate(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<Json<AccountDone>> {
    certmgr_engine::acme::deactivate(&state.engine(), &name).await?;
    Ok(Json(AccountDone {
        name,
        done: "deactivated".into(),
    }))
}
