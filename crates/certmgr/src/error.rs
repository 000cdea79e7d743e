//! Errors of the command-line program and the exit code each maps to.

use std::fmt;
use std::process::ExitCode;

use certmgr_engine::acme::AccountRule;
use certmgr_engine::credential::{Field, Rule};
use certmgr_engine::{EngineError, ErrorKind, Hint};
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

    /// Whether the user gave something wrong, or the operation failed.
    pub fn class(&self) -> ErrorClass {
        self.class
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

impl From<EngineError> for CliError {
    /// The engine decided the kind; the CLI adds its own wording of the fix.
    fn from(error: EngineError) -> Self {
        let class = match error.kind() {
            ErrorKind::BadInput => ErrorClass::BadInput,
            ErrorKind::Failed => ErrorClass::Failed,
        };
        CliError {
            class,
            message: engine_message(&error),
        }
    }
}

/// An engine error as the CLI says it: the engine's words, a broken
/// credential rule or a field worded with the command's options, and the
/// fix worded as flags.
pub fn engine_message(error: &EngineError) -> String {
    let message = match error {
        EngineError::Rule(rule) => rule_message(rule),
        EngineError::AccountRule(rule) => account_rule_message(rule),
        EngineError::Field(field) => match field.field {
            // The name is the command's argument; the message names it.
            Field::Name => field.source.to_string(),
            Field::Issuer => format!("--issuer: {}", field.source),
            Field::DnsAccount => format!("--dns-account: {}", field.source),
            Field::Zone => format!("--zone: {}", field.source),
        },
        other => other.to_string(),
    };
    match error.hint() {
        Some(hint) => format!("{message}{}", hint_text(&hint)),
        None => message,
    }
}

/// A broken credential rule, worded with the options of `cred create`.
fn rule_message(rule: &Rule) -> String {
    match rule {
        Rule::NoHostname => "give at least one --host".into(),
        Rule::DuplicateHostname(host) => format!("hostname {host} is given twice"),
        Rule::SameKeyFamily => {
            "two --key options must be one RSA and one ECDSA key (a dual credential)".into()
        }
        Rule::TooManyKeys => "at most two --key options: one RSA and one ECDSA key".into(),
        Rule::ChallengeNotAcme => {
            "--challenge applies to ACME issuers only (--issuer acme:ACCOUNT)".into()
        }
        Rule::AcmeOnly(what) => format!(
            "--{} applies to ACME issuers only (--issuer acme:ACCOUNT)",
            what.replace(' ', "-")
        ),
        Rule::WildcardNeedsDns01(host) => format!(
            "{host} is a wildcard: ACME CAs validate wildcards only with --challenge dns-01"
        ),
        Rule::IpNotByDns01(ip) => {
            format!("{ip} is an IP address: validate it with --challenge http-01 or tls-alpn-01")
        }
        Rule::AliasNotDnsName(alias) => format!("--challenge-alias {alias:?} is not a DNS name"),
        Rule::AliasNeedsDns01 => "--challenge-alias applies to --challenge dns-01 only".into(),
        Rule::DnsAccountNeedsDns01 => "--dns-account applies to --challenge dns-01 only".into(),
        Rule::Validity(days) => format!(
            "--validity-days {days}: use 1 to {}",
            certmgr_engine::credential::MAX_VALIDITY_DAYS
        ),
        other => other.to_string(),
    }
}

/// A broken ACME account rule, worded with the options of `acme account create`.
fn account_rule_message(rule: &AccountRule) -> String {
    match rule {
        AccountRule::NoCa => "give --ca ID or --directory URL".into(),
        AccountRule::Discontinued(name) => {
            format!("{name} no longer issues certificates: pick another CA (certmgr acme cas)")
        }
        AccountRule::EabRequired { name, docs } => format!(
            "{name} requires External Account Binding: pass --eab-kid and --eab-hmac-file from the CA's account page ({docs})"
        ),
        AccountRule::NotHttps(url) => {
            format!("--directory {url:?}: an ACME directory URL starts with https://")
        }
        AccountRule::NotEmail(email) => format!("--email {email:?} is not an e-mail address"),
        AccountRule::NoConcurrency => "--max-concurrent-orders must be at least 1".into(),
        other => other.to_string(),
    }
}

/// The fix an engine error names, as the CLI's commands and options.
pub(crate) fn hint_text(hint: &Hint) -> String {
    match hint {
        Hint::SetParameter(name) => format!(": pass --set {name}=..."),
        Hint::AllowPrivateNetwork => {
            " (create the DNS account with --allow-private-network)".into()
        }
        Hint::AllowPlainHttp => " (create the DNS account with --allow-plain-http)".into(),
        Hint::CreateDnsAccount => {
            ": create one with `certmgr dns account create NAME --provider ID --zone ZONE`".into()
        }
        Hint::FinishRegistration(name) => format!(
            ": run `certmgr acme account create {name}` again with the same options to finish it"
        ),
        Hint::RetryRegistration(name) => {
            format!(": run the same command again to finish the registration of {name:?}")
        }
        Hint::ManualFlow(name) => format!(
            ": run `certmgr cred csr {name} --out req.pem`, have the CSR signed, then `certmgr cred import {name} --cert signed.pem`"
        ),
        Hint::ImportFlow(name) => {
            format!(": run `certmgr cred import {name} --cert FILE --key FILE`")
        }
        Hint::IssueInstead(_) => ": use `certmgr cred issue`".into(),
        Hint::TrustIssuer => " (`certmgr trust add`)".into(),
        Hint::TrustRoot => " (`certmgr trust add ROOT.pem`)".into(),
        Hint::AllowExpired => " (pass --allow-expired to import it for the record)".into(),
        Hint::ListenAddress => {
            " (--http01-listen / --tls-alpn01-listen, or run `certmgr server`)".into()
        }
        Hint::DirectoryUrl => " (--directory URL)".into(),
        Hint::ImportKeyToo => {
            " (`certmgr cred csr`); pass --key (or --pkcs12) to import a key made elsewhere".into()
        }
        Hint::CsrFirst(name) => format!(
            ": run `certmgr cred csr {name} --out req.pem` first, or pass --key to import a key made elsewhere"
        ),
        Hint::TestDnsAccounts(accounts) => format!(
            ": run {}",
            accounts
                .iter()
                .map(|a| format!("`certmgr dns account test {a}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
        _ => String::new(),
    }
}

macro_rules! from_engine {
    ($($ty:ty),+) => {
        $(impl From<$ty> for CliError {
            fn from(error: $ty) -> Self {
                CliError::from(EngineError::from(error))
            }
        })+
    };
}

from_engine!(
    StoreError,
    PkiError,
    certmgr_acme::AcmeError,
    certmgr_dns::DnsError,
    certmgr_core::HostnameError,
    certmgr_core::KeySpecError,
    certmgr_core::IssuerRefError,
    certmgr_core::NameError,
    certmgr_core::ChallengeKindError
);
