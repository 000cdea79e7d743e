//! The manager's own TLS: the certificate it serves its API with is a
//! credential like any other (renewed by the scheduler), issued on first
//! start by the default MicroCA, or a named credential (an ACME one, for a
//! manager reachable from browsers that trust a public CA).

use certmgr_core::{IssuerRef, KeySpec};
use certmgr_store::StoreError;
use zeroize::Zeroizing;

use crate::Engine;
use crate::credential::CredentialRequest;
use crate::error::{EngineError, EngineResult};
use crate::microca::NewMicroCa;
use crate::progress::step;

/// The credential the manager serves its API with, unless told otherwise.
pub const SERVER_CREDENTIAL: &str = "certmgr-server";

/// The MicroCA that issues it on first start.
pub const DEFAULT_CA: &str = "default";

/// What the first start made.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Prepared {
    /// The default MicroCA was created.
    pub ca_created: bool,
    /// The server's credential was created and issued.
    pub credential_issued: bool,
}

/// Make sure the credential `name` exists and has a certificate. When it is
/// [`SERVER_CREDENTIAL`] and missing, it is created for `hostnames` and
/// issued by the MicroCA [`DEFAULT_CA`] (created too when missing). Any
/// other name must already exist: it is the user's choice of certificate.
pub async fn prepare(
    engine: &Engine<'_>,
    name: &str,
    hostnames: &[String],
) -> EngineResult<Prepared> {
    let store = engine.store();
    let mut prepared = Prepared::default();
    let credential = match store.credential(name).await {
        Ok(credential) => credential,
        Err(StoreError::NotFound { .. }) if name == SERVER_CREDENTIAL => {
            if let Err(StoreError::NotFound { .. }) = store.ca(DEFAULT_CA).await {
                crate::microca::create_ca(
                    engine,
                    &NewMicroCa {
                        name: DEFAULT_CA.into(),
                        key: KeySpec::EcdsaP256,
                        validity_days: 3650,
                        intermediate: true,
                        common_name: None,
                        organization: None,
                    },
                )
                .await?;
                step!("MicroCA {DEFAULT_CA:?} created");
                prepared.ca_created = true;
            }
            let request = CredentialRequest {
                name: name.into(),
                hosts: hostnames.to_vec(),
                issuer: IssuerRef::MicroCa(DEFAULT_CA.into()).to_string(),
                ..CredentialRequest::default()
            };
            crate::credential::create(engine, &request.parse()?).await?
        }
        Err(StoreError::NotFound { .. }) => {
            return Err(EngineError::bad_input(format!(
                "no credential named {name:?} to serve the API with: create and issue it first, or use {SERVER_CREDENTIAL:?}"
            )));
        }
        Err(error) => return Err(error.into()),
    };
    if credential.not_after.is_none() {
        match &credential.issuer {
            IssuerRef::MicroCa(_) => {
                crate::microca::issue(engine, &credential).await?;
                step!("credential {name:?} issued for {}", hostnames.join(", "));
                prepared.credential_issued = true;
            }
            _ => {
                return Err(EngineError::bad_input(format!(
                    "credential {name:?} has no certificate yet: issue or import it before serving the API with it"
                )));
            }
        }
    }
    Ok(prepared)
}

/// The current certificate chain and key of a credential, for this process
/// to serve. The key is unsealed into this process only (it never leaves it,
/// so it is not an export).
pub struct ServingKey {
    /// The credential's version they belong to.
    pub version: i64,
    /// The leaf, then its intermediates, DER.
    pub chain_der: Vec<Vec<u8>>,
    /// The private key, PKCS#8 DER.
    pub key_der: Zeroizing<Vec<u8>>,
}

/// The key to serve of credential `name`: its current version's ECDSA key
/// when it has one (smaller handshakes), else its RSA key.
pub async fn serving_key(engine: &Engine<'_>, name: &str) -> EngineResult<ServingKey> {
    let store = engine.store();
    let credential = store.credential(name).await?;
    let versions = store.key_versions(&credential, None).await?;
    let version = versions
        .iter()
        .filter(|k| k.certificate.is_some())
        .max_by_key(|k| k.family == certmgr_core::KeyFamily::Ecdsa)
        .ok_or_else(|| {
            EngineError::bad_input(format!(
                "credential {name:?} has no certificate to serve: issue or import it"
            ))
        })?;
    let Some(certificate) = &version.certificate else {
        return Err(EngineError::failed("a key version lost its certificate"));
    };
    let mut chain_der = vec![certificate.cert_der.clone()];
    chain_der.extend(certificate.chain_der.iter().cloned());
    Ok(ServingKey {
        version: credential.current_version,
        chain_der,
        key_der: store.unseal_key(version)?,
    })
}
