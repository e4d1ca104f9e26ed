//! Which rows name a blob. Blobs are content-addressed, so the same bytes can back a case's evidence, a sign
//! process's document and a DIS face at once: a blob is deleted only when nothing live names it any more.

use crate::db::Conn;
use crate::db_params;

use crate::error::Result;

/// Whether a live row still names the blob. Purged evidence and purged sign documents do not count: their rows
/// stay (their hashes are in audit events and manifests) but their bytes are meant to be gone.
pub(crate) fn blob_still_named(conn: &Conn<'_>, sha: &str) -> Result<bool> {
    let uses: i64 = conn
        .query_one(
            "SELECT (SELECT count(*) FROM dis_faces WHERE image_sha256 = ?1 OR template_sha256 = ?1)
              + (SELECT count(*) FROM dis_liveness_frames WHERE image_sha256 = ?1)
              + (SELECT count(*) FROM evidence WHERE sha256 = ?1 AND purged_at IS NULL)
              + (SELECT count(*) FROM sign_documents
                 WHERE (current_sha256 = ?1 OR original_sha256 = ?1) AND purged_at IS NULL)
              + (SELECT count(*) FROM dis_documents WHERE chip_data_sha256 = ?1)
              + (SELECT count(*) FROM dis_document_pages
                 WHERE image_sha256 = ?1 OR portrait_sha256 = ?1 OR reading_sha256 = ?1)
              + (SELECT count(*) FROM trust_records WHERE record_sha256 = ?1 AND purged_at IS NULL)",
            db_params![sha],
        )?
        .get(0)?;
    Ok(uses > 0)
}
