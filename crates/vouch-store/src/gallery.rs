//! The 1:N gallery's templates: sealed rows, each in a collection and of a subject. Enrolling a subject's
//! templates, or removing them, is one transaction.

use rusqlite::{params, OptionalExtension};

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

impl Store {
    /// Adds `templates` of `subject` to `collection`; the keys they were given, in order.
    pub fn add_gallery_templates(&self, collection: &str, subject: &str, templates: &[Vec<u8>]) -> Result<Vec<u64>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let mut keys = Vec::with_capacity(templates.len());
        for template in templates {
            tx.execute(
                "INSERT INTO gallery_templates (collection, subject, template, created_at) VALUES (?1, ?2, x'', ?3)",
                params![collection, subject, to_ms(now())],
            )?;
            let key = tx.last_insert_rowid();
            let sealed = self.key().seal(template, &aad(key))?;
            tx.execute("UPDATE gallery_templates SET template = ?1 WHERE key = ?2", params![sealed, key])?;
            keys.push(key as u64);
        }
        tx.commit()?;
        Ok(keys)
    }

    /// Removes `subject`'s templates from `collection` (from every collection when `None`); the keys removed.
    pub fn remove_gallery_subject(&self, collection: Option<&str>, subject: &str) -> Result<Vec<u64>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let keys: Vec<i64> = {
            let mut stmt =
                tx.prepare("SELECT key FROM gallery_templates WHERE subject = ?1 AND (?2 IS NULL OR collection = ?2)")?;
            let rows = stmt.query_map(params![subject, collection], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        tx.execute(
            "DELETE FROM gallery_templates WHERE subject = ?1 AND (?2 IS NULL OR collection = ?2)",
            params![subject, collection],
        )?;
        tx.commit()?;
        Ok(keys.into_iter().map(|k| k as u64).collect())
    }

    /// One template by its key, opened; `None` when the key holds none.
    pub fn gallery_template(&self, key: u64) -> Result<Option<Vec<u8>>> {
        let key = i64::try_from(key).map_err(|_| StoreError::NotFound)?;
        let sealed: Option<Vec<u8>> = self
            .conn()?
            .query_row("SELECT template FROM gallery_templates WHERE key = ?1", [key], |r| r.get(0))
            .optional()?;
        sealed.map(|s| self.key().open(&s, &aad(key))).transpose()
    }

    /// Every stored template, opened, in key order: what the in-memory index is built from.
    pub fn gallery_templates(&self) -> Result<Vec<GalleryTemplate>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare("SELECT key, collection, subject, template FROM gallery_templates ORDER BY key")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Vec<u8>>(3)?))
        })?;
        rows.map(|row| {
            let (key, collection, subject, sealed) = row?;
            let template = self.key().open(&sealed, &aad(key))?;
            Ok(GalleryTemplate { key: key as u64, collection, subject, template })
        })
        .collect()
    }
}
