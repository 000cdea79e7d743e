//! Where a credential's certificates come from.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The issuer of a credential, written `ca:NAME`, `acme:ACCOUNT`, `manual` or `import`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum IssuerRef {
    /// A MicroCA in the store signs the certificates directly.
    MicroCa(String),
    /// An ACME account orders the certificates.
    Acme(String),
    /// Manual flow: certmgr makes the key and CSR, an external CA signs.
    Manual,
    /// Key and certificates were made elsewhere and imported.
    Import,
}

/// An issuer reference that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid issuer {given:?}: use ca:NAME, acme:ACCOUNT, manual or import")]
pub struct IssuerRefError {
    /// What the user wrote.
    pub given: String,
}

impl fmt::Display for IssuerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IssuerRef::MicroCa(name) => write!(f, "ca:{name}"),
            IssuerRef::Acme(account) => write!(f, "acme:{account}"),
            IssuerRef::Manual => f.write_str("manual"),
            IssuerRef::Import => f.write_str("import"),
        }
    }
}

impl FromStr for IssuerRef {
    type Err = IssuerRefError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || IssuerRefError {
            given: s.to_owned(),
        };
        let named = |rest: &str| {
            let rest = rest.trim();
            crate::validate_name(rest)
                .map(|()| rest.to_owned())
                .map_err(|_| err())
        };
        match s.trim() {
            "manual" => Ok(IssuerRef::Manual),
            "import" => Ok(IssuerRef::Import),
            other => {
                if let Some(rest) = other.strip_prefix("ca:") {
                    named(rest).map(IssuerRef::MicroCa)
                } else if let Some(rest) = other.strip_prefix("acme:") {
                    named(rest).map(IssuerRef::Acme)
                } else {
                    Err(err())
                }
            }
        }
    }
}

impl TryFrom<String> for IssuerRef {
    type Error = IssuerRefError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<IssuerRef> for String {
    fn from(value: IssuerRef) -> Self {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!("ca:lab".parse(), Ok(IssuerRef::MicroCa("lab".into())));
        assert_eq!("acme:le".parse(), Ok(IssuerRef::Acme("le".into())));
        assert_eq!("manual".parse(), Ok(IssuerRef::Manual));
        assert_eq!(IssuerRef::MicroCa("x".into()).to_string(), "ca:x");
        assert!("ca:".parse::<IssuerRef>().is_err());
        assert!("vault:x".parse::<IssuerRef>().is_err());
    }
}
