//! Webhooks: one POST of JSON per message, in the channel's format; the
//! generic format signed (see [`super::message`]). No redirects (they
//! could carry the notices elsewhere), a timeout, and any answer but 2xx
//! is a failure whose first bytes the error quotes.

use std::time::Duration;

use super::channel::{Secrets, WebhookFormat, WebhookSettings};
use super::message::{
    DELIVERY_HEADER, EVENT_HEADER, Outgoing, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature,
};

/// Longest a webhook request may take.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(15);

/// POST `message` per `settings`; the error says what failed, in words
/// (never the URL's path or query, which may be a secret).
pub(crate) async fn send(
    settings: &WebhookSettings,
    secrets: &Secrets,
    message: &Outgoing,
) -> Result<(), String> {
    let Some(url) = secrets.url.as_deref() else {
        return Err("the channel has no URL: set webhook.url".into());
    };
    let mut builder = reqwest::Client::builder()
        .timeout(WEBHOOK_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("certmgr/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = &settings.ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| format!("the channel's CA bundle: {e}"))?;
        builder = builder.tls_certs_only(certs);
    }
    let client = builder
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
    let payload = match settings.format {
        WebhookFormat::Generic => message.generic_json(),
        WebhookFormat::Slack => message.slack_json(),
        WebhookFormat::Teams => message.teams_json(),
    };
    let body = serde_json::to_vec(&payload).map_err(|e| e.to_string())?;
    let mut request = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(EVENT_HEADER, message.purpose.as_str())
        .header(DELIVERY_HEADER, &message.id);
    if let Some(secret) = &secrets.hmac_secret {
        request = request
            .header(TIMESTAMP_HEADER, message.at.to_string())
            .header(
                SIGNATURE_HEADER,
                signature(secret.as_bytes(), message.at, &body),
            );
    }
    let origin = &settings.origin;
    let answer = request.body(body).send().await.map_err(|e| {
        let why = if e.is_timeout() {
            format!("no answer within {} s", WEBHOOK_TIMEOUT.as_secs())
        } else if e.is_connect() {
            format!("cannot connect ({})", source_chain(&e))
        } else {
            source_chain(&e)
        };
        format!("the webhook at {origin} failed: {why}")
    })?;
    let status = answer.status();
    if status.is_success() {
        return Ok(());
    }
    let text = answer.text().await.unwrap_or_default();
    let text: String = text.chars().take(200).collect();
    Err(format!(
        "the webhook at {origin} answered HTTP {}{}",
        status.as_u16(),
        if text.trim().is_empty() {
            String::new()
        } else {
            format!(": {}", text.trim())
        }
    ))
}

/// The error and its causes, without the URL reqwest puts in its message.
fn source_chain(error: &reqwest::Error) -> String {
    let mut out = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        out.push(e.to_string());
        source = e.source();
    }
    if out.is_empty() {
        "the request failed".to_owned()
    } else {
        out.join(": ")
    }
}
