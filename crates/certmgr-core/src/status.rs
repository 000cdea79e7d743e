//! The lifecycle of a credential: its status and, separately, its health.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a credential is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Created, no certificate yet (or a CSR is out with an external CA).
    Pending,
    /// An issuance is in progress.
    Issuing,
    /// Every key has a current, valid certificate.
    Valid,
    /// Valid, but inside its renewal window.
    RenewalDue,
    /// The last issuance or renewal failed; see the last error.
    Failed,
    /// The certificate was revoked.
    Revoked,
    /// The certificate has expired.
    Expired,
}

/// How worried an operator should be about a credential, independent of status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Health {
    /// Nothing to do.
    Ok,
    /// Needs attention soon (e.g. expires within the renewal window, imported expired).
    Warning,
    /// Broken: failed issuance, expired, revoked.
    Error,
}

/// Where an ACME account is at its CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum AcmeAccountStatus {
    /// Its key is stored, but the CA's answer to the registration was not
    /// seen yet: creating it again with the same name finishes it.
    Pending,
    /// Registered and usable.
    Valid,
    /// Deactivated at the CA: it can place no more orders.
    Deactivated,
}

/// What a user or token may do. Each role can be limited to the credentials
/// carrying one tag (a scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Everything, users and secrets included.
    Admin,
    /// Create, issue, renew, revoke, import; never reads a private key or a
    /// secret, never manages users.
    Operator,
    /// Read, never a secret.
    Viewer,
}

macro_rules! text_enum {
    ($ty:ty, $what:literal, $($variant:path => $text:literal),+ $(,)?) => {
        impl $ty {
            /// The stable text form, as stored and printed.
            pub fn as_str(self) -> &'static str {
                match self { $($variant => $text),+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($variant),)+
                    other => Err(format!(concat!("unknown ", $what, " {:?}"), other)),
                }
            }
        }
    };
}

text_enum!(Status, "status",
    Status::Pending => "pending",
    Status::Issuing => "issuing",
    Status::Valid => "valid",
    Status::RenewalDue => "renewal-due",
    Status::Failed => "failed",
    Status::Revoked => "revoked",
    Status::Expired => "expired",
);

text_enum!(Health, "health",
    Health::Ok => "ok",
    Health::Warning => "warning",
    Health::Error => "error",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip() {
        for s in [Status::Pending, Status::RenewalDue, Status::Expired] {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        assert_eq!("warning".parse::<Health>(), Ok(Health::Warning));
        assert!("bogus".parse::<Status>().is_err());
    }
}

text_enum!(AcmeAccountStatus, "ACME account status",
    AcmeAccountStatus::Pending => "pending",
    AcmeAccountStatus::Valid => "valid",
    AcmeAccountStatus::Deactivated => "deactivated",
);

text_enum!(Role, "role",
    Role::Admin => "admin",
    Role::Operator => "operator",
    Role::Viewer => "viewer",
);
