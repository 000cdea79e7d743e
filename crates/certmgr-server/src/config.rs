//! The server's configuration: one TOML file, environment variables and
//! flags (flags win, then the environment, then the file, then the
//! defaults). The command line reads the environment and the flags and
//! lays them over the file with [`ServerConfig::overlay`];
//! [`ServerConfig::to_toml`] shows the effective result, secrets redacted.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A listener's address, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    /// Not listening.
    Off,
    /// Listening on this address.
    At(SocketAddr),
}

impl Listen {
    /// The address, when on.
    pub fn address(self) -> Option<SocketAddr> {
        match self {
            Listen::Off => None,
            Listen::At(address) => Some(address),
        }
    }
}

impl FromStr for Listen {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if text == "off" {
            return Ok(Listen::Off);
        }
        text.parse().map(Listen::At).map_err(|_| {
            format!("{text:?}: give an address and port (127.0.0.1:8443, [::]:443) or off")
        })
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Off => f.write_str("off"),
            Listen::At(address) => address.fmt(f),
        }
    }
}

impl Serialize for Listen {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Listen {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// How the API is served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// The credential whose certificate the API serves; `certmgr-server`
    /// is made and issued by the MicroCA `default` on first start.
    pub credential: String,
    /// The hostnames of that first certificate.
    pub hostnames: Vec<String>,
    /// Serve the API over plain HTTP (behind a TLS-terminating proxy only).
    pub plain_http: bool,
    /// Seconds between looks for a new version of the credential (renewed
    /// or imported), which is then served without a restart; at least 1.
    pub refresh_secs: u64,
}

impl Default for TlsConfig {
    fn default() -> Self {
        let mut hostnames: Vec<String> =
            ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
        let host = certmgr_engine::instance::host_name();
        if host.parse::<certmgr_core::Hostname>().is_ok() && !hostnames.contains(&host) {
            hostnames.push(host);
        }
        TlsConfig {
            credential: certmgr_engine::serving::SERVER_CREDENTIAL.into(),
            hostnames,
            plain_http: false,
            refresh_secs: crate::tls::REFRESH_SECS,
        }
    }
}

/// How the server writes its log on stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event: `certmgr server: ...`.
    #[default]
    Text,
    /// One JSON object per line: timestamp, level, target, message and the
    /// event's fields, for log collectors.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("{text:?}: the log format is text or json")),
        }
    }
}

/// Everything `certmgr server` can be told.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// The API and web UI (HTTPS).
    pub listen: Listen,
    /// HTTP-01 answers; every other request is redirected to the API.
    pub http_listen: Listen,
    /// TLS-ALPN-01 answers (and HTTP-01 over HTTPS).
    pub https_listen: Listen,
    /// Seconds between renewal runs; 0 turns the scheduler off.
    pub renew_interval_secs: u64,
    /// The API's certificate.
    pub tls: TlsConfig,
    /// Single sign-on.
    pub oidc: Option<certmgr_oidc::OidcConfig>,
    /// The log's format on stderr: `text` (default) or `json`.
    pub log_format: LogFormat,
}

/// The API's default address: this machine only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";

impl Default for ServerConfig {
    fn default() -> Self {
        let at = |text: &str| text.parse().unwrap_or(Listen::Off);
        ServerConfig {
            listen: at(DEFAULT_LISTEN),
            http_listen: at("0.0.0.0:80"),
            https_listen: at("0.0.0.0:443"),
            renew_interval_secs: 3600,
            tls: TlsConfig::default(),
            oidc: None,
            log_format: LogFormat::Text,
        }
    }
}

/// What the environment and the flags set, each `None` when not given.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--listen` / `CERTMGR_LISTEN`.
    pub listen: Option<Listen>,
    /// `--http-listen` / `CERTMGR_HTTP_LISTEN`.
    pub http_listen: Option<Listen>,
    /// `--https-listen` / `CERTMGR_HTTPS_LISTEN`.
    pub https_listen: Option<Listen>,
    /// `--renew-interval` / `CERTMGR_RENEW_INTERVAL`.
    pub renew_interval_secs: Option<u64>,
    /// `--tls-credential` / `CERTMGR_TLS_CREDENTIAL`.
    pub tls_credential: Option<String>,
    /// `--plain-http`.
    pub plain_http: Option<bool>,
    /// `--log-format` / `CERTMGR_LOG_FORMAT`.
    pub log_format: Option<LogFormat>,
}

impl ServerConfig {
    /// Read a configuration file's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Lay the environment's and the flags' values over this configuration.
    pub fn overlay(mut self, overrides: &Overrides) -> Self {
        if let Some(listen) = overrides.listen {
            self.listen = listen;
        }
        if let Some(listen) = overrides.http_listen {
            self.http_listen = listen;
        }
        if let Some(listen) = overrides.https_listen {
            self.https_listen = listen;
        }
        if let Some(secs) = overrides.renew_interval_secs {
            self.renew_interval_secs = secs;
        }
        if let Some(name) = &overrides.tls_credential {
            self.tls.credential = name.clone();
        }
        if let Some(plain) = overrides.plain_http {
            self.tls.plain_http = plain;
        }
        if let Some(format) = overrides.log_format {
            self.log_format = format;
        }
        self
    }

    /// The effective configuration as TOML; secrets show as `[redacted]`.
    pub fn to_toml(&self) -> Result<String, String> {
        toml::to_string_pretty(self).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_which_wins_over_the_defaults() {
        let file = ServerConfig::parse(
            "listen = \"0.0.0.0:9443\"\nhttp_listen = \"off\"\nrenew_interval_secs = 600\n",
        )
        .unwrap();
        assert_eq!(file.listen.to_string(), "0.0.0.0:9443");
        assert_eq!(file.http_listen, Listen::Off);
        assert_eq!(file.https_listen.to_string(), "0.0.0.0:443");
        let effective = file.overlay(&Overrides {
            listen: Some("127.0.0.1:1".parse().unwrap()),
            ..Overrides::default()
        });
        assert_eq!(effective.listen.to_string(), "127.0.0.1:1");
        assert_eq!(effective.renew_interval_secs, 600);
        assert!(
            ServerConfig::parse("listen = \"nowhere\"")
                .unwrap_err()
                .contains("or off")
        );
        assert_eq!(
            ServerConfig::parse("log_format = \"json\"")
                .unwrap()
                .log_format,
            LogFormat::Json
        );
        assert!(
            ServerConfig::parse("log_format = \"xml\"")
                .unwrap_err()
                .contains("log_format")
        );
        assert!(
            ServerConfig::parse("lisen = \"127.0.0.1:1\"")
                .unwrap_err()
                .contains("lisen")
        );
    }

    #[test]
    fn the_printed_configuration_redacts_the_client_secret() {
        let config = ServerConfig::parse(
            "[oidc]\nissuer_url = \"https://id.example.test\"\nclient_id = \"certmgr\"\n\
             client_secret = \"s3cr3t-value\"\nredirect_url = \"https://certmgr.example.test/api/oidc/callback\"\n\
             [oidc.group_roles]\nadmins = \"admin\"\n",
        )
        .unwrap();
        let text = config.to_toml().unwrap();
        assert!(!text.contains("s3cr3t-value"), "{text}");
        assert!(text.contains("client_secret = \"[redacted]\""), "{text}");
        assert!(text.contains("listen = \"127.0.0.1:8443\""), "{text}");
        assert!(text.contains("refresh_secs = 60"), "{text}");
    }

    #[test]
    fn the_tls_section_takes_the_refresh_interval_and_keeps_the_other_defaults() {
        let config = ServerConfig::parse("[tls]\nrefresh_secs = 2\n").unwrap();
        assert_eq!(config.tls.refresh_secs, 2);
        assert_eq!(
            config.tls,
            TlsConfig {
                refresh_secs: 2,
                ..TlsConfig::default()
            }
        );
    }
}
