//! `certmgr init`: create the store (and, with --quickstart, a first MicroCA and credential).

use certmgr_core::{Hostname, IssuerRef, KeySpec};
use certmgr_store::NewCredential;
use serde_json::json;

use crate::cli::InitArgs;
use crate::commands::{ca, issue};
use crate::context::Location;
use crate::error::CliResult;
use crate::output::print_json;

/// Name of the MicroCA `--quickstart` creates.
const QUICKSTART_CA: &str = "local";
/// Name of the credential `--quickstart` issues.
const QUICKSTART_CREDENTIAL: &str = "localhost";

pub async fn run(location: &Location, args: &InitArgs, json: bool) -> CliResult<()> {
    let (store, key_note) = location.init().await?;
    let mut report = json!({
        "data_dir": location.data_dir.display().to_string(),
        "backend": format!("{:?}", store.backend()).to_lowercase(),
        "master_key": key_note,
    });
    if args.quickstart {
        ca::create_ca(
            &store,
            QUICKSTART_CA,
            KeySpec::EcdsaP256,
            3650,
            true,
            None,
            None,
        )
        .await?;
        let hostnames = ["localhost", "127.0.0.1", "::1"]
            .iter()
            .map(|h| h.parse::<Hostname>())
            .collect::<Result<Vec<_>, _>>()?;
        let credential = store
            .create_credential(&NewCredential {
                name: QUICKSTART_CREDENTIAL.into(),
                hostnames,
                key_specs: vec![KeySpec::EcdsaP256],
                issuer: IssuerRef::MicroCa(QUICKSTART_CA.into()),
                validity_days: None,
                renew_before_days: None,
                challenge: None,
                profile: None,
                preferred_chain: None,
                dns_account: None,
                challenge_alias: None,
            })
            .await?;
        issue::issue_from_microca(&store, &credential).await?;
        report["ca"] = json!(QUICKSTART_CA);
        report["credential"] = json!(QUICKSTART_CREDENTIAL);
    }
    store.close().await;
    if json {
        return print_json(&report);
    }
    println!("store created in {}", location.data_dir.display());
    println!("{key_note}");
    if args.quickstart {
        println!(
            "MicroCA {QUICKSTART_CA:?} created; credential {QUICKSTART_CREDENTIAL:?} issued for localhost, 127.0.0.1, ::1"
        );
        println!(
            "next: certmgr cred export {QUICKSTART_CREDENTIAL} --out ./tls   and   certmgr ca show {QUICKSTART_CA} --pem > root.pem"
        );
    } else {
        println!(
            "next: certmgr ca create lab   then   certmgr cred create web1 --host www.example.test --issuer ca:lab"
        );
    }
    Ok(())
}
