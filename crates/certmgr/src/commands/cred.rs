//! `certmgr cred create | list | show | delete`.

use certmgr_core::IssuerRef;
use certmgr_engine::Engine;
use certmgr_engine::credential::CredentialRequest;
use certmgr_engine::view::{self, CredentialFilter, CredentialSummary};
use serde_json::json;

use crate::cli::{CredCreateArgs, CredListArgs, CredShowArgs, CredTagArgs, CredUntagArgs};
use crate::error::{CliError, CliResult};
use crate::output::{print_json, print_table, timestamp};

pub async fn create(engine: &Engine<'_>, args: &CredCreateArgs, json: bool) -> CliResult<()> {
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
    let credential = certmgr_engine::credential::create(engine, &valid).await?;
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

pub async fn list(engine: &Engine<'_>, args: &CredListArgs, json: bool) -> CliResult<()> {
    let credentials = view::credentials(engine, &list_filter(engine, args)?).await?;
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
fn list_filter(engine: &Engine<'_>, args: &CredListArgs) -> CliResult<CredentialFilter> {
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
            .map(|days| engine.now() + i64::from(days) * 86_400),
        hostname_contains: args.host.clone(),
        tags: args
            .tag
            .as_deref()
            .map(certmgr_engine::access::parse_scope)
            .transpose()?
            .into_iter()
            .collect(),
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

pub async fn show(engine: &Engine<'_>, args: &CredShowArgs, json: bool) -> CliResult<()> {
    let detail = view::credential(engine, &args.name, args.events).await?;
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

pub async fn delete(engine: &Engine<'_>, name: &str, json: bool) -> CliResult<()> {
    let store = engine.store();
    store.delete_credential(name).await?;
    if json {
        return print_json(&json!({ "deleted": name }));
    }
    println!("credential {name:?} deleted");
    Ok(())
}

pub async fn tag(engine: &Engine<'_>, args: &CredTagArgs, json: bool) -> CliResult<()> {
    certmgr_engine::credential::tag(engine, &args.name, &args.tags).await?;
    if json {
        return print_json(&json!({ "name": args.name, "tagged": args.tags }));
    }
    println!("credential {:?} tagged {}", args.name, args.tags.join(" "));
    Ok(())
}

pub async fn untag(engine: &Engine<'_>, args: &CredUntagArgs, json: bool) -> CliResult<()> {
    certmgr_engine::credential::untag(engine, &args.name, &args.keys).await?;
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
