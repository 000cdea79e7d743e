//! What the engine reports: each request, answer, skip and note, with
//! secrets redacted, to a [`Trace`].

use std::fmt;
use std::sync::Mutex;

use crate::redact::Redactor;

/// One thing the engine did, secrets already replaced by `<redacted:NAME>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceEvent {
    /// A step was skipped because its `when` was false.
    Skipped {
        /// Step name.
        step: String,
    },
    /// Something the engine decided or computed (a formula's result, a skip reason).
    Note {
        /// Step name.
        step: String,
        /// What happened (secrets redacted).
        message: String,
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

impl TraceEvent {
    /// The event with `redactor` applied again (for secrets learnt after it happened).
    pub(crate) fn redacted(&self, redactor: &Redactor) -> TraceEvent {
        let r = |s: &String| redactor.apply(s);
        match self {
            TraceEvent::Skipped { step } => TraceEvent::Skipped { step: step.clone() },
            TraceEvent::Note { step, message } => TraceEvent::Note {
                step: step.clone(),
                message: r(message),
            },
            TraceEvent::Request {
                step,
                attempt,
                method,
                url,
                headers,
                body,
            } => TraceEvent::Request {
                step: step.clone(),
                attempt: *attempt,
                method: method.clone(),
                url: r(url),
                headers: headers.iter().map(|(k, v)| (k.clone(), r(v))).collect(),
                body: r(body),
            },
            TraceEvent::Response {
                step,
                attempt,
                status,
                body,
            } => TraceEvent::Response {
                step: step.clone(),
                attempt: *attempt,
                status: *status,
                body: r(body),
            },
            TraceEvent::Failure {
                step,
                attempt,
                message,
            } => TraceEvent::Failure {
                step: step.clone(),
                attempt: *attempt,
                message: r(message),
            },
        }
    }
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceEvent::Skipped { step } => write!(f, "[{step}] skipped"),
            TraceEvent::Note { step, message } => write!(f, "[{step}] {message}"),
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
