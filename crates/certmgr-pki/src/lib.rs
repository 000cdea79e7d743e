//! Public-key infrastructure for certmgr: keys, CSRs, the MicroCA, chain
//! building and verification, and PEM / PKCS#12 import and export.
//!
//! Everything here works on DER bytes and [`PrivateKey`]s so that the store and
//! the CLI never touch ASN.1 themselves. Inputs from users are size-limited
//! ([`MAX_INPUT_LEN`]) and every failure is a [`PkiError`] whose message says
//! what went wrong and what to do about it.

mod asn1;
mod ca;
mod chain;
mod csr;
mod error;
mod import;
mod info;
mod key;
mod pkcs12;

pub use ca::{CaMaterial, CaOptions, LeafOptions, create_ca, issue_leaf};
pub use certmgr_core::{Hostname, KeySpec};
pub use chain::{ChainOptions, TrustAnchors, VerifiedChain, build_chain, find_leaf, key_matches};
pub use csr::create_csr;
pub use error::PkiError;
pub use import::{Bundle, certs_to_pem, read_certificates, read_pem_bundle};
pub use info::{CertificateInfo, certificate_info};
pub use key::PrivateKey;
pub use pkcs12::{read_pkcs12, write_pkcs12};

/// The largest input (certificate, key, bundle or PKCS#12 file) accepted, 1 MiB.
///
/// Real certificate material is a few kilobytes; anything bigger is almost
/// certainly the wrong file, and refusing it early bounds parsing work.
pub const MAX_INPUT_LEN: usize = 1024 * 1024;

/// Refuse inputs larger than [`MAX_INPUT_LEN`].
pub(crate) fn check_size(data: &[u8]) -> Result<(), PkiError> {
    if data.len() > MAX_INPUT_LEN {
        Err(PkiError::TooLarge { size: data.len() })
    } else {
        Ok(())
    }
}
