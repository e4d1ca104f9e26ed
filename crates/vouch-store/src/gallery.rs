//! The 1:N gallery's templates: sealed rows, each in a collection and of a subject. Enrolling a subject's
//! templates, or removing them, is one transaction.

use crate::db::Conn;
use crate::db_params;
use crate::error::{Result, StoreError};
use crate::{now, to_ms, Store};

/// One stored template, opened. The template's encoding is the face engine's, opaque to the store.
#[derive(Debug, Clone, PartialEq)]
pub struct GalleryTemplate {
    pub key: u64,
    pub collection: String,
    pub subject: String,
    pub template: Vec<u8>,
}

fn aad(key: i64) -> Vec<u8> {
    format!("gallery-template:{key}").into_bytes()
}

/// Inserts a template row and seals the template bound to the key it was given; the key.
pub(crate) fn insert_sealed_template(
    tx: &Conn<'_>,
    key: &crate::keys::DataKey,
    collection: &str,
    subject: &str,
    template: &[u8],
) -> Result<i64> {
    let row = tx.query_one(
        "INSERT INTO gallery_templates (collection, subject, template, created_at) VALUES (?1, ?2, ?3, ?4) RETURNING key",
        db_params![collection, subject, Vec::<u8>::new(), to_ms(now())],
    )?;
    let row_key: i64 = row.get(0)?;
    let sealed = key.seal(template, &aad(row_key))?;
    tx.execute("UPDATE gallery_templates SET template = ?1 WHERE key = ?2", db_params![sealed, row_key])?;
    Ok(row_key)
}

impl Store {
    /// Adds `templates` of `subject` to `collection`; the keys they were given, in order.
    pub fn add_gallery_templates(&self, collection: &str, subject: &str, templates: &[Vec<u8>]) -> Result<Vec<u64>> {
        self.with(|conn| {
            conn.transaction(|tx| {
                self.announce(tx, crate::changes::GALLERY)?;
                let mut keys = Vec::with_capacity(templates.len());
                for template in templates {
                    let key = insert_sealed_template(tx, self.key(), collection, subject, template)?;
                    keys.push(key as u64);
                }
                Ok(keys)
            })
        })
    }

    /// Removes `subject`'s templates from `collection` (from every collection when `None`); the keys removed.
    pub fn remove_gallery_subject(&self, collection: Option<&str>, subject: &str) -> Result<Vec<u64>> {
        self.with(|conn| {
            conn.transaction(|tx| {
                self.announce(tx, crate::changes::GALLERY)?;
                let keys = tx
                    .query(
                        "SELECT key FROM gallery_templates WHERE subject = ?1 AND (CAST(?2 AS TEXT) IS NULL OR collection = ?2)",
                        db_params![subject, collection],
                    )?
                    .iter()
                    .map(|r| r.get::<u64>(0))
                    .collect::<Result<Vec<_>>>()?;
                tx.execute(
                    "DELETE FROM gallery_templates WHERE subject = ?1 AND (CAST(?2 AS TEXT) IS NULL OR collection = ?2)",
                    db_params![subject, collection],
                )?;
                Ok(keys)
            })
        })
    }

    /// One template by its key, opened; `None` when the key holds none.
    pub fn gallery_template(&self, key: u64) -> Result<Option<Vec<u8>>> {
        let key = i64::try_from(key).map_err(|_| StoreError::NotFound)?;
        let row =
            self.with(|conn| conn.query_opt("SELECT template FROM gallery_templates WHERE key = ?1", db_params![key]))?;
        row.map(|r| self.key().open(&r.get::<Vec<u8>>(0)?, &aad(key))).transpose()
    }

    /// Every stored template, opened, in key order: what the in-memory index is built from.
    pub fn gallery_templates(&self) -> Result<Vec<GalleryTemplate>> {
        let rows = self.with(|conn| {
            conn.query("SELECT key, collection, subject, template FROM gallery_templates ORDER BY key", db_params![])
        })?;
        rows.iter()
            .map(|r| {
                let key: i64 = r.get(0)?;
                let template = self.key().open(&r.get::<Vec<u8>>(3)?, &aad(key))?;
                Ok(GalleryTemplate { key: key as u64, collection: r.get(1)?, subject: r.get(2)?, template })
            })
            .collect()
    }
}
