//! Exporting keys: the one way a private key leaves the store in the clear,
//! and always with an event saying where it went.
//!
//! [`open`] checks and unseals the keys into an [`Export`]; the front end
//! writes them where asked (files, a response) and then calls
//! [`Export::record`], which writes the audit event.

use certmgr_core::KeyFamily;
use certmgr_pki::{PrivateKey, certs_to_pem, write_pkcs12};
use certmgr_store::{CertificateRecord, CredentialRecord};
use zeroize::Zeroizing;

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

/// How the keys leave: PEM texts, or one PKCS#12 file per key.
pub enum Format {
    /// Certificate, chain, root and key as PEM.
    Pem,
    /// PKCS#12 under this password; `legacy` for the algorithms old
    /// Windows and Java read (3DES/RC2).
    Pkcs12 {
        /// The file's password.
        password: Zeroizing<String>,
        /// Legacy algorithms.
        legacy: bool,
    },
}

/// One key as it leaves: what the front end writes to files or sends.
pub struct KeyMaterial {
    /// RSA or ECDSA.
    pub family: KeyFamily,
    /// The certificate, PEM ([`Format::Pem`]).
    pub certificate_pem: Option<String>,
    /// The chain, PEM ([`Format::Pem`]).
    pub chain_pem: Option<String>,
    /// The root that anchors the chain, PEM, when known ([`Format::Pem`]).
    pub root_pem: Option<String>,
    /// The private key, PKCS#8 PEM ([`Format::Pem`]).
    pub key_pem: Option<Zeroizing<String>>,
    /// The PKCS#12 file ([`Format::Pkcs12`]).
    pub pkcs12: Option<Zeroizing<Vec<u8>>>,
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
    /// Whether the credential has two keys (file names then say which).
    pub fn dual(&self) -> bool {
        self.credential.key_specs.len() > 1
    }

    /// The keys in `format`: PEM texts, or PKCS#12 files whose friendly
    /// name is the credential's (with the family, for a dual credential).
    pub fn material(&self, format: &Format) -> EngineResult<Vec<KeyMaterial>> {
        self.keys
            .iter()
            .map(|exported| {
                let cert = &exported.certificate;
                Ok(match format {
                    Format::Pkcs12 { password, legacy } => {
                        let friendly = if self.dual() {
                            format!("{}-{}", self.credential.name, exported.family)
                        } else {
                            self.credential.name.clone()
                        };
                        let data = write_pkcs12(
                            &exported.key,
                            &cert.cert_der,
                            &cert.chain_der,
                            password,
                            &friendly,
                            *legacy,
                        )?;
                        KeyMaterial {
                            family: exported.family,
                            certificate_pem: None,
                            chain_pem: None,
                            root_pem: None,
                            key_pem: None,
                            pkcs12: Some(Zeroizing::new(data)),
                        }
                    }
                    Format::Pem => KeyMaterial {
                        family: exported.family,
                        certificate_pem: Some(certs_to_pem(std::slice::from_ref(&cert.cert_der))),
                        chain_pem: Some(certs_to_pem(&cert.chain_der)),
                        root_pem: cert
                            .root_der
                            .as_ref()
                            .map(|root| certs_to_pem(std::slice::from_ref(root))),
                        key_pem: Some(exported.key.to_pkcs8_pem()),
                        pkcs12: None,
                    },
                })
            })
            .collect()
    }

    /// Record where the keys went (an `exported` event on the credential).
    pub async fn record(self, engine: &Engine<'_>, description: &str) -> EngineResult<()> {
        engine
            .store()
            .record_event(&self.credential, "exported", description)
            .await?;
        Ok(())
    }
}
