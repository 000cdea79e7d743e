//! The catalog of known ACME CAs, kept as data in `catalog/acme-cas.toml`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::AcmeError;

/// The catalog file, compiled in so the binary needs no data files.
const CATALOG_TOML: &str = include_str!("../../../catalog/acme-cas.toml");

/// One certificate authority of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaEntry {
    /// The catalog id (`letsencrypt`, `zerossl`, ...), filled in from the table name.
    #[serde(default)]
    pub id: String,
    /// Display name.
    pub name: String,
    /// ACME directory URL.
    pub directory: String,
    /// A test CA whose certificates are not publicly trusted.
    pub staging: bool,
    /// External Account Binding is required to create an account.
    pub eab_required: bool,
    /// Certificate profiles are supported.
    pub profiles: bool,
    /// IP address identifiers are supported.
    pub ip: bool,
    /// Wildcard names are supported.
    pub wildcard: bool,
    /// ACME Renewal Information is offered.
    pub ari: bool,
    /// The CA no longer issues certificates.
    #[serde(default)]
    pub discontinued: bool,
    /// Documentation of the CA's ACME service.
    pub docs: String,
}

/// Every CA of the catalog, by id.
pub fn catalog() -> Result<Vec<CaEntry>, AcmeError> {
    let table: BTreeMap<String, CaEntry> =
        toml::from_str(CATALOG_TOML).map_err(|e| AcmeError::Catalog(e.to_string()))?;
    Ok(table
        .into_iter()
        .map(|(id, mut entry)| {
            entry.id = id;
            entry
        })
        .collect())
}

/// The catalog entry with this id.
pub fn find_ca(id: &str) -> Result<CaEntry, AcmeError> {
    let all = catalog()?;
    let ids: Vec<String> = all.iter().map(|e| e.id.clone()).collect();
    all.into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| AcmeError::UnknownCa {
            id: id.to_owned(),
            known: ids.join(", "),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_parses_and_is_complete() {
        let all = catalog().unwrap();
        for id in [
            "letsencrypt",
            "letsencrypt-staging",
            "zerossl",
            "actalis",
            "google",
            "google-staging",
            "sslcom-rsa",
            "sslcom-ecc",
            "buypass",
        ] {
            let entry = find_ca(id).unwrap();
            assert!(entry.directory.starts_with("https://"), "{id}");
            assert!(entry.docs.starts_with("https://"), "{id}");
        }
        assert!(find_ca("zerossl").unwrap().eab_required);
        assert!(!find_ca("letsencrypt").unwrap().eab_required);
        assert!(find_ca("buypass").unwrap().discontinued);
        assert!(all.iter().filter(|e| e.discontinued).count() == 1);
        let err = find_ca("nope").unwrap_err().to_string();
        assert!(err.contains("letsencrypt"), "{err}");
    }
}
