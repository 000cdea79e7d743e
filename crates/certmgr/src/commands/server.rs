//! `certmgr server`: the configuration from the file, the environment and
//! the flags; the store, created on first start; then the server's own
//! run ([`certmgr_server::process`]).

use std::path::PathBuf;

use certmgr_server::config::{Listen, Overrides, ServerConfig};
use certmgr_server::process::Startup;

use crate::cli::ServerArgs;
use crate::context::Location;
use crate::error::{CliError, CliResult};

/// The configuration file read when none is named.
const DEFAULT_CONFIG_FILE: &str = "server.toml";

pub async fn run(location: &Location, args: ServerArgs) -> CliResult<()> {
    let file = args.config.clone().or_else(|| {
        let path = location.data_dir.join(DEFAULT_CONFIG_FILE);
        path.exists().then_some(path)
    });
    let (base, file_sets_challenge_ports) = match &file {
        Some(path) => read_config(path)?,
        None => (ServerConfig::default(), false),
    };
    let config = base.overlay(&Overrides {
        listen: args.listen,
        http_listen: args.http_listen,
        https_listen: if args.no_https {
            Some(Listen::Off)
        } else {
            args.https_listen
        },
        renew_interval_secs: if args.no_renew {
            Some(0)
        } else {
            args.renew_interval
        },
        tls_credential: args.tls_credential.clone(),
        plain_http: args.plain_http.then_some(true),
        log_format: args.log_format,
    });
    if args.print_config {
        print!(
            "{}",
            config
                .to_toml()
                .map_err(|e| CliError::failed(format!("the configuration: {e}")))?
        );
        return Ok(());
    }
    certmgr_server::log::install(config.log_format);
    let startup = Startup {
        admin_password: crate::hardening::env_admin_password(),
        default_challenge_ports: args.http_listen.is_none()
            && args.https_listen.is_none()
            && !file_sets_challenge_ports,
    };
    let store = if location.exists() {
        location.open().await?
    } else {
        let (store, key_note) = location.init().await?;
        tracing::info!(
            target: certmgr_server::log::TARGET,
            data_dir = %location.data_dir.display(),
            "store created in {}; {key_note}",
            location.data_dir.display()
        );
        crate::commands::audit::record_command(
            &certmgr_engine::Engine::new(&store),
            "store.init",
            &location.data_dir.display().to_string(),
            Ok(()),
        )
        .await?;
        store
    };
    Ok(certmgr_server::process::run(store, config, startup).await?)
}

/// The file's configuration, and whether it sets a challenge listener.
fn read_config(path: &PathBuf) -> CliResult<(ServerConfig, bool)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::bad_input(format!("cannot read {}: {e}", path.display())))?;
    let config = ServerConfig::parse(&text)
        .map_err(|e| CliError::bad_input(format!("{}: {e}", path.display())))?;
    let sets_ports = text.lines().any(|line| {
        let key = line.split('=').next().unwrap_or_default().trim();
        key == "http_listen" || key == "https_listen"
    });
    Ok((config, sets_ports))
}
