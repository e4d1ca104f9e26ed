//! Vouch's database on PostgreSQL, for a central service: the connection and the schema's migrations. The
//! records still live in SQLite (README gaps); this is the backend they move to, checked against SQLite's
//! schema by the `postgres_schema` tests.

use std::str::FromStr;
use std::sync::Arc;

use tokio_postgres::config::Host;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::db::{Conn, PgConnection, PgSession};
use crate::db_params;
use crate::dedicated::Dedicated;
use crate::error::{Result, StoreError};
use crate::pg_tls;

/// The PostgreSQL migrations, in order; `vouch_schema` holds how many are applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_schema.sql"),
    include_str!("../migrations/postgres/0002_merge_patch.sql"),
    include_str!("../migrations/postgres/0003_insertion_order.sql"),
    include_str!("../migrations/postgres/0004_kiosks.sql"),
    include_str!("../migrations/postgres/0005_case_claims.sql"),
    include_str!("../migrations/postgres/0006_central_link.sql"),
    include_str!("../migrations/postgres/0007_case_branches.sql"),
    include_str!("../migrations/postgres/0008_walk_ins.sql"),
    include_str!("../migrations/postgres/0009_kiosks_run_every_flow.sql"),
    include_str!("../migrations/postgres/0010_cases_for_one_kiosk.sql"),
    include_str!("../migrations/postgres/0011_dis_customers_at_kiosks.sql"),
    include_str!("../migrations/postgres/0012_dis_sessions.sql"),
    include_str!("../migrations/postgres/0013_trust_records.sql"),
];

/// Taken by every migration (a transaction-scoped advisory lock), so that instances starting together on one
/// database migrate it once, one after the other.
const MIGRATION_LOCK: i64 = 0x766f_7563_6801; // "vouch" and 1

pub fn latest_version() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

fn failed(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Postgres(format!("{what}: {e}"))
}

/// tokio-postgres shows a server's refusal as "db error": the server's own words are in its `DbError`; other
/// failures (a TLS handshake) name their cause in the error's sources.
fn refused(what: &str, e: &tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Postgres(format!("{what}: {} ({})", db.message(), db.code().code())),
        None => {
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(e);
            while let Some(inner) = cause {
                text.push_str(&format!(": {inner}"));
                cause = inner.source();
            }
            failed(what, text)
        }
    }
}

/// Connections to one PostgreSQL database, driven on a runtime of their own. Each caller gets a connection of
/// its own for the length of its work ([`PgDatabase::with`]); idle ones wait in the pool for the next caller.
pub struct PgDatabase {
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    idle: std::sync::Mutex<Vec<Arc<PgConnection>>>,
    runtime: Arc<Dedicated>,
}

impl std::fmt::Debug for PgDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDatabase").finish_non_exhaustive()
    }
}

/// A connection that listens to the other instances, and the task that hands on what it hears.
struct Listener {
    client: tokio_postgres::Client,
    messages: tokio::task::JoinHandle<()>,
}

impl Listener {
    async fn closed(self) {
        let _ = self.messages.await;
        drop(self.client);
    }
}

async fn listening(
    config: &tokio_postgres::Config,
    tls: &MakeRustlsConnect,
    instance: &str,
    heard: &tokio::sync::broadcast::Sender<String>,
) -> std::result::Result<Listener, tokio_postgres::Error> {
    use tokio_postgres::AsyncMessage;
    let (client, mut connection) = config.connect(tls.clone()).await?;
    let (forward, instance) = (heard.clone(), instance.to_string());
    let messages = tokio::spawn(async move {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if let Some(topic) = crate::changes::heard(n.payload(), &instance) {
                        let _ = forward.send(topic.to_string());
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "the connection that hears other instances failed");
                    return;
                }
            }
        }
    });
    client.batch_execute(&format!("LISTEN {}", crate::changes::CHANNEL)).await?;
    Ok(Listener { client, messages })
}

/// Connections kept idle; more may be open while callers hold them.
const MOST_IDLE: usize = 8;

/// Reads a libpq-style URL or key-value string; the password, when the URL has none, from `PGPASSWORD` (as libpq
/// does), so that it need not appear on a command line.
/// TLS is chosen as [`pg_tls`] says; returns the connector too.
fn read_config(url: &str) -> Result<(tokio_postgres::Config, MakeRustlsConnect)> {
    let (settings, ca_file) = pg_tls::split_root_cert(url);
    let mut config = tokio_postgres::Config::from_str(&settings)
        .map_err(|e| StoreError::Invalid(format!("the database URL: {e}")))?;
    pg_tls::choose_mode(&mut config, &settings)?;
    if config.get_password().is_none() {
        if let Ok(password) = std::env::var("PGPASSWORD") {
            config.password(password);
        }
    }
    Ok((config, pg_tls::connector(ca_file)?))
}

/// The database a URL names, for logs and messages: user, hosts, ports and database, never the password.
pub fn describe(url: &str) -> String {
    let Ok(config) = tokio_postgres::Config::from_str(url) else {
        return "a PostgreSQL database (its URL does not parse)".into();
    };
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(host, port)| match host {
            Host::Tcp(name) => format!("{name}:{port}"),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    format!(
        "postgres://{}@{}/{}",
        config.get_user().unwrap_or_default(),
        hosts.join(","),
        config.get_dbname().unwrap_or_default()
    )
}

impl PgDatabase {
    /// Connects to `postgres://USER[:PASSWORD]@HOST:PORT/DATABASE` (any libpq-style URL or key-value string).
    pub fn connect(url: &str) -> Result<PgDatabase> {
        let (config, tls) = read_config(url)?;
        let runtime = Arc::new(Dedicated::new("vouch-postgres").map_err(|e| failed("PostgreSQL", e))?);
        let db = PgDatabase { config, tls, idle: std::sync::Mutex::default(), runtime };
        let first = db.open_connection()?;
        db.give_back(first);
        Ok(db)
    }

    fn open_connection(&self) -> Result<Arc<PgConnection>> {
        let (config, tls) = (self.config.clone(), self.tls.clone());
        let client = self
            .runtime
            .run(async move {
                let (client, connection) = config.connect(tls).await?;
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::warn!(error = %e, "a PostgreSQL connection closed");
                    }
                });
                Ok::<_, tokio_postgres::Error>(client)
            })
            .map_err(|e| failed("PostgreSQL", e))?
            .map_err(|e| refused("connecting to PostgreSQL", &e))?;
        Ok(Arc::new(PgConnection::new(client)))
    }

    fn give_back(&self, client: Arc<PgConnection>) {
        if client.client.is_closed() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MOST_IDLE {
                idle.push(client);
            }
        }
    }

    /// Runs `work` on a connection of its own: an idle one, or a new one. A connection that broke (the server
    /// restarted) is dropped rather than handed out again.
    pub fn with<T>(&self, work: impl FnOnce(&Conn<'_>) -> Result<T>) -> Result<T> {
        let idle = loop {
            let next = self.idle.lock().map_err(|_| StoreError::Poisoned)?.pop();
            match next {
                Some(client) if client.client.is_closed() => continue,
                other => break other,
            }
        };
        let client = match idle {
            Some(client) => client,
            None => self.open_connection()?,
        };
        let session = PgSession::new(client.clone(), self.runtime.clone());
        let result = work(&Conn::Postgres(&session));
        self.give_back(client);
        result
    }

    /// Listens, on a connection of its own, to what other instances announce ([`crate::changes`]) and passes
    /// their topics to `heard`, for as long as the store lives: listening before this returns, so that nothing
    /// announced after the store opened is missed. A lost connection is made again; then
    /// [`crate::changes::EVERYTHING`] is passed, since what was announced meanwhile is gone.
    pub(crate) fn listen(&self, instance: &str, heard: tokio::sync::broadcast::Sender<String>) -> Result<()> {
        let (config, tls, instance) = (self.config.clone(), self.tls.clone(), instance.to_string());
        let (c, t, i, h) = (config.clone(), tls.clone(), instance.clone(), heard.clone());
        let first = self
            .runtime
            .run(async move { listening(&c, &t, &i, &h).await })
            .map_err(|e| failed("PostgreSQL", e))?
            .map_err(|e| refused("listening to other instances", &e))?;
        self.runtime.spawn(async move {
            let mut current = Some(first);
            loop {
                if let Some(listener) = current.take() {
                    listener.closed().await;
                    tracing::warn!("the connection that hears other instances closed; connecting again");
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                match listening(&config, &tls, &instance, &heard).await {
                    Ok(listener) => {
                        let _ = heard.send(crate::changes::EVERYTHING.to_string());
                        current = Some(listener);
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot hear other instances yet; trying again"),
                }
            }
        });
        Ok(())
    }

    /// Applies the migrations this build knows and the database lacks, in one transaction under the migration
    /// lock; refuses a database migrated by a newer build. Returns the version.
    pub fn migrate(&self) -> Result<i64> {
        self.with(|conn| {
            conn.transaction(|tx| {
                tx.execute("SELECT pg_advisory_xact_lock(?1)", db_params![MIGRATION_LOCK])?;
                tx.batch("CREATE TABLE IF NOT EXISTS vouch_schema (version BIGINT NOT NULL)")?;
                let current: i64 =
                    tx.query_one("SELECT COALESCE(MAX(version), 0) FROM vouch_schema", db_params![])?.get(0)?;
                if current > latest_version() {
                    return Err(StoreError::SchemaTooNew { found: current, known: latest_version() });
                }
                let start = usize::try_from(current).unwrap_or(0);
                for (index, sql) in MIGRATIONS.iter().enumerate().skip(start) {
                    let version = i64::try_from(index).unwrap_or(i64::MAX).saturating_add(1);
                    tx.batch(sql)?;
                    tx.execute("DELETE FROM vouch_schema", db_params![])?;
                    tx.execute("INSERT INTO vouch_schema (version) VALUES (?1)", db_params![version])?;
                    tracing::info!(version, "applied PostgreSQL migration");
                }
                Ok(latest_version())
            })
        })
    }

    /// The migrations applied (0 on an empty database).
    pub fn schema_version(&self) -> Result<i64> {
        self.with(|conn| {
            let exists: bool =
                conn.query_one("SELECT to_regclass('vouch_schema') IS NOT NULL", db_params![])?.get(0)?;
            if !exists {
                return Ok(0);
            }
            conn.query_one("SELECT COALESCE(MAX(version), 0) FROM vouch_schema", db_params![])?.get(0)
        })
    }

    /// Rows of text columns for a query with no parameters (introspection for tests and tools).
    pub fn text_rows(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        self.with(|conn| {
            let rows = conn.query(sql, db_params![])?;
            rows.iter()
                .map(|row| (0..row.len()).map(|i| row.get::<Option<String>>(i)).collect::<Result<Vec<_>>>())
                .collect()
        })
    }
}
