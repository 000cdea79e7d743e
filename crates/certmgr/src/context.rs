//! Finding and opening the store: data directory, master key, database URL.

use std::path::{Path, PathBuf};

use certmgr_store::{MASTER_KEY_ENV, MasterKey, Store};

use crate::error::{CliError, CliResult};

/// Name of the master key file inside the data directory.
const MASTER_KEY_FILE: &str = "master.key";
/// Name of the SQLite database inside the data directory.
const DATABASE_FILE: &str = "certmgr.db";

/// Where the store is, resolved from flags, environment and defaults.
#[derive(Debug, Clone)]
pub struct Location {
    /// The data directory.
    pub data_dir: PathBuf,
    /// An explicit database URL, if any (else the SQLite file in the data dir).
    pub database_url: Option<String>,
}

impl Location {
    /// Resolve from the global flags; the default data directory is
    /// `$XDG_DATA_HOME/certmgr` or `~/.local/share/certmgr`.
    pub fn resolve(data_dir: Option<PathBuf>, database_url: Option<String>) -> CliResult<Self> {
        let data_dir = match data_dir {
            Some(dir) => dir,
            None => default_data_dir().ok_or_else(|| {
                CliError::bad_input(
                    "cannot find a home directory: pass --data-dir or set CERTMGR_DATA_DIR",
                )
            })?,
        };
        Ok(Location {
            data_dir,
            database_url: database_url.filter(|url| !url.is_empty()),
        })
    }

    fn key_path(&self) -> PathBuf {
        self.data_dir.join(MASTER_KEY_FILE)
    }

    fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| Store::sqlite_url(&self.data_dir.join(DATABASE_FILE)))
    }

    /// Create the data directory, the master key (unless given in the
    /// environment) and the database. Refuses to touch an existing store.
    pub async fn init(&self) -> CliResult<(Store, String)> {
        create_private_dir(&self.data_dir)?;
        let key_path = self.key_path();
        let (key, key_note) = match env_master_key()? {
            Some(key) => (key, format!("master key from {MASTER_KEY_ENV}")),
            None => {
                if key_path.exists() {
                    return Err(CliError::bad_input(format!(
                        "a store already exists in {} (found {}): nothing to do",
                        self.data_dir.display(),
                        key_path.display()
                    )));
                }
                let key = MasterKey::generate()?;
                key.write_file(&key_path)?;
                (
                    key,
                    format!(
                        "master key written to {} (mode 0600); back it up: without it the keys in the store are lost",
                        key_path.display()
                    ),
                )
            }
        };
        let store = Store::open(&self.database_url(), key).await?;
        Ok((store, key_note))
    }

    /// Whether a store is there to open: a master key in the environment or
    /// in the data directory.
    pub fn exists(&self) -> bool {
        crate::hardening::env_master_key().is_some() || self.key_path().exists()
    }

    /// Open an existing store.
    pub async fn open(&self) -> CliResult<Store> {
        let key = match env_master_key()? {
            Some(key) => key,
            None => {
                let key_path = self.key_path();
                if !key_path.exists() {
                    return Err(CliError::bad_input(format!(
                        "no store in {}: run `certmgr init` first (or set CERTMGR_DATA_DIR / --data-dir)",
                        self.data_dir.display()
                    )));
                }
                MasterKey::read_file(&key_path)?
            }
        };
        Ok(Store::open(&self.database_url(), key).await?)
    }
}

/// The master key given in `CERTMGR_MASTER_KEY` (taken out of the
/// environment at start-up, see `hardening`).
fn env_master_key() -> CliResult<Option<MasterKey>> {
    match crate::hardening::env_master_key() {
        Some(text) => Ok(Some(
            MasterKey::from_base64(text).map_err(|e| CliError::from(e).context(MASTER_KEY_ENV))?,
        )),
        None => Ok(None),
    }
}

fn default_data_dir() -> Option<PathBuf> {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(xdg).join("certmgr"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share/certmgr"))
}

/// Create a directory (and parents) readable by the owner only.
pub fn create_private_dir(dir: &Path) -> CliResult<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| CliError::failed(format!("cannot create {}: {e}", dir.display())))
}
