//! Sealing secrets with the master key (AES-256-GCM).
//!
//! Every private key and secret the store keeps goes through [`MasterKey::seal`]
//! before it reaches the database. The associated data binds a ciphertext to the
//! row and field it belongs to, so a sealed value copied into another row does
//! not open there.

use std::fmt;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use crate::StoreError;

/// Format tag of a sealed value, first byte of every ciphertext.
const SEAL_FORMAT_V1: u8 = 1;
/// Length of the master key in bytes (AES-256).
pub const MASTER_KEY_LEN: usize = 32;
/// Environment variable that can carry the master key (base64), instead of a file.
pub const MASTER_KEY_ENV: &str = "CERTMGR_MASTER_KEY";

/// The key that seals every secret in the store. Never printed, zeroed on drop.
pub struct MasterKey {
    bytes: Zeroizing<[u8; MASTER_KEY_LEN]>,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    /// Make a fresh random master key.
    pub fn generate() -> Result<Self, StoreError> {
        let mut bytes = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| StoreError::Crypto("the system random generator failed"))?;
        Ok(MasterKey { bytes })
    }

    /// Parse the base64 text form used in the key file and in `CERTMGR_MASTER_KEY`.
    pub fn from_base64(text: &str) -> Result<Self, StoreError> {
        let decoded = Zeroizing::new(
            BASE64
                .decode(text.trim())
                .map_err(|_| StoreError::BadMasterKey("it is not valid base64"))?,
        );
        let array: [u8; MASTER_KEY_LEN] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::BadMasterKey("it must decode to exactly 32 bytes"))?;
        Ok(MasterKey {
            bytes: Zeroizing::new(array),
        })
    }

    /// The base64 text form, for writing the key file.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE64.encode(self.bytes.as_ref()))
    }

    /// Read a key file written by [`MasterKey::write_file`].
    pub fn read_file(path: &Path) -> Result<Self, StoreError> {
        // Like ssh with a private key: a key file others can read (or
        // replace) is refused, before it is read.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(|source| StoreError::Io {
                    path: path.display().to_string(),
                    source,
                })?
                .permissions()
                .mode()
                & 0o777;
            if mode & 0o077 != 0 {
                return Err(StoreError::KeyFilePermissions {
                    path: path.display().to_string(),
                    mode,
                });
            }
        }
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| StoreError::Io {
                    path: path.display().to_string(),
                    source,
                })?,
            );
        Self::from_base64(&text)
    }

    /// Write the key to a new file with mode 0600; refuses to overwrite.
    pub fn write_file(&self, path: &Path) -> Result<(), StoreError> {
        use std::io::Write;
        let io_err = |source| StoreError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io_err)?;
        file.write_all(self.to_base64().as_bytes())
            .map_err(io_err)?;
        file.write_all(b"\n").map_err(io_err)?;
        file.sync_all().map_err(io_err)
    }

    /// A 32-byte key for another purpose than sealing, derived from the
    /// master key as HMAC-SHA256(master key, `label`): distinct labels give
    /// independent keys, and none of them reveals the master key.
    pub(crate) fn derive(&self, label: &[u8]) -> Zeroizing<[u8; MASTER_KEY_LEN]> {
        let prf = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, self.bytes.as_ref());
        let tag = aws_lc_rs::hmac::sign(&prf, label);
        let mut out = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        // HMAC-SHA256 tags are 32 bytes, the length of `out`.
        out.copy_from_slice(tag.as_ref());
        out
    }

    fn aead_key(&self) -> Result<RandomizedNonceKey, StoreError> {
        RandomizedNonceKey::new(&AES_256_GCM, self.bytes.as_ref())
            .map_err(|_| StoreError::Crypto("cannot set up AES-256-GCM"))
    }

    /// Encrypt `plaintext`; `context` names where it will be stored (table, row, field).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>, StoreError> {
        let key = self.aead_key()?;
        let mut in_out = plaintext.to_vec();
        let nonce = key
            .seal_in_place_append_tag(Aad::from(context.as_bytes()), &mut in_out)
            .map_err(|_| StoreError::Crypto("sealing failed"))?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        sealed.push(SEAL_FORMAT_V1);
        sealed.extend_from_slice(nonce.as_ref());
        sealed.extend_from_slice(&in_out);
        // The plaintext copy is wiped here; only the ciphertext leaves.
        zeroize::Zeroize::zeroize(&mut in_out);
        Ok(sealed)
    }

    /// Decrypt a value sealed with the same key and context.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let (&format, rest) = sealed
            .split_first()
            .ok_or(StoreError::Unseal(context.to_owned()))?;
        if format != SEAL_FORMAT_V1 || rest.len() < NONCE_LEN {
            return Err(StoreError::Unseal(context.to_owned()));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| StoreError::Unseal(context.to_owned()))?;
        let mut in_out = Zeroizing::new(ciphertext.to_vec());
        let plain_len = self
            .aead_key()?
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut in_out)
            .map_err(|_| StoreError::Unseal(context.to_owned()))?
            .len();
        in_out.truncate(plain_len);
        Ok(in_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_context_binding() {
        let key = MasterKey::generate().unwrap();
        let sealed = key
            .seal(b"secret key bytes", "credential_keys/1/ecdsa")
            .unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(
            key.open(&sealed, "credential_keys/1/ecdsa")
                .unwrap()
                .as_slice(),
            b"secret key bytes"
        );
        assert!(key.open(&sealed, "credential_keys/2/ecdsa").is_err());
        let other = MasterKey::generate().unwrap();
        assert!(other.open(&sealed, "credential_keys/1/ecdsa").is_err());
    }

    #[test]
    fn base64_round_trip_and_bad_keys() {
        let key = MasterKey::generate().unwrap();
        let again = MasterKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(key.bytes.as_ref(), again.bytes.as_ref());
        assert!(MasterKey::from_base64("not base64 !!").is_err());
        assert!(MasterKey::from_base64("AAAA").is_err());
        assert_eq!(format!("{key:?}"), "MasterKey(<redacted>)");
    }

    #[test]
    fn key_file_is_private_and_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let key = MasterKey::generate().unwrap();
        key.write_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(key.write_file(&path).is_err());
        let read = MasterKey::read_file(&path).unwrap();
        assert_eq!(read.bytes.as_ref(), key.bytes.as_ref());
    }
}
