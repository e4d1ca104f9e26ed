//! DIS Trust Platform records: what `POST /identity/api/v1/customers/{id}/store` keeps of a customer's onboarding.
//! Each store call adds one record (a signed ZIP built by the app, kept as an encrypted blob); none is ever changed
//! or deleted (triggers refuse it, migration 0029). A customer stored as FINISHED takes no further record. Records
//! outlive the customer: its deletion leaves them, and retention purges each once it is older than the retention
//! period (its bytes go; the row and its hashes stay for the audit trail).

use serde::Serialize;
use time::OffsetDateTime;

use crate::audit;
use crate::db::{Conn, Row};
use crate::db_params;
use crate::error::{Result, StoreError};
use crate::{from_ms, to_ms, Store};

/// How a record describes the onboarding it holds (DIS `onboardingStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OnboardingStatus {
    InProgress,
    Finished,
}

impl OnboardingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OnboardingStatus::InProgress => "IN_PROGRESS",
            OnboardingStatus::Finished => "FINISHED",
        }
    }

    pub fn parse(s: &str) -> Option<OnboardingStatus> {
        match s {
            "IN_PROGRESS" => Some(OnboardingStatus::InProgress),
            "FINISHED" => Some(OnboardingStatus::Finished),
            _ => None,
        }
    }
}

/// A record to keep: `zip` is the signed record, `manifest_sha256` the hash of the manifest its signature covers.
pub struct NewTrustRecord<'a> {
    pub id: &'a str,
    pub client_id: &'a str,
    pub customer_id: &'a str,
    pub external_id: &'a str,
    pub status: OnboardingStatus,
    pub zip: &'a [u8],
    pub manifest_sha256: &'a str,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustRecord {
    pub id: String,
    pub client_id: String,
    pub customer_id: String,
    pub external_id: String,
    pub onboarding_status: OnboardingStatus,
    pub record_sha256: String,
    pub manifest_sha256: String,
    pub size_bytes: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When retention deleted the record's bytes.
    #[serde(with = "time::serde::rfc3339::option")]
    pub purged_at: Option<OffsetDateTime>,
}

/// Which records to list: one customer's, or every record under one external id.
pub enum TrustRecordFilter<'a> {
    Customer(&'a str),
    ExternalId(&'a str),
}

const COLUMNS: &str = "id, client_id, customer_id, external_id, onboarding_status, record_sha256, manifest_sha256,
                       size_bytes, created_at, purged_at";

/// The most records one listing returns.
pub const LIST_LIMIT: i64 = 500;

impl Store {
    /// Keeps the record, with a `trust_record_stored` event on the record's own audit chain, in one transaction.
    /// A conflict when the customer already has a FINISHED record.
    pub fn store_trust_record(&self, record: NewTrustRecord<'_>) -> Result<TrustRecord> {
        // The blob first: a crash before the row commits leaves an encrypted file nobody names, which the orphan
        // sweep removes; never a row naming nothing.
        let sha = self.blobs().put(record.zip)?;
        let size = i64::try_from(record.zip.len()).unwrap_or(i64::MAX);
        let key = self.audit_key();
        self.with(|conn| {
            conn.transaction(|tx| {
                tx.lock(&format!("trust:{}:{}", record.client_id, record.customer_id))?;
                if finished(tx, record.client_id, record.customer_id)? {
                    return Err(StoreError::Conflict(
                        "The customer is already stored as FINISHED; a finished onboarding record is final".into(),
                    ));
                }
                tx.execute(
                    "INSERT INTO trust_records (id, client_id, customer_id, external_id, onboarding_status,
                         record_sha256, manifest_sha256, size_bytes, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    db_params![
                        record.id,
                        record.client_id,
                        record.customer_id,
                        record.external_id,
                        record.status.as_str(),
                        sha.clone(),
                        record.manifest_sha256,
                        size,
                        to_ms(record.created_at)
                    ],
                )?;
                let detail = serde_json::json!({
                    "client_id": record.client_id, "onboarding_status": record.status.as_str(),
                    "record_sha256": sha, "manifest_sha256": record.manifest_sha256,
                });
                audit::append_event(
                    tx,
                    key,
                    &chain(record.id),
                    record.created_at,
                    record.client_id,
                    "trust_record_stored",
                    &detail,
                )?;
                get(tx, record.id)?.ok_or(StoreError::NotFound)
            })
        })
    }

    /// The record, or not found.
    pub fn trust_record(&self, id: &str) -> Result<TrustRecord> {
        self.with(|conn| get(conn, id))?.ok_or(StoreError::NotFound)
    }

    /// Records, newest first, at most [`LIST_LIMIT`].
    pub fn trust_records(&self, filter: TrustRecordFilter<'_>) -> Result<Vec<TrustRecord>> {
        let (condition, value) = match filter {
            TrustRecordFilter::Customer(id) => ("customer_id = ?1", id),
            TrustRecordFilter::ExternalId(id) => ("external_id = ?1", id),
        };
        self.with(|conn| {
            conn.query(
                &format!("SELECT {COLUMNS} FROM trust_records WHERE {condition} ORDER BY created_at DESC, id LIMIT ?2"),
                db_params![value, LIST_LIMIT],
            )?
            .iter()
            .map(row)
            .collect()
        })
    }
}

/// The audit chain of one record.
pub fn chain(record_id: &str) -> String {
    format!("trust_record:{record_id}")
}

fn finished(tx: &Conn<'_>, client_id: &str, customer_id: &str) -> Result<bool> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM trust_records WHERE client_id = ?1 AND customer_id = ?2 AND onboarding_status = 'FINISHED'",
            db_params![client_id, customer_id],
        )?
        .is_some())
}

fn get(conn: &Conn<'_>, id: &str) -> Result<Option<TrustRecord>> {
    conn.query_opt(&format!("SELECT {COLUMNS} FROM trust_records WHERE id = ?1"), db_params![id])?
        .as_ref()
        .map(row)
        .transpose()
}

fn row(r: &Row) -> Result<TrustRecord> {
    let status: String = r.get(4)?;
    let size: i64 = r.get(7)?;
    let purged: Option<i64> = r.get(9)?;
    Ok(TrustRecord {
        id: r.get(0)?,
        client_id: r.get(1)?,
        customer_id: r.get(2)?,
        external_id: r.get(3)?,
        onboarding_status: OnboardingStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("trust record status {status:?}")))?,
        record_sha256: r.get(5)?,
        manifest_sha256: r.get(6)?,
        size_bytes: u64::try_from(size).unwrap_or(0),
        created_at: from_ms(r.get(8)?),
        purged_at: purged.map(from_ms),
    })
}

/// Retention: records stored before `cutoff` lose their bytes, each with a `trust_record_purged` event. Returns the
/// blobs to delete once the transaction commits.
pub(crate) fn purge_due(
    tx: &Conn<'_>,
    audit_key: &[u8; 32],
    cutoff: OffsetDateTime,
    at: OffsetDateTime,
    actor: &str,
    batch: i64,
) -> Result<Vec<String>> {
    let due = tx.query(
        "SELECT id, record_sha256 FROM trust_records WHERE created_at < ?1 AND purged_at IS NULL LIMIT ?2",
        db_params![to_ms(cutoff), batch],
    )?;
    let mut shas = Vec::with_capacity(due.len());
    for r in &due {
        let (id, sha): (String, String) = (r.get(0)?, r.get(1)?);
        tx.execute("UPDATE trust_records SET purged_at = ?1 WHERE id = ?2", db_params![to_ms(at), id.clone()])?;
        audit::append_event(tx, audit_key, &chain(&id), at, actor, "trust_record_purged", &serde_json::json!({}))?;
        shas.push(sha);
    }
    Ok(shas)
}
