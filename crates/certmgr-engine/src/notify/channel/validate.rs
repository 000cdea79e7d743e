//! Checking a channel request once, each refusal naming the request's
//! field (`email.to[1]`, `webhook.url`), into what is stored.

use super::*;

/// A checked request: the stored form.
pub(crate) struct Valid {
    pub(crate) kind: &'static str,
    pub(crate) settings: Settings,
    pub(crate) secrets: Secrets,
    pub(crate) enabled: bool,
}

/// Check `request` (replacing `old`, if any), each error naming its field.
pub(crate) fn validate(request: &ChannelRequest, old: Option<&Channel>) -> EngineResult<Valid> {
    if let Some(hour) = request.digest_hour {
        if hour > 23 {
            return Err(EngineError::invalid_field(
                "digest_hour",
                format!("{hour} is no hour of the day: give 0 to 23 (UTC)"),
            ));
        }
        if !request.digest {
            return Err(EngineError::invalid_field(
                "digest_hour",
                "applies with digest: true only",
            ));
        }
    }
    let mut events = if request.events.is_empty() {
        NoticeEvent::ALL.to_vec()
    } else {
        request.events.clone()
    };
    events.sort();
    events.dedup();
    let old_secrets = old.map(|o| o.secrets.clone()).unwrap_or_default();
    let (kind, email, webhook, secrets) = match (&request.email, &request.webhook) {
        (Some(email), None) => {
            let keep = old.is_some_and(|o| o.settings.email.is_some());
            let (settings, password) = validate_email(
                email,
                keep.then_some(old_secrets.password.clone()).flatten(),
            )?;
            let secrets = Secrets {
                password,
                url: None,
                hmac_secret: None,
            };
            ("email", Some(settings), None, secrets)
        }
        (None, Some(webhook)) => {
            let keep = old.is_some_and(|o| o.settings.webhook.is_some());
            let (settings, secrets) = validate_webhook(webhook, keep.then_some(&old_secrets))?;
            ("webhook", None, Some(settings), secrets)
        }
        _ => {
            return Err(EngineError::invalid_field(
                "email",
                "give exactly one of email (SMTP) and webhook",
            ));
        }
    };
    Ok(Valid {
        kind,
        settings: Settings {
            events,
            digest_hour: request.digest.then_some(request.digest_hour.unwrap_or(8)),
            email,
            webhook,
        },
        secrets,
        enabled: request.enabled.unwrap_or(true),
    })
}

fn validate_email(
    email: &EmailRequest,
    old_password: Option<String>,
) -> EngineResult<(EmailSettings, Option<String>)> {
    let host = email
        .host
        .parse::<Hostname>()
        .ok()
        .filter(|h| !h.is_wildcard())
        .ok_or_else(|| {
            EngineError::invalid_field(
                "email.host",
                format!(
                    "{:?} is not a host name or IP address: give the SMTP server's",
                    email.host
                ),
            )
        })?;
    let security = email.security.unwrap_or_default();
    let port = match email.port {
        Some(0) => {
            return Err(EngineError::invalid_field(
                "email.port",
                "port 0: give the SMTP server's port (587 for STARTTLS, 465 for TLS)",
            ));
        }
        Some(port) => port,
        None if security == SmtpSecurity::Tls => 465,
        None => 587,
    };
    check_address("email.from", &email.from)?;
    if email.to.is_empty() || email.to.len() > 50 {
        return Err(EngineError::invalid_field(
            "email.to",
            format!("{} recipients: give 1 to 50 addresses", email.to.len()),
        ));
    }
    for (i, to) in email.to.iter().enumerate() {
        check_address(&format!("email.to[{i}]"), to)?;
    }
    let username = match email.username.as_deref() {
        None | Some("") => None,
        Some(user) if user.chars().any(char::is_control) || user.len() > 256 => {
            return Err(EngineError::invalid_field(
                "email.username",
                "holds control characters or is longer than 256 bytes",
            ));
        }
        Some(user) => Some(user.to_owned()),
    };
    let password = match email.password.as_deref() {
        Some("") => None,
        Some(p) if p.contains(['\0', '\r', '\n']) || p.len() > 1024 => {
            return Err(EngineError::invalid_field(
                "email.password",
                "holds NUL or line breaks, or is longer than 1024 bytes",
            ));
        }
        Some(p) => Some(p.to_owned()),
        None => old_password,
    };
    match (&username, &password) {
        (Some(_), None) => {
            return Err(EngineError::invalid_field(
                "email.password",
                "a username needs its password",
            ));
        }
        (None, Some(_)) => {
            return Err(EngineError::invalid_field(
                "email.username",
                "a password needs its username (or leave both out for a server without AUTH)",
            ));
        }
        _ => {}
    }
    let ca_pem = check_ca_pem("email.ca_pem", email.ca_pem.as_deref())?;
    Ok((
        EmailSettings {
            host: host.to_string(),
            port,
            security,
            username,
            from: email.from.trim().to_owned(),
            to: email.to.iter().map(|t| t.trim().to_owned()).collect(),
            ca_pem,
        },
        password,
    ))
}

fn validate_webhook(
    webhook: &WebhookRequest,
    old: Option<&Secrets>,
) -> EngineResult<(WebhookSettings, Secrets)> {
    let url_text = match (&webhook.url, old.and_then(|o| o.url.clone())) {
        (Some(url), _) => url.trim().to_owned(),
        (None, Some(url)) => url,
        (None, None) => {
            return Err(EngineError::invalid_field(
                "webhook.url",
                "give the URL to POST notices to",
            ));
        }
    };
    let url = reqwest::Url::parse(&url_text).map_err(|e| {
        EngineError::invalid_field("webhook.url", format!("not a URL ({e}): give https://..."))
    })?;
    match url.scheme() {
        "https" => {}
        "http" if webhook.allow_plain_http => {}
        "http" => {
            return Err(EngineError::invalid_field(
                "webhook.url",
                "plain http:// sends the notices in clear: use https://, or set allow_plain_http",
            ));
        }
        other => {
            return Err(EngineError::invalid_field(
                "webhook.url",
                format!("scheme {other:?}: give an https:// URL"),
            ));
        }
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err(EngineError::invalid_field(
            "webhook.url",
            "the URL names no host",
        ));
    };
    if url.fragment().is_some() {
        return Err(EngineError::invalid_field(
            "webhook.url",
            "a URL with a #fragment: leave it out",
        ));
    }
    let origin = match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    };
    let format = webhook.format.unwrap_or_default();
    let hmac_secret = match (webhook.secret.as_deref(), format) {
        (Some(""), _) => None,
        (Some(_), WebhookFormat::Slack | WebhookFormat::Teams) => {
            return Err(EngineError::invalid_field(
                "webhook.secret",
                "Slack and Teams do not check signatures: a secret applies to the generic format only",
            ));
        }
        (Some(secret), WebhookFormat::Generic) if secret.len() < 16 || secret.len() > 512 => {
            return Err(EngineError::invalid_field(
                "webhook.secret",
                "give 16 to 512 characters (a random string the receiver also knows)",
            ));
        }
        (Some(secret), WebhookFormat::Generic) => Some(secret.to_owned()),
        (None, _) => old.and_then(|o| o.hmac_secret.clone()),
    };
    if format == WebhookFormat::Generic && hmac_secret.is_none() {
        return Err(EngineError::invalid_field(
            "webhook.secret",
            "the generic format is signed: give the HMAC secret the receiver verifies with",
        ));
    }
    let hmac_secret = hmac_secret.filter(|_| format == WebhookFormat::Generic);
    let ca_pem = check_ca_pem("webhook.ca_pem", webhook.ca_pem.as_deref())?;
    Ok((
        WebhookSettings {
            format,
            origin,
            ca_pem,
            allow_plain_http: webhook.allow_plain_http,
        },
        Secrets {
            password: None,
            url: Some(url.to_string()),
            hmac_secret,
        },
    ))
}

/// Refuse what is not one plain e-mail address (`local@domain`, no display
/// name, nothing that could end a header line).
pub(crate) fn check_address(field: &str, address: &str) -> EngineResult<()> {
    let bad = |why: &str| {
        Err(EngineError::invalid_field(
            field,
            format!("{address:?} is not an e-mail address: {why}"),
        ))
    };
    let address = address.trim();
    let Some((local, domain)) = address.rsplit_once('@') else {
        return bad("it has no @");
    };
    if local.is_empty() || local.len() > 64 {
        return bad("the part before @ must be 1 to 64 characters");
    }
    if address.len() > 254 {
        return bad("longer than 254 characters");
    }
    let forbidden = |c: char| {
        c.is_control()
            || c.is_whitespace()
            || matches!(
                c,
                '<' | '>' | '(' | ')' | '[' | ']' | ',' | ';' | ':' | '\\' | '"' | '@'
            )
    };
    if local.chars().any(forbidden) || !local.is_ascii() {
        return bad(
            "the part before @ holds a space, a control character or one of <>()[],;:\\\"@",
        );
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return bad("dots may not start, end or double in the part before @");
    }
    match domain.parse::<Hostname>() {
        Ok(Hostname::Dns(name)) if !name.starts_with("*.") && name.contains('.') => Ok(()),
        _ => bad("the part after @ is not a domain name"),
    }
}

/// A CA bundle: absent, or PEM with at least one certificate.
fn check_ca_pem(field: &str, pem: Option<&str>) -> EngineResult<Option<String>> {
    let Some(pem) = pem.filter(|p| !p.trim().is_empty()) else {
        return Ok(None);
    };
    let mut count = 0;
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        cert.map_err(|e| EngineError::invalid_field(field, format!("not PEM ({e})")))?;
        count += 1;
    }
    if count == 0 {
        return Err(EngineError::invalid_field(
            field,
            "holds no certificate: give the CA's certificate in PEM (-----BEGIN CERTIFICATE-----)",
        ));
    }
    Ok(Some(pem.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_plain_and_cannot_end_a_header() {
        for good in ["ops@example.com", "a.b+tag@mail.example.org"] {
            assert!(check_address("f", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ops",
            "@example.com",
            "ops@",
            "ops@localhost",
            "Ops <ops@example.com>",
            "ops@example.com\r\nBcc: x@evil.test",
            "a b@example.com",
            "a..b@example.com",
            "ops@exa mple.com",
        ] {
            let error = check_address("email.to[0]", bad).unwrap_err();
            assert_eq!(error.field(), Some("email.to[0]"), "{bad}");
        }
    }

    fn webhook(url: &str, secret: Option<&str>) -> ChannelRequest {
        ChannelRequest {
            name: Some("hook".into()),
            webhook: Some(WebhookRequest {
                url: Some(url.into()),
                secret: secret.map(Into::into),
                ..WebhookRequest::default()
            }),
            ..ChannelRequest::default()
        }
    }

    #[test]
    fn each_refusal_names_its_field() {
        let cases: Vec<(ChannelRequest, &str)> = vec![
            (ChannelRequest::default(), "email"),
            (
                webhook("ftp://x.example", Some("0123456789abcdef")),
                "webhook.url",
            ),
            (
                webhook("http://x.example/h", Some("0123456789abcdef")),
                "webhook.url",
            ),
            (
                webhook("not a url", Some("0123456789abcdef")),
                "webhook.url",
            ),
            (webhook("https://x.example/h", None), "webhook.secret"),
            (
                webhook("https://x.example/h", Some("short")),
                "webhook.secret",
            ),
            (
                ChannelRequest {
                    digest_hour: Some(24),
                    digest: true,
                    ..webhook("https://x.example/h", Some("0123456789abcdef"))
                },
                "digest_hour",
            ),
            (
                ChannelRequest {
                    email: Some(EmailRequest {
                        host: "smtp.example.com".into(),
                        from: "certmgr@example.com".into(),
                        to: vec!["ops@example.com".into(), "bob@".into()],
                        ..EmailRequest::default()
                    }),
                    ..ChannelRequest::default()
                },
                "email.to[1]",
            ),
            (
                ChannelRequest {
                    email: Some(EmailRequest {
                        host: "smtp.example.com".into(),
                        from: "certmgr@example.com".into(),
                        to: vec!["ops@example.com".into()],
                        username: Some("u".into()),
                        ..EmailRequest::default()
                    }),
                    ..ChannelRequest::default()
                },
                "email.password",
            ),
            (
                ChannelRequest {
                    email: Some(EmailRequest {
                        host: "smtp.example.com".into(),
                        from: "certmgr@example.com".into(),
                        to: vec!["ops@example.com".into()],
                        ca_pem: Some("not pem".into()),
                        ..EmailRequest::default()
                    }),
                    ..ChannelRequest::default()
                },
                "email.ca_pem",
            ),
        ];
        for (request, field) in cases {
            let error = validate(&request, None).err().unwrap();
            assert_eq!(error.field(), Some(field), "{request:?}: {error}");
            assert_eq!(error.kind(), crate::ErrorKind::BadInput);
        }
    }

    #[test]
    fn a_valid_webhook_keeps_its_url_secret_and_shows_its_origin() {
        let valid = validate(
            &webhook(
                "https://hooks.example.com:8443/services/T0/B0/XYZ",
                Some("0123456789abcdef"),
            ),
            None,
        )
        .unwrap();
        let settings = serde_json::to_string(&valid.settings).unwrap();
        assert!(!settings.contains("XYZ"), "{settings}");
        assert!(!settings.contains("0123456789abcdef"), "{settings}");
        assert_eq!(
            valid.settings.webhook.unwrap().origin,
            "https://hooks.example.com:8443"
        );
        assert_eq!(valid.settings.events, NoticeEvent::ALL.to_vec());
        assert!(format!("{:?}", valid.secrets).contains("redacted"));
    }
}
