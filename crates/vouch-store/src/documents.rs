//! A DIS customer's document: for now its chip data and the inspection of it, and the active
//! authentication challenge issued for the next upload. The chip data blob is written before the row that
//! names it; replacing or deleting it removes the old blob once nothing names it.

use rusqlite::{params, OptionalExtension, Transaction};

use crate::error::Result;
use crate::faces::blob_still_named;
use crate::{now, to_ms, Store};

/// The stored chip data of a customer's document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipRecord {
    pub data: Vec<u8>,
    /// JSON, as the caller stored it.
    pub inspection: String,
}

impl Store {
    /// Issues an active authentication challenge for the customer's next chip data, creating the document.
    pub fn set_chip_challenge(&self, client_id: &str, customer_id: &str, challenge: &[u8]) -> Result<()> {
        self.customer(client_id, customer_id)?;
        let conn = self.conn()?;
        let at = to_ms(now());
        conn.execute(
            "INSERT INTO dis_documents (customer_id, client_id, chip_challenge, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT(customer_id) DO UPDATE SET chip_challenge = ?3, updated_at = ?4",
            params![customer_id, client_id, challenge, at],
        )?;
        Ok(())
    }

    /// The challenge issued and not used yet.
    pub fn chip_challenge(&self, client_id: &str, customer_id: &str) -> Result<Option<Vec<u8>>> {
        self.customer(client_id, customer_id)?;
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                "SELECT chip_challenge FROM dis_documents WHERE customer_id = ?1 AND client_id = ?2",
                params![customer_id, client_id],
                |r| r.get::<_, Option<Vec<u8>>>(0),
            )
            .optional()?
            .flatten())
    }

    /// Stores the chip data and its inspection, replacing earlier chip data, and uses up the challenge: in one
    /// transaction, so a crash leaves either the old record or the new one.
    pub fn set_chip_data(&self, client_id: &str, customer_id: &str, data: &[u8], inspection: &str) -> Result<()> {
        self.customer(client_id, customer_id)?;
        let sha = self.blobs().put(data)?;
        self.write_then_remove_blobs(|tx| {
            let previous: Option<String> = tx
                .query_row(
                    "SELECT chip_data_sha256 FROM dis_documents WHERE customer_id = ?1 AND client_id = ?2",
                    params![customer_id, client_id],
                    |r| r.get(0),
                )
                .optional()?
                .flatten();
            let at = to_ms(now());
            tx.execute(
                "INSERT INTO dis_documents
                     (customer_id, client_id, chip_challenge, chip_data_sha256, chip_inspection, created_at, updated_at)
                 VALUES (?1, ?2, NULL, ?3, ?4, ?5, ?5)
                 ON CONFLICT(customer_id) DO UPDATE
                     SET chip_challenge = NULL, chip_data_sha256 = ?3, chip_inspection = ?4, updated_at = ?5",
                params![customer_id, client_id, sha, inspection, at],
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
        let row: Option<(String, String)> = {
            let conn = self.conn()?;
            conn.query_row(
                "SELECT chip_data_sha256, chip_inspection FROM dis_documents
                 WHERE customer_id = ?1 AND client_id = ?2 AND chip_data_sha256 IS NOT NULL",
                params![customer_id, client_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
        };
        match row {
            None => Ok(None),
            Some((sha, inspection)) => Ok(Some(ChipRecord { data: self.blobs().get(&sha)?, inspection })),
        }
    }

    /// Whether the customer has a document (a challenge was issued or chip data uploaded).
    pub fn has_document(&self, client_id: &str, customer_id: &str) -> Result<bool> {
        self.customer(client_id, customer_id)?;
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                "SELECT 1 FROM dis_documents WHERE customer_id = ?1 AND client_id = ?2",
                params![customer_id, client_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Deletes the customer's document and its chip data. Idempotent; an unknown customer is not found.
    pub fn delete_document(&self, client_id: &str, customer_id: &str) -> Result<()> {
        self.customer(client_id, customer_id)?;
        self.write_then_remove_blobs(|tx| Ok(((), delete_document_tx(tx, client_id, customer_id)?)))
    }
}

/// Deletes the document row and returns the blobs no other row still names.
pub(crate) fn delete_document_tx(tx: &Transaction<'_>, client_id: &str, customer_id: &str) -> Result<Vec<String>> {
    let sha: Option<Option<String>> = tx
        .query_row(
            "SELECT chip_data_sha256 FROM dis_documents WHERE customer_id = ?1 AND client_id = ?2",
            params![customer_id, client_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(sha) = sha else {
        return Ok(Vec::new());
    };
    tx.execute("DELETE FROM dis_documents WHERE customer_id = ?1", [customer_id])?;
    match sha {
        Some(sha) if !blob_still_named(tx, &sha)? => Ok(vec![sha]),
        _ => Ok(Vec::new()),
    }
}
