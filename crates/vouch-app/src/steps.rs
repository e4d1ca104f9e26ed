//! Running a case's flow: where a case stands (its steps, what is done, what comes next), which step is the
//! current one, and recording a step with its evidence in one transaction. The kiosk's command handlers call
//! these; whoever runs a flow next (a synced kiosk, a remote validation) calls the same.

use std::collections::BTreeMap;

use serde::Serialize;
use vouch_core::flow::{self, Next, Step, StepKind, StepRecord};
use vouch_core::{CaseId, CaseStatus, EvidenceKind};
use vouch_store::case_codes::format_code;
use vouch_store::flows::{Capture, NewStep};

use crate::{App, AppError};

/// A case as the kiosk screens see it. Nothing here is personal: whoever stands at the terminal only learns
/// where the case is in its flow.
#[derive(Serialize, ts_rs::TS)]
pub struct CaseSession {
    pub case_id: CaseId,
    pub code: String,
    pub status: CaseStatus,
    /// The integrator's purpose text, per language where given (shown so people know why they are asked).
    pub purpose: Option<String>,
    pub purpose_translations: BTreeMap<String, String>,
    pub steps: Vec<Step>,
    pub done: Vec<StepRecord>,
    pub next: Next,
}

/// Where `case_id` stands. Callers run the expiry sweep first, so the status is current.
pub async fn case_session(app: &App, case_id: CaseId) -> Result<CaseSession, AppError> {
    app.db(move |s| {
        let case = s.get_case(case_id)?;
        let code = s.case_code(case_id)?;
        let flow_ref = case
            .flow
            .clone()
            .ok_or_else(|| vouch_store::StoreError::Conflict("this case has no flow to run".into()))?;
        let flow = s.flow_version(&flow_ref.id, flow_ref.version)?;
        let done = s.case_steps(case_id)?;
        let next = flow::next_step(&flow.steps, &done);
        Ok(CaseSession {
            case_id,
            code: format_code(&code),
            status: case.status,
            purpose: case.reason,
            purpose_translations: case.reason_translations,
            steps: flow.steps,
            done,
            next,
        })
    })
    .await
}

/// The case's current step, which must be step `index` and of `kind`: a step can only be run in its turn.
pub async fn current_step(app: &App, case_id: CaseId, index: u32, kind: StepKind) -> Result<Step, AppError> {
    crate::cases::expire_due(app).await?;
    match case_session(app, case_id).await?.next {
        Next::Step { index: at, step } if at == index && step.kind() == kind => Ok(step),
        _ => Err(AppError::conflict(format!("Step {} is not the case's current {} step", index + 1, kind.as_str()))),
    }
}

/// One piece of a step's evidence: its kind, media type and bytes.
pub type Evidence = (EvidenceKind, &'static str, Vec<u8>);

/// Records a step the server decided, with its evidence, in one transaction, on behalf of `actor`.
pub async fn record(app: &App, actor: String, step: NewStep, evidence: Vec<Evidence>) -> Result<(), AppError> {
    let (case_id, index, kind, outcome) = (step.case_id, step.index, step.kind, step.outcome);
    app.db(move |s| {
        let list: Vec<Capture<'_>> =
            evidence.iter().map(|(k, media_type, bytes)| Capture { kind: *k, media_type, bytes }).collect();
        s.record_step_with_captures(step, &list, &actor)
    })
    .await?;
    tracing::info!(%case_id, step = index + 1, kind = kind.as_str(), outcome = outcome.as_str(), "step recorded");
    Ok(())
}

/// Who submits a step at the kiosk: the audit log's name for them, and whether they are staff.
pub struct Submitter {
    pub actor: String,
    pub staff: bool,
}

/// The largest step detail a person (or an admin client) may submit, as JSON.
pub const MAX_SUBMITTED_DETAIL: usize = 16 * 1024;

/// Refuses a submitted step detail larger than [`MAX_SUBMITTED_DETAIL`].
pub fn check_submitted_detail(detail: &serde_json::Value) -> Result<(), AppError> {
    if detail.to_string().len() > MAX_SUBMITTED_DETAIL {
        return Err(AppError::invalid("detail must be at most 16 KiB of JSON"));
    }
    Ok(())
}

/// Records a step a person decides at the kiosk (consent, a clerk's review). Steps the kiosk's camera, chip
/// reader or signature pad decide are never taken from a person, and only staff confirm a clerk review.
pub async fn submit(app: &App, by: Submitter, step: NewStep) -> Result<CaseSession, AppError> {
    let (case_id, index, kind, outcome) = (step.case_id, step.index, step.kind, step.outcome);
    if kind == StepKind::ClerkReview && !by.staff {
        return Err(AppError::new(crate::AppCode::Forbidden, "A clerk confirms this step: please ask at the desk"));
    }
    if kind.decided_by_device() {
        return Err(AppError::conflict(format!(
            "The {} step is decided by the kiosk's camera, chip reader or signature pad, not submitted",
            kind.as_str()
        )));
    }
    if let Some(missing) = kind.missing_capability() {
        return Err(AppError::new(
            crate::AppCode::NotImplemented,
            format!("This Vouch version cannot run {missing} yet"),
        ));
    }
    check_submitted_detail(&step.detail)?;
    crate::cases::expire_due(app).await?;
    let actor = by.actor;
    app.db(move |s| s.record_step(step, &actor)).await?;
    tracing::info!(%case_id, step = index + 1, kind = kind.as_str(), outcome = outcome.as_str(), "step recorded");
    case_session(app, case_id).await
}

/// Records a step that an admin client reports over Vouch's own API (a back office that ran it elsewhere).
/// Steps the kiosk decides from its own camera (selfie, liveness, face match) are refused: their evidence can
/// only come from the kiosk.
pub async fn record_reported(app: &App, actor: String, step: NewStep) -> Result<(), AppError> {
    crate::cases::expire_due(app).await?;
    check_submitted_detail(&step.detail)?;
    if step.kind.decided_by_device() {
        return Err(AppError::conflict(format!(
            "The {} step is decided by the kiosk's camera, chip reader or signature pad, not recorded over the API",
            step.kind.as_str()
        )));
    }
    app.db(move |s| s.record_step(step, &actor)).await.map_err(|e| e.with_not_found(crate::cases::NO_SUCH_CASE))?;
    Ok(())
}
