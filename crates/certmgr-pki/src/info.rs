//! Facts about one certificate, parsed once for display and for checks.

use std::net::IpAddr;

use certmgr_core::KeySpec;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::public_key::PublicKey;

use crate::error::PkiError;

/// Parsed facts about one certificate.
///
/// Exists so that the store and the CLI can show and check certificates
/// (names, validity, fingerprint, key) without depending on an X.509 parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// Subject distinguished name, RFC 4514 style (`CN=example.com, O=Org`).
    pub subject: String,
    /// Issuer distinguished name, same style.
    pub issuer: String,
    /// Serial number, lower-case hex without leading zero bytes.
    pub serial_hex: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// DNS names of the subjectAltName extension.
    pub dns_names: Vec<String>,
    /// IP addresses of the subjectAltName extension.
    pub ip_addresses: Vec<IpAddr>,
    /// Whether basicConstraints says this is a CA.
    pub is_ca: bool,
    /// Whether subject equals issuer and the certificate verifies with its own key.
    pub self_signed: bool,
    /// SubjectPublicKeyInfo DER, to match against a [`crate::PrivateKey`].
    pub spki_der: Vec<u8>,
    /// SHA-256 of the DER certificate, lower-case hex, no colons.
    pub sha256_fingerprint: String,
    /// The key's spec, when it is one certmgr supports.
    pub key_spec: Option<KeySpec>,
}

/// Parse a DER certificate, refusing trailing bytes; the error is the parser's reason.
pub(crate) fn parse_certificate(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    match x509_parser::parse_x509_certificate(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err("trailing bytes after the certificate".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

/// Parse a single certificate given to a public function.
pub(crate) fn parse_one(der: &[u8]) -> Result<X509Certificate<'_>, PkiError> {
    crate::check_size(der)?;
    parse_certificate(der).map_err(|reason| PkiError::BadCertificate { index: 1, reason })
}

/// Read the facts of one DER certificate.
pub fn certificate_info(der: &[u8]) -> Result<CertificateInfo, PkiError> {
    let cert = parse_one(der)?;
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => dns_names.push((*dns).to_owned()),
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from_bytes(bytes) {
                        ip_addresses.push(ip);
                    }
                }
                _ => {}
            }
        }
    }
    let fingerprint = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
    Ok(CertificateInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial_hex: serial_hex(cert.raw_serial()),
        not_before: to_time(cert.validity().not_before.timestamp()),
        not_after: to_time(cert.validity().not_after.timestamp()),
        dns_names,
        ip_addresses,
        is_ca: cert.is_ca(),
        self_signed: is_self_signed(&cert),
        spki_der: cert.public_key().raw.to_vec(),
        sha256_fingerprint: hex::encode(fingerprint.as_ref()),
        key_spec: key_spec_of(&cert),
    })
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

fn serial_hex(raw: &[u8]) -> String {
    let start = raw
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(raw.len().saturating_sub(1));
    hex::encode(&raw[start..])
}

/// Convert a certificate timestamp; out-of-range values clamp to the edges.
pub(crate) fn to_time(timestamp: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(timestamp).unwrap_or(if timestamp < 0 {
        OffsetDateTime::UNIX_EPOCH
    } else {
        time::PrimitiveDateTime::MAX.assume_utc()
    })
}

/// A date as YYYY-MM-DD, for messages.
pub(crate) fn ymd(t: OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// Subject equals issuer and the signature verifies with the certificate's own key.
pub(crate) fn is_self_signed(cert: &X509Certificate<'_>) -> bool {
    names_equal(cert.subject(), cert.issuer()) && cert.verify_signature(None).is_ok()
}

/// Compare two names: byte-equal DER, or equal text ignoring case (encodings differ between CAs).
pub(crate) fn names_equal(
    a: &x509_parser::x509::X509Name<'_>,
    b: &x509_parser::x509::X509Name<'_>,
) -> bool {
    a.as_raw() == b.as_raw() || a.to_string().eq_ignore_ascii_case(&b.to_string())
}

/// The subjectKeyIdentifier, if present.
pub(crate) fn subject_key_id(cert: &X509Certificate<'_>) -> Option<Vec<u8>> {
    cert.iter_extensions()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
            _ => None,
        })
}

/// The keyIdentifier of the authorityKeyIdentifier, if present.
pub(crate) fn authority_key_id(cert: &X509Certificate<'_>) -> Option<Vec<u8>> {
    cert.iter_extensions()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                aki.key_identifier.as_ref().map(|id| id.0.to_vec())
            }
            _ => None,
        })
}

/// Whether basicConstraints explicitly says "not a CA" (v1 certificates have none).
pub(crate) fn explicitly_not_ca(cert: &X509Certificate<'_>) -> bool {
    matches!(cert.basic_constraints(), Ok(Some(bc)) if !bc.value.ca)
}

fn key_spec_of(cert: &X509Certificate<'_>) -> Option<KeySpec> {
    let spki = cert.public_key();
    match spki.parsed().ok()? {
        PublicKey::RSA(rsa) => crate::key::rsa_spec(rsa.key_size()).ok(),
        PublicKey::EC(_) => {
            let curve = spki.algorithm.parameters.as_ref()?.as_oid().ok()?;
            match curve.to_id_string().as_str() {
                "1.2.840.10045.3.1.7" => Some(KeySpec::EcdsaP256),
                "1.3.132.0.34" => Some(KeySpec::EcdsaP384),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether two SubjectPublicKeyInfo DER blobs hold the same key.
pub(crate) fn same_public_key(a: &[u8], b: &[u8]) -> bool {
    use x509_parser::prelude::FromDer;
    use x509_parser::x509::SubjectPublicKeyInfo;
    if a == b {
        return true;
    }
    match (
        SubjectPublicKeyInfo::from_der(a),
        SubjectPublicKeyInfo::from_der(b),
    ) {
        (Ok((_, a)), Ok((_, b))) => {
            a.algorithm.algorithm == b.algorithm.algorithm
                && a.subject_public_key.data == b.subject_public_key.data
        }
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn formats_serials_and_dates() {
        assert_eq!(serial_hex(&[0x00, 0x8f, 0x01]), "8f01");
        assert_eq!(serial_hex(&[0x00]), "00");
        let t = OffsetDateTime::from_unix_timestamp(1_704_067_200).unwrap();
        assert_eq!(ymd(t), "2024-01-01");
    }

    #[test]
    fn refuses_garbage() {
        assert!(matches!(
            certificate_info(b"\x30\x03abc"),
            Err(PkiError::BadCertificate { .. })
        ));
    }
}
