//! Alternate certificate chains (RFC 8555 §7.4.2): a CA may offer the same
//! certificate under other chains (e.g. cross-signed by an older root), linked
//! from the certificate URL with `Link: <url>;rel="alternate"`. instant-acme
//! does not expose those links, so this module fetches the certificate and
//! its alternates itself with POST-as-GET requests signed by the account key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::AcmeError;

/// The parts of instant-acme's stored credentials that sign requests.
#[derive(Deserialize)]
struct Credentials {
    id: String,
    key_pkcs8: String,
}

pub(crate) type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A minimal ACME client for POST-as-GET with the account key (ES256, the key
/// type instant-acme creates).
pub(crate) struct Fetcher {
    client: HttpsClient,
    kid: String,
    key: aws_lc_rs::signature::EcdsaKeyPair,
    new_nonce: String,
    nonce: Option<String>,
}

impl Fetcher {
    pub(crate) async fn new(
        credentials_json: &[u8],
        directory_url: &str,
        ca_bundle_pem: Option<&str>,
    ) -> Result<Fetcher, AcmeError> {
        let bad = |reason: String| AcmeError::Connection {
            directory: directory_url.to_owned(),
            reason,
        };
        let credentials: Credentials = serde_json::from_slice(credentials_json)
            .map_err(|e| AcmeError::BadInput(format!("stored account credentials: {e}")))?;
        let der = Zeroizing::new(
            B64.decode(credentials.key_pkcs8.as_bytes())
                .map_err(|e| AcmeError::BadInput(format!("stored account key: {e}")))?,
        );
        let key = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &der,
        )
        .map_err(|_| {
            AcmeError::BadInput(
                "the account key is not ECDSA P-256: alternate chains need it".into(),
            )
        })?;
        let client = https_client(ca_bundle_pem).map_err(bad)?;
        let (status, _, body) = send(&client, hyper::Method::GET, directory_url, None)
            .await
            .map_err(bad)?;
        if status != 200 {
            return Err(bad(format!("directory answered HTTP {status}")));
        }
        let directory: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| bad(format!("directory is not JSON: {e}")))?;
        let new_nonce = directory["newNonce"]
            .as_str()
            .ok_or_else(|| bad("directory has no newNonce".into()))?
            .to_owned();
        Ok(Fetcher {
            client,
            kid: credentials.id,
            key,
            new_nonce,
            nonce: None,
        })
    }

    async fn nonce(&mut self) -> Result<String, AcmeError> {
        if let Some(nonce) = self.nonce.take() {
            return Ok(nonce);
        }
        let (_, headers, _) = send(&self.client, hyper::Method::HEAD, &self.new_nonce, None)
            .await
            .map_err(AcmeError::Problem)?;
        header(&headers, "replay-nonce")
            .ok_or_else(|| AcmeError::Problem("the CA gave no nonce".into()))
    }

    /// POST-as-GET `url`; returns the body and the `rel="alternate"` links.
    pub(crate) async fn post_as_get(
        &mut self,
        url: &str,
    ) -> Result<(String, Vec<String>), AcmeError> {
        for _ in 0..crate::nonce::NONCE_RETRIES {
            let nonce = self.nonce().await?;
            let protected = serde_json::json!({
                "alg": "ES256", "kid": self.kid, "nonce": nonce, "url": url,
            });
            let protected = B64.encode(protected.to_string());
            let signing_input = format!("{protected}.");
            let signature = self
                .key
                .sign(
                    &aws_lc_rs::rand::SystemRandom::new(),
                    signing_input.as_bytes(),
                )
                .map_err(|_| AcmeError::Problem("signing failed".into()))?;
            let body = serde_json::json!({
                "protected": protected,
                "payload": "",
                "signature": B64.encode(signature.as_ref()),
            })
            .to_string();
            let (status, headers, response) =
                send(&self.client, hyper::Method::POST, url, Some(body))
                    .await
                    .map_err(AcmeError::Problem)?;
            self.nonce = header(&headers, "replay-nonce");
            let text = String::from_utf8_lossy(&response).into_owned();
            if status == 400 && text.contains("urn:ietf:params:acme:error:badNonce") {
                continue;
            }
            if !(200..300).contains(&status) {
                return Err(AcmeError::Problem(format!(
                    "{url} answered HTTP {status}: {text}"
                )));
            }
            let alternates = headers
                .get_all(hyper::header::LINK)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter(|link| link.contains("rel=\"alternate\""))
                .filter_map(|link| {
                    let start = link.find('<')? + 1;
                    let end = link.find('>')?;
                    Some(link[start..end].to_owned())
                })
                .collect();
            return Ok((text, alternates));
        }
        Err(AcmeError::Problem("the CA kept rejecting nonces".into()))
    }
}

pub(crate) fn header(headers: &hyper::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pub(crate) fn https_client(ca_bundle_pem: Option<&str>) -> Result<HttpsClient, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let pem = match ca_bundle_pem {
        Some(pem) => pem.to_owned(),
        None => std::fs::read_to_string(
            std::env::var("SSL_CERT_FILE")
                .unwrap_or_else(|_| "/etc/ssl/certs/ca-certificates.crt".into()),
        )
        .unwrap_or_default(),
    };
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()).flatten() {
        let _ = roots.add(cert);
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_only()
        .enable_http1()
        .wrap_connector(crate::http::tcp_connector());
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

pub(crate) async fn send(
    client: &HttpsClient,
    method: hyper::Method,
    url: &str,
    body: Option<String>,
) -> Result<(u16, hyper::HeaderMap, Bytes), String> {
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header(hyper::header::USER_AGENT, "certmgr");
    if body.is_some() {
        request = request.header(hyper::header::CONTENT_TYPE, "application/jose+json");
    }
    let request = request
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .map_err(|e| e.to_string())?;
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("{url}: {e}"))?
        .to_bytes();
    Ok((status, headers, body))
}

/// The common name of the issuer of a chain's topmost certificate: the root
/// (or cross-signer) the chain leads to, which is what users name when they
/// prefer a chain (as with certbot's `--preferred-chain`).
pub fn chain_top_issuer(certs_der: &[Vec<u8>]) -> Option<String> {
    let top = certs_der.last()?;
    let (_, cert) = x509_parser::parse_x509_certificate(top).ok()?;
    let cn = cert
        .issuer()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned);
    cn.or_else(|| Some(cert.issuer().to_string()))
}
