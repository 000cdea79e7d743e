//! One type for both kinds of HTTP provider definitions: certmgr's TOML
//! and Domino CertMgr's DXL.

use std::collections::BTreeMap;

use crate::definition::{Definition, Parameter, Params, ProviderMeta};
use crate::dxl::DxlDefinition;
use crate::engine::{CallContext, Captures, Engine, Trace};
use crate::error::DnsError;

/// What an add or delete leaves behind.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// What the caller keeps for the delete: a TOML provider's captures
    /// (record ids), or a Domino provider's fields after the add (secrets
    /// left out: `retJSON_Add.*`, `FIELD` assignments, looked-up ids).
    pub captures: Captures,
    /// Account fields a Domino provider's formulas changed
    /// (`@SetField("cfg_DnsZone"; ...)`), to write back to the DNS account.
    pub account_updates: BTreeMap<String, String>,
}

/// An HTTP provider definition of either kind.
#[derive(Debug, Clone)]
pub enum ProviderDefinition {
    /// `providers/<id>/provider.toml` format.
    Toml(Box<Definition>),
    /// A Domino `DnsProviderConfig` document.
    Dxl(Box<DxlDefinition>),
}

impl ProviderDefinition {
    /// Parses a definition file: DXL when the file name ends in `.dxl` or
    /// the text starts with `<`, TOML otherwise.
    pub fn parse(text: &str, file: &str) -> Result<ProviderDefinition, DnsError> {
        if is_dxl(text, file) {
            DxlDefinition::parse(text, file).map(|d| ProviderDefinition::Dxl(Box::new(d)))
        } else {
            Definition::parse(text, file).map(|d| ProviderDefinition::Toml(Box::new(d)))
        }
    }

    /// Metadata.
    pub fn meta(&self) -> &ProviderMeta {
        match self {
            ProviderDefinition::Toml(d) => &d.provider,
            ProviderDefinition::Dxl(d) => &d.provider,
        }
    }

    /// The parameters an account gives.
    pub fn parameters(&self) -> &[Parameter] {
        match self {
            ProviderDefinition::Toml(d) => &d.parameters,
            ProviderDefinition::Dxl(d) => &d.parameters,
        }
    }

    /// The hosts the definition itself names (see [`ProviderMeta::hosts`]).
    pub fn hosts(&self) -> &[String] {
        &self.meta().hosts
    }

    /// The parameters whose value names a host requests may go to: those
    /// with a URL default or a name ending in `url`, with the default's
    /// host. Any parameter set to an `http(s)` URL adds its host.
    pub fn url_parameters(&self) -> Vec<(&str, Option<String>)> {
        self.parameters()
            .iter()
            .filter_map(|p| {
                let default = p.default.as_deref().and_then(crate::destination::url_host);
                let named = p.name.to_ascii_lowercase().ends_with("url");
                (default.is_some() || named).then_some((p.name.as_str(), default))
            })
            .collect()
    }

    /// `toml` or `dxl`.
    pub fn kind(&self) -> &'static str {
        match self {
            ProviderDefinition::Toml(_) => "toml",
            ProviderDefinition::Dxl(_) => "dxl",
        }
    }

    /// Checks an account's parameter values (see [`Definition::bind`]).
    pub fn bind<I, K, V>(&self, values: I) -> Result<Params, DnsError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        match self {
            ProviderDefinition::Toml(d) => d.bind(values),
            ProviderDefinition::Dxl(d) => d.bind(values),
        }
    }

    /// Publishes a value; see [`Engine::add_record`] and [`Engine::dxl_add`].
    pub async fn add(
        &self,
        engine: &Engine,
        ctx: &CallContext,
        trace: &dyn Trace,
    ) -> Result<Published, DnsError> {
        match self {
            ProviderDefinition::Toml(d) => Ok(Published {
                captures: engine.add_record(d, ctx, trace).await?,
                account_updates: BTreeMap::new(),
            }),
            ProviderDefinition::Dxl(d) => engine.dxl_add(d, ctx, trace).await,
        }
    }

    /// Removes a value; see [`Engine::delete_record`] and [`Engine::dxl_delete`].
    pub async fn delete(
        &self,
        engine: &Engine,
        ctx: &CallContext,
        captures: &mut Captures,
        trace: &dyn Trace,
    ) -> Result<Published, DnsError> {
        match self {
            ProviderDefinition::Toml(d) => {
                engine.delete_record(d, ctx, captures, trace).await?;
                Ok(Published::default())
            }
            ProviderDefinition::Dxl(d) => engine.dxl_delete(d, ctx, captures, trace).await,
        }
    }
}

/// Whether a definition file is DXL.
pub fn is_dxl(text: &str, file: &str) -> bool {
    file.to_ascii_lowercase().ends_with(".dxl") || text.trim_start().starts_with('<')
}
