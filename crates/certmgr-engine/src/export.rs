//! Exporting keys: the one way a private key leaves the store in the clear,
//! and always with an event saying where it went.
//!
//! [`open`] checks and unseals the keys into an [`Export`]; the front end
//! writes them where asked (files, a response) and then calls
//! [`Export::record`], which writes the audit event.

use certmgr_core::KeyFamily;
use certmgr_pki::PrivateKey;
use certmgr_store::{CertificateRecord, CredentialRecord};

use crate::Engine;
use crate::error::{EngineError, EngineResult};

/// One key of the current version, unsealed, with its certificate.
pub struct ExportedKey {
    /// RSA or ECDSA.
    pub family: KeyFamily,
    /// The private key.
    pub key: PrivateKey,
    /// Its certificate and chain.
    pub certificate: CertificateRecord,
}

/// Keys unsealed for export; [`Export::record`] audits where they went.
#[must_use = "an export must be recorded once its keys are written"]
pub struct Export {
    /// The credential exported.
    pub credential: CredentialRecord,
    /// Its keys, each with a certificate.
    pub keys: Vec<ExportedKey>,
}

/// Unseal the current keys of the credential `name` (or the one of
/// `family`), each of which must have its certificate.
pub async fn open(
    engine: &Engine<'_>,
    name: &str,
    family: Option<KeyFamily>,
) -> EngineResult<Export> {
    let store = engine.store();
    let credential = store.credential(name).await?;
    let versions: Vec<_> = store
        .key_versions(&credential, None)
        .await?
        .into_iter()
        .filter(|k| family.is_none_or(|f| f == k.family))
        .collect();
    if versions.is_empty() {
        return Err(EngineError::bad_input(match family {
            Some(f) => format!("credential {:?} has no {f} key", credential.name),
            None => format!(
                "credential {:?} has no key yet: issue or import it first",
                credential.name
            ),
        }));
    }
    let mut keys = Vec::with_capacity(versions.len());
    for version in &versions {
        let Some(certificate) = version.certificate.clone() else {
            return Err(EngineError::bad_input(format!(
                "the {} key of {:?} has no certificate yet: import the signed certificate first",
                version.family, credential.name
            )));
        };
        // The store's own sealed key failing to load is a failure.
        let key = PrivateKey::from_pkcs8_der(&store.unseal_key(version)?)
            .map_err(|e| EngineError::failed(e.to_string()))?;
        keys.push(ExportedKey {
            family: version.family,
            key,
            certificate,
        });
    }
    Ok(Export { credential, keys })
}

impl Export {
    /// Record where the keys went (an `exported` event on the credential).
    pub async fn record(self, engine: &Engine<'_>, description: &str) -> EngineResult<()> {
        engine
            .store()
            .record_event(&self.credential, "exported", description)
            .await?;
        Ok(())
    }
}
