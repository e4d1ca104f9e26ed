use rusqlite::Connection;

use crate::error::{Result, StoreError};

/// Ordered migrations; the index + 1 is the schema version stored in `PRAGMA user_version`.
/// Append only: a released migration is never edited.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_flows.sql"),
    include_str!("../migrations/0003_kiosk.sql"),
    include_str!("../migrations/0004_faces.sql"),
    include_str!("../migrations/0005_liveness.sql"),
    include_str!("../migrations/0006_documents.sql"),
    include_str!("../migrations/0007_document_pages.sql"),
    include_str!("../migrations/0008_signing.sql"),
    include_str!("../migrations/0009_retention.sql"),
    include_str!("../migrations/0010_hardening.sql"),
    include_str!("../migrations/0011_gallery.sql"),
    include_str!("../migrations/0012_gallery_persons.sql"),
    include_str!("../migrations/0013_api_records.sql"),
    include_str!("../migrations/0014_case_subjects.sql"),
    include_str!("../migrations/0015_revoked_jwts.sql"),
    include_str!("../migrations/0016_one_time_codes.sql"),
];

pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the schema up to date, each migration in its own transaction with its version bump.
pub fn migrate(conn: &mut Connection) -> Result<i64> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > latest_version() {
        return Err(StoreError::SchemaTooNew { found: current, known: latest_version() });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        let version = index as i64 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "applied database migration");
    }
    Ok(latest_version())
}
