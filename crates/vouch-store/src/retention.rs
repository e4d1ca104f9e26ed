//! Retention: evidence of closed cases older than the retention period is deleted. The evidence rows
//! stay, marked purged, because their hashes are cited by audit events and proof manifests; the
//! encrypted blobs are removed. Each case gets an `evidence_purged` event and the run gets one on the
//! settings chain, all in one transaction, before any file is deleted.

use rusqlite::params;
use serde::Serialize;
use time::OffsetDateTime;

use crate::audit;
use crate::error::Result;
use crate::flows::SETTINGS_CHAIN;
use crate::{now, to_ms, Store};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    pub cases: u64,
    pub evidence: u64,
    pub blobs_deleted: u64,
}

impl Store {
    /// Purges evidence of cases closed (completed, failed, expired, cancelled) before `closed_before`.
    /// A run that finds nothing is audited only when `audit_empty_run` (an admin asked for it), so the
    /// timer does not fill the settings chain with empty runs.
    pub fn purge_evidence(
        &self,
        closed_before: OffsetDateTime,
        retention_days: u32,
        actor: &str,
        audit_empty_run: bool,
    ) -> Result<PurgeReport> {
        let at = now();
        let mut report = PurgeReport::default();
        let shas: Vec<String> = {
            let mut conn = self.conn()?;
            let tx = conn.transaction()?;
            let due: Vec<(String, i64)> = tx
                .prepare(
                    "SELECT c.id, count(e.id) FROM cases c JOIN evidence e ON e.case_id = c.id
                     WHERE c.status IN ('completed', 'failed', 'expired', 'cancelled')
                       AND c.updated_at < ?1 AND e.purged_at IS NULL
                     GROUP BY c.id",
                )?
                .query_map([to_ms(closed_before)], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let mut shas = Vec::new();
            for (case_id, count) in &due {
                let mut stmt = tx.prepare("SELECT sha256 FROM evidence WHERE case_id = ?1 AND purged_at IS NULL")?;
                let case_shas: Vec<String> = stmt.query_map([case_id], |r| r.get(0))?.collect::<Result<_, _>>()?;
                shas.extend(case_shas);
                tx.execute(
                    "UPDATE evidence SET purged_at = ?1 WHERE case_id = ?2 AND purged_at IS NULL",
                    params![to_ms(at), case_id],
                )?;
                audit::append(
                    &tx,
                    case_id,
                    at,
                    actor,
                    "evidence_purged",
                    &serde_json::json!({"evidence": count, "retention_days": retention_days}),
                )?;
                report.cases += 1;
                report.evidence += u64::try_from(*count).unwrap_or(0);
            }
            if report.cases > 0 || audit_empty_run {
                audit::append(
                    &tx,
                    SETTINGS_CHAIN,
                    at,
                    actor,
                    "retention_purge",
                    &serde_json::json!({
                        "retention_days": retention_days, "closed_before": to_ms(closed_before),
                        "cases": report.cases, "evidence": report.evidence,
                    }),
                )?;
            }
            tx.commit()?;
            shas
        };
        // After the commit: a crash here leaves encrypted files nobody points to, never a row pointing nowhere.
        for sha in shas {
            let still_used: bool = self.conn()?.query_row(
                // A signed PDF is also a sign process's current version, which other signers still sign on.
                "SELECT EXISTS (SELECT 1 FROM evidence WHERE sha256 = ?1 AND purged_at IS NULL)
                     OR EXISTS (SELECT 1 FROM sign_documents WHERE current_sha256 = ?1 OR original_sha256 = ?1)",
                [&sha],
                |r| r.get(0),
            )?;
            if !still_used {
                self.blobs().remove(&sha)?;
                report.blobs_deleted += 1;
            }
        }
        Ok(report)
    }
}
