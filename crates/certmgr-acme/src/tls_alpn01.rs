//! The built-in TLS-ALPN-01 responder (RFC 8737): during validation it presents,
//! for the name in the SNI, a self-signed certificate carrying the
//! `acmeIdentifier` extension with the SHA-256 of the key authorization, on a
//! connection that negotiated ALPN `acme-tls/1`. Connections are bounded by
//! [`crate::listener`] (handshake timeout, connection caps).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};

use rcgen::{CertificateParams, CustomExtension, KeyPair, SanType};
use rustls::ServerConfig;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::ClientHello;
use rustls::sign::CertifiedKey;
use tokio::task::JoinHandle;
use tokio_rustls::LazyConfigAcceptor;

use crate::AcmeError;
use crate::listener::{self, ListenerLimits};

/// The ALPN protocol name of RFC 8737.
const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// Where a TLS-ALPN-01 responder finds the validation certificate for an
/// SNI name: this process's memory ([`TlsAlpnCertificates`]), or more (a
/// server that also builds one from an answer published in its store).
pub trait TlsAlpnLookup: Clone + Send + Sync + 'static {
    /// The validation certificate for `sni`, if this responder answers it.
    fn certificate(&self, sni: &str) -> impl Future<Output = Option<Arc<CertifiedKey>>> + Send;
}

impl TlsAlpnLookup for TlsAlpnCertificates {
    async fn certificate(&self, sni: &str) -> Option<Arc<CertifiedKey>> {
        self.get(sni)
    }
}

/// Whether a ClientHello asks for a TLS-ALPN-01 validation (offers `acme-tls/1`).
pub fn wants_validation(hello: &ClientHello<'_>) -> bool {
    hello
        .alpn()
        .is_some_and(|mut protocols| protocols.any(|p| p == ACME_TLS_ALPN))
}

/// The TLS configuration of one validation handshake: the validation
/// certificate `lookup` has for `sni`, and ALPN `acme-tls/1` only.
pub async fn validation_config<L: TlsAlpnLookup>(
    lookup: &L,
    sni: &str,
) -> Option<Arc<ServerConfig>> {
    let key = lookup.certificate(sni).await?;
    single_certificate_config(key, &[ACME_TLS_ALPN]).ok()
}

/// A server configuration presenting one certificate to every client, with
/// these ALPN protocols.
pub fn single_certificate_config(
    key: Arc<CertifiedKey>,
    alpn: &[&[u8]],
) -> Result<Arc<ServerConfig>, AcmeError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AcmeError::BadInput(format!("TLS setup: {e}")))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Fixed(key)));
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// One certificate for every handshake.
#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl rustls::server::ResolvesServerCert for Fixed {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// Answer one TLS-ALPN-01 validation connection: read the ClientHello, and
/// if it asks for `acme-tls/1` with an SNI name `lookup` answers, complete
/// the handshake with the validation certificate (the handshake is the whole
/// validation). Anything else is closed.
pub async fn answer_validation<L: TlsAlpnLookup>(stream: tokio::net::TcpStream, lookup: &L) {
    let acceptor = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream);
    let Ok(start) = acceptor.await else {
        return;
    };
    let hello = start.client_hello();
    if !wants_validation(&hello) {
        return;
    }
    let Some(sni) = hello.server_name().map(str::to_owned) else {
        return;
    };
    let Some(config) = validation_config(lookup, &sni).await else {
        return;
    };
    if let Ok(mut tls) = start.into_stream(config).await {
        let _ = tokio::io::AsyncWriteExt::shutdown(&mut tls).await;
    }
}

/// Validation certificates being presented, by SNI name.
#[derive(Debug, Clone, Default)]
pub struct TlsAlpnCertificates(Arc<RwLock<HashMap<String, Arc<CertifiedKey>>>>);

impl TlsAlpnCertificates {
    /// Present a validation certificate for `identifier` (a DNS name or an IP
    /// address) with `digest` = SHA-256 of the key authorization.
    pub fn insert(&self, identifier: &str, digest: &[u8]) -> Result<(), AcmeError> {
        let certified = validation_certificate(identifier, digest)?;
        let mut map = self.0.write().unwrap_or_else(|e| e.into_inner());
        map.insert(sni_name(identifier), certified);
        Ok(())
    }

    /// The validation certificate presented for an SNI name, if any.
    pub fn get(&self, sni: &str) -> Option<Arc<CertifiedKey>> {
        let map = self.0.read().unwrap_or_else(|e| e.into_inner());
        map.get(&sni.to_ascii_lowercase()).cloned()
    }

    /// Stop presenting a certificate for `identifier`.
    pub fn remove(&self, identifier: &str) {
        let mut map = self.0.write().unwrap_or_else(|e| e.into_inner());
        map.remove(&sni_name(identifier));
    }
}

/// The self-signed certificate RFC 8737 §3 asks for: the identifier as its
/// only SAN and the critical `acmeIdentifier` extension holding `digest`.
pub fn validation_certificate(
    identifier: &str,
    digest: &[u8],
) -> Result<Arc<CertifiedKey>, AcmeError> {
    let san =
        match identifier.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(identifier.try_into().map_err(|e| {
                AcmeError::BadInput(format!("{identifier} is not a DNS name: {e}"))
            })?),
        };
    let mut params = CertificateParams::default();
    params.subject_alt_names = vec![san];
    params.custom_extensions = vec![CustomExtension::new_acme_identifier(digest)];
    let key = KeyPair::generate().map_err(|e| AcmeError::BadInput(e.to_string()))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| AcmeError::BadInput(e.to_string()))?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let signing = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key_der)
        .map_err(|e| AcmeError::BadInput(e.to_string()))?;
    Ok(Arc::new(CertifiedKey::new(
        vec![cert.der().clone()],
        signing,
    )))
}

/// The SNI name a CA sends when validating `identifier`: the name itself, or
/// for an IP address its reverse-DNS name (RFC 8738 §6).
pub fn sni_name(identifier: &str) -> String {
    match identifier.parse::<IpAddr>() {
        Ok(ip) => reverse_name(ip),
        Err(_) => identifier.to_ascii_lowercase(),
    }
}

/// The identifier an SNI name stands for (inverse of [`sni_name`]).
pub fn identifier_from_sni(sni: &str) -> String {
    let sni = sni.to_ascii_lowercase();
    if let Some(rest) = sni.strip_suffix(".in-addr.arpa") {
        let mut octets: Vec<&str> = rest.split('.').collect();
        octets.reverse();
        if let Ok(ip) = octets.join(".").parse::<std::net::Ipv4Addr>() {
            return ip.to_string();
        }
    }
    if let Some(rest) = sni.strip_suffix(".ip6.arpa") {
        let nibbles: String = rest.split('.').rev().collect();
        if nibbles.len() == 32 && nibbles.chars().all(|c| c.is_ascii_hexdigit()) {
            let groups: Vec<&str> = (0..8).map(|i| &nibbles[i * 4..i * 4 + 4]).collect();
            if let Ok(ip) = groups.join(":").parse::<std::net::Ipv6Addr>() {
                return ip.to_string();
            }
        }
    }
    sni
}

/// `in-addr.arpa` / `ip6.arpa` name of an address (RFC 8738 §6).
fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut labels: Vec<String> = Vec::with_capacity(34);
            for byte in v6.octets().iter().rev() {
                labels.push(format!("{:x}", byte & 0x0f));
                labels.push(format!("{:x}", byte >> 4));
            }
            labels.push("ip6.arpa".into());
            labels.join(".")
        }
    }
}

/// A running TLS-ALPN-01 responder; stops when dropped.
#[derive(Debug)]
pub struct TlsAlpnResponder {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl TlsAlpnResponder {
    /// Listen on `address` and present the certificates in `certificates`,
    /// within [`ListenerLimits::fitting`] (room for this and an HTTP-01 responder).
    pub async fn start(
        address: SocketAddr,
        certificates: TlsAlpnCertificates,
    ) -> Result<Self, AcmeError> {
        Self::start_with_limits(address, certificates, ListenerLimits::fitting(2)).await
    }

    /// [`TlsAlpnResponder::start`] with other bounds.
    pub async fn start_with_limits(
        address: SocketAddr,
        certificates: TlsAlpnCertificates,
        limits: ListenerLimits,
    ) -> Result<Self, AcmeError> {
        let socket =
            tokio::net::TcpListener::bind(address)
                .await
                .map_err(|e| AcmeError::Listen {
                    address: address.to_string(),
                    challenge: "tls-alpn-01",
                    reason: e.to_string(),
                })?;
        let address = socket.local_addr().unwrap_or(address);
        let name = format!("TLS-ALPN-01 responder on {address}");
        let handshake_timeout = limits.handshake_timeout;
        // The server only ends when the task is aborted.
        let task = tokio::spawn(listener::serve(socket, limits, name, move |stream| {
            let certificates = certificates.clone();
            async move {
                // The handshake is the whole validation; nothing is exchanged after it.
                let _ = tokio::time::timeout(
                    handshake_timeout,
                    answer_validation(stream, &certificates),
                )
                .await;
            }
        }));
        Ok(TlsAlpnResponder { address, task })
    }

    /// The address actually bound.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for TlsAlpnResponder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stalled_client_hello_is_cut_off() {
        use std::time::{Duration, Instant};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let limits = ListenerLimits {
            handshake_timeout: Duration::from_millis(300),
            ..ListenerLimits::default()
        };
        let responder = TlsAlpnResponder::start_with_limits(
            "127.0.0.1:0".parse().unwrap(),
            TlsAlpnCertificates::default(),
            limits,
        )
        .await
        .unwrap();
        let started = Instant::now();
        let mut stream = tokio::net::TcpStream::connect(responder.address())
            .await
            .unwrap();
        // A TLS record header announcing a 512-byte ClientHello, then silence.
        stream
            .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
            .await
            .unwrap();
        let mut buf = [0u8; 64];
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            while !matches!(stream.read(&mut buf).await, Ok(0) | Err(_)) {}
        });
        closed.await.expect("the responder closes the connection");
        let waited = started.elapsed();
        assert!(
            waited < Duration::from_millis(1500),
            "closed after {waited:?}"
        );
    }

    #[test]
    fn sni_names_round_trip() {
        for identifier in ["www.example.test", "192.0.2.7", "2001:db8::1"] {
            assert_eq!(identifier_from_sni(&sni_name(identifier)), identifier);
        }
    }

    #[test]
    fn reverse_names_follow_rfc_8738() {
        assert_eq!(
            reverse_name("192.0.2.7".parse().unwrap()),
            "7.2.0.192.in-addr.arpa"
        );
        let v6 = reverse_name("2001:db8::1".parse().unwrap());
        assert!(v6.starts_with("1.0.0.0.0.0.0.0"), "{v6}");
        assert!(v6.ends_with("8.b.d.0.1.0.0.2.ip6.arpa"), "{v6}");
    }
}
