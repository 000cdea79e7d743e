//! Sending one request: the destination check, retries, bounded answers.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::answer::{Answer, MAX_BODY};
use crate::destination::{Refusal, blocked_in};
use crate::engine::{Engine, Request, Session};
use crate::error::DnsError;
use crate::trace::{Trace, TraceEvent};

/// Longest `Retry-After` the engine honours before retrying.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Most attempts of one request, whatever the retry policy says.
const MAX_ATTEMPTS: u32 = 10;

/// Longest wait between two attempts of one request.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

impl Engine {
    /// Sends one request, retrying 5xx, 429 and connection errors
    /// (honouring `Retry-After` up to a minute), authenticating each attempt.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn exchange(
        &self,
        provider: &str,
        auth: Option<&crate::definition::AuthSpec>,
        step: &str,
        request: &Request,
        sign: bool,
        session: &Session<'_>,
        trace: &dyn Trace,
    ) -> Result<Answer, DnsError> {
        let attempts = self.retry.attempts.clamp(1, MAX_ATTEMPTS);
        let mut backoff = self.retry.initial_backoff.min(MAX_BACKOFF);
        let mut attempt = 0;
        let redactor = &session.redactor;
        // The one place requests leave: check where this one goes first.
        let refuse = |refusal: Refusal, host: String, message: String| DnsError::Destination {
            provider: provider.to_string(),
            step: step.to_string(),
            host: redactor.apply(&host),
            refusal,
            message: redactor.apply(&message),
        };
        let host = crate::destination::destination(&request.url).unwrap_or_default();
        session
            .allowed
            .check(&request.url)
            .map_err(|(refusal, message)| refuse(refusal, host.clone(), message))?;
        let client = if session.allowed.access.private_network {
            &self.open_client
        } else {
            &self.client
        };
        loop {
            attempt += 1;
            let mut headers = request.headers.clone();
            if sign && let Some(spec) = auth {
                let signed = crate::auth::sign(
                    spec.kind,
                    session.auth_fields.as_ref().unwrap_or(&BTreeMap::new()),
                    &crate::auth::Outgoing {
                        method: request.method.as_str(),
                        url: &request.url,
                        content_type: request.content_type.as_deref(),
                        body: &request.body,
                    },
                    self.now(),
                    session.token.as_deref().map(String::as_str),
                )
                .map_err(|m| DnsError::Auth {
                    provider: provider.to_string(),
                    kind: spec.kind.name().to_string(),
                    message: m,
                })?;
                headers.extend(signed);
            }
            trace.event(&TraceEvent::Request {
                step: step.to_string(),
                attempt,
                method: request.method.to_string(),
                url: redactor.apply(request.url.as_str()),
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.clone(), redactor.apply(v)))
                    .collect(),
                body: redactor.apply(&request.body),
            });
            let mut req = client.request(request.method.clone(), request.url.clone());
            for (k, v) in &headers {
                req = req.header(k.as_str(), v.as_str());
            }
            if let Some(ct) = &request.content_type {
                req = req.header("content-type", ct.as_str());
            }
            if !request.body.is_empty() || request.content_type.is_some() {
                req = req.body(request.body.clone());
            }
            let outcome = match req.send().await {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    let headers: BTreeMap<String, String> = resp
                        .headers()
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.as_str().to_ascii_lowercase(),
                                String::from_utf8_lossy(v.as_bytes()).into_owned(),
                            )
                        })
                        .collect();
                    match read_body(&mut resp).await {
                        Ok(Some(text)) => Ok((status, headers, text)),
                        Ok(None) => {
                            let message = format!(
                                "{} {} answered HTTP {status} with a body over {} MiB; a DNS API answer is far smaller, check the API URL",
                                request.method,
                                redactor.apply(request.url.as_str()),
                                MAX_BODY / (1024 * 1024)
                            );
                            trace.event(&TraceEvent::Failure {
                                step: step.to_string(),
                                attempt,
                                message: message.clone(),
                            });
                            return Err(DnsError::Refused {
                                provider: provider.to_string(),
                                step: step.to_string(),
                                message,
                            });
                        }
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            match outcome {
                Ok((status, headers, text)) => {
                    trace.event(&TraceEvent::Response {
                        step: step.to_string(),
                        attempt,
                        status,
                        body: redactor.apply(&text),
                    });
                    let retryable = status == 429 || (500..=599).contains(&status);
                    if retryable && attempt < attempts {
                        let wait = retry_after(&headers).unwrap_or(backoff);
                        tokio::time::sleep(wait).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                    return Ok(Answer::new(status, headers, text, attempt));
                }
                Err(e) => {
                    if let Some(blocked) = blocked_in(&e) {
                        return Err(refuse(
                            Refusal::PrivateNetwork,
                            blocked.host.clone(),
                            blocked.to_string(),
                        ));
                    }
                    let message = redactor.apply(&error_chain(&e));
                    trace.event(&TraceEvent::Failure {
                        step: step.to_string(),
                        attempt,
                        message: message.clone(),
                    });
                    if attempt < attempts {
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                        continue;
                    }
                    return Err(DnsError::Transport {
                        provider: provider.to_string(),
                        step: step.to_string(),
                        method: request.method.to_string(),
                        url: redactor.apply(request.url.as_str()),
                        attempts: attempt,
                        message,
                    });
                }
            }
        }
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not worth a parser here:
/// APIs that rate limit send seconds), capped at a minute.
fn retry_after(headers: &BTreeMap<String, String>) -> Option<Duration> {
    let secs: u64 = headers.get("retry-after")?.trim().parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

/// The body as text, read up to [`MAX_BODY`] bytes; `Ok(None)` when it is longer.
async fn read_body(resp: &mut reqwest::Response) -> Result<Option<String>, reqwest::Error> {
    if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(String::from_utf8_lossy(&body).into_owned()))
}
