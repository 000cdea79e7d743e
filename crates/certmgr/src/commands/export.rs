//! `certmgr cred export`: PEM files or PKCS#12 of the current version,
//! from the store here (the export is recorded on the credential) or from a
//! manager (which audits it); the files are written the same way.

use std::path::PathBuf;

use base64::Engine as _;
use certmgr_core::KeyFamily;
use certmgr_engine::export::{Format, KeyMaterial};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::cli::{CredExportArgs, ExportFormat};
use crate::commands::Target;
use crate::commands::issue::family_path;
use crate::context::create_private_dir;
use crate::error::{CliError, CliResult};
use crate::input::{read_password, write_file};
use crate::output::print_json;
use crate::remote::segment;

/// One key as a manager's export answers it.
#[derive(Deserialize)]
struct WireKey {
    family: KeyFamily,
    certificate_pem: Option<String>,
    chain_pem: Option<String>,
    root_pem: Option<String>,
    key_pem: Option<String>,
    pkcs12_base64: Option<String>,
}

impl WireKey {
    fn into_material(self) -> CliResult<KeyMaterial> {
        let pkcs12 = match self.pkcs12_base64 {
            Some(text) => Some(Zeroizing::new(
                base64::engine::general_purpose::STANDARD
                    .decode(text.as_bytes())
                    .map_err(|_| CliError::failed("the PKCS#12 file is not base64"))?,
            )),
            None => None,
        };
        Ok(KeyMaterial {
            family: self.family,
            certificate_pem: self.certificate_pem,
            chain_pem: self.chain_pem,
            root_pem: self.root_pem,
            key_pem: self.key_pem.map(Zeroizing::new),
            pkcs12,
        })
    }
}

pub async fn run(target: &Target<'_>, args: &CredExportArgs, json: bool) -> CliResult<()> {
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
    let description = format!(
        "exported as {} to {}",
        match args.format {
            ExportFormat::Pem => "PEM",
            ExportFormat::Pkcs12 if args.legacy => "legacy PKCS#12",
            ExportFormat::Pkcs12 => "PKCS#12",
        },
        args.out.display()
    );
    let (name, keys, dual, export) = match target {
        Target::Local(engine) => {
            let export = certmgr_engine::export::open(engine, &args.name, family).await?;
            let format = match password {
                Some(password) => Format::Pkcs12 {
                    password,
                    legacy: args.legacy,
                },
                None => Format::Pem,
            };
            let keys = export.material(&format)?;
            (
                export.credential.name.clone(),
                keys,
                export.dual(),
                Some(export),
            )
        }
        Target::Remote(remote) => {
            let keys: Vec<WireKey> = remote
                .send(
                    Method::POST,
                    &format!("/api/credentials/{}/export", segment(&args.name)),
                    &json!({
                        "format": match args.format {
                            ExportFormat::Pem => "pem",
                            ExportFormat::Pkcs12 => "pkcs12",
                        },
                        "key": family.map(|f| f.to_string()),
                        "password": password.as_ref().map(|p| p.as_str()),
                        "legacy": args.legacy,
                    }),
                )
                .await?;
            // A dual credential's files carry the key's family even when
            // only one key is exported.
            let detail: certmgr_engine::view::CredentialDetail = remote
                .get(&format!("/api/credentials/{}", segment(&args.name)))
                .await?;
            (
                args.name.clone(),
                keys.into_iter()
                    .map(WireKey::into_material)
                    .collect::<CliResult<_>>()?,
                detail.credential.key_specs.len() > 1,
                None,
            )
        }
    };
    let files = write_files(args, &name, &keys, dual)?;
    // Here, the credential records where its keys went (a manager audits
    // its exports itself).
    if let (Some(export), Target::Local(engine)) = (export, target) {
        export.record(engine, &description).await?;
    }
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

/// Write each key's files under `--out` (a dual credential's names carry
/// the key's family).
fn write_files(
    args: &CredExportArgs,
    name: &str,
    keys: &[KeyMaterial],
    dual: bool,
) -> CliResult<Vec<PathBuf>> {
    create_private_dir(&args.out)?;
    let mut files = Vec::new();
    for key in keys {
        let path = |file: &str| -> PathBuf {
            let path = args.out.join(file);
            if dual {
                family_path(&path, key.family)
            } else {
                path
            }
        };
        if let Some(data) = &key.pkcs12 {
            let file = path(&format!("{name}.p12"));
            write_file(&file, data, 0o600)?;
            files.push(file);
            continue;
        }
        let leaf = key.certificate_pem.clone().unwrap_or_default();
        let chain = key.chain_pem.clone().unwrap_or_default();
        for (file, text) in [
            ("cert.pem", leaf.clone()),
            ("chain.pem", chain.clone()),
            ("fullchain.pem", format!("{leaf}{chain}")),
        ] {
            let file = path(file);
            write_file(&file, text.as_bytes(), 0o644)?;
            files.push(file);
        }
        if let Some(key_pem) = &key.key_pem {
            let file = path("key.pem");
            write_file(&file, key_pem.as_bytes(), 0o600)?;
            files.push(file);
        }
        if let Some(root) = &key.root_pem {
            let file = path("root.pem");
            write_file(&file, root.as_bytes(), 0o644)?;
            files.push(file);
        }
    }
    Ok(files)
}
