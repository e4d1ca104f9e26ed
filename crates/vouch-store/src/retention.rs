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
//!
//! The run goes in batches of [`PURGE_BATCH`] items, one transaction each, so the kiosk and the APIs are served
//! between batches however much is due. Each case gets its `evidence_purged` event in its batch's transaction,
//! before any of its files is deleted; the run ends with one `retention_purge` event on the settings chain. A run
//! cut off between batches leaves whole batches done, and the next run carries on.

use rusqlite::{params, Transaction};
use serde::Serialize;
use time::OffsetDateTime;

use crate::audit;
use crate::blob_refs::blob_still_named;
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
    /// Encrypted files removed from disk.
    pub blobs_deleted: u64,
}

impl PurgeReport {
    fn is_empty(&self) -> bool {
        self.cases == 0 && self.sign_processes == 0 && self.dis_customers == 0 && self.dis_faces == 0
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
            let candidates: Vec<String> = {
                let mut conn = self.conn()?;
                let tx = conn.transaction()?;
                let mut shas = purge_cases(&tx, cutoff, at, retention_days, actor, &mut report)?;
                shas.extend(purge_sign_documents(&tx, cutoff, at, &mut report)?);
                shas.extend(purge_dis(&tx, cutoff, &mut report)?);
                tx.commit()?;
                shas
            };
            // After the commit: a crash here leaves encrypted files nobody points to, never a row pointing nowhere.
            report.blobs_deleted += self.remove_unnamed_blobs(candidates)?;
            if !report.found_more_than(&before, PURGE_BATCH) {
                break;
            }
        }
        if !report.is_empty() || audit_empty_run {
            let mut conn = self.conn()?;
            let tx = conn.transaction()?;
            audit::append(
                &tx,
                SETTINGS_CHAIN,
                at,
                actor,
                "retention_purge",
                &serde_json::json!({
                    "retention_days": retention_days, "closed_before": to_ms(cutoff),
                    "cases": report.cases, "evidence": report.evidence, "signers": report.signers,
                    "sign_processes": report.sign_processes, "sign_documents": report.sign_documents,
                    "dis_customers": report.dis_customers, "dis_faces": report.dis_faces,
                }),
            )?;
            tx.commit()?;
        }
        Ok(report)
    }

    /// Deletes the files among `candidates` that no row names any more; returns how many.
    fn remove_unnamed_blobs(&self, candidates: Vec<String>) -> Result<u64> {
        let conn = self.conn()?;
        let mut seen = std::collections::HashSet::new();
        let mut deleted = 0;
        for sha in candidates {
            if seen.insert(sha.clone()) && !blob_still_named(&conn, &sha)? && self.blobs().remove(&sha)? {
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}

/// Items of each kind (cases, sign processes, DIS customers, DIS faces) purged per transaction.
pub const PURGE_BATCH: u64 = 50;

impl PurgeReport {
    /// Whether the batch that took the report from `before` to `self` was full for some kind: then more may
    /// be due.
    fn found_more_than(&self, before: &PurgeReport, batch: u64) -> bool {
        self.cases.saturating_sub(before.cases) >= batch
            || self.sign_processes.saturating_sub(before.sign_processes) >= batch
            || self.dis_customers.saturating_sub(before.dis_customers) >= batch
            || self.dis_faces.saturating_sub(before.dis_faces) >= batch
    }
}

/// Closed cases past the cutoff: evidence marked purged, signer details erased. Returns the evidence blobs.
fn purge_cases(
    tx: &Transaction<'_>,
    cutoff: OffsetDateTime,
    at: OffsetDateTime,
    retention_days: u32,
    actor: &str,
    report: &mut PurgeReport,
) -> Result<Vec<String>> {
    let due: Vec<String> = tx
        .prepare(
            "SELECT id FROM cases
             WHERE status IN ('completed', 'failed', 'expired', 'cancelled') AND updated_at < ?1 AND purged_at IS NULL
             LIMIT ?2",
        )?
        .query_map(params![to_ms(cutoff), PURGE_BATCH], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut shas = Vec::new();
    for case_id in &due {
        let case_shas: Vec<String> = tx
            .prepare("SELECT sha256 FROM evidence WHERE case_id = ?1 AND purged_at IS NULL")?
            .query_map([case_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        tx.execute(
            "UPDATE evidence SET purged_at = ?1 WHERE case_id = ?2 AND purged_at IS NULL",
            params![to_ms(at), case_id],
        )?;
        erase_personal_data(tx, case_id)?;
        let signer =
            tx.execute("UPDATE signers SET name = '', email = NULL, nif = NULL WHERE case_id = ?1", [case_id])?;
        tx.execute("UPDATE cases SET purged_at = ?1 WHERE id = ?2", params![to_ms(at), case_id])?;
        let detail = serde_json::json!({
            "evidence": case_shas.len(),
            "retention_days": retention_days,
            "personal_data": if signer > 0 { "erased, with the signer's name, e-mail and NIF" } else { "erased" },
        });
        audit::append(tx, case_id, at, actor, "evidence_purged", &detail)?;
        report.cases += 1;
        report.evidence += case_shas.len() as u64;
        report.signers += signer as u64;
        shas.extend(case_shas);
    }
    Ok(shas)
}

/// Where step details keep what was read about the person (by the chip, the MRZ scan and typed access data).
const PERSONAL_STEP_FIELD: &str = "$.holder";

/// Blanks the case row's claim values, drops the decision's identity and the steps' holder data, and empties the
/// webhooks that announced the case.
fn erase_personal_data(tx: &Transaction<'_>, case_id: &str) -> Result<()> {
    tx.execute(
        "UPDATE cases SET
            claims = (SELECT json_group_array(json_set(c.value, '$.value', '')) FROM json_each(cases.claims) c),
            decision = CASE WHEN decision IS NULL THEN NULL ELSE json_set(decision, '$.identity', json('null')) END
         WHERE id = ?1",
        [case_id],
    )?;
    tx.execute(
        "UPDATE case_steps SET detail = json_remove(detail, ?1) WHERE case_id = ?2 AND json_type(detail, ?1) IS NOT NULL",
        params![PERSONAL_STEP_FIELD, case_id],
    )?;
    // A sent webhook carried the result (eeID's names a person): the log keeps its attempts, not its body.
    tx.execute(
        "UPDATE webhook_deliveries SET body = x'' WHERE (case_id = ?1 OR record_id = ?1) AND status != 'pending'",
        [case_id],
    )?;
    Ok(())
}

/// Sign processes all of whose signers' cases are purged (and that are past the cutoff themselves): their documents
/// are marked purged. Returns the document blobs.
fn purge_sign_documents(
    tx: &Transaction<'_>,
    cutoff: OffsetDateTime,
    at: OffsetDateTime,
    report: &mut PurgeReport,
) -> Result<Vec<String>> {
    let due: Vec<String> = tx
        .prepare(
            "SELECT p.id FROM sign_processes p
             WHERE p.created_at < ?1
               AND EXISTS (SELECT 1 FROM sign_documents d WHERE d.process_id = p.id AND d.purged_at IS NULL)
               AND NOT EXISTS (SELECT 1 FROM signers s JOIN cases c ON c.id = s.case_id
                               WHERE s.process_id = p.id AND c.purged_at IS NULL)
             LIMIT ?2",
        )?
        .query_map(params![to_ms(cutoff), PURGE_BATCH], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut shas = Vec::new();
    for process_id in &due {
        let files: Vec<(String, String)> = tx
            .prepare("SELECT original_sha256, current_sha256 FROM sign_documents WHERE process_id = ?1 AND purged_at IS NULL")?
            .query_map([process_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        tx.execute(
            "UPDATE sign_documents SET purged_at = ?1 WHERE process_id = ?2 AND purged_at IS NULL",
            params![to_ms(at), process_id],
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
fn purge_dis(tx: &Transaction<'_>, cutoff: OffsetDateTime, report: &mut PurgeReport) -> Result<Vec<String>> {
    let customers: Vec<(String, String)> = tx
        .prepare("SELECT client_id, id FROM dis_customers WHERE created_at < ?1 LIMIT ?2")?
        .query_map(params![to_ms(cutoff), PURGE_BATCH], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut shas = Vec::new();
    for (client_id, id) in &customers {
        shas.extend(crate::faces::delete_customer_tx(tx, client_id, id)?);
        report.dis_customers += 1;
    }
    // A newer customer's selfie is kept with its customer, however old the face.
    let faces: Vec<(String, String)> = tx
        .prepare(
            "SELECT client_id, id FROM dis_faces WHERE created_at < ?1
               AND id NOT IN (SELECT selfie_face_id FROM dis_customers WHERE selfie_face_id IS NOT NULL)
             LIMIT ?2",
        )?
        .query_map(params![to_ms(cutoff), PURGE_BATCH], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (client_id, id) in &faces {
        shas.extend(crate::faces::delete_face_tx(tx, client_id, id)?);
        report.dis_faces += 1;
    }
    Ok(shas)
}
