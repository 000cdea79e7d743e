//! `certmgr cred create | list | show | delete`.

use std::collections::BTreeSet;

use certmgr_core::{ChallengeKind, Health, Hostname, IssuerRef, KeySpec, Status, validate_name};
use certmgr_pki::certificate_info;
use certmgr_store::{CredentialRecord, NewCredential, Store};
use serde::Serialize;
use serde_json::json;

use crate::cli::{CredCreateArgs, CredShowArgs};
use crate::error::{CliError, CliResult};
use crate::output::{days_until, print_json, print_table, timestamp};

/// Longest validity certmgr accepts for a leaf certificate, in days.
pub const MAX_VALIDITY_DAYS: u32 = 3650;

pub async fn create(store: &Store, args: &CredCreateArgs, json: bool) -> CliResult<()> {
    let new = parse_new_credential(args)?;
    match &new.issuer {
        IssuerRef::MicroCa(ca) => {
            store
                .ca(ca)
                .await
                .map_err(|e| CliError::from(e).context("--issuer"))?;
        }
        IssuerRef::Acme(account) => {
            if let Some(dns) = &new.dns_account {
                store
                    .dns_account(dns)
                    .await
                    .map_err(|e| CliError::from(e).context("--dns-account"))?;
            }
            let account = store
                .acme_account(account)
                .await
                .map_err(|e| CliError::from(e).context("--issuer"))?;
            if account.status != "valid" {
                return Err(CliError::bad_input(format!(
                    "--issuer: ACME account {:?} is {}",
                    account.name, account.status
                )));
            }
        }
        IssuerRef::Manual | IssuerRef::Import => {}
    }
    let credential = store.create_credential(&new).await?;
    if json {
        return print_json(&credential);
    }
    println!(
        "credential {:?} created ({}); next: {}",
        credential.name,
        credential.issuer,
        match credential.issuer {
            IssuerRef::MicroCa(_) | IssuerRef::Acme(_) =>
                format!("certmgr cred issue {}", credential.name),
            _ => format!(
                "certmgr cred csr {} --out req.pem, or certmgr cred import {} --cert FILE --key FILE",
                credential.name, credential.name
            ),
        }
    );
    Ok(())
}

/// Validate everything the user gave before the store is touched.
fn parse_new_credential(args: &CredCreateArgs) -> CliResult<NewCredential> {
    validate_name(&args.name)?;
    let hostnames = parse_hostnames(&args.hosts)?;
    let key_specs = parse_key_specs(&args.keys)?;
    let issuer: IssuerRef = args.issuer.parse()?;
    let challenge = match (&issuer, &args.challenge) {
        (IssuerRef::Acme(_), Some(text)) => Some(text.parse::<ChallengeKind>()?),
        (IssuerRef::Acme(_), None) => Some(ChallengeKind::Http01),
        (_, Some(_)) => {
            return Err(CliError::bad_input(
                "--challenge applies to ACME issuers only (--issuer acme:ACCOUNT)",
            ));
        }
        (_, None) => None,
    };
    check_challenge_fits(challenge, &hostnames)?;
    let issuer_is_acme = matches!(issuer, IssuerRef::Acme(_));
    if let Some(days) = args.validity_days {
        check_validity_days(days)?;
    }
    Ok(NewCredential {
        name: args.name.clone(),
        hostnames,
        key_specs,
        issuer,
        validity_days: args.validity_days,
        renew_before_days: args.renew_before_days,
        challenge,
        profile: acme_only(issuer_is_acme, "--profile", &args.profile)?,
        preferred_chain: acme_only(issuer_is_acme, "--preferred-chain", &args.preferred_chain)?,
        challenge_alias: match (&args.challenge_alias, challenge) {
            (Some(alias), Some(ChallengeKind::Dns01)) => match alias.parse::<Hostname>()? {
                Hostname::Dns(name) if !name.starts_with("*.") => Some(name),
                _ => {
                    return Err(CliError::bad_input(format!(
                        "--challenge-alias {alias:?} is not a DNS name"
                    )));
                }
            },
            (None, _) => None,
            (Some(_), _) => {
                return Err(CliError::bad_input(
                    "--challenge-alias applies to --challenge dns-01 only",
                ));
            }
        },
        dns_account: match (&args.dns_account, challenge) {
            (Some(_), Some(ChallengeKind::Dns01)) | (None, _) => args.dns_account.clone(),
            (Some(_), _) => {
                return Err(CliError::bad_input(
                    "--dns-account applies to --challenge dns-01 only",
                ));
            }
        },
    })
}

/// Refuse combinations the CA would refuse: wildcards are only validated over
/// DNS (RFC 8555 §7.1.3), and IP addresses never over DNS (RFC 8738 §7).
fn check_challenge_fits(challenge: Option<ChallengeKind>, hostnames: &[Hostname]) -> CliResult<()> {
    match challenge {
        Some(ChallengeKind::Http01 | ChallengeKind::TlsAlpn01) => {
            if let Some(wildcard) = hostnames.iter().find(|h| h.is_wildcard()) {
                return Err(CliError::bad_input(format!(
                    "{wildcard} is a wildcard: ACME CAs validate wildcards only with --challenge dns-01"
                )));
            }
        }
        Some(ChallengeKind::Dns01) => {
            if let Some(ip) = hostnames.iter().find(|h| matches!(h, Hostname::Ip(_))) {
                return Err(CliError::bad_input(format!(
                    "{ip} is an IP address: validate it with --challenge http-01 or tls-alpn-01"
                )));
            }
        }
        None => {}
    }
    Ok(())
}

/// An option that only makes sense for ACME issuers.
fn acme_only(is_acme: bool, flag: &str, value: &Option<String>) -> CliResult<Option<String>> {
    match (is_acme, value) {
        (false, Some(_)) => Err(CliError::bad_input(format!(
            "{flag} applies to ACME issuers only (--issuer acme:ACCOUNT)"
        ))),
        (_, value) => Ok(value.clone()),
    }
}

/// Refuse a validity outside 1..=3650 days.
pub fn check_validity_days(days: u32) -> CliResult<()> {
    if (1..=MAX_VALIDITY_DAYS).contains(&days) {
        Ok(())
    } else {
        Err(CliError::bad_input(format!(
            "--validity-days {days}: use 1 to {MAX_VALIDITY_DAYS}"
        )))
    }
}

/// Parse and de-duplicate hostnames; a repeated hostname is a mistake worth reporting.
pub fn parse_hostnames(hosts: &[String]) -> CliResult<Vec<Hostname>> {
    let mut seen = BTreeSet::new();
    let mut hostnames = Vec::with_capacity(hosts.len());
    for host in hosts {
        let hostname: Hostname = host.parse()?;
        if !seen.insert(hostname.clone()) {
            return Err(CliError::bad_input(format!(
                "hostname {hostname} is given twice"
            )));
        }
        hostnames.push(hostname);
    }
    if hostnames.is_empty() {
        return Err(CliError::bad_input("give at least one --host"));
    }
    Ok(hostnames)
}

/// One key, or one RSA plus one ECDSA key; default ECDSA P-256.
pub fn parse_key_specs(keys: &[String]) -> CliResult<Vec<KeySpec>> {
    let specs = keys
        .iter()
        .map(|k| k.parse::<KeySpec>())
        .collect::<Result<Vec<_>, _>>()?;
    match specs.as_slice() {
        [] => Ok(vec![KeySpec::EcdsaP256]),
        [_] => Ok(specs),
        [a, b] if a.family() != b.family() => Ok(specs),
        [_, _] => Err(CliError::bad_input(
            "two --key options must be one RSA and one ECDSA key (a dual credential)",
        )),
        _ => Err(CliError::bad_input(
            "at most two --key options: one RSA and one ECDSA key",
        )),
    }
}

/// The status and health to show: a credential stored as valid whose
/// certificate has since expired is shown as expired, and one past its planned
/// renewal time as renewal-due, without waiting for a write to notice.
fn effective_state(c: &CredentialRecord) -> (Status, Health) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
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

/// One credential in `cred list --json`.
#[derive(Serialize)]
struct CredentialSummary<'a> {
    name: &'a str,
    hostnames: &'a [Hostname],
    key_specs: &'a [KeySpec],
    issuer: &'a IssuerRef,
    status: Status,
    health: Health,
    not_after: Option<i64>,
    days_to_expiry: Option<i64>,
    last_error: Option<&'a str>,
}

pub async fn list(store: &Store, json: bool) -> CliResult<()> {
    let credentials = store.list_credentials().await?;
    if json {
        let rows: Vec<CredentialSummary<'_>> = credentials
            .iter()
            .map(|c| {
                let (status, health) = effective_state(c);
                CredentialSummary {
                    name: &c.name,
                    hostnames: &c.hostnames,
                    key_specs: &c.key_specs,
                    issuer: &c.issuer,
                    status,
                    health,
                    not_after: c.not_after,
                    days_to_expiry: c.not_after.map(days_until),
                    last_error: c.last_error.as_deref(),
                }
            })
            .collect();
        return print_json(&rows);
    }
    let rows: Vec<Vec<String>> = credentials.iter().map(summary_row).collect();
    print_table(
        &[
            "NAME",
            "HOSTNAMES",
            "KEYS",
            "STATUS",
            "HEALTH",
            "EXPIRES IN",
        ],
        &rows,
    )
}

fn summary_row(c: &CredentialRecord) -> Vec<String> {
    vec![
        c.name.clone(),
        c.hostnames
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
        c.key_specs
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join("+"),
        effective_state(c).0.to_string(),
        effective_state(c).1.to_string(),
        c.not_after
            .map(|t| format!("{}d", days_until(t)))
            .unwrap_or_else(|| "-".into()),
    ]
}

pub async fn show(store: &Store, args: &CredShowArgs, json: bool) -> CliResult<()> {
    let credential = store.credential(&args.name).await?;
    let keys = store.key_versions(&credential, None).await?;
    let history = store.history(&credential).await?;
    let events = if args.events {
        Some(store.events(&credential).await?)
    } else {
        None
    };
    let mut certificates = Vec::new();
    for key in &keys {
        let info = match &key.certificate {
            Some(cert) => Some(certificate_info(&cert.cert_der)?),
            None => None,
        };
        certificates.push((key, info));
    }
    if json {
        let keys_json: Vec<_> = certificates
            .iter()
            .map(|(key, info)| {
                json!({
                    "family": key.family,
                    "key_spec": key.spec,
                    "version": key.version,
                    "source": key.source,
                    "certificate": info.as_ref().map(|i| json!({
                        "subject": i.subject,
                        "issuer": i.issuer,
                        "serial": i.serial_hex,
                        "not_before": timestamp(i.not_before.unix_timestamp()),
                        "not_after": timestamp(i.not_after.unix_timestamp()),
                        "sha256_fingerprint": i.sha256_fingerprint,
                        "chain_length": key.certificate.as_ref().map(|c| c.chain_der.len() + 1),
                    })),
                })
            })
            .collect();
        let mut credential_json = json!(credential);
        let (status, health) = effective_state(&credential);
        credential_json["status"] = json!(status);
        credential_json["health"] = json!(health);
        return print_json(&json!({
            "credential": credential_json,
            "keys": keys_json,
            "versions": history.iter().map(|k| k.version).collect::<BTreeSet<_>>(),
            "events": events,
        }));
    }
    println!("name:        {}", credential.name);
    println!(
        "hostnames:   {}",
        credential
            .hostnames
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("issuer:      {}", credential.issuer);
    println!(
        "status:      {} (health {})",
        effective_state(&credential).0,
        effective_state(&credential).1
    );
    if let Some(error) = &credential.last_error {
        println!("last error:  {error}");
    }
    println!(
        "version:     {} of {}",
        credential.current_version,
        history
            .iter()
            .map(|k| k.version)
            .collect::<BTreeSet<_>>()
            .len()
    );
    for (key, info) in &certificates {
        println!("key {} ({}):", key.family, key.spec);
        match info {
            Some(info) => {
                println!("  subject:     {}", info.subject);
                println!("  issuer:      {}", info.issuer);
                println!("  serial:      {}", info.serial_hex);
                println!(
                    "  valid:       {} to {} ({} days left)",
                    timestamp(info.not_before.unix_timestamp()),
                    timestamp(info.not_after.unix_timestamp()),
                    days_until(info.not_after.unix_timestamp())
                );
                println!("  sha256:      {}", info.sha256_fingerprint);
            }
            None => println!("  no certificate yet (CSR out with an external CA)"),
        }
    }
    if let Some(events) = events {
        println!("events:");
        for event in events {
            println!(
                "  {}  {:<14} {}",
                timestamp(event.at),
                event.kind,
                event.message
            );
        }
    }
    Ok(())
}

pub async fn delete(store: &Store, name: &str, json: bool) -> CliResult<()> {
    store.delete_credential(name).await?;
    if json {
        return print_json(&json!({ "deleted": name }));
    }
    println!("credential {name:?} deleted");
    Ok(())
}
