//! MicroCAs: creating one, and issuing a credential's certificates from it.

use certmgr_core::{IssuerRef, KeySpec};
use certmgr_pki::{
    CaOptions, ChainOptions, LeafOptions, PrivateKey, TrustAnchors, build_chain, certificate_info,
    create_ca as make_ca, issue_leaf,
};
use certmgr_store::{CaRecord, CredentialRecord, NewCa, NewKeyVersion, StoreError, VersionSource};

use crate::Engine;
use crate::error::{EngineError, EngineResult};
use crate::records::{certificate_record, outcome_for};

/// Validity of MicroCA leaves when the credential sets none.
pub const DEFAULT_LEAF_VALIDITY_DAYS: u32 = 90;

/// What a new MicroCA is to be.
#[derive(Debug, Clone)]
pub struct NewMicroCa {
    /// Its name.
    pub name: String,
    /// Its key.
    pub key: KeySpec,
    /// Validity of the root, in days (1 to 3650).
    pub validity_days: u32,
    /// Whether leaves are signed by an intermediate under the root.
    pub intermediate: bool,
    /// The root's common name (default `certmgr MicroCA NAME`).
    pub common_name: Option<String>,
    /// The root's organization.
    pub organization: Option<String>,
}

/// Make the CA material and store it.
pub async fn create_ca(engine: &Engine<'_>, new: &NewMicroCa) -> EngineResult<CaRecord> {
    certmgr_core::validate_name(&new.name)?;
    crate::credential::check_validity_days(new.validity_days)?;
    let store = engine.store();
    let name = &new.name;
    // Fail on a taken name before spending time on key generation.
    match store.ca(name).await {
        Ok(_) => {
            return Err(EngineError::Field(crate::error::FieldError {
                field: crate::error::Field::Name,
                source: Box::new(EngineError::bad_input(format!(
                    "a CA named {name:?} already exists: pick another name"
                ))),
            }));
        }
        Err(StoreError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let material = make_ca(&CaOptions {
        common_name: new
            .common_name
            .clone()
            .unwrap_or_else(|| format!("certmgr MicroCA {name}")),
        organization: new.organization.clone(),
        key: new.key,
        validity_days: new.validity_days,
        intermediate: new.intermediate,
    })?;
    let not_after = certificate_info(&material.root_der)?
        .not_after
        .unix_timestamp();
    Ok(store
        .create_ca(&NewCa {
            name: name.clone(),
            key_spec: new.key,
            root_der: material.root_der.clone(),
            root_key: material.root_key.pkcs8_der(),
            intermediate: material
                .intermediate
                .as_ref()
                .map(|(der, key)| (der.clone(), key.pkcs8_der())),
            not_after,
        })
        .await?)
}

/// Generate a key per key spec, have the MicroCA sign a leaf for each,
/// verify the chains and store them as one new version.
pub async fn issue(engine: &Engine<'_>, credential: &CredentialRecord) -> EngineResult<i64> {
    let store = engine.store();
    let IssuerRef::MicroCa(ca_name) = &credential.issuer else {
        return Err(EngineError::bad_input(
            "the credential is not issued by a MicroCA",
        ));
    };
    let ca = store.ca(ca_name).await?;
    let (issuer_der, issuer_key) = store.unseal_ca_issuer(&ca)?;
    // The CA's own material failing to load is a failure, not the caller's input.
    let issuer_key =
        PrivateKey::from_pkcs8_der(&issuer_key).map_err(|e| EngineError::failed(e.to_string()))?;
    let options = LeafOptions {
        validity_days: credential
            .validity_days
            .unwrap_or(DEFAULT_LEAF_VALIDITY_DAYS),
    };
    // The chain of a MicroCA leaf ends at that CA's root: verify against it
    // alone (loading the system roots would cost more than the issuance).
    let mut anchors = TrustAnchors::new();
    anchors.add_der(ca.root_der.clone())?;
    let chain_options = ChainOptions {
        allow_expired: false,
        trust_bundle_root: false,
        now: engine.clock().now(),
    };
    let intermediates: Vec<Vec<u8>> = if ca.intermediate_der.is_some() {
        vec![issuer_der.clone()]
    } else {
        Vec::new()
    };
    let mut keys = Vec::with_capacity(credential.key_specs.len());
    let mut records = Vec::with_capacity(credential.key_specs.len());
    for spec in &credential.key_specs {
        let key = PrivateKey::generate(*spec)?;
        let leaf = issue_leaf(
            &issuer_der,
            &issuer_key,
            &key,
            &credential.hostnames,
            &options,
        )?;
        // What our own CA signed must verify; if it does not, that is a failure.
        let chain = build_chain(&leaf, &intermediates, &anchors, &chain_options)
            .map_err(EngineError::ca_certificate)?;
        records.push(certificate_record(&chain)?);
        keys.push(key);
    }
    let new_keys: Vec<NewKeyVersion<'_>> = keys
        .iter()
        .zip(records)
        .map(|(key, record)| NewKeyVersion {
            spec: key.spec(),
            pkcs8_der: key.pkcs8_der(),
            certificate: Some(record),
        })
        .collect();
    let outcome = outcome_for(
        &new_keys
            .iter()
            .filter_map(|k| k.certificate.as_ref())
            .collect::<Vec<_>>(),
        engine.now(),
    );
    let serials: Vec<String> = new_keys
        .iter()
        .filter_map(|k| k.certificate.as_ref())
        .map(|c| c.serial.clone())
        .collect();
    let version = store
        .add_version(
            credential,
            VersionSource::MicroCa,
            &new_keys,
            &outcome,
            (
                "issued",
                &format!(
                    "issued by MicroCA {ca_name:?}, valid {} days, serial {}",
                    options.validity_days,
                    serials.join(", ")
                ),
            ),
        )
        .await?;
    Ok(version)
}
