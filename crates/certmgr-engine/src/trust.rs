//! The trust store: roots and intermediates certmgr completes and verifies
//! chains with, besides the system's roots and the MicroCAs'.

use certmgr_pki::{certificate_info, read_certificates};
use certmgr_store::TrustAnchorRecord;

use crate::Engine;
use crate::error::{EngineError, EngineResult};

/// One certificate of a trust-add, and whether it was new.
#[derive(Debug, Clone)]
pub struct Added {
    /// The anchor.
    pub anchor: TrustAnchorRecord,
    /// False when it was trusted already.
    pub new: bool,
}

/// Trust every certificate of `data` (PEM or DER). Every one is checked
/// (parsed, a CA) before any is stored: a bad file adds nothing.
pub async fn add(engine: &Engine<'_>, data: &[u8]) -> EngineResult<Vec<Added>> {
    let certs = read_certificates(data)?;
    let mut anchors = Vec::with_capacity(certs.len());
    for der in certs {
        let info = certificate_info(&der)?;
        if !info.is_ca {
            return Err(EngineError::bad_input(format!(
                "{:?} is not a CA certificate; only roots and intermediates can be trusted",
                info.subject
            )));
        }
        anchors.push(TrustAnchorRecord {
            fingerprint: info.sha256_fingerprint,
            subject: info.subject,
            der,
            is_root: info.self_signed,
            not_after: info.not_after.unix_timestamp(),
            added_at: 0,
        });
    }
    let mut added = Vec::with_capacity(anchors.len());
    for anchor in anchors {
        let new = engine.store().add_trust_anchor(&anchor).await?;
        added.push(Added { anchor, new });
    }
    Ok(added)
}
