//! The command line of `certmgr dns ...`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::NameArg;

/// `certmgr dns ...`.
#[derive(Debug, Subcommand)]
pub enum DnsCommand {
    /// DNS provider definitions (the built-in catalog).
    #[command(subcommand)]
    Provider(DnsProviderCommand),
    /// DNS accounts: a provider bound to zones, with its credentials.
    #[command(subcommand)]
    Account(DnsAccountCommand),
}

/// `certmgr dns provider ...`.
#[derive(Debug, Subcommand)]
pub enum DnsProviderCommand {
    /// List the providers.
    List,
    /// Show one provider: parameters, token scopes, API docs.
    Show(NameArg),
    /// Add provider definitions from a file (validated first): TOML, or a
    /// Domino DXL export, whose DNS provider accounts become DNS accounts and
    /// whose ACME accounts are registered.
    Import(DnsProviderImportArgs),
    /// Write an imported Domino provider back as DXL.
    Export(DnsProviderExportArgs),
    /// Print the catalog's documentation (Markdown), generated from the definitions.
    Docs,
}

/// `certmgr dns provider import`.
#[derive(Debug, Args)]
pub struct DnsProviderImportArgs {
    /// A provider definition (.toml) or a Domino DXL export (.dxl).
    pub file: PathBuf,
    /// PEM file of the CA behind the TLS certificate of ACME directories in
    /// the DXL (private ACME CAs).
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
    /// How DNS accounts from the DXL wait before the CA is told: `delay`
    /// waits the configuration's cfg_DnsProviderDelay as Domino does;
    /// `check` asks the zone's authoritative servers.
    #[arg(long, value_enum, default_value_t = PropagationMode::Delay)]
    pub propagation: PropagationMode,
    /// Let the DNS accounts of the DXL reach loopback, private and
    /// link-local addresses (see `dns account create --allow-private-network`).
    #[arg(long)]
    pub allow_private_network: bool,
    /// Let the DNS accounts of the DXL use plain `http://` URLs.
    #[arg(long)]
    pub allow_plain_http: bool,
}

/// `certmgr dns provider export`.
#[derive(Debug, Args)]
pub struct DnsProviderExportArgs {
    /// Provider id.
    pub name: String,
    /// Output format (DXL is the only one for now).
    #[arg(long, value_enum, default_value_t = ProviderFormat::Dxl)]
    pub format: ProviderFormat,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Formats `dns provider export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderFormat {
    /// Domino XML, importable into a Domino CertMgr database.
    Dxl,
}

/// How a DNS account waits for a new record to be served.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
    Default,
)]
#[serde(rename_all = "lowercase")]
pub enum PropagationMode {
    /// Ask every authoritative server until all serve it.
    #[default]
    Check,
    /// Wait the provider's fixed delay.
    Delay,
}

/// `certmgr dns account ...`.
#[derive(Debug, Subcommand)]
pub enum DnsAccountCommand {
    /// Bind a provider to zones with its parameters (tokens are sealed).
    Create(DnsAccountCreateArgs),
    /// List the DNS accounts.
    List,
    /// Show one DNS account (secrets are never shown).
    Show(NameArg),
    /// Add and remove a probe TXT record, reporting each step.
    Test(DnsAccountTestArgs),
    /// Delete a DNS account (also one that fails its integrity check).
    Delete(DnsAccountNameArg),
}

/// A single DNS account name.
#[derive(Debug, Args)]
pub struct DnsAccountNameArg {
    /// The DNS account's name.
    pub name: String,
}

/// `certmgr dns account create`.
#[derive(Debug, Args)]
pub struct DnsAccountCreateArgs {
    /// The account's name.
    pub name: String,
    /// Provider id (see `certmgr dns provider list`).
    #[arg(long)]
    pub provider: String,
    /// A zone this account serves; repeat for more.
    #[arg(long = "zone", value_name = "ZONE", required = true)]
    pub zones: Vec<String>,
    /// A parameter: NAME=VALUE. Secret parameters (tokens, keys, passwords)
    /// must be read from elsewhere, to stay out of `ps` and shell history:
    /// NAME=@FILE (first line of a file), NAME=@- (standard input) or
    /// NAME=@env:VAR (an environment variable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// An authoritative server of the zones to check before telling the CA
    /// (host:port); repeat for each. Without, they are found through the
    /// resolver (NS, then their addresses).
    #[arg(long = "nameserver", value_name = "ADDR")]
    pub nameservers: Vec<std::net::SocketAddr>,
    /// The recursive resolver that finds the zones' authoritative servers
    /// (host:port; default: the first nameserver of /etc/resolv.conf).
    #[arg(long, value_name = "ADDR", conflicts_with = "nameservers")]
    pub resolver: Option<std::net::SocketAddr>,
    /// Port the discovered authoritative servers answer on (default 53).
    #[arg(long, value_name = "PORT", conflicts_with = "nameservers")]
    pub nameserver_port: Option<u16>,
    /// How long to wait for every nameserver to serve a new record.
    #[arg(long, default_value_t = 120, value_name = "SECS")]
    pub propagation_timeout: u64,
    /// `check` asks the zone's authoritative servers until all serve the
    /// record; `delay` waits the provider's fixed delay instead.
    #[arg(long, value_enum, default_value_t = PropagationMode::Check)]
    pub propagation: PropagationMode,
    /// Let the provider reach loopback, private (10/8, 172.16/12,
    /// 192.168/16, 100.64/10, fc00::/7) and link-local addresses, e.g. a
    /// PowerDNS on the LAN. Off by default: an imported definition could
    /// otherwise reach internal services and cloud metadata.
    #[arg(long)]
    pub allow_private_network: bool,
    /// Let the provider use plain, unencrypted `http://` URLs (tokens are
    /// sent in clear). Off by default.
    #[arg(long)]
    pub allow_plain_http: bool,
}

/// `certmgr dns account test`.
#[derive(Debug, Args)]
pub struct DnsAccountTestArgs {
    /// The account's name.
    pub name: String,
    /// Print every request and response (secrets redacted).
    #[arg(long)]
    pub trace: bool,
}
