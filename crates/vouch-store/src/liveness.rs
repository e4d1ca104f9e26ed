//! DIS customer liveness: the frames a customer showed, with what each was asked to display. Frame images are
//! written as blobs before the rows that name them, and a record's frames go in with the record in one
//! transaction, so a failure leaves either the whole record or nothing.

use crate::blob_refs::blob_still_named;
use crate::db::Conn;
use crate::db_params;
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
        self.with(|conn| {
            conn.execute(
                "INSERT INTO dis_liveness (customer_id, client_id, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(customer_id) DO NOTHING",
                db_params![customer_id, client_id, to_ms(now())],
            )
        })?;
        Ok(())
    }

    /// Fails with NotFound unless the customer (of this client) has a liveness.
    fn require_liveness(conn: &Conn<'_>, client_id: &str, customer_id: &str) -> Result<()> {
        conn.query_one(
            "SELECT 1 FROM dis_liveness WHERE customer_id = ?1 AND client_id = ?2",
            db_params![customer_id, client_id],
        )
        .map(|_| ())
    }

    /// Removes the liveness, its records and frames. Idempotent.
    pub fn delete_liveness(&self, client_id: &str, customer_id: &str) -> Result<()> {
        self.write_then_remove_blobs(|tx| Ok(((), delete_liveness_tx(tx, client_id, customer_id)?)))
    }

    /// Stores the eye-gaze corners the next record must follow (JSON array).
    pub fn set_liveness_challenge(&self, client_id: &str, customer_id: &str, corners_json: &str) -> Result<()> {
        self.with(|conn| {
            Self::require_liveness(conn, client_id, customer_id)?;
            conn.execute(
                "UPDATE dis_liveness SET challenge = ?1 WHERE customer_id = ?2",
                db_params![corners_json, customer_id],
            )
        })?;
        Ok(())
    }

    pub fn liveness_challenge(&self, client_id: &str, customer_id: &str) -> Result<Option<String>> {
        self.with(|conn| {
            Self::require_liveness(conn, client_id, customer_id)?;
            conn.query_one("SELECT challenge FROM dis_liveness WHERE customer_id = ?1", db_params![customer_id])?.get(0)
        })
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
        // Checked before any blob is written (and again in the transaction), so a refusal leaves no file.
        self.with(|conn| {
            Self::require_liveness(conn, client_id, customer_id)?;
            check_room(conn, customer_id, frames.len()).map(|_| ())
        })?;
        let shas = frames.iter().map(|f| self.blobs().put(f.image)).collect::<Result<Vec<_>>>()?;
        self.with(|conn| {
            conn.transaction(|tx| {
                // Frames of one customer are numbered one after another, whichever instance adds them.
                tx.lock(&format!("liveness:{customer_id}"))?;
                let next_seq = check_room(tx, customer_id, frames.len())?;
                let created = to_ms(now());
                if let Some(r) = &record {
                    tx.execute(
                        "INSERT INTO dis_liveness_records (id, customer_id, liveness_type, created_at) VALUES (?1, ?2, ?3, ?4)",
                        db_params![r.id, customer_id, r.liveness_type, created],
                    )?;
                    tx.execute("UPDATE dis_liveness SET challenge = NULL WHERE customer_id = ?1", db_params![customer_id])?;
                }
                for (i, (frame, sha)) in frames.iter().zip(&shas).enumerate() {
                    tx.execute(
                        "INSERT INTO dis_liveness_frames
                         (id, customer_id, record_id, assertion, seq, image_sha256, detection, is_record_selfie, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        db_params![
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
                Ok(())
            })
        })
    }

    /// All frames of the customer's liveness in capture order.
    pub fn liveness_frames(&self, client_id: &str, customer_id: &str) -> Result<Vec<FrameRow>> {
        let rows = self.with(|conn| {
            Self::require_liveness(conn, client_id, customer_id)?;
            conn.query(
                "SELECT id, record_id, assertion, image_sha256, detection, is_record_selfie
                 FROM dis_liveness_frames WHERE customer_id = ?1 ORDER BY seq",
                db_params![customer_id],
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(FrameRow {
                    id: r.get(0)?,
                    record_id: r.get(1)?,
                    assertion: r.get(2)?,
                    image_sha256: r.get(3)?,
                    detection: r.get(4)?,
                    is_record_selfie: r.get(5)?,
                })
            })
            .collect()
    }
}

/// Refuses frames beyond [`MAX_FRAMES`]; otherwise returns the next sequence number.
fn check_room(conn: &Conn<'_>, customer_id: &str, adding: usize) -> Result<i64> {
    let row = conn.query_one(
        "SELECT count(*), coalesce(max(seq), 0) + 1 FROM dis_liveness_frames WHERE customer_id = ?1",
        db_params![customer_id],
    )?;
    let (count, next_seq): (i64, i64) = (row.get(0)?, row.get(1)?);
    if count + adding as i64 > MAX_FRAMES {
        return Err(StoreError::Invalid(format!(
            "a customer's liveness keeps at most {MAX_FRAMES} frames; delete the liveness to start again"
        )));
    }
    Ok(next_seq)
}

/// Deletes the customer's liveness rows and returns the blobs nothing names any more.
pub(crate) fn delete_liveness_tx(tx: &Conn<'_>, client_id: &str, customer_id: &str) -> Result<Vec<String>> {
    let owned = tx.query_opt(
        "SELECT 1 FROM dis_liveness WHERE customer_id = ?1 AND client_id = ?2",
        db_params![customer_id, client_id],
    )?;
    if owned.is_none() {
        return Ok(Vec::new());
    }
    let shas = tx
        .query("SELECT DISTINCT image_sha256 FROM dis_liveness_frames WHERE customer_id = ?1", db_params![customer_id])?
        .iter()
        .map(|r| r.get::<String>(0))
        .collect::<Result<Vec<_>>>()?;
    tx.execute("DELETE FROM dis_liveness_frames WHERE customer_id = ?1", db_params![customer_id])?;
    tx.execute("DELETE FROM dis_liveness_records WHERE customer_id = ?1", db_params![customer_id])?;
    tx.execute("DELETE FROM dis_liveness WHERE customer_id = ?1", db_params![customer_id])?;
    let mut orphans = Vec::new();
    for sha in shas {
        if !blob_still_named(tx, &sha)? {
            orphans.push(sha);
        }
    }
    Ok(orphans)
}
