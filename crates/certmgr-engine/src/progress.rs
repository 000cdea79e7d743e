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

/// A step of one operation, as an event.
macro_rules! step {
    ($($arg:tt)+) => { ::tracing::info!(target: $crate::progress::STEP, $($arg)+) };
}

/// A warning, as an event.
macro_rules! warning {
    ($($arg:tt)+) => { ::tracing::warn!(target: $crate::progress::WARNING, $($arg)+) };
}

pub(crate) use {step, warning};
