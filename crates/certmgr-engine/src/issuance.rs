//! Issuing a credential however its issuer works, and the manual flow's
//! first half: keys and CSRs for an outside CA.

use certmgr_core::{IssuerRef, KeySpec};
use certmgr_pki::{PrivateKey, create_csr};
use certmgr_store::{NewKeyVersion, VersionSource};

use crate::Engine;
use crate::error::{EngineError, EngineResult, Hint};
use crate::records::pending_outcome;
use crate::responders::AnswerOptions;

/// Issue the credential named `name` now: from its MicroCA, or by ACME
/// answering challenges as `options` say. Returns the new version.
pub async fn issue(engine: &Engine<'_>, name: &str, options: &AnswerOptions) -> EngineResult<i64> {
    let credential = engine.store().credential(name).await?;
    let issued = match &credential.issuer {
        IssuerRef::MicroCa(_) => crate::microca::issue(engine, &credential).await,
        IssuerRef::Acme(_) => crate::acme::issue(engine, &credential, options).await,
        IssuerRef::Manual => Err(EngineError::bad_input_hint(
            format!("credential {name:?} uses the manual flow"),
            Hint::ManualFlow(name.to_owned()),
        )),
        IssuerRef::Import => Err(EngineError::bad_input_hint(
            format!("credential {name:?} is imported"),
            Hint::ImportFlow(name.to_owned()),
        )),
    };
    if issued.is_err()
        && matches!(
            credential.issuer,
            IssuerRef::MicroCa(_) | IssuerRef::Acme(_)
        )
    {
        crate::telemetry::count_failure(&credential);
    }
    issued
}

/// The CSRs of the manual flow, one per key.
#[derive(Debug)]
pub struct Csrs {
    /// One PEM CSR per key, with the key's spec.
    pub csrs: Vec<(KeySpec, String)>,
    /// Whether the keys are those of a CSR already out (asked twice).
    pub reused_key: bool,
}

/// Make a key per key spec and a CSR for each, stored as a version waiting
/// for its certificates. A CSR already out (keys without certificates) is
/// made again from the same keys, so asking twice does not orphan the key
/// the CA is signing.
pub async fn csr(engine: &Engine<'_>, name: &str) -> EngineResult<Csrs> {
    let store = engine.store();
    let credential = store.credential(name).await?;
    if matches!(
        credential.issuer,
        IssuerRef::MicroCa(_) | IssuerRef::Acme(_)
    ) {
        return Err(EngineError::bad_input_hint(
            format!(
                "credential {:?} is issued by {}",
                credential.name, credential.issuer
            ),
            Hint::IssueInstead(credential.name.clone()),
        ));
    }
    let current = store.key_versions(&credential, None).await?;
    let waiting = !current.is_empty() && current.iter().all(|k| k.certificate.is_none());
    let keys: Vec<PrivateKey> = if waiting {
        current
            .iter()
            .map(|k| {
                let der = store.unseal_key(k)?;
                Ok(PrivateKey::from_pkcs8_der(&der)?)
            })
            .collect::<EngineResult<_>>()?
    } else {
        credential
            .key_specs
            .iter()
            .map(|spec| Ok(PrivateKey::generate(*spec)?))
            .collect::<EngineResult<_>>()?
    };
    let mut csrs = Vec::with_capacity(keys.len());
    for key in &keys {
        csrs.push((key.spec(), create_csr(key, &credential.hostnames)?));
    }
    if !waiting {
        let new_keys: Vec<NewKeyVersion<'_>> = keys
            .iter()
            .map(|key| NewKeyVersion {
                spec: key.spec(),
                pkcs8_der: key.pkcs8_der(),
                certificate: None,
            })
            .collect();
        store
            .add_version(
                &credential,
                VersionSource::Csr,
                &new_keys,
                &pending_outcome(),
                (
                    "csr-created",
                    "new key made and CSR written; waiting for the signed certificate",
                ),
            )
            .await?;
    }
    Ok(Csrs {
        csrs,
        reused_key: waiting,
    })
}
