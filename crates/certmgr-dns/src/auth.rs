//! `[auth]` helpers: what templates cannot do — request signatures (AWS
//! SigV4, OVH, Exoscale) and tokens obtained first (OAuth2 client
//! credentials, Google service accounts).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_lc_rs::{digest, hmac, rand, signature};
use base64::Engine as _;
use percent_encoding::utf8_percent_encode;
use serde::Deserialize;

use crate::redact::URL_ESCAPE;

/// The helper a definition's `[auth]` table names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// AWS Signature Version 4 (Route53).
    AwsSigV4,
    /// OAuth2 client-credentials grant, bearer token (Azure).
    OAuth2ClientCredentials,
    /// Google service-account JWT exchanged for a bearer token (Cloud DNS).
    GoogleServiceAccount,
    /// OVH's `$1$` SHA-1 request signature.
    Ovh,
    /// Exoscale API v2 `EXO2-HMAC-SHA256`.
    Exoscale,
}

impl AuthKind {
    /// All kinds with their name in definitions, required and optional fields.
    pub const ALL: &'static [(
        AuthKind,
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
    )] = &[
        (
            AuthKind::AwsSigV4,
            "aws-sigv4",
            &["access_key_id", "secret_access_key", "region", "service"],
            &["session_token"],
        ),
        (
            AuthKind::OAuth2ClientCredentials,
            "oauth2-client-credentials",
            &["token_url", "client_id", "client_secret"],
            &["scope"],
        ),
        (
            AuthKind::GoogleServiceAccount,
            "google-service-account",
            &["credentials_json", "scope"],
            &["token_url"],
        ),
        (
            AuthKind::Ovh,
            "ovh",
            &["application_key", "application_secret", "consumer_key"],
            &[],
        ),
        (
            AuthKind::Exoscale,
            "exoscale",
            &["api_key", "api_secret"],
            &[],
        ),
    ];

    /// The kind called `name` in a definition.
    pub fn from_name(name: &str) -> Option<AuthKind> {
        Self::ALL.iter().find(|k| k.1 == name).map(|k| k.0)
    }

    /// Its name in definitions.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|k| k.0 == self)
            .map_or("unknown", |k| k.1)
    }

    /// Whether it needs a token fetched before the first request.
    pub fn uses_token(self) -> bool {
        matches!(
            self,
            AuthKind::OAuth2ClientCredentials | AuthKind::GoogleServiceAccount
        )
    }
}

/// A request as it will be sent, for signing.
pub(crate) struct Outgoing<'a> {
    pub method: &'a str,
    pub url: &'a url::Url,
    pub content_type: Option<&'a str>,
    pub body: &'a str,
}

/// Headers that sign `req` for a signing kind; `fields` are the rendered
/// `[auth]` fields. Token kinds return the bearer header from `token`.
pub(crate) fn sign(
    kind: AuthKind,
    fields: &BTreeMap<String, String>,
    req: &Outgoing<'_>,
    now: SystemTime,
    token: Option<&str>,
) -> Result<Vec<(String, String)>, String> {
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or("");
    match kind {
        AuthKind::AwsSigV4 => Ok(aws_sigv4(
            &AwsKey {
                access_key_id: field("access_key_id"),
                secret_access_key: field("secret_access_key"),
                session_token: field("session_token"),
                region: field("region"),
                service: field("service"),
            },
            req,
            now,
        )),
        AuthKind::Ovh => Ok(ovh(
            field("application_key"),
            field("application_secret"),
            field("consumer_key"),
            req,
            now,
        )),
        AuthKind::Exoscale => Ok(exoscale(field("api_key"), field("api_secret"), req, now)),
        AuthKind::OAuth2ClientCredentials | AuthKind::GoogleServiceAccount => match token {
            Some(t) => Ok(vec![("authorization".into(), format!("Bearer {t}"))]),
            None => Err("no access token was obtained".into()),
        },
    }
}

fn unix(now: SystemTime) -> u64 {
    now.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data)
        .as_ref()
        .to_vec()
}

/// AWS credentials and scope for SigV4.
pub(crate) struct AwsKey<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

/// RFC 3986 encoding with unreserved characters kept, as SigV4 requires.
fn aws_encode(s: &str) -> String {
    utf8_percent_encode(s, URL_ESCAPE).to_string()
}

/// `host[:port]` as the client sends it in the `Host` header.
fn host_header(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// AWS Signature Version 4 headers (`x-amz-date`, optional
/// `x-amz-security-token`, `authorization`).
pub(crate) fn aws_sigv4(
    key: &AwsKey<'_>,
    req: &Outgoing<'_>,
    now: SystemTime,
) -> Vec<(String, String)> {
    let t = time::OffsetDateTime::UNIX_EPOCH + Duration::from_secs(unix(now));
    let date = format!("{:04}{:02}{:02}", t.year(), u8::from(t.month()), t.day());
    let amz_date = format!("{date}T{:02}{:02}{:02}Z", t.hour(), t.minute(), t.second());

    // Non-S3 services: each path segment URI-encoded again.
    let path = req.url.path();
    let canonical_uri = if path.is_empty() {
        "/".to_string()
    } else {
        path.split('/')
            .map(aws_encode)
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut query: Vec<(String, String)> = req
        .url
        .query_pairs()
        .map(|(k, v)| (aws_encode(&k), aws_encode(&v)))
        .collect();
    query.sort();
    let canonical_query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");

    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), host_header(req.url)),
        ("x-amz-date".into(), amz_date.clone()),
    ];
    if let Some(ct) = req.content_type {
        headers.push(("content-type".into(), ct.trim().to_string()));
    }
    if !key.session_token.is_empty() {
        headers.push(("x-amz-security-token".into(), key.session_token.to_string()));
    }
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{}",
        req.method,
        sha256_hex(req.body.as_bytes())
    );
    let scope = format!("{date}/{}/{}/aws4_request", key.region, key.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let k_date = hmac_sha256(
        format!("AWS4{}", key.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac_sha256(&k_date, key.region.as_bytes());
    let k_service = hmac_sha256(&k_region, key.service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"aws4_request");
    let signature = hex::encode(hmac_sha256(&k_signing, string_to_sign.as_bytes()));

    let mut out = vec![("x-amz-date".to_string(), amz_date)];
    if !key.session_token.is_empty() {
        out.push(("x-amz-security-token".into(), key.session_token.to_string()));
    }
    out.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            key.access_key_id
        ),
    ));
    out
}

/// OVH: `$1$` + hex SHA-1 of `AS+CK+METHOD+URL+BODY+TIMESTAMP`.
pub(crate) fn ovh(
    application_key: &str,
    application_secret: &str,
    consumer_key: &str,
    req: &Outgoing<'_>,
    now: SystemTime,
) -> Vec<(String, String)> {
    let ts = unix(now).to_string();
    let payload = format!(
        "{application_secret}+{consumer_key}+{}+{}+{}+{ts}",
        req.method,
        req.url.as_str(),
        req.body
    );
    let sig = hex::encode(digest::digest(
        &digest::SHA1_FOR_LEGACY_USE_ONLY,
        payload.as_bytes(),
    ));
    vec![
        ("x-ovh-application".into(), application_key.to_string()),
        ("x-ovh-consumer".into(), consumer_key.to_string()),
        ("x-ovh-timestamp".into(), ts),
        ("x-ovh-signature".into(), format!("$1${sig}")),
    ]
}

/// How long an Exoscale signature stays valid.
const EXOSCALE_VALIDITY: u64 = 600;

/// Exoscale API v2: `EXO2-HMAC-SHA256`, signing method and path, body, the
/// query values (keys sorted, listed in `signed-query-args`), no headers,
/// and the expiry.
pub(crate) fn exoscale(
    api_key: &str,
    api_secret: &str,
    req: &Outgoing<'_>,
    now: SystemTime,
) -> Vec<(String, String)> {
    let expires = (unix(now) + EXOSCALE_VALIDITY).to_string();
    let mut query: Vec<(String, String)> = req
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    query.sort();
    let message = [
        format!("{} {}", req.method, req.url.path()),
        req.body.to_string(),
        query.iter().map(|(_, v)| v.as_str()).collect::<String>(),
        String::new(),
        expires.clone(),
    ]
    .join("\n");
    let signature = base64::engine::general_purpose::STANDARD
        .encode(hmac_sha256(api_secret.as_bytes(), message.as_bytes()));
    let mut header = format!("EXO2-HMAC-SHA256 credential={api_key}");
    if !query.is_empty() {
        header.push_str(",signed-query-args=");
        header.push_str(
            &query
                .iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>()
                .join(";"),
        );
    }
    header.push_str(&format!(",expires={expires},signature={signature}"));
    vec![("authorization".into(), header)]
}

/// A token request to send: URL and form fields.
pub(crate) struct TokenRequest {
    pub url: String,
    pub form: Vec<(String, String)>,
}

/// The fields of a Google service-account key file certmgr uses.
#[derive(Deserialize)]
struct ServiceAccountKey {
    client_email: String,
    private_key: String,
    #[serde(default)]
    token_uri: Option<String>,
}

/// The token request for a token kind: the client-credentials grant, or a
/// signed JWT for a Google service account. Errors say what is wrong with
/// the key or fields, never echoing them.
pub(crate) fn token_request(
    kind: AuthKind,
    fields: &BTreeMap<String, String>,
    now: SystemTime,
) -> Result<TokenRequest, String> {
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    match kind {
        AuthKind::OAuth2ClientCredentials => {
            let mut form = vec![
                ("grant_type".to_string(), "client_credentials".to_string()),
                ("client_id".to_string(), field("client_id")),
                ("client_secret".to_string(), field("client_secret")),
            ];
            let scope = field("scope");
            if !scope.is_empty() {
                form.push(("scope".into(), scope));
            }
            Ok(TokenRequest {
                url: field("token_url"),
                form,
            })
        }
        AuthKind::GoogleServiceAccount => {
            let key: ServiceAccountKey = serde_json::from_str(&field("credentials_json"))
                .map_err(|e| {
                    format!(
                        "the service account key is not a Google JSON key file ({}); download a JSON key for the service account and give its content",
                        e.classify_name()
                    )
                })?;
            let url = match field("token_url") {
                u if !u.is_empty() => u,
                _ => key
                    .token_uri
                    .clone()
                    .unwrap_or_else(|| "https://oauth2.googleapis.com/token".into()),
            };
            let assertion = google_jwt(&key, &field("scope"), &url, now)?;
            Ok(TokenRequest {
                url,
                form: vec![
                    (
                        "grant_type".into(),
                        "urn:ietf:params:oauth:grant-type:jwt-bearer".into(),
                    ),
                    ("assertion".into(), assertion),
                ],
            })
        }
        _ => Err(format!("{} does not use a token", kind.name())),
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "fields missing",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}

/// An RS256 JWT for Google's token endpoint, valid one hour.
fn google_jwt(
    key: &ServiceAccountKey,
    scope: &str,
    aud: &str,
    now: SystemTime,
) -> Result<String, String> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let iat = unix(now);
    let header = b64.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "iss": key.client_email,
        "scope": scope,
        "aud": aud,
        "iat": iat,
        "exp": iat + 3600,
    });
    let claims = b64.encode(claims.to_string());
    let signing_input = format!("{header}.{claims}");
    let der = pem::parse(key.private_key.as_bytes())
        .map_err(|_| "the service account key's private_key is not a PEM key".to_string())?;
    let pair = signature::RsaKeyPair::from_pkcs8(der.contents()).map_err(|_| {
        "the service account key's private_key is not an RSA PKCS#8 key".to_string()
    })?;
    let mut sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(
        &signature::RSA_PKCS1_SHA256,
        &rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut sig,
    )
    .map_err(|_| "signing the token request failed".to_string())?;
    Ok(format!("{signing_input}.{}", b64.encode(sig)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// AWS's SigV4 test suite, "get-vanilla" and "post-x-www-form-urlencoded".
    #[test]
    fn sigv4_matches_the_aws_test_suite() {
        let key = AwsKey {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            session_token: "",
            region: "us-east-1",
            service: "service",
        };
        // 2015-08-30T12:36:00Z
        let now = at(1_440_938_160);
        let url = url::Url::parse("https://example.amazonaws.com/").unwrap();
        let h = aws_sigv4(
            &key,
            &Outgoing {
                method: "GET",
                url: &url,
                content_type: None,
                body: "",
            },
            now,
        );
        assert_eq!(h[0], ("x-amz-date".into(), "20150830T123600Z".into()));
        assert_eq!(
            h[1].1,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );

        let h = aws_sigv4(
            &key,
            &Outgoing {
                method: "POST",
                url: &url,
                content_type: Some("application/x-www-form-urlencoded"),
                body: "Param1=value1",
            },
            now,
        );
        assert_eq!(
            h[1].1,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
        );
    }

    #[test]
    fn sigv4_query_is_sorted_and_encoded() {
        let key = AwsKey {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            session_token: "",
            region: "us-east-1",
            service: "service",
        };
        // get-vanilla-query-order-key-case: ?Param2=value2&Param1=value1
        let url =
            url::Url::parse("https://example.amazonaws.com/?Param2=value2&Param1=value1").unwrap();
        let h = aws_sigv4(
            &key,
            &Outgoing {
                method: "GET",
                url: &url,
                content_type: None,
                body: "",
            },
            at(1_440_938_160),
        );
        assert!(
            h[1].1.ends_with(
                "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
            ),
            "{}",
            h[1].1
        );
    }

    #[test]
    fn ovh_signature_is_sha1_of_the_documented_string() {
        let url =
            url::Url::parse("https://eu.api.ovh.com/1.0/domain/zone/example.com/record").unwrap();
        let h = ovh(
            "AK",
            "AS",
            "CK",
            &Outgoing {
                method: "POST",
                url: &url,
                content_type: Some("application/json"),
                body: "{}",
            },
            at(1_700_000_000),
        );
        let want = hex::encode(digest::digest(
            &digest::SHA1_FOR_LEGACY_USE_ONLY,
            b"AS+CK+POST+https://eu.api.ovh.com/1.0/domain/zone/example.com/record+{}+1700000000",
        ));
        assert_eq!(h[3], ("x-ovh-signature".into(), format!("$1${want}")));
        assert_eq!(h[2], ("x-ovh-timestamp".into(), "1700000000".into()));
    }

    #[test]
    fn exoscale_signs_path_body_query_values_and_expiry() {
        let url =
            url::Url::parse("https://api-ch-gva-2.exoscale.com/v2/dns-domain?b=2&a=1").unwrap();
        let h = exoscale(
            "EXOkey",
            "secret",
            &Outgoing {
                method: "GET",
                url: &url,
                content_type: None,
                body: "",
            },
            at(1_700_000_000),
        );
        let msg = "GET /v2/dns-domain\n\n12\n\n1700000600";
        let want = base64::engine::general_purpose::STANDARD
            .encode(hmac_sha256(b"secret", msg.as_bytes()));
        assert_eq!(
            h[0].1,
            format!(
                "EXO2-HMAC-SHA256 credential=EXOkey,signed-query-args=a;b,expires=1700000600,signature={want}"
            )
        );
    }

    #[test]
    fn bad_service_account_keys_are_explained() {
        let mut f = BTreeMap::new();
        f.insert("credentials_json".to_string(), "not json".to_string());
        f.insert("scope".to_string(), "s".to_string());
        let e = token_request(AuthKind::GoogleServiceAccount, &f, at(0))
            .err()
            .unwrap();
        assert!(e.contains("not a Google JSON key file"), "{e}");
        f.insert(
            "credentials_json".to_string(),
            r#"{"client_email":"a@b","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}"#
                .to_string(),
        );
        let e = token_request(AuthKind::GoogleServiceAccount, &f, at(0))
            .err()
            .unwrap();
        assert!(e.contains("not an RSA PKCS#8 key"), "{e}");
    }
}
