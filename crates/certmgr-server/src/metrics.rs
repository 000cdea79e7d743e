//! `/metrics`: the Prometheus text format, for a Prometheus that scrapes
//! the API with a bearer token (any role; a tag-scoped token sees only the
//! credentials of its scope).
//!
//! - Per credential, read from the store at scrape time in chunks by name
//!   (a store of 10,000 credentials is not held twice in memory): the
//!   expiry, the planned renewal and the ready status, under cert-manager's
//!   names and labels, so its dashboards and alerts carry over. `name` is
//!   the credential's name; `namespace` is empty (a store has one flat
//!   namespace of names; the scrape's `instance` tells stores apart);
//!   `issuer_kind` is `ca`, `acme`, `manual` or `import`, `issuer_name` the
//!   MicroCA's or ACME account's name, `issuer_group` `certmgr`.
//! - The process's counters and latency histograms (ACME requests, DNS-01
//!   provider steps, renewal failures: [`certmgr_core::telemetry`]).
//! - Gauges of the process: jobs running, the scheduler's last pass.
//!   (cert-manager's `certmanager_clock_time_seconds_gauge` is left out:
//!   `promtool check metrics` refuses a name holding its type, and
//!   PromQL's `time()` is the same clock.)

use std::collections::HashSet;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use certmgr_core::Status;
use certmgr_core::telemetry::{self, CONTENT_TYPE, Exposition, Kind, Metric};
use certmgr_engine::telemetry::issuer_labels;
use certmgr_engine::view::effective_state;
use certmgr_store::CredentialRecord;

use crate::AppState;
use crate::gate::Caller;
use crate::problem::Problem;

/// Rows read from the store at a time.
pub const CHUNK: u32 = 1000;

/// cert-manager's expiry: the earliest `notAfter` of the credential's
/// current certificates. A credential never issued has no series.
pub const EXPIRATION: Metric = Metric {
    name: "certmanager_certificate_expiration_timestamp_seconds",
    kind: Kind::Gauge,
    help: "The timestamp after which the certificate expires, expressed in Unix Epoch Time.",
    labels: &[
        "name",
        "namespace",
        "issuer_name",
        "issuer_kind",
        "issuer_group",
    ],
};

/// cert-manager's renewal time: when the renewal is planned (policy or the
/// CA's ARI window). A credential without a plan has no series.
pub const RENEWAL: Metric = Metric {
    name: "certmanager_certificate_renewal_timestamp_seconds",
    kind: Kind::Gauge,
    help: "The timestamp after which the certificate should be renewed, expressed in Unix Epoch Time.",
    labels: &[
        "name",
        "namespace",
        "issuer_name",
        "issuer_kind",
        "issuer_group",
    ],
};

/// cert-manager's ready status: one series per condition (`True`, `False`,
/// `Unknown`), 1 on the credential's. Ready is a current certificate that
/// has neither expired nor been revoked (a renewal being due, running or
/// failed leaves it ready, as in cert-manager); `False` is anything else.
pub const READY: Metric = Metric {
    name: "certmanager_certificate_ready_status",
    kind: Kind::Gauge,
    help: "The ready status of the certificate.",
    labels: &[
        "name",
        "namespace",
        "condition",
        "issuer_name",
        "issuer_kind",
        "issuer_group",
    ],
};

/// Jobs (issue, renew, renewal runs) running in this server.
pub const JOBS_RUNNING: Metric = Metric {
    name: "certmgr_jobs_running",
    kind: Kind::Gauge,
    help: "Jobs (issue, renew, renewal runs) running in this server.",
    labels: &[],
};

/// When the scheduler's last pass ended (0: none yet, or off).
pub const SCHEDULER_LAST_PASS: Metric = Metric {
    name: "certmgr_scheduler_last_pass_timestamp_seconds",
    kind: Kind::Gauge,
    help: "When the renewal scheduler's last pass ended, in Unix Epoch Time (0: none yet, or the scheduler is off).",
    labels: &[],
};

/// What the series of one credential say.
struct Row {
    name: String,
    issuer_kind: &'static str,
    issuer_name: String,
    expires: Option<i64>,
    renews: Option<i64>,
    ready: bool,
}

impl Row {
    fn new(c: &CredentialRecord, now: i64) -> Row {
        let (status, _) = effective_state(c, now);
        let (kind, name) = issuer_labels(&c.issuer);
        let unexpired = c.not_after.is_some_and(|t| t > now);
        Row {
            name: c.name.clone(),
            issuer_kind: kind,
            issuer_name: name.to_owned(),
            expires: c.not_after,
            renews: c.renew_at.filter(|_| c.not_after.is_some()),
            ready: unexpired && !matches!(status, Status::Revoked | Status::Expired),
        }
    }
}

/// The server's metrics (Prometheus text format).
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, description = "The Prometheus text format (version 0.0.4)",
        body = String, content_type = "text/plain")))]
pub async fn metrics(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, Problem> {
    let engine = state.engine();
    let now = engine.now();
    let store = state.store();
    let scope: Option<HashSet<String>> = match &caller.principal.scope {
        Some(scope) => Some(
            store
                .tagged(&scope.key, &scope.value)
                .await?
                .into_iter()
                .collect(),
        ),
        None => None,
    };
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let chunk = store
            .credentials_after(cursor.as_deref(), Some(CHUNK))
            .await?;
        let exhausted = chunk.len() < CHUNK as usize;
        cursor = chunk.last().map(|c| c.name.clone());
        rows.extend(
            chunk
                .iter()
                .filter(|c| scope.as_ref().is_none_or(|ids| ids.contains(&c.id)))
                .map(|c| Row::new(c, now)),
        );
        if exhausted || cursor.is_none() {
            break;
        }
    }
    let mut out = Exposition::with_capacity(rows.len() * 800 + 16 * 1024);
    write_credentials(&mut out, &rows);
    out.family(&JOBS_RUNNING);
    out.sample(JOBS_RUNNING.name, "", &[], state.jobs().running() as f64);
    out.family(&SCHEDULER_LAST_PASS);
    let last = state.scheduler().last_pass().unwrap_or(0);
    out.sample(SCHEDULER_LAST_PASS.name, "", &[], last as f64);
    telemetry::render(&mut out);
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        out.finish(),
    )
        .into_response())
}

/// The per-credential families, each with its rows.
fn write_credentials(out: &mut Exposition, rows: &[Row]) {
    out.family(&EXPIRATION);
    for row in rows {
        if let Some(at) = row.expires {
            out.sample(EXPIRATION.name, "", &labels(row, None), at as f64);
        }
    }
    out.family(&RENEWAL);
    for row in rows {
        if let Some(at) = row.renews {
            out.sample(RENEWAL.name, "", &labels(row, None), at as f64);
        }
    }
    out.family(&READY);
    for row in rows {
        let current = if row.ready { "True" } else { "False" };
        for condition in ["True", "False", "Unknown"] {
            let value = if condition == current { 1.0 } else { 0.0 };
            out.sample(READY.name, "", &labels(row, Some(condition)), value);
        }
    }
}

fn labels<'a>(row: &'a Row, condition: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut labels = vec![("name", row.name.as_str()), ("namespace", "")];
    if let Some(condition) = condition {
        labels.push(("condition", condition));
    }
    labels.extend([
        ("issuer_name", row.issuer_name.as_str()),
        ("issuer_kind", row.issuer_kind),
        ("issuer_group", "certmgr"),
    ]);
    labels
}
