//! The HTTP client instant-acme talks to the CA through, with a deadline on
//! every request: a CA that accepts a request and never answers (seen with
//! Pebble deadlocking under 50 concurrent orders) must fail the order, not
//! hang the run.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Longest wait for one answer from the CA.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

type Inner = Client<hyper_rustls::HttpsConnector<HttpConnector>, BodyWrapper<Bytes>>;

/// An HTTPS client whose requests fail after `limit`.
pub(crate) struct DeadlineClient {
    inner: Inner,
    limit: Duration,
}

impl DeadlineClient {
    /// Trusts the platform's roots, or only the certificates of
    /// `ca_bundle_pem` (private ACME CAs).
    pub(crate) fn new(ca_bundle_pem: Option<&str>, limit: Duration) -> Result<Self, String> {
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match ca_bundle_pem {
            None => builder
                .try_with_platform_verifier()
                .map_err(|e| format!("cannot load the system's trusted roots: {e}"))?,
            Some(pem) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                    let cert = cert.map_err(|e| format!("the CA bundle is not PEM: {e}"))?;
                    roots
                        .add(cert)
                        .map_err(|e| format!("the CA bundle holds an unusable certificate: {e}"))?;
                }
                if roots.is_empty() {
                    return Err("the CA bundle holds no certificate".into());
                }
                let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| e.to_string())?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                builder.with_tls_config(config)
            }
        };
        let connector = builder
            .https_only()
            .enable_http1()
            .enable_http2()
            .wrap_connector(tcp_connector());
        Ok(DeadlineClient {
            inner: Client::builder(TokioExecutor::new()).build(connector),
            limit,
        })
    }
}

impl HttpClient for DeadlineClient {
    fn request(
        &self,
        req: hyper::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let url = req.uri().to_string();
        let request = Measured::of(&req);
        let fut = HttpClient::request(&self.inner, req);
        let limit = self.limit;
        Box::pin(async move {
            let started = std::time::Instant::now();
            let answer = match tokio::time::timeout(limit, fut).await {
                Ok(answer) => answer,
                Err(_) => Err(instant_acme::Error::Other(
                    format!(
                        "no answer from {url} within {limit:?}; the CA is not responding, try again later"
                    )
                    .into(),
                )),
            };
            request.record(
                answer.as_ref().ok().map(|a| a.parts.status.as_u16()),
                started.elapsed().as_secs_f64(),
            );
            answer
        })
    }
}

/// What the metrics say of one request to the CA
/// ([`certmgr_core::telemetry`]): the CA is the request's host and port.
struct Measured {
    scheme: String,
    ca: String,
    host: String,
    method: String,
}

impl Measured {
    fn of<B>(req: &hyper::Request<B>) -> Self {
        let uri = req.uri();
        let host = uri.host().unwrap_or_default().to_owned();
        Measured {
            scheme: uri.scheme_str().unwrap_or_default().to_owned(),
            ca: uri
                .authority()
                .map_or_else(|| host.clone(), |a| a.as_str().to_owned()),
            host,
            method: req.method().as_str().to_owned(),
        }
    }

    /// Count the request, its `status` (`None`: no answer) and latency.
    fn record(&self, status: Option<u16>, seconds: f64) {
        use certmgr_core::telemetry::{self, ACME_REQUEST_DURATION, ACME_REQUESTS};
        let outcome = match status {
            None => "no_answer",
            Some(s) if s >= 500 => "server_error",
            Some(s) if s >= 400 => "client_error",
            Some(_) => "success",
        };
        telemetry::count(&ACME_REQUESTS, &[&self.ca, &self.method, outcome]);
        telemetry::observe(&ACME_REQUEST_DURATION, &[&self.ca, outcome], seconds);
        let status = status.unwrap_or(999).to_string();
        telemetry::observe(
            &telemetry::CERT_MANAGER_ACME_REQUEST_DURATION,
            &[
                &self.scheme,
                &self.host,
                "unnamed_action",
                &self.method,
                &status,
            ],
            seconds,
        );
    }
}

/// The TCP connector under the TLS one, with Nagle's algorithm off: an ACME
/// request is small and written in more than one piece, and waiting for the
/// server's delayed ACK before sending the rest cost 40 ms per request.
pub(crate) fn tcp_connector() -> HttpConnector {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.enforce_http(false);
    http
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A server that accepts connections and never says a word: the request
    /// fails at the deadline with a message naming the URL.
    #[tokio::test]
    async fn a_ca_that_never_answers_fails_the_request() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((conn, _)) = listener.accept().await {
                held.push(conn);
            }
        });
        let client = DeadlineClient::new(None, Duration::from_millis(300)).unwrap();
        let url = format!("https://{addr}/dir");
        let req = hyper::Request::get(&url)
            .body(BodyWrapper::default())
            .unwrap();
        let started = std::time::Instant::now();
        let err = match client.request(req).await {
            Ok(_) => panic!("a silent server answered"),
            Err(e) => e.to_string(),
        };
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(
            err.contains(&format!("no answer from {url} within 300ms")),
            "{err}"
        );
        silent.abort();
    }
}
