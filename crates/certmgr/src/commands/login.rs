//! `certmgr login URL`: sign in to a manager with a user's password and
//! keep the session (mode 0600) for later commands with `--server URL`.

use std::io::BufRead as _;
use std::path::Path;

use reqwest::header;
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::cli::LoginArgs;
use crate::error::{CliError, CliResult};
use crate::input::{read_password, write_file};
use crate::output::print_json;
use crate::remote::{SavedLogin, http_client, login_file};

#[derive(Deserialize)]
struct Signed {
    name: String,
    role: String,
    csrf_token: Option<String>,
}

pub async fn run(args: &LoginArgs, server_ca: Option<&Path>, json: bool) -> CliResult<()> {
    let server = args.url.trim_end_matches('/').to_owned();
    let password: Zeroizing<String> = match &args.password_file {
        Some(path) => read_password(path)?,
        None => {
            eprint!("password for {} at {server}: ", args.user);
            let mut line = Zeroizing::new(String::new());
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| CliError::failed(format!("cannot read the password: {e}")))?;
            Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_owned())
        }
    };
    let response = http_client(server_ca)?
        .post(format!("{server}/api/session"))
        .json(&json!({ "user": args.user, "password": password.as_str() }))
        .send()
        .await
        .map_err(|e| CliError::failed(format!("cannot reach the manager at {server}: {e}")))?;
    let status = response.status();
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .and_then(|pair| pair.strip_prefix("certmgr_session="))
        .map(|value| Zeroizing::new(value.to_owned()));
    let body = response.bytes().await.unwrap_or_default();
    if !status.is_success() {
        let detail = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["detail"].as_str().map(str::to_owned))
            .unwrap_or_else(|| status.to_string());
        return Err(if status.is_client_error() {
            CliError::bad_input(detail)
        } else {
            CliError::failed(detail)
        });
    }
    let signed: Signed = serde_json::from_slice(&body)
        .map_err(|e| CliError::failed(format!("the manager's answer: {e}")))?;
    let (Some(cookie), Some(csrf)) = (cookie, signed.csrf_token) else {
        return Err(CliError::failed("the manager started no session"));
    };
    let path =
        login_file().ok_or_else(|| CliError::failed("no home directory to keep the session in"))?;
    if let Some(dir) = path.parent() {
        crate::context::create_private_dir(dir)?;
    }
    let saved = SavedLogin {
        server: server.clone(),
        cookie: cookie.to_string(),
        csrf,
    };
    let text =
        Zeroizing::new(serde_json::to_string(&saved).map_err(|e| CliError::failed(e.to_string()))?);
    write_file(&path, text.as_bytes(), 0o600)?;
    if json {
        return print_json(&json!({ "server": server, "name": signed.name, "role": signed.role }));
    }
    println!(
        "signed in to {server} as {} ({}) for 12 hours; use --server {server}",
        signed.name, signed.role
    );
    Ok(())
}
