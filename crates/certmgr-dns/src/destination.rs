//! Where a provider may send requests.
//!
//! A definition may only talk to the hosts it declares (literal URL hosts of
//! its steps and token endpoints, its `[provider] hosts`, URL literals of a
//! DXL configuration's URL formulas) and to the hosts its account's own
//! parameters name (an `api_url`, a `cfg_URL`). Loopback, private and
//! link-local addresses, and plain `http://`, also need the account's
//! opt-in ([`NetworkAccess`]); names are checked after resolution, so a
//! public name that resolves to `127.0.0.1` is refused as well.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use serde::{Deserialize, Serialize};

use crate::definition::Params;

/// The non-public destinations a DNS account allows its provider to reach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkAccess {
    /// Loopback, private (RFC 1918, unique local, shared 100.64/10) and
    /// link-local addresses, e.g. a PowerDNS on the LAN.
    #[serde(default)]
    pub private_network: bool,
    /// Unencrypted `http://` URLs.
    #[serde(default)]
    pub plain_http: bool,
}

impl NetworkAccess {
    /// Public addresses over HTTPS only: the default.
    pub const PUBLIC_HTTPS: NetworkAccess = NetworkAccess {
        private_network: false,
        plain_http: false,
    };
    /// Everything: private addresses and plain HTTP (a lab, a test stub on loopback).
    pub const LOCAL: NetworkAccess = NetworkAccess {
        private_network: true,
        plain_http: true,
    };
}

/// Why a request was refused before it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The host is neither declared by the definition nor named by the account.
    Undeclared,
    /// The host is, or resolves to, a loopback, private or link-local address.
    PrivateNetwork,
    /// The URL is `http://`.
    PlainHttp,
    /// A pagination link leads to another host.
    OtherHost,
}

/// The class of a non-public address, or `None` for a public one.
pub(crate) fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return non_public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) and IPv4-compatible (::a.b.c.d) forms carry an IPv4 address.
            if (s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4])
                || (s[0..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified())
            {
                let v4 =
                    Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
                return non_public_v4(v4);
            }
            non_public_v6(v6)
        }
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    Some(if ip.is_loopback() {
        "loopback"
    } else if ip.is_unspecified() || o[0] == 0 {
        "unspecified"
    } else if ip.is_private() {
        "private"
    } else if ip.is_link_local() {
        "link-local"
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        "shared (carrier-grade NAT)"
    } else if ip.is_multicast() || ip.is_broadcast() || o[0] >= 240 {
        "multicast or reserved"
    } else {
        return None;
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    Some(if ip.is_loopback() {
        "loopback"
    } else if ip.is_unspecified() {
        "unspecified"
    } else if (first & 0xfe00) == 0xfc00 {
        "private (unique local)"
    } else if (first & 0xffc0) == 0xfe80 || (first & 0xffc0) == 0xfec0 {
        "link-local"
    } else if (first & 0xff00) == 0xff00 {
        "multicast"
    } else {
        return None;
    })
}

/// The destination of an absolute `http(s)` URL: its host in lower case
/// (IPv6 in brackets), with `:port` when the URL gives a port other than
/// its scheme's default.
pub(crate) fn url_host(text: &str) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    destination(&url)
}

/// The destination of a URL (see [`url_host`]).
pub(crate) fn destination(url: &url::Url) -> Option<String> {
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())?
        .to_ascii_lowercase();
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// The host of a URL template's literal beginning (`https://api.example.com/{{ ... }}`),
/// `Ok(None)` when it starts with a variable, `Err(())` when the template
/// builds the host itself (`https://{{ region }}.example.com`).
pub(crate) fn literal_host(template: &str) -> Result<Option<String>, ()> {
    let literal = template
        .find('{')
        .map_or(template, |at| &template[..at])
        .trim_start();
    let Some((scheme, rest)) = literal.split_once("://") else {
        return Ok(None);
    };
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        return Ok(None);
    }
    let whole = literal.len() == template.trim_start().len();
    let end = rest.find(['/', '?', '#']);
    if end.is_none() && !whole {
        return Err(());
    }
    let authority = &rest[..end.unwrap_or(rest.len())];
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if authority.is_empty() {
        return Err(());
    }
    url_host(&format!("{scheme}://{authority}/"))
        .map(Some)
        .ok_or(())
}

/// Checks a declared host: a DNS name or an IP address (IPv6 in
/// brackets), optionally with `:port`; no scheme or path.
pub(crate) fn declared_host(name: &str) -> Result<String, String> {
    let host = url_host(&format!("https://{name}/"))
        .filter(|h| *h == name.to_ascii_lowercase())
        .ok_or_else(|| {
            format!("{name:?} is not a host name; give the bare host, e.g. \"api.example.com\" or \"api.example.com:8443\" (no scheme or path)")
        })?;
    Ok(host)
}

/// The hosts one call may reach and the account's network access.
#[derive(Debug, Clone)]
pub(crate) struct Allowed {
    declared: BTreeSet<String>,
    account: BTreeSet<String>,
    pub(crate) access: NetworkAccess,
}

impl Allowed {
    /// The definition's hosts plus those of the account's URL-valued parameters.
    pub(crate) fn new(declared: &[String], params: &Params, access: NetworkAccess) -> Allowed {
        Allowed {
            declared: declared.iter().map(|h| h.to_ascii_lowercase()).collect(),
            account: params.iter().filter_map(|(_, v, _)| url_host(v)).collect(),
            access,
        }
    }

    /// Adds a host named by account data (a service-account key's token URI).
    pub(crate) fn add_account_url(&mut self, url: &str) {
        if let Some(h) = url_host(url) {
            self.account.insert(h);
        }
    }

    /// Whether `host` may be reached (before looking at its addresses).
    pub(crate) fn contains(&self, host: &str) -> bool {
        self.declared.contains(host) || self.account.contains(host)
    }

    /// Refuses a URL whose host is not allowed, a plain `http://` URL
    /// without the opt-in, or an IP literal in a non-public range without
    /// it. Names are checked after resolution, by [`GuardedResolver`].
    pub(crate) fn check(&self, url: &url::Url) -> Result<(), (Refusal, String)> {
        let host = destination(url).unwrap_or_default();
        match url.scheme() {
            "https" => {}
            "http" if self.access.plain_http => {}
            "http" => {
                return Err((
                    Refusal::PlainHttp,
                    format!(
                        "refused to send a request to {host:?} over plain http:// (unencrypted); use https://, or allow plain HTTP on the DNS account"
                    ),
                ));
            }
            other => {
                return Err((
                    Refusal::Undeclared,
                    format!("refused a {other}: URL; provider requests must use https://"),
                ));
            }
        }
        if !self.contains(&host) {
            let mut known: Vec<&str> = self
                .declared
                .iter()
                .chain(self.account.iter())
                .map(String::as_str)
                .collect();
            known.sort_unstable();
            known.dedup();
            return Err((
                Refusal::Undeclared,
                format!(
                    "refused to send a request to host {host:?}: the definition does not declare it and no account parameter names it (allowed: {}); if it is your API endpoint, set it in the account's URL parameter, or declare it in the definition's [provider] hosts",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        }
        if let Some(ip) = ip_literal(url)
            && let Some(class) = non_public(ip)
            && !self.access.private_network
        {
            return Err((Refusal::PrivateNetwork, private_message(&host, None, class)));
        }
        Ok(())
    }
}

fn ip_literal(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(a) => Some(IpAddr::V4(a)),
        url::Host::Ipv6(a) => Some(IpAddr::V6(a)),
        url::Host::Domain(_) => None,
    }
}

/// The refusal of a non-public destination, naming the host and address.
pub(crate) fn private_message(host: &str, resolved: Option<IpAddr>, class: &str) -> String {
    let what = match resolved {
        Some(ip) => format!("host {host:?} resolves to {ip}, a {class} address"),
        None => format!("host {host:?} is a {class} address"),
    };
    format!(
        "refused to send a request: {what}; loopback, private and link-local destinations need the DNS account to allow the private network"
    )
}

/// A name resolved only to non-public addresses while the account does not allow them.
#[derive(Debug)]
pub(crate) struct BlockedAddress {
    pub(crate) host: String,
    pub(crate) address: IpAddr,
    pub(crate) class: &'static str,
}

impl std::fmt::Display for BlockedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&private_message(&self.host, Some(self.address), self.class))
    }
}

impl std::error::Error for BlockedAddress {}

/// The resolver of the default HTTP client: the system's, with every
/// non-public address dropped; a name left without addresses is refused
/// ([`BlockedAddress`]). Connections go to the addresses checked here, so
/// a name that changes its answer between check and use cannot slip through.
///
/// The proxies named in the environment (`HTTPS_PROXY`, `HTTP_PROXY`,
/// `ALL_PROXY`, in either case) are the one exception: an organisation's
/// proxy is usually on its private network, and through a proxy the
/// provider's own host names are resolved by the proxy, not here. The host
/// allow-list and literal addresses are still checked before any request.
#[derive(Debug, Default)]
pub(crate) struct GuardedResolver {
    proxies: Vec<String>,
}

impl GuardedResolver {
    /// A resolver that lets the environment's proxy hosts through.
    pub(crate) fn from_env() -> GuardedResolver {
        let proxies = [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .filter_map(|value| proxy_host(&value))
        .collect();
        GuardedResolver { proxies }
    }
}

/// The host of a proxy setting (`http://proxy:3128`, or `proxy:3128`).
fn proxy_host(value: &str) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let url = url::Url::parse(&with_scheme).ok()?;
    Some(
        url.host_str()?
            .trim_matches(['[', ']'])
            .to_ascii_lowercase(),
    )
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let is_proxy = self.proxies.iter().any(|p| p.eq_ignore_ascii_case(&host));
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if is_proxy {
                return Ok(Box::new(all.into_iter()) as reqwest::dns::Addrs);
            }
            let mut blocked = None;
            let public: Vec<SocketAddr> = all
                .into_iter()
                .filter(|a| match non_public(a.ip()) {
                    Some(class) => {
                        blocked.get_or_insert((a.ip(), class));
                        false
                    }
                    None => true,
                })
                .collect();
            if public.is_empty()
                && let Some((address, class)) = blocked
            {
                return Err(Box::new(BlockedAddress {
                    host,
                    address,
                    class,
                })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The [`BlockedAddress`] somewhere in an error's chain.
pub(crate) fn blocked_in<'e>(
    e: &'e (dyn std::error::Error + 'static),
) -> Option<&'e BlockedAddress> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(b) = err.downcast_ref::<BlockedAddress>() {
            return Some(b);
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use reqwest::dns::Resolve;

    #[test]
    fn proxy_settings_name_their_host() {
        assert_eq!(
            proxy_host("http://Proxy.corp:3128").as_deref(),
            Some("proxy.corp")
        );
        assert_eq!(proxy_host("proxy.corp:3128").as_deref(), Some("proxy.corp"));
        assert_eq!(
            proxy_host("http://[fd00::1]:3128").as_deref(),
            Some("fd00::1")
        );
        assert_eq!(proxy_host(" "), None);
    }

    #[tokio::test]
    async fn only_the_configured_proxy_may_resolve_to_loopback() {
        let name = |n: &str| n.parse::<reqwest::dns::Name>().unwrap();
        let guarded = GuardedResolver::default();
        let refused = guarded.resolve(name("localhost")).await.err().unwrap();
        assert!(refused.to_string().contains("loopback"), "{refused}");
        let through_proxy = GuardedResolver {
            proxies: vec!["localhost".to_string()],
        };
        let addrs: Vec<SocketAddr> = through_proxy
            .resolve(name("localhost"))
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }

    #[test]
    fn address_classes() {
        for (ip, class) in [
            ("127.0.0.1", Some("loopback")),
            ("10.1.2.3", Some("private")),
            ("172.16.0.1", Some("private")),
            ("192.168.1.1", Some("private")),
            ("169.254.169.254", Some("link-local")),
            ("100.64.0.1", Some("shared (carrier-grade NAT)")),
            ("0.0.0.0", Some("unspecified")),
            ("::1", Some("loopback")),
            ("::", Some("unspecified")),
            ("fd00::1", Some("private (unique local)")),
            ("fe80::1", Some("link-local")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:169.254.169.254", Some("link-local")),
            ("64:ff9b::a9fe:a9fe", Some("link-local")),
            ("8.8.8.8", None),
            ("100.128.0.1", None),
            ("2606:4700::1111", None),
        ] {
            assert_eq!(non_public(ip.parse().unwrap()), class, "{ip}");
        }
    }

    #[test]
    fn literal_hosts_of_url_templates() {
        assert_eq!(
            literal_host("https://api.example.com/v1/{{ zone }}"),
            Ok(Some("api.example.com".into()))
        );
        assert_eq!(
            literal_host("https://API.example.com:8443?x={{ zone }}"),
            Ok(Some("api.example.com:8443".into()))
        );
        assert_eq!(
            literal_host("http://169.254.169.254"),
            Ok(Some("169.254.169.254".into()))
        );
        assert_eq!(literal_host("{{ params.api_url }}/zones"), Ok(None));
        assert_eq!(
            literal_host("https://{{ params.region }}.example.com/"),
            Err(())
        );
        assert_eq!(literal_host("https://api.{{ params.region }}/"), Err(()));
        assert_eq!(
            literal_host("https://user@h.example/x"),
            Ok(Some("h.example".into()))
        );
    }

    #[test]
    fn declared_hosts_are_bare() {
        assert_eq!(declared_host("API.example.com").unwrap(), "api.example.com");
        assert_eq!(declared_host("::1").ok(), None);
        assert_eq!(declared_host("[::1]").unwrap(), "[::1]");
        assert!(declared_host("https://x.example").is_err());
        assert!(declared_host("x.example/path").is_err());
        assert_eq!(declared_host("x.example:8443").unwrap(), "x.example:8443");
        assert_eq!(declared_host("x.example:443").ok(), None);
    }
}
