//! Small DER helpers and object identifiers that the higher-level crates do
//! not expose directly.

use pkcs8::ObjectIdentifier;
use pkcs8::der::asn1::{AnyRef, OctetStringRef, UintRef};
use pkcs8::der::{Decode, Reader, SliceReader, Tag, TagNumber, Tagged};

/// rsaEncryption (PKCS#1).
pub(crate) const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// RSASSA-PSS keys, which certmgr does not handle.
pub(crate) const OID_RSA_PSS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
/// id-ecPublicKey.
pub(crate) const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// NIST P-256 (prime256v1).
pub(crate) const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// NIST P-384 (secp384r1).
pub(crate) const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
/// NIST P-521 (secp521r1), named in error messages only.
pub(crate) const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
/// Ed25519, named in error messages only.
pub(crate) const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// Ed448, named in error messages only.
pub(crate) const OID_ED448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");

/// The bit length of the modulus of a PKCS#1 `RSAPrivateKey`, if it parses.
pub(crate) fn rsa_modulus_bits(pkcs1: &[u8]) -> Option<usize> {
    let outer = AnyRef::from_der(pkcs1).ok()?;
    if outer.tag() != Tag::Sequence {
        return None;
    }
    let mut reader = SliceReader::new(outer.value()).ok()?;
    let _version: UintRef<'_> = reader.decode().ok()?;
    let modulus: UintRef<'_> = reader.decode().ok()?;
    let bytes = modulus.as_bytes();
    let first = *bytes.first()?;
    Some(bytes.len() * 8 - first.leading_zeros() as usize)
}

/// The named curve in a SEC1 `ECPrivateKey`'s `[0] parameters`, if present.
pub(crate) fn sec1_curve(sec1: &[u8]) -> Option<ObjectIdentifier> {
    let outer = AnyRef::from_der(sec1).ok()?;
    if outer.tag() != Tag::Sequence {
        return None;
    }
    let mut reader = SliceReader::new(outer.value()).ok()?;
    let _version: UintRef<'_> = reader.decode().ok()?;
    let _private: OctetStringRef<'_> = reader.decode().ok()?;
    let params: AnyRef<'_> = reader.decode().ok()?;
    if params.tag()
        != (Tag::ContextSpecific {
            constructed: true,
            number: TagNumber::N0,
        })
    {
        return None;
    }
    ObjectIdentifier::from_der(params.value()).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn garbage_has_no_modulus() {
        assert_eq!(rsa_modulus_bits(b"not der"), None);
        assert_eq!(rsa_modulus_bits(&[0x30, 0x03, 0x02, 0x01, 0x00]), None);
        assert_eq!(sec1_curve(b"not der"), None);
    }
}
