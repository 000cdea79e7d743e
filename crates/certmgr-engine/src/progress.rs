//! Progress as `tracing` events: the engine says what it does, the front
//! end decides what to show (the CLI prints lines on stderr, the server
//! will stream them to a job's watchers).
//!
//! Every event the engine emits for people has one of these targets, and a
//! plain message.

/// A step of one operation: an order created or resumed, the chain chosen,
/// answers published through a running server.
pub const STEP: &str = "certmgr::step";

/// The outcome of one credential in a run over many (a renewal run).
pub const RESULT: &str = "certmgr::result";

/// Something the user should know that did not stop the operation: a chain
/// kept as the CA sent it, a DNS lookup that fell back, an ARI query that
/// failed, records left behind.
pub const WARNING: &str = "certmgr::warning";

/// An event's message, with any other fields after it as `key=value`: the
/// line front ends show.
pub fn message(event: &tracing::Event<'_>) -> String {
    let mut message = Message::default();
    event.record(&mut message);
    message.0
}

#[derive(Default)]
struct Message(String);

impl tracing::field::Visit for Message {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0.insert_str(0, value);
        } else {
            self.0.push_str(&format!(" {}={value}", field.name()));
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.insert_str(0, &format!("{value:?}"));
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}

/// A step of one operation, as an event.
macro_rules! step {
    ($($arg:tt)+) => { ::tracing::info!(target: $crate::progress::STEP, $($arg)+) };
}

/// A warning, as an event.
macro_rules! warning {
    ($($arg:tt)+) => { ::tracing::warn!(target: $crate::progress::WARNING, $($arg)+) };
}

pub(crate) use {step, warning};
