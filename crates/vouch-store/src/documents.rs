//! A DIS customer's document: the request that created it, its photographed pages, its chip data and the
//! inspection of it, and the active authentication challenge issued for the next upload. Blobs are written
//! before the rows that name them; replacing or deleting a row removes its old blobs once nothing names them.

use crate::blob_refs::blob_still_named;
use crate::db::Conn;
use crate::db_params;
use crate::error::Result;
use crate::{now, to_ms, Store};

/// The stored chip data of a customer's document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipRecord {
    pub data: Vec<u8>,
    /// JSON, as the caller stored it.
    pub inspection: String,
}

/// A photographed page to store: the flattened page, its portrait crop and the reading (JSON), each an
/// encrypted blob, and what classifies it.
pub struct NewPage<'a> {
    pub page_type: &'a str,
    pub document_type: &'a str,
    pub mrz_format: Option<&'a str>,
    pub image: &'a [u8],
    pub portrait: Option<&'a [u8]>,
    pub reading: &'a [u8],
}

/// A stored page, blobs named by sha256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRow {
    pub page_type: String,
    pub document_type: String,
    pub mrz_format: Option<String>,
    pub image_sha256: String,
    pub portrait_sha256: Option<String>,
    pub reading_sha256: String,
}

impl Store {
    /// Creates the customer's document from PUT /document (its advice and sources as JSON), replacing any
    /// earlier one with its pages and chip data: in one transaction.
    pub fn create_document(&self, client_id: &str, customer_id: &str, request: &str) -> Result<()> {
        self.customer(client_id, customer_id)?;
        self.write_then_remove_blobs(|tx| {
            let orphans = delete_document_tx(tx, client_id, customer_id)?;
            let at = to_ms(now());
            tx.execute(
                "INSERT INTO dis_documents (customer_id, client_id, document_request, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                db_params![customer_id, client_id, request, at],
            )?;
            Ok(((), orphans))
        })
    }

    /// PUT /document's request as stored, `None` when the customer has no document created that way.
    pub fn document_request(&self, client_id: &str, customer_id: &str) -> Result<Option<String>> {
        self.customer(client_id, customer_id)?;
        let row = self.with(|conn| {
            conn.query_opt(
                "SELECT document_request FROM dis_documents WHERE customer_id = ?1 AND client_id = ?2",
                db_params![customer_id, client_id],
            )
        })?;
        Ok(row.map(|r| r.get::<Option<String>>(0)).transpose()?.flatten())
    }

    /// Stores a page, replacing the customer's earlier page of the same type, in one transaction. The
    /// document must exist.
    pub fn put_page(&self, client_id: &str, customer_id: &str, page: NewPage<'_>) -> Result<()> {
        self.customer(client_id, customer_id)?;
        let image = self.blobs().put(page.image)?;
        let portrait = page.portrait.map(|p| self.blobs().put(p)).transpose()?;
        let reading = self.blobs().put(page.reading)?;
        self.write_then_remove_blobs(|tx| {
            let exists = tx.query_opt(
                "SELECT 1 FROM dis_documents WHERE customer_id = ?1 AND client_id = ?2",
                db_params![customer_id, client_id],
            )?;
            if exists.is_none() {
                return Err(crate::StoreError::NotFound);
            }
            let previous = page_blobs(tx, customer_id, Some(page.page_type))?;
            tx.execute(
                "DELETE FROM dis_document_pages WHERE customer_id = ?1 AND page_type = ?2",
                db_params![customer_id, page.page_type],
            )?;
            tx.execute(
                "INSERT INTO dis_document_pages (customer_id, page_type, document_type, mrz_format, image_sha256,
                     portrait_sha256, reading_sha256, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                db_params![
                    customer_id,
                    page.page_type,
                    page.document_type,
                    page.mrz_format,
                    image,
                    portrait,
                    reading,
                    to_ms(now())
                ],
            )?;
            tx.execute(
                "UPDATE dis_documents SET updated_at = ?2 WHERE customer_id = ?1",
                db_params![customer_id, to_ms(now())],
            )?;
            let mut orphans = Vec::new();
            for sha in previous {
                if !blob_still_named(tx, &sha)? {
                    orphans.push(sha);
                }
            }
            Ok(((), orphans))
        })
    }

    /// The customer's pages in the order they were put (rowid: two puts can share a millisecond); an unknown
    /// customer is not found.
    pub fn pages(&self, client_id: &str, customer_id: &str) -> Result<Vec<PageRow>> {
        self.customer(client_id, customer_id)?;
        let rows = self.with(|conn| {
            conn.query(
                "SELECT p.page_type, p.document_type, p.mrz_format, p.image_sha256, p.portrait_sha256, p.reading_sha256
                 FROM dis_document_pages p JOIN dis_documents d ON d.customer_id = p.customer_id
                 WHERE p.customer_id = ?1 AND d.client_id = ?2 ORDER BY p.rowid",
                db_params![customer_id, client_id],
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(PageRow {
                    page_type: r.get(0)?,
                    document_type: r.get(1)?,
                    mrz_format: r.get(2)?,
                    image_sha256: r.get(3)?,
                    portrait_sha256: r.get(4)?,
                    reading_sha256: r.get(5)?,
                })
            })
            .collect()
    }

    /// Issues an active authentication challenge for the customer's next chip data, creating the document.
    pub fn set_chip_challenge(&self, client_id: &str, customer_id: &str, challenge: &[u8]) -> Result<()> {
        self.customer(client_id, customer_id)?;
        let at = to_ms(now());
        self.with(|conn| {
            conn.execute(
                "INSERT INTO dis_documents (customer_id, client_id, chip_challenge, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT(customer_id) DO UPDATE SET chip_challenge = ?3, updated_at = ?4",
                db_params![customer_id, client_id, challenge, at],
            )
        })?;
        Ok(())
    }

    /// The challenge issued and not used yet.
    pub fn chip_challenge(&self, client_id: &str, customer_id: &str) -> Result<Option<Vec<u8>>> {
        self.customer(client_id, customer_id)?;
        let row = self.with(|conn| {
            conn.query_opt(
                "SELECT chip_challenge FROM dis_documents WHERE customer_id = ?1 AND client_id = ?2",
                db_params![customer_id, client_id],
            )
        })?;
        Ok(row.map(|r| r.get::<Option<Vec<u8>>>(0)).transpose()?.flatten())
    }

    /// Stores the chip data and its inspection, replacing earlier chip data, and uses up the challenge: in one
    /// transaction, so a crash leaves either the old record or the new one.
    pub fn set_chip_data(&self, client_id: &str, customer_id: &str, data: &[u8], inspection: &str) -> Result<()> {
        self.customer(client_id, customer_id)?;
        let sha = self.blobs().put(data)?;
        self.write_then_remove_blobs(|tx| {
            let previous: Option<String> = tx
                .query_opt(
                    "SELECT chip_data_sha256 FROM dis_documents WHERE customer_id = ?1 AND client_id = ?2",
                    db_params![customer_id, client_id],
                )?
                .map(|r| r.get::<Option<String>>(0))
                .transpose()?
                .flatten();
            let at = to_ms(now());
            tx.execute(
                "INSERT INTO dis_documents
                     (customer_id, client_id, chip_challenge, chip_data_sha256, chip_inspection, created_at, updated_at)
                 VALUES (?1, ?2, NULL, ?3, ?4, ?5, ?5)
                 ON CONFLICT(customer_id) DO UPDATE
                     SET chip_challenge = NULL, chip_data_sha256 = ?3, chip_inspection = ?4, updated_at = ?5",
                db_params![customer_id, client_id, sha, inspection, at],
            )?;
            let orphans = match previous {
                Some(old) if old != sha && !blob_still_named(tx, &old)? => vec![old],
                _ => Vec::new(),
            };
            Ok(((), orphans))
        })
    }

    /// The customer's chip data, if any was uploaded; an unknown customer is not found.
    pub fn chip_record(&self, client_id: &str, customer_id: &str) -> Result<Option<ChipRecord>> {
        self.customer(client_id, customer_id)?;
        let row = self.with(|conn| {
            conn.query_opt(
                "SELECT chip_data_sha256, chip_inspection FROM dis_documents
                 WHERE customer_id = ?1 AND client_id = ?2 AND chip_data_sha256 IS NOT NULL",
                db_params![customer_id, client_id],
            )
        })?;
        match row {
            None => Ok(None),
            Some(r) => {
                let (sha, inspection): (String, String) = (r.get(0)?, r.get(1)?);
                Ok(Some(ChipRecord { data: self.blobs().get(&sha)?, inspection }))
            }
        }
    }

    /// Whether the customer has a document (a challenge was issued or chip data uploaded).
    pub fn has_document(&self, client_id: &str, customer_id: &str) -> Result<bool> {
        self.customer(client_id, customer_id)?;
        let row = self.with(|conn| {
            conn.query_opt(
                "SELECT 1 FROM dis_documents WHERE customer_id = ?1 AND client_id = ?2",
                db_params![customer_id, client_id],
            )
        })?;
        Ok(row.is_some())
    }

    /// Deletes the customer's document and its chip data. Idempotent; an unknown customer is not found.
    pub fn delete_document(&self, client_id: &str, customer_id: &str) -> Result<()> {
        self.customer(client_id, customer_id)?;
        self.write_then_remove_blobs(|tx| Ok(((), delete_document_tx(tx, client_id, customer_id)?)))
    }
}

/// The blobs of the customer's pages (of one type, or all).
fn page_blobs(tx: &Conn<'_>, customer_id: &str, page_type: Option<&str>) -> Result<Vec<String>> {
    let rows = tx.query(
        "SELECT image_sha256, portrait_sha256, reading_sha256 FROM dis_document_pages
         WHERE customer_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR page_type = ?2)",
        db_params![customer_id, page_type],
    )?;
    let mut out = Vec::new();
    for r in rows {
        for index in 0..3 {
            out.extend(r.get::<Option<String>>(index)?);
        }
    }
    Ok(out)
}

/// Deletes the document row and its pages and returns the blobs no other row still names.
pub(crate) fn delete_document_tx(tx: &Conn<'_>, client_id: &str, customer_id: &str) -> Result<Vec<String>> {
    let owned = tx.query_opt(
        "SELECT 1 FROM dis_documents WHERE customer_id = ?1 AND client_id = ?2",
        db_params![customer_id, client_id],
    )?;
    if owned.is_none() {
        return Ok(Vec::new());
    }
    let pages = page_blobs(tx, customer_id, None)?;
    tx.execute("DELETE FROM dis_document_pages WHERE customer_id = ?1", db_params![customer_id])?;
    let mut orphans = Vec::new();
    for sha in pages {
        if !orphans.contains(&sha) && !blob_still_named(tx, &sha)? {
            orphans.push(sha);
        }
    }
    let sha: Option<String> = tx
        .query_opt(
            "SELECT chip_data_sha256 FROM dis_documents WHERE customer_id = ?1 AND client_id = ?2",
            db_params![customer_id, client_id],
        )?
        .map(|r| r.get::<Option<String>>(0))
        .transpose()?
        .flatten();
    tx.execute("DELETE FROM dis_documents WHERE customer_id = ?1", db_params![customer_id])?;
    if let Some(sha) = sha {
        if !blob_still_named(tx, &sha)? {
            orphans.push(sha);
        }
    }
    Ok(orphans)
}
