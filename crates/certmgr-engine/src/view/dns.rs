//! Views of DNS-01: accounts (never their parameter values) and provider
//! definitions, as the CLI and the API show them.

use certmgr_dns::ProviderDefinition;
use certmgr_store::DnsAccountRecord;
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::clock::timestamp;
use crate::dns01::{Propagation, account_config};
use crate::error::EngineResult;

/// A DNS account: everything but its parameter values.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DnsAccountView {
    /// Its name.
    pub name: String,
    /// Its provider.
    pub provider: String,
    /// The zones it serves.
    pub zones: Vec<String>,
    /// The names of its parameters (never their values).
    pub parameters: Vec<String>,
    /// Authoritative servers it checks propagation on.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub nameservers: Vec<std::net::SocketAddr>,
    /// The resolver that discovers them.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub resolver: Option<std::net::SocketAddr>,
    /// Port of discovered authoritative servers.
    pub nameserver_port: Option<u16>,
    /// How it waits for propagation.
    pub propagation: Propagation,
    /// Whether it may reach non-public addresses.
    pub allow_private_network: bool,
    /// Whether it may use plain `http://`.
    pub allow_plain_http: bool,
    /// When it was created, RFC 3339.
    pub created_at: String,
}

/// One DNS account, its secrets left out.
pub async fn dns_account(engine: &Engine<'_>, name: &str) -> EngineResult<DnsAccountView> {
    let store = engine.store();
    let account: DnsAccountRecord = store.dns_account(name).await?;
    let (_, config) = account_config(store, &account).await?;
    Ok(DnsAccountView {
        parameters: config.params.keys().cloned().collect(),
        nameservers: config.nameservers.clone(),
        resolver: config.resolver,
        nameserver_port: config.nameserver_port,
        propagation: config.propagation,
        allow_private_network: config.network.private_network,
        allow_plain_http: config.network.plain_http,
        created_at: timestamp(account.created_at),
        name: account.name,
        provider: account.provider,
        zones: account.zones,
    })
}

/// Where a provider sends requests: the hosts it names, and the parameters
/// whose URL adds a host (with their default host).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Destinations {
    /// Hosts named in the definition.
    pub hosts: Vec<String>,
    /// Account parameters whose URL adds a host.
    pub from_account_parameters: Vec<UrlParameter>,
}

/// An account parameter whose URL adds a destination host.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UrlParameter {
    /// Its name.
    pub parameter: String,
    /// The host of its default URL, if it has one.
    pub default_host: Option<String>,
}

impl Destinations {
    /// Where `def` sends requests.
    pub fn of(def: &ProviderDefinition) -> Self {
        Destinations {
            hosts: def.hosts().to_vec(),
            from_account_parameters: def
                .url_parameters()
                .into_iter()
                .map(|(name, default)| UrlParameter {
                    parameter: name.to_string(),
                    default_host: default,
                })
                .collect(),
        }
    }
}

/// A DNS provider in a listing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderSummary {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Where its API is documented.
    pub api_docs: String,
    /// Whether a name can hold several TXT values at once.
    pub multi_value_txt: bool,
    /// `toml` or `dxl`.
    pub kind: String,
}

impl ProviderSummary {
    /// The summary of `def`.
    pub fn of(def: &ProviderDefinition) -> Self {
        let meta = def.meta();
        ProviderSummary {
            id: meta.id.clone(),
            name: meta.name.clone(),
            api_docs: meta.api_docs.clone(),
            multi_value_txt: meta.multi_value_txt,
            kind: def.kind().to_owned(),
        }
    }
}

/// A provider parameter.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParameterView {
    /// Its name.
    pub name: String,
    /// What it is.
    pub help: String,
    /// Whether an account must give it.
    pub required: bool,
    /// Whether it is a secret (sealed, never shown, never inline).
    pub secret: bool,
    /// Its default value.
    pub default: Option<String>,
}

/// A DNS provider in full.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderDetail {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `toml` or `dxl`.
    pub kind: String,
    /// The provider's website.
    pub website: String,
    /// Where its API is documented.
    pub api_docs: String,
    /// The API token scopes it needs.
    pub token_scopes: Option<String>,
    /// The smallest TTL it accepts.
    pub min_ttl: u32,
    /// Whether a name can hold several TXT values at once.
    pub multi_value_txt: bool,
    /// How long its changes take to reach its nameservers.
    pub propagation_secs: u64,
    /// Notes for users.
    pub notes: Option<String>,
    /// Its parameters.
    pub parameters: Vec<ParameterView>,
    /// Where it sends requests.
    pub destinations: Destinations,
}

impl ProviderDetail {
    /// The detail of `def`.
    pub fn of(def: &ProviderDefinition) -> Self {
        let meta = def.meta();
        ProviderDetail {
            id: meta.id.clone(),
            name: meta.name.clone(),
            kind: def.kind().to_owned(),
            website: meta.website.clone(),
            api_docs: meta.api_docs.clone(),
            token_scopes: meta.token_scopes.clone(),
            min_ttl: meta.min_ttl,
            multi_value_txt: meta.multi_value_txt,
            propagation_secs: meta.propagation_secs,
            notes: meta.notes.clone(),
            parameters: def
                .parameters()
                .iter()
                .map(|p| ParameterView {
                    name: p.name.clone(),
                    help: p.help.clone(),
                    required: p.required,
                    secret: p.secret,
                    default: p.default.clone(),
                })
                .collect(),
            destinations: Destinations::of(def),
        }
    }
}
