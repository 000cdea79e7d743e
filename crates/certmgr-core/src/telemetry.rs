//! Process-wide counters and latency histograms, and the Prometheus text
//! exposition format they (and the server's per-credential series) are
//! written in.
//!
//! The library crates (the ACME client, the DNS-01 backends, the renewal
//! run) record what they do here with one call ([`count`], [`observe`]);
//! `certmgr server` renders the registry at `/metrics` ([`render`]). The
//! library crates cannot depend on the server, and every one of them
//! already depends on this crate: a registry here costs no dependency, and
//! each metric's name, type, help and label names are written once, below,
//! as constants the callers name instead of strings. A command-line process
//! records too and never renders; an update is one short lock.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// A metric's Prometheus type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (name ends in `_total`).
    Counter,
    /// A value read at scrape time.
    Gauge,
    /// Observations counted into [`LATENCY_BUCKETS`], with their sum.
    Histogram,
    /// Observations' count and sum, without quantiles (cert-manager's ACME
    /// request latency is a summary; its name is kept).
    Summary,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
            Kind::Summary => "summary",
        }
    }
}

/// One metric family: what `/metrics` says about it.
#[derive(Debug)]
pub struct Metric {
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Its `# HELP` line.
    pub help: &'static str,
    /// Its label names, in the order callers give the values.
    pub labels: &'static [&'static str],
}

/// Requests the ACME client sent, by CA (the directory's host and port),
/// HTTP method and outcome (`success`, `client_error`, `server_error`,
/// `no_answer`).
pub const ACME_REQUESTS: Metric = Metric {
    name: "certmgr_acme_requests_total",
    kind: Kind::Counter,
    help: "HTTP requests sent to ACME CAs, by CA (host:port), method and outcome (success, client_error, server_error, no_answer).",
    labels: &["ca", "method", "outcome"],
};

/// The latency of those requests, by CA and outcome.
pub const ACME_REQUEST_DURATION: Metric = Metric {
    name: "certmgr_acme_request_duration_seconds",
    kind: Kind::Histogram,
    help: "Latency of HTTP requests to ACME CAs in seconds, by CA (host:port) and outcome.",
    labels: &["ca", "outcome"],
};

/// cert-manager's ACME request latency summary, with its labels: its
/// `_count` is cert-manager's request count. The action is not known to
/// the HTTP client, so it is cert-manager's fallback, `unnamed_action`;
/// the status of a request that got no answer is cert-manager's `999`.
pub const CERT_MANAGER_ACME_REQUEST_DURATION: Metric = Metric {
    name: "certmanager_http_acme_client_request_duration_seconds",
    kind: Kind::Summary,
    help: "Latency of outbound ACME HTTP requests in seconds (cert-manager's metric; no quantiles). Labels: scheme, host, action, method, status (999: no answer).",
    labels: &["scheme", "host", "action", "method", "status"],
};

/// DNS-01 provider steps (adding or deleting a challenge record), by
/// provider, step and outcome (`success`, `failure`).
pub const DNS_STEPS: Metric = Metric {
    name: "certmgr_dns_provider_steps_total",
    kind: Kind::Counter,
    help: "DNS-01 provider steps run, by provider, step (add, delete) and outcome (success, failure).",
    labels: &["provider", "step", "outcome"],
};

/// The latency of those steps.
pub const DNS_STEP_DURATION: Metric = Metric {
    name: "certmgr_dns_provider_step_duration_seconds",
    kind: Kind::Histogram,
    help: "Latency of DNS-01 provider steps in seconds, by provider, step (add, delete) and outcome.",
    labels: &["provider", "step", "outcome"],
};

/// Renewals that failed (a credential that had a certificate, issued
/// again without success), by issuer.
pub const RENEWAL_FAILURES: Metric = Metric {
    name: "certmgr_renewal_failures_total",
    kind: Kind::Counter,
    help: "Renewals that failed (scheduled, run or asked for one credential), by issuer kind and name.",
    labels: &["issuer_kind", "issuer_name"],
};

/// Every metric of the registry, rendered in this order (with its HELP and
/// TYPE lines even before its first sample).
pub const REGISTERED: [&Metric; 6] = [
    &ACME_REQUESTS,
    &ACME_REQUEST_DURATION,
    &CERT_MANAGER_ACME_REQUEST_DURATION,
    &DNS_STEPS,
    &DNS_STEP_DURATION,
    &RENEWAL_FAILURES,
];

/// The upper bounds of the latency histograms' buckets, in seconds: from a
/// CA on the same network to one that times out (60 s).
pub const LATENCY_BUCKETS: [f64; 13] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

#[derive(Debug, Clone)]
enum Series {
    Counter(u64),
    Observed {
        /// Per bucket, not cumulative; empty for a summary.
        buckets: Vec<u64>,
        sum: f64,
        count: u64,
    },
}

type Families = BTreeMap<&'static str, BTreeMap<Vec<String>, Series>>;

static REGISTRY: Mutex<Families> = Mutex::new(BTreeMap::new());

fn registry() -> std::sync::MutexGuard<'static, Families> {
    // Every update is one insert or addition: a panic elsewhere while the
    // lock was held leaves whole values.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

fn key(metric: &Metric, values: &[&str]) -> Vec<String> {
    debug_assert_eq!(metric.labels.len(), values.len(), "{}", metric.name);
    values.iter().map(|v| (*v).to_owned()).collect()
}

/// Add one to the counter `metric` with these label values.
pub fn count(metric: &'static Metric, values: &[&str]) {
    let mut families = registry();
    let series = families
        .entry(metric.name)
        .or_default()
        .entry(key(metric, values))
        .or_insert(Series::Counter(0));
    if let Series::Counter(n) = series {
        *n += 1;
    }
}

/// Record one observation (seconds) of the histogram or summary `metric`.
pub fn observe(metric: &'static Metric, values: &[&str], seconds: f64) {
    let mut families = registry();
    let series = families
        .entry(metric.name)
        .or_default()
        .entry(key(metric, values))
        .or_insert_with(|| Series::Observed {
            buckets: if metric.kind == Kind::Histogram {
                vec![0; LATENCY_BUCKETS.len()]
            } else {
                Vec::new()
            },
            sum: 0.0,
            count: 0,
        });
    if let Series::Observed {
        buckets,
        sum,
        count,
    } = series
    {
        if let Some(slot) = LATENCY_BUCKETS.iter().position(|le| seconds <= *le)
            && let Some(bucket) = buckets.get_mut(slot)
        {
            *bucket += 1;
        }
        *sum += seconds;
        *count += 1;
    }
}

/// The value of the counter `metric` with these label values (tests and
/// benchmarks).
pub fn counter_value(metric: &'static Metric, values: &[&str]) -> u64 {
    match registry()
        .get(metric.name)
        .and_then(|f| f.get(&key(metric, values)))
    {
        Some(Series::Counter(n)) => *n,
        Some(Series::Observed { count, .. }) => *count,
        None => 0,
    }
}

/// Write every registered metric into `out`.
pub fn render(out: &mut Exposition) {
    let families = registry().clone();
    for metric in REGISTERED {
        out.family(metric);
        let Some(series) = families.get(metric.name) else {
            continue;
        };
        for (values, series) in series {
            let labels: Vec<(&str, &str)> = metric
                .labels
                .iter()
                .copied()
                .zip(values.iter().map(String::as_str))
                .collect();
            match series {
                Series::Counter(n) => out.sample(metric.name, "", &labels, *n as f64),
                Series::Observed {
                    buckets,
                    sum,
                    count,
                } => {
                    if metric.kind == Kind::Histogram {
                        let mut cumulative = 0;
                        for (le, n) in LATENCY_BUCKETS.iter().zip(buckets) {
                            cumulative += n;
                            let le = format_value(*le);
                            let mut with_le = labels.clone();
                            with_le.push(("le", &le));
                            out.sample(metric.name, "_bucket", &with_le, cumulative as f64);
                        }
                        let mut with_le = labels.clone();
                        with_le.push(("le", "+Inf"));
                        out.sample(metric.name, "_bucket", &with_le, *count as f64);
                    }
                    out.sample(metric.name, "_sum", &labels, *sum);
                    out.sample(metric.name, "_count", &labels, *count as f64);
                }
            }
        }
    }
}

/// A document in the Prometheus text exposition format (version 0.0.4):
/// families with their `# HELP` and `# TYPE` lines, then their samples,
/// label values escaped.
#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
}

/// The content type of [`Exposition`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

impl Exposition {
    /// An empty document, with room for `bytes`.
    pub fn with_capacity(bytes: usize) -> Self {
        Exposition {
            text: String::with_capacity(bytes),
        }
    }

    /// Start a family: its HELP and TYPE lines. Its samples follow.
    pub fn family(&mut self, metric: &Metric) {
        let _ = writeln!(
            self.text,
            "# HELP {} {}\n# TYPE {} {}",
            metric.name,
            metric.help.replace('\\', "\\\\").replace('\n', "\\n"),
            metric.name,
            metric.kind.as_str()
        );
    }

    /// One sample of the family `name` (`suffix` is `_bucket`, `_sum`,
    /// `_count` or empty).
    pub fn sample(&mut self, name: &str, suffix: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        self.text.push_str(suffix);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (label, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                self.text.push_str(label);
                self.text.push_str("=\"");
                for c in value.chars() {
                    match c {
                        '\\' => self.text.push_str("\\\\"),
                        '"' => self.text.push_str("\\\""),
                        '\n' => self.text.push_str("\\n"),
                        c => self.text.push(c),
                    }
                }
                self.text.push('"');
            }
            self.text.push('}');
        }
        self.text.push(' ');
        self.text.push_str(&format_value(value));
        self.text.push('\n');
    }

    /// The document.
    pub fn finish(self) -> String {
        self.text
    }
}

/// A sample value as the format writes it: whole numbers without a
/// fraction, `+Inf`, `-Inf`, `NaN`.
fn format_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_escape_label_values_and_histograms_are_cumulative() {
        let mut out = Exposition::default();
        out.family(&Metric {
            name: "x_total",
            kind: Kind::Counter,
            help: "a \\ b",
            labels: &["name"],
        });
        out.sample("x_total", "", &[("name", "a\"b\\c\nd")], 2.0);
        out.sample("x_total", "", &[], 0.5);
        assert_eq!(
            out.finish(),
            "# HELP x_total a \\\\ b\n# TYPE x_total counter\nx_total{name=\"a\\\"b\\\\c\\nd\"} 2\nx_total 0.5\n"
        );
        observe(&DNS_STEP_DURATION, &["unit-test", "add", "success"], 0.02);
        observe(&DNS_STEP_DURATION, &["unit-test", "add", "success"], 100.0);
        let mut out = Exposition::default();
        render(&mut out);
        let text = out.finish();
        for line in [
            "certmgr_dns_provider_step_duration_seconds_bucket{provider=\"unit-test\",step=\"add\",outcome=\"success\",le=\"0.01\"} 0",
            "certmgr_dns_provider_step_duration_seconds_bucket{provider=\"unit-test\",step=\"add\",outcome=\"success\",le=\"0.025\"} 1",
            "certmgr_dns_provider_step_duration_seconds_bucket{provider=\"unit-test\",step=\"add\",outcome=\"success\",le=\"60\"} 1",
            "certmgr_dns_provider_step_duration_seconds_bucket{provider=\"unit-test\",step=\"add\",outcome=\"success\",le=\"+Inf\"} 2",
            "certmgr_dns_provider_step_duration_seconds_sum{provider=\"unit-test\",step=\"add\",outcome=\"success\"} 100.02",
            "certmgr_dns_provider_step_duration_seconds_count{provider=\"unit-test\",step=\"add\",outcome=\"success\"} 2",
            "# TYPE certmgr_renewal_failures_total counter",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
    }
}
