//! `certmgr init`: create the store (and, with --quickstart, a first MicroCA and credential).

use certmgr_core::KeySpec;
use certmgr_engine::Engine;
use certmgr_engine::credential::CredentialRequest;
use certmgr_engine::microca::NewMicroCa;
use serde_json::json;

use crate::cli::InitArgs;
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
    let engine = Engine::new(&store);
    if args.quickstart {
        certmgr_engine::microca::create_ca(
            &engine,
            &NewMicroCa {
                name: QUICKSTART_CA.into(),
                key: KeySpec::EcdsaP256,
                validity_days: 3650,
                intermediate: true,
                common_name: None,
                organization: None,
            },
        )
        .await?;
        let request = CredentialRequest {
            name: QUICKSTART_CREDENTIAL.into(),
            hosts: ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec(),
            issuer: format!("ca:{QUICKSTART_CA}"),
            ..Default::default()
        };
        let credential = certmgr_engine::credential::create(&engine, &request.parse()?).await?;
        certmgr_engine::microca::issue(&engine, &credential).await?;
        report["ca"] = json!(QUICKSTART_CA);
        report["credential"] = json!(QUICKSTART_CREDENTIAL);
    }
    // The log's first entry: who made the store (with what the quickstart added).
    crate::commands::audit::record_command(
        &engine,
        "store.init",
        &location.data_dir.display().to_string(),
        Ok(()),
    )
    .await?;
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
