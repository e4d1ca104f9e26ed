#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("the store lock was poisoned by a panic in another thread")]
    Poisoned,
    #[error("{0}")]
    Crypto(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    /// Input that breaks a rule the store enforces (a weak PIN, a duplicate clerk name).
    #[error("{0}")]
    Invalid(String),
    /// Too many wrong PINs: try again after this many seconds.
    #[error("locked for {retry_after_secs} s after too many wrong PINs")]
    Locked { retry_after_secs: u64 },
    #[error(transparent)]
    Core(#[from] vouch_core::CoreError),
    #[error("insecure: {0}")]
    Insecure(String),
    /// PostgreSQL could not be reached or refused a statement.
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    /// S3-compatible object storage could not be reached or refused a call.
    #[error("object storage: {0}")]
    ObjectStorage(String),
    #[error("the database schema version {found} is newer than this build understands ({known})")]
    SchemaTooNew { found: i64, known: i64 },
}

impl StoreError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> StoreError {
        StoreError::Io { path: path.display().to_string(), source }
    }

    pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(what.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
