//! `/api/dns`: DNS providers (list, show, import TOML or DXL, export DXL)
//! and DNS accounts (create, show, test with the redacted trace, delete).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use certmgr_dns::{DnsError, NetworkAccess, ProviderDefinition};
use certmgr_engine::EngineError;
use certmgr_engine::dns01::{DnsAccountRequest, Propagation, definition};
use certmgr_engine::dxl_import::{DxlImportOptions, import as import_dxl};
use certmgr_engine::view::{self, Destinations, DnsAccountView, ProviderDetail, ProviderSummary};
use certmgr_store::DnsAccountRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::{JsonBody, PathParams};
use crate::gate::AuditTarget;
use crate::problem::{ApiResult, Problem};

/// Every DNS provider: built in and imported.
#[utoipa::path(get, path = "/api/dns/providers", tag = "dns",
    responses((status = 200, body = Vec<ProviderSummary>)))]
pub async fn providers(State(state): State<AppState>) -> ApiResult<Json<Vec<ProviderSummary>>> {
    let catalog = certmgr_engine::dns01::providers(&state.engine()).await?;
    Ok(Json(catalog.iter().map(ProviderSummary::of).collect()))
}

/// One DNS provider: its parameters (which are secret) and where it sends requests.
#[utoipa::path(get, path = "/api/dns/providers/{name}", tag = "dns",
    params(("name" = String, Path, description = "The provider's id")),
    responses((status = 200, body = ProviderDetail), (status = 404, body = Problem)))]
pub async fn provider(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<Json<ProviderDetail>> {
    let def = named_provider(&state, &name).await?;
    Ok(Json(ProviderDetail::of(&def)))
}

/// The provider a path names: an unknown one is not found (the engine's
/// bad input is for a provider named in a request body).
async fn named_provider(state: &AppState, name: &str) -> ApiResult<ProviderDefinition> {
    definition(state.store(), name)
        .await
        .map_err(|error| match &error {
            EngineError::Dns(dns) if matches!(**dns, DnsError::UnknownProvider { .. }) => {
                Problem::not_found(error.to_string())
            }
            _ => error.into(),
        })
}

/// The DNS accounts (their parameters stay sealed in the store).
#[utoipa::path(get, path = "/api/dns/accounts", operation_id = "dns_accounts", tag = "dns",
    responses((status = 200, body = Vec<DnsAccountRecord>)))]
pub async fn accounts(State(state): State<AppState>) -> ApiResult<Json<Vec<DnsAccountRecord>>> {
    Ok(Json(state.store().list_dns_accounts().await?))
}

/// A provider definition to import.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderImportBody {
    /// The file's name (`acme-dns.toml`, `provider.dxl`): how the text is read.
    file_name: String,
    /// The file's text: a TOML provider definition, or a Domino DXL export
    /// (provider configurations, with their DNS and ACME accounts).
    text: String,
    /// DXL: wait for propagation by checking the servers (`check`) or by
    /// the provider's delay (`delay`, Domino's way; the default).
    propagation: Option<Propagation>,
    /// DXL: allow the accounts to reach loopback and private addresses.
    #[serde(default)]
    allow_private_network: bool,
    /// DXL: allow the accounts plain `http://` URLs.
    #[serde(default)]
    allow_plain_http: bool,
    /// DXL: PEM of the CA behind the ACME directories' TLS certificates.
    ca_bundle_pem: Option<String>,
}

/// What an import brought in.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderImported {
    /// The provider definitions imported.
    providers: Vec<String>,
    /// Where each sends requests.
    destinations: BTreeMap<String, Destinations>,
    /// DNS accounts created (DXL).
    dns_accounts: Vec<String>,
    /// ACME accounts registered (DXL).
    acme_accounts: Vec<String>,
    /// Documents not imported, and why (DXL).
    skipped: Vec<String>,
    /// What to check (DXL).
    warnings: Vec<String>,
}

/// Import a provider definition (TOML), or a Domino DXL file with its
/// provider configurations and accounts.
#[utoipa::path(post, path = "/api/dns/providers", tag = "dns", request_body = ProviderImportBody,
    responses((status = 201, body = ProviderImported), (status = 400, body = Problem),
        (status = 409, body = Problem)))]
pub async fn import_provider(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<ProviderImportBody>,
) -> ApiResult<Response> {
    let engine = state.engine();
    let destinations = |defs: &[&ProviderDefinition]| {
        defs.iter()
            .map(|d| (d.meta().id.clone(), Destinations::of(d)))
            .collect::<BTreeMap<_, _>>()
    };
    let imported = if certmgr_dns::is_dxl(&body.text, &body.file_name) {
        let options = DxlImportOptions {
            propagation: body.propagation.unwrap_or(Propagation::Delay),
            network: NetworkAccess {
                private_network: body.allow_private_network,
                plain_http: body.allow_plain_http,
            },
            ca_bundle_pem: body.ca_bundle_pem,
        };
        let report = import_dxl(&engine, &body.text, &body.file_name, &options).await;
        report.map(|report| ProviderImported {
            providers: report
                .providers
                .iter()
                .map(|d| d.meta().id.clone())
                .collect(),
            destinations: destinations(&report.providers.iter().collect::<Vec<_>>()),
            dns_accounts: report.dns_accounts.into_iter().map(|a| a.name).collect(),
            acme_accounts: report.acme_accounts,
            skipped: report.skipped,
            warnings: report.warnings,
        })
    } else {
        certmgr_engine::dns01::import_provider(&engine, &body.text, &body.file_name)
            .await
            .map(|def| ProviderImported {
                providers: vec![def.meta().id.clone()],
                destinations: destinations(&[&def]),
                dns_accounts: Vec::new(),
                acme_accounts: Vec::new(),
                skipped: Vec::new(),
                warnings: Vec::new(),
            })
    };
    let mut response = match imported {
        Ok(imported) => (StatusCode::CREATED, Json(imported)).into_response(),
        Err(error) => Problem::from(error).into_response(),
    };
    response
        .extensions_mut()
        .insert(AuditTarget(body.file_name));
    Ok(response)
}

/// A provider imported from DXL, as DXL again (Domino reads it back).
#[utoipa::path(get, path = "/api/dns/providers/{name}/dxl", tag = "dns",
    params(("name" = String, Path, description = "The provider's id")),
    responses((status = 200, content_type = "application/xml", body = String),
        (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn export_provider(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<Response> {
    let def = named_provider(&state, &name).await?;
    match &def {
        ProviderDefinition::Dxl(d) => Ok((
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/xml"),
            )],
            certmgr_dns::dxl::export_dxl(d),
        )
            .into_response()),
        ProviderDefinition::Toml(_) => Err(Problem::bad_input(format!(
            "provider {name:?} is a TOML definition: only providers imported from DXL export as DXL"
        ))),
    }
}

/// One DNS account (its parameters stay sealed: only their names show).
#[utoipa::path(get, path = "/api/dns/accounts/{name}", operation_id = "dns_account", tag = "dns",
    params(("name" = String, Path, description = "The account's name")),
    responses((status = 200, body = DnsAccountView), (status = 404, body = Problem)))]
pub async fn account(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<Json<DnsAccountView>> {
    Ok(Json(view::dns_account(&state.engine(), &name).await?))
}

/// A DNS account to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDnsAccountBody {
    /// Its name.
    name: String,
    /// The provider id (catalog, imported, `rfc2136` or `script`).
    provider: String,
    /// The zones it serves.
    zones: Vec<String>,
    /// Provider parameter values (secret ones are sealed in the store and never shown again).
    #[serde(default)]
    parameters: BTreeMap<String, String>,
    /// Authoritative servers to check propagation on (empty: discover).
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    nameservers: Vec<SocketAddr>,
    /// The resolver that discovers them.
    #[schema(value_type = Option<String>)]
    resolver: Option<SocketAddr>,
    /// Port of discovered authoritative servers.
    nameserver_port: Option<u16>,
    /// How long to wait for propagation, in seconds (120 when not given).
    propagation_timeout_secs: Option<u64>,
    /// `check` the servers (default) or wait the provider's `delay`.
    propagation: Option<Propagation>,
    /// Allow loopback, private and link-local addresses.
    #[serde(default)]
    allow_private_network: bool,
    /// Allow plain `http://` URLs.
    #[serde(default)]
    allow_plain_http: bool,
}

/// Create a DNS account.
#[utoipa::path(post, path = "/api/dns/accounts", operation_id = "create_dns_account", tag = "dns", request_body = NewDnsAccountBody,
    responses((status = 201, body = DnsAccountRecord), (status = 400, body = Problem),
        (status = 409, body = Problem)))]
pub async fn create_account(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewDnsAccountBody>,
) -> ApiResult<Response> {
    let target = AuditTarget(body.name.clone());
    let created = certmgr_engine::dns01::create_account(
        &state.engine(),
        DnsAccountRequest {
            name: body.name,
            provider: body.provider,
            zones: body.zones,
            params: body.parameters,
            nameservers: body.nameservers,
            resolver: body.resolver,
            nameserver_port: body.nameserver_port,
            propagation_timeout_secs: body.propagation_timeout_secs.unwrap_or(120),
            propagation: body.propagation.unwrap_or_default(),
            network: NetworkAccess {
                private_network: body.allow_private_network,
                plain_http: body.allow_plain_http,
            },
        },
    )
    .await;
    let mut response = match created {
        Ok(account) => (StatusCode::CREATED, Json(account)).into_response(),
        Err(error) => Problem::from(error).into_response(),
    };
    response.extensions_mut().insert(target);
    Ok(response)
}

/// Delete a DNS account.
#[utoipa::path(delete, path = "/api/dns/accounts/{name}", tag = "dns",
    params(("name" = String, Path, description = "The account's name")),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_account(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<StatusCode> {
    state.store().delete_dns_account(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a DNS account test did.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountTested {
    /// The account.
    account: String,
    /// The probe record.
    record: String,
    /// Whether the record was added and deleted again.
    ok: bool,
    /// Why adding failed.
    add_error: Option<String>,
    /// Whether deleting was tried (not after adding failed).
    delete_tried: bool,
    /// Why deleting failed.
    delete_error: Option<String>,
    /// The requests and answers, secrets redacted.
    trace: String,
}

/// Add and delete a probe TXT record through the account.
#[utoipa::path(post, path = "/api/dns/accounts/{name}/test", tag = "dns",
    params(("name" = String, Path, description = "The account's name")),
    responses((status = 200, body = AccountTested), (status = 404, body = Problem)))]
pub async fn test_account(
    State(state): State<AppState>,
    PathParams(name): PathParams<String>,
) -> ApiResult<Json<AccountTested>> {
    let test = certmgr_engine::dns01::test_account(&state.engine(), &name).await?;
    Ok(Json(AccountTested {
        ok: test.ok(),
        add_error: test.added.as_ref().err().map(ToString::to_string),
        delete_tried: test.deleted.is_some(),
        delete_error: test
            .deleted
            .as_ref()
            .and_then(|d| d.as_ref().err())
            .map(ToString::to_string),
        account: test.account,
        record: test.record,
        trace: test.trace,
    }))
}
