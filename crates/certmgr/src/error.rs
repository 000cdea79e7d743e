//! Errors of the command-line program and the exit code each maps to.

use std::fmt;
use std::process::ExitCode;

use certmgr_pki::PkiError;
use certmgr_store::StoreError;

/// Whether the user gave something wrong, or the operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Usage error or bad input (files, names, options): exit code 2.
    BadInput,
    /// The operation failed for another reason: exit code 1.
    Failed,
}

/// An error to print on one line, with its class.
#[derive(Debug)]
pub struct CliError {
    class: ErrorClass,
    message: String,
}

/// Result type of every command.
pub type CliResult<T> = Result<T, CliError>;

impl CliError {
    /// Bad input: the user can fix it by changing what they pass.
    pub fn bad_input(message: impl Into<String>) -> Self {
        CliError {
            class: ErrorClass::BadInput,
            message: message.into(),
        }
    }

    /// The operation failed.
    pub fn failed(message: impl Into<String>) -> Self {
        CliError {
            class: ErrorClass::Failed,
            message: message.into(),
        }
    }

    /// Prefix the message with what was being read or done.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code())
    }

    fn code(&self) -> u8 {
        match self.class {
            ErrorClass::BadInput => 2,
            ErrorClass::Failed => 1,
        }
    }

    /// The error as `--json` callers read it:
    /// `{"error": {"kind": "bad_input"|"failed", "exit_code": N, "message": "..."}}`.
    pub fn to_json(&self) -> serde_json::Value {
        json_error(
            match self.class {
                ErrorClass::BadInput => "bad_input",
                ErrorClass::Failed => "failed",
            },
            self.code(),
            &self.to_string(),
        )
    }
}

/// The JSON error object printed instead of the text line under `--json`
/// (also for usage errors, whose kind is `usage`).
pub fn json_error(kind: &str, exit_code: u8, message: &str) -> serde_json::Value {
    serde_json::json!({ "error": { "kind": kind, "exit_code": exit_code, "message": message } })
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, always: a multi-line cause is folded.
        f.write_str(&self.message.replace('\n', " "))
    }
}

impl From<StoreError> for CliError {
    fn from(error: StoreError) -> Self {
        let class = match error {
            StoreError::NotFound { .. }
            | StoreError::AlreadyExists { .. }
            | StoreError::Conflict(_)
            | StoreError::BadMasterKey(_)
            | StoreError::WrongMasterKey
            | StoreError::KeyFilePermissions { .. }
            | StoreError::UnsupportedBackend(_) => ErrorClass::BadInput,
            _ => ErrorClass::Failed,
        };
        CliError {
            class,
            message: error.to_string(),
        }
    }
}

impl From<PkiError> for CliError {
    fn from(error: PkiError) -> Self {
        // PKI errors come from what the user handed us (files, passwords, chains).
        CliError::bad_input(error.to_string())
    }
}

macro_rules! bad_input_from {
    ($($ty:ty),+) => {
        $(impl From<$ty> for CliError {
            fn from(error: $ty) -> Self {
                CliError::bad_input(error.to_string())
            }
        })+
    };
}

bad_input_from!(
    certmgr_core::HostnameError,
    certmgr_core::KeySpecError,
    certmgr_core::IssuerRefError,
    certmgr_core::NameError,
    certmgr_core::ChallengeKindError
);

impl From<certmgr_acme::AcmeError> for CliError {
    fn from(error: certmgr_acme::AcmeError) -> Self {
        use certmgr_acme::AcmeError;
        match error {
            AcmeError::BadInput(_) | AcmeError::UnknownCa { .. } | AcmeError::Pki(_) => {
                CliError::bad_input(error.to_string())
            }
            _ => CliError::failed(error.to_string()),
        }
    }
}
