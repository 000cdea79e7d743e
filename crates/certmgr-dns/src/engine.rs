//! Running a definition's steps over HTTP: rendering, retries, captures, traces.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::answer::Answer;
use crate::definition::{BodyTemplate, Definition, PageMode, Params, Phase, Step};
use crate::destination::{Allowed, GuardedResolver, NetworkAccess, Refusal};
use crate::error::DnsError;
use crate::redact::Redactor;
use crate::template;
pub use crate::trace::{MemoryTrace, NoTrace, Trace, TraceEvent};

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
    network: NetworkAccess,
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
            network: NetworkAccess::PUBLIC_HTTPS,
        })
    }

    /// Every TXT value certmgr wants on the name after this call (for APIs
    /// that replace a whole RRset): on add, including `value`; on delete,
    /// the values that must remain.
    pub fn with_values(mut self, values: Vec<String>) -> CallContext {
        self.values = values;
        self
    }

    /// The non-public destinations the account allows (default: none,
    /// public HTTPS hosts only).
    pub fn with_network(mut self, access: NetworkAccess) -> CallContext {
        self.network = access;
        self
    }

    /// The network access of this call.
    pub fn network(&self) -> NetworkAccess {
        self.network
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

    /// The zone (lower case, no trailing dot).
    pub fn zone(&self) -> &str {
        &self.zone
    }

    /// The record name (lower case, no trailing dot).
    pub fn record_name(&self) -> &str {
        &self.record_name
    }

    /// The TXT value of this call.
    pub fn value(&self) -> &str {
        &self.value
    }

    pub(crate) fn params(&self) -> &Params {
        &self.params
    }

    pub(crate) fn redactor(&self) -> Redactor {
        Redactor::new(
            self.params
                .iter()
                .filter(|(_, _, s)| *s)
                .map(|(k, v, _)| (k, v)),
        )
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

/// Runs provider definitions: HTTP clients and one retry policy.
///
/// Every request goes through one check (`Engine::exchange`): its host
/// must be declared by the definition or named by the account's parameters,
/// and non-public addresses and plain `http://` need the account's
/// [`NetworkAccess`]. The default client resolves names through
/// a guarded resolver, which refuses non-public addresses; the open one is
/// used only for accounts that allow the private network.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) client: reqwest::Client,
    pub(crate) open_client: reqwest::Client,
    pub(crate) retry: RetryPolicy,
    fixed_time: Option<SystemTime>,
}

/// Longest body excerpt put into an error.
pub(crate) const EXCERPT: usize = 300;

/// Per-call state shared by the steps of one add or delete.
pub(crate) struct Session<'a> {
    pub(crate) captures: &'a mut Captures,
    pub(crate) redactor: Redactor,
    /// Rendered `[auth]` fields, once the first request needs them.
    pub(crate) auth_fields: Option<BTreeMap<String, String>>,
    pub(crate) token: Option<Zeroizing<String>>,
    /// Hosts this call may reach.
    pub(crate) allowed: Allowed,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        if let Some(f) = self.auth_fields.as_mut() {
            for v in f.values_mut() {
                v.zeroize();
            }
        }
    }
}

/// A request ready to send (before authentication).
#[derive(Clone)]
pub(crate) struct Request {
    pub(crate) method: reqwest::Method,
    pub(crate) url: url::Url,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
    pub(crate) content_type: Option<String>,
}

impl Engine {
    /// An engine with a 30 s timeout per request, no redirects (a redirect
    /// could carry credentials elsewhere) and the default retry policy.
    pub fn new() -> Result<Engine, DnsError> {
        let builder = || {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .connect_timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("certmgr/", env!("CARGO_PKG_VERSION")))
        };
        let client = builder()
            .dns_resolver(std::sync::Arc::new(GuardedResolver::from_env()))
            .build()
            .map_err(|e| DnsError::Client(e.to_string()))?;
        let open_client = builder()
            .build()
            .map_err(|e| DnsError::Client(e.to_string()))?;
        Ok(Engine {
            client,
            open_client,
            retry: RetryPolicy::default(),
            fixed_time: None,
        })
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Engine {
        self.retry = retry;
        self
    }

    /// Signs and timestamps as if the clock read `now`: signatures and
    /// tokens become reproducible, so tests can check them exactly.
    pub fn with_fixed_time(mut self, now: SystemTime) -> Engine {
        self.fixed_time = Some(now);
        self
    }

    pub(crate) fn now(&self) -> SystemTime {
        self.fixed_time.unwrap_or_else(SystemTime::now)
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
        let mut session = Session::new(ctx, &def.provider.hosts, &mut captures);
        for phase in [Phase::Lookup, Phase::Query, Phase::Add] {
            self.run_steps(def, phase, ctx, &mut session, trace).await?;
        }
        drop(session);
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
        let mut session = Session::new(ctx, &def.provider.hosts, captures);
        for phase in [Phase::Lookup, Phase::Query, Phase::Delete] {
            self.run_steps(def, phase, ctx, &mut session, trace).await?;
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
        let mut session = Session::new(ctx, &def.provider.hosts, captures);
        self.run_steps(def, phase, ctx, &mut session, trace).await
    }

    async fn run_steps(
        &self,
        def: &Definition,
        phase: Phase,
        ctx: &CallContext,
        session: &mut Session<'_>,
        trace: &dyn Trace,
    ) -> Result<(), DnsError> {
        for step in def.steps_of(phase) {
            self.run_step(def, step, ctx, session, trace).await?;
        }
        Ok(())
    }

    async fn run_step(
        &self,
        def: &Definition,
        step: &Step,
        ctx: &CallContext,
        session: &mut Session<'_>,
        trace: &dyn Trace,
    ) -> Result<(), DnsError> {
        let tctx = ctx.template_context(def, session.captures);
        let fail = Fail {
            provider: &def.provider.id,
            step: &step.name,
        };
        if let Some(w) = &step.when
            && !template::truthy(w, &tctx).map_err(|m| fail.render(&session.redactor, "when", m))?
        {
            trace.event(&TraceEvent::Skipped {
                step: step.name.clone(),
            });
            return Ok(());
        }
        let mut request = self.render_request(step, &tctx, &session.redactor, &fail)?;
        let sign = step.auth && def.auth.is_some();
        if sign {
            self.prepare_auth(def, &tctx, session, trace).await?;
        }

        let mut repeats = 0;
        let mut answer = loop {
            repeats += 1;
            let answer = self
                .checked_exchange(def, step, &request, sign, session, &tctx, trace)
                .await?;
            let Some(until) = &step.repeat_until else {
                break answer;
            };
            let ectx = with_response(&tctx, &answer);
            if template::truthy(until, &ectx)
                .map_err(|m| fail.render(&session.redactor, "repeat_until", m))?
            {
                break answer;
            }
            if repeats >= step.repeat_max.min(crate::definition::MAX_REPEAT) {
                return Err(fail.refused(format!(
                    "`{until}` still false after {repeats} request(s) {} s apart: {}; the provider has not finished the change, try again later",
                    step.repeat_interval.as_secs(),
                    session.redactor.excerpt(&answer.text, EXCERPT)
                )));
            }
            tokio::time::sleep(
                step.repeat_interval
                    .min(Duration::from_secs(crate::definition::MAX_INTERVAL_SECS)),
            )
            .await;
        };

        if step.capture.is_empty() && step.capture_all.is_empty() && step.capture_regex.is_empty() {
            return Ok(());
        }
        let mut pending: BTreeSet<&String> = step
            .capture
            .keys()
            .chain(step.capture_regex.keys())
            .collect();
        let mut lists: BTreeMap<&String, Vec<serde_json::Value>> =
            step.capture_all.keys().map(|k| (k, Vec::new())).collect();
        let mut pages = 1;
        loop {
            self.capture_page(
                step,
                &tctx,
                &answer,
                session,
                &mut pending,
                &mut lists,
                &fail,
            )?;
            if pending.is_empty() && lists.is_empty() {
                break;
            }
            let Some(paginate) = &step.paginate else {
                break;
            };
            if pages >= paginate.max_pages.min(crate::definition::MAX_PAGES) {
                break;
            }
            let Some(next) = next_page(paginate, &answer, &request.url, pages) else {
                break;
            };
            if (next.scheme(), next.host_str(), next.port_or_known_default())
                != (
                    request.url.scheme(),
                    request.url.host_str(),
                    request.url.port_or_known_default(),
                )
            {
                return Err(DnsError::Destination {
                    provider: def.provider.id.clone(),
                    step: step.name.clone(),
                    host: session
                        .redactor
                        .apply(&crate::destination::destination(&next).unwrap_or_default()),
                    refusal: Refusal::OtherHost,
                    message: session.redactor.apply(&format!(
                        "refused to follow the next-page link {}: it leaves {} for another host or scheme; pagination stays on the host of the first page",
                        next,
                        request.url.origin().ascii_serialization()
                    )),
                });
            }
            pages += 1;
            request.url = next;
            answer = self
                .checked_exchange(def, step, &request, sign, session, &tctx, trace)
                .await?;
        }
        for (name, list) in lists {
            session
                .captures
                .0
                .insert(name.clone(), serde_json::Value::Array(list).to_string());
        }
        if let Some(name) = pending
            .into_iter()
            .find(|n| !step.optional_captures.contains(n.as_str()))
        {
            let what = step
                .capture
                .get(name)
                .map(|p| format!("JSONPath {:?}", session.redactor.apply(p)))
                .or_else(|| {
                    step.capture_regex
                        .get(name)
                        .map(|r| format!("regular expression {:?}", session.redactor.apply(r)))
                })
                .unwrap_or_default();
            return Err(fail.capture(
                name,
                format!(
                    "{what} matched nothing in {pages} page(s) of the answer: {}; check the zone or record exists in this account",
                    session.redactor.excerpt(&answer.text, EXCERPT)
                ),
            ));
        }
        Ok(())
    }

    /// Renders URL, headers and body of a step.
    fn render_request(
        &self,
        step: &Step,
        tctx: &minijinja::Value,
        redactor: &Redactor,
        fail: &Fail<'_>,
    ) -> Result<Request, DnsError> {
        let render = |field: &str, src: &str| {
            template::render(src, tctx).map_err(|m| fail.render(redactor, field, m))
        };
        let url = render("url", &step.url)?;
        let parsed = url::Url::parse(&url).map_err(|e| {
            fail.render(redactor, "url", format!("{url:?} is not a valid URL: {e}"))
        })?;
        let mut headers = Vec::new();
        for (k, v) in &step.headers {
            headers.push((k.clone(), render(&format!("headers.{k}"), v)?));
        }
        let (body, content_type) = match &step.body {
            None => (String::new(), None),
            Some(BodyTemplate::Json(t)) => {
                let out = render("json", t)?;
                let v: serde_json::Value = serde_json::from_str(&out).map_err(|e| {
                    fail.render(redactor, "json", format!("rendered body is not JSON: {e}"))
                })?;
                (v.to_string(), Some("application/json".to_string()))
            }
            Some(BodyTemplate::Form(fields)) => {
                let mut ser = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in fields {
                    ser.append_pair(k, &render(&format!("form.{k}"), v)?);
                }
                (
                    ser.finish(),
                    Some("application/x-www-form-urlencoded".to_string()),
                )
            }
            Some(BodyTemplate::Raw {
                template: t,
                content_type,
            }) => (render("raw", t)?, Some(content_type.clone())),
        };
        let method = reqwest::Method::from_bytes(step.method.as_bytes())
            .map_err(|e| fail.render(redactor, "method", e.to_string()))?;
        Ok(Request {
            method,
            url: parsed,
            headers,
            body,
            content_type,
        })
    }

    /// Renders the `[auth]` fields once per call and, for token helpers,
    /// obtains the token; both become secrets of the redactor.
    async fn prepare_auth(
        &self,
        def: &Definition,
        tctx: &minijinja::Value,
        session: &mut Session<'_>,
        trace: &dyn Trace,
    ) -> Result<(), DnsError> {
        let Some(spec) = &def.auth else {
            return Ok(());
        };
        let auth_err = |redactor: &Redactor, message: String| DnsError::Auth {
            provider: def.provider.id.clone(),
            kind: spec.kind.name().to_string(),
            message: redactor.apply(&message),
        };
        if session.auth_fields.is_none() {
            let mut fields = BTreeMap::new();
            for (name, src) in &spec.fields {
                let v = template::render(src, tctx)
                    .map_err(|m| auth_err(&session.redactor, format!("field {name:?}: {m}")))?;
                fields.insert(name.clone(), v);
            }
            for secret in SECRET_AUTH_FIELDS {
                if let Some(v) = fields.get(*secret) {
                    session.redactor.add(secret, v);
                }
            }
            session.auth_fields = Some(fields);
        }
        if !spec.kind.uses_token() || session.token.is_some() {
            return Ok(());
        }
        let fields = session.auth_fields.clone().unwrap_or_default();
        let token_request = crate::auth::token_request(spec.kind, &fields, self.now())
            .map_err(|m| auth_err(&session.redactor, m))?;
        // A Google key file names its own token endpoint: account data, like an API URL.
        if spec.kind == crate::auth::AuthKind::GoogleServiceAccount
            && fields.get("token_url").is_none_or(|u| u.trim().is_empty())
        {
            session.allowed.add_account_url(&token_request.url);
        }
        if let Some((_, assertion)) = token_request.form.iter().find(|(k, _)| k == "assertion") {
            session.redactor.add("assertion", assertion);
        }
        let url = url::Url::parse(&token_request.url).map_err(|e| {
            auth_err(
                &session.redactor,
                format!("token URL {:?} is not a valid URL: {e}", token_request.url),
            )
        })?;
        let request = Request {
            method: reqwest::Method::POST,
            url,
            headers: vec![("accept".into(), "application/json".into())],
            body: url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&token_request.form)
                .finish(),
            content_type: Some("application/x-www-form-urlencoded".into()),
        };
        // Held back until the token is known, so the answer that carries it
        // is redacted too.
        let held = MemoryTrace::default();
        let result = self
            .exchange(
                &def.provider.id,
                None,
                "auth",
                &request,
                false,
                session,
                &held,
            )
            .await;
        let token = result
            .as_ref()
            .ok()
            .and_then(|answer| answer.doc.as_ref()?.get("access_token")?.as_str())
            .filter(|t| !t.is_empty())
            .map(|t| Zeroizing::new(t.to_string()));
        if let Some(t) = &token {
            session.redactor.add("auth_token", t);
        }
        for event in held.events() {
            trace.event(&event.redacted(&session.redactor));
        }
        let answer = result?;
        match token {
            Some(t) if (200..=299).contains(&answer.status) => {
                session.token = Some(t);
                Ok(())
            }
            _ => Err(auth_err(
                &session.redactor,
                format!(
                    "the token endpoint {} answered HTTP {} without an access token: {}; check the client id, secret and tenant/project",
                    request.url,
                    answer.status,
                    session.redactor.excerpt(&answer.text, EXCERPT)
                ),
            )),
        }
    }

    /// Sends a step's request (with retries), then checks the status and `success_when`.
    #[allow(clippy::too_many_arguments)]
    async fn checked_exchange(
        &self,
        def: &Definition,
        step: &Step,
        request: &Request,
        sign: bool,
        session: &mut Session<'_>,
        tctx: &minijinja::Value,
        trace: &dyn Trace,
    ) -> Result<Answer, DnsError> {
        let answer = self
            .exchange(
                &def.provider.id,
                def.auth.as_ref(),
                &step.name,
                request,
                sign,
                session,
                trace,
            )
            .await?;
        let redactor = &session.redactor;
        let ok = if step.expect_status.is_empty() {
            (200..=299).contains(&answer.status)
        } else {
            step.expect_status.contains(&answer.status)
        };
        if !ok {
            let hint = match answer.status {
                401 | 403 => "check the API token and that it has the scopes this provider needs",
                404 => "check the zone exists in this account and the API URL",
                429 => "the provider is rate limiting; try again later",
                500..=599 => "the provider failed; try again later",
                _ => "see the provider's answer above",
            };
            return Err(DnsError::Status(Box::new(crate::error::StatusError {
                provider: def.provider.id.clone(),
                step: step.name.clone(),
                method: request.method.to_string(),
                url: redactor.apply(request.url.as_str()),
                status: answer.status,
                expected: if step.expect_status.is_empty() {
                    "2xx".to_string()
                } else {
                    step.expect_status
                        .iter()
                        .map(u16::to_string)
                        .collect::<Vec<_>>()
                        .join(" or ")
                },
                attempts: answer.attempts,
                body: redactor.excerpt(&answer.text, EXCERPT),
                hint,
            })));
        }
        if let Some(cond) = &step.success_when {
            let fail = Fail {
                provider: &def.provider.id,
                step: &step.name,
            };
            let ectx = with_response(tctx, &answer);
            if !template::truthy(cond, &ectx)
                .map_err(|m| fail.render(redactor, "success_when", m))?
            {
                return Err(fail.refused(format!(
                    "{} {} answered HTTP {} but the answer reports a failure (`{cond}` is false): {}; see the provider's message",
                    request.method,
                    redactor.apply(request.url.as_str()),
                    answer.status,
                    redactor.excerpt(&answer.text, EXCERPT)
                )));
            }
        }
        Ok(answer)
    }

    /// Applies a step's captures to one page of the answer.
    #[allow(clippy::too_many_arguments)]
    fn capture_page<'s>(
        &self,
        step: &'s Step,
        tctx: &minijinja::Value,
        answer: &Answer,
        session: &mut Session<'_>,
        pending: &mut BTreeSet<&'s String>,
        lists: &mut BTreeMap<&'s String, Vec<serde_json::Value>>,
        fail: &Fail<'_>,
    ) -> Result<(), DnsError> {
        let redactor = &session.redactor;
        let needs_doc = pending.iter().any(|n| step.capture.contains_key(*n)) || !lists.is_empty();
        let doc = match (&answer.doc, needs_doc) {
            (Some(d), _) => Some(d),
            (None, false) => None,
            (None, true) => {
                let first = step.capture.keys().chain(step.capture_all.keys()).next();
                return Err(fail.capture(
                    first.map_or("", String::as_str),
                    match &answer.doc_error {
                        Some(why) => why.clone(),
                        None => format!(
                            "the answer is neither JSON nor XML: {}",
                            redactor.excerpt(&answer.text, EXCERPT)
                        ),
                    },
                ));
            }
        };
        let path_for = |name: &str, src: &str| -> Result<serde_json_path::JsonPath, DnsError> {
            let rendered =
                template::render(src, tctx).map_err(|m| fail.capture(name, redactor.apply(&m)))?;
            serde_json_path::JsonPath::parse(&rendered).map_err(|e| {
                fail.capture(
                    name,
                    format!(
                        "JSONPath {:?} is invalid with these values: {}",
                        redactor.apply(&rendered),
                        e.to_string().replace('\n', " ")
                    ),
                )
            })
        };
        let mut found = Vec::new();
        for name in pending.iter() {
            let value = if let Some(src) = step.capture.get(*name) {
                let path = path_for(name, src)?;
                doc.and_then(|d| path.query(d).first().map(json_text))
            } else if let Some(src) = step.capture_regex.get(*name) {
                let rendered = template::render(src, tctx)
                    .map_err(|m| fail.capture(name, redactor.apply(&m)))?;
                let re = regex::Regex::new(&rendered).map_err(|e| {
                    fail.capture(
                        name,
                        format!("invalid regular expression with these values: {e}"),
                    )
                })?;
                re.captures(&answer.text).and_then(|c| {
                    c.get(1)
                        .or_else(|| c.get(0))
                        .map(|m| m.as_str().to_string())
                })
            } else {
                None
            };
            if let Some(v) = value {
                found.push((*name, v));
            }
        }
        for (name, v) in found {
            pending.remove(name);
            session.captures.0.insert(name.clone(), v);
        }
        for (name, list) in lists.iter_mut() {
            if let (Some(src), Some(d)) = (step.capture_all.get(*name), doc) {
                let path = path_for(name, src)?;
                list.extend(path.query(d).all().into_iter().cloned());
            }
        }
        Ok(())
    }
}

/// Fields of `[auth]` tables that are secrets whatever parameter they come from.
const SECRET_AUTH_FIELDS: &[&str] = &[
    "secret_access_key",
    "session_token",
    "client_secret",
    "credentials_json",
    "application_secret",
    "consumer_key",
    "api_secret",
];

/// Error constructors for one step.
struct Fail<'a> {
    provider: &'a str,
    step: &'a str,
}

impl Fail<'_> {
    fn render(&self, redactor: &Redactor, field: &str, message: String) -> DnsError {
        DnsError::Render {
            provider: self.provider.to_string(),
            step: self.step.to_string(),
            field: field.to_string(),
            message: format!(
                "{}; if a capture is missing, pass the captures saved by add",
                redactor.apply(&message)
            ),
        }
    }

    fn capture(&self, capture: &str, message: String) -> DnsError {
        DnsError::Capture {
            provider: self.provider.to_string(),
            step: self.step.to_string(),
            capture: capture.to_string(),
            message,
        }
    }

    fn refused(&self, message: String) -> DnsError {
        DnsError::Refused {
            provider: self.provider.to_string(),
            step: self.step.to_string(),
            message,
        }
    }
}

impl<'a> Session<'a> {
    /// `hosts`: the hosts the definition declares.
    pub(crate) fn new(
        ctx: &CallContext,
        hosts: &[String],
        captures: &'a mut Captures,
    ) -> Session<'a> {
        Session {
            captures,
            redactor: ctx.redactor(),
            auth_fields: None,
            token: None,
            allowed: Allowed::new(hosts, &ctx.params, ctx.network),
        }
    }
}

/// The template context plus `response`.
fn with_response(tctx: &minijinja::Value, answer: &Answer) -> minijinja::Value {
    minijinja::context! {
        response => answer.template_value(),
        ..tctx.clone()
    }
}

/// A JSON match as capture text: strings as they are, other values as JSON.
fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The next page's URL, or `None` at the end.
fn next_page(
    paginate: &crate::definition::Paginate,
    answer: &Answer,
    current: &url::Url,
    page: u32,
) -> Option<url::Url> {
    let doc = answer.doc.as_ref()?;
    let first = |path: &str| -> Option<String> {
        let p = serde_json_path::JsonPath::parse(path).ok()?;
        match p.query(doc).first()? {
            serde_json::Value::Null => None,
            v => Some(json_text(v)).filter(|s| !s.is_empty()),
        }
    };
    let with_param = |param: &str, value: &str| {
        let mut url = current.clone();
        let pairs: Vec<(String, String)> = current
            .query_pairs()
            .filter(|(k, _)| k != param)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.query_pairs_mut()
            .clear()
            .extend_pairs(pairs)
            .append_pair(param, value);
        url
    };
    match &paginate.mode {
        PageMode::NextUrl(path) => current.join(&first(path)?).ok(),
        PageMode::NextToken { path, param } => Some(with_param(param, &first(path)?)),
        PageMode::PageNumber { param, total_pages } => {
            let total: u32 = first(total_pages)?.parse().ok()?;
            (page < total).then(|| with_param(param, &(page + 1).to_string()))
        }
    }
}
