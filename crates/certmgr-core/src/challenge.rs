//! ACME challenge types a credential can be validated with.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How the ACME CA checks control of the hostnames (RFC 8555 §8, RFC 8737).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ChallengeKind {
    /// A token served over HTTP on port 80 (RFC 8555 §8.3).
    #[serde(rename = "http-01")]
    Http01,
    /// A self-signed certificate served with ALPN `acme-tls/1` on port 443 (RFC 8737).
    #[serde(rename = "tls-alpn-01")]
    TlsAlpn01,
    /// A TXT record at `_acme-challenge.<name>` (RFC 8555 §8.4).
    #[serde(rename = "dns-01")]
    Dns01,
}

impl ChallengeKind {
    /// The RFC name (`http-01`, `tls-alpn-01`, `dns-01`).
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeKind::Http01 => "http-01",
            ChallengeKind::TlsAlpn01 => "tls-alpn-01",
            ChallengeKind::Dns01 => "dns-01",
        }
    }
}

impl fmt::Display for ChallengeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A challenge name certmgr does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown challenge type {given:?}: use http-01, tls-alpn-01 or dns-01")]
pub struct ChallengeKindError {
    /// What the user wrote.
    pub given: String,
}

impl FromStr for ChallengeKind {
    type Err = ChallengeKindError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "http-01" => Ok(ChallengeKind::Http01),
            "tls-alpn-01" => Ok(ChallengeKind::TlsAlpn01),
            "dns-01" => Ok(ChallengeKind::Dns01),
            _ => Err(ChallengeKindError {
                given: s.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for kind in [
            ChallengeKind::Http01,
            ChallengeKind::TlsAlpn01,
            ChallengeKind::Dns01,
        ] {
            assert_eq!(kind.as_str().parse::<ChallengeKind>(), Ok(kind));
        }
        assert!("http-02".parse::<ChallengeKind>().is_err());
    }
}
