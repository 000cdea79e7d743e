//! What a credential may be: the rules, checked once, in the constructor.
//!
//! A [`CredentialRequest`] is what a user typed or an API client sent, as
//! text. [`CredentialRequest::parse`] turns it into a [`ValidCredential`] or
//! says which rule it breaks ([`Rule`]); [`create`] takes only a
//! `ValidCredential`, so no front end can store a credential that skipped
//! a rule.

use std::collections::BTreeSet;

use certmgr_core::{AcmeAccountStatus, ChallengeKind, Hostname, IssuerRef, KeySpec, validate_name};
use certmgr_store::{CredentialRecord, NewCredential, StoreError, TagScope};

use crate::Engine;
use crate::error::{EngineError, EngineResult};
pub use crate::error::{Field, FieldError, Rule};

/// Longest validity certmgr accepts for a certificate it issues, in days.
pub const MAX_VALIDITY_DAYS: u32 = 3650;

/// A credential as asked for, before any rule is checked.
#[derive(Debug, Clone, Default)]
pub struct CredentialRequest {
    /// Its name.
    pub name: String,
    /// Hostnames: DNS names, wildcards, IP addresses, IDNs.
    pub hosts: Vec<String>,
    /// Key specs: none (ECDSA P-256), one, or one RSA and one ECDSA key.
    pub keys: Vec<String>,
    /// The issuer: `ca:NAME`, `acme:ACCOUNT`, `manual` or `import`.
    pub issuer: String,
    /// ACME challenge type (ACME issuers only; http-01 when not given).
    pub challenge: Option<String>,
    /// Validity of issued certificates, in days.
    pub validity_days: Option<u32>,
    /// Days before expiry to renew.
    pub renew_before_days: Option<u32>,
    /// ACME profile (ACME only).
    pub profile: Option<String>,
    /// Preferred chain issuer (ACME only).
    pub preferred_chain: Option<String>,
    /// Where `_acme-challenge` is delegated to (dns-01 only).
    pub challenge_alias: Option<String>,
    /// The DNS account publishing the records (dns-01 only).
    pub dns_account: Option<String>,
    /// Tags, each `key=value` (`team=web`).
    pub tags: Vec<String>,
}

/// A credential that keeps every rule: made only by [`CredentialRequest::parse`].
#[derive(Debug, Clone)]
pub struct ValidCredential(NewCredential, Vec<TagScope>);

impl ValidCredential {
    /// What will be stored.
    pub fn get(&self) -> &NewCredential {
        &self.0
    }

    /// A credential for a certificate made elsewhere (an import), named
    /// after what the certificate covers.
    pub fn imported(name: &str, hostnames: Vec<Hostname>, key: KeySpec) -> EngineResult<Self> {
        validate_name(name)?;
        if hostnames.is_empty() {
            return Err(Rule::NoHostname.into());
        }
        Ok(ValidCredential(
            NewCredential {
                name: name.to_owned(),
                hostnames,
                key_specs: vec![key],
                issuer: IssuerRef::Import,
                validity_days: None,
                renew_before_days: None,
                challenge: None,
                profile: None,
                preferred_chain: None,
                dns_account: None,
                challenge_alias: None,
            },
            Vec::new(),
        ))
    }

    /// Its tags.
    pub fn tags(&self) -> &[TagScope] {
        &self.1
    }
}

impl CredentialRequest {
    /// Check every rule; nothing is looked up in the store.
    pub fn parse(&self) -> EngineResult<ValidCredential> {
        validate_name(&self.name)?;
        let hostnames = parse_hostnames(&self.hosts)?;
        let key_specs = parse_key_specs(&self.keys)?;
        let issuer: IssuerRef = self.issuer.parse()?;
        let is_acme = matches!(issuer, IssuerRef::Acme(_));
        let challenge = match (is_acme, &self.challenge) {
            (true, Some(text)) => Some(text.parse::<ChallengeKind>()?),
            (true, None) => Some(ChallengeKind::Http01),
            (false, Some(_)) => return Err(Rule::ChallengeNotAcme.into()),
            (false, None) => None,
        };
        check_challenge_fits(challenge, &hostnames)?;
        if let Some(days) = self.validity_days {
            check_validity_days(days)?;
        }
        let acme_only = |what: &'static str, value: &Option<String>| match (is_acme, value) {
            (false, Some(_)) => Err(EngineError::from(Rule::AcmeOnly(what))),
            (_, value) => Ok(value.clone()),
        };
        let dns01 = challenge == Some(ChallengeKind::Dns01);
        let challenge_alias = match &self.challenge_alias {
            None => None,
            Some(_) if !dns01 => return Err(Rule::AliasNeedsDns01.into()),
            Some(alias) => match alias.parse::<Hostname>()? {
                Hostname::Dns(name) if !name.starts_with("*.") => Some(name),
                _ => return Err(Rule::AliasNotDnsName(alias.clone()).into()),
            },
        };
        if self.dns_account.is_some() && !dns01 {
            return Err(Rule::DnsAccountNeedsDns01.into());
        }
        let tags = parse_tags(&self.tags)?;
        Ok(ValidCredential(
            NewCredential {
                name: self.name.clone(),
                hostnames,
                key_specs,
                issuer,
                validity_days: self.validity_days,
                renew_before_days: self.renew_before_days,
                challenge,
                profile: acme_only("profile", &self.profile)?,
                preferred_chain: acme_only("preferred chain", &self.preferred_chain)?,
                challenge_alias,
                dns_account: self.dns_account.clone(),
            },
            tags,
        ))
    }
}

/// Store a new credential, once what it refers to exists: its MicroCA, or
/// its ACME account (registered, valid) and DNS account.
pub async fn create(
    engine: &Engine<'_>,
    valid: &ValidCredential,
) -> EngineResult<CredentialRecord> {
    let store = engine.store();
    let new = valid.get();
    let field = |field: Field| {
        move |e: StoreError| {
            EngineError::Field(FieldError {
                field,
                source: Box::new(e.into()),
            })
        }
    };
    match &new.issuer {
        IssuerRef::MicroCa(ca) => {
            store.ca(ca).await.map_err(field(Field::Issuer))?;
        }
        IssuerRef::Acme(account) => {
            if let Some(dns) = &new.dns_account {
                store
                    .dns_account(dns)
                    .await
                    .map_err(field(Field::DnsAccount))?;
            }
            let account = store
                .acme_account(account)
                .await
                .map_err(field(Field::Issuer))?;
            if account.status != AcmeAccountStatus::Valid {
                return Err(EngineError::Field(FieldError {
                    field: Field::Issuer,
                    source: Box::new(EngineError::bad_input(format!(
                        "ACME account {:?} is {}",
                        account.name, account.status
                    ))),
                }));
            }
        }
        IssuerRef::Manual | IssuerRef::Import => {}
    }
    let record = store.create_credential(new).await?;
    for tag in valid.tags() {
        store.set_tag(&record, &tag.key, &tag.value).await?;
    }
    Ok(record)
}

/// Tags written `key=value`, each key once.
pub fn parse_tags(tags: &[String]) -> EngineResult<Vec<TagScope>> {
    let mut parsed: Vec<TagScope> = Vec::with_capacity(tags.len());
    for text in tags {
        let tag = crate::access::parse_scope(text)?;
        if parsed.iter().any(|t| t.key == tag.key) {
            return Err(EngineError::bad_input(format!(
                "tag {:?} is given twice",
                tag.key
            )));
        }
        parsed.push(tag);
    }
    Ok(parsed)
}

/// Set tags on the credential `name` (a key already there gets the new value).
pub async fn tag(engine: &Engine<'_>, name: &str, tags: &[String]) -> EngineResult<()> {
    let tags = parse_tags(tags)?;
    if tags.is_empty() {
        return Err(EngineError::bad_input("give at least one tag, key=value"));
    }
    let store = engine.store();
    let credential = store.credential(name).await?;
    for tag in &tags {
        store.set_tag(&credential, &tag.key, &tag.value).await?;
    }
    Ok(())
}

/// Remove the tags with these keys from the credential `name`; a key it
/// does not have is refused (nothing is removed then).
pub async fn untag(engine: &Engine<'_>, name: &str, keys: &[String]) -> EngineResult<()> {
    let store = engine.store();
    let credential = store.credential(name).await?;
    let current = store.tags(&credential).await?;
    if let Some(missing) = keys.iter().find(|k| !current.contains_key(*k)) {
        return Err(EngineError::bad_input(format!(
            "credential {name:?} has no tag {missing:?}"
        )));
    }
    for key in keys {
        store.remove_tag(&credential, key).await?;
    }
    Ok(())
}

/// Refuse combinations the CA would refuse: wildcards are only validated over
/// DNS (RFC 8555 §7.1.3), and IP addresses never over DNS (RFC 8738 §7).
fn check_challenge_fits(
    challenge: Option<ChallengeKind>,
    hostnames: &[Hostname],
) -> EngineResult<()> {
    match challenge {
        Some(ChallengeKind::Http01 | ChallengeKind::TlsAlpn01) => {
            if let Some(wildcard) = hostnames.iter().find(|h| h.is_wildcard()) {
                return Err(Rule::WildcardNeedsDns01(wildcard.to_string()).into());
            }
        }
        Some(ChallengeKind::Dns01) => {
            if let Some(ip) = hostnames.iter().find(|h| matches!(h, Hostname::Ip(_))) {
                return Err(Rule::IpNotByDns01(ip.to_string()).into());
            }
        }
        None => {}
    }
    Ok(())
}

/// Refuse a validity outside 1..=3650 days.
pub fn check_validity_days(days: u32) -> EngineResult<()> {
    if (1..=MAX_VALIDITY_DAYS).contains(&days) {
        Ok(())
    } else {
        Err(Rule::Validity(days).into())
    }
}

/// Parse and de-duplicate hostnames; a repeated hostname is a mistake worth reporting.
pub fn parse_hostnames(hosts: &[String]) -> EngineResult<Vec<Hostname>> {
    let mut seen = BTreeSet::new();
    let mut hostnames = Vec::with_capacity(hosts.len());
    for host in hosts {
        let hostname: Hostname = host.parse()?;
        if !seen.insert(hostname.clone()) {
            return Err(Rule::DuplicateHostname(hostname.to_string()).into());
        }
        hostnames.push(hostname);
    }
    if hostnames.is_empty() {
        return Err(Rule::NoHostname.into());
    }
    Ok(hostnames)
}

/// One key, or one RSA plus one ECDSA key; default ECDSA P-256.
pub fn parse_key_specs(keys: &[String]) -> EngineResult<Vec<KeySpec>> {
    let specs = keys
        .iter()
        .map(|k| k.parse::<KeySpec>())
        .collect::<Result<Vec<_>, _>>()?;
    match specs.as_slice() {
        [] => Ok(vec![KeySpec::EcdsaP256]),
        [_] => Ok(specs),
        [a, b] if a.family() != b.family() => Ok(specs),
        [_, _] => Err(Rule::SameKeyFamily.into()),
        _ => Err(Rule::TooManyKeys.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> CredentialRequest {
        CredentialRequest {
            name: "web".into(),
            hosts: vec!["www.example.test".into()],
            issuer: "acme:le".into(),
            ..Default::default()
        }
    }

    fn rule(request: &CredentialRequest) -> Rule {
        match request.parse() {
            Err(EngineError::Rule(rule)) => rule,
            other => panic!("expected a broken rule, got {other:?}"),
        }
    }

    #[test]
    fn tags_are_key_value_each_key_once() {
        let mut r = request();
        r.tags = vec!["team=web".into(), "env=prod".into()];
        let valid = r.parse().unwrap();
        assert_eq!(valid.tags().len(), 2);
        assert_eq!(valid.tags()[0].key, "team");
        r.tags = vec!["team=web".into(), "team=db".into()];
        assert!(r.parse().unwrap_err().to_string().contains("given twice"));
        r.tags = vec!["team".into()];
        assert!(r.parse().is_err());
    }

    #[test]
    fn an_acme_credential_defaults_to_http01_and_ecdsa() {
        let valid = request().parse().unwrap();
        assert_eq!(valid.get().challenge, Some(ChallengeKind::Http01));
        assert_eq!(valid.get().key_specs, vec![KeySpec::EcdsaP256]);
    }

    #[test]
    fn each_rule_is_refused_by_the_constructor() {
        let mut r = request();
        r.hosts = vec!["*.example.test".into()];
        assert_eq!(rule(&r), Rule::WildcardNeedsDns01("*.example.test".into()));
        r.challenge = Some("dns-01".into());
        assert!(r.parse().is_ok());
        r.hosts = vec!["192.0.2.1".into()];
        assert_eq!(rule(&r), Rule::IpNotByDns01("192.0.2.1".into()));

        let mut r = request();
        r.hosts = vec!["a.example.test".into(), "A.example.test".into()];
        assert_eq!(rule(&r), Rule::DuplicateHostname("a.example.test".into()));
        r.hosts.clear();
        assert_eq!(rule(&r), Rule::NoHostname);

        let mut r = request();
        r.keys = vec!["ecdsa-p256".into(), "ecdsa-p384".into()];
        assert_eq!(rule(&r), Rule::SameKeyFamily);
        r.keys = vec!["ecdsa-p256".into(), "rsa-2048".into(), "rsa-3072".into()];
        assert_eq!(rule(&r), Rule::TooManyKeys);

        let mut r = request();
        r.issuer = "ca:lab".into();
        r.challenge = Some("http-01".into());
        assert_eq!(rule(&r), Rule::ChallengeNotAcme);
        r.challenge = None;
        r.profile = Some("short".into());
        assert_eq!(rule(&r), Rule::AcmeOnly("profile"));
        r.profile = None;
        r.validity_days = Some(0);
        assert_eq!(rule(&r), Rule::Validity(0));
        r.validity_days = Some(3651);
        assert_eq!(rule(&r), Rule::Validity(3651));

        let mut r = request();
        r.challenge_alias = Some("x.example.test".into());
        assert_eq!(rule(&r), Rule::AliasNeedsDns01);
        r.challenge = Some("dns-01".into());
        r.challenge_alias = Some("*.example.test".into());
        assert_eq!(rule(&r), Rule::AliasNotDnsName("*.example.test".into()));
        r.challenge_alias = None;
        r.challenge = None;
        r.dns_account = Some("pdns".into());
        assert_eq!(rule(&r), Rule::DnsAccountNeedsDns01);
    }
}
