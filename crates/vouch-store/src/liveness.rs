//! DIS customer liveness: the frames a customer showed, with what each was asked to display. Frame images are
//! written as blobs before the rows that name them, and a record's frames go in with the record in one
//! transaction, so a failure leaves either the whole record or nothing.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::blob_refs::blob_still_named;
use crate::error::{Result, StoreError};
use crate::{now, to_ms, Store};

/// The most frames one customer's liveness keeps; more is a client bug or an attack on the disk.
pub const MAX_FRAMES: i64 = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRow {
    pub id: String,
    pub record_id: Option<String>,
    pub assertion: String,
    pub image_sha256: String,
    /// The face found, as JSON (opaque to the store), or None.
    pub detection: Option<String>,
    pub is_record_selfie: bool,
}

pub struct NewFrame<'a> {
    pub id: &'a str,
    pub assertion: &'a str,
    pub image: &'a [u8],
    pub detection: Option<&'a str>,
    pub is_record_selfie: bool,
}

pub struct NewRecord<'a> {
    pub id: &'a str,
    pub liveness_type: &'a str,
}

impl Store {
    /// Creates the customer's liveness if it does not exist yet. Idempotent: an existing one keeps its frames.
    pub fn create_liveness(&self, client_id: &str, customer_id: &str) -> Result<()> {
        self.customer(client_id, customer_id)?;
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO dis_liveness (customer_id, client_id, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(customer_id) DO NOTHING",
            params![customer_id, client_id, to_ms(now())],
        )?;
        Ok(())
    }

    /// Fails with NotFound unless the customer (of this client) has a liveness.
    fn require_liveness(conn: &Connection, client_id: &str, customer_id: &str) -> Result<()> {
        conn.query_row(
            "SELECT 1 FROM dis_liveness WHERE customer_id = ?1 AND client_id = ?2",
            params![customer_id, client_id],
            |_| Ok(()),
        )
        .optional()?
        .ok_or(StoreError::NotFound)
    }

    /// Removes the liveness, its records and frames. Idempotent.
    pub fn delete_liveness(&self, client_id: &str, customer_id: &str) -> Result<()> {
        self.write_then_remove_blobs(|tx| Ok(((), delete_liveness_tx(tx, client_id, customer_id)?)))
    }

    /// Stores the eye-gaze corners the next record must follow (JSON array).
    pub fn set_liveness_challenge(&self, client_id: &str, customer_id: &str, corners_json: &str) -> Result<()> {
        let conn = self.conn()?;
        Self::require_liveness(&conn, client_id, customer_id)?;
        conn.execute(
            "UPDATE dis_liveness SET challenge = ?1 WHERE customer_id = ?2",
            params![corners_json, customer_id],
        )?;
        Ok(())
    }

    pub fn liveness_challenge(&self, client_id: &str, customer_id: &str) -> Result<Option<String>> {
        let conn = self.conn()?;
        Self::require_liveness(&conn, client_id, customer_id)?;
        Ok(conn.query_row("SELECT challenge FROM dis_liveness WHERE customer_id = ?1", [customer_id], |r| r.get(0))?)
    }

    /// Adds frames (with their record, when they came as one) in one transaction. A record consumes the
    /// challenge it followed.
    pub fn add_liveness_frames(
        &self,
        client_id: &str,
        customer_id: &str,
        record: Option<NewRecord<'_>>,
        frames: &[NewFrame<'_>],
    ) -> Result<()> {
        {
            // Checked before any blob is written (and again in the transaction), so a refusal leaves no file.
            let conn = self.conn()?;
            Self::require_liveness(&conn, client_id, customer_id)?;
            check_room(&conn, customer_id, frames.len())?;
        }
        let shas = frames.iter().map(|f| self.blobs().put(f.image)).collect::<Result<Vec<_>>>()?;
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let next_seq = check_room(&tx, customer_id, frames.len())?;
        let created = to_ms(now());
        if let Some(r) = &record {
            tx.execute(
                "INSERT INTO dis_liveness_records (id, customer_id, liveness_type, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![r.id, customer_id, r.liveness_type, created],
            )?;
            tx.execute("UPDATE dis_liveness SET challenge = NULL WHERE customer_id = ?1", [customer_id])?;
        }
        for (i, (frame, sha)) in frames.iter().zip(&shas).enumerate() {
            tx.execute(
                "INSERT INTO dis_liveness_frames
                 (id, customer_id, record_id, assertion, seq, image_sha256, detection, is_record_selfie, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    frame.id,
                    customer_id,
                    record.as_ref().map(|r| r.id),
                    frame.assertion,
                    next_seq + i as i64,
                    sha,
                    frame.detection,
                    frame.is_record_selfie,
                    created
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// All frames of the customer's liveness in capture order.
    pub fn liveness_frames(&self, client_id: &str, customer_id: &str) -> Result<Vec<FrameRow>> {
        let conn = self.conn()?;
        Self::require_liveness(&conn, client_id, customer_id)?;
        let mut stmt = conn.prepare(
            "SELECT id, record_id, assertion, image_sha256, detection, is_record_selfie
             FROM dis_liveness_frames WHERE customer_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([customer_id], |r| {
            Ok(FrameRow {
                id: r.get(0)?,
                record_id: r.get(1)?,
                assertion: r.get(2)?,
                image_sha256: r.get(3)?,
                detection: r.get(4)?,
                is_record_selfie: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

/// Refuses frames beyond [`MAX_FRAMES`]; otherwise returns the next sequence number.
fn check_room(conn: &Connection, customer_id: &str, adding: usize) -> Result<i64> {
    let (count, next_seq): (i64, i64) = conn.query_row(
        "SELECT count(*), coalesce(max(seq), 0) + 1 FROM dis_liveness_frames WHERE customer_id = ?1",
        [customer_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if count + adding as i64 > MAX_FRAMES {
        return Err(StoreError::Invalid(format!(
            "a customer's liveness keeps at most {MAX_FRAMES} frames; delete the liveness to start again"
        )));
    }
    Ok(next_seq)
}

/// Deletes the customer's liveness rows and returns the blobs nothing names any more.
pub(crate) fn delete_liveness_tx(tx: &Transaction<'_>, client_id: &str, customer_id: &str) -> Result<Vec<String>> {
    let owned: Option<()> = tx
        .query_row(
            "SELECT 1 FROM dis_liveness WHERE customer_id = ?1 AND client_id = ?2",
            params![customer_id, client_id],
            |_| Ok(()),
        )
        .optional()?;
    if owned.is_none() {
        return Ok(Vec::new());
    }
    let shas: Vec<String> = {
        let mut stmt = tx.prepare("SELECT DISTINCT image_sha256 FROM dis_liveness_frames WHERE customer_id = ?1")?;
        let rows = stmt.query_map([customer_id], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    tx.execute("DELETE FROM dis_liveness_frames WHERE customer_id = ?1", [customer_id])?;
    tx.execute("DELETE FROM dis_liveness_records WHERE customer_id = ?1", [customer_id])?;
    tx.execute("DELETE FROM dis_liveness WHERE customer_id = ?1", [customer_id])?;
    let mut orphans = Vec::new();
    for sha in shas {
        if !blob_still_named(tx, &sha)? {
            orphans.push(sha);
        }
    }
    Ok(orphans)
}
