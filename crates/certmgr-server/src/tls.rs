//! The API's TLS: the certificate of a credential in the store
//! ([`certmgr_engine::serving`]), swapped in without a restart when the
//! credential gets a new version (the scheduler renewed it, or someone
//! imported one): [`ServingCertificate::refresh`] runs every
//! `tls.refresh_secs` of the configuration ([`REFRESH_SECS`] by default).

use std::sync::{Arc, RwLock};

use certmgr_engine::serving::{self, ServingKey};
use certmgr_engine::{Engine, EngineError, EngineResult};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// How often the server looks for a new version of its certificate, unless
/// `tls.refresh_secs` says otherwise.
pub const REFRESH_SECS: u64 = 60;

/// The certificate the API serves, and the version it came from.
#[derive(Debug)]
pub struct ServingCertificate {
    credential: String,
    current: RwLock<(i64, Arc<CertifiedKey>)>,
}

impl ServingCertificate {
    /// Load the credential's current certificate.
    pub async fn load(engine: &Engine<'_>, credential: &str) -> EngineResult<Arc<Self>> {
        let key = serving::serving_key(engine, credential).await?;
        Ok(Arc::new(ServingCertificate {
            credential: credential.to_owned(),
            current: RwLock::new((key.version, certified(&key)?)),
        }))
    }

    /// The credential's version being served.
    pub fn version(&self) -> i64 {
        self.current.read().map_or(0, |current| current.0)
    }

    /// Load the credential again if it has a newer version; whether it did.
    pub async fn refresh(&self, engine: &Engine<'_>) -> EngineResult<bool> {
        let credential = engine.store().credential(&self.credential).await?;
        if credential.current_version == self.version() {
            return Ok(false);
        }
        let key = serving::serving_key(engine, &self.credential).await?;
        let certified = certified(&key)?;
        if let Ok(mut current) = self.current.write() {
            *current = (key.version, certified);
        }
        Ok(true)
    }

    /// A TLS configuration serving this certificate (HTTP/1.1).
    pub fn config(self: &Arc<Self>) -> EngineResult<Arc<ServerConfig>> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| EngineError::failed(format!("TLS setup: {e}")))?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

impl ResolvesServerCert for ServingCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|current| current.1.clone())
    }
}

fn certified(key: &ServingKey) -> EngineResult<Arc<CertifiedKey>> {
    let chain: Vec<CertificateDer<'static>> = key
        .chain_der
        .iter()
        .map(|der| CertificateDer::from(der.clone()))
        .collect();
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.key_der.to_vec()));
    let signing = rustls::crypto::aws_lc_rs::sign::any_supported_type(&private)
        .map_err(|e| EngineError::failed(format!("the serving key does not load: {e}")))?;
    Ok(Arc::new(CertifiedKey::new(chain, signing)))
}
