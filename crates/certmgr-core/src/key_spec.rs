//! Key specifications: which algorithm and size a credential's key uses.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The algorithm and size of one private key of a credential.
///
/// A credential holds one key, or two of different [`KeyFamily`]s (a *dual*
/// credential: one RSA and one ECDSA key, each with its own certificate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum KeySpec {
    /// RSA with a 2048-bit modulus.
    Rsa2048,
    /// RSA with a 3072-bit modulus.
    Rsa3072,
    /// RSA with a 4096-bit modulus.
    Rsa4096,
    /// ECDSA on NIST P-256 (secp256r1).
    EcdsaP256,
    /// ECDSA on NIST P-384 (secp384r1).
    EcdsaP384,
}

/// The family of a key, used to tell the two keys of a dual credential apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum KeyFamily {
    /// Any RSA key.
    Rsa,
    /// Any ECDSA key.
    Ecdsa,
}

impl KeySpec {
    /// Every supported key spec, in the order the CLI lists them.
    pub const ALL: [KeySpec; 5] = [
        KeySpec::Rsa2048,
        KeySpec::Rsa3072,
        KeySpec::Rsa4096,
        KeySpec::EcdsaP256,
        KeySpec::EcdsaP384,
    ];

    /// The canonical name, as accepted by `--key` and stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            KeySpec::Rsa2048 => "rsa-2048",
            KeySpec::Rsa3072 => "rsa-3072",
            KeySpec::Rsa4096 => "rsa-4096",
            KeySpec::EcdsaP256 => "ecdsa-p256",
            KeySpec::EcdsaP384 => "ecdsa-p384",
        }
    }

    /// Whether this is an RSA or an ECDSA key.
    pub fn family(self) -> KeyFamily {
        match self {
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => KeyFamily::Rsa,
            KeySpec::EcdsaP256 | KeySpec::EcdsaP384 => KeyFamily::Ecdsa,
        }
    }
}

impl KeyFamily {
    /// The family's name as used in file names and messages (`rsa`, `ecdsa`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyFamily::Rsa => "rsa",
            KeyFamily::Ecdsa => "ecdsa",
        }
    }
}

impl fmt::Display for KeyFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key spec name that certmgr does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown key type {given:?}: use one of rsa-2048, rsa-3072, rsa-4096, ecdsa-p256, ecdsa-p384"
)]
pub struct KeySpecError {
    /// What the user wrote.
    pub given: String,
}

impl FromStr for KeySpec {
    type Err = KeySpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        KeySpec::ALL
            .into_iter()
            .find(|spec| spec.as_str() == lower)
            .ok_or_else(|| KeySpecError {
                given: s.to_owned(),
            })
    }
}

impl TryFrom<String> for KeySpec {
    type Error = KeySpecError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<KeySpec> for String {
    fn from(value: KeySpec) -> Self {
        value.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_spec() {
        for spec in KeySpec::ALL {
            assert_eq!(spec.as_str().parse::<KeySpec>(), Ok(spec));
        }
    }

    #[test]
    fn accepts_upper_case_and_rejects_unknown() {
        assert_eq!("ECDSA-P384".parse::<KeySpec>(), Ok(KeySpec::EcdsaP384));
        let err = "rsa-1024".parse::<KeySpec>().unwrap_err();
        assert!(err.to_string().contains("rsa-1024"));
        assert!("ed25519".parse::<KeySpec>().is_err());
    }

    #[test]
    fn families() {
        assert_eq!(KeySpec::Rsa3072.family(), KeyFamily::Rsa);
        assert_eq!(KeySpec::EcdsaP256.family(), KeyFamily::Ecdsa);
    }
}
