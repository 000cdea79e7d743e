//! `certmgr cred export`: PEM files or PKCS#12 of the current version.

use std::path::PathBuf;

use certmgr_core::KeyFamily;
use certmgr_engine::Engine;
use certmgr_pki::{certs_to_pem, write_pkcs12};
use serde_json::json;

use crate::cli::{CredExportArgs, ExportFormat};
use crate::commands::issue::family_path;
use crate::context::create_private_dir;
use crate::error::{CliError, CliResult};
use crate::input::{read_password, write_file};
use crate::output::print_json;

pub async fn run(engine: &Engine<'_>, args: &CredExportArgs, json: bool) -> CliResult<()> {
    let family = args
        .family
        .as_deref()
        .map(|f| match f.to_ascii_lowercase().as_str() {
            "rsa" => Ok(KeyFamily::Rsa),
            "ecdsa" | "ec" => Ok(KeyFamily::Ecdsa),
            other => Err(CliError::bad_input(format!(
                "--key {other:?}: use rsa or ecdsa"
            ))),
        })
        .transpose()?;
    let password = match args.format {
        ExportFormat::Pkcs12 => Some(read_password(args.password_file.as_ref().ok_or_else(
            || CliError::bad_input("--format pkcs12 needs --password-file (a file whose first line is the password)"),
        )?)?),
        ExportFormat::Pem => None,
    };
    let export = certmgr_engine::export::open(engine, &args.name, family).await?;
    let credential = &export.credential;
    create_private_dir(&args.out)?;
    let dual = credential.key_specs.len() > 1;
    let mut files = Vec::new();
    for exported in &export.keys {
        let (cert, key) = (&exported.certificate, &exported.key);
        let name = |file: &str| -> PathBuf {
            let path = args.out.join(file);
            if dual {
                family_path(&path, exported.family)
            } else {
                path
            }
        };
        match args.format {
            ExportFormat::Pem => {
                let leaf = certs_to_pem(std::slice::from_ref(&cert.cert_der));
                let chain = certs_to_pem(&cert.chain_der);
                let outputs = [
                    (name("cert.pem"), leaf.clone(), 0o644),
                    (name("chain.pem"), chain.clone(), 0o644),
                    (name("fullchain.pem"), format!("{leaf}{chain}"), 0o644),
                ];
                for (path, text, mode) in outputs {
                    write_file(&path, text.as_bytes(), mode)?;
                    files.push(path);
                }
                let key_path = name("key.pem");
                write_file(&key_path, key.to_pkcs8_pem().as_bytes(), 0o600)?;
                files.push(key_path);
                if let Some(root) = &cert.root_der {
                    let root_path = name("root.pem");
                    write_file(
                        &root_path,
                        certs_to_pem(std::slice::from_ref(root)).as_bytes(),
                        0o644,
                    )?;
                    files.push(root_path);
                }
            }
            ExportFormat::Pkcs12 => {
                let friendly = if dual {
                    format!("{}-{}", credential.name, exported.family)
                } else {
                    credential.name.clone()
                };
                let password = password.as_deref().map(String::as_str).unwrap_or_default();
                let data = write_pkcs12(
                    key,
                    &cert.cert_der,
                    &cert.chain_der,
                    password,
                    &friendly,
                    args.legacy,
                )?;
                let path = name(&format!("{}.p12", credential.name));
                write_file(&path, &data, 0o600)?;
                files.push(path);
            }
        }
    }
    let name = credential.name.clone();
    export
        .record(
            engine,
            &format!(
                "exported as {} to {}",
                match args.format {
                    ExportFormat::Pem => "PEM",
                    ExportFormat::Pkcs12 if args.legacy => "legacy PKCS#12",
                    ExportFormat::Pkcs12 => "PKCS#12",
                },
                args.out.display()
            ),
        )
        .await?;
    if json {
        return print_json(&json!({
            "name": name,
            "files": files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
        }));
    }
    for file in files {
        println!("wrote {}", file.display());
    }
    Ok(())
}
