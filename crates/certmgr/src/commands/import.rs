//! `certmgr cred import`: reads the files (PEM bundle, key, or PKCS#12) and
//! hands them to the engine ([`certmgr_engine::import`]), which verifies
//! everything before the store is touched.

use certmgr_engine::Engine;
use certmgr_engine::import::{ImportOptions, import};
use certmgr_pki::{Bundle, PrivateKey, read_pem_bundle, read_pkcs12};
use serde_json::json;
use zeroize::Zeroizing;

use crate::cli::CredImportArgs;
use crate::error::{CliError, CliResult};
use crate::input::{read_input, read_password};
use crate::output::print_json;

pub async fn run(engine: &Engine<'_>, args: &CredImportArgs, json: bool) -> CliResult<()> {
    certmgr_core::validate_name(&args.name)?;
    let bundle = read_bundle(args)?;
    let options = ImportOptions {
        allow_expired: args.allow_expired,
        trust_bundled_root: args.trust_bundled_root,
    };
    let summary = import(engine, &args.name, bundle, options).await?;
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
