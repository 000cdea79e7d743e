//! `certmgr ca create | list | show`: MicroCAs, here or on a manager.

use certmgr_core::{KeySpec, validate_name};
use certmgr_engine::microca::NewMicroCa;
use certmgr_engine::view::CaView;
use certmgr_pki::certs_to_pem;
use reqwest::Method;
use serde_json::json;

use crate::cli::{CaCreateArgs, CaShowArgs};
use crate::commands::Target;
use crate::error::{CliError, CliResult};
use crate::output::{print_json, print_table};
use crate::remote::segment;

pub async fn create(target: &Target<'_>, args: &CaCreateArgs, json: bool) -> CliResult<()> {
    validate_name(&args.name)?;
    let key: KeySpec = args.key.parse()?;
    let ca: CaView = match target {
        Target::Local(engine) => {
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
            CaView::new(&ca, engine.now())?
        }
        Target::Remote(remote) => {
            remote
                .send(
                    Method::POST,
                    "/api/cas",
                    &json!({
                        "name": args.name,
                        "key": key,
                        "validity_days": args.validity_days,
                        "intermediate": args.intermediate,
                        "common_name": args.common_name,
                        "organization": args.organization,
                    }),
                )
                .await?
        }
    };
    if json {
        return print_json(&ca);
    }
    println!(
        "MicroCA {:?} created ({}, {}); trust its root: certmgr ca show {} --pem > {}-root.pem",
        ca.name,
        ca.key_spec,
        if ca.intermediate.is_some() {
            "root + intermediate"
        } else {
            "root only"
        },
        ca.name,
        ca.name
    );
    Ok(())
}

pub async fn list(target: &Target<'_>, json: bool) -> CliResult<()> {
    let cas: Vec<CaView> = match target {
        Target::Local(engine) => engine
            .store()
            .list_cas()
            .await?
            .iter()
            .map(|ca| CaView::new(ca, engine.now()))
            .collect::<Result<_, _>>()?,
        Target::Remote(remote) => remote.get("/api/cas").await?,
    };
    if json {
        return print_json(&cas);
    }
    let rows: Vec<Vec<String>> = cas
        .iter()
        .map(|ca| {
            vec![
                ca.name.clone(),
                ca.key_spec.to_string(),
                if ca.intermediate.is_some() {
                    "yes"
                } else {
                    "no"
                }
                .into(),
                format!("{}d", ca.days_to_expiry),
            ]
        })
        .collect();
    print_table(&["NAME", "KEY", "INTERMEDIATE", "EXPIRES IN"], &rows)?;
    Ok(())
}

pub async fn show(target: &Target<'_>, args: &CaShowArgs, json: bool) -> CliResult<()> {
    let path = format!("/api/cas/{}", segment(&args.name));
    if args.pem {
        let root = match target {
            Target::Local(engine) => {
                let ca = engine.store().ca(&args.name).await?;
                certs_to_pem(std::slice::from_ref(&ca.root_der))
            }
            Target::Remote(remote) => {
                // The root comes first; the intermediate, if any, after it.
                let text = remote.get_text(&format!("{path}/certificate")).await?;
                let end = text
                    .find("-----END CERTIFICATE-----")
                    .map(|at| at + "-----END CERTIFICATE-----\n".len())
                    .unwrap_or(text.len());
                text.get(..end.min(text.len()))
                    .unwrap_or_default()
                    .to_owned()
            }
        };
        print!("{root}");
        return Ok(());
    }
    let ca: CaView = match target {
        Target::Local(engine) => CaView::new(&engine.store().ca(&args.name).await?, engine.now())?,
        Target::Remote(remote) => remote.get(&path).await?,
    };
    let value = serde_json::to_value(&ca).map_err(|e| CliError::failed(e.to_string()))?;
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
