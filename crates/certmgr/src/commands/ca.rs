//! `certmgr ca create | list | show`: MicroCAs.

use certmgr_core::{KeySpec, validate_name};
use certmgr_engine::Engine;
use certmgr_engine::microca::NewMicroCa;
use certmgr_engine::view::{CaView, days_until};
use certmgr_pki::certs_to_pem;
use certmgr_store::CaRecord;

use crate::cli::{CaCreateArgs, CaShowArgs};
use crate::error::{CliError, CliResult};
use crate::output::{print_json, print_table};

pub async fn create(engine: &Engine<'_>, args: &CaCreateArgs, json: bool) -> CliResult<()> {
    validate_name(&args.name)?;
    let key: KeySpec = args.key.parse()?;
    let ca = certmgr_engine::microca::create_ca(
        engine,
        &NewMicroCa {
            name: args.name.clone(),
            key,
            validity_days: args.validity_days,
            intermediate: args.intermediate,
            common_name: args.common_name.clone(),
            organization: args.organization.clone(),
        },
    )
    .await?;
    if json {
        return print_json(&ca_json(engine, &ca)?);
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

fn ca_json(engine: &Engine<'_>, ca: &CaRecord) -> CliResult<serde_json::Value> {
    let view = CaView::new(ca, engine.now())?;
    serde_json::to_value(view).map_err(|e| CliError::failed(e.to_string()))
}

pub async fn list(engine: &Engine<'_>, json: bool) -> CliResult<()> {
    let store = engine.store();
    let cas = store.list_cas().await?;
    if json {
        return print_json(
            &cas.iter()
                .map(|ca| ca_json(engine, ca))
                .collect::<CliResult<Vec<_>>>()?,
        );
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
                format!("{}d", days_until(ca.not_after, engine.now())),
            ]
        })
        .collect();
    print_table(&["NAME", "KEY", "INTERMEDIATE", "EXPIRES IN"], &rows)?;
    Ok(())
}

pub async fn show(engine: &Engine<'_>, args: &CaShowArgs, json: bool) -> CliResult<()> {
    let store = engine.store();
    let ca = store.ca(&args.name).await?;
    if args.pem {
        print!("{}", certs_to_pem(std::slice::from_ref(&ca.root_der)));
        return Ok(());
    }
    let value = ca_json(engine, &ca)?;
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
