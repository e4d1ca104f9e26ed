//! Vouch's embedded store: one SQLite file in WAL mode plus a directory of encrypted blobs.
//!
//! Every method that writes more than one row does it in one transaction, and blobs are written
//! before the rows that point to them, so a crash never leaves a case half-written.

pub mod api_records;
pub mod audit;
mod blob_refs;
pub mod blobs;
pub mod case_codes;
pub mod case_subjects;
pub mod cases;
pub mod central;
pub mod changes;
pub mod clients;
pub mod credentials;
pub mod db;
mod dedicated;
pub mod dis_sessions;
pub mod documents;
mod error;
pub mod faces;
pub mod flows;
pub mod gallery;
pub mod gallery_persons;
pub mod jwt;
pub mod keys;
pub mod kiosks;
pub mod liveness;
mod migrations;
pub mod one_time_codes;
pub mod outbox;
mod pg_tls;
pub mod pins;
pub mod postgres;
#[cfg(test)]
mod query_plans;
pub mod retention;
pub mod settings;
pub mod signing;
pub mod sync;
mod time_ms;
pub mod tokens;
pub mod trust_records;
pub mod walk_ins;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

pub use blobs::{sha256_hex, BlobLocation, BlobStore, S3Location};

/// Where a store keeps its records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// SQLite, in the data directory (a kiosk).
    #[default]
    DataDir,
    /// A PostgreSQL database (a central service): a `postgres://` URL.
    Postgres(String),
}

impl DatabaseLocation {
    /// `postgres://…` or `postgresql://…`; anything else is refused.
    pub fn parse(text: &str) -> Result<DatabaseLocation> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Ok(DatabaseLocation::Postgres(text.to_string()))
        } else {
            Err(StoreError::Invalid(
                "the database must be a postgres://USER@HOST:PORT/DATABASE URL (leave it unset for SQLite in the data \
                 directory)"
                    .into(),
            ))
        }
    }
}

impl std::fmt::Display for DatabaseLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseLocation::DataDir => f.write_str("SQLite in the data directory"),
            DatabaseLocation::Postgres(url) => f.write_str(&postgres::describe(url)),
        }
    }
}
pub use error::{Result, StoreError};
pub use keys::DataKey;
pub use time_ms::{from_ms, now, to_ms};

pub const DB_FILE: &str = "vouch.db";

/// A handle on the store. Cheap to clone; all clones share one connection.
///
/// Methods block (SQLite and file I/O); async callers run them on a blocking thread.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

/// The store's database: the embedded SQLite file, or PostgreSQL for a central service. On PostgreSQL only the code
/// already moved onto [`db::Conn`] runs (README gaps); the rest answers that it does not, rather than guessing.
#[derive(Debug)]
enum Database {
    Sqlite(Mutex<Connection>),
    Postgres(Box<postgres::PgDatabase>),
}

#[derive(Debug)]
struct Inner {
    database: Database,
    blobs: BlobStore,
    key: DataKey,
    /// The audit chain's key, a subkey of the data key, for code on [`db::Conn`] (SQLite's own code finds it in
    /// the connection).
    audit_key: [u8; 32],
    data_dir: PathBuf,
    /// This instance, in what it announces to the others ([`changes`]).
    instance: String,
    /// What the other instances announce, for [`Store::changes`].
    changes: tokio::sync::broadcast::Sender<String>,
}

impl Store {
    /// Opens (or creates) the store in `data_dir`: the directory (0700), the data key, the database
    /// with migrations applied, and the blob directory.
    pub fn open(data_dir: &Path) -> Result<Store> {
        Store::open_with_blobs(data_dir, &BlobLocation::DataDir)
    }

    /// Opens the store with its records in `database` and its blobs at `blobs`; the data key is in `data_dir`.
    pub fn open_at(data_dir: &Path, database: &DatabaseLocation, blobs: &BlobLocation) -> Result<Store> {
        match database {
            DatabaseLocation::DataDir => Store::open_with_blobs(data_dir, blobs),
            DatabaseLocation::Postgres(url) => Store::open_postgres(url, data_dir, blobs),
        }
    }

    /// [`Store::open`], with the blobs at `blobs` (S3-compatible object storage for a central service).
    pub fn open_with_blobs(data_dir: &Path, blobs: &BlobLocation) -> Result<Store> {
        fs::create_dir_all(data_dir).map_err(|e| StoreError::io(data_dir, e))?;
        let mut perms = fs::metadata(data_dir).map_err(|e| StoreError::io(data_dir, e))?.permissions();
        if perms.mode() & 0o077 != 0 {
            perms.set_mode(0o700);
            fs::set_permissions(data_dir, perms).map_err(|e| StoreError::io(data_dir, e))?;
        }
        let key = DataKey::load_or_create(data_dir)?;
        let mut conn = Connection::open(data_dir.join(DB_FILE))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit is on disk before it is acknowledged, so a power cut (not only a crash of this
        // process) loses nothing that was answered. In WAL mode that is one fsync of the log per commit.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(Duration::from_secs(5))?;
        migrations::migrate(&mut conn)?;
        let audit_key = key.subkey(audit::AUDIT_KEY_LABEL)?;
        let (rekeyed, left) = audit::rekey_legacy_chains(&mut conn, &audit_key)?;
        if rekeyed + left > 0 {
            tracing::info!(rekeyed, left_broken = left, "audit chains are now keyed");
        }
        let blobs = BlobStore::open_at(blobs, data_dir, key.clone())?;
        let temporary = blobs.temporary_files()?;
        for tmp in &temporary {
            // A blob being written when the process died: never renamed, so nothing names it.
            let _ = fs::remove_file(tmp);
        }
        if !temporary.is_empty() {
            tracing::info!(files = temporary.len(), "removed temporary blob files left by a crash");
        }
        let store = Store {
            inner: Arc::new(Inner {
                database: Database::Sqlite(Mutex::new(conn)),
                blobs,
                key,
                audit_key,
                data_dir: data_dir.to_path_buf(),
                instance: uuid::Uuid::new_v4().to_string(),
                changes: changes::channel(),
            }),
        };
        store.fill_missing_case_codes()?;
        let upgraded = store.upgrade_secret_hashes()?;
        if upgraded > 0 {
            tracing::info!(clients = upgraded, "client secrets now stored as keyed SHA-256");
        }
        Ok(store)
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.inner.blobs
    }

    pub(crate) fn key(&self) -> &DataKey {
        &self.inner.key
    }

    /// The SQLite connection itself, for the query plan tests.
    #[cfg(test)]
    pub(crate) fn sqlite_conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        match &self.inner.database {
            Database::Sqlite(conn) => conn.lock().map_err(|_| StoreError::Poisoned),
            Database::Postgres(_) => Err(StoreError::Invalid("not SQLite".into())),
        }
    }

    /// Runs `work` on the store's database through the interface both backends share ([`db::Conn`]); the code
    /// moved onto it calls this, so that it runs unchanged on either backend.
    pub(crate) fn with<T>(&self, work: impl FnOnce(&db::Conn<'_>) -> Result<T>) -> Result<T> {
        match &self.inner.database {
            Database::Sqlite(conn) => {
                let conn = conn.lock().map_err(|_| StoreError::Poisoned)?;
                work(&db::Conn::Sqlite(&conn))
            }
            Database::Postgres(db) => db.with(work),
        }
    }

    /// Opens a store on PostgreSQL (`url`), migrated, with its data key in `data_dir` and its blobs at `blobs`.
    /// Every instance of one central service needs the same data key.
    pub fn open_postgres(url: &str, data_dir: &Path, blobs: &BlobLocation) -> Result<Store> {
        fs::create_dir_all(data_dir).map_err(|e| StoreError::io(data_dir, e))?;
        let key = DataKey::load_or_create(data_dir)?;
        let database = postgres::PgDatabase::connect(url)?;
        database.migrate()?;
        let audit_key = key.subkey(audit::AUDIT_KEY_LABEL)?;
        let blobs = BlobStore::open_at(blobs, data_dir, key.clone())?;
        let instance = uuid::Uuid::new_v4().to_string();
        let changes = changes::channel();
        database.listen(&instance, changes.clone())?;
        let inner = Inner {
            database: Database::Postgres(Box::new(database)),
            blobs,
            key,
            audit_key,
            data_dir: data_dir.to_path_buf(),
            instance,
            changes,
        };
        Ok(Store { inner: Arc::new(inner) })
    }

    /// Whether other instances share this store (PostgreSQL): then what an instance would otherwise generate for
    /// itself (a signing key) must be made once for all.
    pub fn is_shared(&self) -> bool {
        matches!(self.inner.database, Database::Postgres(_))
    }

    pub(crate) fn audit_key(&self) -> &[u8; 32] {
        &self.inner.audit_key
    }

    pub fn schema_version(&self) -> Result<i64> {
        match &self.inner.database {
            Database::Sqlite(conn) => {
                Ok(conn.lock().map_err(|_| StoreError::Poisoned)?.query_row("PRAGMA user_version", [], |r| r.get(0))?)
            }
            Database::Postgres(db) => db.schema_version(),
        }
    }

    /// Deletes blob files that no row names and that were last written longer than `older_than` ago (a
    /// step refused after its capture was stored, a crash between a blob and its row). Young blobs stay:
    /// their row may be about to commit. Returns how many were deleted.
    pub fn sweep_orphan_blobs(&self, older_than: Duration) -> Result<usize> {
        let blobs = self.blobs().blobs_with_age()?;
        let cutoff = std::time::SystemTime::now().checked_sub(older_than).unwrap_or(std::time::UNIX_EPOCH);
        let mut deleted = 0;
        for (sha, _) in blobs.into_iter().filter(|(_, modified)| *modified < cutoff) {
            // One short lock per blob, so that a large store does not stall requests.
            let named = self.with(|conn| blob_refs::blob_still_named(conn, &sha))?;
            if !named && self.blobs().remove(&sha)? {
                deleted += 1;
            }
        }
        if deleted > 0 {
            tracing::info!(deleted, "deleted blobs that nothing names");
        }
        Ok(deleted)
    }

    /// A cheap end-to-end check for readiness probes.
    pub fn ping(&self) -> Result<()> {
        self.with(|conn| conn.query_one("SELECT 1", db_params![]).map(|_| ()))
    }
}
