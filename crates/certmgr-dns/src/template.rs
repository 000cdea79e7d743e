//! The template environment shared by every definition: strict undefined,
//! a fuel limit, and the filters provider definitions need.

use std::sync::OnceLock;

use base64::Engine as _;
use minijinja::{Environment, UndefinedBehavior, Value};

use crate::redact::URL_ESCAPE;

/// Upper bound on template work per render, so a bad definition cannot spin.
const FUEL: u64 = 50_000;

/// Variables a template may use at the top level.
pub(crate) const CONTEXT_VARIABLES: &[&str] = &[
    "zone",
    "record_name",
    "record_relative",
    "value",
    "values",
    "ttl",
    "params",
    "captures",
];

/// minijinja's global functions, which its variable analysis reports like variables.
pub(crate) const GLOBAL_FUNCTIONS: &[&str] = &["range", "dict", "namespace"];

pub(crate) fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(new_env)
}

/// A fresh environment (templates compiled for validation borrow their source).
fn new_env<'s>() -> Environment<'s> {
    {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.add_filter("urlencode", |s: String| {
            percent_encoding::utf8_percent_encode(&s, URL_ESCAPE).to_string()
        });
        env.add_filter("trim_dot", |s: String| s.trim_end_matches('.').to_string());
        env.add_filter("b64", |s: String| {
            base64::engine::general_purpose::STANDARD.encode(s)
        });
        env.add_filter("fromjson", |s: String| -> Result<Value, minijinja::Error> {
            serde_json::from_str::<serde_json::Value>(&s)
                .map(|v| Value::from(minijinja::value::Serde(v)))
                .map_err(|e| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("fromjson: not JSON: {e}"),
                    )
                })
        });
        env.add_filter("xmlescape", |s: String| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&apos;")
        });
        env.add_filter("tojson", |v: Value| -> Result<String, minijinja::Error> {
            serde_json::to_string(&v).map_err(|e| {
                minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
            })
        });
        env
    }
}

/// Renders `source` with `ctx`.
pub(crate) fn render(source: &str, ctx: &Value) -> Result<String, String> {
    env().render_str(source, ctx).map_err(describe)
}

/// Evaluates a `when` expression.
pub(crate) fn truthy(expr: &str, ctx: &Value) -> Result<bool, String> {
    let e = env()
        .compile_expression_owned(expr.to_string())
        .map_err(describe)?;
    e.eval(ctx).map(|v| v.is_true()).map_err(describe)
}

/// Variables a template reads that it does not define itself (dotted, e.g. `params.api_key`).
pub(crate) fn template_variables(source: &str) -> Result<Vec<String>, String> {
    let env = new_env();
    let t = env.template_from_str(source).map_err(describe)?;
    let mut v: Vec<String> = t.undeclared_variables(true).into_iter().collect();
    v.sort();
    Ok(v)
}

/// As [`template_variables`], for a `when` expression.
pub(crate) fn expression_variables(source: &str) -> Result<Vec<String>, String> {
    let env = new_env();
    let e = env.compile_expression(source).map_err(describe)?;
    let mut v: Vec<String> = e.undeclared_variables(true).into_iter().collect();
    v.sort();
    Ok(v)
}

/// One line from a minijinja error, with its cause chain.
fn describe(e: minijinja::Error) -> String {
    let mut msg = match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    };
    if let Some(line) = e.line() {
        msg.push_str(&format!(" (template line {line})"));
    }
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    msg
}
