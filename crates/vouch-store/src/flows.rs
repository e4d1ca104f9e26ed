//! Flow versions, the default flow, and each case's recorded step outcomes.

use vouch_core::flow::{self, FlowVersion, Step, StepKind, StepOutcome, StepRecord};
use vouch_core::{CaseId, CaseStatus, EvidenceKind};

use crate::audit;
use crate::cases::NewEvidence;
use crate::db::Conn;
use crate::db_params;
use crate::error::{Result, StoreError};
use crate::{from_ms, now, to_ms, Store};

/// The audit chain for flow and settings administration.
pub const SETTINGS_CHAIN: &str = "settings";
const DEFAULT_FLOW_KEY: &str = "default_flow";

pub(crate) fn flow_version_in(conn: &crate::db::Conn<'_>, id: &str, version: u32) -> Result<FlowVersion> {
    let sql = format!("SELECT {FLOW_COLUMNS} FROM flows WHERE id = ?1 AND version = ?2");
    flow_from_row(&conn.query_one(&sql, db_params![id, version])?)
}

fn flow_from_row(r: &crate::db::Row) -> Result<FlowVersion> {
    let steps: String = r.get(3)?;
    Ok(FlowVersion {
        id: r.get(0)?,
        version: r.get(1)?,
        name: r.get(2)?,
        steps: serde_json::from_str(&steps).map_err(|e| StoreError::corrupt(format!("a flow's steps: {e}")))?,
        created_at: from_ms(r.get(4)?),
        created_by: r.get(5)?,
    })
}

const FLOW_COLUMNS: &str = "id, version, name, steps, created_at, created_by";

/// A case's recorded steps, in order. Takes a connection so it also runs inside a transaction.
fn load_steps(conn: &Conn<'_>, case_id: CaseId) -> Result<Vec<StepRecord>> {
    let rows = conn.query(
        "SELECT step_index, kind, outcome, detail, at FROM case_steps WHERE case_id = ?1 ORDER BY step_index",
        db_params![case_id.to_string()],
    )?;
    rows.iter()
        .map(|r| {
            let kind: String = r.get(1)?;
            let outcome: String = r.get(2)?;
            let detail: String = r.get(3)?;
            Ok(StepRecord {
                index: r.get(0)?,
                kind: StepKind::parse(&kind).ok_or_else(|| StoreError::corrupt("an unknown step kind"))?,
                outcome: StepOutcome::parse(&outcome).ok_or_else(|| StoreError::corrupt("an unknown step outcome"))?,
                detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                at: from_ms(r.get(4)?),
            })
        })
        .collect()
}

/// A step's outcome to record: which case, which step of its flow, what it decided and what it observed.
pub struct NewStep {
    pub case_id: CaseId,
    /// 0-based index in the case's flow.
    pub index: u32,
    pub kind: StepKind,
    pub outcome: StepOutcome,
    pub detail: serde_json::Value,
}

/// One thing a step captured, stored as case evidence.
pub struct Capture<'a> {
    pub kind: vouch_core::EvidenceKind,
    pub media_type: &'a str,
    pub bytes: &'a [u8],
}

impl Store {
    /// Saves a new version of a flow (version 1 if it is new), validated, with its audit event.
    /// `expect_new` refuses to overwrite an existing flow (create), otherwise it must exist (edit).
    pub fn save_flow(
        &self,
        id: &str,
        name: &str,
        steps: &[Step],
        actor: &str,
        expect_new: bool,
    ) -> Result<FlowVersion> {
        flow::validate_flow_id(id)?;
        flow::validate_steps(name, steps)?;
        let steps_json = serde_json::to_string(steps).map_err(|e| StoreError::corrupt(e.to_string()))?;
        let at = now();
        let key = self.audit_key();
        // Two admins saving one flow at once on two instances: one gets the next version, the other a conflict
        // (the key of `flows` is the flow and its version), never a version written twice.
        let version = self.with(|conn| {
            conn.transaction(|tx| {
                let latest: Option<u32> =
                    tx.query_one("SELECT max(version) FROM flows WHERE id = ?1", db_params![id])?.get(0)?;
                match (latest, expect_new) {
                    (Some(_), true) => {
                        return Err(StoreError::Conflict(format!("a flow with id {id:?} already exists")))
                    }
                    (None, false) => return Err(StoreError::NotFound),
                    _ => {}
                }
                let version = latest.unwrap_or(0) + 1;
                tx.execute(
                    &format!("INSERT INTO flows ({FLOW_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                    db_params![id, version, name.trim(), steps_json, to_ms(at), actor],
                )?;
                let kinds: Vec<&str> = steps.iter().map(|s| s.kind().as_str()).collect();
                let detail = serde_json::json!({"flow": id, "version": version, "name": name.trim(), "steps": kinds});
                audit::append_event(tx, key, SETTINGS_CHAIN, at, actor, "flow_saved", &detail)?;
                Ok(version)
            })
        })?;
        Ok(FlowVersion {
            id: id.to_string(),
            version,
            name: name.trim().to_string(),
            steps: steps.to_vec(),
            created_at: at,
            created_by: actor.to_string(),
        })
    }

    pub fn flow_version(&self, id: &str, version: u32) -> Result<FlowVersion> {
        self.with(|conn| flow_version_in(conn, id, version))
    }

    pub fn latest_flow(&self, id: &str) -> Result<FlowVersion> {
        let sql = format!("SELECT {FLOW_COLUMNS} FROM flows WHERE id = ?1 ORDER BY version DESC LIMIT 1");
        flow_from_row(&self.with(|conn| conn.query_one(&sql, db_params![id]))?)
    }

    /// The newest version of every flow.
    pub fn list_flows(&self) -> Result<Vec<FlowVersion>> {
        let sql = format!(
            "SELECT {FLOW_COLUMNS} FROM flows f WHERE version = (SELECT max(version) FROM flows WHERE id = f.id) ORDER BY id"
        );
        self.with(|conn| conn.query(&sql, db_params![]))?.iter().map(flow_from_row).collect()
    }

    pub fn default_flow_id(&self) -> Result<Option<String>> {
        let row = self
            .with(|conn| conn.query_opt("SELECT value FROM settings WHERE key = ?1", db_params![DEFAULT_FLOW_KEY]))?;
        row.map(|r| r.get(0)).transpose()
    }

    pub fn set_default_flow(&self, id: &str, actor: &str) -> Result<()> {
        let key = self.audit_key();
        self.with(|conn| {
            conn.transaction(|tx| {
                if tx.query_opt("SELECT 1 FROM flows WHERE id = ?1", db_params![id])?.is_none() {
                    return Err(StoreError::NotFound);
                }
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    db_params![DEFAULT_FLOW_KEY, id],
                )?;
                let detail = serde_json::json!({"flow": id});
                audit::append_event(tx, key, SETTINGS_CHAIN, now(), actor, "default_flow_set", &detail)
            })
        })
    }

    /// First run: the demo flow (consent, then result) as the default, if no flow exists yet.
    pub fn ensure_demo_flow(&self) -> Result<()> {
        let any = self.with(|conn| Ok(conn.query_opt("SELECT 1 FROM flows LIMIT 1", db_params![])?.is_some()))?;
        if !any {
            // Another instance starting at the same moment may have made it first: then it is there, as wanted.
            match self.save_flow(flow::DEMO_FLOW_ID, "Demo: consent and result", &flow::demo_steps(), "system", true) {
                Ok(_) => self.set_default_flow(flow::DEMO_FLOW_ID, "system")?,
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    pub fn case_steps(&self, case_id: CaseId) -> Result<Vec<StepRecord>> {
        self.with(|conn| load_steps(conn, case_id))
    }

    /// Records one step's outcome: the engine checks it is the expected step; the outcome is stored as
    /// evidence (blob first), as a step row and as an audit event, and a pending case moves to
    /// in_progress, all in one transaction.
    pub fn record_step(&self, step: NewStep, actor: &str) -> Result<StepRecord> {
        self.record_step_with_captures(step, &[], actor)
    }

    /// Records a step with what it captured (selfie, liveness frames): the captures are written as encrypted
    /// blobs first, then the step, its outcome evidence and one evidence row per capture in one transaction.
    pub fn record_step_with_captures(
        &self,
        step: NewStep,
        captures: &[Capture<'_>],
        actor: &str,
    ) -> Result<StepRecord> {
        self.record_step_with(step, captures, actor, |_, _| Ok(()))
    }

    /// Writes each capture as an encrypted blob (before any row names it) and returns its evidence row to insert.
    pub(crate) fn put_captures(&self, captures: &[Capture<'_>]) -> Result<Vec<NewEvidence>> {
        captures
            .iter()
            .map(|c| {
                Ok(NewEvidence {
                    kind: c.kind,
                    sha256: self.blobs().put(c.bytes)?,
                    media_type: c.media_type.into(),
                    size: c.bytes.len() as u64,
                })
            })
            .collect()
    }

    /// As [`Store::record_step_with_captures`], with more writes (`within`, given the transaction and the step's
    /// time) that commit or roll back with the step.
    pub(crate) fn record_step_with(
        &self,
        step: NewStep,
        captures: &[Capture<'_>],
        actor: &str,
        within: impl FnOnce(&Conn<'_>, time::OffsetDateTime) -> Result<()>,
    ) -> Result<StepRecord> {
        let NewStep { case_id, index, kind, outcome, detail } = step;
        let case = self.get_case(case_id)?;
        let flow_ref = case.flow.clone().ok_or_else(|| StoreError::Conflict("this case has no flow".into()))?;
        if case.status.is_terminal() {
            return Err(StoreError::Conflict(format!("the case is {} and takes no more steps", case.status)));
        }
        let flow = self.flow_version(&flow_ref.id, flow_ref.version)?;
        let at = now();
        let record = StepRecord { index, kind, outcome, detail, at };
        let blob = serde_json::to_vec(&serde_json::json!({"case_id": case_id, "flow": flow_ref, "step": record}))
            .map_err(|e| StoreError::corrupt(e.to_string()))?;
        let sha = self.blobs().put(&blob)?;
        let captured = self.put_captures(captures)?;

        self.with(|conn| {
            conn.transaction(|tx| {
                let chain = case_id.to_string();
                // Steps of one case are recorded one at a time, whichever instance records them.
                tx.lock(&chain)?;
                let existing = load_steps(tx, case_id)?;
                flow::check_outcome(&flow.steps, &existing, index, kind)
                    .map_err(|e| StoreError::Conflict(e.to_string()))?;
                let status: String =
                    tx.query_one("SELECT status FROM cases WHERE id = ?1", db_params![chain])?.get(0)?;
                if status == CaseStatus::Pending.as_str() {
                    CaseStatus::Pending.transition_to(CaseStatus::InProgress)?;
                    tx.execute(
                        "UPDATE cases SET status = 'in_progress', updated_at = ?1 WHERE id = ?2 AND status = 'pending'",
                        db_params![to_ms(at), chain],
                    )?;
                    let detail = serde_json::json!({"flow": flow_ref});
                    audit::append_event(tx, self.audit_key(), &chain, at, actor, "case_started", &detail)?;
                } else if status != CaseStatus::InProgress.as_str() {
                    return Err(StoreError::Conflict(format!("the case is {status} and takes no more steps")));
                }
                let detail_text = record.detail.to_string();
                tx.execute(
                    "INSERT INTO case_steps (case_id, step_index, kind, outcome, detail, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    db_params![chain, index, kind.as_str(), outcome.as_str(), detail_text, to_ms(at)],
                )?;
                let evidence = NewEvidence {
                    kind: EvidenceKind::StepOutcome,
                    sha256: sha.clone(),
                    media_type: "application/json".into(),
                    size: blob.len() as u64,
                };
                crate::cases::insert_evidence(tx, case_id, at, std::slice::from_ref(&evidence))?;
                crate::cases::insert_evidence(tx, case_id, at, &captured)?;
                let capture_shas: Vec<&str> = captured.iter().map(|c| c.sha256.as_str()).collect();
                let audit_detail = serde_json::json!({"step": index + 1, "kind": kind.as_str(), "outcome": outcome,
                    "evidence": sha, "captures": capture_shas});
                audit::append_event(tx, self.audit_key(), &chain, at, actor, "step_recorded", &audit_detail)?;
                crate::central::enqueue_step(tx, &chain, &record, &captured)?;
                within(tx, at)?;
                Ok(record)
            })
        })
    }
}
