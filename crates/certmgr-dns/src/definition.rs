//! Provider definitions: the TOML format, parsed and validated at import.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::auth::AuthKind;
use crate::error::DnsError;
use crate::template;

/// Facts about a provider that certmgr and its users need besides the API calls.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderMeta {
    /// Stable id, the folder name under `providers/`.
    pub id: String,
    /// Human name.
    pub name: String,
    /// Provider website.
    pub website: String,
    /// The API documentation this definition follows.
    pub api_docs: String,
    /// Typical seconds before every authoritative server serves a change.
    #[serde(default)]
    pub propagation_secs: u64,
    /// Smallest TTL the provider accepts; lower requested TTLs are raised to it.
    pub min_ttl: u32,
    /// Whether one name can hold several TXT values (wildcard and base name in one order).
    pub multi_value_txt: bool,
    /// What rights the API token needs, for the user creating it.
    #[serde(default)]
    pub token_scopes: Option<String>,
    /// Free-form notes for users (e.g. a CNAME to set up first).
    #[serde(default)]
    pub notes: Option<String>,
    /// Hosts requests may go to besides those of the account's URL
    /// parameters. In a file: hosts a URL template builds
    /// (`https://{{ params.region }}.api.example.com`). Once loaded: those
    /// plus the literal hosts of step URLs and token endpoints (see
    /// [`Definition::parse`]), sorted.
    #[serde(default)]
    pub hosts: Vec<String>,
}

/// Most requests a `repeat_until` step sends (`repeat_max`).
pub const MAX_REPEAT: u32 = 60;
/// Longest wait between two requests of a `repeat_until` step, in seconds.
pub const MAX_INTERVAL_SECS: u64 = 60;
/// Most pages a step fetches (`max_pages`).
pub const MAX_PAGES: u32 = 100;
/// Longest propagation delay a definition may give (`propagation_secs`):
/// 10 minutes, as for Domino's `cfg_DnsProviderDelay`.
pub const MAX_PROPAGATION_SECS: u64 = 600;

/// A value the user supplies per account (URL, token, ...).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// Name used in templates as `params.<name>`.
    pub name: String,
    /// What to enter, shown to users.
    pub help: String,
    /// Whether binding fails without it (a `default` satisfies it).
    #[serde(default)]
    pub required: bool,
    /// Secret values are redacted from traces, errors and `Debug`.
    #[serde(default)]
    pub secret: bool,
    /// Used when the user gives no value.
    #[serde(default)]
    pub default: Option<String>,
}

/// When a step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Before `query`/`add`/`delete`: find ids (zone id...).
    Lookup,
    /// Before `add`/`delete`: find existing records.
    Query,
    /// Publish the TXT value.
    Add,
    /// Remove the TXT value.
    Delete,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Lookup => "lookup",
            Phase::Query => "query",
            Phase::Add => "add",
            Phase::Delete => "delete",
        })
    }
}

/// A request body template.
#[derive(Debug, Clone)]
pub enum BodyTemplate {
    /// A template that must render to JSON; sent as `application/json`.
    Json(String),
    /// Fields (values are templates); sent as `application/x-www-form-urlencoded`.
    Form(BTreeMap<String, String>),
    /// A template sent as is, with this content type.
    Raw {
        /// The template.
        template: String,
        /// Content type (default `text/plain`).
        content_type: String,
    },
}

/// One HTTP request of a provider, with what to expect and what to keep.
#[derive(Debug, Clone)]
pub struct Step {
    /// When it runs.
    pub phase: Phase,
    /// Unique name, used in errors and traces.
    pub name: String,
    /// HTTP method (upper case).
    pub method: String,
    /// URL template.
    pub url: String,
    /// Header name → value template.
    pub headers: BTreeMap<String, String>,
    /// Body, if any.
    pub body: Option<BodyTemplate>,
    /// Accepted statuses; empty = any 2xx.
    pub expect_status: Vec<u16>,
    /// Capture name → JSONPath template; first match as text.
    pub capture: BTreeMap<String, String>,
    /// Captures that may match nothing (then they stay unset).
    pub optional_captures: BTreeSet<String>,
    /// Expression; the step runs only when it is true.
    pub when: Option<String>,
    /// Expression over `response`; false means the provider refused.
    pub success_when: Option<String>,
    /// Capture name → JSONPath template; every match, as a JSON array text.
    pub capture_all: BTreeMap<String, String>,
    /// Capture name → regular expression template over the raw body.
    pub capture_regex: BTreeMap<String, String>,
    /// Send again until this expression over `response` is true.
    pub repeat_until: Option<String>,
    /// Wait between repetitions.
    pub repeat_interval: std::time::Duration,
    /// Most requests `repeat_until` sends.
    pub repeat_max: u32,
    /// How to fetch further pages of a listing.
    pub paginate: Option<Paginate>,
    /// Whether the definition's `[auth]` helper applies.
    pub auth: bool,
}

/// How a step finds the next page of a listing.
#[derive(Debug, Clone)]
pub enum PageMode {
    /// JSONPath to the next page's URL (absolute or relative).
    NextUrl(String),
    /// JSONPath to a cursor, sent as query parameter `param`.
    NextToken {
        /// JSONPath to the cursor.
        path: String,
        /// Query parameter that carries it.
        param: String,
    },
    /// Page numbers from 1 in query parameter `param`, up to the count at `total_pages`.
    PageNumber {
        /// Query parameter of the page number.
        param: String,
        /// JSONPath to the number of pages.
        total_pages: String,
    },
}

/// Pagination of a step.
#[derive(Debug, Clone)]
pub struct Paginate {
    /// How the next page is found.
    pub mode: PageMode,
    /// Most pages fetched.
    pub max_pages: u32,
}

/// A definition's `[auth]` table: the helper and its field templates.
#[derive(Debug, Clone)]
pub struct AuthSpec {
    /// Which helper.
    pub kind: AuthKind,
    /// Field name → template.
    pub fields: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPaginate {
    next_url: Option<String>,
    next_token: Option<String>,
    token_param: Option<String>,
    page_param: Option<String>,
    total_pages: Option<String>,
    max_pages: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefinition {
    provider: ProviderMeta,
    #[serde(default)]
    parameter: Vec<Parameter>,
    #[serde(default)]
    step: Vec<RawStep>,
    auth: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    phase: Phase,
    name: String,
    method: String,
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    json: Option<String>,
    form: Option<BTreeMap<String, String>>,
    raw: Option<String>,
    content_type: Option<String>,
    #[serde(default)]
    expect_status: Vec<u16>,
    #[serde(default)]
    capture: BTreeMap<String, String>,
    #[serde(default)]
    optional_captures: Vec<String>,
    when: Option<String>,
    success_when: Option<String>,
    #[serde(default)]
    capture_all: BTreeMap<String, String>,
    #[serde(default)]
    capture_regex: BTreeMap<String, String>,
    repeat_until: Option<String>,
    repeat_interval_secs: Option<u64>,
    repeat_max: Option<u32>,
    paginate: Option<RawPaginate>,
    auth: Option<bool>,
}

/// A validated provider definition.
///
/// Everything that can be checked without talking to the API is checked by
/// [`Definition::parse`]: a definition that loads can only fail at run time
/// because of the API's answers.
#[derive(Debug, Clone)]
pub struct Definition {
    /// Provider metadata.
    pub provider: ProviderMeta,
    /// Declared parameters.
    pub parameters: Vec<Parameter>,
    /// Steps in file order.
    pub steps: Vec<Step>,
    /// Signing or token helper, if the API needs one.
    pub auth: Option<AuthSpec>,
    /// File name, for messages.
    pub file: String,
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Where a Google service account gets its token when its key names no other endpoint.
const GOOGLE_TOKEN_HOST: &str = "oauth2.googleapis.com";

impl Definition {
    /// Parses and validates a definition; `file_name` is only used in messages.
    pub fn parse(text: &str, file_name: &str) -> Result<Definition, DnsError> {
        let raw: RawDefinition = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
            DnsError::Syntax {
                file: file_name.to_string(),
                line,
                column,
                message: e.message().replace('\n', " ").trim().to_string(),
            }
        })?;
        let invalid = |location: String, message: String| DnsError::Invalid {
            file: file_name.to_string(),
            location,
            message,
        };

        if raw.provider.id.is_empty()
            || !raw
                .provider
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(invalid(
                "provider field \"id\"".into(),
                format!(
                    "{:?} is not a valid id: use lower-case letters, digits and '-'",
                    raw.provider.id
                ),
            ));
        }

        if raw.provider.propagation_secs > MAX_PROPAGATION_SECS {
            return Err(invalid(
                "provider field \"propagation_secs\"".into(),
                format!(
                    "{} s is longer than the {MAX_PROPAGATION_SECS} s allowed; give the provider's typical delay",
                    raw.provider.propagation_secs
                ),
            ));
        }
        let mut hosts = BTreeSet::new();
        for h in &raw.provider.hosts {
            hosts.insert(
                crate::destination::declared_host(h)
                    .map_err(|m| invalid("provider field \"hosts\"".into(), m))?,
            );
        }

        let mut param_names = BTreeSet::new();
        for p in &raw.parameter {
            if !is_identifier(&p.name) {
                return Err(invalid(
                    format!("parameter {:?}", p.name),
                    "a parameter name must be letters, digits and '_', not starting with a digit"
                        .into(),
                ));
            }
            if !param_names.insert(p.name.clone()) {
                return Err(invalid(
                    format!("parameter {:?}", p.name),
                    "declared twice; remove one".into(),
                ));
            }
        }

        let mut captures: BTreeSet<String> = BTreeSet::new();
        let list_captures: BTreeSet<String> = raw
            .step
            .iter()
            .flat_map(|s| s.capture_all.keys().cloned())
            .collect();
        let mut step_names = BTreeSet::new();
        for s in &raw.step {
            if !step_names.insert(s.name.clone()) {
                return Err(invalid(
                    format!("step {:?}", s.name),
                    "step name used twice; step names must be unique".into(),
                ));
            }
            for c in s
                .capture
                .keys()
                .chain(s.capture_all.keys())
                .chain(s.capture_regex.keys())
            {
                if !is_identifier(c) {
                    return Err(invalid(
                        format!("step {:?} capture {c:?}", s.name),
                        "a capture name must be letters, digits and '_'".into(),
                    ));
                }
                if !captures.insert(c.clone())
                    && (s.capture.contains_key(c) as u8
                        + s.capture_all.contains_key(c) as u8
                        + s.capture_regex.contains_key(c) as u8)
                        > 1
                {
                    return Err(invalid(
                        format!("step {:?} capture {c:?}", s.name),
                        "captured twice by this step; use one of capture, capture_all, capture_regex"
                            .into(),
                    ));
                }
            }
        }
        if !raw.step.iter().any(|s| s.phase == Phase::Add) {
            return Err(invalid(
                "steps".into(),
                "no step with phase = \"add\"; a provider must be able to publish a record".into(),
            ));
        }

        let checker = Checker {
            params: &param_names,
            captures: &captures,
        };
        let sample = sample_context(&param_names, &captures, &list_captures);
        let auth = match raw.auth {
            None => None,
            Some(table) => Some(
                parse_auth(table, &checker, &sample)
                    .map_err(|(field, m)| invalid(format!("auth field {field:?}"), m))?,
            ),
        };

        if let Some(a) = &auth {
            for (field, src) in &a.fields {
                if field != "token_url" {
                    continue;
                }
                match crate::destination::literal_host(src) {
                    Ok(Some(h)) => {
                        hosts.insert(h);
                    }
                    Ok(None) => {}
                    Err(()) if !raw.provider.hosts.is_empty() => {}
                    Err(()) => {
                        return Err(invalid(
                            "auth field \"token_url\"".into(),
                            "the template builds the token endpoint's host; list every host it can give in [provider] hosts".into(),
                        ));
                    }
                }
            }
            if a.kind == AuthKind::GoogleServiceAccount {
                hosts.insert(GOOGLE_TOKEN_HOST.to_string());
            }
        }

        let mut steps = Vec::new();
        for s in raw.step {
            let loc = |field: &str| format!("step {:?} field {field:?}", s.name);
            let method = s.method.to_ascii_uppercase();
            if !METHODS.contains(&method.as_str()) {
                return Err(invalid(
                    loc("method"),
                    format!("{:?} is not one of {}", s.method, METHODS.join(", ")),
                ));
            }
            let bodies = [s.json.is_some(), s.form.is_some(), s.raw.is_some()]
                .iter()
                .filter(|b| **b)
                .count();
            if bodies > 1 {
                return Err(invalid(
                    loc("json"),
                    "a step has at most one of json, form, raw".into(),
                ));
            }
            if s.content_type.is_some() && s.raw.is_none() {
                return Err(invalid(
                    loc("content_type"),
                    "content_type only applies to a raw body".into(),
                ));
            }
            for st in &s.expect_status {
                if !(100..=599).contains(st) {
                    return Err(invalid(
                        loc("expect_status"),
                        format!("{st} is not an HTTP status"),
                    ));
                }
            }
            for o in &s.optional_captures {
                if !s.capture.contains_key(o) && !s.capture_regex.contains_key(o) {
                    return Err(invalid(
                        loc("optional_captures"),
                        format!("{o:?} is not captured by this step"),
                    ));
                }
            }

            let check = |field: String, src: &str| -> Result<String, DnsError> {
                checker
                    .template(src, &sample)
                    .map_err(|m| invalid(format!("step {:?} field {field:?}", s.name), m))
            };
            check("url".into(), &s.url)?;
            match crate::destination::literal_host(&s.url) {
                Ok(Some(h)) => {
                    hosts.insert(h);
                }
                Ok(None) => {}
                Err(()) if !raw.provider.hosts.is_empty() => {}
                Err(()) => {
                    return Err(invalid(
                        loc("url"),
                        "the template builds the URL's host; list every host it can give in [provider] hosts = [\"...\"], so users see where requests go".into(),
                    ));
                }
            }
            for (k, v) in &s.headers {
                check(format!("headers.{k}"), v)?;
            }
            let body = if let Some(j) = s.json {
                let out = check("json".into(), &j)?;
                if let Err(e) = serde_json::from_str::<serde_json::Value>(&out) {
                    return Err(invalid(
                        loc("json"),
                        format!(
                            "does not render to JSON with sample values ({e}); use the tojson filter for strings: {}",
                            out.replace('\n', " ")
                        ),
                    ));
                }
                Some(BodyTemplate::Json(j))
            } else if let Some(f) = s.form {
                for (k, v) in &f {
                    check(format!("form.{k}"), v)?;
                }
                Some(BodyTemplate::Form(f))
            } else if let Some(r) = s.raw {
                check("raw".into(), &r)?;
                Some(BodyTemplate::Raw {
                    template: r,
                    content_type: s.content_type.unwrap_or_else(|| "text/plain".into()),
                })
            } else {
                None
            };
            if let Some(w) = &s.when {
                checker
                    .expression(w, &sample)
                    .map_err(|m| invalid(loc("when"), m))?;
            }
            for (field, expr) in [
                ("success_when", &s.success_when),
                ("repeat_until", &s.repeat_until),
            ] {
                if let Some(e) = expr {
                    checker
                        .response_expression(e)
                        .map_err(|m| invalid(loc(field), m))?;
                }
            }
            if let Some(n) = s.repeat_max.filter(|n| *n > MAX_REPEAT) {
                return Err(invalid(
                    loc("repeat_max"),
                    format!(
                        "{n} is over the limit of {MAX_REPEAT} requests; poll less often or for less long"
                    ),
                ));
            }
            if let Some(n) = s.repeat_interval_secs.filter(|n| *n > MAX_INTERVAL_SECS) {
                return Err(invalid(
                    loc("repeat_interval_secs"),
                    format!("{n} s is over the limit of {MAX_INTERVAL_SECS} s between requests"),
                ));
            }
            if let Some(n) = s
                .paginate
                .as_ref()
                .and_then(|p| p.max_pages)
                .filter(|n| *n > MAX_PAGES)
            {
                return Err(invalid(
                    loc("paginate"),
                    format!(
                        "max_pages = {n} is over the limit of {MAX_PAGES} pages; ask the API for bigger pages or filter the listing"
                    ),
                ));
            }
            if s.repeat_until.is_none()
                && (s.repeat_interval_secs.is_some() || s.repeat_max.is_some())
            {
                return Err(invalid(
                    loc("repeat_max"),
                    "repeat_interval_secs and repeat_max need repeat_until".into(),
                ));
            }
            for (name, re) in &s.capture_regex {
                let at = format!("step {:?} capture_regex {name:?}", s.name);
                let rendered = checker
                    .template(re, &sample)
                    .map_err(|m| invalid(at.clone(), m))?;
                regex::Regex::new(&rendered).map_err(|e| {
                    invalid(
                        at.clone(),
                        format!(
                            "invalid regular expression: {}",
                            e.to_string().replace('\n', " ")
                        ),
                    )
                })?;
            }
            let paginate = match s.paginate {
                None => None,
                Some(p) => Some(parse_paginate(p).map_err(|m| invalid(loc("paginate"), m))?),
            };
            if let Some(p) = &paginate {
                let paths: Vec<&String> = match &p.mode {
                    PageMode::NextUrl(u) => vec![u],
                    PageMode::NextToken { path, .. } => vec![path],
                    PageMode::PageNumber { total_pages, .. } => vec![total_pages],
                };
                for path in paths {
                    serde_json_path::JsonPath::parse(path).map_err(|e| {
                        invalid(
                            loc("paginate"),
                            format!(
                                "invalid JSONPath {path:?} (RFC 9535): {}",
                                e.to_string().replace('\n', " ")
                            ),
                        )
                    })?;
                }
            }
            for (name, path) in s.capture.iter().chain(s.capture_all.iter()) {
                let at = format!("step {:?} capture {name:?}", s.name);
                let rendered = checker
                    .template(path, &sample)
                    .map_err(|m| invalid(at.clone(), m))?;
                serde_json_path::JsonPath::parse(&rendered).map_err(|e| {
                    invalid(
                        at.clone(),
                        format!(
                            "invalid JSONPath {rendered:?} (RFC 9535): {}",
                            e.to_string().replace('\n', " ")
                        ),
                    )
                })?;
            }
            steps.push(Step {
                phase: s.phase,
                name: s.name,
                method,
                url: s.url,
                headers: s.headers,
                body,
                expect_status: s.expect_status,
                capture: s.capture,
                optional_captures: s.optional_captures.into_iter().collect(),
                when: s.when,
                success_when: s.success_when,
                capture_all: s.capture_all,
                capture_regex: s.capture_regex,
                repeat_until: s.repeat_until,
                repeat_interval: std::time::Duration::from_secs(
                    s.repeat_interval_secs.unwrap_or(2),
                ),
                repeat_max: s.repeat_max.unwrap_or(30).max(1),
                paginate,
                auth: s.auth.unwrap_or(true),
            });
        }

        let mut provider = raw.provider;
        provider.hosts = hosts.into_iter().collect();
        Ok(Definition {
            provider,
            parameters: raw.parameter,
            steps,
            auth,
            file: file_name.to_string(),
        })
    }

    /// Provider id.
    pub fn id(&self) -> &str {
        &self.provider.id
    }

    /// The steps of one phase, in order.
    pub fn steps_of(&self, phase: Phase) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(move |s| s.phase == phase)
    }

    /// Checks an account's parameter values against the declaration and
    /// fills defaults: the moment a missing required parameter is reported.
    pub fn bind<I, K, V>(&self, values: I) -> Result<Params, DnsError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        bind_parameters(&self.provider.id, &self.parameters, values, |a, b| a == b)
    }
}

/// Binds values to declared parameters: an unknown name is refused, absent
/// ones take their default, a missing required one is refused. `same_name`
/// says whether a given name is a declared one (exact for TOML definitions;
/// Domino field names are case-insensitive).
pub(crate) fn bind_parameters<I, K, V>(
    provider: &str,
    parameters: &[Parameter],
    values: I,
    same_name: fn(&str, &str) -> bool,
) -> Result<Params, DnsError>
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    let mut given: BTreeMap<String, Zeroizing<String>> = BTreeMap::new();
    for (k, v) in values {
        let k = k.into();
        let Some(p) = parameters.iter().find(|p| same_name(&p.name, &k)) else {
            return Err(DnsError::UnknownParameter {
                provider: provider.to_string(),
                name: k,
                known: parameters
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        given.insert(p.name.clone(), Zeroizing::new(v.into()));
    }
    let mut values = BTreeMap::new();
    for p in parameters {
        match given
            .remove(&p.name)
            .or_else(|| p.default.clone().map(Zeroizing::new))
        {
            Some(v) => {
                values.insert(p.name.clone(), (v, p.secret));
            }
            None if p.required => {
                return Err(DnsError::MissingParameter {
                    provider: provider.to_string(),
                    name: p.name.clone(),
                    help: p.help.clone(),
                });
            }
            None => {}
        }
    }
    Ok(Params { values })
}

/// Parameter values bound to one provider; secret values are zeroized on
/// drop and shown as `<redacted>` by `Debug`.
#[derive(Clone, Default)]
pub struct Params {
    values: BTreeMap<String, (Zeroizing<String>, bool)>,
}

impl Params {
    /// The value of a parameter, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(|(v, _)| v.as_str())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str, bool)> {
        self.values
            .iter()
            .map(|(k, (v, s))| (k.as_str(), v.as_str(), *s))
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, (v, secret)) in &self.values {
            if *secret {
                m.entry(k, &"<redacted>");
            } else {
                m.entry(k, &v.as_str());
            }
        }
        m.finish()
    }
}

struct Checker<'a> {
    params: &'a BTreeSet<String>,
    captures: &'a BTreeSet<String>,
}

impl Checker<'_> {
    fn variables(&self, vars: Vec<String>) -> Result<(), String> {
        for v in vars {
            let mut parts = v.split('.');
            let head = parts.next().unwrap_or("");
            let second = parts.next();
            if template::GLOBAL_FUNCTIONS.contains(&head) {
                continue;
            }
            if !template::CONTEXT_VARIABLES.contains(&head) {
                return Err(format!(
                    "undefined variable {head:?}; available: {}",
                    template::CONTEXT_VARIABLES.join(", ")
                ));
            }
            match (head, second) {
                ("params", Some(p)) if !self.params.contains(p) => {
                    return Err(format!(
                        "undefined variable \"params.{p}\": no parameter {p:?} is declared"
                    ));
                }
                ("captures", Some(c)) if !self.captures.contains(c) => {
                    return Err(format!(
                        "undefined variable \"captures.{c}\": no step captures {c:?}"
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Static variable check, then a strict render with sample values.
    fn template(&self, src: &str, sample: &minijinja::Value) -> Result<String, String> {
        self.variables(template::template_variables(src)?)?;
        template::render(src, sample)
    }

    /// An expression that also sees `response`; checked statically only,
    /// since sample answers cannot stand for the provider's.
    fn response_expression(&self, src: &str) -> Result<(), String> {
        let vars = template::expression_variables(src)?;
        self.variables(
            vars.into_iter()
                .filter(|v| v != "response" && !v.starts_with("response."))
                .collect(),
        )
    }

    fn expression(&self, src: &str, sample: &minijinja::Value) -> Result<bool, String> {
        self.variables(template::expression_variables(src)?)?;
        template::truthy(src, sample)
    }
}

fn parse_paginate(p: RawPaginate) -> Result<Paginate, String> {
    let mode = match (
        p.next_url,
        p.next_token,
        p.token_param,
        p.page_param,
        p.total_pages,
    ) {
        (Some(u), None, None, None, None) => PageMode::NextUrl(u),
        (None, Some(path), Some(param), None, None) => PageMode::NextToken { path, param },
        (None, None, None, Some(param), Some(total_pages)) => {
            PageMode::PageNumber { param, total_pages }
        }
        _ => {
            return Err(
                "give exactly one of: next_url; next_token with token_param; page_param with total_pages"
                    .into(),
            );
        }
    };
    Ok(Paginate {
        mode,
        max_pages: p.max_pages.unwrap_or(20).max(1),
    })
}

fn parse_auth(
    mut table: BTreeMap<String, String>,
    checker: &Checker<'_>,
    sample: &minijinja::Value,
) -> Result<AuthSpec, (String, String)> {
    let kind_name = table
        .remove("kind")
        .ok_or_else(|| ("kind".to_string(), "missing; name the helper".to_string()))?;
    let names = || {
        AuthKind::ALL
            .iter()
            .map(|k| k.1)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let kind = AuthKind::from_name(&kind_name).ok_or_else(|| {
        (
            "kind".to_string(),
            format!("unknown helper {kind_name:?}; known: {}", names()),
        )
    })?;
    let (_, _, required, optional) = AuthKind::ALL
        .iter()
        .find(|k| k.0 == kind)
        .ok_or_else(|| ("kind".to_string(), "unknown helper".to_string()))?;
    for r in *required {
        if !table.contains_key(*r) {
            return Err((
                r.to_string(),
                format!("missing; {kind_name} needs {}", required.join(", ")),
            ));
        }
    }
    for (field, src) in &table {
        if !required.contains(&field.as_str()) && !optional.contains(&field.as_str()) {
            return Err((
                field.clone(),
                format!(
                    "not a field of {kind_name}; it takes {}",
                    required
                        .iter()
                        .chain(optional.iter())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        checker
            .template(src, sample)
            .map_err(|m| (field.clone(), m))?;
    }
    Ok(AuthSpec {
        kind,
        fields: table,
    })
}

/// Sample values for checking templates at import; `capture_all` captures
/// hold an empty JSON list.
fn sample_context(
    params: &BTreeSet<String>,
    captures: &BTreeSet<String>,
    list_captures: &BTreeSet<String>,
) -> minijinja::Value {
    let params: BTreeMap<&str, &str> = params.iter().map(|p| (p.as_str(), "sample")).collect();
    let captures: BTreeMap<&str, &str> = captures
        .iter()
        .map(|c| {
            let v = if list_captures.contains(c) {
                "[]"
            } else {
                "sample"
            };
            (c.as_str(), v)
        })
        .collect();
    minijinja::context! {
        zone => "example.com",
        record_name => "_acme-challenge.www.example.com",
        record_relative => "_acme-challenge.www",
        value => "sample-value",
        values => vec!["sample-value"],
        ttl => 60,
        params => params,
        captures => captures,
    }
}

fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || f == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
