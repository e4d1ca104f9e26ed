//! The webhook outbox: deliveries are rows written in the same transaction as the change they announce,
//! so they survive crashes and restarts; every attempt is logged.

use serde::Serialize;
use std::time::Duration;

use time::OffsetDateTime;
use vouch_core::CaseId;

use crate::db::{Conn, Dialect, Row};
use crate::db_params;
use crate::error::{Result, StoreError};
use crate::keys::DataKey;
use crate::{from_ms, to_ms, Store};

#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub client_id: String,
    pub url: String,
    /// The exact bytes to POST; signatures are computed over these.
    pub body: Vec<u8>,
    /// First attempt plus retries.
    pub max_attempts: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    fn parse(s: &str) -> DeliveryStatus {
        match s {
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            _ => DeliveryStatus::Pending,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Delivery {
    pub id: i64,
    pub case_id: String,
    pub client_id: String,
    pub url: String,
    #[serde(skip)]
    pub body: Vec<u8>,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub max_attempts: u32,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub next_attempt_at: OffsetDateTime,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[ts(type = "string | null")]
    pub delivered_at: Option<OffsetDateTime>,
    /// A message to a person through the operator's relay, not an event to an integrator.
    pub message: bool,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Attempt {
    pub attempt: u32,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub at: OffsetDateTime,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
    pub success: bool,
}

/// The result of one attempt, as the dispatcher saw it.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub at: OffsetDateTime,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
    pub success: bool,
}

/// `case_id` reads as the case a delivery announces, or the record, for one that announces a record.
macro_rules! delivery_columns {
    () => {
        "id, COALESCE(case_id, record_id), client_id, url, body, status, attempts, max_attempts, next_attempt_at, \
         last_error, created_at, delivered_at, message"
    };
}
const DELIVERY_COLUMNS: &str = delivery_columns!();

/// The dispatcher's query on SQLite, named so that its plan is checked (`query_plans` tests): the partial index of
/// pending deliveries, never the whole log.
pub(crate) const DUE_DELIVERIES: &str = concat!(
    "SELECT ",
    delivery_columns!(),
    " FROM webhook_deliveries INDEXED BY deliveries_due WHERE status = 'pending' AND next_attempt_at <= ?1",
    " AND client_id IN (SELECT id FROM clients WHERE revoked_at IS NULL) ORDER BY next_attempt_at, id LIMIT ?2"
);

/// The same on PostgreSQL, where instances share the outbox: rows another instance is claiming are skipped, not
/// waited for.
pub(crate) const DUE_DELIVERIES_SHARED: &str = concat!(
    "SELECT ",
    delivery_columns!(),
    " FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ?1",
    " AND client_id IN (SELECT id FROM clients WHERE revoked_at IS NULL) ORDER BY next_attempt_at, id LIMIT ?2",
    " FOR UPDATE SKIP LOCKED"
);

fn delivery_from_row(r: &Row) -> Result<Delivery> {
    let status: String = r.get(5)?;
    Ok(Delivery {
        id: r.get(0)?,
        case_id: r.get(1)?,
        client_id: r.get(2)?,
        url: r.get(3)?,
        body: r.get(4)?,
        status: DeliveryStatus::parse(&status),
        attempts: r.get(6)?,
        max_attempts: r.get(7)?,
        next_attempt_at: from_ms(r.get(8)?),
        last_error: r.get(9)?,
        created_at: from_ms(r.get(10)?),
        delivered_at: r.get::<Option<i64>>(11)?.map(from_ms),
        message: r.get(12)?,
    })
}

/// One delivery, or `NotFound`. Takes a connection so it also runs inside a transaction.
fn delivery_by_id(conn: &Conn<'_>, delivery_id: i64) -> Result<Delivery> {
    let row = conn.query_one(
        &format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?1"),
        db_params![delivery_id],
    )?;
    delivery_from_row(&row)
}

/// What a delivery announces: a case, or one of an API's own records.
enum Subject<'a> {
    Case(CaseId),
    Record { api: &'a str, id: &'a str },
}

/// Queues a delivery in the transaction of the change it announces. A message's body is sealed first.
fn insert_delivery(
    tx: &Conn<'_>,
    subject: Subject<'_>,
    d: &NewDelivery,
    sealed: Option<&DataKey>,
    at: OffsetDateTime,
) -> Result<i64> {
    let (case_id, record_api, record_id) = match subject {
        Subject::Case(case) => (Some(case.to_string()), None, None),
        Subject::Record { api, id } => (None, Some(api), Some(id)),
    };
    let body = match sealed {
        Some(key) => key.seal(&d.body, &message_aad(&d.client_id, record_id.or(case_id.as_deref()).unwrap_or(""))),
        None => Ok(d.body.clone()),
    }?;
    tx.query_one(
        "INSERT INTO webhook_deliveries (case_id, record_api, record_id, client_id, url, body, message, status, attempts, max_attempts, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', 0, ?8, ?9, ?9) RETURNING id",
        db_params![case_id, record_api, record_id, d.client_id, d.url, body, sealed.is_some(), d.max_attempts, to_ms(at)],
    )?
    .get(0)
}

/// A message's seal is bound to its client and the record it is about.
fn message_aad(client_id: &str, subject: &str) -> Vec<u8> {
    format!("vouch message\0{client_id}\0{subject}").into_bytes()
}

/// Queues a delivery that announces a case, inside the caller's transaction.
pub fn enqueue_on(tx: &Conn<'_>, case_id: CaseId, d: &NewDelivery, at: OffsetDateTime) -> Result<i64> {
    insert_delivery(tx, Subject::Case(case_id), d, None, at)
}

/// A delivery that announces one of an API's own records that is not a case (a Verifik e-mail validation, an app
/// registration), queued in the transaction that changes the record; or, as a [`RecordEvent::message`], a message
/// about it to a person through the operator's relay.
#[derive(Debug, Clone)]
pub struct RecordEvent {
    pub api: String,
    pub record_id: String,
    pub delivery: NewDelivery,
    /// A message to a person (a code, a link): its body is sealed at rest and emptied once delivered.
    message: bool,
}

impl RecordEvent {
    /// An event to the integrator's webhook.
    pub fn event(api: &str, record_id: &str, delivery: NewDelivery) -> RecordEvent {
        RecordEvent { api: api.into(), record_id: record_id.into(), delivery, message: false }
    }

    /// A message to a person through the operator's message relay (`delivery.url`).
    pub fn message(api: &str, record_id: &str, delivery: NewDelivery) -> RecordEvent {
        RecordEvent { api: api.into(), record_id: record_id.into(), delivery, message: true }
    }
}

pub(crate) fn enqueue_record_event(
    tx: &Conn<'_>,
    key: &DataKey,
    event: &RecordEvent,
    at: OffsetDateTime,
) -> Result<i64> {
    let subject = Subject::Record { api: &event.api, id: &event.record_id };
    insert_delivery(tx, subject, &event.delivery, event.message.then_some(key), at)
}

impl Store {
    /// Claims the pending deliveries whose next attempt is due, oldest first: each is pushed `lease` into the
    /// future in the same transaction, so no other dispatcher (another instance on PostgreSQL) takes it while this
    /// one sends it, and one that dies mid-send leaves it due again when the lease ends, not lost.
    pub fn claim_due_deliveries(&self, now: OffsetDateTime, limit: u32, lease: Duration) -> Result<Vec<Delivery>> {
        self.with(|conn| claim_due_deliveries(conn, now, limit, lease))
    }

    /// When the next pending delivery falls due, if any.
    pub fn next_delivery_due(&self) -> Result<Option<OffsetDateTime>> {
        self.with(next_delivery_due)
    }

    /// Logs an attempt and moves the delivery on: delivered, retried at `retry_at`, or failed when
    /// no attempts are left. One transaction.
    pub fn record_attempt(
        &self,
        delivery_id: i64,
        result: &AttemptResult,
        retry_at: OffsetDateTime,
    ) -> Result<Delivery> {
        self.with(|conn| record_attempt(conn, delivery_id, result, retry_at))
    }

    /// Puts a failed delivery back in the queue for a fresh round of attempts, due now.
    pub fn retry_delivery(&self, delivery_id: i64, rounds_attempts: u32) -> Result<Delivery> {
        self.with(|conn| retry_delivery(conn, delivery_id, rounds_attempts))
    }

    /// The API whose case (or record) a delivery announces (`eeid`, `danaconnect`, ...): it decides the signature
    /// headers.
    pub fn delivery_api(&self, delivery_id: i64) -> Result<String> {
        let row = self.with(|conn| {
            conn.query_opt(
                "SELECT COALESCE(d.record_api, c.api) FROM webhook_deliveries d LEFT JOIN cases c ON c.id = d.case_id
                 WHERE d.id = ?1",
                db_params![delivery_id],
            )
        })?;
        row.map(|r| r.get::<Option<String>>(0)).transpose()?.flatten().ok_or(StoreError::NotFound)
    }

    /// The bytes to send for `delivery`: a message's body opened with the data key, an event's as queued.
    pub fn delivery_body(&self, delivery: &Delivery) -> Result<Vec<u8>> {
        if !delivery.message {
            return Ok(delivery.body.clone());
        }
        self.key().open(&delivery.body, &message_aad(&delivery.client_id, &delivery.case_id))
    }

    pub fn get_delivery(&self, delivery_id: i64) -> Result<Delivery> {
        self.with(|conn| delivery_by_id(conn, delivery_id))
    }

    /// The delivery log, newest first, optionally for one case.
    pub fn list_deliveries(&self, case_id: Option<CaseId>, limit: u32) -> Result<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE (CAST(?1 AS TEXT) IS NULL OR case_id = ?1) ORDER BY id DESC LIMIT ?2"
        );
        let rows = self.with(|conn| conn.query(&sql, db_params![case_id.map(|c| c.to_string()), limit]))?;
        rows.iter().map(delivery_from_row).collect()
    }

    pub fn delivery_attempts(&self, delivery_id: i64) -> Result<Vec<Attempt>> {
        let rows = self.with(|conn| {
            conn.query(
                "SELECT attempt, at, http_status, error, duration_ms, success FROM webhook_attempts WHERE delivery_id = ?1 ORDER BY attempt",
                db_params![delivery_id],
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(Attempt {
                    attempt: r.get(0)?,
                    at: from_ms(r.get(1)?),
                    http_status: r.get(2)?,
                    error: r.get(3)?,
                    duration_ms: r.get::<i64>(4)?.try_into().unwrap_or(0),
                    success: r.get(5)?,
                })
            })
            .collect()
    }

    /// Deliveries still waiting to go out: the backlog reported in `/metrics`.
    pub fn outbox_backlog(&self) -> Result<u64> {
        self.with(|conn| count_with_status(conn, "pending"))
    }

    pub fn failed_deliveries(&self) -> Result<u64> {
        self.with(|conn| count_with_status(conn, "failed"))
    }
}

fn count_with_status(conn: &Conn<'_>, status: &str) -> Result<u64> {
    let n: i64 =
        conn.query_one("SELECT count(*) FROM webhook_deliveries WHERE status = ?1", db_params![status])?.get(0)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// See [`Store::claim_due_deliveries`]; on either backend.
pub fn claim_due_deliveries(
    conn: &Conn<'_>,
    now: OffsetDateTime,
    limit: u32,
    lease: Duration,
) -> Result<Vec<Delivery>> {
    let query = match conn.dialect() {
        Dialect::Sqlite => DUE_DELIVERIES,
        Dialect::Postgres => DUE_DELIVERIES_SHARED,
    };
    let until = to_ms(now + lease);
    conn.transaction(|tx| {
        let due = tx
            .query(query, db_params![to_ms(now), limit])?
            .iter()
            .map(delivery_from_row)
            .collect::<Result<Vec<_>>>()?;
        for delivery in &due {
            tx.execute(
                "UPDATE webhook_deliveries SET next_attempt_at = ?1 WHERE id = ?2",
                db_params![until, delivery.id],
            )?;
        }
        Ok(due)
    })
}

/// See [`Store::next_delivery_due`]; on either backend.
pub fn next_delivery_due(conn: &Conn<'_>) -> Result<Option<OffsetDateTime>> {
    let ms: Option<i64> = conn
        .query_one("SELECT min(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending'", db_params![])?
        .get(0)?;
    Ok(ms.map(from_ms))
}

/// See [`Store::record_attempt`]; on either backend.
pub fn record_attempt(
    conn: &Conn<'_>,
    delivery_id: i64,
    result: &AttemptResult,
    retry_at: OffsetDateTime,
) -> Result<Delivery> {
    // On PostgreSQL the row is locked until the attempt is recorded; SQLite's one writer needs no lock.
    let lock = if conn.dialect() == Dialect::Postgres { " FOR UPDATE" } else { "" };
    conn.transaction(|tx| {
        let row = tx
            .query_opt(
                &format!("SELECT attempts, max_attempts, status FROM webhook_deliveries WHERE id = ?1{lock}"),
                db_params![delivery_id],
            )?
            .ok_or(StoreError::NotFound)?;
        let (attempts, max_attempts, status): (u32, u32, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        if status != "pending" {
            return Err(StoreError::Conflict(format!("delivery {delivery_id} is already {status}")));
        }
        let attempt = attempts + 1;
        tx.execute(
            "INSERT INTO webhook_attempts (delivery_id, attempt, at, http_status, error, duration_ms, success)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            db_params![
                delivery_id,
                attempt,
                to_ms(result.at),
                result.http_status,
                result.error,
                i64::try_from(result.duration_ms).unwrap_or(i64::MAX),
                result.success
            ],
        )?;
        let (new_status, delivered_at) = if result.success {
            ("delivered", Some(to_ms(result.at)))
        } else if attempt >= max_attempts {
            ("failed", None)
        } else {
            ("pending", None)
        };
        // A message's code or link is not kept once the relay has it, or once every try failed.
        tx.execute(
            "UPDATE webhook_deliveries SET attempts = ?1, status = ?2, next_attempt_at = ?3, last_error = ?4, delivered_at = ?5,
                    body = CASE WHEN message = 1 AND ?2 <> 'pending' THEN ?7 ELSE body END
             WHERE id = ?6",
            db_params![attempt, new_status, to_ms(retry_at), result.error, delivered_at, delivery_id, Vec::<u8>::new()],
        )?;
        delivery_by_id(tx, delivery_id)
    })
}

/// See [`Store::retry_delivery`]; on either backend. A refusal says why: a revoked client, a message (not kept),
/// a purged case, or a delivery that did not fail.
pub fn retry_delivery(conn: &Conn<'_>, delivery_id: i64, rounds_attempts: u32) -> Result<Delivery> {
    let changed = conn.execute(
        "UPDATE webhook_deliveries SET status = 'pending', max_attempts = attempts + ?1, next_attempt_at = ?2
         WHERE id = ?3 AND status = 'failed' AND message = 0 AND length(body) > 0
           AND client_id IN (SELECT id FROM clients WHERE revoked_at IS NULL)",
        db_params![rounds_attempts, to_ms(crate::now()), delivery_id],
    )?;
    if changed > 0 {
        return delivery_by_id(conn, delivery_id);
    }
    let row = conn.query_opt(
        "SELECT d.status, d.message, length(d.body), c.revoked_at IS NOT NULL
         FROM webhook_deliveries d JOIN clients c ON c.id = d.client_id WHERE d.id = ?1",
        db_params![delivery_id],
    )?;
    let Some(row) = row else { return Err(StoreError::NotFound) };
    let (status, message, body_length, revoked): (String, bool, i64, bool) =
        (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
    Err(StoreError::Conflict(if revoked {
        "the client of this delivery is revoked".into()
    } else if message {
        "a message is not kept once every try failed: the person asks for a new code".into()
    } else if body_length == 0 {
        "its case was purged by retention, with what it said".into()
    } else {
        format!("only a failed delivery can be retried; this one is {status}")
    }))
}
