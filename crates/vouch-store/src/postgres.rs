//! Vouch's database on PostgreSQL, for a central service: the connection and the schema's migrations. The
//! records still live in SQLite (README gaps); this is the backend they move to, checked against SQLite's
//! schema by the `postgres_schema` tests.

use std::str::FromStr;
use std::sync::Arc;

use tokio_postgres::config::Host;
use tokio_postgres::NoTls;

use crate::dedicated::Dedicated;
use crate::error::{Result, StoreError};

/// The PostgreSQL migrations, in order; `vouch_schema` holds how many are applied.
const MIGRATIONS: &[&str] = &[include_str!("../migrations/postgres/0001_schema.sql")];

/// Taken by every migration (a transaction-scoped advisory lock), so that instances starting together on one
/// database migrate it once, one after the other.
const MIGRATION_LOCK: i64 = 0x766f_7563_6801; // "vouch" and 1

pub fn latest_version() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

fn failed(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Postgres(format!("{what}: {e}"))
}

/// tokio-postgres shows a server's refusal as "db error": the server's own words are in its `DbError`.
fn refused(what: &str, e: &tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Postgres(format!("{what}: {} ({})", db.message(), db.code().code())),
        None => failed(what, e),
    }
}

/// One connection to PostgreSQL, driven on a runtime of its own.
pub struct PgDatabase {
    client: Arc<tokio::sync::Mutex<tokio_postgres::Client>>,
    runtime: Dedicated,
}

impl std::fmt::Debug for PgDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDatabase").finish_non_exhaustive()
    }
}

/// A database on another machine would need TLS, which is not built yet; a loopback or unix-socket one does not.
fn check_local(config: &tokio_postgres::Config) -> Result<()> {
    for host in config.get_hosts() {
        let local = match host {
            Host::Unix(_) => true,
            Host::Tcp(name) => name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()),
        };
        if !local {
            return Err(StoreError::Invalid(
                "a PostgreSQL server off this machine needs TLS, which Vouch does not speak to PostgreSQL yet: \
                 use a loopback address or a unix socket"
                    .into(),
            ));
        }
    }
    Ok(())
}

impl PgDatabase {
    /// Connects to `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (any libpq-style URL or key-value string).
    pub fn connect(url: &str) -> Result<PgDatabase> {
        let config =
            tokio_postgres::Config::from_str(url).map_err(|e| StoreError::Invalid(format!("the database URL: {e}")))?;
        check_local(&config)?;
        let runtime = Dedicated::new("vouch-postgres").map_err(|e| failed("PostgreSQL", e))?;
        let client = runtime
            .run(async move {
                let (client, connection) = config.connect(NoTls).await?;
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::warn!(error = %e, "the PostgreSQL connection closed");
                    }
                });
                Ok::<_, tokio_postgres::Error>(client)
            })
            .map_err(|e| failed("PostgreSQL", e))?
            .map_err(|e| refused("connecting to PostgreSQL", &e))?;
        Ok(PgDatabase { client: Arc::new(tokio::sync::Mutex::new(client)), runtime })
    }

    /// Applies the migrations this build knows and the database lacks, each in its own transaction under the
    /// migration lock; refuses a database migrated by a newer build. Returns the version.
    pub fn migrate(&self) -> Result<i64> {
        let client = self.client.clone();
        let applied = self
            .runtime
            .run(async move {
                let mut client = client.lock().await;
                let tx = client.transaction().await?;
                tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
                tx.batch_execute("CREATE TABLE IF NOT EXISTS vouch_schema (version BIGINT NOT NULL)").await?;
                let current: i64 =
                    tx.query_one("SELECT COALESCE(MAX(version), 0) FROM vouch_schema", &[]).await?.get(0);
                if current > latest_version() {
                    return Ok(Err(StoreError::SchemaTooNew { found: current, known: latest_version() }));
                }
                let start = usize::try_from(current).unwrap_or(0);
                for (index, sql) in MIGRATIONS.iter().enumerate().skip(start) {
                    let version = i64::try_from(index).unwrap_or(i64::MAX).saturating_add(1);
                    tx.batch_execute(sql).await?;
                    tx.execute("DELETE FROM vouch_schema", &[]).await?;
                    tx.execute("INSERT INTO vouch_schema (version) VALUES ($1)", &[&version]).await?;
                    tracing::info!(version, "applied PostgreSQL migration");
                }
                tx.commit().await?;
                Ok::<_, tokio_postgres::Error>(Ok(latest_version()))
            })
            .map_err(|e| failed("PostgreSQL", e))?
            .map_err(|e| refused("migrating the PostgreSQL schema", &e))?;
        applied
    }

    /// The migrations applied (0 on an empty database).
    pub fn schema_version(&self) -> Result<i64> {
        let client = self.client.clone();
        self.runtime
            .run(async move {
                let client = client.lock().await;
                let exists: bool =
                    client.query_one("SELECT to_regclass('vouch_schema') IS NOT NULL", &[]).await?.get(0);
                if !exists {
                    return Ok(0);
                }
                client.query_one("SELECT COALESCE(MAX(version), 0) FROM vouch_schema", &[]).await.map(|r| r.get(0))
            })
            .map_err(|e| failed("PostgreSQL", e))?
            .map_err(|e| refused("reading the PostgreSQL schema version", &e))
    }

    /// Rows of text columns for a query with no parameters (introspection for tests and tools).
    pub fn text_rows(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        let (client, sql) = (self.client.clone(), sql.to_string());
        self.runtime
            .run(async move {
                let client = client.lock().await;
                let rows = client.query(sql.as_str(), &[]).await?;
                Ok::<_, tokio_postgres::Error>(
                    rows.iter().map(|row| (0..row.len()).map(|i| row.get::<_, Option<String>>(i)).collect()).collect(),
                )
            })
            .map_err(|e| failed("PostgreSQL", e))?
            .map_err(|e| refused("querying PostgreSQL", &e))
    }
}
