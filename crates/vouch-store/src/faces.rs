//! DIS faces and customers. Blobs (image, template) are written before the row that names them; deleting a
//! face removes its blobs only when nothing else still names the same content.

use rusqlite::{params, OptionalExtension, Transaction};

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

    pub fn insert_face(&self, face: NewFace<'_>) -> Result<FaceRow> {
        let (image_sha256, template_sha256) = self.put_face_blobs(&face)?;
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO dis_faces (id, client_id, image_sha256, template_sha256, detection, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![face.id, face.client_id, image_sha256, template_sha256, face.detection, to_ms(now())],
        )?;
        Ok(FaceRow {
            id: face.id.into(),
            client_id: face.client_id.into(),
            image_sha256,
            template_sha256,
            detection: face.detection.into(),
        })
    }

    /// The face, if it exists and belongs to `client_id` (another client's face is not found).
    pub fn face(&self, client_id: &str, id: &str) -> Result<FaceRow> {
        let conn = self.conn()?;
        conn.query_row(
            "SELECT id, client_id, image_sha256, template_sha256, detection FROM dis_faces
             WHERE id = ?1 AND client_id = ?2",
            params![id, client_id],
            |r| {
                Ok(FaceRow {
                    id: r.get(0)?,
                    client_id: r.get(1)?,
                    image_sha256: r.get(2)?,
                    template_sha256: r.get(3)?,
                    detection: r.get(4)?,
                })
            },
        )
        .optional()?
        .ok_or(StoreError::NotFound)
    }

    /// Deletes a face (a customer's selfie link to it is cleared in the same transaction). Idempotent.
    pub fn delete_face(&self, client_id: &str, id: &str) -> Result<()> {
        let orphans = {
            let mut conn = self.conn()?;
            let tx = conn.transaction()?;
            let orphans = delete_face_tx(&tx, client_id, id)?;
            tx.commit()?;
            orphans
        };
        self.remove_blobs(&orphans);
        Ok(())
    }

    fn remove_blobs(&self, shas: &[String]) {
        for sha in shas {
            if let Err(e) = self.blobs().remove(sha) {
                tracing::warn!(error = %e, "could not delete a face blob; it stays encrypted on disk");
            }
        }
    }

    pub fn create_customer(&self, client_id: &str, id: &str) -> Result<CustomerRow> {
        let conn = self.conn()?;
        let inserted = conn.execute(
            "INSERT INTO dis_customers (id, client_id, created_at) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO NOTHING",
            params![id, client_id, to_ms(now())],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict("a customer with this id already exists".into()));
        }
        Ok(CustomerRow { id: id.into(), client_id: client_id.into(), selfie_face_id: None })
    }

    pub fn customer(&self, client_id: &str, id: &str) -> Result<CustomerRow> {
        let conn = self.conn()?;
        conn.query_row(
            "SELECT id, client_id, selfie_face_id FROM dis_customers WHERE id = ?1 AND client_id = ?2",
            params![id, client_id],
            |r| Ok(CustomerRow { id: r.get(0)?, client_id: r.get(1)?, selfie_face_id: r.get(2)? }),
        )
        .optional()?
        .ok_or(StoreError::NotFound)
    }

    /// Stores a new selfie face and points the customer at it, dropping the previous selfie, in one
    /// transaction.
    pub fn set_customer_selfie(&self, client_id: &str, customer_id: &str, face: NewFace<'_>) -> Result<FaceRow> {
        // Refuse an unknown customer before writing any blob.
        self.customer(client_id, customer_id)?;
        let (image_sha256, template_sha256) = self.put_face_blobs(&face)?;
        let orphans = {
            let mut conn = self.conn()?;
            let tx = conn.transaction()?;
            let previous: Option<Option<String>> = tx
                .query_row(
                    "SELECT selfie_face_id FROM dis_customers WHERE id = ?1 AND client_id = ?2",
                    params![customer_id, client_id],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(previous) = previous else {
                return Err(StoreError::NotFound);
            };
            tx.execute(
                "INSERT INTO dis_faces (id, client_id, image_sha256, template_sha256, detection, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![face.id, client_id, image_sha256, template_sha256, face.detection, to_ms(now())],
            )?;
            tx.execute("UPDATE dis_customers SET selfie_face_id = ?1 WHERE id = ?2", params![face.id, customer_id])?;
            let orphans = match previous {
                Some(old) => delete_face_tx(&tx, client_id, &old)?,
                None => Vec::new(),
            };
            tx.commit()?;
            orphans
        };
        self.remove_blobs(&orphans);
        Ok(FaceRow {
            id: face.id.into(),
            client_id: client_id.into(),
            image_sha256,
            template_sha256,
            detection: face.detection.into(),
        })
    }

    /// Removes the customer's selfie (the face goes with it). Idempotent.
    pub fn delete_customer_selfie(&self, client_id: &str, customer_id: &str) -> Result<()> {
        let orphans = {
            let mut conn = self.conn()?;
            let tx = conn.transaction()?;
            let selfie: Option<Option<String>> = tx
                .query_row(
                    "SELECT selfie_face_id FROM dis_customers WHERE id = ?1 AND client_id = ?2",
                    params![customer_id, client_id],
                    |r| r.get(0),
                )
                .optional()?;
            let orphans = match selfie.flatten() {
                Some(face) => delete_face_tx(&tx, client_id, &face)?,
                None => Vec::new(),
            };
            tx.commit()?;
            orphans
        };
        self.remove_blobs(&orphans);
        Ok(())
    }

    /// Deletes a customer and its selfie. Idempotent.
    pub fn delete_customer(&self, client_id: &str, id: &str) -> Result<()> {
        let orphans = {
            let mut conn = self.conn()?;
            let tx = conn.transaction()?;
            let selfie: Option<Option<String>> = tx
                .query_row(
                    "SELECT selfie_face_id FROM dis_customers WHERE id = ?1 AND client_id = ?2",
                    params![id, client_id],
                    |r| r.get(0),
                )
                .optional()?;
            tx.execute("DELETE FROM dis_customers WHERE id = ?1 AND client_id = ?2", params![id, client_id])?;
            let orphans = match selfie.flatten() {
                Some(face) => delete_face_tx(&tx, client_id, &face)?,
                None => Vec::new(),
            };
            tx.commit()?;
            orphans
        };
        self.remove_blobs(&orphans);
        Ok(())
    }
}

/// Deletes the face row and returns the blobs no other row still names.
fn delete_face_tx(tx: &Transaction<'_>, client_id: &str, id: &str) -> Result<Vec<String>> {
    let shas: Option<(String, String)> = tx
        .query_row(
            "SELECT image_sha256, template_sha256 FROM dis_faces WHERE id = ?1 AND client_id = ?2",
            params![id, client_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((image, template)) = shas else {
        return Ok(Vec::new());
    };
    tx.execute("UPDATE dis_customers SET selfie_face_id = NULL WHERE selfie_face_id = ?1", [id])?;
    tx.execute("DELETE FROM dis_faces WHERE id = ?1", [id])?;
    let mut orphans = Vec::new();
    for sha in [image, template] {
        let still_used: i64 = tx.query_row(
            "SELECT (SELECT count(*) FROM dis_faces WHERE image_sha256 = ?1 OR template_sha256 = ?1)
                  + (SELECT count(*) FROM evidence WHERE sha256 = ?1)",
            [&sha],
            |r| r.get(0),
        )?;
        if still_used == 0 && !orphans.contains(&sha) {
            orphans.push(sha);
        }
    }
    Ok(orphans)
}
