//! PKCS#12 / PFX files: import of modern and legacy files, export for
//! servers (AES) and old Windows (3DES).

use p12_keystore::error::Error as P12Error;
use p12_keystore::{
    Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, Pkcs12Archive,
    PrivateKeyChain,
};

use crate::error::PkiError;
use crate::import::Bundle;
use crate::info::{parse_certificate, same_public_key};
use crate::key::PrivateKey;

const WHAT: &str = "PKCS#12 file";
/// Iterations for modern files (matches common keystores).
const MODERN_ITERATIONS: u32 = 10_000;
/// Iterations for legacy files (what `openssl pkcs12 -legacy` uses).
const LEGACY_ITERATIONS: u32 = 2_048;

fn map_read_error(e: P12Error) -> PkiError {
    match e {
        P12Error::MacError(_) | P12Error::UnpadError | P12Error::Pkcs5Error(_) => {
            PkiError::WrongPassword { what: WHAT }
        }
        P12Error::UnsupportedEncryptionScheme => PkiError::Pkcs12 {
            reason: "it uses an encryption scheme certmgr does not support; re-export it with AES or 3DES".to_owned(),
        },
        other => PkiError::Pkcs12 {
            reason: other.to_string(),
        },
    }
}

/// Read a PKCS#12 file: the private key (if any) and every certificate.
///
/// Handles PBES2/AES with HMAC-SHA-256 as well as the legacy RC2-40 and 3DES
/// schemes with SHA-1 MACs. The certificate matching the key comes first,
/// the rest follow in file order. A wrong password gives
/// [`PkiError::WrongPassword`].
pub fn read_pkcs12(data: &[u8], password: &str) -> Result<Bundle, PkiError> {
    crate::check_size(data)?;
    if data.is_empty() {
        return Err(PkiError::Pkcs12 {
            reason: "the file is empty".to_owned(),
        });
    }
    let archive = Pkcs12Archive::from_pkcs12(data, password).map_err(map_read_error)?;
    let key = match archive.keys.as_slice() {
        [] => None,
        [bag] => Some(PrivateKey::from_pkcs8_der(bag.key.as_der())?),
        _ => return Err(PkiError::MultipleKeys),
    };
    let mut certs: Vec<Vec<u8>> = Vec::new();
    for (i, bag) in archive.certs.iter().enumerate() {
        let der = bag.cert.as_der();
        parse_certificate(der).map_err(|reason| PkiError::BadCertificate {
            index: i + 1,
            reason,
        })?;
        if !certs.iter().any(|c| c.as_slice() == der) {
            certs.push(der.to_vec());
        }
    }
    if let Some(key) = &key {
        let spki = key.public_key_der();
        if let Some(pos) = certs.iter().position(|der| {
            parse_certificate(der).is_ok_and(|c| same_public_key(c.public_key().raw, &spki))
        }) {
            let leaf = certs.remove(pos);
            certs.insert(0, leaf);
        }
    }
    Ok(Bundle { certs, key })
}

/// Write a PKCS#12 file with the key, the leaf and the chain (leaf's issuer first).
///
/// Default: PBES2 AES-256-CBC for key and certificates with an HMAC-SHA-256
/// MAC. `legacy`: pbeWithSHAAnd3-KeyTripleDES-CBC and an HMAC-SHA-1 MAC, for
/// Windows versions and appliances that cannot read AES.
pub fn write_pkcs12(
    key: &PrivateKey,
    leaf: &[u8],
    chain: &[Vec<u8>],
    password: &str,
    friendly_name: &str,
    legacy: bool,
) -> Result<Vec<u8>, PkiError> {
    if !crate::key_matches(key, leaf)? {
        return Err(PkiError::KeyMismatch);
    }
    let mut certs = vec![to_p12_cert(leaf, 1)?];
    for (i, der) in chain.iter().enumerate() {
        certs.push(to_p12_cert(der, i + 2)?);
    }
    let p12_key = p12_keystore::PrivateKey::from_der(key.pkcs8_der())
        .map_err(|e| PkiError::crypto("preparing the key for PKCS#12", e))?;
    // localKeyId = SHA-1 of the leaf certificate, as openssl does.
    let local_key_id =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, leaf)
            .as_ref()
            .to_vec();
    let mut store = KeyStore::new();
    let name = if friendly_name.trim().is_empty() {
        "certmgr"
    } else {
        friendly_name
    };
    store.add_entry(
        name,
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(local_key_id, p12_key, certs)),
    );
    let writer = store.writer(password);
    let writer = if legacy {
        writer
            .encryption_algorithm(EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc)
            .encryption_iterations(LEGACY_ITERATIONS)
            .mac_algorithm(MacAlgorithm::HmacSha1)
            .mac_iterations(LEGACY_ITERATIONS)
    } else {
        writer
            .encryption_algorithm(EncryptionAlgorithm::PbeWithHmacSha256AndAes256)
            .encryption_iterations(MODERN_ITERATIONS)
            .mac_algorithm(MacAlgorithm::HmacSha256)
            .mac_iterations(MODERN_ITERATIONS)
    };
    writer
        .write()
        .map_err(|e| PkiError::crypto("writing the PKCS#12 file", e))
}

fn to_p12_cert(der: &[u8], index: usize) -> Result<Certificate, PkiError> {
    Certificate::from_der(der).map_err(|e| PkiError::BadCertificate {
        index,
        reason: e.to_string(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::{CaOptions, KeySpec, LeafOptions, create_ca, issue_leaf};

    fn material(spec: KeySpec) -> (PrivateKey, Vec<u8>, Vec<Vec<u8>>) {
        let ca = create_ca(&CaOptions {
            common_name: "P12 Root".into(),
            organization: None,
            key: KeySpec::EcdsaP256,
            validity_days: 30,
            intermediate: true,
        })
        .unwrap();
        let key = PrivateKey::generate(spec).unwrap();
        let (issuer, issuer_key) = ca.issuer();
        let leaf = issue_leaf(
            issuer,
            issuer_key,
            &key,
            &["p12.example.test".parse().unwrap()],
            &LeafOptions::default(),
        )
        .unwrap();
        let chain = vec![ca.intermediate.clone().unwrap().0, ca.root_der.clone()];
        (key, leaf, chain)
    }

    #[test]
    fn round_trips_modern_and_legacy() {
        let (key, leaf, chain) = material(KeySpec::EcdsaP256);
        for legacy in [false, true] {
            let data = write_pkcs12(&key, &leaf, &chain, "s3cret", "web", legacy).unwrap();
            let bundle = read_pkcs12(&data, "s3cret").unwrap();
            assert_eq!(bundle.key.unwrap().pkcs8_der(), key.pkcs8_der());
            assert_eq!(bundle.certs[0], leaf);
            assert_eq!(bundle.certs.len(), 3);
            for c in &chain {
                assert!(bundle.certs.contains(c));
            }
            assert!(matches!(
                read_pkcs12(&data, "wrong"),
                Err(PkiError::WrongPassword { .. })
            ));
        }
    }

    #[test]
    fn refuses_mismatched_key_and_garbage() {
        let (_, leaf, chain) = material(KeySpec::EcdsaP256);
        let other = PrivateKey::generate(KeySpec::EcdsaP256).unwrap();
        assert!(matches!(
            write_pkcs12(&other, &leaf, &chain, "x", "n", false),
            Err(PkiError::KeyMismatch)
        ));
        assert!(matches!(
            read_pkcs12(b"garbage", "x"),
            Err(PkiError::Pkcs12 { .. })
        ));
        assert!(matches!(
            read_pkcs12(b"", "x"),
            Err(PkiError::Pkcs12 { .. })
        ));
    }
}
