//! The pre-flight check: before ordering, does each hostname's challenge
//! reach this node's responder? It publishes a probe answer the same way an
//! order would (through a running server, or a responder started here), then
//! fetches it the way a CA does, and says what is wrong when it fails: DNS
//! points nowhere, the port is closed, a redirect loops, or another web server
//! (a proxy, a load balancer) answers instead.

use std::collections::HashSet;
use std::time::Duration;

use certmgr_acme::{ACME_TLS_ALPN_PROTOCOL, ChallengeAnswer, ChallengeSolver};
use certmgr_core::{ChallengeKind, Hostname};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpStream;

use certmgr_store::Store;

use crate::Engine;
use crate::error::{EngineError, EngineResult, Hint};
use crate::responders::{AnswerOptions, Responders};

/// How long one probe connection may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects a CA follows at most (Let's Encrypt: 10).
const MAX_REDIRECTS: usize = 10;

/// The result for one hostname.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    /// The hostname probed.
    pub hostname: String,
    /// The challenge type it is validated with.
    pub challenge: String,
    /// Whether the probe answer came back as a CA would see it.
    pub ok: bool,
    /// How it was answered, or what is wrong.
    pub detail: String,
}

/// What the pre-flight check needs besides the credential.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// How to publish the probe answers (as an order would).
    pub answer: AnswerOptions,
    /// The port the CA connects to for HTTP-01 (80 in production).
    pub http_port: u16,
    /// The port the CA connects to for TLS-ALPN-01 (443 in production).
    pub tls_port: u16,
}

/// Check every hostname of the credential `name` the way its CA would
/// validate it, with a probe answer published as an order would publish
/// one. dns-01 is checked through its DNS accounts instead (an error that
/// names them).
pub async fn check(
    engine: &Engine<'_>,
    name: &str,
    options: &CheckOptions,
) -> EngineResult<Vec<Probe>> {
    let store = engine.store();
    let credential = store.credential(name).await?;
    let challenge = credential.challenge.unwrap_or(ChallengeKind::Http01);
    if challenge == ChallengeKind::Dns01 {
        return Err(dns01_accounts(
            store,
            &credential.hostnames,
            credential.dns_account.as_deref(),
        )
        .await);
    }
    let responders = Responders::for_run(store, &[challenge], &options.answer).await?;
    let mut probes = Vec::new();
    for hostname in &credential.hostnames {
        let probe = match hostname {
            Hostname::Dns(name) if name.starts_with("*.") => Probe {
                hostname: name.clone(),
                challenge: challenge.to_string(),
                ok: false,
                detail: "a wildcard is validated only with dns-01".into(),
            },
            _ => check_one(&responders, hostname, challenge, options).await,
        };
        probes.push(probe);
    }
    Ok(probes)
}

async fn check_one(
    responders: &Responders<'_>,
    hostname: &Hostname,
    challenge: ChallengeKind,
    options: &CheckOptions,
) -> Probe {
    let identifier = hostname.to_string();
    let token = random_token();
    let key_authorization = format!("{token}.certmgr-check");
    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key_authorization.as_bytes());
    let answer = ChallengeAnswer {
        kind: challenge,
        identifier: identifier.clone(),
        token: token.clone(),
        key_authorization: key_authorization.clone(),
        digest: digest.as_ref().to_vec(),
        dns_value: String::new(),
    };
    let result = match responders.solver.present(&answer).await {
        Ok(()) => match challenge {
            ChallengeKind::TlsAlpn01 => {
                probe_tls_alpn(&identifier, options.tls_port, digest.as_ref()).await
            }
            _ => probe_http(&identifier, options.http_port, &token, &key_authorization).await,
        },
        Err(e) => Err(format!("cannot publish the probe answer: {e}")),
    };
    if let Err(e) = responders.solver.cleanup(&answer).await {
        crate::progress::warning!("cannot withdraw the probe answer for {identifier}: {e}");
    }
    Probe {
        hostname: identifier,
        challenge: challenge.to_string(),
        ok: result.is_ok(),
        detail: match result {
            Ok(detail) | Err(detail) => detail,
        },
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 16];
    // The system random generator failing leaves zeros: still a usable probe name.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    format!("certmgr-check-{}", hex::encode(bytes))
}

/// Resolve `host:port` with the system resolver, as the CA resolves with public DNS.
async fn resolve(host: &str, port: u16) -> Result<Vec<std::net::SocketAddr>, String> {
    let target = match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => format!("[{v6}]:{port}"),
        _ => format!("{host}:{port}"),
    };
    match tokio::time::timeout(PROBE_TIMEOUT, tokio::net::lookup_host(target)).await {
        Ok(Ok(addresses)) => {
            let list: Vec<_> = addresses.collect();
            if list.is_empty() {
                Err(format!("DNS: {host} has no address"))
            } else {
                Ok(list)
            }
        }
        Ok(Err(e)) => Err(format!("DNS: {host} does not resolve ({e})")),
        Err(_) => Err(format!("DNS: resolving {host} timed out")),
    }
}

/// Fetch the probe like a CA: every address, redirects followed (HTTP and
/// HTTPS, certificate not checked), loops detected.
async fn probe_http(host: &str, port: u16, token: &str, expected: &str) -> Result<String, String> {
    let addresses = resolve(host, port).await?;
    let mut url = format!(
        "http://{}:{port}/.well-known/acme-challenge/{token}",
        bracket(host)
    );
    let mut seen = HashSet::new();
    for hop in 0..=MAX_REDIRECTS {
        if !seen.insert(url.clone()) {
            return Err(format!("redirect loop at {url}"));
        }
        let (status, location, body) = if hop == 0 {
            // Every address the name resolves to must answer: a CA may pick any.
            let mut last = None;
            for address in &addresses {
                let result = fetch(&url, Some(*address)).await;
                match &result {
                    Ok((status, _, body)) if *status == 200 && body.trim_end() == expected => {}
                    Ok((status, None, _)) if *status == 200 => {
                        return Err(format!(
                            "{address} answered with other content: another web server or proxy answers instead of certmgr"
                        ));
                    }
                    Ok((status, None, _)) => {
                        return Err(format!(
                            "{address} answered HTTP {status}: another web server or proxy answers instead of certmgr (forward /.well-known/acme-challenge/ to it)"
                        ));
                    }
                    Ok(_) => {}
                    Err(e) => return Err(format!("{address}: {e}")),
                }
                last = Some(result);
            }
            match last {
                Some(Ok(result)) => result,
                Some(Err(e)) => return Err(e),
                None => return Err(format!("DNS: {host} has no address")),
            }
        } else {
            fetch(&url, None)
                .await
                .map_err(|e| format!("redirected to {url}: {e}"))?
        };
        match (status, location) {
            (200, _) if body.trim_end() == expected => {
                return Ok(if hop == 0 {
                    format!("answered on port {port} by {} address(es)", addresses.len())
                } else {
                    format!("answered after {hop} redirect(s), at {url}")
                });
            }
            (300..=399, Some(next)) => url = absolute(&url, &next),
            (status, _) => {
                return Err(format!(
                    "{url} answered HTTP {status}: another web server answers there instead of certmgr"
                ));
            }
        }
    }
    Err(format!("more than {MAX_REDIRECTS} redirects"))
}

fn bracket(host: &str) -> String {
    match host.parse::<std::net::Ipv6Addr>() {
        Ok(v6) => format!("[{v6}]"),
        Err(_) => host.to_owned(),
    }
}

/// Resolve a Location header against the URL it came from.
fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_owned();
    }
    let origin_end = base
        .find("://")
        .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
        .unwrap_or(base.len());
    format!("{}{}", &base[..origin_end], location)
}

/// GET one URL; returns status, Location, body (first 4 KiB).
async fn fetch(
    url: &str,
    address: Option<std::net::SocketAddr>,
) -> Result<(u16, Option<String>, String), String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("bad URL {url}: {e}"))?;
    let https = uri.scheme_str() == Some("https");
    let host = uri
        .host()
        .ok_or("URL without host")?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let target = match address {
        Some(address) => address,
        None => *resolve(&host, port)
            .await?
            .first()
            .ok_or_else(|| format!("DNS: {host} has no address"))?,
    };
    let connect = tokio::time::timeout(PROBE_TIMEOUT, TcpStream::connect(target)).await;
    let stream = match connect {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return Err(format!(
                "connection refused: nothing listens on port {port}"
            ));
        }
        Ok(Err(e)) => return Err(format!("cannot connect to port {port}: {e}")),
        Err(_) => {
            return Err(format!(
                "no answer on port {port} within {} s: a firewall drops it?",
                PROBE_TIMEOUT.as_secs()
            ));
        }
    };
    let request = hyper::Request::get(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .header(
            hyper::header::HOST,
            uri.authority().map(|a| a.as_str()).unwrap_or(&host),
        )
        .header(hyper::header::USER_AGENT, "certmgr-check")
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let exchange = async {
        if https {
            let config = crate::danger::no_verify_client(&[b"http/1.1"])?;
            let name =
                rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| e.to_string())?;
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, stream)
                .await
                .map_err(|e| format!("TLS handshake on port {port} failed: {e}"))?;
            send(TokioIo::new(tls), request).await
        } else {
            send(TokioIo::new(stream), request).await
        }
    };
    tokio::time::timeout(PROBE_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("port {port} accepted but did not answer in time"))?
}

async fn send<T>(
    io: T,
    request: hyper::Request<Empty<Bytes>>,
) -> Result<(u16, Option<String>, String), String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("not HTTP: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("no HTTP answer: {e}"))?;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(hyper::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]).into_owned();
    Ok((status, location, text))
}

/// Connect like a CA validating TLS-ALPN-01 and check the certificate we get.
async fn probe_tls_alpn(identifier: &str, port: u16, digest: &[u8]) -> Result<String, String> {
    let addresses = resolve(identifier, port).await?;
    let sni = certmgr_acme::sni_name(identifier);
    for address in &addresses {
        let stream = match tokio::time::timeout(PROBE_TIMEOUT, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Err(format!(
                    "{address}: connection refused: nothing listens on port {port}"
                ));
            }
            Ok(Err(e)) => return Err(format!("{address}: {e}")),
            Err(_) => {
                return Err(format!(
                    "{address}: no answer within {} s",
                    PROBE_TIMEOUT.as_secs()
                ));
            }
        };
        let config = crate::danger::no_verify_client(&[ACME_TLS_ALPN_PROTOCOL])
            .map_err(|e| format!("{address}: {e}"))?;
        let name =
            rustls::pki_types::ServerName::try_from(sni.clone()).map_err(|e| e.to_string())?;
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, stream)
            .await
            .map_err(|e| {
                format!("{address}: TLS with ALPN acme-tls/1 failed ({e}): another TLS server answers on port {port}")
            })?;
        let (_, session) = tls.get_ref();
        if session.alpn_protocol() != Some(ACME_TLS_ALPN_PROTOCOL) {
            return Err(format!(
                "{address}: the server did not negotiate acme-tls/1"
            ));
        }
        let Some(cert) = session.peer_certificates().and_then(|c| c.first()) else {
            return Err(format!("{address}: no certificate"));
        };
        if !contains_acme_identifier(cert.as_ref(), digest) {
            return Err(format!(
                "{address}: the certificate is not this node's validation certificate (another certmgr or TLS terminator answers?)"
            ));
        }
    }
    Ok(format!(
        "answered on port {port} by {} address(es)",
        addresses.len()
    ))
}

/// Does the certificate carry the acmeIdentifier extension with `digest`?
fn contains_acme_identifier(cert_der: &[u8], digest: &[u8]) -> bool {
    // id-pe-acmeIdentifier 1.3.6.1.5.5.7.1.31; its value is OCTET STRING(digest).
    const OID: &[u8] = &[0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x1f];
    let mut value = vec![0x04, 0x20];
    value.extend_from_slice(digest);
    let has = |needle: &[u8]| cert_der.windows(needle.len()).any(|w| w == needle);
    digest.len() == 32 && has(OID) && has(&value)
}

/// dns-01 is checked through the DNS accounts that publish the records: the
/// error names each account serving the credential's names.
async fn dns01_accounts(store: &Store, hostnames: &[Hostname], named: Option<&str>) -> EngineError {
    let mut accounts = std::collections::BTreeSet::new();
    if let Some(name) = named {
        accounts.insert(name.to_owned());
    }
    for hostname in hostnames.iter().filter(|_| named.is_none()) {
        let name = hostname.to_string();
        let base = name.strip_prefix("*.").unwrap_or(&name);
        match crate::dns01::account_for(store, &format!("_acme-challenge.{base}")).await {
            Ok((account, _)) => {
                accounts.insert(account.name);
            }
            Err(e) => return e,
        }
    }
    EngineError::bad_input_hint(
        "dns-01 is checked through the DNS account that publishes the records",
        Hint::TestDnsAccounts(accounts.into_iter().collect()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_resolve_against_their_origin() {
        assert_eq!(absolute("http://a.test:80/x/y", "/z"), "http://a.test:80/z");
        assert_eq!(
            absolute("http://a.test/x", "https://b.test/q"),
            "https://b.test/q"
        );
    }

    #[test]
    fn the_validation_certificate_is_recognised() {
        let digest = [7u8; 32];
        let key = certmgr_acme::validation_certificate("a.example.test", &digest).unwrap();
        assert!(contains_acme_identifier(key.cert[0].as_ref(), &digest));
        assert!(!contains_acme_identifier(key.cert[0].as_ref(), &[8u8; 32]));
    }
}
