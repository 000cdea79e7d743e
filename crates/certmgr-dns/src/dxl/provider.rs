//! A Domino `DnsProviderConfig` document as a provider definition: its
//! formulas parsed at import, its metadata and the account fields it takes.

use std::collections::BTreeMap;

use certmgr_formula::Formula;

use super::reader::{DxlDocument, ItemValue, read_dxl};
use crate::definition::{Parameter, Params, ProviderMeta, bind_parameters};
use crate::error::DnsError;

/// The form of a Domino DNS provider configuration.
pub const CONFIG_FORM: &str = "DnsProviderConfig";
/// The form of a Domino DNS provider account.
pub const ACCOUNT_FORM: &str = "DnsProvider";
/// The form of a Domino ACME account.
pub const ACME_FORM: &str = "AcmeAccount";

/// The request steps of the Domino pipeline, in order: their item prefix
/// (`Req<Step>...`) and whether they belong to adding or deleting.
pub const STEPS: [(&str, Stage); 5] = [
    ("Lookup", Stage::Both),
    ("QryAdd", Stage::Add),
    ("Add", Stage::Add),
    ("QryDel", Stage::Delete),
    ("Del", Stage::Delete),
];

/// When a step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Before adding and before deleting.
    Both,
    /// Only when adding.
    Add,
    /// Only when deleting.
    Delete,
}

/// The account fields of a Domino `DnsProvider` document, which a DXL
/// provider's formulas read: `(name, secret, help)`.
pub const ACCOUNT_FIELDS: &[(&str, bool, &str)] = &[
    (
        "cfg_DnsZone",
        false,
        "zone id at the provider; formulas that look it up store it here",
    ),
    ("cfg_UserName", false, "user name"),
    (
        "cfg_InternetAddress",
        false,
        "e-mail address of the account",
    ),
    ("cfg_Password", true, "password"),
    ("cfg_AuthKey", true, "API key"),
    ("cfg_AuthToken", true, "API token"),
    ("cfg_CustomValue", false, "provider-specific value"),
    ("cfg_URL", false, "API URL (default: the provider's)"),
];

/// One request step of a Domino provider.
#[derive(Debug, Clone)]
pub struct DxlStep {
    /// `Lookup`, `QryAdd`, `Add`, `QryDel`, `Del`.
    pub name: &'static str,
    /// When it runs.
    pub stage: Stage,
    /// HTTP method from the `G`/`P`/`U`/`D`/`PATCH` code (GET when empty).
    pub method: String,
    /// `Req<Step>UrlFormula`; the step is skipped when it evaluates to "".
    pub url: Formula,
    /// `Req<Step>HeaderFormula`: `Name: value` lines.
    pub headers: Option<Formula>,
    /// `Req<Step>PostDataFormula`.
    pub body: Option<Formula>,
    /// `ReqLookupCustomFormula`, run after the Lookup request.
    pub custom: Option<Formula>,
}

/// A Domino DNS provider configuration, ready to run.
#[derive(Debug, Clone)]
pub struct DxlDefinition {
    /// Metadata in certmgr's terms (id, name, website, delay as propagation time).
    pub provider: ProviderMeta,
    /// The account fields it takes.
    pub parameters: Vec<Parameter>,
    /// Steps with a URL formula, in pipeline order.
    pub steps: Vec<DxlStep>,
    /// `StatusFormula`: 200 means the add succeeded.
    pub status: Option<Formula>,
    /// `cfg_*` and `param_*` items of the configuration (defaults for formulas).
    pub defaults: BTreeMap<String, ItemValue>,
    /// The document as imported, for export.
    pub document: DxlDocument,
    /// File name, for messages.
    pub file: String,
}

/// Longest propagation delay (`cfg_DnsProviderDelay`) a configuration may
/// ask for: 10 minutes; a longer one is capped.
pub const MAX_DELAY_SECS: u64 = 600;

/// Ids certmgr keeps for its own provider kinds.
const RESERVED_IDS: &[&str] = &["rfc2136", "script"];

/// A provider id from a Domino configuration name: lower case, `[a-z0-9-]`,
/// with `-dxl` appended when a built-in provider has that id (Domino's
/// "Cloudflare" becomes `cloudflare-dxl`, beside certmgr's `cloudflare`).
pub fn provider_id(name: &str) -> String {
    let id = slug(name);
    let taken = crate::catalog::SOURCES.iter().any(|(i, _, _)| *i == id)
        || RESERVED_IDS.contains(&id.as_str());
    if taken { format!("{id}-dxl") } else { id }
}

fn slug(name: &str) -> String {
    let mut id = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    id.trim_end_matches('-').to_string()
}

/// The hosts a configuration names itself: those of the URL literals in its
/// URL formulas (`"https://api.example.com/" + ...`) and of its `cfg_*` and
/// `param_*` items that hold a URL (defaults its formulas read). The account's
/// `cfg_URL` adds its own host when the provider runs.
fn declared_hosts(doc: &DxlDocument) -> Vec<String> {
    static LITERAL: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let literal =
        LITERAL.get_or_init(|| regex::Regex::new(r#"(?i)["{]\s*(https?://[^"}\s]*)"#).ok());
    let mut hosts = std::collections::BTreeSet::new();
    for (step, _) in STEPS {
        let src = doc.text(&format!("Req{step}UrlFormula"));
        for c in literal.iter().flat_map(|re| re.captures_iter(&src)) {
            if let Some(m) = c.get(1)
                && let Ok(Some(h)) = crate::destination::literal_host(m.as_str())
            {
                hosts.insert(h);
            }
        }
    }
    for item in &doc.items {
        let n = item.name.to_ascii_lowercase();
        if (n.starts_with("cfg_") || n.starts_with("param_")) && n != "cfg_url" {
            for t in item.value.joined().split(['\n', ',', ';', ' ']) {
                if let Some(h) = crate::destination::url_host(t) {
                    hosts.insert(h);
                }
            }
        }
    }
    hosts.into_iter().collect()
}

fn method(code: &str) -> Option<&'static str> {
    match code.trim().to_ascii_uppercase().as_str() {
        "" | "G" | "GET" => Some("GET"),
        "P" | "POST" => Some("POST"),
        "U" | "PUT" => Some("PUT"),
        "D" | "DELETE" => Some("DELETE"),
        "PATCH" | "A" => Some("PATCH"),
        _ => None,
    }
}

impl DxlDefinition {
    /// The configuration document of a DXL file that holds exactly one
    /// (other documents, such as accounts, are ignored here).
    pub fn parse(text: &str, file: &str) -> Result<DxlDefinition, DnsError> {
        let docs = read_dxl(text, file)?;
        let mut configs = docs.into_iter().filter(|d| d.form == CONFIG_FORM);
        match (configs.next(), configs.next()) {
            (Some(doc), None) => DxlDefinition::from_document(doc, file),
            (None, _) => Err(DnsError::Invalid {
                file: file.to_string(),
                location: "file".into(),
                message: format!("no {CONFIG_FORM} document in it"),
            }),
            (Some(_), Some(_)) => Err(DnsError::Invalid {
                file: file.to_string(),
                location: "file".into(),
                message: format!(
                    "more than one {CONFIG_FORM} document; import it with `dns provider import`, which takes each"
                ),
            }),
        }
    }

    /// Validates a `DnsProviderConfig` document: every formula must parse.
    pub fn from_document(doc: DxlDocument, file: &str) -> Result<DxlDefinition, DnsError> {
        let invalid = |location: String, message: String| DnsError::Invalid {
            file: file.to_string(),
            location,
            message,
        };
        let name = doc.text("DnsProviderConfigName").trim().to_string();
        let id = provider_id(&name);
        if id.is_empty() {
            return Err(invalid(
                "item \"DnsProviderConfigName\"".into(),
                "empty; the configuration needs a name".into(),
            ));
        }
        let kind = doc.text("DnsProviderType");
        if !kind.trim().eq_ignore_ascii_case("H") {
            return Err(invalid(
                "item \"DnsProviderType\"".into(),
                format!(
                    "{kind:?} is not supported: certmgr runs HTTP (\"H\") configurations; for command or agent providers use a script provider"
                ),
            ));
        }
        let formula = |item: &str| -> Result<Option<Formula>, DnsError> {
            let src = doc.text(item);
            if src.trim().is_empty() {
                return Ok(None);
            }
            Formula::parse(&src, item).map(Some).map_err(|e| {
                invalid(
                    format!("item {item:?} line {}, column {}", e.line, e.column),
                    e.message,
                )
            })
        };
        let mut steps = Vec::new();
        for (step, stage) in STEPS {
            let Some(url) = formula(&format!("Req{step}UrlFormula"))? else {
                continue;
            };
            let type_item = format!("Req{step}HttpType");
            let code = doc.text(&type_item);
            let method = method(&code).ok_or_else(|| {
                invalid(
                    format!("item {type_item:?}"),
                    format!("{code:?} is not an HTTP type: use G, P, U, D or PATCH"),
                )
            })?;
            steps.push(DxlStep {
                name: step,
                stage,
                method: method.to_string(),
                url,
                headers: formula(&format!("Req{step}HeaderFormula"))?,
                body: formula(&format!("Req{step}PostDataFormula"))?,
                custom: if step == "Lookup" {
                    formula("ReqLookupCustomFormula")?
                } else {
                    None
                },
            });
        }
        if !steps.iter().any(|s| s.name == "Add") {
            return Err(invalid(
                "item \"ReqAddUrlFormula\"".into(),
                "empty; a provider must be able to add a record".into(),
            ));
        }
        let status = formula("StatusFormula")?;
        let delay = match doc.item("cfg_DnsProviderDelay").map(|i| &i.value) {
            Some(ItemValue::Number(n)) => n.first().copied().unwrap_or(0.0),
            Some(other) => other.joined().trim().parse().unwrap_or(0.0),
            None => 0.0,
        };
        let defaults = doc
            .items
            .iter()
            .filter(|i| {
                let n = i.name.to_ascii_lowercase();
                n.starts_with("cfg_") || n.starts_with("param_")
            })
            .map(|i| (i.name.clone(), i.value.clone()))
            .collect();
        let url_default = doc.text("cfg_URL");
        let parameters = ACCOUNT_FIELDS
            .iter()
            .map(|(name, secret, help)| Parameter {
                name: name.to_string(),
                help: help.to_string(),
                required: false,
                // An item the configuration seals is a secret too.
                secret: *secret || doc.item(name).is_some_and(|i| i.sealed),
                default: (*name == "cfg_URL" && !url_default.is_empty())
                    .then(|| url_default.clone()),
            })
            .collect();
        let hosts = declared_hosts(&doc);
        let website = doc.text("Website");
        let docs_url = doc.text("DocumentationURL");
        let author = doc.text("Author");
        let version = doc.text("Version");
        let provider = ProviderMeta {
            id,
            name: match doc.text("ProviderName") {
                p if p.is_empty() || p == name => name.clone(),
                p => format!("{name} ({p})"),
            },
            website,
            api_docs: docs_url,
            // `as` saturates; a longer wait than MAX_DELAY_SECS is capped
            // (read_import warns).
            propagation_secs: (delay.max(0.0) as u64).min(MAX_DELAY_SECS),
            min_ttl: 0,
            multi_value_txt: true,
            token_scopes: None,
            hosts,
            notes: Some(format!(
                "Domino CertMgr configuration{}{}; runs its Notes formulas unmodified.",
                if author.is_empty() {
                    String::new()
                } else {
                    format!(" by {author}")
                },
                if version.is_empty() {
                    String::new()
                } else {
                    format!(", version {version}")
                },
            )),
        };
        Ok(DxlDefinition {
            provider,
            parameters,
            steps,
            status,
            defaults,
            document: doc,
            file: file.to_string(),
        })
    }

    /// Provider id.
    pub fn id(&self) -> &str {
        &self.provider.id
    }

    /// Checks account field values (names case-insensitive, as in Notes)
    /// and fills the API URL default.
    pub fn bind<I, K, V>(&self, values: I) -> Result<Params, DnsError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        bind_parameters(&self.provider.id, &self.parameters, values, |a, b| {
            a.eq_ignore_ascii_case(b)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_configuration_names() {
        assert_eq!(provider_id("IONOS Cloud DNS"), "ionos-cloud-dns");
        assert_eq!(
            provider_id("acmedns.domino-lab.net"),
            "acmedns-domino-lab-net"
        );
        assert_eq!(provider_id("  Lab  DNS "), "lab-dns");
        assert_eq!(provider_id("Let's Encrypt"), "let-s-encrypt");
        assert_eq!(provider_id("--"), "");
        assert_eq!(provider_id("Cloudflare"), "cloudflare-dxl");
        assert_eq!(provider_id("script"), "script-dxl");
    }
}
