//! Reading certificates and keys from PEM bundles and DER files, and writing
//! certificates back as PEM.

use crate::error::PkiError;
use crate::info::parse_certificate;
use crate::key::{PrivateKey, is_key_label, pem_config};

/// The certificates and (optional) private key found in one imported file.
///
/// Exists because users hand certmgr files in every order and mix: the import
/// code then picks the leaf ([`crate::find_leaf`]) and builds the chain
/// ([`crate::build_chain`]) from this unordered set.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Every certificate, DER, in file order.
    pub certs: Vec<Vec<u8>>,
    /// The private key, if the file held one.
    pub key: Option<PrivateKey>,
}

/// One decoded PEM block and its 1-based position in the file.
pub(crate) struct PemBlock {
    pub(crate) index: usize,
    pub(crate) pem: pem::Pem,
}

impl PemBlock {
    pub(crate) fn label(&self) -> &str {
        self.pem.tag()
    }

    pub(crate) fn contents(&self) -> &[u8] {
        self.pem.contents()
    }
}

const BEGIN: &[u8] = b"-----BEGIN ";
const DASHES: &[u8] = b"-----";

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Split PEM text into decoded blocks, ignoring any text around them.
///
/// Refuses input without any block ([`PkiError::NotPem`]) and blocks that are
/// unterminated or whose base64 does not decode ([`PkiError::PemDamaged`]).
pub(crate) fn pem_blocks(data: &[u8]) -> Result<Vec<PemBlock>, PkiError> {
    let mut blocks = Vec::new();
    let mut pos = 0;
    while let Some(found) = find(&data[pos..], BEGIN) {
        let index = blocks.len() + 1;
        let damaged = PkiError::PemDamaged { index };
        let start = pos + found;
        let label_start = start + BEGIN.len();
        let label_len = find(&data[label_start..], DASHES).ok_or(PkiError::PemDamaged { index })?;
        let label = &data[label_start..label_start + label_len];
        if label.iter().any(|b| !(b.is_ascii_graphic() || *b == b' ')) {
            return Err(damaged);
        }
        let body_start = label_start + label_len + DASHES.len();
        let mut end_marker = b"-----END ".to_vec();
        end_marker.extend_from_slice(label);
        end_marker.extend_from_slice(DASHES);
        let end = find(&data[body_start..], &end_marker).ok_or(PkiError::PemDamaged { index })?;
        // Another BEGIN before our END means this block was cut short.
        if find(&data[body_start..body_start + end], BEGIN).is_some() {
            return Err(damaged);
        }
        let block_end = body_start + end + end_marker.len();
        let pem =
            pem::parse(&data[start..block_end]).map_err(|_| PkiError::PemDamaged { index })?;
        blocks.push(PemBlock { index, pem });
        pos = block_end;
    }
    if blocks.is_empty() {
        return Err(PkiError::NotPem);
    }
    Ok(blocks)
}

fn is_certificate_label(label: &str) -> bool {
    matches!(label, "CERTIFICATE" | "X509 CERTIFICATE")
}

/// Labels that may sit in a bundle but carry nothing certmgr imports.
fn is_ignored_label(label: &str) -> bool {
    matches!(label, "EC PARAMETERS" | "DH PARAMETERS" | "X509 CRL")
}

/// Parse-check one certificate, numbering it for the error message.
fn checked_certificate(der: &[u8], index: usize) -> Result<Vec<u8>, PkiError> {
    parse_certificate(der).map_err(|reason| PkiError::BadCertificate { index, reason })?;
    Ok(der.to_vec())
}

/// Read a PEM bundle: certificates in any order and at most one private key.
///
/// Text before and between blocks (such as openssl's "Bag Attributes") is
/// ignored. `key_password` is used only if the key is encrypted PKCS#8.
pub fn read_pem_bundle(data: &[u8], key_password: Option<&[u8]>) -> Result<Bundle, PkiError> {
    crate::check_size(data)?;
    let mut certs = Vec::new();
    let mut key = None;
    for block in pem_blocks(data)? {
        let label = block.label();
        if is_certificate_label(label) {
            certs.push(checked_certificate(block.contents(), certs.len() + 1)?);
        } else if is_key_label(label) {
            if key.is_some() {
                return Err(PkiError::MultipleKeys);
            }
            key = Some(PrivateKey::from_pem_block(&block, key_password)?);
        } else if !is_ignored_label(label) {
            return Err(PkiError::UnsupportedPemBlock {
                index: block.index,
                label: label.to_owned(),
            });
        }
    }
    Ok(Bundle { certs, key })
}

/// Read the certificates of a file: a single DER certificate, or PEM with
/// one or more CERTIFICATE blocks (any other blocks, keys included, are skipped).
pub fn read_certificates(data: &[u8]) -> Result<Vec<Vec<u8>>, PkiError> {
    crate::check_size(data)?;
    if data.first() == Some(&0x30) {
        return Ok(vec![checked_certificate(data, 1)?]);
    }
    let mut certs = Vec::new();
    for block in pem_blocks(data)? {
        if is_certificate_label(block.label()) {
            certs.push(checked_certificate(block.contents(), certs.len() + 1)?);
        }
    }
    if certs.is_empty() {
        return Err(PkiError::NoCertificate);
    }
    Ok(certs)
}

/// Encode certificates as concatenated `CERTIFICATE` PEM blocks (LF line ends).
///
/// Accepts `&[Vec<u8>]` as well as `&[&[u8]]`, so a single certificate is `&[&der]`.
pub fn certs_to_pem<C: AsRef<[u8]>>(certs: &[C]) -> String {
    let blocks: Vec<pem::Pem> = certs
        .iter()
        .map(|der| pem::Pem::new("CERTIFICATE", der.as_ref().to_vec()))
        .collect();
    pem::encode_many_config(&blocks, pem_config())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_empty_are_not_pem() {
        assert!(matches!(read_pem_bundle(b"", None), Err(PkiError::NotPem)));
        assert!(matches!(
            read_pem_bundle(b"hello world\n", None),
            Err(PkiError::NotPem)
        ));
        assert!(matches!(read_certificates(b""), Err(PkiError::NotPem)));
        assert!(matches!(
            read_certificates(&[0x30, 0x82, 0x01]),
            Err(PkiError::BadCertificate { index: 1, .. })
        ));
    }

    #[test]
    fn refuses_too_large_input() {
        let big = vec![b'a'; crate::MAX_INPUT_LEN + 1];
        assert!(matches!(
            read_pem_bundle(&big, None),
            Err(PkiError::TooLarge { .. })
        ));
        assert!(matches!(
            read_certificates(&big),
            Err(PkiError::TooLarge { .. })
        ));
        assert!(matches!(
            crate::read_pkcs12(&big, "x"),
            Err(PkiError::TooLarge { .. })
        ));
        let err = PrivateKey::from_pem(&String::from_utf8_lossy(&big), None).unwrap_err();
        assert!(matches!(err, PkiError::TooLarge { .. }));
    }

    #[test]
    fn detects_damaged_blocks() {
        let truncated = b"-----BEGIN CERTIFICATE-----\nMIIB\n";
        assert!(matches!(
            read_pem_bundle(truncated, None),
            Err(PkiError::PemDamaged { index: 1 })
        ));
        let garbled = b"-----BEGIN CERTIFICATE-----\nM!!B$$\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            read_pem_bundle(garbled, None),
            Err(PkiError::PemDamaged { index: 1 })
        ));
        let valid_b64_not_cert =
            b"-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            read_pem_bundle(valid_b64_not_cert, None),
            Err(PkiError::BadCertificate { index: 1, .. })
        ));
    }

    #[test]
    fn reads_bundle_with_noise_and_key() {
        let key = PrivateKey::generate(certmgr_core::KeySpec::EcdsaP256).unwrap();
        let ca = crate::create_ca(&crate::CaOptions {
            common_name: "Test Root".into(),
            organization: None,
            key: certmgr_core::KeySpec::EcdsaP256,
            validity_days: 30,
            intermediate: false,
        })
        .unwrap();
        let mut text = String::from("Bag Attributes\n    friendlyName: x\nsubject=CN = Test\n");
        text.push_str(&certs_to_pem(&[&ca.root_der]));
        let owned: Vec<Vec<u8>> = vec![ca.root_der.clone()];
        assert_eq!(certs_to_pem(&owned), certs_to_pem(&[&ca.root_der]));
        text.push_str("junk between\n");
        text.push_str(&key.to_pkcs8_pem());
        let bundle = read_pem_bundle(text.as_bytes(), None).unwrap();
        assert_eq!(bundle.certs, vec![ca.root_der.clone()]);
        assert_eq!(bundle.key.unwrap().pkcs8_der(), key.pkcs8_der());
        assert_eq!(read_certificates(text.as_bytes()).unwrap().len(), 1);
        assert_eq!(
            read_certificates(&ca.root_der).unwrap(),
            vec![ca.root_der.clone()]
        );

        text.push_str(&key.to_pkcs8_pem());
        assert!(matches!(
            read_pem_bundle(text.as_bytes(), None),
            Err(PkiError::MultipleKeys)
        ));
        assert!(matches!(
            read_certificates(key.to_pkcs8_pem().as_bytes()),
            Err(PkiError::NoCertificate)
        ));
    }
}
