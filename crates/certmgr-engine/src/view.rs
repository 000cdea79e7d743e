//! What the front ends show: one set of `Serialize` views, shared by the
//! CLI's `--json` output and the REST API, built from the store's records.
//! Views never hold a secret (no key, no DNS parameter value).

use std::collections::BTreeSet;

use certmgr_core::{Health, Hostname, IssuerRef, KeyFamily, KeySpec, Status};
use certmgr_pki::certificate_info;
use certmgr_store::{CaRecord, CredentialRecord, Event, KeyVersion, VersionSource};
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::clock::timestamp;
use crate::error::EngineResult;

mod dns;
pub use dns::{
    Destinations, DnsAccountView, ParameterView, ProviderDetail, ProviderSummary, UrlParameter,
    dns_account,
};

/// Whole days from `now` until `unix` (negative once past).
pub fn days_until(unix: i64, now: i64) -> i64 {
    (unix - now).div_euclid(86_400)
}

/// The status and health to show at `now`: a credential stored as valid
/// whose certificate has since expired is shown as expired, and one past
/// its planned renewal time as renewal-due, without waiting for a write to
/// notice.
pub fn effective_state(c: &CredentialRecord, now: i64) -> (Status, Health) {
    match (c.status, c.not_after, c.renew_at) {
        (Status::Valid | Status::RenewalDue, Some(not_after), _) if not_after <= now => {
            (Status::Expired, Health::Error)
        }
        (Status::Valid, _, Some(renew_at)) if renew_at <= now => {
            (Status::RenewalDue, Health::Warning)
        }
        _ => (c.status, c.health),
    }
}

/// One credential in a listing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialSummary {
    /// Its name.
    pub name: String,
    /// Its hostnames.
    pub hostnames: Vec<Hostname>,
    /// Its key specs.
    pub key_specs: Vec<KeySpec>,
    /// Its issuer.
    pub issuer: IssuerRef,
    /// Status, as of now.
    pub status: Status,
    /// Health, as of now.
    pub health: Health,
    /// Earliest expiry of its current certificates (Unix seconds).
    pub not_after: Option<i64>,
    /// Whole days until then.
    pub days_to_expiry: Option<i64>,
    /// The last failure, if any.
    pub last_error: Option<String>,
}

impl CredentialSummary {
    /// The summary of `c` at `now`.
    pub fn new(c: &CredentialRecord, now: i64) -> Self {
        let (status, health) = effective_state(c, now);
        CredentialSummary {
            name: c.name.clone(),
            hostnames: c.hostnames.clone(),
            key_specs: c.key_specs.clone(),
            issuer: c.issuer.clone(),
            status,
            health,
            not_after: c.not_after,
            days_to_expiry: c.not_after.map(|t| days_until(t, now)),
            last_error: c.last_error.clone(),
        }
    }
}

/// Which credentials a listing shows; every field left empty matches all.
#[derive(Debug, Clone, Default)]
pub struct CredentialFilter {
    /// Only this status (as of now).
    pub status: Option<Status>,
    /// Only this health (as of now).
    pub health: Option<Health>,
    /// Only this issuer (`ca:lab`, `acme:le`, `manual`, `import`).
    pub issuer: Option<IssuerRef>,
    /// Only those expiring before this time (Unix seconds).
    pub expiring_before: Option<i64>,
    /// Only those with a hostname containing this text (case-insensitive).
    pub hostname_contains: Option<String>,
    /// Only those carrying every one of these tags (a user's filter and a
    /// token's scope together).
    pub tags: Vec<certmgr_store::TagScope>,
    /// Only those whose name or a hostname contains this text
    /// (case-insensitive): a search box.
    pub text: Option<String>,
    /// The order of a paged listing.
    pub sort: Sort,
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// By name (the name index: a page costs its own size).
    #[default]
    Name,
    /// Soonest expiry first, those without a certificate last, then by
    /// name. Each page reads the store in full.
    Expiry,
}

/// The ids of the credentials carrying every one of `tags`; `None` when
/// there is no tag to match (every credential).
pub async fn tagged_ids(
    engine: &Engine<'_>,
    tags: &[certmgr_store::TagScope],
) -> EngineResult<Option<std::collections::HashSet<String>>> {
    let mut tagged: Option<std::collections::HashSet<String>> = None;
    for tag in tags {
        let ids = engine.store().tagged(&tag.key, &tag.value).await?;
        tagged = Some(match tagged {
            Some(before) => before.into_iter().filter(|id| ids.contains(id)).collect(),
            None => ids.into_iter().collect(),
        });
    }
    Ok(tagged)
}

/// The credentials `filter` selects, as of the engine's clock, by name.
pub async fn credentials(
    engine: &Engine<'_>,
    filter: &CredentialFilter,
) -> EngineResult<Vec<CredentialSummary>> {
    Ok(credentials_page(engine, filter, None, None).await?.items)
}

/// One page of a listing, and where the next one starts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The items, by name.
    pub items: Vec<T>,
    /// The name to continue after, if there may be more.
    pub next_after: Option<String>,
}

/// Up to `limit` credentials (all without one) that `filter` selects, after
/// the name `after`, by name. Rows are read in chunks with the name index,
/// so a page of a large store costs its own size, not the store's.
pub async fn credentials_page(
    engine: &Engine<'_>,
    filter: &CredentialFilter,
    after: Option<&str>,
    limit: Option<u32>,
) -> EngineResult<Page<CredentialSummary>> {
    let now = engine.now();
    let store = engine.store();
    let tagged = tagged_ids(engine, &filter.tags).await?;
    let needle = filter
        .hostname_contains
        .as_ref()
        .map(|text| text.to_lowercase());
    let search = filter.text.as_ref().map(|text| text.to_lowercase());
    let has_hostname = |c: &CredentialRecord, needle: &str| {
        c.hostnames
            .iter()
            .any(|h| h.to_string().to_lowercase().contains(needle))
    };
    let selects = |c: &CredentialRecord| {
        tagged.as_ref().is_none_or(|ids| ids.contains(&c.id))
            && filter.issuer.as_ref().is_none_or(|i| *i == c.issuer)
            && filter
                .expiring_before
                .is_none_or(|at| c.not_after.is_some_and(|t| t < at))
            && needle.as_ref().is_none_or(|needle| has_hostname(c, needle))
            && search
                .as_ref()
                .is_none_or(|text| c.name.to_lowercase().contains(text) || has_hostname(c, text))
    };
    if filter.sort == Sort::Expiry {
        let mut items: Vec<CredentialSummary> = store
            .list_credentials()
            .await?
            .iter()
            .filter(|c| selects(c))
            .map(|c| CredentialSummary::new(c, now))
            .filter(|c| filter.status.is_none_or(|s| s == c.status))
            .filter(|c| filter.health.is_none_or(|h| h == c.health))
            .collect();
        items.sort_by(|a, b| expiry_key(a).cmp(&expiry_key(b)));
        return Ok(expiry_page(items, after, limit));
    }
    let Some(limit) = limit else {
        let items = store
            .list_credentials()
            .await?
            .iter()
            .filter(|c| selects(c))
            .map(|c| CredentialSummary::new(c, now))
            .filter(|c| filter.status.is_none_or(|s| s == c.status))
            .filter(|c| filter.health.is_none_or(|h| h == c.health))
            .collect();
        return Ok(Page {
            items,
            next_after: None,
        });
    };
    // A filter that selects few rows reads more chunks; each is at least
    // as large as the page.
    let chunk = limit.max(200);
    let mut cursor = after.map(str::to_owned);
    let mut items = Vec::new();
    loop {
        let rows = store
            .credentials_after(cursor.as_deref(), Some(chunk))
            .await?;
        let exhausted = rows.len() < chunk as usize;
        for c in &rows {
            cursor = Some(c.name.clone());
            if !selects(c) {
                continue;
            }
            let summary = CredentialSummary::new(c, now);
            if filter.status.is_some_and(|s| s != summary.status)
                || filter.health.is_some_and(|h| h != summary.health)
            {
                continue;
            }
            items.push(summary);
            // One more than the page tells whether there is a next one.
            if items.len() > limit as usize {
                items.truncate(limit as usize);
                let next_after = items.last().map(|c| c.name.clone());
                return Ok(Page { items, next_after });
            }
        }
        if exhausted {
            return Ok(Page {
                items,
                next_after: None,
            });
        }
    }
}

/// Where a credential sorts by expiry: no certificate sorts last.
fn expiry_key(c: &CredentialSummary) -> (i64, &str) {
    (c.not_after.unwrap_or(i64::MAX), c.name.as_str())
}

/// The page of `items` (sorted by [`expiry_key`]) after the position
/// `after` (`EXPIRY:NAME`, as this returns in `next_after`), of `limit`
/// items (all without one).
fn expiry_page(
    items: Vec<CredentialSummary>,
    after: Option<&str>,
    limit: Option<u32>,
) -> Page<CredentialSummary> {
    let start = after
        .and_then(|k| k.split_once(':'))
        .and_then(|(at, name)| Some((at.parse::<i64>().ok()?, name)))
        .map_or(0, |position| {
            items.partition_point(|item| expiry_key(item) <= position)
        });
    let mut rest: Vec<CredentialSummary> = items.into_iter().skip(start).collect();
    let next_after = match limit {
        Some(limit) if rest.len() > limit as usize => {
            rest.truncate(limit as usize);
            rest.last().map(|c| {
                let (at, name) = expiry_key(c);
                format!("{at}:{name}")
            })
        }
        _ => None,
    };
    Page {
        items: rest,
        next_after,
    }
}

/// A certificate, as parsed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CertificateView {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Serial number, hex.
    pub serial: String,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// SHA-256 of the DER certificate.
    pub sha256_fingerprint: String,
    /// Certificates from the leaf to the last intermediate.
    pub chain_length: Option<usize>,
    /// Whole days until it expires.
    pub days_left: i64,
}

/// One key of the current version.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyView {
    /// RSA or ECDSA.
    pub family: KeyFamily,
    /// Algorithm and size.
    pub key_spec: KeySpec,
    /// The version it belongs to.
    pub version: i64,
    /// How it came to be.
    pub source: VersionSource,
    /// Its certificate, once issued.
    pub certificate: Option<CertificateView>,
    /// The certificates above it, from the one that signed it up to the
    /// root when the store knows the root: the chain as a reader draws it.
    #[serde(default)]
    pub issuers: Vec<CertificateView>,
}

/// A credential in full: its record as of now, its current keys and
/// certificates, the versions it had, and (when asked) its events.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialDetail {
    /// The credential, with its status and health as of now.
    pub credential: CredentialRecord,
    /// Its tags.
    pub tags: std::collections::BTreeMap<String, String>,
    /// The current version's keys.
    pub keys: Vec<KeyView>,
    /// Every version number it had.
    pub versions: BTreeSet<i64>,
    /// Its events, when asked for.
    pub events: Option<Vec<Event>>,
}

/// One credential in full, as of the engine's clock.
pub async fn credential(
    engine: &Engine<'_>,
    name: &str,
    with_events: bool,
) -> EngineResult<CredentialDetail> {
    let store = engine.store();
    let now = engine.now();
    let mut credential = store.credential(name).await?;
    let tags = store.tags(&credential).await?;
    let keys = store.key_versions(&credential, None).await?;
    let versions = store
        .history(&credential)
        .await?
        .iter()
        .map(|k| k.version)
        .collect();
    let events = if with_events {
        Some(store.events(&credential).await?)
    } else {
        None
    };
    let keys = keys
        .iter()
        .map(|key| key_view(key, now))
        .collect::<EngineResult<Vec<_>>>()?;
    (credential.status, credential.health) = effective_state(&credential, now);
    Ok(CredentialDetail {
        credential,
        tags,
        keys,
        versions,
        events,
    })
}

fn key_view(key: &KeyVersion, now: i64) -> EngineResult<KeyView> {
    let (certificate, issuers) = match &key.certificate {
        Some(cert) => {
            let mut leaf = certificate_view(&cert.cert_der, now)?;
            leaf.chain_length = Some(cert.chain_der.len() + 1);
            let issuers = cert
                .chain_der
                .iter()
                .chain(cert.root_der.iter())
                .map(|der| certificate_view(der, now))
                .collect::<EngineResult<Vec<_>>>()?;
            (Some(leaf), issuers)
        }
        None => (None, Vec::new()),
    };
    Ok(KeyView {
        family: key.family,
        key_spec: key.spec,
        version: key.version,
        source: key.source,
        certificate,
        issuers,
    })
}

fn certificate_view(der: &[u8], now: i64) -> EngineResult<CertificateView> {
    let info = certificate_info(der)?;
    Ok(CertificateView {
        subject: info.subject,
        issuer: info.issuer,
        serial: info.serial_hex,
        not_before: timestamp(info.not_before.unix_timestamp()),
        not_after: timestamp(info.not_after.unix_timestamp()),
        sha256_fingerprint: info.sha256_fingerprint,
        chain_length: None,
        days_left: days_until(info.not_after.unix_timestamp(), now),
    })
}

/// A MicroCA.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaView {
    /// Its name.
    pub name: String,
    /// Its key.
    pub key_spec: KeySpec,
    /// The root's subject DN.
    pub subject: String,
    /// The intermediate's subject DN, when leaves are signed by one.
    pub intermediate: Option<String>,
    /// The root's expiry, RFC 3339.
    pub not_after: String,
    /// Whole days until then.
    pub days_to_expiry: i64,
    /// SHA-256 of the root certificate.
    pub root_sha256_fingerprint: String,
    /// When it was created, RFC 3339.
    pub created_at: String,
}

impl CaView {
    /// The view of `ca` at `now`.
    pub fn new(ca: &CaRecord, now: i64) -> EngineResult<Self> {
        let root = certificate_info(&ca.root_der)?;
        Ok(CaView {
            name: ca.name.clone(),
            key_spec: ca.key_spec,
            subject: root.subject,
            intermediate: ca
                .intermediate_der
                .as_ref()
                .map(|d| certificate_info(d).map(|i| i.subject))
                .transpose()?,
            not_after: timestamp(ca.not_after),
            days_to_expiry: days_until(ca.not_after, now),
            root_sha256_fingerprint: root.sha256_fingerprint,
            created_at: timestamp(ca.created_at),
        })
    }
}
