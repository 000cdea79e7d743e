//! The `[oidc]` section of certmgr's configuration.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use certmgr_core::Role;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::OidcError;

/// Where the user's groups are read from. Providers differ: some put the
/// groups claim in the ID token, some only in the userinfo response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupsSource {
    /// The ID token when it carries the claim; otherwise the userinfo
    /// response, when the provider has a userinfo endpoint.
    #[default]
    Auto,
    /// The ID token only: a missing claim means no groups.
    IdToken,
    /// The userinfo response only (it is always fetched).
    Userinfo,
}

/// The client secret registered at the provider. Its own type so that it never
/// shows in `Debug` output (logs, panics).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Wraps a secret read from elsewhere (an environment variable, a file).
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    /// The secret itself, to send to the provider.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Written out (an effective configuration shown to a user), the secret is
/// `[redacted]`: it is read from configuration, never shown back.
impl Serialize for ClientSecret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[redacted]")
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// How certmgr signs users in with an OpenID provider: the client registered
/// there, and which of the provider's groups get which certmgr role.
///
/// ```toml
/// [oidc]
/// issuer_url = "https://id.example.com/realms/corp"
/// client_id = "certmgr"
/// client_secret = "..."
/// redirect_url = "https://certmgr.example.com/api/oidc/callback"
/// post_logout_redirect_url = "https://certmgr.example.com/"
/// scopes = ["openid", "profile", "email", "groups"]
///
/// [oidc.group_roles]
/// "pki-admins" = "admin"
/// "pki-operators" = "operator"
/// "staff" = "viewer"
/// ```
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer URL: discovery reads
    /// `<issuer_url>/.well-known/openid-configuration`, and every ID token's
    /// `iss` must equal it. HTTPS, except on a loopback address.
    pub issuer_url: String,
    /// The client id registered at the provider; every ID token's `aud` must
    /// contain it.
    pub client_id: String,
    /// The client secret registered at the provider; absent for a public
    /// client (PKCE alone then protects the code).
    #[serde(default)]
    pub client_secret: Option<ClientSecret>,
    /// Where the provider sends the browser back with the code; it must be
    /// registered at the provider exactly as written here.
    pub redirect_url: String,
    /// Where the provider sends the browser after logout; it must be
    /// registered at the provider. Absent: the provider's own page.
    #[serde(default)]
    pub post_logout_redirect_url: Option<String>,
    /// The scopes asked for. `openid` is always asked for; providers that
    /// hand out groups only on request need their scope here (often `groups`).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The claim that lists the user's groups (a list of strings, or one
    /// string), named exactly, dots included.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Where the groups claim is read from.
    #[serde(default)]
    pub groups_source: GroupsSource,
    /// Group name (exact) to certmgr role. A user gets the highest role of
    /// their mapped groups; a user in no mapped group gets nothing.
    #[serde(default)]
    pub group_roles: BTreeMap<String, Role>,
    /// How long a login may take between its start and the browser's
    /// return, in seconds.
    #[serde(default = "default_login_timeout_secs")]
    pub login_timeout_secs: u64,
    /// Timeout of each request to the provider, in seconds.
    #[serde(default = "default_http_timeout_secs")]
    pub http_timeout_secs: u64,
}

fn default_scopes() -> Vec<String> {
    ["openid", "profile", "email"].map(str::to_owned).to_vec()
}

fn default_groups_claim() -> String {
    "groups".to_owned()
}

fn default_login_timeout_secs() -> u64 {
    600
}

fn default_http_timeout_secs() -> u64 {
    10
}

/// Parsed forms of the configuration's URLs, checked once.
pub(crate) struct CheckedUrls {
    pub(crate) issuer: Url,
    pub(crate) redirect: Url,
    pub(crate) post_logout_redirect: Option<Url>,
}

impl OidcConfig {
    /// A configuration with the defaults for everything optional; mostly for
    /// code that builds its configuration rather than reading it.
    pub fn new(issuer_url: &str, client_id: &str, redirect_url: &str) -> Self {
        Self {
            issuer_url: issuer_url.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: None,
            redirect_url: redirect_url.to_owned(),
            post_logout_redirect_url: None,
            scopes: default_scopes(),
            groups_claim: default_groups_claim(),
            groups_source: GroupsSource::default(),
            group_roles: BTreeMap::new(),
            login_timeout_secs: default_login_timeout_secs(),
            http_timeout_secs: default_http_timeout_secs(),
        }
    }

    /// Checks what can be checked without the provider, and parses the URLs.
    pub(crate) fn check(&self) -> Result<CheckedUrls, OidcError> {
        let issuer = parse_url("issuer_url", &self.issuer_url)?;
        if issuer.scheme() != "https" && !is_loopback(&issuer) {
            return Err(config(
                "issuer_url",
                format!(
                    "{} is not HTTPS: tokens and keys must not travel in clear text (plain HTTP is allowed on loopback only)",
                    self.issuer_url
                ),
            ));
        }
        let redirect = parse_url("redirect_url", &self.redirect_url)?;
        let post_logout_redirect = self
            .post_logout_redirect_url
            .as_deref()
            .map(|u| parse_url("post_logout_redirect_url", u))
            .transpose()?;
        if self.client_id.trim().is_empty() {
            return Err(config("client_id", "is empty".to_owned()));
        }
        if self.groups_claim.is_empty() {
            return Err(config("groups_claim", "is empty".to_owned()));
        }
        if self.group_roles.is_empty() {
            return Err(config(
                "group_roles",
                "maps no group to a role, so nobody could sign in; map at least one group"
                    .to_owned(),
            ));
        }
        if self.login_timeout_secs == 0 || self.http_timeout_secs == 0 {
            return Err(config(
                "login_timeout_secs/http_timeout_secs",
                "must be more than 0".to_owned(),
            ));
        }
        Ok(CheckedUrls {
            issuer,
            redirect,
            post_logout_redirect,
        })
    }
}

fn config(field: &'static str, problem: String) -> OidcError {
    OidcError::Config { field, problem }
}

fn parse_url(field: &'static str, text: &str) -> Result<Url, OidcError> {
    let url = Url::parse(text).map_err(|e| config(field, format!("{text:?} is not a URL: {e}")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(config(field, format!("{text:?} is not an http(s) URL")));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(text: &str) -> OidcConfig {
        #[derive(Deserialize)]
        struct File {
            oidc: OidcConfig,
        }
        let file: File = toml::from_str(text).expect("valid TOML config");
        file.oidc
    }

    const FULL: &str = r#"
        [oidc]
        issuer_url = "https://id.example.com/realms/corp"
        client_id = "certmgr"
        client_secret = "hunter2-secret"
        redirect_url = "https://certmgr.example.com/auth/oidc/callback"
        scopes = ["openid", "groups"]
        groups_claim = "https://example.com/groups"
        groups_source = "userinfo"
        [oidc.group_roles]
        "pki-admins" = "admin"
        "staff" = "viewer"
    "#;

    #[test]
    fn reads_from_toml_and_checks() {
        let config = from_toml(FULL);
        assert_eq!(config.group_roles.get("pki-admins"), Some(&Role::Admin));
        assert_eq!(config.groups_source, GroupsSource::Userinfo);
        assert_eq!(config.groups_claim, "https://example.com/groups");
        assert_eq!(config.login_timeout_secs, 600);
        let urls = config.check().expect("a valid config");
        assert_eq!(urls.issuer.host_str(), Some("id.example.com"));
    }

    #[test]
    fn debug_redacts_the_client_secret() {
        let shown = format!("{:?}", from_toml(FULL));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    #[test]
    fn defaults() {
        let config = from_toml(
            r#"
            [oidc]
            issuer_url = "http://127.0.0.1:8080/openid"
            client_id = "certmgr"
            redirect_url = "http://127.0.0.1:9000/cb"
            group_roles = { admins = "admin" }
            "#,
        );
        assert_eq!(config.groups_claim, "groups");
        assert_eq!(config.groups_source, GroupsSource::Auto);
        assert_eq!(config.scopes, ["openid", "profile", "email"]);
        assert!(config.client_secret.is_none());
        config.check().expect("plain HTTP on loopback is allowed");
    }

    #[test]
    fn refusals_name_the_field() {
        let mut config = OidcConfig::new("http://id.example.com", "certmgr", "https://c/cb");
        config.group_roles.insert("a".to_owned(), Role::Admin);
        let err = config
            .check()
            .err()
            .expect("plain HTTP off loopback is refused");
        assert!(err.to_string().contains("issuer_url"), "{err}");

        let config = OidcConfig::new("https://id.example.com", "certmgr", "https://c/cb");
        let err = config.check().err().expect("an empty role map is refused");
        assert!(err.to_string().contains("group_roles"), "{err}");

        let typo: Result<OidcConfig, _> = toml::from_str(
            "issuer_url = \"https://a\"\nclient_id = \"c\"\nredirect_url = \"https://b\"\ngroup_role = {}",
        );
        assert!(typo.is_err(), "unknown fields are refused");
    }
}
