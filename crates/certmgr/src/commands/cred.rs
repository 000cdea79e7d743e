//! `certmgr cred create | list | show | delete | tag | untag`, here or on
//! a manager (`--server`).

use std::collections::BTreeMap;

use certmgr_core::IssuerRef;
use certmgr_engine::credential::CredentialRequest;
use certmgr_engine::view::{self, CredentialDetail, CredentialFilter, CredentialSummary};
use certmgr_store::{CredentialRecord, Event};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::cli::{CredCreateArgs, CredListArgs, CredShowArgs, CredTagArgs, CredUntagArgs};
use crate::commands::Target;
use crate::error::{CliError, CliResult};
use crate::output::{print_json, print_table, timestamp};
use crate::remote::segment;

pub async fn create(target: &Target<'_>, args: &CredCreateArgs, json: bool) -> CliResult<()> {
    let credential = match target {
        Target::Local(engine) => create_here(engine, args).await?,
        Target::Remote(remote) => {
            let tags: BTreeMap<&str, &str> = args
                .tags
                .iter()
                .map(|t| t.split_once('=').unwrap_or((t.as_str(), "")))
                .collect();
            remote
                .send(
                    Method::POST,
                    "/api/credentials",
                    &json!({
                        "name": args.name,
                        "hostnames": args.hosts,
                        "keys": args.keys,
                        "issuer": args.issuer,
                        "challenge": args.challenge,
                        "validity_days": args.validity_days,
                        "renew_before_days": args.renew_before_days,
                        "profile": args.profile,
                        "preferred_chain": args.preferred_chain,
                        "challenge_alias": args.challenge_alias,
                        "dns_account": args.dns_account,
                        "tags": tags,
                    }),
                )
                .await?
        }
    };
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

async fn create_here(
    engine: &certmgr_engine::Engine<'_>,
    args: &CredCreateArgs,
) -> CliResult<CredentialRecord> {
    let request = CredentialRequest {
        name: args.name.clone(),
        hosts: args.hosts.clone(),
        keys: args.keys.clone(),
        issuer: args.issuer.clone(),
        challenge: args.challenge.clone(),
        validity_days: args.validity_days,
        renew_before_days: args.renew_before_days,
        profile: args.profile.clone(),
        preferred_chain: args.preferred_chain.clone(),
        challenge_alias: args.challenge_alias.clone(),
        dns_account: args.dns_account.clone(),
        tags: args.tags.clone(),
    };
    let valid = request.parse()?;
    Ok(certmgr_engine::credential::create(engine, &valid).await?)
}

/// One page of a listing as the API sends it.
#[derive(Deserialize)]
struct Page {
    items: Vec<CredentialSummary>,
    next_cursor: Option<String>,
}

pub async fn list(target: &Target<'_>, args: &CredListArgs, json: bool) -> CliResult<()> {
    let credentials = match target {
        Target::Local(engine) => {
            view::credentials(engine, &list_filter(engine.now(), args)?).await?
        }
        Target::Remote(remote) => {
            let filter = list_filter(
                certmgr_engine::Clock::unix(&certmgr_engine::SystemClock),
                args,
            )?;
            let mut query: Vec<(&str, String)> = Vec::new();
            for (key, value) in [
                ("status", args.status.clone()),
                ("health", args.health.clone()),
                ("issuer", args.issuer.clone()),
                ("hostname", args.host.clone()),
                ("tag", args.tag.clone()),
                (
                    "expiring_before",
                    filter.expiring_before.map(|t| t.to_string()),
                ),
            ] {
                if let Some(value) = value {
                    query.push((key, value));
                }
            }
            let mut all = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut page_query = query.clone();
                page_query.push(("limit", "1000".into()));
                if let Some(cursor) = &cursor {
                    page_query.push(("cursor", cursor.clone()));
                }
                let encoded: Vec<String> = page_query
                    .iter()
                    .map(|(k, v)| format!("{k}={}", segment(v)))
                    .collect();
                let page: Page = remote
                    .get(&format!("/api/credentials?{}", encoded.join("&")))
                    .await?;
                all.extend(page.items);
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break all,
                }
            }
        }
    };
    if json {
        return print_json(&credentials);
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

/// The listing's filter, from the options.
fn list_filter(now: i64, args: &CredListArgs) -> CliResult<CredentialFilter> {
    Ok(CredentialFilter {
        status: args
            .status
            .as_deref()
            .map(|s| {
                s.parse()
                    .map_err(|_| CliError::bad_input(format!("--status {s:?}: use pending, issuing, valid, renewal-due, failed, revoked or expired")))
            })
            .transpose()?,
        health: args
            .health
            .as_deref()
            .map(|h| {
                h.parse()
                    .map_err(|_| CliError::bad_input(format!("--health {h:?}: use ok, warning or error")))
            })
            .transpose()?,
        issuer: args.issuer.as_deref().map(str::parse).transpose()?,
        expiring_before: args
            .expiring_within
            .map(|days| now + i64::from(days) * 86_400),
        hostname_contains: args.host.clone(),
        tags: args
            .tag
            .as_deref()
            .map(certmgr_engine::access::parse_scope)
            .transpose()?
            .into_iter()
            .collect(),
        ..CredentialFilter::default()
    })
}

fn summary_row(c: &CredentialSummary) -> Vec<String> {
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
        c.status.to_string(),
        c.health.to_string(),
        c.days_to_expiry
            .map(|d| format!("{d}d"))
            .unwrap_or_else(|| "-".into()),
    ]
}

pub async fn show(target: &Target<'_>, args: &CredShowArgs, json: bool) -> CliResult<()> {
    let detail = match target {
        Target::Local(engine) => view::credential(engine, &args.name, args.events).await?,
        Target::Remote(remote) => {
            let path = format!("/api/credentials/{}", segment(&args.name));
            let mut detail: CredentialDetail = remote.get(&path).await?;
            if args.events {
                let events: Vec<Event> = remote.get(&format!("{path}/events")).await?;
                detail.events = Some(events);
            }
            detail
        }
    };
    if json {
        return print_json(&detail);
    }
    let credential = &detail.credential;
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
    if !detail.tags.is_empty() {
        let tags: Vec<String> = detail
            .tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        println!("tags:        {}", tags.join(" "));
    }
    println!(
        "status:      {} (health {})",
        credential.status, credential.health
    );
    if let Some(error) = &credential.last_error {
        println!("last error:  {error}");
    }
    println!(
        "version:     {} of {}",
        credential.current_version,
        detail.versions.len()
    );
    for key in &detail.keys {
        println!("key {} ({}):", key.family, key.key_spec);
        match &key.certificate {
            Some(cert) => {
                println!("  subject:     {}", cert.subject);
                println!("  issuer:      {}", cert.issuer);
                println!("  serial:      {}", cert.serial);
                println!(
                    "  valid:       {} to {} ({} days left)",
                    cert.not_before, cert.not_after, cert.days_left
                );
                println!("  sha256:      {}", cert.sha256_fingerprint);
            }
            None => println!("  no certificate yet (CSR out with an external CA)"),
        }
    }
    if let Some(events) = &detail.events {
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

pub async fn delete(target: &Target<'_>, name: &str, json: bool) -> CliResult<()> {
    match target {
        Target::Local(engine) => engine.store().delete_credential(name).await?,
        Target::Remote(remote) => {
            remote
                .delete(&format!("/api/credentials/{}", segment(name)))
                .await?
        }
    }
    if json {
        return print_json(&json!({ "deleted": name }));
    }
    println!("credential {name:?} deleted");
    Ok(())
}

pub async fn tag(target: &Target<'_>, args: &CredTagArgs, json: bool) -> CliResult<()> {
    match target {
        Target::Local(engine) => {
            certmgr_engine::credential::tag(engine, &args.name, &args.tags).await?;
        }
        Target::Remote(remote) => {
            let mut tags = BTreeMap::new();
            for tag in &args.tags {
                let scope = certmgr_engine::access::parse_scope(tag)?;
                tags.insert(scope.key, scope.value);
            }
            let _: BTreeMap<String, String> = remote
                .send(
                    Method::PUT,
                    &format!("/api/credentials/{}/tags", segment(&args.name)),
                    &json!({ "tags": tags }),
                )
                .await?;
        }
    }
    if json {
        return print_json(&json!({ "name": args.name, "tagged": args.tags }));
    }
    println!("credential {:?} tagged {}", args.name, args.tags.join(" "));
    Ok(())
}

pub async fn untag(target: &Target<'_>, args: &CredUntagArgs, json: bool) -> CliResult<()> {
    match target {
        Target::Local(engine) => {
            certmgr_engine::credential::untag(engine, &args.name, &args.keys).await?;
        }
        Target::Remote(remote) => {
            for key in &args.keys {
                remote
                    .delete(&format!(
                        "/api/credentials/{}/tags/{}",
                        segment(&args.name),
                        segment(key)
                    ))
                    .await?;
            }
        }
    }
    if json {
        return print_json(&json!({ "name": args.name, "untagged": args.keys }));
    }
    println!(
        "credential {:?} untagged {}",
        args.name,
        args.keys.join(" ")
    );
    Ok(())
}
