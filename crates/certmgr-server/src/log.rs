//! The server's log: its own `tracing` events (target [`TARGET`]) and the
//! engine's warnings, one line each on stderr, as human-readable text
//! (`certmgr server: ...`, the lines the server always printed) or as JSON
//! objects for log collectors ([`LogFormat`]).
//!
//! The subscriber is the process's global default. A job runs under its
//! own subscriber ([`crate::jobs`]), which takes the place of this one for
//! the job's task: its progress goes to the job's watchers, not here.
//!
//! No event carries a secret: tokens, passwords and keys are never a field
//! or part of a message (the first admin's generated password is printed
//! once on stdout by [`crate::process`], not logged).

use std::io::Write as _;

use certmgr_engine::progress::WARNING;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::LogFormat;

/// The target of the server's own events.
pub const TARGET: &str = "certmgr::server";

/// The prefix of every text line.
pub const PREFIX: &str = "certmgr server: ";

/// Log the server's events on stderr in `format` for the rest of the
/// process. Does nothing when a subscriber is already installed.
pub fn install(format: LogFormat) {
    let _ = tracing_subscriber::registry()
        .with(Lines { format })
        .try_init();
}

/// The layer that writes the lines.
pub struct Lines {
    /// Text or JSON.
    pub format: LogFormat,
}

impl Lines {
    /// The line `event` is logged as, if it is logged at all.
    pub fn line(&self, event: &Event<'_>) -> Option<String> {
        let metadata = event.metadata();
        let target = metadata.target();
        if target != TARGET && target != WARNING {
            return None;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        Some(match self.format {
            LogFormat::Text => {
                let lead = if target == WARNING { "warning: " } else { "" };
                format!("{PREFIX}{lead}{}", fields.message)
            }
            LogFormat::Json => {
                let mut object = Map::new();
                let now = time::OffsetDateTime::now_utc();
                let timestamp = now
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_else(|_| now.unix_timestamp().to_string());
                object.insert("timestamp".into(), Value::String(timestamp));
                object.insert(
                    "level".into(),
                    Value::String(level(metadata.level()).into()),
                );
                object.insert("target".into(), Value::String(target.into()));
                object.insert("message".into(), Value::String(fields.message));
                for (key, value) in fields.other {
                    object.entry(key).or_insert(value);
                }
                Value::Object(object).to_string()
            }
        })
    }
}

fn level(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

impl<S: Subscriber> Layer<S> for Lines {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if let Some(line) = self.line(event) {
            // A closed stderr leaves nowhere to say anything.
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }
}

/// An event's message and its other fields as JSON values.
#[derive(Default)]
struct Fields {
    message: String,
    other: Vec<(String, Value)>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = match value {
                Value::String(text) => text,
                other => other.to_string(),
            };
        } else {
            self.other.push((field.name().to_owned(), value));
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects the lines of [`Lines`] instead of writing them.
    struct Collect(Lines, Arc<Mutex<Vec<String>>>);

    impl<S: Subscriber> Layer<S> for Collect {
        fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
            if let Some(line) = self.0.line(event) {
                self.1.lock().unwrap().push(line);
            }
        }
    }

    fn lines(format: LogFormat) -> Vec<String> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let subscriber =
            tracing_subscriber::registry().with(Collect(Lines { format }, seen.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: TARGET, url = "http://127.0.0.1:1", "http://127.0.0.1:1/ (API)");
            tracing::warn!(target: TARGET, passes = 3_u64, ok = false, "renewal run failed: x");
            tracing::warn!(target: WARNING, "records left behind");
            tracing::info!(target: "certmgr::step", "a step: not logged");
            tracing::info!("another crate's event: not logged");
        });
        seen.lock().unwrap().clone()
    }

    #[test]
    fn text_lines_are_the_servers_and_json_lines_carry_the_fields() {
        assert_eq!(
            lines(LogFormat::Text),
            [
                "certmgr server: http://127.0.0.1:1/ (API)",
                "certmgr server: renewal run failed: x",
                "certmgr server: warning: records left behind",
            ]
        );
        let json: Vec<Value> = lines(LogFormat::Json)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(json.len(), 3);
        assert_eq!(json[0]["message"], "http://127.0.0.1:1/ (API)");
        assert_eq!(json[0]["url"], "http://127.0.0.1:1");
        assert_eq!(json[0]["level"], "info");
        assert_eq!(json[0]["target"], TARGET);
        assert_eq!(json[1]["passes"], 3);
        assert_eq!(json[1]["ok"], false);
        assert_eq!(json[1]["level"], "warn");
        assert_eq!(json[2]["target"], WARNING);
        assert!(json[2]["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}
