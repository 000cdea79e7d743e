//! Command-line syntax (clap derive). Parsing only; validation happens in the commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// certmgr keeps every TLS key and certificate of an organisation in one store.
#[derive(Debug, Parser)]
#[command(name = "certmgr", version, about, propagate_version = true)]
pub struct Cli {
    /// Where the store lives (master.key and the SQLite file).
    #[arg(long, global = true, env = "CERTMGR_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Use this database instead of DATA_DIR/certmgr.db (sqlite://PATH or postgres://...).
    #[arg(
        long,
        global = true,
        env = "CERTMGR_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// Run the command on this manager through its API (https://HOST:PORT),
    /// with the token in CERTMGR_TOKEN or the session of `certmgr login`.
    #[arg(long, global = true, env = "CERTMGR_SERVER", value_name = "URL")]
    pub server: Option<String>,

    /// Trust only this CA (PEM) for the manager's certificate
    /// (`certmgr ca show default --pem` on the manager).
    #[arg(long, global = true, env = "CERTMGR_SERVER_CA", value_name = "FILE")]
    pub server_ca: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level nouns.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the store and its master key.
    Init(InitArgs),
    /// Manage credentials (hostnames + keys + certificates).
    #[command(subcommand)]
    Cred(CredCommand),
    /// Manage MicroCAs, the built-in private CAs.
    #[command(subcommand)]
    Ca(CaCommand),
    /// Manage the trusted roots and intermediates used to complete chains.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// ACME: accounts at certificate authorities, and the catalog of known CAs.
    #[command(subcommand)]
    Acme(AcmeCommand),
    /// DNS-01: provider definitions and DNS accounts.
    #[command(subcommand)]
    Dns(DnsCommand),
    /// Issue or renew every credential that is due (for cron; `certmgr server` does it by itself).
    Renew(RenewArgs),
    /// Run the node: answer HTTP-01 / TLS-ALPN-01 for every process sharing the store, renew on schedule.
    Server(ServerArgs),
    /// The audit log: who changed what or read a secret, from where, and how it ended.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// API tokens for scripts and remote use of the manager.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Local users of the manager.
    #[command(subcommand)]
    User(UserCommand),
    /// Sign in to a manager with a user's password; later commands with
    /// --server URL use the session (12 hours).
    Login(LoginArgs),
}

/// `certmgr login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The manager's URL (https://HOST:PORT).
    pub url: String,
    /// The user's name.
    #[arg(long, default_value = "admin")]
    pub user: String,
    /// A file whose first line is the password (default: read a line from standard input).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

/// `certmgr audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List entries, oldest first (a page at a time: --after SEQ).
    List(AuditListArgs),
    /// Check that no entry was changed, deleted or cut off since it was written.
    Verify,
}

/// `certmgr audit list`.
#[derive(Debug, Args)]
pub struct AuditListArgs {
    /// Only entries after this one (the last seq of the previous page).
    #[arg(long, default_value_t = 0, value_name = "SEQ")]
    pub after: i64,
    /// At most this many entries (up to 1000).
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub limit: u32,
    /// Only this actor (e.g. local:alice).
    #[arg(long)]
    pub actor: Option<String>,
    /// Only this action (e.g. cred.export).
    #[arg(long)]
    pub action: Option<String>,
    /// Only entries about this object.
    #[arg(long)]
    pub target: Option<String>,
}

mod access;
mod dns;

pub use access::*;
pub use dns::*;

/// `certmgr server`. Each setting comes from the flag, else its
/// environment variable, else the configuration file, else the default.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The configuration file (TOML; default: server.toml in the data directory, if there).
    #[arg(long, env = "CERTMGR_CONFIG", value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Print the effective configuration (secrets redacted) and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Where to serve the API and web UI over HTTPS (default 127.0.0.1:8443), or off.
    #[arg(long, env = "CERTMGR_LISTEN", value_name = "ADDR|off")]
    pub listen: Option<certmgr_server::config::Listen>,
    /// Where to answer HTTP-01 and redirect to the API (default 0.0.0.0:80), or off.
    #[arg(long, env = "CERTMGR_HTTP_LISTEN", value_name = "ADDR|off")]
    pub http_listen: Option<certmgr_server::config::Listen>,
    /// Where to answer TLS-ALPN-01, and HTTP-01 over HTTPS (default 0.0.0.0:443), or off.
    #[arg(long, env = "CERTMGR_HTTPS_LISTEN", value_name = "ADDR|off")]
    pub https_listen: Option<certmgr_server::config::Listen>,
    /// Do not listen for TLS-ALPN-01 / HTTPS (as --https-listen off).
    #[arg(long)]
    pub no_https: bool,
    /// Seconds between renewal runs (default 3600; 0 turns the scheduler off).
    #[arg(long, env = "CERTMGR_RENEW_INTERVAL", value_name = "SECS")]
    pub renew_interval: Option<u64>,
    /// Do not renew on schedule (as --renew-interval 0).
    #[arg(long)]
    pub no_renew: bool,
    /// Serve the API with this credential's certificate (default certmgr-server, made on first start).
    #[arg(long, env = "CERTMGR_TLS_CREDENTIAL", value_name = "NAME")]
    pub tls_credential: Option<String>,
    /// Serve the API over plain HTTP (only behind a proxy that terminates TLS).
    #[arg(long)]
    pub plain_http: bool,
    /// The log's format on stderr: text (default) or json (one object per line).
    #[arg(long, env = "CERTMGR_LOG_FORMAT", value_name = "text|json")]
    pub log_format: Option<certmgr_server::config::LogFormat>,
}

/// `certmgr renew`.
#[derive(Debug, Args)]
pub struct RenewArgs {
    /// Only the credentials that are due: never issued, inside their renewal
    /// window (ARI or policy), or past their backoff after a failure.
    #[arg(long, required = true)]
    pub due: bool,
    /// Show what would be done and issue nothing (renewal plans are still
    /// computed and remembered).
    #[arg(long)]
    pub dry_run: bool,
    /// How to answer the CA's challenges.
    #[command(flatten)]
    pub answer: AnswerArgs,
}

/// `certmgr acme ...`.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process; boxing buys nothing
pub enum AcmeCommand {
    /// Manage ACME accounts.
    #[command(subcommand)]
    Account(AcmeAccountCommand),
    /// List the CAs of the built-in catalog (usable with --ca ID).
    Cas,
}

/// `certmgr acme account ...`.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process; boxing buys nothing
pub enum AcmeAccountCommand {
    /// Register an account at a CA.
    Create(AcmeAccountCreateArgs),
    /// List the accounts.
    List,
    /// Show one account.
    Show(AcmeAccountNameArg),
    /// Replace the account key (RFC 8555 §7.3.5).
    Rollover(AcmeAccountNameArg),
    /// Deactivate the account at the CA; it cannot be used again.
    Deactivate(AcmeAccountNameArg),
}

/// A single ACME account name.
#[derive(Debug, Args)]
pub struct AcmeAccountNameArg {
    /// The account's name.
    pub name: String,
}

/// `certmgr acme account create`.
#[derive(Debug, Args)]
pub struct AcmeAccountCreateArgs {
    /// The account's name in certmgr.
    pub name: String,
    /// A CA of the catalog (see `certmgr acme cas`).
    #[arg(
        long,
        value_name = "ID",
        conflicts_with = "directory",
        required_unless_present = "directory"
    )]
    pub ca: Option<String>,
    /// Any RFC 8555 directory URL.
    #[arg(long, value_name = "URL")]
    pub directory: Option<String>,
    /// Contact e-mail address; repeat for more.
    #[arg(long = "email", value_name = "ADDRESS")]
    pub emails: Vec<String>,
    /// External Account Binding key id (from the CA's portal).
    #[arg(long, value_name = "KID", requires = "eab_hmac_file")]
    pub eab_kid: Option<String>,
    /// File holding the EAB HMAC key, base64url as CAs hand it out.
    #[arg(long, value_name = "FILE", requires = "eab_kid")]
    pub eab_hmac_file: Option<PathBuf>,
    /// Accept the CA's terms of service (required).
    #[arg(long)]
    pub agree_tos: bool,
    /// PEM file of the CA that signed the directory's TLS certificate (private ACME CAs).
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
    /// Default certificate profile of this account's orders (see the CA's directory).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// How many orders may run at once against this CA (default 4); mind its rate limits.
    #[arg(long, value_name = "N")]
    pub max_concurrent_orders: Option<u32>,
    /// Keep the alternate chain that leads to this issuer (common name) when offered.
    #[arg(long, value_name = "ISSUER_CN")]
    pub preferred_chain: Option<String>,
}

/// `certmgr init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Also create a MicroCA named "local" and issue a credential "localhost"
    /// (localhost, 127.0.0.1, ::1) from it, ready to export.
    #[arg(long)]
    pub quickstart: bool,
}

/// `certmgr cred ...`.
#[derive(Debug, Subcommand)]
pub enum CredCommand {
    /// Create a credential (no key or certificate yet).
    Create(CredCreateArgs),
    /// List every credential.
    List(CredListArgs),
    /// Show one credential: hostnames, keys, certificates, history.
    Show(CredShowArgs),
    /// Issue certificates for a credential from its MicroCA or ACME CA.
    Issue(CredIssueArgs),
    /// Revoke the current certificates of a credential.
    Revoke(CredRevokeArgs),
    /// Before ordering: does each hostname's ACME challenge reach this node?
    Check(CredCheckArgs),
    /// Make a key (kept sealed in the store) and write a CSR for an external CA.
    Csr(CredCsrArgs),
    /// Import a signed certificate, or a key and certificate made elsewhere.
    Import(CredImportArgs),
    /// Write the current key and certificates as PEM files or PKCS#12.
    Export(CredExportArgs),
    /// Delete a credential with all its keys and certificates.
    Delete(NameArg),
    /// Set tags (key=value) on a credential: what scoped users and tokens reach.
    Tag(CredTagArgs),
    /// Remove tags (by key) from a credential.
    Untag(CredUntagArgs),
}

/// `certmgr cred list`.
#[derive(Debug, Args)]
pub struct CredListArgs {
    /// Only this status (pending, issuing, valid, renewal-due, failed, revoked, expired).
    #[arg(long)]
    pub status: Option<String>,
    /// Only this health (ok, warning, error).
    #[arg(long)]
    pub health: Option<String>,
    /// Only this issuer (ca:NAME, acme:ACCOUNT, manual, import).
    #[arg(long)]
    pub issuer: Option<String>,
    /// Only those expiring within this many days.
    #[arg(long, value_name = "DAYS")]
    pub expiring_within: Option<u32>,
    /// Only those with a hostname containing this text.
    #[arg(long, value_name = "TEXT")]
    pub host: Option<String>,
    /// Only those carrying this tag.
    #[arg(long, value_name = "KEY=VALUE")]
    pub tag: Option<String>,
}

/// `certmgr cred tag`.
#[derive(Debug, Args)]
pub struct CredTagArgs {
    /// Credential name.
    pub name: String,
    /// Tags, key=value (e.g. team=web env=prod).
    #[arg(required = true, value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
}

/// `certmgr cred untag`.
#[derive(Debug, Args)]
pub struct CredUntagArgs {
    /// Credential name.
    pub name: String,
    /// Keys of the tags to remove.
    #[arg(required = true, value_name = "KEY")]
    pub keys: Vec<String>,
}

/// A single credential name.
#[derive(Debug, Args)]
pub struct NameArg {
    /// The credential's name.
    pub name: String,
}

/// How a run answers ACME challenges. Without any of these, a running
/// `certmgr server` sharing the store answers; without one, this process
/// answers on 0.0.0.0:80 (http-01) or 0.0.0.0:443 (tls-alpn-01).
#[derive(Debug, Clone, Args)]
pub struct AnswerArgs {
    /// ACME http-01: answer the CA on this address.
    #[arg(long, value_name = "ADDR")]
    pub http01_listen: Option<std::net::SocketAddr>,
    /// ACME tls-alpn-01: answer the CA on this address.
    #[arg(long, value_name = "ADDR")]
    pub tls_alpn01_listen: Option<std::net::SocketAddr>,
    /// ACME http-01: write the answers under this web server document root
    /// (DIR/.well-known/acme-challenge/TOKEN) instead of answering here.
    #[arg(long, value_name = "DIR", conflicts_with = "http01_listen")]
    pub webroot: Option<std::path::PathBuf>,
}

/// `certmgr cred issue`.
#[derive(Debug, Args)]
pub struct CredIssueArgs {
    /// The credential's name.
    pub name: String,
    /// How to answer the CA's challenges.
    #[command(flatten)]
    pub answer: AnswerArgs,
}

/// `certmgr cred check`.
#[derive(Debug, Args)]
pub struct CredCheckArgs {
    /// The credential's name.
    pub name: String,
    /// Port the CA connects to for http-01 (80; change only for tests and labs).
    #[arg(long, default_value_t = 80, value_name = "PORT")]
    pub http_port: u16,
    /// Port the CA connects to for tls-alpn-01 (443).
    #[arg(long, default_value_t = 443, value_name = "PORT")]
    pub tls_port: u16,
    /// How to answer the probe (as `cred issue` would answer the CA).
    #[command(flatten)]
    pub answer: AnswerArgs,
}

/// `certmgr cred revoke`.
#[derive(Debug, Args)]
pub struct CredRevokeArgs {
    /// The credential's name.
    pub name: String,
    /// unspecified, key-compromise, affiliation-changed, superseded,
    /// cessation-of-operation or privilege-withdrawn.
    #[arg(long, default_value = "unspecified")]
    pub reason: String,
}

/// `certmgr cred create`.
#[derive(Debug, Args)]
pub struct CredCreateArgs {
    /// The credential's name (letters, digits, '.', '-', '_').
    pub name: String,
    /// A hostname: DNS name, *.wildcard, IPv4 or IPv6 address; repeat for more.
    #[arg(long = "host", value_name = "HOST", required = true)]
    pub hosts: Vec<String>,
    /// Key type: rsa-2048, rsa-3072, rsa-4096, ecdsa-p256, ecdsa-p384. Give one RSA
    /// and one ECDSA key for a dual credential. Default: ecdsa-p256.
    #[arg(long = "key", value_name = "SPEC")]
    pub keys: Vec<String>,
    /// Where certificates come from: ca:NAME (MicroCA), acme:ACCOUNT, manual
    /// (CSR to an external CA) or import.
    #[arg(long, default_value = "manual")]
    pub issuer: String,
    /// ACME only: http-01 (default), tls-alpn-01 or dns-01.
    #[arg(long, value_name = "TYPE")]
    pub challenge: Option<String>,
    /// ACME only: the certificate profile to order (e.g. shortlived); default: the account's.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// ACME only: keep the CA's alternate chain that leads to this issuer
    /// (common name), when the CA offers one; default: the account's.
    #[arg(long, value_name = "ISSUER_CN")]
    pub preferred_chain: Option<String>,
    /// DNS-01 only: publish with this DNS account (default: the account whose
    /// zone is the most specific suffix of each name).
    #[arg(long, value_name = "NAME")]
    pub dns_account: Option<String>,
    /// DNS-01 only: write the TXT records at this name, the target of the
    /// `_acme-challenge` CNAMEs, when those cannot be looked up (split DNS).
    #[arg(long, value_name = "NAME")]
    pub challenge_alias: Option<String>,
    /// A tag, key=value (repeatable): what scoped users and tokens reach.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Validity of MicroCA-issued certificates in days (default 90).
    #[arg(long, value_name = "DAYS")]
    pub validity_days: Option<u32>,
    /// Renew this many days before expiry (default: when a third of the lifetime remains).
    #[arg(long, value_name = "DAYS")]
    pub renew_before_days: Option<u32>,
}

/// `certmgr cred show`.
#[derive(Debug, Args)]
pub struct CredShowArgs {
    /// The credential's name.
    pub name: String,
    /// Also print the event log.
    #[arg(long)]
    pub events: bool,
}

/// `certmgr cred csr`.
#[derive(Debug, Args)]
pub struct CredCsrArgs {
    /// The credential's name.
    pub name: String,
    /// Where to write the CSR (PEM). For a dual credential, "-rsa"/"-ecdsa" is
    /// added before the extension.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// `certmgr cred import`.
#[derive(Debug, Args)]
pub struct CredImportArgs {
    /// The credential's name; created from the certificate if it does not exist.
    pub name: String,
    /// A PEM (or DER) file with the certificate, in any order with its chain and
    /// optionally the private key.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "pkcs12",
        required_unless_present = "pkcs12"
    )]
    pub cert: Option<PathBuf>,
    /// The private key (PEM: PKCS#8, encrypted PKCS#8, PKCS#1 or SEC1), if not in --cert.
    #[arg(long, value_name = "FILE", conflicts_with = "pkcs12")]
    pub key: Option<PathBuf>,
    /// File whose first line is the passphrase of an encrypted key.
    #[arg(long, value_name = "FILE")]
    pub key_password_file: Option<PathBuf>,
    /// A PKCS#12/PFX file (modern or legacy) with key, certificate and chain.
    #[arg(long, value_name = "FILE", requires = "password_file")]
    pub pkcs12: Option<PathBuf>,
    /// File whose first line is the PKCS#12 password.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Import an expired (or not yet valid) certificate for the record, with a warning.
    #[arg(long)]
    pub allow_expired: bool,
    /// Trust a self-signed root that comes inside the imported file (private CAs).
    #[arg(long)]
    pub trust_bundled_root: bool,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// cert.pem, chain.pem, fullchain.pem and key.pem (mode 0600).
    Pem,
    /// NAME.p12, password-protected.
    Pkcs12,
}

/// `certmgr cred export`.
#[derive(Debug, Args)]
pub struct CredExportArgs {
    /// The credential's name.
    pub name: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "pem")]
    pub format: ExportFormat,
    /// Directory to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// For a dual credential: export only this key family (rsa or ecdsa).
    #[arg(long = "key", value_name = "FAMILY")]
    pub family: Option<String>,
    /// PKCS#12: file whose first line is the password.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// PKCS#12: 3DES + SHA-1 MAC for old Windows instead of AES-256.
    #[arg(long)]
    pub legacy: bool,
}

/// `certmgr ca ...`.
#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Create a MicroCA: a root, optionally with an intermediate that signs leaves.
    Create(CaCreateArgs),
    /// List every MicroCA.
    List,
    /// Show one MicroCA; --pem prints its root certificate.
    Show(CaShowArgs),
}

/// `certmgr ca create`.
#[derive(Debug, Args)]
pub struct CaCreateArgs {
    /// The CA's name.
    pub name: String,
    /// Key type of the CA (and its intermediate).
    #[arg(long, default_value = "ecdsa-p256", value_name = "SPEC")]
    pub key: String,
    /// Validity of the root in days.
    #[arg(long, default_value_t = 3650, value_name = "DAYS")]
    pub validity_days: u32,
    /// Let the root sign an intermediate, which then signs the leaves.
    #[arg(long)]
    pub intermediate: bool,
    /// Subject common name (default: "certmgr MicroCA NAME").
    #[arg(long, value_name = "CN")]
    pub common_name: Option<String>,
    /// Subject organisation.
    #[arg(long, value_name = "O")]
    pub organization: Option<String>,
}

/// `certmgr ca show`.
#[derive(Debug, Args)]
pub struct CaShowArgs {
    /// The CA's name.
    pub name: String,
    /// Print the root certificate as PEM (to distribute to clients).
    #[arg(long)]
    pub pem: bool,
}

/// `certmgr trust ...`.
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Trust the CA certificates in a PEM or DER file (roots and intermediates).
    Add(TrustAddArgs),
    /// List the imported trust anchors (system roots are used too but not listed).
    List,
}

/// `certmgr trust add`.
#[derive(Debug, Args)]
pub struct TrustAddArgs {
    /// PEM (one or more certificates) or DER file.
    pub file: PathBuf,
}
