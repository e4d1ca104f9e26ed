//! DIS faces and customers. Blobs (image, template) are written before the row that names them; deleting a
//! face removes its blobs only when nothing else still names the same content.

use crate::blob_refs::blob_still_named;
use crate::db::{Conn, Row};
use crate::db_params;
use crate::error::{Result, StoreError};
use crate::{now, to_ms, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceRow {
    pub id: String,
    pub client_id: String,
    pub image_sha256: String,
    pub template_sha256: String,
    /// The detection as JSON, opaque to the store.
    pub detection: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRow {
    pub id: String,
    pub client_id: String,
    pub selfie_face_id: Option<String>,
    /// The case a kiosk runs to capture the customer, when the integrator asked for one.
    pub kiosk_capture: Option<KioskCapture>,
}

/// A DIS customer's case at the kiosks: its captures become the customer's selfie, pages and chip data once,
/// after the case is over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskCapture {
    pub case_id: String,
    /// Whether its captures were taken over already.
    pub taken: bool,
}

pub struct NewFace<'a> {
    pub id: &'a str,
    pub client_id: &'a str,
    pub image: &'a [u8],
    pub template: &'a [u8],
    pub detection: &'a str,
}

impl Store {
    fn put_face_blobs(&self, face: &NewFace<'_>) -> Result<(String, String)> {
        Ok((self.blobs().put(face.image)?, self.blobs().put(face.template)?))
    }

    /// Runs `write` in one transaction; after it commits, deletes the blobs it reports as no longer named.
    pub(crate) fn write_then_remove_blobs<T>(
        &self,
        write: impl FnOnce(&Conn<'_>) -> Result<(T, Vec<String>)>,
    ) -> Result<T> {
        let (value, orphans) = self.with(|conn| conn.transaction(write))?;
        for sha in &orphans {
            if let Err(e) = self.blobs().remove(sha) {
                tracing::warn!(error = %e, "could not delete a face blob; it stays encrypted on disk");
            }
        }
        Ok(value)
    }

    pub fn insert_face(&self, face: NewFace<'_>) -> Result<FaceRow> {
        let shas = self.put_face_blobs(&face)?;
        self.with(|conn| insert_face_row(conn, &face, &shas))
    }

    /// The face, if it exists and belongs to `client_id` (another client's face is not found).
    pub fn face(&self, client_id: &str, id: &str) -> Result<FaceRow> {
        let row = self.with(|conn| {
            conn.query_one(
                "SELECT id, client_id, image_sha256, template_sha256, detection FROM dis_faces
                 WHERE id = ?1 AND client_id = ?2",
                db_params![id, client_id],
            )
        })?;
        face_from_row(&row)
    }

    /// Deletes a face (a customer's selfie link to it is cleared in the same transaction). Idempotent.
    pub fn delete_face(&self, client_id: &str, id: &str) -> Result<()> {
        self.write_then_remove_blobs(|tx| Ok(((), delete_face_tx(tx, client_id, id)?)))
    }

    pub fn create_customer(&self, client_id: &str, id: &str) -> Result<CustomerRow> {
        let inserted = self.with(|conn| {
            conn.execute(
                "INSERT INTO dis_customers (id, client_id, created_at) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO NOTHING",
                db_params![id, client_id, to_ms(now())],
            )
        })?;
        if inserted == 0 {
            return Err(StoreError::Conflict("a customer with this id already exists".into()));
        }
        Ok(CustomerRow { id: id.into(), client_id: client_id.into(), selfie_face_id: None, kiosk_capture: None })
    }

    /// Creates a customer with the case a kiosk runs to capture it, in one transaction.
    pub fn create_customer_for_kiosk(
        &self,
        client_id: &str,
        id: &str,
        case: &vouch_core::Case,
        actor: &str,
    ) -> Result<CustomerRow> {
        let case_id = case.id.to_string();
        self.with(|conn| {
            conn.transaction(|tx| {
                let inserted = tx.execute(
                    "INSERT INTO dis_customers (id, client_id, created_at, kiosk_case_id) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(id) DO NOTHING",
                    db_params![id, client_id, to_ms(now()), case_id],
                )?;
                if inserted == 0 {
                    return Err(StoreError::Conflict("a customer with this id already exists".into()));
                }
                crate::cases::insert_case_in(tx, self.audit_key(), case, actor)
            })
        })?;
        Ok(CustomerRow {
            id: id.into(),
            client_id: client_id.into(),
            selfie_face_id: None,
            kiosk_capture: Some(KioskCapture { case_id, taken: false }),
        })
    }

    pub fn customer(&self, client_id: &str, id: &str) -> Result<CustomerRow> {
        let row = self.with(|conn| {
            conn.query_opt(
                "SELECT selfie_face_id, kiosk_case_id, kiosk_captures_taken_at FROM dis_customers
                 WHERE id = ?1 AND client_id = ?2",
                db_params![id, client_id],
            )
        })?;
        let row = row.ok_or(StoreError::NotFound)?;
        let kiosk_case: Option<String> = row.get(1)?;
        let taken_at: Option<i64> = row.get(2)?;
        Ok(CustomerRow {
            id: id.into(),
            client_id: client_id.into(),
            selfie_face_id: row.get(0)?,
            kiosk_capture: kiosk_case.map(|case_id| KioskCapture { case_id, taken: taken_at.is_some() }),
        })
    }

    /// Notes that the customer's kiosk captures were taken over; false when they already were.
    pub fn mark_kiosk_captures_taken(&self, client_id: &str, id: &str) -> Result<bool> {
        let changed = self.with(|conn| {
            conn.execute(
                "UPDATE dis_customers SET kiosk_captures_taken_at = ?1
                 WHERE id = ?2 AND client_id = ?3 AND kiosk_case_id IS NOT NULL AND kiosk_captures_taken_at IS NULL",
                db_params![to_ms(now()), id, client_id],
            )
        })?;
        Ok(changed == 1)
    }

    /// Stores a new selfie face and points the customer at it, dropping the previous selfie, in one
    /// transaction.
    pub fn set_customer_selfie(&self, client_id: &str, customer_id: &str, face: NewFace<'_>) -> Result<FaceRow> {
        // Refuse an unknown customer before writing any blob.
        self.customer(client_id, customer_id)?;
        let shas = self.put_face_blobs(&face)?;
        self.write_then_remove_blobs(|tx| {
            let previous = selfie_of(tx, client_id, customer_id)?.ok_or(StoreError::NotFound)?;
            let row = insert_face_row(tx, &face, &shas)?;
            tx.execute("UPDATE dis_customers SET selfie_face_id = ?1 WHERE id = ?2", db_params![face.id, customer_id])?;
            let orphans = match previous {
                Some(old) => delete_face_tx(tx, client_id, &old)?,
                None => Vec::new(),
            };
            Ok((row, orphans))
        })
    }

    /// Removes the customer's selfie (the face goes with it). Idempotent.
    pub fn delete_customer_selfie(&self, client_id: &str, customer_id: &str) -> Result<()> {
        self.write_then_remove_blobs(|tx| match selfie_of(tx, client_id, customer_id)?.flatten() {
            Some(face) => Ok(((), delete_face_tx(tx, client_id, &face)?)),
            None => Ok(((), Vec::new())),
        })
    }

    /// Deletes a customer, its selfie and its liveness frames. Idempotent.
    pub fn delete_customer(&self, client_id: &str, id: &str) -> Result<()> {
        self.write_then_remove_blobs(|tx| Ok(((), delete_customer_tx(tx, self.audit_key(), client_id, id)?)))
    }
}

/// Deletes the customer with its liveness, document and selfie, and returns the blobs no other row still names.
pub(crate) fn delete_customer_tx(
    tx: &Conn<'_>,
    audit_key: &[u8; 32],
    client_id: &str,
    id: &str,
) -> Result<Vec<String>> {
    let selfie = selfie_of(tx, client_id, id)?.flatten();
    cancel_kiosk_case(tx, audit_key, client_id, id)?;
    let mut orphans = crate::liveness::delete_liveness_tx(tx, client_id, id)?;
    orphans.extend(crate::documents::delete_document_tx(tx, client_id, id)?);
    tx.execute("DELETE FROM dis_customers WHERE id = ?1 AND client_id = ?2", db_params![id, client_id])?;
    if let Some(face) = selfie {
        orphans.extend(delete_face_tx(tx, client_id, &face)?);
    }
    Ok(orphans)
}

/// Cancels the case a kiosk was to run for the customer, if it is still open: no kiosk captures a deleted customer.
fn cancel_kiosk_case(tx: &Conn<'_>, audit_key: &[u8; 32], client_id: &str, id: &str) -> Result<()> {
    let case: Option<String> = tx
        .query_opt(
            "SELECT kiosk_case_id FROM dis_customers WHERE id = ?1 AND client_id = ?2",
            db_params![id, client_id],
        )?
        .map(|r| r.get(0))
        .transpose()?
        .flatten();
    let Some(case) = case else { return Ok(()) };
    let open: Option<String> = tx
        .query_opt("SELECT status FROM cases WHERE id = ?1 AND status IN ('pending', 'in_progress')", db_params![case])?
        .map(|r| r.get(0))
        .transpose()?;
    let Some(from) = open else { return Ok(()) };
    let at = now();
    tx.execute(
        "UPDATE cases SET status = 'cancelled', updated_at = ?1 WHERE id = ?2 AND status = ?3",
        db_params![to_ms(at), case, from],
    )?;
    let detail = serde_json::json!({"from": from, "to": "cancelled", "why": "the DIS customer was deleted"});
    crate::audit::append_event(tx, audit_key, &case, at, &format!("client:{client_id}"), "case_cancelled", &detail)
}

/// The customer's selfie face id: None when the customer does not exist (or is another client's),
/// `Some(None)` when it has no selfie.
fn selfie_of(conn: &Conn<'_>, client_id: &str, customer_id: &str) -> Result<Option<Option<String>>> {
    conn.query_opt(
        "SELECT selfie_face_id FROM dis_customers WHERE id = ?1 AND client_id = ?2",
        db_params![customer_id, client_id],
    )?
    .map(|r| r.get(0))
    .transpose()
}

fn face_from_row(r: &Row) -> Result<FaceRow> {
    Ok(FaceRow {
        id: r.get(0)?,
        client_id: r.get(1)?,
        image_sha256: r.get(2)?,
        template_sha256: r.get(3)?,
        detection: r.get(4)?,
    })
}

fn insert_face_row(conn: &Conn<'_>, face: &NewFace<'_>, shas: &(String, String)) -> Result<FaceRow> {
    let (image_sha256, template_sha256) = shas.clone();
    conn.execute(
        "INSERT INTO dis_faces (id, client_id, image_sha256, template_sha256, detection, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        db_params![face.id, face.client_id, image_sha256, template_sha256, face.detection, to_ms(now())],
    )?;
    Ok(FaceRow {
        id: face.id.into(),
        client_id: face.client_id.into(),
        image_sha256,
        template_sha256,
        detection: face.detection.into(),
    })
}

/// Deletes the face row and returns the blobs no other row still names.
pub(crate) fn delete_face_tx(tx: &Conn<'_>, client_id: &str, id: &str) -> Result<Vec<String>> {
    let shas = tx.query_opt(
        "SELECT image_sha256, template_sha256 FROM dis_faces WHERE id = ?1 AND client_id = ?2",
        db_params![id, client_id],
    )?;
    let Some(row) = shas else {
        return Ok(Vec::new());
    };
    let (image, template): (String, String) = (row.get(0)?, row.get(1)?);
    tx.execute("UPDATE dis_customers SET selfie_face_id = NULL WHERE selfie_face_id = ?1", db_params![id])?;
    tx.execute("DELETE FROM dis_faces WHERE id = ?1", db_params![id])?;
    let mut orphans = Vec::new();
    for sha in [image, template] {
        if !blob_still_named(tx, &sha)? && !orphans.contains(&sha) {
            orphans.push(sha);
        }
    }
    Ok(orphans)
}
