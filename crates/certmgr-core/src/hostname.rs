//! Hostnames a certificate is issued for: DNS names, wildcards and IP addresses.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One identifier of a credential, normalised.
///
/// DNS names are lower case A-labels (IDNs are converted with UTS #46), a
/// wildcard is allowed only as the whole leftmost label (`*.example.com`), and IP
/// addresses are kept in their canonical text form. Parse with [`str::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Hostname {
    /// A DNS name (possibly a wildcard), as ASCII.
    Dns(String),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
}

/// Why a hostname was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostnameError {
    /// Nothing was given.
    #[error("empty hostname")]
    Empty,
    /// The name is not a valid (internationalised) DNS name.
    #[error("invalid hostname {given:?}: {reason}")]
    Invalid {
        /// What the user wrote.
        given: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

const MAX_NAME_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

impl Hostname {
    /// The normalised text form (A-label DNS name or canonical IP address).
    pub fn as_str(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Hostname::Dns(name) => std::borrow::Cow::Borrowed(name),
            Hostname::Ip(ip) => std::borrow::Cow::Owned(ip.to_string()),
        }
    }

    /// Whether this is a wildcard DNS name (`*.example.com`).
    pub fn is_wildcard(&self) -> bool {
        matches!(self, Hostname::Dns(name) if name.starts_with("*."))
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hostname::Dns(name) => f.write_str(name),
            Hostname::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

impl FromStr for Hostname {
    type Err = HostnameError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(HostnameError::Empty);
        }
        let bracketless = trimmed
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .unwrap_or(trimmed);
        if let Ok(ip) = bracketless.parse::<IpAddr>() {
            return Ok(Hostname::Ip(ip));
        }
        let invalid = |reason| HostnameError::Invalid {
            given: input.to_owned(),
            reason,
        };
        let name = trimmed.strip_suffix('.').unwrap_or(trimmed);
        let (wildcard, rest) = match name.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, name),
        };
        if rest.contains('*') {
            return Err(invalid(
                "a wildcard must be the whole leftmost label, as in *.example.com",
            ));
        }
        // Structural checks first, so the message names the actual problem.
        for label in rest.split('.') {
            if label.is_empty() {
                return Err(invalid("empty label (two dots in a row)"));
            }
            if label.is_ascii() && label.len() > MAX_LABEL_LEN {
                return Err(invalid("a label is longer than 63 characters"));
            }
        }
        let ascii = idna::domain_to_ascii_strict(rest).map_err(|_| {
            invalid(
                "not a valid DNS name (letters, digits and hyphens per label, IDNs per UTS #46)",
            )
        })?;
        if ascii.is_empty() {
            return Err(invalid("no labels left after the wildcard"));
        }
        if ascii.len() + if wildcard { 2 } else { 0 } > MAX_NAME_LEN {
            return Err(invalid("longer than 253 characters"));
        }
        for label in ascii.split('.') {
            if label.is_empty() {
                return Err(invalid("empty label (two dots in a row)"));
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(invalid("a label is longer than 63 characters"));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(invalid("a label starts or ends with a hyphen"));
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(invalid("only letters, digits and hyphens are allowed"));
            }
        }
        let last = ascii.rsplit('.').next().unwrap_or_default();
        if last.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "the last label is all digits: neither a DNS name nor an IP address",
            ));
        }
        Ok(Hostname::Dns(if wildcard {
            format!("*.{ascii}")
        } else {
            ascii
        }))
    }
}

impl TryFrom<String> for Hostname {
    type Error = HostnameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Hostname> for String {
    fn from(value: Hostname) -> Self {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> String {
        input.parse::<Hostname>().unwrap().to_string()
    }

    fn bad(input: &str) -> String {
        input.parse::<Hostname>().unwrap_err().to_string()
    }

    #[test]
    fn normalises_dns_names() {
        assert_eq!(ok("WWW.Example.COM"), "www.example.com");
        assert_eq!(ok("www.example.com."), "www.example.com");
        assert_eq!(ok("  a.example.test "), "a.example.test");
        assert_eq!(ok("localhost"), "localhost");
    }

    #[test]
    fn converts_idn_to_a_labels() {
        assert_eq!(ok("bücher.example"), "xn--bcher-kva.example");
        assert_eq!(ok("*.münchen.de"), "*.xn--mnchen-3ya.de");
    }

    #[test]
    fn accepts_wildcards_only_leftmost() {
        assert!("*.example.com".parse::<Hostname>().unwrap().is_wildcard());
        assert!(bad("www.*.example.com").contains("leftmost"));
        assert!(bad("w*.example.com").contains("leftmost"));
        assert!(bad("*").contains("invalid"));
    }

    #[test]
    fn parses_ip_addresses() {
        assert_eq!(ok("192.0.2.1"), "192.0.2.1");
        assert_eq!(ok("2001:DB8::1"), "2001:db8::1");
        assert_eq!(ok("[::1]"), "::1");
        assert!(matches!("10.0.0.1".parse(), Ok(Hostname::Ip(_))));
    }

    #[test]
    fn rejects_invalid_names() {
        assert_eq!("".parse::<Hostname>(), Err(HostnameError::Empty));
        for input in [
            "a..b",
            "-a.example",
            "a-.example",
            "under_score.example",
            "sp ace.example",
            "1.2.3",
            "256.1.1.1",
            &"a".repeat(64),
            &format!("{}.com", "a.".repeat(130)),
        ] {
            assert!(
                input.parse::<Hostname>().is_err(),
                "{input:?} should be refused"
            );
        }
    }
}
