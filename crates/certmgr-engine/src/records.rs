//! What the store records about certificates, made from verified chains,
//! and the trust anchors chains are verified against.

use certmgr_core::{Health, Status};
use certmgr_pki::{TrustAnchors, VerifiedChain, certificate_info};
use certmgr_store::{CertificateRecord, Outcome, Store};

use crate::error::EngineResult;

/// Everything certmgr trusts when it completes and verifies a chain: the
/// system roots, the imported anchors and the roots of every MicroCA.
pub async fn trust_anchors(store: &Store) -> EngineResult<TrustAnchors> {
    let mut anchors = TrustAnchors::with_system_roots();
    for anchor in store.trust_anchors().await? {
        anchors.add_der(anchor.der)?;
    }
    for ca in store.list_cas().await? {
        anchors.add_der(ca.root_der)?;
    }
    Ok(anchors)
}

/// The store's record of a verified chain.
pub fn certificate_record(chain: &VerifiedChain) -> EngineResult<CertificateRecord> {
    let info = certificate_info(&chain.leaf)?;
    Ok(CertificateRecord {
        cert_der: chain.leaf.clone(),
        chain_der: chain.intermediates.clone(),
        root_der: chain.root.clone(),
        serial: info.serial_hex,
        fingerprint: info.sha256_fingerprint,
        not_before: info.not_before.unix_timestamp(),
        not_after: info.not_after.unix_timestamp(),
    })
}

/// The status a credential has at `now` once these certificates are current.
pub fn outcome_for(certificates: &[&CertificateRecord], now: i64) -> Outcome {
    let expired = certificates
        .iter()
        .any(|c| c.not_after <= now || c.not_before > now);
    if expired {
        Outcome {
            status: Status::Expired,
            health: Health::Error,
            last_error: Some("a current certificate is expired or not yet valid".into()),
        }
    } else {
        Outcome {
            status: Status::Valid,
            health: Health::Ok,
            last_error: None,
        }
    }
}

/// The outcome of a version whose keys still wait for certificates.
pub fn pending_outcome() -> Outcome {
    Outcome {
        status: Status::Pending,
        health: Health::Ok,
        last_error: None,
    }
}
