//! Running a Domino provider configuration: the request pipeline its
//! formulas expect (Lookup → QryAdd → Add → StatusFormula; QryDel → Del),
//! with the fields Domino CertMgr gives them.

use std::collections::BTreeMap;

use certmgr_formula::{FieldMap, Fields, Formula, Value};
use serde_json::json;

use super::provider::{ACCOUNT_FIELDS, DxlDefinition, DxlStep, Stage};
use super::reader::ItemValue;
use crate::any::Published;
use crate::engine::{CallContext, Captures, EXCERPT, Engine, Request, Session, Trace, TraceEvent};
use crate::error::DnsError;
use crate::redact::Redactor;

/// Capture key under which the fields of an add are kept for its delete.
const FIELDS_CAPTURE: &str = "dxl_fields";

impl Engine {
    /// Publishes `ctx`'s value with a Domino configuration: Lookup (+ custom
    /// formula), QryAdd, Add, then the StatusFormula must give 200.
    pub async fn dxl_add(
        &self,
        def: &DxlDefinition,
        ctx: &CallContext,
        trace: &dyn Trace,
    ) -> Result<Published, DnsError> {
        let mut run = Run::new(def, ctx, None)?;
        self.run_dxl(&mut run, Stage::Add, ctx, trace).await?;
        run.outcome(ctx)
    }

    /// Removes `ctx`'s value: Lookup, QryDel, Del, starting from the fields
    /// the add left (`captures`; empty when they were lost).
    pub async fn dxl_delete(
        &self,
        def: &DxlDefinition,
        ctx: &CallContext,
        captures: &Captures,
        trace: &dyn Trace,
    ) -> Result<Published, DnsError> {
        let mut run = Run::new(def, ctx, Some(captures))?;
        self.run_dxl(&mut run, Stage::Delete, ctx, trace).await?;
        run.outcome(ctx)
    }

    async fn run_dxl(
        &self,
        run: &mut Run<'_>,
        stage: Stage,
        ctx: &CallContext,
        trace: &dyn Trace,
    ) -> Result<(), DnsError> {
        let mut scratch = Captures::default();
        let session = Session::new(ctx, &run.def.provider.hosts, &mut scratch);
        let def = run.def;
        for step in def
            .steps
            .iter()
            .filter(|s| s.stage == Stage::Both || s.stage == stage)
        {
            let Some(request) = run.request(step, &session.redactor, trace)? else {
                continue;
            };
            let answer = self
                .exchange(def.id(), None, step.name, &request, false, &session, trace)
                .await?;
            run.record_answer(step.name, answer.status, &answer.text);
            if let Some(custom) = &step.custom {
                let v = run.eval(
                    custom,
                    step.name,
                    "ReqLookupCustomFormula",
                    &session.redactor,
                )?;
                note(
                    trace,
                    step.name,
                    &session.redactor,
                    format!("custom formula gave {}", show(&v)),
                );
            }
            let failure = match step.name {
                "Add" => run.add_failure(&session.redactor, trace)?,
                "Del" if !(200..=299).contains(&answer.status) && answer.status != 404 => Some(
                    format!("the provider answered HTTP {} to the delete", answer.status),
                ),
                _ if (500..=599).contains(&answer.status) => Some(format!(
                    "the provider answered HTTP {} after retries",
                    answer.status
                )),
                _ => None,
            };
            if let Some(why) = failure {
                return Err(DnsError::Refused {
                    provider: def.id().to_string(),
                    step: step.name.to_string(),
                    message: format!(
                        "{why}: {} {} → {}; check the account's fields (token, zone) and the provider's message",
                        request.method,
                        session.redactor.apply(request.url.as_str()),
                        session.redactor.excerpt(&answer.text, EXCERPT)
                    ),
                });
            }
        }
        Ok(())
    }
}

fn note(trace: &dyn Trace, step: &str, redactor: &Redactor, message: String) {
    trace.event(&TraceEvent::Note {
        step: step.to_string(),
        message: redactor.apply(&message),
    });
}

/// A value for traces: one text, or a list in Notes notation.
fn show(v: &Value) -> String {
    let parts = v.to_texts();
    let quoted: Vec<String> = match v {
        Value::Number(_) => parts,
        Value::Text(_) => parts.iter().map(|p| format!("{p:?}")).collect(),
    };
    quoted.join(" : ")
}

/// One add or delete: the field document the formulas read and write.
struct Run<'a> {
    def: &'a DxlDefinition,
    fields: FieldMap,
}

impl<'a> Run<'a> {
    fn new(
        def: &'a DxlDefinition,
        ctx: &CallContext,
        saved: Option<&Captures>,
    ) -> Result<Run<'a>, DnsError> {
        let mut fields = FieldMap::new();
        for (name, value) in &def.defaults {
            fields.insert(name, item_to_value(value));
        }
        for (name, value, _) in ctx.params().iter() {
            fields.insert(name, Value::text(value));
        }
        if let Some(json) = saved.and_then(|c| c.get(FIELDS_CAPTURE)) {
            let saved: BTreeMap<String, serde_json::Value> =
                serde_json::from_str(json).map_err(|e| {
                    DnsError::BadInput(format!(
                        "the fields saved by the add of {} cannot be read ({e}); the record may have to be removed by hand",
                        ctx.record_name()
                    ))
                })?;
            for (name, v) in saved {
                if let Some(v) = json_to_value(&v) {
                    fields.insert(&name, v);
                }
            }
        }
        fields.insert("param_RegisteredDomain", Value::text(ctx.zone()));
        fields.insert("RegisteredDomain", Value::text(ctx.zone()));
        fields.insert("param_DnsTxtName", Value::text(ctx.record_name()));
        fields.insert("param_DnsTxtValue", Value::text(ctx.value()));
        Ok(Run { def, fields })
    }

    fn eval(
        &mut self,
        formula: &Formula,
        step: &str,
        item: &str,
        redactor: &Redactor,
    ) -> Result<Value, DnsError> {
        formula
            .eval(&mut self.fields)
            .map_err(|e| DnsError::Render {
                provider: self.def.id().to_string(),
                step: step.to_string(),
                field: item.to_string(),
                message: redactor.apply(&e.to_string()),
            })
    }

    /// The step's request, or `None` when its URL formula gives "".
    fn request(
        &mut self,
        step: &DxlStep,
        redactor: &Redactor,
        trace: &dyn Trace,
    ) -> Result<Option<Request>, DnsError> {
        let url_item = format!("Req{}UrlFormula", step.name);
        let url = self
            .eval(&step.url, step.name, &url_item, redactor)?
            .first_text()
            .trim()
            .to_string();
        if url.is_empty() {
            note(trace, step.name, redactor, "URL formula gave \"\"".into());
            trace.event(&TraceEvent::Skipped {
                step: step.name.to_string(),
            });
            return Ok(None);
        }
        let render_err = |field: &str, message: String| DnsError::Render {
            provider: self.def.id().to_string(),
            step: step.name.to_string(),
            field: field.to_string(),
            message: redactor.apply(&message),
        };
        let parsed = url::Url::parse(&url)
            .map_err(|e| render_err(&url_item, format!("{url:?} is not a valid URL: {e}")))?;
        let mut headers = Vec::new();
        let mut content_type = None;
        if let Some(h) = &step.headers {
            let item = format!("Req{}HeaderFormula", step.name);
            for line in self.eval(h, step.name, &item, redactor)?.to_texts() {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                let Some((name, value)) = line.split_once(':') else {
                    return Err(render_err(
                        &item,
                        format!(
                            "{line:?} is not a header line; each element must be \"Name: value\""
                        ),
                    ));
                };
                let (name, value) = (name.trim().to_string(), value.trim().to_string());
                if name.eq_ignore_ascii_case("content-type") {
                    content_type = Some(value);
                } else {
                    headers.push((name, value));
                }
            }
        }
        let body = match &step.body {
            Some(b) => {
                let item = format!("Req{}PostDataFormula", step.name);
                self.eval(b, step.name, &item, redactor)?
                    .to_texts()
                    .concat()
            }
            None => String::new(),
        };
        let method = reqwest::Method::from_bytes(step.method.as_bytes())
            .map_err(|e| render_err(&format!("Req{}HttpType", step.name), e.to_string()))?;
        if !body.is_empty() && content_type.is_none() {
            content_type = Some("application/json".into());
        }
        Ok(Some(Request {
            method,
            url: parsed,
            headers,
            body,
            content_type,
        }))
    }

    /// `ret_<Step>Status` and `retJSON_<Step>.*` from an answer; a body that
    /// is not JSON leaves no `retJSON_` fields and does not stop the flow.
    fn record_answer(&mut self, step: &str, status: u16, text: &str) {
        let prefix = format!("retJSON_{step}");
        let stale: Vec<String> = self
            .fields
            .iter()
            .map(|(n, _)| n.to_string())
            .filter(|n| is_under(n, &prefix))
            .collect();
        for n in stale {
            self.fields.set(&n, Value::text(""));
        }
        self.fields.insert(
            &format!("ret_{step}Status"),
            Value::number(f64::from(status)),
        );
        if let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) {
            flatten(&prefix, &doc, &mut self.fields);
        }
    }

    /// Why the add failed, if it did: the StatusFormula must give 200
    /// (without one, the status must be 2xx).
    fn add_failure(
        &mut self,
        redactor: &Redactor,
        trace: &dyn Trace,
    ) -> Result<Option<String>, DnsError> {
        let status = match &self.def.status {
            Some(f) => {
                let v = self.eval(f, "Add", "StatusFormula", redactor)?;
                note(
                    trace,
                    "Add",
                    redactor,
                    format!("StatusFormula gave {}", show(&v)),
                );
                v.as_number()
                    .or_else(|| v.first_text().trim().parse::<f64>().ok())
            }
            None => self
                .fields
                .get("ret_AddStatus")
                .and_then(|v| v.as_number())
                .map(|s| {
                    if (200.0..300.0).contains(&s) {
                        200.0
                    } else {
                        s
                    }
                }),
        };
        Ok(match status {
            Some(200.0) => None,
            Some(s) => Some(format!("the StatusFormula gave {s} (200 means success)")),
            None => Some("the StatusFormula did not give a number (200 means success)".into()),
        })
    }

    /// The fields to keep and the account fields that changed.
    fn outcome(self, ctx: &CallContext) -> Result<Published, DnsError> {
        let redactor = ctx.redactor();
        // Secret: the known secrets, and any parameter or default item the
        // configuration seals.
        let secret = |name: &str| {
            ACCOUNT_FIELDS
                .iter()
                .any(|(n, s, _)| *s && n.eq_ignore_ascii_case(name))
                || self
                    .def
                    .parameters
                    .iter()
                    .any(|p| p.secret && p.name.eq_ignore_ascii_case(name))
                || self.def.document.item(name).is_some_and(|i| i.sealed)
        };
        // A formula may not widen where later runs send requests: an account
        // field it sets to a URL of a host this call could not reach is not
        // written back.
        let allowed =
            crate::destination::Allowed::new(&self.def.provider.hosts, ctx.params(), ctx.network());
        let mut keep = serde_json::Map::new();
        let mut account_updates = BTreeMap::new();
        for (name, value) in self.fields.iter() {
            if secret(name) {
                continue;
            }
            let texts = value.to_texts();
            // a field echoing a secret is not kept in the clear
            if texts.iter().any(|t| redactor.apply(t) != *t) {
                continue;
            }
            keep.insert(name.to_string(), value_to_json(value));
            if let Some((field, _, _)) = ACCOUNT_FIELDS
                .iter()
                .find(|(n, s, _)| !*s && n.eq_ignore_ascii_case(name))
            {
                let before = ctx.params().get(field).unwrap_or("");
                let now = value.first_text();
                let widens = value.to_texts().iter().any(|t| {
                    crate::destination::url_host(t).is_some_and(|h| !allowed.contains(&h))
                });
                if now != before && !widens {
                    account_updates.insert(field.to_string(), now);
                }
            }
        }
        let mut captures = Captures::default();
        captures.0.insert(
            FIELDS_CAPTURE.to_string(),
            serde_json::Value::Object(keep).to_string(),
        );
        Ok(Published {
            captures,
            account_updates,
        })
    }
}

/// Whether field `name` is `prefix.<something>`, case-insensitively (on
/// bytes: a field name may be non-ASCII where `prefix` ends).
fn is_under(name: &str, prefix: &str) -> bool {
    let (n, p) = (name.as_bytes(), prefix.as_bytes());
    n.len() > p.len() && n[..p.len()].eq_ignore_ascii_case(p) && n[p.len()] == b'.'
}

fn item_to_value(v: &ItemValue) -> Value {
    match v {
        ItemValue::Text(t) | ItemValue::DateTime(t) => Value::texts(t.clone()),
        ItemValue::Number(n) => match n.as_slice() {
            [] => Value::text(""),
            _ => Value::Number(n.clone()),
        },
        ItemValue::RichText(t) => Value::text(t.clone()),
    }
}

fn value_to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Text(t) => json!({ "t": t }),
        Value::Number(n) => json!({ "n": n }),
    }
}

fn json_to_value(v: &serde_json::Value) -> Option<Value> {
    if let Some(t) = v.get("t").and_then(|t| t.as_array()) {
        return Some(Value::texts(
            t.iter()
                .map(|e| e.as_str().unwrap_or_default().to_string())
                .collect(),
        ));
    }
    let n: Vec<f64> = v
        .get("n")?
        .as_array()?
        .iter()
        .filter_map(|e| e.as_f64())
        .collect();
    (!n.is_empty()).then_some(Value::Number(n))
}

/// `retJSON_<Step>.<path>`: object keys joined with dots, array indices from
/// 0, scalars as text; an array of scalars is also a text list at its own path.
fn flatten(path: &str, v: &serde_json::Value, fields: &mut FieldMap) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                flatten(&format!("{path}.{k}"), child, fields);
            }
        }
        serde_json::Value::Array(items) => {
            if !items.is_empty() && items.iter().all(|i| !i.is_object() && !i.is_array()) {
                fields.insert(path, Value::texts(items.iter().map(scalar_text).collect()));
            }
            for (i, child) in items.iter().enumerate() {
                flatten(&format!("{path}.{i}"), child, fields);
            }
        }
        scalar => fields.insert(path, Value::text(scalar_text(scalar))),
    }
}

fn scalar_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn json_answers_flatten_to_retjson_fields() {
        let mut f = FieldMap::new();
        let doc = serde_json::json!({
            "success": true,
            "result": {"id": "372e67954025e0ba6aaa6d586b9e0b59", "ttl": 120},
            "records": ["\"a\"", "\"b\""],
            "zones": [{"id": "z1"}, {"id": "z2"}],
            "none": null
        });
        flatten("retJSON_Add", &doc, &mut f);
        let get = |n: &str| f.get(n).map(|v| v.to_texts());
        assert_eq!(get("retjson_add.success"), Some(vec!["true".to_string()]));
        assert_eq!(
            get("retJSON_Add.result.id"),
            Some(vec!["372e67954025e0ba6aaa6d586b9e0b59".to_string()])
        );
        assert_eq!(get("retJSON_Add.result.ttl"), Some(vec!["120".to_string()]));
        assert_eq!(
            get("retJSON_Add.records"),
            Some(vec!["\"a\"".to_string(), "\"b\"".to_string()])
        );
        assert_eq!(
            get("retJSON_Add.records.1"),
            Some(vec!["\"b\"".to_string()])
        );
        assert_eq!(get("retJSON_Add.zones.1.id"), Some(vec!["z2".to_string()]));
        assert_eq!(get("retJSON_Add.none"), Some(vec![String::new()]));
        assert_eq!(get("retJSON_Add.zones"), None);
    }

    #[test]
    fn step_fields_are_found_by_prefix_without_slicing_characters() {
        assert!(is_under("RETJSON_Add.result.id", "retJSON_Add"));
        assert!(!is_under("retJSON_AddX.id", "retJSON_Add"));
        assert!(!is_under("retJSON_Add", "retJSON_Add"));
        // byte 11 falls inside "é": must not panic
        assert!(!is_under("param_ééééééé", "retJSON_Add"));
    }

    #[test]
    fn saved_fields_round_trip() {
        for v in [
            Value::text("x"),
            Value::texts(vec!["a".into(), "b".into()]),
            Value::number(201.0),
        ] {
            assert_eq!(json_to_value(&value_to_json(&v)), Some(v));
        }
    }
}
