//! Running a definition's steps over HTTP: rendering, retries, captures, traces.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::definition::{BodyTemplate, Definition, Params, Phase, Step};
use crate::error::DnsError;
use crate::redact::Redactor;
use crate::template;

/// Values captured by steps (zone id, record id...). The caller keeps the
/// captures of `add` and hands them to `delete`, so it deletes exactly what
/// it added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Captures(pub BTreeMap<String, String>);

impl Captures {
    /// A captured value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// What one call is about: the record, its value(s), and the account's parameters.
#[derive(Debug, Clone)]
pub struct CallContext {
    zone: String,
    record_name: String,
    record_relative: String,
    value: String,
    values: Vec<String>,
    ttl: Option<u32>,
    params: Params,
}

impl CallContext {
    /// `zone` and `record_name` are DNS names (a trailing dot is ignored);
    /// `record_name` must be inside `zone`. `values` starts as `[value]`.
    pub fn new(
        zone: &str,
        record_name: &str,
        value: &str,
        params: Params,
    ) -> Result<CallContext, DnsError> {
        let zone = zone.trim_end_matches('.').to_ascii_lowercase();
        let record_name = record_name.trim_end_matches('.').to_ascii_lowercase();
        if zone.is_empty() {
            return Err(DnsError::BadInput(
                "empty DNS zone; give the zone that holds the record, e.g. example.com".into(),
            ));
        }
        let record_relative = if record_name == zone {
            String::new()
        } else if let Some(rel) = record_name.strip_suffix(&format!(".{zone}")) {
            rel.to_string()
        } else {
            return Err(DnsError::BadInput(format!(
                "record {record_name:?} is not inside zone {zone:?}; give the zone that holds it"
            )));
        };
        Ok(CallContext {
            zone,
            record_name,
            record_relative,
            value: value.to_string(),
            values: vec![value.to_string()],
            ttl: None,
            params,
        })
    }

    /// Every TXT value certmgr wants on the name after this call (for APIs
    /// that replace a whole RRset): on add, including `value`; on delete,
    /// the values that must remain.
    pub fn with_values(mut self, values: Vec<String>) -> CallContext {
        self.values = values;
        self
    }

    /// Requested TTL; raised to the provider's `min_ttl`.
    pub fn with_ttl(mut self, ttl: u32) -> CallContext {
        self.ttl = Some(ttl);
        self
    }

    fn template_context(&self, def: &Definition, captures: &Captures) -> minijinja::Value {
        let ttl = self
            .ttl
            .unwrap_or(def.provider.min_ttl)
            .max(def.provider.min_ttl);
        let params: BTreeMap<String, String> = self
            .params
            .iter()
            .map(|(k, v, _)| (k.to_string(), v.to_string()))
            .collect();
        minijinja::context! {
            zone => &self.zone,
            record_name => &self.record_name,
            record_relative => &self.record_relative,
            value => &self.value,
            values => &self.values,
            ttl => ttl,
            params => params,
            captures => &captures.0,
        }
    }

    fn redactor(&self) -> Redactor {
        Redactor::new(
            self.params
                .iter()
                .filter(|(_, _, s)| *s)
                .map(|(k, v, _)| (k, v)),
        )
    }
}

/// One thing the engine did, secrets already replaced by `<redacted:NAME>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceEvent {
    /// A step was skipped because its `when` was false.
    Skipped {
        /// Step name.
        step: String,
    },
    /// A request about to be sent.
    Request {
        /// Step name.
        step: String,
        /// 1-based attempt.
        attempt: u32,
        /// Method.
        method: String,
        /// URL.
        url: String,
        /// Headers.
        headers: Vec<(String, String)>,
        /// Body text.
        body: String,
    },
    /// The answer.
    Response {
        /// Step name.
        step: String,
        /// 1-based attempt.
        attempt: u32,
        /// Status.
        status: u16,
        /// Body text.
        body: String,
    },
    /// The request failed without an answer.
    Failure {
        /// Step name.
        step: String,
        /// 1-based attempt.
        attempt: u32,
        /// What failed.
        message: String,
    },
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceEvent::Skipped { step } => write!(f, "[{step}] skipped"),
            TraceEvent::Request {
                step,
                attempt,
                method,
                url,
                headers,
                body,
            } => {
                write!(f, "[{step}#{attempt}] > {method} {url}")?;
                for (k, v) in headers {
                    write!(f, " | {k}: {v}")?;
                }
                if !body.is_empty() {
                    write!(f, " | {body}")?;
                }
                Ok(())
            }
            TraceEvent::Response {
                step,
                attempt,
                status,
                body,
            } => {
                write!(f, "[{step}#{attempt}] < {status} {body}")
            }
            TraceEvent::Failure {
                step,
                attempt,
                message,
            } => {
                write!(f, "[{step}#{attempt}] ! {message}")
            }
        }
    }
}

/// Where the engine reports each request and answer (for `--verbose`, logs, tests).
pub trait Trace: Send + Sync {
    /// Called for each event, in order.
    fn event(&self, event: &TraceEvent);
}

/// A trace that drops everything.
#[derive(Debug, Default)]
pub struct NoTrace;

impl Trace for NoTrace {
    fn event(&self, _event: &TraceEvent) {}
}

/// A trace that keeps every event in memory.
#[derive(Debug, Default)]
pub struct MemoryTrace(Mutex<Vec<TraceEvent>>);

impl MemoryTrace {
    /// The events so far.
    pub fn events(&self) -> Vec<TraceEvent> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// The events as text, one per line.
    pub fn text(&self) -> String {
        self.events()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Trace for MemoryTrace {
    fn event(&self, event: &TraceEvent) {
        if let Ok(mut v) = self.0.lock() {
            v.push(event.clone());
        }
    }
}

/// How often and how patiently to retry 5xx answers and connection errors.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Total attempts (at least 1).
    pub attempts: u32,
    /// Wait before the second attempt; doubled each time.
    pub initial_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            initial_backoff: Duration::from_millis(200),
        }
    }
}

/// Runs provider definitions: one HTTP client, one retry policy.
#[derive(Debug, Clone)]
pub struct Engine {
    client: reqwest::Client,
    retry: RetryPolicy,
}

/// Longest body excerpt put into an error.
const EXCERPT: usize = 300;

impl Engine {
    /// An engine with a 30 s timeout per request, no redirects (a redirect
    /// could carry credentials elsewhere) and the default retry policy.
    pub fn new() -> Result<Engine, DnsError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("certmgr/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DnsError::Client(e.to_string()))?;
        Ok(Engine {
            client,
            retry: RetryPolicy::default(),
        })
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Engine {
        self.retry = retry;
        self
    }

    /// Publishes `ctx`'s value: lookup, query, add. Returns the captures to
    /// keep for [`Engine::delete_record`].
    pub async fn add_record(
        &self,
        def: &Definition,
        ctx: &CallContext,
        trace: &dyn Trace,
    ) -> Result<Captures, DnsError> {
        let mut captures = Captures::default();
        for phase in [Phase::Lookup, Phase::Query, Phase::Add] {
            self.run_phase(def, phase, ctx, &mut captures, trace)
                .await?;
        }
        Ok(captures)
    }

    /// Removes `ctx`'s value: lookup, query, delete, starting from the
    /// captures `add` returned (or empty ones, if they were lost).
    pub async fn delete_record(
        &self,
        def: &Definition,
        ctx: &CallContext,
        captures: &mut Captures,
        trace: &dyn Trace,
    ) -> Result<(), DnsError> {
        for phase in [Phase::Lookup, Phase::Query, Phase::Delete] {
            self.run_phase(def, phase, ctx, captures, trace).await?;
        }
        Ok(())
    }

    /// Runs the steps of one phase in order, adding their captures.
    pub async fn run_phase(
        &self,
        def: &Definition,
        phase: Phase,
        ctx: &CallContext,
        captures: &mut Captures,
        trace: &dyn Trace,
    ) -> Result<(), DnsError> {
        let redactor = ctx.redactor();
        for step in def.steps_of(phase) {
            self.run_step(def, step, ctx, captures, trace, &redactor)
                .await?;
        }
        Ok(())
    }

    async fn run_step(
        &self,
        def: &Definition,
        step: &Step,
        ctx: &CallContext,
        captures: &mut Captures,
        trace: &dyn Trace,
        redactor: &Redactor,
    ) -> Result<(), DnsError> {
        let provider = def.provider.id.clone();
        let tctx = ctx.template_context(def, captures);
        let render_err = |field: &str, message: String| DnsError::Render {
            provider: provider.clone(),
            step: step.name.clone(),
            field: field.to_string(),
            message: format!(
                "{}; if a capture is missing, pass the captures saved by add",
                redactor.apply(&message)
            ),
        };
        if let Some(w) = &step.when
            && !template::truthy(w, &tctx).map_err(|m| render_err("when", m))?
        {
            trace.event(&TraceEvent::Skipped {
                step: step.name.clone(),
            });
            return Ok(());
        }
        let url = template::render(&step.url, &tctx).map_err(|m| render_err("url", m))?;
        let parsed = url::Url::parse(&url).map_err(|e| {
            render_err(
                "url",
                format!("{:?} is not a valid URL: {e}", redactor.apply(&url)),
            )
        })?;
        let mut headers = Vec::new();
        for (k, v) in &step.headers {
            let value =
                template::render(v, &tctx).map_err(|m| render_err(&format!("headers.{k}"), m))?;
            headers.push((k.clone(), value));
        }
        let (body, content_type) = match &step.body {
            None => (String::new(), None),
            Some(BodyTemplate::Json(t)) => {
                let out = template::render(t, &tctx).map_err(|m| render_err("json", m))?;
                let v: serde_json::Value = serde_json::from_str(&out)
                    .map_err(|e| render_err("json", format!("rendered body is not JSON: {e}")))?;
                (v.to_string(), Some("application/json".to_string()))
            }
            Some(BodyTemplate::Form(fields)) => {
                let mut ser = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in fields {
                    let out = template::render(v, &tctx)
                        .map_err(|m| render_err(&format!("form.{k}"), m))?;
                    ser.append_pair(k, &out);
                }
                (
                    ser.finish(),
                    Some("application/x-www-form-urlencoded".to_string()),
                )
            }
            Some(BodyTemplate::Raw {
                template: t,
                content_type,
            }) => {
                let out = template::render(t, &tctx).map_err(|m| render_err("raw", m))?;
                (out, Some(content_type.clone()))
            }
        };
        let method = reqwest::Method::from_bytes(step.method.as_bytes())
            .map_err(|e| render_err("method", e.to_string()))?;
        let red_url = redactor.apply(&url);

        let attempts = self.retry.attempts.max(1);
        let mut backoff = self.retry.initial_backoff;
        let mut attempt = 0;
        let (status, text) = loop {
            attempt += 1;
            trace.event(&TraceEvent::Request {
                step: step.name.clone(),
                attempt,
                method: step.method.clone(),
                url: red_url.clone(),
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.clone(), redactor.apply(v)))
                    .collect(),
                body: redactor.apply(&body),
            });
            let mut req = self.client.request(method.clone(), parsed.clone());
            for (k, v) in &headers {
                req = req.header(k.as_str(), v.as_str());
            }
            if let Some(ct) = &content_type {
                req = req.header("content-type", ct.as_str());
            }
            if !body.is_empty() || content_type.is_some() {
                req = req.body(body.clone());
            }
            let outcome = match req.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    match resp.text().await {
                        Ok(text) => Ok((status, text)),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            match outcome {
                Ok((status, text)) => {
                    trace.event(&TraceEvent::Response {
                        step: step.name.clone(),
                        attempt,
                        status,
                        body: redactor.apply(&text),
                    });
                    if (500..=599).contains(&status) && attempt < attempts {
                        tokio::time::sleep(backoff).await;
                        backoff *= 2;
                        continue;
                    }
                    break (status, text);
                }
                Err(e) => {
                    let message = redactor.apply(&error_chain(&e));
                    trace.event(&TraceEvent::Failure {
                        step: step.name.clone(),
                        attempt,
                        message: message.clone(),
                    });
                    if attempt < attempts {
                        tokio::time::sleep(backoff).await;
                        backoff *= 2;
                        continue;
                    }
                    return Err(DnsError::Transport {
                        provider,
                        step: step.name.clone(),
                        method: step.method.clone(),
                        url: red_url,
                        attempts: attempt,
                        message,
                    });
                }
            }
        };

        let ok = if step.expect_status.is_empty() {
            (200..=299).contains(&status)
        } else {
            step.expect_status.contains(&status)
        };
        if !ok {
            let hint = match status {
                401 | 403 => "check the API token and that it has the scopes this provider needs",
                404 => "check the zone exists in this account and the API URL",
                429 => "the provider is rate limiting; try again later",
                500..=599 => "the provider failed; try again later",
                _ => "see the provider's answer above",
            };
            return Err(DnsError::Status(Box::new(crate::error::StatusError {
                provider,
                step: step.name.clone(),
                method: step.method.clone(),
                url: red_url,
                status,
                expected: if step.expect_status.is_empty() {
                    "2xx".to_string()
                } else {
                    step.expect_status
                        .iter()
                        .map(u16::to_string)
                        .collect::<Vec<_>>()
                        .join(" or ")
                },
                attempts: attempt,
                body: redactor.excerpt(&text, EXCERPT),
                hint,
            })));
        }

        if step.capture.is_empty() {
            return Ok(());
        }
        let capture_err = |capture: &str, message: String| DnsError::Capture {
            provider: provider.clone(),
            step: step.name.clone(),
            capture: capture.to_string(),
            message,
        };
        let json: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                let first = step.capture.keys().next().map_or("", String::as_str);
                return Err(capture_err(
                    first,
                    format!(
                        "answer is not JSON ({e}): {}",
                        redactor.excerpt(&text, EXCERPT)
                    ),
                ));
            }
        };
        for (name, path_tpl) in &step.capture {
            let path_src = template::render(path_tpl, &tctx)
                .map_err(|m| capture_err(name, redactor.apply(&m)))?;
            let path = serde_json_path::JsonPath::parse(&path_src).map_err(|e| {
                capture_err(
                    name,
                    format!(
                        "JSONPath {:?} is invalid with these values: {}",
                        redactor.apply(&path_src),
                        e.to_string().replace('\n', " ")
                    ),
                )
            })?;
            match path.query(&json).first() {
                Some(v) => {
                    let text = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    captures.0.insert(name.clone(), text);
                }
                None if step.optional_captures.contains(name) => {}
                None => {
                    return Err(capture_err(
                        name,
                        format!(
                            "JSONPath {:?} matched nothing in the answer: {}; check the zone or record exists in this account",
                            redactor.apply(&path_src),
                            redactor.excerpt(&text, EXCERPT)
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}
