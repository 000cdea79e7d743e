//! The answers a node's responders serve: those of this process's own
//! orders (memory) first, then those any process sharing the store
//! published there, so that every node behind a load balancer answers for
//! every other. The server plugs this into the ACME crate's own HTTP-01
//! router and TLS-ALPN-01 handshake, so the responders are written once.

use std::sync::Arc;

use certmgr_acme::{
    Http01Lookup, Solvers, TlsAlpnLookup, identifier_from_sni, validation_certificate,
};
use certmgr_store::Store;
use rustls::sign::CertifiedKey;

use crate::progress::warning;

/// Memory first, the store second.
#[derive(Clone)]
pub struct NodeAnswers {
    /// This process's own answers.
    pub solvers: Solvers,
    /// The shared store.
    pub store: Arc<Store>,
}

impl Http01Lookup for NodeAnswers {
    async fn key_authorization(&self, token: &str) -> Option<String> {
        if let Some(answer) = self.solvers.http01.get(token) {
            return Some(answer);
        }
        logged(self.store.http01_answer(token).await, "HTTP-01 answer")
    }
}

impl TlsAlpnLookup for NodeAnswers {
    async fn certificate(&self, sni: &str) -> Option<Arc<CertifiedKey>> {
        if let Some(key) = self.solvers.tls_alpn01.get(sni) {
            return Some(key);
        }
        let identifier = identifier_from_sni(sni);
        let key_authorization = logged(
            self.store.tls_alpn01_answer(&identifier).await,
            "TLS-ALPN-01 answer",
        )?;
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key_authorization.as_bytes());
        validation_certificate(&identifier, digest.as_ref()).ok()
    }
}

/// A stored challenge answer, or none when the store cannot give it; the
/// reason (an unreachable database, a row that fails its integrity check) is
/// logged, since the validating CA only sees a 404 or a failed handshake.
fn logged<E: std::fmt::Display>(answer: Result<Option<String>, E>, what: &str) -> Option<String> {
    answer.unwrap_or_else(|e| {
        warning!("not answering with the stored {what}: {e}");
        None
    })
}
