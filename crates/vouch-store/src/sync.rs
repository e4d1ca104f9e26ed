//! What paired kiosks do with a central service's cases: see the open ones they may run, claim one (one kiosk at a
//! time), and push what they recorded, each item under the kiosk's own id so that a push repeated after a dropped
//! connection is applied once.

use vouch_core::flow::{FlowVersion, StepRecord};
use vouch_core::CaseId;

use crate::db::Conn;
use crate::db_params;
use crate::error::{Result, StoreError};
use crate::flows::{Capture, NewStep};
use crate::{now, to_ms, Store};

/// The most open cases one listing returns.
pub const MOST_LISTED: u32 = 200;

/// What a push did: applied now, or applied already by an earlier push of the same item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Applied,
    AlreadyApplied,
}

/// The kiosk that holds a case, if one claimed it.
fn holder(conn: &Conn<'_>, case_id: &str) -> Result<Option<String>> {
    conn.query_opt("SELECT kiosk_id FROM case_claims WHERE case_id = ?1", db_params![case_id])?
        .map(|r| r.get(0))
        .transpose()
}

/// The open cases a kiosk may run, for any kiosk (`branch IS NULL`), for one branch, or for this kiosk alone: each a
/// range of the `cases_for_kiosks` index (or `cases_for_one_kiosk`), in the order cases were made; another kiosk's
/// claims are skipped. Each row carries what the kiosk is sent (the case, its code, its holder, its newest
/// reference photo), so a listing costs one statement per range however many cases it lists.
macro_rules! cases_for_kiosks {
    ($index:literal, $which:literal, $key:literal) => {
        concat!(
            "SELECT ",
            crate::cases::case_columns!("c."),
            ", c.code, k.kiosk_id,
             (SELECT e.sha256 || ' ' || e.media_type FROM evidence e
               WHERE e.case_id = c.id AND e.kind = 'reference_photo' AND e.purged_at IS NULL
               ORDER BY e.seq DESC LIMIT 1)
             FROM cases c INDEXED BY ",
            $index,
            "
             LEFT JOIN case_claims k ON k.case_id = c.id
             WHERE c.status IN ('pending', 'in_progress') AND c.at_kiosks = 1 AND ",
            $which,
            " AND c.expires_at > ?3 AND (k.kiosk_id IS NULL OR k.kiosk_id = ?1)
             ORDER BY ",
            $key,
            ", c.created_at, c.id LIMIT ?2"
        )
    };
}
pub(crate) const CASES_FOR_ANY_KIOSK: &str =
    cases_for_kiosks!("cases_for_kiosks", "c.branch IS NULL AND c.for_kiosk IS NULL", "c.branch");
pub(crate) const CASES_FOR_A_BRANCH: &str =
    cases_for_kiosks!("cases_for_kiosks", "c.branch = ?4 AND c.for_kiosk IS NULL", "c.branch");
pub(crate) const CASES_FOR_THIS_KIOSK: &str =
    cases_for_kiosks!("cases_for_one_kiosk", "c.for_kiosk = ?1", "c.for_kiosk");

/// An open case offered to a kiosk, with what the kiosk keeps of it.
#[derive(Debug, Clone)]
pub struct OfferedCase {
    pub case: vouch_core::Case,
    /// The code a person types at the kiosk.
    pub code: String,
    /// Whether the kiosk asking holds it.
    pub claimed: bool,
    pub flow: std::sync::Arc<FlowVersion>,
    /// The steps recorded so far (a case run partly at the central's own desk).
    pub steps: Vec<StepRecord>,
    /// The integrator's reference photo for the face match, if there is one.
    pub reference_photo: Option<crate::central::PulledPhoto>,
}

/// The branch a paired kiosk was paired for, if any.
fn kiosk_branch(conn: &Conn<'_>, kiosk_id: &str) -> Result<Option<String>> {
    let row = conn.query_opt("SELECT branch FROM kiosks WHERE id = ?1", db_params![kiosk_id])?;
    Ok(row.map(|r| r.get::<Option<String>>(0)).transpose()?.flatten())
}

fn applied(conn: &Conn<'_>, item_id: &str) -> Result<bool> {
    Ok(conn.query_opt("SELECT 1 FROM sync_items WHERE item_id = ?1", db_params![item_id])?.is_some())
}

impl Store {
    /// Notes that a kiosk was heard from.
    pub fn touch_kiosk(&self, kiosk_id: &str) -> Result<()> {
        self.with(|conn| {
            conn.execute("UPDATE kiosks SET last_seen_at = ?1 WHERE id = ?2", db_params![to_ms(now()), kiosk_id])
        })?;
        Ok(())
    }

    /// The open cases that `kiosk_id` may run, with their flows, oldest first: those for any kiosk and those for its
    /// branch, and those for it alone, nobody else's claim on them; only cases with a flow. They are read from the `cases_for_kiosks` index, so the cost follows
    /// what is offered, not how many other cases are open: two statements, one per flow version listed, and one per
    /// case already under way (its steps).
    pub fn cases_for_kiosk(&self, kiosk_id: &str, limit: u32) -> Result<Vec<OfferedCase>> {
        let limit = i64::from(limit.clamp(1, MOST_LISTED));
        // A case past its expiry that the sweep has not closed yet is not offered: it reads as expired.
        let at = to_ms(now());
        let rows = self.with(|conn| {
            let mut rows = conn.query(CASES_FOR_ANY_KIOSK, db_params![kiosk_id, limit, at])?;
            rows.extend(conn.query(CASES_FOR_THIS_KIOSK, db_params![kiosk_id, limit, at])?);
            if let Some(branch) = kiosk_branch(conn, kiosk_id)? {
                rows.extend(conn.query(CASES_FOR_A_BRANCH, db_params![kiosk_id, limit, at, branch])?);
            }
            Ok(rows)
        })?;
        let mut listed = Vec::with_capacity(rows.len());
        for r in &rows {
            let case = crate::cases::case_from_row(r)?;
            let code: Option<String> = r.get(16)?;
            let holder: Option<String> = r.get(17)?;
            let photo: Option<String> = r.get(18)?;
            listed.push((case, code, holder, photo));
        }
        listed.sort_by_key(|l| (l.0.created_at, l.0.id.to_string()));
        listed.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut flows: std::collections::HashMap<(String, u32), std::sync::Arc<FlowVersion>> = Default::default();
        let mut offered = Vec::with_capacity(listed.len());
        for (case, code, holder, photo) in listed {
            let Some(pinned) = case.flow.clone() else { continue };
            let flow = match flows.get(&(pinned.id.clone(), pinned.version)) {
                Some(flow) => flow.clone(),
                None => {
                    let flow = std::sync::Arc::new(self.flow_version(&pinned.id, pinned.version)?);
                    flows.insert((pinned.id, pinned.version), flow.clone());
                    flow
                }
            };
            // A step moves a case on from pending: only a case under way has steps to read.
            let steps =
                if case.status == vouch_core::CaseStatus::Pending { Vec::new() } else { self.case_steps(case.id)? };
            let reference_photo = photo.and_then(|p| {
                let (sha256, media_type) = p.split_once(' ')?;
                Some(crate::central::PulledPhoto { sha256: sha256.into(), media_type: media_type.into() })
            });
            offered.push(OfferedCase {
                code: code.ok_or_else(|| StoreError::corrupt("an open case without a code"))?,
                claimed: holder.as_deref() == Some(kiosk_id),
                flow,
                steps,
                reference_photo,
                case,
            });
        }
        Ok(offered)
    }

    /// What a kiosk needs to have a case's signer read and sign at the kiosk: the signer's name and method, and the
    /// newest version of each document. `None` for a case that signs nothing.
    pub fn signing_for_kiosk(&self, case_id: CaseId) -> Result<Option<crate::central::PulledSigning>> {
        let Some(signer) = self.signer(case_id)? else { return Ok(None) };
        let process = self.sign_process(&signer.process_id)?;
        let documents = process
            .documents
            .into_iter()
            .filter(|d| d.purged_at.is_none())
            .map(|d| crate::central::PulledDocument {
                position: d.position,
                name: d.name,
                sha256: d.current_sha256,
                size: d.size,
            })
            .collect();
        Ok(Some(crate::central::PulledSigning { signer_name: signer.name, method: signer.method, documents }))
    }

    /// Whether `kiosk_id` may run a case: open, with a flow, for any kiosk, its branch or itself, and nobody
    /// else's claim. What a kiosk fetches of a case (its reference photo, its documents) is fetched on this.
    pub fn kiosk_may_run(&self, kiosk_id: &str, case_id: CaseId) -> Result<bool> {
        let case = self.get_case(case_id)?;
        let id = case_id.to_string();
        self.with(|conn| {
            let for_it = match (&case.for_kiosk, &case.branch) {
                (Some(kiosk), _) => kiosk == kiosk_id,
                (None, Some(branch)) => kiosk_branch(conn, kiosk_id)?.as_ref() == Some(branch),
                (None, None) => true,
            };
            let held_elsewhere = holder(conn, &id)?.is_some_and(|h| h != kiosk_id);
            Ok(for_it && !held_elsewhere && case.flow.is_some() && !case.status.is_terminal())
        })
    }

    /// The kiosk that holds a case.
    pub fn case_holder(&self, case_id: CaseId) -> Result<Option<String>> {
        self.with(|conn| holder(conn, &case_id.to_string()))
    }

    /// Claims an open case with a flow for `kiosk_id`: done already when it holds it, a conflict when another
    /// kiosk does. The first claim is audited on the case's chain.
    pub fn claim_case(&self, kiosk_id: &str, case_id: CaseId) -> Result<()> {
        let case = self.get_case(case_id)?;
        if case.flow.is_none() {
            return Err(StoreError::Conflict("this case has no flow for a kiosk to run".into()));
        }
        let id = case_id.to_string();
        self.with(|conn| {
            conn.transaction(|tx| {
                if case.for_kiosk.as_deref().is_some_and(|k| k != kiosk_id) {
                    return Err(StoreError::Conflict("this case is for another kiosk".into()));
                }
                if case.for_kiosk.is_none() && case.branch.is_some() && kiosk_branch(tx, kiosk_id)? != case.branch {
                    return Err(StoreError::Conflict("this case is for another branch's kiosks".into()));
                }
                tx.lock(&id)?;
                // Another kiosk's hold is the reason a kiosk that ran the case offline needs to hear, even once
                // that kiosk closed it.
                match holder(tx, &id)? {
                    Some(h) if h == kiosk_id => return Ok(()),
                    Some(_) => return Err(StoreError::Conflict("another kiosk holds this case".into())),
                    None => {}
                }
                if case.status.is_terminal() || case.flow.is_none() {
                    let why = format!("the case is {} and cannot be run at a kiosk", case.status);
                    return Err(StoreError::Conflict(why));
                }
                let at = now();
                tx.execute(
                    "INSERT INTO case_claims (case_id, kiosk_id, claimed_at) VALUES (?1, ?2, ?3)",
                    db_params![id, kiosk_id, to_ms(at)],
                )?;
                let detail = serde_json::json!({"kiosk": kiosk_id});
                crate::audit::append_event(
                    tx,
                    self.audit_key(),
                    &id,
                    at,
                    &format!("kiosk:{kiosk_id}"),
                    "case_claimed",
                    &detail,
                )
            })
        })
    }

    /// Records a step a kiosk ran, with what it captured, as item `item_id`: once, however often it is pushed.
    /// The kiosk must hold the case.
    pub fn push_kiosk_step(
        &self,
        kiosk_id: &str,
        item_id: &str,
        step: NewStep,
        captures: &[Capture<'_>],
    ) -> Result<(Pushed, Option<StepRecord>)> {
        self.push_kiosk_step_with(kiosk_id, item_id, step, captures, |_, _| Ok(()))
    }

    /// Whether the central applied a kiosk's item already.
    pub fn kiosk_item_applied(&self, item_id: &str) -> Result<bool> {
        self.with(|conn| applied(conn, item_id))
    }

    /// As [`Store::push_kiosk_step`], with more writes (`within`) in the step's transaction.
    pub(crate) fn push_kiosk_step_with(
        &self,
        kiosk_id: &str,
        item_id: &str,
        step: NewStep,
        captures: &[Capture<'_>],
        within: impl FnOnce(&Conn<'_>, time::OffsetDateTime) -> Result<()>,
    ) -> Result<(Pushed, Option<StepRecord>)> {
        let case = step.case_id.to_string();
        if self.with(|conn| applied(conn, item_id))? {
            return Ok((Pushed::AlreadyApplied, None));
        }
        if self.with(|conn| holder(conn, &case))?.as_deref() != Some(kiosk_id) {
            return Err(StoreError::Conflict("claim the case before pushing its steps".into()));
        }
        let actor = format!("kiosk:{kiosk_id}");
        let recorded = self.record_step_with(step, captures, &actor, |tx, at| {
            tx.execute(
                "INSERT INTO sync_items (item_id, kiosk_id, case_id, applied_at) VALUES (?1, ?2, ?3, ?4)",
                db_params![item_id, kiosk_id, case, to_ms(at)],
            )?;
            within(tx, at)
        });
        match recorded {
            Ok(record) => Ok((Pushed::Applied, Some(record))),
            // The same item pushed twice at once: the other push applied it.
            Err(e) if self.with(|conn| applied(conn, item_id))? => {
                tracing::debug!(error = %e, "a repeated push of a kiosk's step");
                Ok((Pushed::AlreadyApplied, None))
            }
            Err(e) => Err(e),
        }
    }
}
