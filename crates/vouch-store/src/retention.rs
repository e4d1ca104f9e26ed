//! Retention: what a kiosk holds about a person goes once the admin's retention period has passed.
//!
//! - A case closed before the cutoff loses its evidence blobs and the personal data in its rows: the claim values
//!   (their types stay), the decision's verified identity, each step's `holder` (the name, birth date and document
//!   number read from a chip or an MRZ), and its signer's name, e-mail and NIF. The evidence rows stay, marked
//!   purged, because their hashes are cited by audit events and proof manifests; outcomes, scores and reasons stay.
//! - A sign process loses its documents (as uploaded and as signed) once every signer's case is purged: until then
//!   another signer may still be signing that very file.
//! - DIS customers and faces created before the cutoff are deleted with everything under them, as if the integrator
//!   had called DELETE: DIS has no "closed", so their age is what counts.
//! - DIS Trust Platform records stored before the cutoff lose their bytes (they outlive the customer, not the
//!   retention period); the row and its hashes stay.
//!
//! The run goes in batches of [`PURGE_BATCH`] items, one transaction each, so the kiosk and the APIs are served
//! between batches however much is due. Each case gets its `evidence_purged` event in its batch's transaction,
//! before any of its files is deleted; the run ends with one `retention_purge` event on the settings chain. A run
//! cut off between batches leaves whole batches done, and the next run carries on.

use serde::Serialize;
use time::OffsetDateTime;

use crate::audit;
use crate::blob_refs::blob_still_named;
use crate::db::{Conn, Dialect};
use crate::db_params;
use crate::error::Result;
use crate::flows::SETTINGS_CHAIN;
use crate::{now, to_ms, Store};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct PurgeReport {
    /// Closed cases purged in this run.
    pub cases: u64,
    /// Their evidence items.
    pub evidence: u64,
    /// Signers whose name, e-mail and NIF were erased.
    pub signers: u64,
    /// Sign processes whose documents were deleted, and how many documents.
    pub sign_processes: u64,
    pub sign_documents: u64,
    /// DIS customers and stand-alone DIS faces deleted.
    pub dis_customers: u64,
    pub dis_faces: u64,
    /// DIS Trust Platform records whose bytes were deleted.
    pub trust_records: u64,
    /// Encrypted files removed from disk.
    pub blobs_deleted: u64,
}

impl PurgeReport {
    fn is_empty(&self) -> bool {
        self.cases == 0
            && self.sign_processes == 0
            && self.dis_customers == 0
            && self.dis_faces == 0
            && self.trust_records == 0
    }
}

impl Store {
    /// Purges what is older than `cutoff` (see the module). A run that finds nothing is audited only when
    /// `audit_empty_run` (an admin asked for it), so the timer does not fill the settings chain with empty runs.
    pub fn purge_evidence(
        &self,
        cutoff: OffsetDateTime,
        retention_days: u32,
        actor: &str,
        audit_empty_run: bool,
    ) -> Result<PurgeReport> {
        let at = now();
        let mut report = PurgeReport::default();
        loop {
            let before = report.clone();
            // The connection (the store's lock) is held for one batch only.
            let mut batch = report.clone();
            let candidates: Vec<String> = self.with(|conn| {
                conn.transaction(|tx| {
                    let key = self.audit_key();
                    let mut shas = purge_cases(tx, key, cutoff, at, retention_days, actor, &mut batch)?;
                    shas.extend(purge_sign_documents(tx, cutoff, at, &mut batch)?);
                    shas.extend(purge_dis(tx, key, cutoff, &mut batch)?);
                    let records = crate::trust_records::purge_due(tx, key, cutoff, at, actor, PURGE_BATCH as i64)?;
                    batch.trust_records += records.len() as u64;
                    shas.extend(records);
                    Ok(shas)
                })
            })?;
            report = batch;
            // After the commit: a crash here leaves encrypted files nobody points to, never a row pointing nowhere.
            report.blobs_deleted += self.remove_unnamed_blobs(candidates)?;
            if !report.found_more_than(&before, PURGE_BATCH) {
                break;
            }
        }
        if !report.is_empty() || audit_empty_run {
            let detail = serde_json::json!({
                "retention_days": retention_days, "closed_before": to_ms(cutoff),
                "cases": report.cases, "evidence": report.evidence, "signers": report.signers,
                "sign_processes": report.sign_processes, "sign_documents": report.sign_documents,
                "dis_customers": report.dis_customers, "dis_faces": report.dis_faces,
                "trust_records": report.trust_records,
            });
            self.with(|conn| {
                conn.transaction(|tx| {
                    audit::append_event(tx, self.audit_key(), SETTINGS_CHAIN, at, actor, "retention_purge", &detail)
                })
            })?;
        }
        Ok(report)
    }

    /// Deletes the files among `candidates` that no row names any more; returns how many.
    fn remove_unnamed_blobs(&self, candidates: Vec<String>) -> Result<u64> {
        let mut seen = std::collections::HashSet::new();
        let mut deleted = 0;
        for sha in candidates {
            if seen.insert(sha.clone())
                && !self.with(|conn| blob_still_named(conn, &sha))?
                && self.blobs().remove(&sha)?
            {
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}

/// Items of each kind (cases, sign processes, DIS customers, DIS faces, trust records) purged per transaction.
pub const PURGE_BATCH: u64 = 50;

impl PurgeReport {
    /// Whether the batch that took the report from `before` to `self` was full for some kind: then more may
    /// be due.
    fn found_more_than(&self, before: &PurgeReport, batch: u64) -> bool {
        self.cases.saturating_sub(before.cases) >= batch
            || self.sign_processes.saturating_sub(before.sign_processes) >= batch
            || self.dis_customers.saturating_sub(before.dis_customers) >= batch
            || self.dis_faces.saturating_sub(before.dis_faces) >= batch
            || self.trust_records.saturating_sub(before.trust_records) >= batch
    }
}

/// Closed cases past the cutoff: evidence marked purged, signer details erased. Returns the evidence blobs.
fn purge_cases(
    tx: &Conn<'_>,
    audit_key: &[u8; 32],
    cutoff: OffsetDateTime,
    at: OffsetDateTime,
    retention_days: u32,
    actor: &str,
    report: &mut PurgeReport,
) -> Result<Vec<String>> {
    let due = texts(tx.query(
        "SELECT id FROM cases
         WHERE status IN ('completed', 'failed', 'expired', 'cancelled') AND updated_at < ?1 AND purged_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM central_outbox o WHERE o.case_id = cases.id AND o.acked_at IS NULL)
         LIMIT ?2",
        db_params![to_ms(cutoff), PURGE_BATCH as i64],
    )?)?;
    let mut shas = Vec::new();
    for case_id in &due {
        tx.lock(case_id)?;
        let case_shas = texts(
            tx.query("SELECT sha256 FROM evidence WHERE case_id = ?1 AND purged_at IS NULL", db_params![case_id])?,
        )?;
        tx.execute(
            "UPDATE evidence SET purged_at = ?1 WHERE case_id = ?2 AND purged_at IS NULL",
            db_params![to_ms(at), case_id],
        )?;
        erase_personal_data(tx, case_id)?;
        let signer = tx.execute(
            "UPDATE signers SET name = '', email = NULL, nif = NULL WHERE case_id = ?1",
            db_params![case_id],
        )?;
        tx.execute("UPDATE cases SET purged_at = ?1 WHERE id = ?2", db_params![to_ms(at), case_id])?;
        let detail = serde_json::json!({
            "evidence": case_shas.len(),
            "retention_days": retention_days,
            "personal_data": if signer > 0 { "erased, with the signer's name, e-mail and NIF" } else { "erased" },
        });
        audit::append_event(tx, audit_key, case_id, at, actor, "evidence_purged", &detail)?;
        report.cases += 1;
        report.evidence += case_shas.len() as u64;
        report.signers += signer;
        shas.extend(case_shas);
    }
    Ok(shas)
}

/// Blanks the case row's claim values, drops the decision's identity and the steps' holder data (where step
/// details keep what was read about the person: by the chip, the MRZ scan and typed access data), and empties the
/// webhooks that announced the case. The JSON is edited in SQL, in each backend's own functions.
fn erase_personal_data(tx: &Conn<'_>, case_id: &str) -> Result<()> {
    let (claims, decision, steps) = match tx.dialect() {
        Dialect::Sqlite => (
            "(SELECT json_group_array(json_set(c.value, '$.value', '')) FROM json_each(cases.claims) c)",
            "json_set(decision, '$.identity', json('null'))",
            "UPDATE case_steps SET detail = json_remove(detail, '$.holder')
             WHERE case_id = ?1 AND json_type(detail, '$.holder') IS NOT NULL",
        ),
        Dialect::Postgres => (
            "(SELECT COALESCE(jsonb_agg(jsonb_set(c.value, '{value}', '\"\"') ORDER BY c.n), '[]'::jsonb)::text
              FROM jsonb_array_elements(cases.claims::jsonb) WITH ORDINALITY AS c(value, n))",
            "jsonb_set(decision::jsonb, '{identity}', 'null'::jsonb)::text",
            "UPDATE case_steps SET detail = (detail::jsonb - 'holder')::text
             WHERE case_id = ?1 AND detail::jsonb -> 'holder' IS NOT NULL",
        ),
    };
    tx.execute(
        &format!(
            "UPDATE cases SET claims = {claims},
                 decision = CASE WHEN decision IS NULL THEN NULL ELSE {decision} END
             WHERE id = ?1"
        ),
        db_params![case_id],
    )?;
    tx.execute(steps, db_params![case_id])?;
    // A sent webhook carried the result (eeID's names a person): the log keeps its attempts, not its body.
    tx.execute(
        "UPDATE webhook_deliveries SET body = ?2 WHERE (case_id = ?1 OR record_id = ?1) AND status != 'pending'",
        db_params![case_id, Vec::<u8>::new()],
    )?;
    Ok(())
}

fn texts(rows: Vec<crate::db::Row>) -> Result<Vec<String>> {
    rows.iter().map(|r| r.get(0)).collect()
}

fn text_pairs(rows: Vec<crate::db::Row>) -> Result<Vec<(String, String)>> {
    rows.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect()
}

/// Sign processes all of whose signers' cases are purged (and that are past the cutoff themselves): their documents
/// are marked purged. Returns the document blobs.
fn purge_sign_documents(
    tx: &Conn<'_>,
    cutoff: OffsetDateTime,
    at: OffsetDateTime,
    report: &mut PurgeReport,
) -> Result<Vec<String>> {
    let due = texts(tx.query(
        "SELECT p.id FROM sign_processes p
         WHERE p.created_at < ?1
           AND EXISTS (SELECT 1 FROM sign_documents d WHERE d.process_id = p.id AND d.purged_at IS NULL)
           AND NOT EXISTS (SELECT 1 FROM signers s JOIN cases c ON c.id = s.case_id
                           WHERE s.process_id = p.id AND c.purged_at IS NULL)
         LIMIT ?2",
        db_params![to_ms(cutoff), PURGE_BATCH as i64],
    )?)?;
    let mut shas = Vec::new();
    for process_id in &due {
        let files = text_pairs(tx.query(
            "SELECT original_sha256, current_sha256 FROM sign_documents WHERE process_id = ?1 AND purged_at IS NULL",
            db_params![process_id],
        )?)?;
        tx.execute(
            "UPDATE sign_documents SET purged_at = ?1 WHERE process_id = ?2 AND purged_at IS NULL",
            db_params![to_ms(at), process_id],
        )?;
        report.sign_processes += 1;
        report.sign_documents += files.len() as u64;
        for (original, current) in files {
            shas.push(original);
            shas.push(current);
        }
    }
    Ok(shas)
}

/// DIS customers and stand-alone faces created before the cutoff, deleted as DELETE would. Returns their blobs.
fn purge_dis(tx: &Conn<'_>, key: &[u8; 32], cutoff: OffsetDateTime, report: &mut PurgeReport) -> Result<Vec<String>> {
    let customers = text_pairs(tx.query(
        "SELECT client_id, id FROM dis_customers WHERE created_at < ?1 LIMIT ?2",
        db_params![to_ms(cutoff), PURGE_BATCH as i64],
    )?)?;
    let mut shas = Vec::new();
    for (client_id, id) in &customers {
        shas.extend(crate::faces::delete_customer_tx(tx, key, client_id, id)?);
        report.dis_customers += 1;
    }
    // A newer customer's selfie is kept with its customer, however old the face.
    let faces = text_pairs(tx.query(
        "SELECT client_id, id FROM dis_faces WHERE created_at < ?1
           AND id NOT IN (SELECT selfie_face_id FROM dis_customers WHERE selfie_face_id IS NOT NULL)
         LIMIT ?2",
        db_params![to_ms(cutoff), PURGE_BATCH as i64],
    )?)?;
    for (client_id, id) in &faces {
        shas.extend(crate::faces::delete_face_tx(tx, client_id, id)?);
        report.dis_faces += 1;
    }
    Ok(shas)
}
