//! The audit log as the front ends use it: who did what, from where, and
//! how it ended, one entry per operation that changes something or reads a
//! secret. The chain that makes the log tamper-evident is the store's
//! ([`certmgr_store::Store::verify_audit`]).

use certmgr_store::{AuditCheck, AuditEntry, AuditQuery, NewAuditEntry};

use crate::Engine;
use crate::error::{EngineError, EngineResult};

/// Who acts, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// A user or token name, or `local:USER` for the command line.
    pub name: String,
    /// The client's address; `None` on this machine.
    pub address: Option<String>,
}

impl Actor {
    /// The user running a command on this machine: `local:` and the login
    /// name (`local:unknown` when the environment names none).
    pub fn local() -> Actor {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .ok()
            .filter(|u| !u.is_empty() && !u.contains(char::is_control))
            .unwrap_or_else(|| "unknown".to_owned());
        Actor {
            name: format!("local:{user}"),
            address: None,
        }
    }
}

/// How an audited operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It did what was asked.
    Ok,
    /// It was refused: bad input, nothing changed.
    BadInput,
    /// It failed.
    Failed,
}

impl Outcome {
    /// The outcome's text in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::BadInput => "bad-input",
            Outcome::Failed => "failed",
        }
    }
}

/// Append one entry: `actor` did `action` on `target`, with this outcome.
pub async fn record(
    engine: &Engine<'_>,
    actor: &Actor,
    action: &str,
    target: &str,
    outcome: Outcome,
    detail: &str,
) -> EngineResult<AuditEntry> {
    // One line, whatever the detail holds.
    let detail = detail.replace(['\n', '\r'], " ");
    engine
        .store()
        .append_audit(&NewAuditEntry {
            actor: &actor.name,
            address: actor.address.as_deref(),
            action,
            target,
            outcome: outcome.as_str(),
            detail: &detail,
        })
        .await
        .map_err(|e| {
            EngineError::from(e).context(format!(
                "the audit entry of {action} {target} could not be written"
            ))
        })
}

/// A page of the log, oldest first.
pub async fn list(engine: &Engine<'_>, query: &AuditQuery) -> EngineResult<Vec<AuditEntry>> {
    Ok(engine.store().audit_log(query).await?)
}

/// Check the whole chain; a broken chain is a failure that names the entry.
pub async fn verify(engine: &Engine<'_>) -> EngineResult<i64> {
    match engine.store().verify_audit().await? {
        AuditCheck::Intact { entries } => Ok(entries),
        AuditCheck::Broken { seq, reason } => Err(EngineError::failed(format!(
            "the audit log is not intact at entry {seq}: {reason}"
        ))),
    }
}
