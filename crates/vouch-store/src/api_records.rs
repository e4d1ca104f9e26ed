//! Configuration records a vendor API keeps for its clients (Verifik's projects, project flows and webhooks):
//! JSON objects Vouch stores and answers, owned by one client each. Another client's record is not found.

use crate::db::{Conn, Dialect, Row};
use crate::db_params;
use time::OffsetDateTime;

use crate::error::{Result, StoreError};
use crate::{from_ms, now, to_ms, Store};

/// Which records: of one API, kind and client.
#[derive(Debug, Clone, Copy)]
pub struct RecordKind<'a> {
    pub api: &'a str,
    pub kind: &'a str,
    pub client_id: &'a str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiRecord {
    pub id: String,
    pub parent: Option<String>,
    pub body: serde_json::Map<String, serde_json::Value>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A record another write creates in its own transaction (a decided case's app login).
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecord {
    pub api: String,
    pub kind: String,
    pub client_id: String,
    pub body: serde_json::Map<String, serde_json::Value>,
}

/// Writes one record row: every insert of a record goes through here, in a transaction or not.
pub(crate) fn insert_row(
    conn: &Conn<'_>,
    id: &str,
    of: RecordKind<'_>,
    parent: Option<&str>,
    body: &serde_json::Map<String, serde_json::Value>,
    at: OffsetDateTime,
) -> Result<()> {
    let text = serde_json::Value::Object(body.clone()).to_string();
    conn.execute(
        "INSERT INTO api_records (id, api, kind, client_id, parent, body, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        db_params![id, of.api, of.kind, of.client_id, parent, text, to_ms(at)],
    )?;
    Ok(())
}

/// Writes `record` in `tx` under a new id; the id.
/// Inserts `record` under `id`, or a new id when None; the id.
pub(crate) fn insert_in(tx: &Conn<'_>, id: Option<&str>, record: &NewRecord, at: OffsetDateTime) -> Result<String> {
    let id = id.map_or_else(new_id, str::to_string);
    let of = RecordKind { api: &record.api, kind: &record.kind, client_id: &record.client_id };
    insert_row(tx, &id, of, None, &record.body, at)?;
    Ok(id)
}

/// A record that a case's decision writes in its transaction: a new one, or fields set on one that exists.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordWrite {
    Insert(NewRecord),
    /// A new record under an id the caller chose ([`new_id`]), so that another write of the same transaction can
    /// name it.
    InsertAs(String, NewRecord),
    /// Sets these top-level fields of record `id` (of `api`, `kind` and `client_id`), keeping its others.
    Merge {
        api: String,
        kind: String,
        client_id: String,
        id: String,
        fields: serde_json::Map<String, serde_json::Value>,
    },
}

/// Writes `write` in `tx`; `NotFound` when a merge names no record.
pub(crate) fn write_in(tx: &Conn<'_>, write: &RecordWrite, at: OffsetDateTime) -> Result<()> {
    match write {
        RecordWrite::Insert(record) => insert_in(tx, None, record, at).map(|_| ()),
        RecordWrite::InsertAs(id, record) => insert_in(tx, Some(id), record, at).map(|_| ()),
        RecordWrite::Merge { api, kind, client_id, id, fields } => {
            // The merge runs in SQL, so the fields land on the body as it is now, not as it was read.
            let patch = serde_json::Value::Object(fields.clone()).to_string();
            let merged = match tx.dialect() {
                Dialect::Sqlite => "json_patch(body, ?1)",
                Dialect::Postgres => "vouch_merge_patch(body::jsonb, (?1::text)::jsonb)::text",
            };
            let changed = tx.execute(
                &format!(
                    "UPDATE api_records SET body = {merged}, updated_at = ?2
                     WHERE api = ?3 AND kind = ?4 AND client_id = ?5 AND id = ?6"
                ),
                db_params![patch, to_ms(at), api, kind, client_id, id],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }
    }
}

/// A page of records: those whose `field` (a top-level string of the body) equals the value, when given.
#[derive(Debug, Clone, Default)]
pub struct RecordQuery {
    pub parent: Option<String>,
    pub field: Option<(String, String)>,
    pub offset: u32,
    pub limit: u32,
    /// Newest first; oldest first when false.
    pub newest_first: bool,
}

const COLUMNS: &str = "id, parent, body, created_at, updated_at";

fn record(r: &Row) -> Result<ApiRecord> {
    let (id, parent, body, created, updated): (String, Option<String>, String, i64, i64) =
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
    let body = serde_json::from_str(&body).map_err(|e| StoreError::corrupt(format!("api record {id}: {e}")))?;
    Ok(ApiRecord { id, parent, body, created_at: from_ms(created), updated_at: from_ms(updated) })
}

/// A new record id, for a caller that writes a record and refers to it in one transaction.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string().chars().take(24).collect()
}

impl Store {
    pub fn create_api_record(
        &self,
        of: RecordKind<'_>,
        parent: Option<&str>,
        body: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<ApiRecord> {
        let id = new_id();
        self.with(|conn| insert_row(conn, &id, of, parent, body, now()))?;
        self.api_record(of, &id)
    }

    pub fn api_record(&self, of: RecordKind<'_>, id: &str) -> Result<ApiRecord> {
        let sql =
            format!("SELECT {COLUMNS} FROM api_records WHERE api = ?1 AND kind = ?2 AND client_id = ?3 AND id = ?4");
        record(&self.with(|conn| conn.query_one(&sql, db_params![of.api, of.kind, of.client_id, id]))?)
    }

    /// A page of records, oldest first, and how many match in all.
    pub fn api_records(&self, of: RecordKind<'_>, query: &RecordQuery) -> Result<(Vec<ApiRecord>, u64)> {
        let (field, value) = match &query.field {
            Some((f, v)) => (Some(f.replace('"', "")), Some(v.clone())),
            None => (None, None),
        };
        let order = if query.newest_first { "created_at DESC, id DESC" } else { "created_at, id" };
        let (total, rows) = self.with(|conn| {
            // A top-level string field of the body: SQLite reads it by path, PostgreSQL by key.
            let field_is = match conn.dialect() {
                Dialect::Sqlite => "json_extract(body, '$.\"' || ?5 || '\"') = ?6",
                Dialect::Postgres => "(body::jsonb ->> ?5::text) = ?6",
            };
            let filter = format!(
                "FROM api_records WHERE api = ?1 AND kind = ?2 AND client_id = ?3
                 AND (?4::text IS NULL OR parent = ?4) AND (?5::text IS NULL OR {field_is})"
            );
            let filter = match conn.dialect() {
                Dialect::Sqlite => filter.replace("::text", ""),
                Dialect::Postgres => filter,
            };
            let total: i64 = conn
                .query_one(
                    &format!("SELECT count(*) {filter}"),
                    db_params![of.api, of.kind, of.client_id, query.parent, field, value],
                )?
                .get(0)?;
            let rows = conn.query(
                &format!("SELECT {COLUMNS} {filter} ORDER BY {order} LIMIT ?7 OFFSET ?8"),
                db_params![of.api, of.kind, of.client_id, query.parent, field, value, query.limit, query.offset],
            )?;
            Ok((total, rows))
        })?;
        let page = rows.iter().map(record).collect::<Result<Vec<_>>>()?;
        Ok((page, u64::try_from(total).unwrap_or(0)))
    }

    /// Replaces a record's body.
    pub fn update_api_record(
        &self,
        of: RecordKind<'_>,
        id: &str,
        body: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<ApiRecord> {
        let text = serde_json::Value::Object(body.clone()).to_string();
        let changed = self.with(|conn| {
            conn.execute(
                "UPDATE api_records SET body = ?1, updated_at = ?2 WHERE api = ?3 AND kind = ?4 AND client_id = ?5 AND id = ?6",
                db_params![text, to_ms(now()), of.api, of.kind, of.client_id, id],
            )
        })?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        self.api_record(of, id)
    }

    /// Writes records (new ones, fields set on others) and queues the webhooks that announce them, in one
    /// transaction.
    pub fn write_api_records(&self, writes: &[RecordWrite], events: &[crate::outbox::RecordEvent]) -> Result<()> {
        let at = now();
        self.with(|conn| {
            conn.transaction(|tx| {
                for write in writes {
                    write_in(tx, write, at)?;
                }
                for event in events {
                    crate::outbox::enqueue_record_event(tx, self.key(), event, at)?;
                }
                Ok(())
            })
        })
    }

    /// Deletes a record; what it was.
    pub fn delete_api_record(&self, of: RecordKind<'_>, id: &str) -> Result<ApiRecord> {
        let record = self.api_record(of, id)?;
        self.with(|conn| {
            conn.execute(
                "DELETE FROM api_records WHERE api = ?1 AND kind = ?2 AND client_id = ?3 AND id = ?4",
                db_params![of.api, of.kind, of.client_id, id],
            )
        })?;
        Ok(record)
    }
}
