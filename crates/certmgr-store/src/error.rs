//! The store's error type.

/// Everything that can go wrong in the store. Messages say what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file (key file, database file) could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The master key text is malformed.
    #[error("the master key is unusable: {0}")]
    BadMasterKey(&'static str),
    /// The master key is well-formed but is not the key this store was sealed with.
    #[error(
        "the master key does not open this store: use the master.key file or CERTMGR_MASTER_KEY that `certmgr init` made for it"
    )]
    WrongMasterKey,
    /// The crypto library failed (should not happen).
    #[error("cryptographic failure: {0}")]
    Crypto(&'static str),
    /// A sealed value does not open with the master key in this context.
    #[error(
        "a sealed secret ({0}) does not open: the store is damaged or was sealed with another master key"
    )]
    Unseal(String),
    /// The database said no.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("cannot bring the database schema up to date: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The database could not be reached (the URL's password is redacted).
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// The database URL, password replaced by `***`.
        url: String,
        /// What the driver said, password replaced by `***`.
        message: String,
    },
    /// The master key file can be read or written by others than its owner.
    #[error(
        "{path} is accessible to others (mode {mode:04o}): the master key opens every secret in the store; run `chmod 600 {path}`"
    )]
    KeyFilePermissions {
        /// The key file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// The database URL names a backend certmgr does not support.
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedBackend(String),
    /// No object of this kind has this name.
    #[error("no {kind} named {name:?}")]
    NotFound {
        /// credential, CA, ...
        kind: &'static str,
        /// The name looked up.
        name: String,
    },
    /// An object of this kind already has this name.
    #[error("a {kind} named {name:?} already exists: pick another name or delete it first")]
    AlreadyExists {
        /// credential, CA, ...
        kind: &'static str,
        /// The name in use.
        name: String,
    },
    /// The state changed under us (e.g. a CSR was already answered).
    #[error("{0}")]
    Conflict(String),
    /// A row's integrity check failed: columns that decide where a secret
    /// goes (or what the challenge server answers) were written without the
    /// master key, e.g. by someone with SQL access. The row is never used.
    #[error(
        "{table} row '{row}' fails its integrity check: it was changed outside certmgr; {remedy}"
    )]
    Tampered {
        /// The table.
        table: &'static str,
        /// The row's name or id (control characters escaped).
        row: String,
        /// What to do about it (depends on the table).
        remedy: &'static str,
    },
    /// A stored value does not parse.
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Map a unique-constraint violation to [`StoreError::AlreadyExists`].
    pub(crate) fn on_unique(error: sqlx::Error, kind: &'static str, name: &str) -> StoreError {
        let unique = match &error {
            sqlx::Error::Database(db) => db.is_unique_violation(),
            _ => false,
        };
        if unique {
            StoreError::AlreadyExists {
                kind,
                name: name.to_owned(),
            }
        } else {
            StoreError::Database(error)
        }
    }
}
