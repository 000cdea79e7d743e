//! Records the store reads and writes.

use std::fmt;

use certmgr_core::{ChallengeKind, Health, Hostname, IssuerRef, KeyFamily, KeySpec, Status};
use serde::{Deserialize, Serialize};

/// What is needed to create a credential.
#[derive(Debug, Clone)]
pub struct NewCredential {
    /// Unique name, checked with [`certmgr_core::validate_name`].
    pub name: String,
    /// Identifiers the certificates will carry, in order.
    pub hostnames: Vec<Hostname>,
    /// One key, or one RSA and one ECDSA key (dual).
    pub key_specs: Vec<KeySpec>,
    /// Where the certificates come from.
    pub issuer: IssuerRef,
    /// Validity of issued certificates in days (MicroCA); `None` = default.
    pub validity_days: Option<u32>,
    /// Renew this many days before expiry; `None` = a third of the lifetime.
    pub renew_before_days: Option<u32>,
    /// The ACME challenge to validate with (ACME issuers only).
    pub challenge: Option<ChallengeKind>,
    /// ACME certificate profile; `None` = the account's default.
    pub profile: Option<String>,
    /// Keep the CA's chain that leads to this issuer (common name), if offered.
    pub preferred_chain: Option<String>,
    /// DNS-01: the DNS account to publish with (`None` = the one whose zone fits best).
    pub dns_account: Option<String>,
    /// DNS-01: write the TXT records at this name (the target of the
    /// `_acme-challenge` CNAMEs) instead of looking the CNAMEs up.
    pub challenge_alias: Option<String>,
}

/// A credential as stored, with the earliest expiry of its current certificates.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialRecord {
    /// Stable id (UUIDv7).
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Identifiers.
    pub hostnames: Vec<Hostname>,
    /// Key specs.
    pub key_specs: Vec<KeySpec>,
    /// Where the certificates come from.
    pub issuer: IssuerRef,
    /// Lifecycle status.
    pub status: Status,
    /// Health, separate from status.
    pub health: Health,
    /// The last failure, in words, if any.
    pub last_error: Option<String>,
    /// Validity of issued certificates in days, if set.
    pub validity_days: Option<u32>,
    /// Renewal lead time in days, if set.
    pub renew_before_days: Option<u32>,
    /// The ACME challenge to validate with, if any.
    pub challenge: Option<ChallengeKind>,
    /// ACME certificate profile, if set.
    pub profile: Option<String>,
    /// The issuer (common name) the chain should lead to, if set.
    pub preferred_chain: Option<String>,
    /// DNS-01: the DNS account to publish with, if set.
    pub dns_account: Option<String>,
    /// DNS-01: the name the TXT records are written at, if set.
    pub challenge_alias: Option<String>,
    /// When the current certificates are due for renewal (Unix seconds), once planned.
    pub renew_at: Option<i64>,
    /// When to ask the CA's renewalInfo (ARI) again.
    pub ari_next_check: Option<i64>,
    /// Failed attempts in a row.
    pub failure_count: u32,
    /// No new attempt before this time (backoff after failures).
    pub next_attempt_at: Option<i64>,
    /// Number of the current version (0: none yet).
    pub current_version: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// Earliest `not_after` among the current version's certificates (Unix seconds).
    pub not_after: Option<i64>,
    /// The due index as stored: from when the renewal planner must look at
    /// the credential (Unix seconds; 0: at once; `None`: never by itself).
    /// Derived from the fields above ([`CredentialRecord::expected_due_at`])
    /// by every write; not part of the credential's views.
    #[serde(skip)]
    pub due_at: Option<i64>,
}

/// What a renewal run records about a credential it planned
/// ([`crate::Store::record_plans`]).
#[derive(Debug, Clone, Copy)]
pub struct PlannedRenewal<'a> {
    /// The credential, as the run read it.
    pub credential: &'a CredentialRecord,
    /// The renewal time and next renewal-information (ARI) check planned
    /// for its current certificates (Unix seconds), if newly planned;
    /// `None`: only its due time is recomputed.
    pub plan: Option<(i64, Option<i64>)>,
}

/// A certificate attached to one key of one version.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CertificateRecord {
    /// The leaf certificate, DER.
    #[serde(skip)]
    pub cert_der: Vec<u8>,
    /// Intermediates, issuer first, DER.
    #[serde(skip)]
    pub chain_der: Vec<Vec<u8>>,
    /// The root that anchors the chain, if known.
    #[serde(skip)]
    pub root_der: Option<Vec<u8>>,
    /// Serial number, hex.
    pub serial: String,
    /// SHA-256 fingerprint of the leaf, hex.
    pub fingerprint: String,
    /// Unix seconds.
    pub not_before: i64,
    /// Unix seconds.
    pub not_after: i64,
}

/// A key (and its certificate, once there is one) to store in a new version.
pub struct NewKeyVersion<'a> {
    /// The key's algorithm and size.
    pub spec: KeySpec,
    /// The private key, PKCS#8 DER; sealed before it is written.
    pub pkcs8_der: &'a [u8],
    /// The certificate, or `None` while a CSR is out.
    pub certificate: Option<CertificateRecord>,
}

impl fmt::Debug for NewKeyVersion<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewKeyVersion")
            .field("spec", &self.spec)
            .field("pkcs8_der", &"<redacted>")
            .field("certificate", &self.certificate)
            .finish()
    }
}

/// How a version came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum VersionSource {
    /// Issued by a MicroCA.
    MicroCa,
    /// Key and CSR made here, certificate signed by an external CA.
    Csr,
    /// Imported from files.
    Import,
    /// Ordered from an ACME CA.
    Acme,
}

impl VersionSource {
    /// Stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionSource::MicroCa => "microca",
            VersionSource::Csr => "csr",
            VersionSource::Import => "import",
            VersionSource::Acme => "acme",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "microca" => Some(VersionSource::MicroCa),
            "csr" => Some(VersionSource::Csr),
            "import" => Some(VersionSource::Import),
            "acme" => Some(VersionSource::Acme),
            _ => None,
        }
    }
}

/// One key of one version of a credential. The key itself stays sealed until
/// [`crate::Store::unseal_key`] is called.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyVersion {
    /// The credential this belongs to.
    #[serde(skip)]
    pub credential_id: String,
    /// Version number, from 1.
    pub version: i64,
    /// RSA or ECDSA.
    pub family: KeyFamily,
    /// Algorithm and size.
    pub spec: KeySpec,
    /// The certificate, if issued.
    pub certificate: Option<CertificateRecord>,
    /// How it came to be.
    pub source: VersionSource,
    /// Unix seconds.
    pub created_at: i64,
    #[serde(skip)]
    pub(crate) sealed_key: Vec<u8>,
}

impl fmt::Debug for KeyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyVersion")
            .field("credential_id", &self.credential_id)
            .field("version", &self.version)
            .field("spec", &self.spec)
            .field("certificate", &self.certificate)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// The status a write leaves the credential in.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// New status.
    pub status: Status,
    /// New health.
    pub health: Health,
    /// New last error (`None` clears it).
    pub last_error: Option<String>,
}

/// An entry of a credential's event log.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// Unix seconds.
    pub at: i64,
    /// Short machine-readable kind (`created`, `issued`, `imported`, ...).
    pub kind: String,
    /// What happened, in words.
    pub message: String,
    /// The credential's name at the time, if the event is about one.
    pub credential: Option<String>,
}

/// What is needed to store a MicroCA.
pub struct NewCa<'a> {
    /// Unique name.
    pub name: String,
    /// The CA key's spec.
    pub key_spec: KeySpec,
    /// Self-signed root, DER.
    pub root_der: Vec<u8>,
    /// Root key, PKCS#8 DER (sealed before writing).
    pub root_key: &'a [u8],
    /// Optional intermediate (DER) and its key (PKCS#8 DER).
    pub intermediate: Option<(Vec<u8>, &'a [u8])>,
    /// When the root expires (Unix seconds).
    pub not_after: i64,
}

/// A MicroCA as stored; keys stay sealed until [`crate::Store::unseal_ca_issuer`].
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaRecord {
    /// Stable id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// The CA key's spec.
    pub key_spec: KeySpec,
    /// Root certificate, DER.
    #[serde(skip)]
    pub root_der: Vec<u8>,
    /// Intermediate certificate, DER, if any.
    #[serde(skip)]
    pub intermediate_der: Option<Vec<u8>>,
    /// Unix seconds.
    pub not_after: i64,
    /// Unix seconds.
    pub created_at: i64,
    #[serde(skip)]
    pub(crate) sealed_root_key: Vec<u8>,
    #[serde(skip)]
    pub(crate) sealed_intermediate_key: Option<Vec<u8>>,
}

impl fmt::Debug for CaRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaRecord")
            .field("name", &self.name)
            .field("key_spec", &self.key_spec)
            .field("has_intermediate", &self.intermediate_der.is_some())
            .finish_non_exhaustive()
    }
}

/// A trusted root or intermediate imported with `certmgr trust add`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrustAnchorRecord {
    /// SHA-256 of the DER, hex; the primary key.
    pub fingerprint: String,
    /// Subject DN, for display.
    pub subject: String,
    /// The certificate, DER.
    #[serde(skip)]
    pub der: Vec<u8>,
    /// Self-signed root (true) or intermediate (false).
    pub is_root: bool,
    /// Unix seconds.
    pub not_after: i64,
    /// Unix seconds.
    pub added_at: i64,
}

/// What is needed to store a new ACME account.
pub struct NewAcmeAccount<'a> {
    /// Unique name.
    pub name: String,
    /// Catalog id of the CA, `None` for a custom directory.
    pub ca_id: Option<String>,
    /// ACME directory URL.
    pub directory_url: String,
    /// The account URL the CA assigned (its `kid`).
    pub account_url: String,
    /// Contact URIs (`mailto:...`).
    pub contacts: Vec<String>,
    /// External Account Binding key id, if one was used.
    pub eab_kid: Option<String>,
    /// The client's account credentials (JSON with the private key); sealed before writing.
    pub credentials_json: &'a [u8],
    /// Extra trust for the directory's TLS certificate (PEM), for private ACME CAs.
    pub ca_bundle_pem: Option<String>,
    /// Default certificate profile of this account's orders.
    pub profile: Option<String>,
    /// How many orders may run at once against this CA (`None` = certmgr's default).
    pub max_concurrent_orders: Option<u32>,
    /// Default preferred chain (issuer common name) of this account's certificates.
    pub preferred_chain: Option<String>,
}

/// An ACME account as stored; its credentials stay sealed until
/// [`crate::Store::unseal_acme_credentials`].
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AcmeAccountRecord {
    /// Stable id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Catalog id of the CA, `None` for a custom directory.
    pub ca_id: Option<String>,
    /// ACME directory URL.
    pub directory_url: String,
    /// The account URL at the CA.
    pub account_url: String,
    /// Contact URIs.
    pub contacts: Vec<String>,
    /// External Account Binding key id, if one was used.
    pub eab_kid: Option<String>,
    /// Extra TLS trust for the directory (PEM).
    #[serde(skip)]
    pub ca_bundle_pem: Option<String>,
    /// Pending (registration not finished), valid or deactivated.
    pub status: certmgr_core::AcmeAccountStatus,
    /// Default certificate profile of this account's orders.
    pub profile: Option<String>,
    /// How many orders may run at once against this CA.
    pub max_concurrent_orders: Option<u32>,
    /// Default preferred chain (issuer common name).
    pub preferred_chain: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    #[serde(skip)]
    pub(crate) sealed_credentials: Vec<u8>,
}

impl fmt::Debug for AcmeAccountRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcmeAccountRecord")
            .field("name", &self.name)
            .field("directory_url", &self.directory_url)
            .field("account_url", &self.account_url)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// An ACME order in flight for one key of a credential: the key is sealed in
/// the store before the CA is contacted, and the order URL is recorded as soon
/// as the CA returns it, so a killed process resumes the same order.
#[derive(Clone)]
pub struct PendingOrder {
    /// Stable id.
    pub id: String,
    /// The credential.
    pub credential_id: String,
    /// The key's algorithm and size.
    pub spec: KeySpec,
    /// The order URL, once the CA created the order.
    pub order_url: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    pub(crate) sealed_key: Vec<u8>,
}

impl fmt::Debug for PendingOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingOrder")
            .field("credential_id", &self.credential_id)
            .field("spec", &self.spec)
            .field("order_url", &self.order_url)
            .finish_non_exhaustive()
    }
}

/// A running `certmgr server`, as it registers itself in the store so that
/// other processes sharing the store can let it answer challenges.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerRecord {
    /// Stable id of this server run.
    pub id: String,
    /// Host name.
    pub host: String,
    /// Process id.
    pub pid: i64,
    /// Where it answers HTTP-01.
    pub http_listen: Option<String>,
    /// Where it answers TLS-ALPN-01 and HTTP-01 over HTTPS.
    pub https_listen: Option<String>,
    /// Unix seconds.
    pub started_at: i64,
    /// Last sign of life, Unix seconds.
    pub heartbeat_at: i64,
}

/// What is needed to store a DNS account.
pub struct NewDnsAccount<'a> {
    /// Unique name.
    pub name: String,
    /// The provider definition's id.
    pub provider: String,
    /// The zones this account serves.
    pub zones: Vec<String>,
    /// Parameter values as a JSON object; sealed before writing (holds secrets).
    pub params_json: &'a [u8],
}

/// A DNS account: a provider definition bound to zones, with its parameters
/// sealed until [`crate::Store::unseal_dns_params`].
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DnsAccountRecord {
    /// Stable id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// The provider definition's id.
    pub provider: String,
    /// The zones this account serves.
    pub zones: Vec<String>,
    /// Unix seconds.
    pub created_at: i64,
    #[serde(skip)]
    pub(crate) sealed_params: Vec<u8>,
}

impl fmt::Debug for DnsAccountRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DnsAccountRecord")
            .field("name", &self.name)
            .field("provider", &self.provider)
            .field("zones", &self.zones)
            .finish_non_exhaustive()
    }
}

/// The TXT journal as read: the entries that pass their integrity check,
/// and the refusals of those that do not (each names its row).
#[derive(Debug, Default)]
pub struct TxtJournal {
    /// Entries certmgr wrote, captures unsealed, oldest first.
    pub entries: Vec<TxtJournalEntry>,
    /// Rows changed or added outside certmgr: never used.
    pub refused: Vec<crate::StoreError>,
}

/// One TXT record certmgr created or is about to create, kept until its
/// deletion succeeded.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TxtJournalEntry {
    /// Stable id.
    pub id: String,
    /// The DNS account that created it.
    pub dns_account: String,
    /// The zone it lives in.
    pub zone: String,
    /// The record's name (FQDN, no trailing dot).
    pub record_name: String,
    /// The TXT value.
    pub value: String,
    /// Values the add phase captured (record ids), JSON object; sealed in
    /// the store, bound to this entry.
    pub captures: String,
    /// `adding`, `present` or `deleting`.
    pub state: String,
    /// The process (`host:pid`) that journalled it.
    pub owner: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}
