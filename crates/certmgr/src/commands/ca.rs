//! `certmgr ca create | list | show`: MicroCAs.

use certmgr_core::{KeySpec, validate_name};
use certmgr_pki::{CaOptions, certificate_info, certs_to_pem, create_ca as make_ca};
use certmgr_store::{CaRecord, NewCa, Store};
use serde_json::json;

use crate::cli::{CaCreateArgs, CaShowArgs};
use crate::commands::cred::check_validity_days;
use crate::error::{CliError, CliResult};
use crate::output::{days_until, print_json, print_table, timestamp};

pub async fn create(store: &Store, args: &CaCreateArgs, json: bool) -> CliResult<()> {
    validate_name(&args.name)?;
    let key: KeySpec = args.key.parse()?;
    check_validity_days(args.validity_days)?;
    let ca = create_ca(
        store,
        &args.name,
        key,
        args.validity_days,
        args.intermediate,
        args.common_name.clone(),
        args.organization.clone(),
    )
    .await?;
    if json {
        return print_json(&ca_json(&ca)?);
    }
    println!(
        "MicroCA {:?} created ({}, {}); trust its root: certmgr ca show {} --pem > {}-root.pem",
        ca.name,
        ca.key_spec,
        if ca.intermediate_der.is_some() {
            "root + intermediate"
        } else {
            "root only"
        },
        ca.name,
        ca.name
    );
    Ok(())
}

/// Make the CA material and store it; shared with `init --quickstart`.
pub async fn create_ca(
    store: &Store,
    name: &str,
    key: KeySpec,
    validity_days: u32,
    intermediate: bool,
    common_name: Option<String>,
    organization: Option<String>,
) -> CliResult<CaRecord> {
    // Fail on a taken name before spending time on key generation.
    match store.ca(name).await {
        Ok(_) => {
            return Err(CliError::bad_input(format!(
                "a CA named {name:?} already exists: pick another name"
            )));
        }
        Err(certmgr_store::StoreError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let material = make_ca(&CaOptions {
        common_name: common_name.unwrap_or_else(|| format!("certmgr MicroCA {name}")),
        organization,
        key,
        validity_days,
        intermediate,
    })?;
    let not_after = certificate_info(&material.root_der)?
        .not_after
        .unix_timestamp();
    let record = store
        .create_ca(&NewCa {
            name: name.to_owned(),
            key_spec: key,
            root_der: material.root_der.clone(),
            root_key: material.root_key.pkcs8_der(),
            intermediate: material
                .intermediate
                .as_ref()
                .map(|(der, key)| (der.clone(), key.pkcs8_der())),
            not_after,
        })
        .await?;
    Ok(record)
}

fn ca_json(ca: &CaRecord) -> CliResult<serde_json::Value> {
    let root = certificate_info(&ca.root_der)?;
    Ok(json!({
        "name": ca.name,
        "key_spec": ca.key_spec,
        "subject": root.subject,
        "intermediate": ca.intermediate_der.as_ref().map(|d| certificate_info(d).map(|i| i.subject)).transpose()?,
        "not_after": timestamp(ca.not_after),
        "days_to_expiry": days_until(ca.not_after),
        "root_sha256_fingerprint": root.sha256_fingerprint,
        "created_at": timestamp(ca.created_at),
    }))
}

pub async fn list(store: &Store, json: bool) -> CliResult<()> {
    let cas = store.list_cas().await?;
    if json {
        return print_json(&cas.iter().map(ca_json).collect::<CliResult<Vec<_>>>()?);
    }
    let rows: Vec<Vec<String>> = cas
        .iter()
        .map(|ca| {
            vec![
                ca.name.clone(),
                ca.key_spec.to_string(),
                if ca.intermediate_der.is_some() {
                    "yes"
                } else {
                    "no"
                }
                .into(),
                format!("{}d", days_until(ca.not_after)),
            ]
        })
        .collect();
    print_table(&["NAME", "KEY", "INTERMEDIATE", "EXPIRES IN"], &rows)?;
    Ok(())
}

pub async fn show(store: &Store, args: &CaShowArgs, json: bool) -> CliResult<()> {
    let ca = store.ca(&args.name).await?;
    if args.pem {
        print!("{}", certs_to_pem(std::slice::from_ref(&ca.root_der)));
        return Ok(());
    }
    let value = ca_json(&ca)?;
    if json {
        return print_json(&value);
    }
    for (key, val) in value.as_object().into_iter().flatten() {
        let text = match val {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "-".into(),
            other => other.to_string(),
        };
        println!("{:<24} {text}", format!("{key}:"));
    }
    Ok(())
}
