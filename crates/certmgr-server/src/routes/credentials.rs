//! `/api/credentials`: list (paged, filtered, within the caller's scope),
//! create, show, delete, events, tags, CSR, import, revoke and export. Issue
//! and renew are jobs ([`super::jobs`]).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use certmgr_engine::credential::CredentialRequest;
use certmgr_engine::view::{self, CredentialDetail, CredentialFilter, CredentialSummary, Sort};
use certmgr_store::{CredentialRecord, Event};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::extract::{JsonBody, PathParams, QueryParams};
use crate::gate::{AuditTarget, Caller, Reached};
use crate::problem::{ApiResult, Problem, ProblemKind};

/// The most items one page holds.
const MAX_PAGE: u32 = 1000;
/// Items per page when the request does not say.
const DEFAULT_PAGE: u32 = 100;

/// Filters and paging of the credential listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this status: pending, issuing, valid, renewal-due, failed, revoked or expired.
    status: Option<String>,
    /// Only this health: ok, warning or error.
    health: Option<String>,
    /// Only this issuer: `ca:NAME`, `acme:ACCOUNT`, `manual` or `import`.
    issuer: Option<String>,
    /// Only those expiring before this time (Unix seconds).
    expiring_before: Option<i64>,
    /// Only those with a hostname containing this text.
    hostname: Option<String>,
    /// Only those carrying this tag (`key=value`).
    tag: Option<String>,
    /// Only those whose name or a hostname contains this text.
    search: Option<String>,
    /// `name` (the default) or `expiry` (soonest first; those without a
    /// certificate last).
    sort: Option<String>,
    /// Items per page (1 to 1000; 100 when not given).
    limit: Option<u32>,
    /// Where to continue: the `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One page of credentials.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialPage {
    /// The credentials, by name.
    items: Vec<CredentialSummary>,
    /// Give this as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// List the credentials the caller's scope reaches.
#[utoipa::path(get, path = "/api/credentials", tag = "credentials", params(ListQuery),
    responses((status = 200, body = CredentialPage), (status = 400, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    QueryParams(query): QueryParams<ListQuery>,
) -> ApiResult<Json<CredentialPage>> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Problem::bad_input(format!(
            "limit {limit}: use 1 to {MAX_PAGE}"
        )));
    }
    let after = query
        .cursor
        .as_deref()
        .map(|cursor| {
            URL_SAFE_NO_PAD
                .decode(cursor)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| {
                    Problem::bad_input("cursor: give the next_cursor of the previous page")
                })
        })
        .transpose()?;
    let mut filter = CredentialFilter {
        status: parse_text(query.status.as_deref(), "status")?,
        health: parse_text(query.health.as_deref(), "health")?,
        issuer: query
            .issuer
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e: certmgr_core::IssuerRefError| Problem::bad_input(e.to_string()))?,
        expiring_before: query.expiring_before,
        hostname_contains: query.hostname.clone(),
        tags: Vec::new(),
        text: query.search.clone(),
        sort: match query.sort.as_deref() {
            None | Some("name") => Sort::Name,
            Some("expiry") => Sort::Expiry,
            Some(other) => {
                return Err(Problem::bad_input(format!(
                    "sort {other:?}: use name or expiry"
                )));
            }
        },
    };
    if let Some(tag) = &query.tag {
        filter.tags.push(certmgr_engine::access::parse_scope(tag)?);
    }
    if let Some(scope) = &caller.principal.scope {
        filter.tags.push(scope.clone());
    }
    let page =
        view::credentials_page(&state.engine(), &filter, after.as_deref(), Some(limit)).await?;
    Ok(Json(CredentialPage {
        items: page.items,
        next_cursor: page
            .next_after
            .map(|name| URL_SAFE_NO_PAD.encode(name.as_bytes())),
    }))
}

fn parse_text<T: std::str::FromStr<Err = String>>(
    text: Option<&str>,
    what: &str,
) -> ApiResult<Option<T>> {
    text.map(|t| {
        t.parse()
            .map_err(|e: String| Problem::bad_input(format!("{what}: {e}")))
    })
    .transpose()
}

/// A credential as asked for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCredentialBody {
    /// Its name.
    name: String,
    /// Hostnames: DNS names, wildcards, IP addresses, IDNs.
    hostnames: Vec<String>,
    /// Key specs: none (ECDSA P-256), one, or one RSA and one ECDSA key.
    #[serde(default)]
    keys: Vec<String>,
    /// The issuer: `ca:NAME`, `acme:ACCOUNT`, `manual` or `import`.
    issuer: String,
    /// ACME challenge type: http-01, tls-alpn-01 or dns-01.
    challenge: Option<String>,
    /// Validity of issued certificates, in days (MicroCA).
    validity_days: Option<u32>,
    /// Days before expiry to renew.
    renew_before_days: Option<u32>,
    /// ACME profile.
    profile: Option<String>,
    /// Preferred chain issuer (ACME).
    preferred_chain: Option<String>,
    /// Where `_acme-challenge` is delegated to (dns-01).
    challenge_alias: Option<String>,
    /// The DNS account publishing the records (dns-01).
    dns_account: Option<String>,
    /// Tags (`{"team": "web"}`). A scoped caller's scope tag is added.
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// Create a credential (no key or certificate yet).
#[utoipa::path(post, path = "/api/credentials", operation_id = "create_credential", tag = "credentials", request_body = NewCredentialBody,
    responses((status = 201, body = CredentialRecord), (status = 400, body = Problem),
        (status = 409, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<NewCredentialBody>,
) -> ApiResult<Response> {
    let mut tags = body.tags;
    if let Some(scope) = &caller.principal.scope {
        match tags.get(&scope.key) {
            Some(value) if *value != scope.value => {
                return Err(Problem::new(
                    ProblemKind::Forbidden,
                    format!(
                        "{} may only create credentials tagged {}={}",
                        caller.principal.name, scope.key, scope.value
                    ),
                ));
            }
            _ => {
                tags.insert(scope.key.clone(), scope.value.clone());
            }
        }
    }
    let request = CredentialRequest {
        name: body.name.clone(),
        hosts: body.hostnames,
        keys: body.keys,
        issuer: body.issuer,
        challenge: body.challenge,
        validity_days: body.validity_days,
        renew_before_days: body.renew_before_days,
        profile: body.profile,
        preferred_chain: body.preferred_chain,
        challenge_alias: body.challenge_alias,
        dns_account: body.dns_account,
        tags: tags.iter().map(|(k, v)| format!("{k}={v}")).collect(),
    };
    let outcome = async {
        let valid = request.parse()?;
        certmgr_engine::credential::create(&state.engine(), &valid).await
    }
    .await;
    let mut response = match outcome {
        Ok(credential) => (StatusCode::CREATED, Json(credential)).into_response(),
        Err(error) => {
            let problem = Problem::from(error);
            // The one conflict creating can meet: the name is taken.
            if problem.status == StatusCode::CONFLICT.as_u16() {
                problem.at("name").into_response()
            } else {
                problem.into_response()
            }
        }
    };
    response
        .extensions_mut()
        .insert(AuditTarget(body.name.clone()));
    Ok(response)
}

/// Show a credential: its record, tags, keys and certificates (never a key).
#[utoipa::path(get, path = "/api/credentials/{name}", tag = "credentials",
    params(("name" = String, Path, description = "The credential's name")),
    responses((status = 200, body = CredentialDetail), (status = 404, body = Problem)))]
pub async fn show(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<Json<CredentialDetail>> {
    Ok(Json(view::credential(&state.engine(), &name, false).await?))
}

/// The credential's events, oldest first.
#[utoipa::path(get, path = "/api/credentials/{name}/events", tag = "credentials",
    params(("name" = String, Path, description = "The credential's name")),
    responses((status = 200, body = Vec<Event>), (status = 404, body = Problem)))]
pub async fn events(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<Json<Vec<Event>>> {
    let detail = view::credential(&state.engine(), &name, true).await?;
    Ok(Json(detail.events.unwrap_or_default()))
}

/// Delete a credential with its keys and certificates (its events stay).
#[utoipa::path(delete, path = "/api/credentials/{name}", tag = "credentials",
    params(("name" = String, Path, description = "The credential's name")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<StatusCode> {
    state.store().delete_credential(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Tags to set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsBody {
    /// Tags to add or replace (`{"env": "prod"}`).
    tags: BTreeMap<String, String>,
}

/// Add or replace tags.
#[utoipa::path(put, path = "/api/credentials/{name}/tags", tag = "credentials", request_body = TagsBody,
    params(("name" = String, Path, description = "The credential's name")),
    responses((status = 200, body = BTreeMap<String, String>), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
pub async fn tag(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(name): PathParams<String>,
    JsonBody(body): JsonBody<TagsBody>,
) -> ApiResult<Json<BTreeMap<String, String>>> {
    if let Some(scope) = &caller.principal.scope
        && body.tags.get(&scope.key).is_some_and(|v| *v != scope.value)
    {
        return Err(scope_tag_refused(&caller));
    }
    let tags: Vec<String> = body.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let engine = state.engine();
    certmgr_engine::credential::tag(&engine, &name, &tags).await?;
    let credential = engine.store().credential(&name).await?;
    Ok(Json(engine.store().tags(&credential).await?))
}

/// Remove a tag.
#[utoipa::path(delete, path = "/api/credentials/{name}/tags/{key}", tag = "credentials",
    params(("name" = String, Path, description = "The credential's name"),
        ("key" = String, Path, description = "The tag's key")),
    responses((status = 204), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn untag(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams((name, key)): PathParams<(String, String)>,
) -> ApiResult<StatusCode> {
    if caller
        .principal
        .scope
        .as_ref()
        .is_some_and(|scope| scope.key == key)
    {
        return Err(scope_tag_refused(&caller));
    }
    certmgr_engine::credential::untag(&state.engine(), &name, &[key]).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn scope_tag_refused(caller: &Caller) -> Problem {
    Problem::new(
        ProblemKind::Forbidden,
        format!(
            "{} cannot change its scope tag: the credential would leave its reach",
            caller.principal.name
        ),
    )
}

/// Why the certificates are revoked.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    /// unspecified, key-compromise, superseded or cessation-of-operation.
    #[serde(default = "unspecified")]
    reason: String,
}

fn unspecified() -> String {
    "unspecified".to_owned()
}

/// What a revocation did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevokeAnswer {
    /// The credential.
    name: String,
    /// How many certificates were revoked.
    revoked: usize,
}

/// Revoke the credential's certificates at their CA.
#[utoipa::path(post, path = "/api/credentials/{name}/revoke", operation_id = "revoke_credential", tag = "credentials", request_body = RevokeBody,
    params(("name" = String, Path, description = "The credential's name")),
    responses((status = 200, body = RevokeAnswer), (status = 400, body = Problem),
        (status = 404, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    Extension(Reached(credential)): Extension<Reached>,
    PathParams(name): PathParams<String>,
    JsonBody(body): JsonBody<RevokeBody>,
) -> ApiResult<Json<RevokeAnswer>> {
    let revoked = certmgr_engine::acme::revoke(&state.engine(), &credential, &body.reason).await?;
    Ok(Json(RevokeAnswer { name, revoked }))
}
