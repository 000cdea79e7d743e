//! A minimal SMTP client (RFC 5321) for notices: STARTTLS (RFC 3207) or
//! implicit TLS (RFC 8314), AUTH PLAIN or LOGIN (RFC 4954) after TLS only,
//! one message to its recipients, plain text. TLS is rustls, verified
//! against the system's roots or the channel's own CA bundle; nothing is
//! ever sent in clear but the greeting, EHLO and STARTTLS.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::channel::{EmailSettings, SmtpSecurity};
use super::message::Outgoing;

/// Longest an SMTP conversation may take, connection included.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a server's reply may be (lines × length), against a peer that talks forever.
const MAX_REPLY_LINES: usize = 100;
const MAX_LINE: usize = 4096;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Send `message` per `settings`; the error says what failed, in words.
pub(crate) async fn send(
    settings: &EmailSettings,
    password: Option<&str>,
    message: &Outgoing,
) -> Result<(), String> {
    let address = format!("{}:{}", bracket(&settings.host), settings.port);
    tokio::time::timeout(
        SMTP_TIMEOUT,
        converse(settings, password, message, &address),
    )
    .await
    .unwrap_or_else(|_| {
        Err(format!(
            "the SMTP server {address} did not finish within {} s",
            SMTP_TIMEOUT.as_secs()
        ))
    })
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

async fn converse(
    settings: &EmailSettings,
    password: Option<&str>,
    message: &Outgoing,
    address: &str,
) -> Result<(), String> {
    let tcp = TcpStream::connect(address)
        .await
        .map_err(|e| format!("cannot connect to the SMTP server {address}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let tls = tls_connector(settings.ca_pem.as_deref())?;
    let name = ServerName::try_from(settings.host.clone())
        .map_err(|e| format!("{:?} is no TLS server name: {e}", settings.host))?;
    let ehlo_name = ehlo_name();
    let mut stream: BufReader<Box<dyn Io>> = match settings.security {
        SmtpSecurity::Tls => {
            let tls_stream = tls
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS with the SMTP server {address} failed: {e}"))?;
            let mut stream = BufReader::new(Box::new(tls_stream) as Box<dyn Io>);
            expect(&mut stream, "greeting", &[220]).await?;
            command(&mut stream, &format!("EHLO {ehlo_name}"), &[250]).await?;
            stream
        }
        SmtpSecurity::Starttls => {
            let mut plain = BufReader::new(tcp);
            expect(&mut plain, "greeting", &[220]).await?;
            let features = command(&mut plain, &format!("EHLO {ehlo_name}"), &[250]).await?;
            if !features.iter().any(|l| l.eq_ignore_ascii_case("STARTTLS")) {
                return Err(format!(
                    "the SMTP server {address} does not offer STARTTLS: use security \"tls\" if it speaks TLS from the start, or another server"
                ));
            }
            command(&mut plain, "STARTTLS", &[220]).await?;
            // The server waits for the handshake: nothing is buffered.
            let tcp = plain.into_inner();
            let tls_stream = tls
                .connect(name, tcp)
                .await
                .map_err(|e| format!("STARTTLS with the SMTP server {address} failed: {e}"))?;
            let mut stream = BufReader::new(Box::new(tls_stream) as Box<dyn Io>);
            stream_ehlo(&mut stream, &ehlo_name).await?;
            stream
        }
    };
    if let (Some(user), Some(password)) = (settings.username.as_deref(), password) {
        authenticate(&mut stream, user, password).await?;
    }
    command(
        &mut stream,
        &format!("MAIL FROM:<{}>", settings.from),
        &[250],
    )
    .await?;
    for to in &settings.to {
        command(&mut stream, &format!("RCPT TO:<{to}>"), &[250, 251]).await?;
    }
    command(&mut stream, "DATA", &[354]).await?;
    let data = render(settings, message);
    stream
        .get_mut()
        .write_all(&data)
        .await
        .map_err(|e| format!("sending the message failed: {e}"))?;
    expect(&mut stream, "the end of the message", &[250]).await?;
    // The message is accepted; a failing QUIT changes nothing.
    let _ = command(&mut stream, "QUIT", &[221]).await;
    Ok(())
}

async fn stream_ehlo(stream: &mut BufReader<Box<dyn Io>>, name: &str) -> Result<(), String> {
    command(stream, &format!("EHLO {name}"), &[250])
        .await
        .map(|_| ())
}

/// The name this host gives in EHLO: its name when it is a DNS name with a
/// dot, else an address literal (RFC 5321 4.1.4).
fn ehlo_name() -> String {
    let host = crate::instance::host_name();
    if host.contains('.') && host.parse::<certmgr_core::Hostname>().is_ok() {
        host
    } else {
        "[127.0.0.1]".to_owned()
    }
}

async fn authenticate(
    stream: &mut BufReader<Box<dyn Io>>,
    user: &str,
    password: &str,
) -> Result<(), String> {
    // The EHLO after TLS listed the mechanisms; PLAIN is the common one,
    // LOGIN the fallback of older servers. Both only ever run inside TLS.
    let plain = BASE64.encode(format!("\0{user}\0{password}"));
    let answer = command_secret(stream, &format!("AUTH PLAIN {plain}"), "AUTH PLAIN").await?;
    match answer.0 {
        235 => Ok(()),
        504 | 502 => {
            command(stream, "AUTH LOGIN", &[334]).await?;
            let (code, _) = command_secret(stream, &BASE64.encode(user), "the user name").await?;
            if code != 334 {
                return Err(format!("AUTH LOGIN refused the user name ({code})"));
            }
            match command_secret(stream, &BASE64.encode(password), "the password").await? {
                (235, _) => Ok(()),
                (code, text) => Err(format!(
                    "the SMTP server refused the login ({code} {text}): check email.username and email.password"
                )),
            }
        }
        code => Err(format!(
            "the SMTP server refused the login ({code} {}): check email.username and email.password",
            answer.1
        )),
    }
}

/// Send a line holding a secret: the error never repeats the line.
async fn command_secret(
    stream: &mut BufReader<Box<dyn Io>>,
    line: &str,
    what: &str,
) -> Result<(u16, String), String> {
    stream
        .get_mut()
        .write_all(format!("{line}\r\n").as_bytes())
        .await
        .map_err(|e| format!("sending {what} failed: {e}"))?;
    let (code, lines) = reply(stream).await?;
    Ok((code, lines.join(" ")))
}

/// Send `line`, expect one of `codes`; the reply's lines (after the code).
async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    line: &str,
    codes: &[u16],
) -> Result<Vec<String>, String> {
    stream
        .get_mut()
        .write_all(format!("{line}\r\n").as_bytes())
        .await
        .map_err(|e| format!("sending {line:?} failed: {e}"))?;
    let verb = line.split(':').next().unwrap_or(line);
    expect(stream, verb, codes).await
}

async fn expect<S: AsyncRead + Unpin>(
    stream: &mut BufReader<S>,
    after: &str,
    codes: &[u16],
) -> Result<Vec<String>, String> {
    let (code, lines) = reply(stream).await?;
    if codes.contains(&code) {
        Ok(lines)
    } else {
        Err(format!(
            "the SMTP server answered {after} with {code} {}",
            lines.join(" ")
        ))
    }
}

/// One reply: `250-first`, `250-...`, `250 last`.
async fn reply<S: AsyncRead + Unpin>(
    stream: &mut BufReader<S>,
) -> Result<(u16, Vec<String>), String> {
    let mut lines = Vec::new();
    for _ in 0..MAX_REPLY_LINES {
        let mut line = Vec::new();
        let read = (&mut *stream)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)
            .await
            .map_err(|e| format!("reading the SMTP server's reply failed: {e}"))?;
        if read == 0 {
            return Err("the SMTP server closed the connection".into());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let code = text
            .get(..3)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| format!("the SMTP server's reply {text:?} is not SMTP"))?;
        lines.push(text.get(4..).unwrap_or("").to_owned());
        if text.as_bytes().get(3) != Some(&b'-') {
            return Ok((code, lines));
        }
    }
    Err("the SMTP server's reply is too long".into())
}

fn tls_connector(ca_pem: Option<&str>) -> Result<tokio_rustls::TlsConnector, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let config = match ca_pem {
        Some(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| format!("the channel's CA bundle: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("the channel's CA bundle: {e}"))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => {
            use rustls_platform_verifier::BuilderVerifierExt as _;
            builder
                .with_platform_verifier()
                .map_err(|e| format!("cannot load the system's trusted roots: {e}"))?
                .with_no_client_auth()
        }
    };
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// The message as DATA sends it: headers, body, dot-stuffed, CRLF, the
/// final `.`.
fn render(settings: &EmailSettings, message: &Outgoing) -> Vec<u8> {
    let date = time::OffsetDateTime::from_unix_timestamp(message.at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc2822)
                .ok()
        })
        .unwrap_or_default();
    let subject = message.subject();
    let subject = if subject.is_ascii() {
        subject
    } else {
        format!("=?utf-8?b?{}?=", BASE64.encode(subject.as_bytes()))
    };
    let body = message.text();
    let (encoding, body) = if body.is_ascii() && body.lines().all(|l| l.len() <= 900) {
        ("7bit", body)
    } else {
        let encoded = BASE64.encode(body.as_bytes());
        let wrapped = encoded
            .as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\n");
        ("base64", wrapped)
    };
    let mut out = String::new();
    for (name, value) in [
        ("Date", date),
        ("From", settings.from.clone()),
        ("To", settings.to.join(", ")),
        ("Subject", subject),
        ("Message-ID", format!("<{}@certmgr>", message.id)),
        ("MIME-Version", "1.0".to_owned()),
        ("Content-Type", "text/plain; charset=utf-8".to_owned()),
        ("Content-Transfer-Encoding", encoding.to_owned()),
        ("Auto-Submitted", "auto-generated".to_owned()),
        ("X-Certmgr-Event", message.purpose.as_str().to_owned()),
    ] {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    for line in body.lines() {
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(".\r\n");
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::message::{NoticeItem, Purpose};

    #[test]
    fn messages_are_dot_stuffed_and_encode_what_is_not_ascii() {
        let settings = EmailSettings {
            host: "smtp.example.com".into(),
            port: 587,
            security: SmtpSecurity::Starttls,
            username: None,
            from: "certmgr@example.com".into(),
            to: vec!["a@example.com".into(), "b@example.com".into()],
            ca_pem: None,
        };
        let mut message = Outgoing {
            purpose: Purpose::Notice,
            channel: "ops".into(),
            id: "m1".into(),
            at: 1_800_000_000,
            items: vec![NoticeItem {
                id: "n1".into(),
                event: "expired".into(),
                threshold_days: None,
                credential: "web".into(),
                version: 1,
                not_after: None,
                message: ".web: expired".into(),
                created_at: "x".into(),
            }],
        };
        let text = String::from_utf8(render(&settings, &message)).unwrap();
        assert!(text.contains("To: a@example.com, b@example.com\r\n"));
        assert!(text.contains("\r\n\r\n..web: expired\r\n.\r\n"), "{text}");
        assert!(text.contains("Content-Transfer-Encoding: 7bit"));
        message.items[0].message = "web: échec".into();
        let text = String::from_utf8(render(&settings, &message)).unwrap();
        assert!(text.contains("Content-Transfer-Encoding: base64"));
        assert!(!text.contains("échec"));
    }
}
