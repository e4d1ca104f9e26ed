//! One SQL interface over both backends: SQLite through rusqlite (the kiosk's embedded store) and PostgreSQL
//! through tokio-postgres (a central service). Statements are written once, with SQLite's `?1` placeholders
//! (PostgreSQL gets them as `$1`); values and rows are owned, so a PostgreSQL call can cross to the runtime that
//! drives its connection. Code moves onto this interface module by module (the PostgreSQL port, issue 25); what
//! is ported runs, and is tested, on both.

use std::sync::Arc;

use tokio_postgres::types::{IsNull, ToSql, Type};

use crate::dedicated::Dedicated;
use crate::error::{Result, StoreError};

/// A value bound to a statement or read from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

pub trait ToValue {
    fn to_value(&self) -> Value;
}

pub trait FromValue: Sized {
    fn from_value(value: &Value) -> Result<Self>;
}

fn wrong(want: &str, got: &Value) -> StoreError {
    let got = match got {
        Value::Null => "NULL",
        Value::Int(_) => "an integer",
        Value::Real(_) => "a real",
        Value::Text(_) => "text",
        Value::Blob(_) => "a blob",
    };
    StoreError::corrupt(format!("a column holds {got} where {want} belongs"))
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}
impl ToValue for i64 {
    fn to_value(&self) -> Value {
        Value::Int(*self)
    }
}
impl ToValue for i32 {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl ToValue for u16 {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl ToValue for u32 {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
}
impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Int(i) => Ok(*i),
            other => Err(wrong("an integer", other)),
        }
    }
}
impl FromValue for u64 {
    fn from_value(value: &Value) -> Result<Self> {
        u64::try_from(i64::from_value(value)?).map_err(|_| StoreError::corrupt("an integer out of range"))
    }
}
impl FromValue for u32 {
    fn from_value(value: &Value) -> Result<Self> {
        u32::try_from(i64::from_value(value)?).map_err(|_| StoreError::corrupt("an integer out of range"))
    }
}
impl FromValue for u16 {
    fn from_value(value: &Value) -> Result<Self> {
        u16::try_from(i64::from_value(value)?).map_err(|_| StoreError::corrupt("an integer out of range"))
    }
}
impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self> {
        Ok(i64::from_value(value)? != 0)
    }
}
impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Real(r) => Ok(*r),
            Value::Int(i) => Ok(*i as f64),
            other => Err(wrong("a real", other)),
        }
    }
}
impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Text(t) => Ok(t.clone()),
            other => Err(wrong("text", other)),
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Blob(b) => Ok(b.clone()),
            other => Err(wrong("a blob", other)),
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// `db_params![a, b, c]`: the values of a statement's `?1`, `?2`, `?3`.
#[macro_export]
macro_rules! db_params {
    ($($value:expr),* $(,)?) => {
        &[$(&$value as &dyn $crate::db::ToValue),*] as &[&dyn $crate::db::ToValue]
    };
}

/// A row read, its columns in the statement's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(Vec<Value>);

impl Row {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get<T: FromValue>(&self, index: usize) -> Result<T> {
        let value = self.0.get(index).ok_or_else(|| StoreError::corrupt(format!("no column {index} in the row")))?;
        T::from_value(value)
    }

    /// A column of JSON text, parsed.
    pub fn json<T: serde::de::DeserializeOwned>(&self, index: usize) -> Result<T> {
        let text: String = self.get(index)?;
        serde_json::from_str(&text)
            .map_err(|e| StoreError::corrupt(format!("column {index} is not the JSON it should be: {e}")))
    }
}

fn owned(params: &[&dyn ToValue]) -> Vec<Value> {
    params.iter().map(|p| p.to_value()).collect()
}

// ---- SQLite ----

fn to_sqlite(value: Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match value {
        Value::Null => V::Null,
        Value::Int(i) => V::Integer(i),
        Value::Real(r) => V::Real(r),
        Value::Text(t) => V::Text(t),
        Value::Blob(b) => V::Blob(b),
    }
}

fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef as V;
    match value {
        V::Null => Value::Null,
        V::Integer(i) => Value::Int(i),
        V::Real(r) => Value::Real(r),
        V::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        V::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// SQLite's refusals in the store's terms, as [`postgres_error`] does for PostgreSQL: a broken unique, primary or
/// foreign key is a conflict.
fn sqlite_error(e: rusqlite::Error) -> StoreError {
    use rusqlite::ffi;
    match &e {
        rusqlite::Error::SqliteFailure(failure, message)
            if [
                ffi::SQLITE_CONSTRAINT_UNIQUE,
                ffi::SQLITE_CONSTRAINT_PRIMARYKEY,
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY,
            ]
            .contains(&failure.extended_code) =>
        {
            StoreError::Conflict(message.clone().unwrap_or_else(|| failure.to_string()))
        }
        _ => StoreError::Sqlite(e),
    }
}

fn sqlite_execute(conn: &rusqlite::Connection, sql: &str, params: Vec<Value>) -> Result<u64> {
    let changed =
        conn.execute(sql, rusqlite::params_from_iter(params.into_iter().map(to_sqlite))).map_err(sqlite_error)?;
    Ok(u64::try_from(changed).unwrap_or(u64::MAX))
}

fn sqlite_query(conn: &rusqlite::Connection, sql: &str, params: Vec<Value>) -> Result<Vec<Row>> {
    let mut stmt = conn.prepare(sql)?;
    let columns = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(params.into_iter().map(to_sqlite))).map_err(sqlite_error)?;
    let mut read = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite_error)? {
        let mut values = Vec::with_capacity(columns);
        for index in 0..columns {
            values.push(from_sqlite(row.get_ref(index)?));
        }
        read.push(Row(values));
    }
    Ok(read)
}

// ---- PostgreSQL ----

/// A statement written for SQLite as PostgreSQL takes it: `?N` placeholders become `$N` and SQLite's index hints
/// (`INDEXED BY name`, which pin a hot query to its index there) are dropped, since PostgreSQL's planner takes
/// none; its plans are checked by their own tests.
pub(crate) fn to_postgres(sql: &str) -> String {
    strip_index_hints(&to_postgres_placeholders(sql))
}

fn strip_index_hints(sql: &str) -> String {
    const HINT: &str = "INDEXED BY ";
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find(HINT) {
        out.push_str(rest.get(..at).unwrap_or_default());
        let after = rest.get(at + HINT.len()..).unwrap_or_default();
        let name_len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
        rest = after.get(name_len..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// SQLite's `?N` placeholders as PostgreSQL's `$N`, outside quoted text.
pub(crate) fn to_postgres_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' => {
                out.push('$');
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

/// A bound value as the parameter type PostgreSQL inferred for it (Vouch's schema is BIGINT, TEXT and BYTEA).
#[derive(Debug)]
struct Bound(Value);

impl ToSql for Bound {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) if *ty == Type::INT8 => i.to_sql(ty, out),
            Value::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) if *ty == Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
            Value::Int(i) if *ty == Type::BOOL => (*i != 0).to_sql(ty, out),
            Value::Int(i) if *ty == Type::FLOAT8 => (*i as f64).to_sql(ty, out),
            Value::Int(i) if *ty == Type::TEXT => i.to_string().to_sql(ty, out),
            Value::Real(r) if *ty == Type::FLOAT8 => r.to_sql(ty, out),
            Value::Text(t) => t.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
            other => Err(format!("{other:?} cannot be bound to a {ty} parameter").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

fn from_postgres(row: &tokio_postgres::Row, index: usize) -> std::result::Result<Value, tokio_postgres::Error> {
    let ty = row.columns().get(index).map(|c| c.type_().clone()).unwrap_or(Type::TEXT);
    Ok(match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(index)?.map_or(Value::Null, Value::Int),
        Type::INT4 => row.try_get::<_, Option<i32>>(index)?.map_or(Value::Null, |i| Value::Int(i64::from(i))),
        Type::INT2 => row.try_get::<_, Option<i16>>(index)?.map_or(Value::Null, |i| Value::Int(i64::from(i))),
        Type::BOOL => row.try_get::<_, Option<bool>>(index)?.map_or(Value::Null, |b| Value::Int(i64::from(b))),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(index)?.map_or(Value::Null, Value::Real),
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(index)?.map_or(Value::Null, Value::Blob),
        _ => row.try_get::<_, Option<String>>(index)?.map_or(Value::Null, Value::Text),
    })
}

/// PostgreSQL's refusals in the store's terms: a broken unique or foreign key is a conflict, as on SQLite.
fn postgres_error(e: &tokio_postgres::Error) -> StoreError {
    use tokio_postgres::error::SqlState;
    match e.code() {
        Some(code) if *code == SqlState::UNIQUE_VIOLATION || *code == SqlState::FOREIGN_KEY_VIOLATION => {
            StoreError::Conflict(e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string()))
        }
        _ => match e.as_db_error() {
            Some(db) => StoreError::Postgres(format!("{} ({})", db.message(), db.code().code())),
            None => StoreError::Postgres(e.to_string()),
        },
    }
}

/// One PostgreSQL connection and the statements it has prepared: each statement is parsed once per connection,
/// not once per call, which halves the round trips of every query after the first.
pub(crate) struct PgConnection {
    pub(crate) client: tokio_postgres::Client,
    statements: std::sync::Mutex<std::collections::HashMap<String, tokio_postgres::Statement>>,
}

impl PgConnection {
    pub(crate) fn new(client: tokio_postgres::Client) -> PgConnection {
        PgConnection { client, statements: std::sync::Mutex::default() }
    }

    async fn statement(&self, sql: &str) -> std::result::Result<tokio_postgres::Statement, tokio_postgres::Error> {
        let cached = self.statements.lock().ok().and_then(|s| s.get(sql).cloned());
        if let Some(statement) = cached {
            return Ok(statement);
        }
        let statement = self.client.prepare(sql).await?;
        if let Ok(mut statements) = self.statements.lock() {
            statements.insert(sql.to_string(), statement.clone());
        }
        Ok(statement)
    }

    /// Runs a statement with its values bound: its rows, or how many rows it changed.
    async fn call(
        &self,
        sql: &str,
        params: Vec<Value>,
        rows: bool,
    ) -> std::result::Result<Answer, tokio_postgres::Error> {
        let statement = self.statement(sql).await?;
        let bound: Vec<Bound> = params.into_iter().map(Bound).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(|b| b as &(dyn ToSql + Sync)).collect();
        if rows {
            self.client.query(&statement, &refs).await.map(Answer::Rows)
        } else {
            self.client.execute(&statement, &refs).await.map(Answer::Changed)
        }
    }
}

enum Answer {
    Rows(Vec<tokio_postgres::Row>),
    Changed(u64),
}

/// One PostgreSQL connection, used by one caller at a time, and the runtime that drives it.
pub struct PgSession {
    connection: Arc<PgConnection>,
    runtime: Arc<Dedicated>,
}

impl PgSession {
    pub(crate) fn new(connection: Arc<PgConnection>, runtime: Arc<Dedicated>) -> PgSession {
        PgSession { connection, runtime }
    }

    fn call(&self, sql: &str, params: Vec<Value>, rows: bool) -> Result<Answer> {
        let (connection, sql) = (self.connection.clone(), to_postgres(sql));
        let answer =
            self.runtime.run(async move { connection.call(&sql, params, rows).await }).map_err(StoreError::Postgres)?;
        answer.map_err(|e| postgres_error(&e))
    }

    fn rows(&self, sql: &str, params: Vec<Value>) -> Result<Vec<tokio_postgres::Row>> {
        match self.call(sql, params, true)? {
            Answer::Rows(rows) => Ok(rows),
            Answer::Changed(_) => Err(StoreError::Postgres("a query answered without rows".into())),
        }
    }

    fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64> {
        match self.call(sql, params, false)? {
            Answer::Changed(count) => Ok(count),
            Answer::Rows(_) => Err(StoreError::Postgres("a statement answered with rows".into())),
        }
    }

    fn batch(&self, sql: &str) -> Result<()> {
        let (connection, sql) = (self.connection.clone(), sql.to_string());
        let answer = self
            .runtime
            .run(async move { connection.client.batch_execute(&sql).await })
            .map_err(StoreError::Postgres)?;
        answer.map_err(|e| postgres_error(&e))
    }

    fn query(&self, sql: &str, params: Vec<Value>) -> Result<Vec<Row>> {
        let mut read = Vec::new();
        for row in self.rows(sql, params)? {
            let values = (0..row.len()).map(|i| from_postgres(&row, i)).collect::<std::result::Result<_, _>>();
            read.push(Row(values.map_err(|e| postgres_error(&e))?));
        }
        Ok(read)
    }
}

/// Which SQL a statement is sent to, where the two differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A connection (or the transaction on it) of either backend.
pub enum Conn<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(&'a PgSession),
}

impl Conn<'_> {
    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs a statement; returns the rows it changed.
    pub fn execute(&self, sql: &str, params: &[&dyn ToValue]) -> Result<u64> {
        match self {
            Conn::Sqlite(c) => sqlite_execute(c, sql, owned(params)),
            Conn::Postgres(s) => s.execute(sql, owned(params)),
        }
    }

    /// Every row a query returns.
    pub fn query(&self, sql: &str, params: &[&dyn ToValue]) -> Result<Vec<Row>> {
        match self {
            Conn::Sqlite(c) => sqlite_query(c, sql, owned(params)),
            Conn::Postgres(s) => s.query(sql, owned(params)),
        }
    }

    /// The first row a query returns, if any.
    pub fn query_opt(&self, sql: &str, params: &[&dyn ToValue]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row a query returns; [`StoreError::NotFound`] when there is none.
    pub fn query_one(&self, sql: &str, params: &[&dyn ToValue]) -> Result<Row> {
        self.query_opt(sql, params)?.ok_or(StoreError::NotFound)
    }

    /// The function that finds text in text, `(haystack, needle)` → its 1-based place or 0.
    pub fn position_fn(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "instr",
            Dialect::Postgres => "strpos",
        }
    }

    /// Makes the other writers of `name` (a case, an audit chain, a counter) wait until this transaction ends.
    /// On PostgreSQL, where instances write at once, that is a transaction-scoped advisory lock (taken again by
    /// the same transaction, it is already held); SQLite's transactions here hold its single write lock already.
    pub fn lock(&self, name: &str) -> Result<()> {
        if self.dialect() == Dialect::Postgres {
            self.execute("SELECT pg_advisory_xact_lock(hashtextextended(?1, 0))", db_params![name])?;
        }
        Ok(())
    }

    /// Statements without parameters, separated by semicolons.
    pub fn batch(&self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Postgres(s) => s.batch(sql),
        }
    }

    /// Runs `work` in a transaction: committed when it returns Ok, rolled back otherwise. On SQLite it takes the
    /// write lock at once (`IMMEDIATE`), so that what it reads cannot change under it before it writes, whatever
    /// other process shares the file; the caller's connection must not already be in a transaction.
    pub fn transaction<T>(&self, work: impl FnOnce(&Conn<'_>) -> Result<T>) -> Result<T> {
        self.batch(match self.dialect() {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        })?;
        match work(self) {
            Ok(value) => {
                self.batch("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            to_postgres_placeholders("SELECT '?1', \"a?\" FROM t WHERE a = ?1 AND b = ?12"),
            "SELECT '?1', \"a?\" FROM t WHERE a = $1 AND b = $12"
        );
    }

    #[test]
    fn index_hints_are_dropped_for_postgres() {
        assert_eq!(
            to_postgres("SELECT a FROM t INDEXED BY t_by_a WHERE a = ?1 AND b IN (SELECT b FROM u INDEXED BY u_b)"),
            "SELECT a FROM t  WHERE a = $1 AND b IN (SELECT b FROM u )"
        );
    }

    #[test]
    fn sqlite_round_trips_every_kind_of_value() -> Result<()> {
        let raw = rusqlite::Connection::open_in_memory()?;
        let conn = Conn::Sqlite(&raw);
        conn.batch("CREATE TABLE t (i INTEGER, s TEXT, b BLOB, n TEXT)")?;
        let none: Option<String> = None;
        conn.execute("INSERT INTO t VALUES (?1, ?2, ?3, ?4)", db_params![7i64, "seven", vec![7u8], none])?;
        let row = conn.query_one("SELECT i, s, b, n FROM t", db_params![])?;
        assert_eq!(
            (row.get::<i64>(0)?, row.get::<String>(1)?, row.get::<Vec<u8>>(2)?, row.get::<Option<String>>(3)?),
            (7, "seven".to_string(), vec![7u8], None)
        );
        assert!(matches!(row.get::<i64>(1), Err(StoreError::Corrupt(_))), "text is not read as an integer");
        let failed = conn.transaction(|tx| {
            tx.execute("DELETE FROM t", db_params![])?;
            Err::<(), _>(StoreError::Invalid("undo".into()))
        });
        assert!(failed.is_err());
        assert_eq!(conn.query_one("SELECT count(*) FROM t", db_params![])?.get::<i64>(0)?, 1, "rolled back");
        Ok(())
    }
}
