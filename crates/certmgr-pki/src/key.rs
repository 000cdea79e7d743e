//! Private keys: generation, parsing of every common PEM/DER form, and
//! conversion to the one form certmgr stores (unencrypted PKCS#8 DER).

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair,
};
use certmgr_core::KeySpec;
use rcgen::{PublicKeyData, SignatureAlgorithm};
use rustls_pki_types::PrivatePkcs8KeyDer;
use zeroize::{Zeroize, Zeroizing};

use crate::asn1;
use crate::error::PkiError;
use crate::import::{PemBlock, pem_blocks};

/// One private key of a credential.
///
/// Exists so that key material is held in exactly one form (PKCS#8 DER, wiped
/// on drop) with its [`KeySpec`] already known and checked. `Debug` shows the
/// spec only, never key bytes.
#[derive(Clone)]
pub struct PrivateKey {
    spec: KeySpec,
    der: Zeroizing<Vec<u8>>,
    spki: Vec<u8>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Generate a fresh key of the given spec with the system's secure RNG.
    pub fn generate(spec: KeySpec) -> Result<PrivateKey, PkiError> {
        let der: Zeroizing<Vec<u8>> = match spec {
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                let size = match spec {
                    KeySpec::Rsa2048 => aws_lc_rs::rsa::KeySize::Rsa2048,
                    KeySpec::Rsa3072 => aws_lc_rs::rsa::KeySize::Rsa3072,
                    _ => aws_lc_rs::rsa::KeySize::Rsa4096,
                };
                let pair = aws_lc_rs::rsa::KeyPair::generate(size)
                    .map_err(|e| PkiError::crypto("RSA key generation", e))?;
                let doc: aws_lc_rs::encoding::Pkcs8V1Der<'static> = pair
                    .as_der()
                    .map_err(|e| PkiError::crypto("RSA key encoding", e))?;
                Zeroizing::new(doc.as_ref().to_vec())
            }
            KeySpec::EcdsaP256 | KeySpec::EcdsaP384 => {
                let alg = if spec == KeySpec::EcdsaP256 {
                    &ECDSA_P256_SHA256_ASN1_SIGNING
                } else {
                    &ECDSA_P384_SHA384_ASN1_SIGNING
                };
                let doc = EcdsaKeyPair::generate_pkcs8(alg, &SystemRandom::new())
                    .map_err(|e| PkiError::crypto("ECDSA key generation", e))?;
                Zeroizing::new(doc.as_ref().to_vec())
            }
        };
        Self::from_pkcs8_der(&der)
    }

    /// Read an unencrypted PKCS#8 `PrivateKeyInfo`, detecting and checking its spec.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<PrivateKey, PkiError> {
        crate::check_size(der)?;
        let info = pkcs8::PrivateKeyInfo::try_from(der).map_err(|e| PkiError::BadKey {
            reason: format!("not a PKCS#8 private key: {e}"),
        })?;
        let oid = info.algorithm.oid;
        let spec = if oid == asn1::OID_RSA {
            let bits =
                asn1::rsa_modulus_bits(info.private_key).ok_or_else(|| PkiError::BadKey {
                    reason: "the RSA key structure is invalid".to_owned(),
                })?;
            rsa_spec(bits)?
        } else if oid == asn1::OID_EC {
            let curve = info
                .algorithm
                .parameters_oid()
                .map_err(|_| PkiError::BadKey {
                    reason: "the EC key does not name its curve".to_owned(),
                })?;
            if curve == asn1::OID_P256 {
                KeySpec::EcdsaP256
            } else if curve == asn1::OID_P384 {
                KeySpec::EcdsaP384
            } else if curve == asn1::OID_P521 {
                return Err(unsupported("ECDSA P-521"));
            } else {
                return Err(unsupported(&format!("ECDSA on curve {curve}")));
            }
        } else if oid == asn1::OID_ED25519 {
            return Err(unsupported("Ed25519"));
        } else if oid == asn1::OID_ED448 {
            return Err(unsupported("Ed448"));
        } else if oid == asn1::OID_RSA_PSS {
            return Err(unsupported("RSA-PSS (restricted RSA key)"));
        } else {
            return Err(unsupported(&format!("key algorithm {oid}")));
        };
        let pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &PrivatePkcs8KeyDer::from(der),
            signature_algorithm(spec),
        )
        .map_err(|e| PkiError::BadKey {
            reason: e.to_string(),
        })?;
        let spki = pair.subject_public_key_info();
        Ok(PrivateKey {
            spec,
            der: Zeroizing::new(der.to_vec()),
            spki,
        })
    }

    /// Read the first private key found in PEM text.
    ///
    /// Accepts `PRIVATE KEY` (PKCS#8), `ENCRYPTED PRIVATE KEY` (PKCS#8 PBES2,
    /// needs `password`), `RSA PRIVATE KEY` (PKCS#1) and `EC PRIVATE KEY` (SEC1).
    pub fn from_pem(pem: &str, password: Option<&[u8]>) -> Result<PrivateKey, PkiError> {
        crate::check_size(pem.as_bytes())?;
        let blocks = pem_blocks(pem.as_bytes())?;
        let block = blocks
            .iter()
            .find(|b| is_key_label(b.label()))
            .ok_or_else(|| PkiError::BadKey {
                reason: "no PRIVATE KEY block in the PEM text".to_owned(),
            })?;
        Self::from_pem_block(block, password)
    }

    /// Decode one PEM block already known to carry a key.
    pub(crate) fn from_pem_block(
        block: &PemBlock,
        password: Option<&[u8]>,
    ) -> Result<PrivateKey, PkiError> {
        let contents = block.contents();
        if block.pem.headers().get("DEK-Info").is_some() {
            return Err(PkiError::BadKey {
                reason: "legacy OpenSSL PEM encryption (DEK-Info) is not supported; convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in key.pem`".to_owned(),
            });
        }
        match block.label() {
            "PRIVATE KEY" => Self::from_pkcs8_der(contents),
            "ENCRYPTED PRIVATE KEY" => {
                let password = password.ok_or(PkiError::PasswordRequired)?;
                let info = pkcs8::EncryptedPrivateKeyInfo::try_from(contents).map_err(|e| {
                    PkiError::BadKey {
                        reason: format!("not an encrypted PKCS#8 key: {e}"),
                    }
                })?;
                check_kdf_cost(&info.encryption_algorithm)?;
                let plain = info
                    .decrypt(password)
                    .map_err(|_| PkiError::WrongPassword {
                        what: "encrypted private key",
                    })?;
                Self::from_pkcs8_der(plain.as_bytes())
            }
            "RSA PRIVATE KEY" => {
                let bits = asn1::rsa_modulus_bits(contents).ok_or_else(|| PkiError::BadKey {
                    reason: "the RSA PRIVATE KEY block is not a PKCS#1 key".to_owned(),
                })?;
                rsa_spec(bits)?;
                let pair =
                    aws_lc_rs::rsa::KeyPair::from_der(contents).map_err(|e| PkiError::BadKey {
                        reason: format!("invalid PKCS#1 RSA key: {e}"),
                    })?;
                let doc: aws_lc_rs::encoding::Pkcs8V1Der<'static> = pair
                    .as_der()
                    .map_err(|e| PkiError::crypto("RSA key encoding", e))?;
                Self::from_pkcs8_der(doc.as_ref())
            }
            "EC PRIVATE KEY" => {
                let p256 = || {
                    EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_ASN1_SIGNING, contents)
                };
                let p384 = || {
                    EcdsaKeyPair::from_private_key_der(&ECDSA_P384_SHA384_ASN1_SIGNING, contents)
                };
                let pair = match asn1::sec1_curve(contents) {
                    Some(curve) if curve == asn1::OID_P256 => p256(),
                    Some(curve) if curve == asn1::OID_P384 => p384(),
                    Some(curve) if curve == asn1::OID_P521 => {
                        return Err(unsupported("ECDSA P-521"));
                    }
                    Some(curve) => return Err(unsupported(&format!("ECDSA on curve {curve}"))),
                    None => p256().or_else(|_| p384()),
                }
                .map_err(|e| PkiError::BadKey {
                    reason: format!("invalid EC PRIVATE KEY: {e}"),
                })?;
                let doc = pair
                    .to_pkcs8v1()
                    .map_err(|e| PkiError::crypto("EC key encoding", e))?;
                Self::from_pkcs8_der(doc.as_ref())
            }
            other => Err(PkiError::BadKey {
                reason: format!("a '{other}' block is not a private key"),
            }),
        }
    }

    /// The algorithm and size of this key.
    pub fn spec(&self) -> KeySpec {
        self.spec
    }

    /// The key as unencrypted PKCS#8 DER, for storage (handle with care).
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.der
    }

    /// The key as a `PRIVATE KEY` PEM block, for writing key files.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        let block = pem::Pem::new("PRIVATE KEY", self.der.to_vec());
        let text = Zeroizing::new(pem::encode_config(&block, pem_config()));
        let mut contents = block.into_contents();
        contents.zeroize();
        text
    }

    /// The public half as SubjectPublicKeyInfo DER, to compare with certificates.
    pub fn public_key_der(&self) -> Vec<u8> {
        self.spki.clone()
    }

    /// An rcgen key pair for signing certificates and CSRs.
    pub(crate) fn key_pair(&self) -> Result<rcgen::KeyPair, PkiError> {
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &PrivatePkcs8KeyDer::from(self.der.as_slice()),
            signature_algorithm(self.spec),
        )
        .map_err(|e| PkiError::crypto("loading the signing key", e))
    }
}

/// Whether a PEM label names a private key form that [`PrivateKey`] reads.
pub(crate) fn is_key_label(label: &str) -> bool {
    matches!(
        label,
        "PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY"
    )
}

/// The PEM line ending and width used for everything this crate writes.
pub(crate) fn pem_config() -> pem::EncodeConfig {
    pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF)
}

/// The signature algorithm certmgr uses with a key of the given spec.
pub(crate) fn signature_algorithm(spec: KeySpec) -> &'static SignatureAlgorithm {
    match spec {
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => &rcgen::PKCS_RSA_SHA256,
        KeySpec::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeySpec::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
    }
}

/// The spec of an RSA key with a modulus of `bits` bits.
pub(crate) fn rsa_spec(bits: usize) -> Result<KeySpec, PkiError> {
    match bits {
        2048 => Ok(KeySpec::Rsa2048),
        3072 => Ok(KeySpec::Rsa3072),
        4096 => Ok(KeySpec::Rsa4096),
        other => Err(unsupported(&format!("RSA-{other}"))),
    }
}

fn unsupported(what: &str) -> PkiError {
    PkiError::UnsupportedKey {
        what: what.to_owned(),
    }
}

/// Largest scrypt memory (128 · r · N bytes) an encrypted key may ask for.
/// OpenSSL's default limit is 32 MiB; 256 MiB leaves room for keys made
/// with deliberately high costs while a crafted file cannot exhaust memory.
pub const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;
/// Largest scrypt work (128 · r · N · p bytes hashed): a few seconds.
pub const MAX_SCRYPT_WORK: u64 = 1024 * 1024 * 1024;
/// Largest PBKDF2 iteration count: about ten seconds of SHA-256 on one core
/// (OpenSSL 3 defaults to 2048; OWASP recommends 600,000).
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// Refuses key-derivation parameters that would exhaust memory or run for
/// minutes, before anything is derived: the encrypted key file chooses its own
/// cost, so a crafted file could otherwise abort the process or stall it.
fn check_kdf_cost(scheme: &pkcs8::pkcs5::EncryptionScheme<'_>) -> Result<(), PkiError> {
    let Some(pbes2) = scheme.pbes2() else {
        // PBES1 (PKCS#5 v1.5) has a 16-bit iteration count: always cheap.
        return Ok(());
    };
    if let Some(p) = pbes2.kdf.pbkdf2()
        && p.iteration_count > MAX_PBKDF2_ITERATIONS
    {
        return Err(PkiError::KdfTooCostly {
            asked: format!("{} PBKDF2 iterations", p.iteration_count),
            limit: format!("{MAX_PBKDF2_ITERATIONS} iterations"),
        });
    }
    if let Some(s) = pbes2.kdf.scrypt() {
        let n = s.cost_parameter;
        let r = u64::from(s.block_size);
        let p = u64::from(s.parallelization);
        let memory = n.saturating_mul(r).saturating_mul(128);
        if memory > MAX_SCRYPT_MEMORY {
            return Err(PkiError::KdfTooCostly {
                asked: format!("{} MiB of scrypt memory (N={n}, r={r})", memory >> 20),
                limit: format!("{} MiB", MAX_SCRYPT_MEMORY >> 20),
            });
        }
        let work = memory.saturating_mul(p);
        if work > MAX_SCRYPT_WORK {
            return Err(PkiError::KdfTooCostly {
                asked: format!("scrypt parallelization p={p} with N={n}, r={r}"),
                limit: format!("{} MiB hashed in all", MAX_SCRYPT_WORK >> 20),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn generates_every_spec_and_round_trips() {
        for spec in KeySpec::ALL {
            let key = PrivateKey::generate(spec).unwrap();
            assert_eq!(key.spec(), spec);
            let again = PrivateKey::from_pkcs8_der(key.pkcs8_der()).unwrap();
            assert_eq!(again.spec(), spec);
            assert_eq!(again.public_key_der(), key.public_key_der());
            let pem = key.to_pkcs8_pem();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
            let from_pem = PrivateKey::from_pem(&pem, None).unwrap();
            assert_eq!(from_pem.pkcs8_der(), key.pkcs8_der());
        }
    }

    #[test]
    fn debug_never_shows_key_material() {
        let key = PrivateKey::generate(KeySpec::EcdsaP256).unwrap();
        let text = format!("{key:?}");
        assert_eq!(text, "PrivateKey { spec: EcdsaP256, .. }");
    }

    #[test]
    fn refuses_garbage_and_unknown_sizes() {
        assert!(matches!(
            PrivateKey::from_pkcs8_der(b"garbage"),
            Err(PkiError::BadKey { .. })
        ));
        assert!(matches!(
            rsa_spec(1024),
            Err(PkiError::UnsupportedKey { .. })
        ));
        let err = rsa_spec(1024).unwrap_err().to_string();
        assert!(err.contains("RSA-1024"), "{err}");
    }

    #[test]
    fn refuses_ed25519() {
        let doc =
            aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let err = PrivateKey::from_pkcs8_der(doc.as_ref()).unwrap_err();
        assert!(matches!(err, PkiError::UnsupportedKey { .. }));
        assert!(err.to_string().contains("Ed25519"), "{err}");
    }

    /// An encrypted PKCS#8 PEM whose KDF is `kdf` (the ciphertext is junk:
    /// the check must refuse before anything is derived or decrypted).
    fn encrypted_with(kdf: pkcs8::pkcs5::pbes2::Kdf<'_>) -> String {
        use pkcs8::der::Encode;
        let iv = [7u8; 16];
        let params = pkcs8::pkcs5::pbes2::Parameters {
            kdf,
            encryption: pkcs8::pkcs5::pbes2::EncryptionScheme::Aes256Cbc { iv: &iv },
        };
        let info = pkcs8::EncryptedPrivateKeyInfo {
            encryption_algorithm: params.into(),
            encrypted_data: &[0u8; 64],
        };
        let der = info.to_der().unwrap();
        pem::encode(&pem::Pem::new("ENCRYPTED PRIVATE KEY", der))
    }

    #[test]
    fn refuses_huge_scrypt_memory_before_deriving() {
        let salt = [1u8; 16];
        let kdf = pkcs8::pkcs5::pbes2::ScryptParams {
            salt: &salt,
            cost_parameter: 1 << 30,
            block_size: 8,
            parallelization: 1,
            key_length: Some(32),
        };
        let started = std::time::Instant::now();
        let err = PrivateKey::from_pem(&encrypted_with(kdf.into()), Some(b"pw")).unwrap_err();
        assert!(matches!(err, PkiError::KdfTooCostly { .. }), "{err}");
        assert!(
            err.to_string().contains("1048576 MiB of scrypt memory"),
            "{err}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn refuses_scrypt_parallelization_that_multiplies_the_work() {
        let salt = [1u8; 16];
        let kdf = pkcs8::pkcs5::pbes2::ScryptParams {
            salt: &salt,
            cost_parameter: 1 << 14,
            block_size: 8,
            parallelization: 60_000,
            key_length: Some(32),
        };
        let err = PrivateKey::from_pem(&encrypted_with(kdf.into()), Some(b"pw")).unwrap_err();
        assert!(err.to_string().contains("p=60000"), "{err}");
    }

    #[test]
    fn refuses_billions_of_pbkdf2_iterations_before_deriving() {
        let salt = [1u8; 16];
        // The constructor refuses this count; a file can still carry it.
        let kdf = pkcs8::pkcs5::pbes2::Pbkdf2Params {
            salt: &salt,
            iteration_count: 4_000_000_000,
            key_length: None,
            prf: pkcs8::pkcs5::pbes2::Pbkdf2Prf::HmacWithSha256,
        };
        let started = std::time::Instant::now();
        let err = PrivateKey::from_pem(&encrypted_with(kdf.into()), Some(b"pw")).unwrap_err();
        assert!(
            err.to_string().contains("4000000000 PBKDF2 iterations"),
            "{err}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn ordinary_costs_pass_the_check() {
        let salt = [1u8; 16];
        let kdf = pkcs8::pkcs5::pbes2::Pbkdf2Params::hmac_with_sha256(600_000, &salt).unwrap();
        // Passes the cost check, then fails on the junk ciphertext.
        let err = PrivateKey::from_pem(&encrypted_with(kdf.into()), Some(b"pw")).unwrap_err();
        assert!(matches!(err, PkiError::WrongPassword { .. }), "{err}");
    }
}
