//! `certmgr cred import`: reads the files (PEM bundle, key, or PKCS#12) and
//! hands them to the engine ([`certmgr_engine::import`]), which verifies
//! everything before the store is touched.

use certmgr_engine::import::{ImportOptions, ImportSummary, import};
use certmgr_pki::{Bundle, PrivateKey, certs_to_pem, read_pem_bundle, read_pkcs12};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::cli::CredImportArgs;
use crate::commands::Target;
use crate::error::{CliError, CliResult};
use crate::input::{read_input, read_password};
use crate::output::print_json;
use crate::remote::segment;

/// What an import did, as the API says it.
#[derive(Deserialize)]
struct Imported {
    version: i64,
    key: String,
    status: certmgr_core::Status,
    warnings: Vec<String>,
}

pub async fn run(target: &Target<'_>, args: &CredImportArgs, json: bool) -> CliResult<()> {
    certmgr_core::validate_name(&args.name)?;
    // The files are read and checked here in both modes: the same errors,
    // and a manager gets PEM whatever the files were.
    let bundle = read_bundle(args)?;
    let summary = match target {
        Target::Local(engine) => {
            let options = ImportOptions {
                allow_expired: args.allow_expired,
                trust_bundled_root: args.trust_bundled_root,
            };
            import(engine, &args.name, bundle, options).await?
        }
        Target::Remote(remote) => {
            let imported: Imported = remote
                .send(
                    Method::POST,
                    &format!("/api/credentials/{}/import", segment(&args.name)),
                    &json!({
                        "certificate_pem": certs_to_pem(&bundle.certs),
                        "key_pem": bundle.key.as_ref().map(|k| k.to_pkcs8_pem().to_string()),
                        "allow_expired": args.allow_expired,
                        "trust_bundled_root": args.trust_bundled_root,
                    }),
                )
                .await?;
            ImportSummary {
                version: imported.version,
                family: imported.key,
                status: imported.status,
                warnings: imported.warnings,
            }
        }
    };
    for warning in &summary.warnings {
        eprintln!("warning: {warning}");
    }
    if json {
        return print_json(&json!({
            "name": args.name,
            "version": summary.version,
            "key": summary.family,
            "status": summary.status,
            "warnings": summary.warnings,
        }));
    }
    println!(
        "{} certificate imported into {:?} (version {}, status {})",
        summary.family, args.name, summary.version, summary.status
    );
    Ok(())
}

/// Read --cert/--key or --pkcs12 into one bundle.
fn read_bundle(args: &CredImportArgs) -> CliResult<Bundle> {
    if let Some(path) = &args.pkcs12 {
        let password_file = args.password_file.as_ref().ok_or_else(|| {
            CliError::bad_input(
                "--pkcs12 needs --password-file (a file whose first line is the password)",
            )
        })?;
        let password = read_password(password_file)?;
        let data = read_input(path)?;
        return read_pkcs12(&data, &password)
            .map_err(|e| CliError::from(e).context(path.display()));
    }
    let cert_path = args
        .cert
        .as_ref()
        .ok_or_else(|| CliError::bad_input("give --cert FILE or --pkcs12 FILE"))?;
    let key_password: Option<Zeroizing<String>> = args
        .key_password_file
        .as_ref()
        .map(|p| read_password(p))
        .transpose()?;
    let password = key_password.as_ref().map(|p| p.as_bytes());
    let data = read_input(cert_path)?;
    let mut bundle = read_pem_bundle(&data, password)
        .map_err(|e| CliError::from(e).context(cert_path.display()))?;
    if bundle.certs.is_empty() {
        return Err(CliError::bad_input(format!(
            "{}: no certificate in the file",
            cert_path.display()
        )));
    }
    if let Some(key_path) = &args.key {
        if bundle.key.is_some() {
            return Err(CliError::bad_input(format!(
                "{} already holds a private key; do not also pass --key",
                cert_path.display()
            )));
        }
        let text = Zeroizing::new(read_input(key_path)?);
        let text = std::str::from_utf8(&text).map_err(|_| {
            CliError::bad_input(format!("{}: not a PEM key file", key_path.display()))
        })?;
        bundle.key = Some(
            PrivateKey::from_pem(text, password)
                .map_err(|e| CliError::from(e).context(key_path.display()))?,
        );
    }
    Ok(bundle)
}
