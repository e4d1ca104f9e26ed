//! What the customer's screens may do: see the kiosk's status, open their case by code or link, and
//! record the steps that are theirs. Nothing here returns a name, a document number or a claim value:
//! whoever stands at the terminal only learns where the case is in its flow.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;
use vouch_core::flow::{self, Next, Step, StepKind, StepOutcome, StepRecord};
use vouch_core::{CaseId, CaseStatus};
use vouch_store::case_codes::format_code;

use super::{Caller, Role};
use crate::error::{ApiError, Code};
use crate::state::AppState;

/// What every screen needs first: whether the kiosk is set up, its languages, idle timeout and clerks.
#[derive(Serialize, TS)]
pub struct KioskStatus {
    /// No admin PIN yet: the kiosk asks for one before anything else.
    pub first_run: bool,
    /// First run over HTTP: the setup screen also asks for the setup code `vouch serve` printed.
    pub setup_code_required: bool,
    #[ts(type = "Array<Lang>")]
    pub languages: &'static [&'static str],
    #[ts(type = "Lang")]
    pub default_language: String,
    pub idle_timeout_secs: u32,
    pub version: &'static str,
    pub clerks: Vec<ClerkName>,
    /// Where this UI's API lives; the kiosk app reports "embedded" or the remote server's URL.
    pub server: String,
}

#[derive(Serialize, TS)]
pub struct ClerkName {
    pub id: i64,
    pub name: String,
}

pub async fn status(state: &AppState, caller: &Caller) -> Result<KioskStatus, ApiError> {
    let (first_run, settings, clerks) =
        state.db(|s| Ok((!s.admin_pin_is_set()?, s.kiosk_settings()?, s.list_clerks()?))).await?;
    Ok(KioskStatus {
        first_run,
        setup_code_required: first_run && caller.transport == super::Transport::Http,
        languages: &flow::LANGUAGES,
        default_language: settings.default_language,
        idle_timeout_secs: settings.idle_timeout_secs,
        version: env!("CARGO_PKG_VERSION"),
        clerks: clerks.into_iter().map(|c| ClerkName { id: c.id, name: c.name }).collect(),
        server: state.app.public_url.to_string(),
    })
}

/// A case as the kiosk screens see it.
#[derive(Serialize, TS)]
pub struct CaseSession {
    pub case_id: CaseId,
    pub code: String,
    pub status: CaseStatus,
    /// The integrator's purpose text, per language where given (shown so people know why they are asked).
    pub purpose: Option<String>,
    pub purpose_translations: std::collections::BTreeMap<String, String>,
    pub steps: Vec<Step>,
    pub done: Vec<StepRecord>,
    pub next: Next,
}

/// Callers run the expiry sweep first, so the status is current.
pub(crate) async fn case_session(state: &AppState, case_id: CaseId) -> Result<CaseSession, ApiError> {
    state
        .db(move |s| {
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

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct OpenArgs {
    /// A case code (`ABCD-EFGH`), an eeID `link`, or a case id: whatever was typed or scanned.
    pub code: String,
}

const NO_SUCH_CODE: &str = "No case has this code. Check the code on your letter or screen and try again.";

/// The case id inside a scanned eeID link (`.../kiosk/requests/{id}`) or a bare id.
fn case_id_in(input: &str) -> Option<CaseId> {
    let tail = input.trim().trim_end_matches('/').rsplit('/').next()?;
    CaseId::parse(tail.split(['?', '#']).next()?)
}

pub async fn open(state: &AppState, args: OpenArgs) -> Result<CaseSession, ApiError> {
    if args.code.len() > 500 {
        return Err(ApiError::invalid("That is too long to be a case code"));
    }
    if state.kiosk.codes_paused() {
        return Err(ApiError::new(Code::TooManyAttempts, "Too many wrong codes. Wait a minute, then try again."));
    }
    vouch_app::cases::expire_due(&state.app).await?;
    let input = args.code.clone();
    let found = match case_id_in(&input) {
        Some(id) => state.db(move |s| s.get_case(id).map(|_| id)).await,
        None => state.db(move |s| s.case_by_code(&input)).await,
    };
    let case_id = match found {
        Ok(id) => id,
        Err(e) if e.code == Code::NotFound => {
            state.kiosk.note_wrong_code();
            return Err(ApiError::not_found(NO_SUCH_CODE));
        }
        Err(e) => return Err(e),
    };
    tracing::info!(%case_id, "case opened at the kiosk");
    case_session(state, case_id).await
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct StepSubmitArgs {
    pub case_id: String,
    pub index: u32,
    pub kind: StepKind,
    pub outcome: StepOutcome,
    #[serde(default)]
    #[ts(as = "Option<Value>", optional)]
    pub detail: Value,
}

/// Records a step. The customer records their own steps (consent); a clerk review needs a clerk.
pub async fn submit(state: &AppState, caller: &Caller, args: StepSubmitArgs) -> Result<CaseSession, ApiError> {
    let case_id = CaseId::parse(&args.case_id).ok_or_else(|| ApiError::not_found(NO_SUCH_CODE))?;
    if args.kind == StepKind::ClerkReview && !matches!(caller.role(), Some(Role::Clerk | Role::Admin)) {
        return Err(ApiError::forbidden("A clerk confirms this step: please ask at the desk"));
    }
    if matches!(
        args.kind,
        StepKind::Selfie
            | StepKind::Liveness
            | StepKind::FaceMatch
            | StepKind::DocumentChip
            | StepKind::DocumentScan
            | StepKind::Signature
    ) {
        return Err(ApiError::new(
            Code::Conflict,
            format!(
                "The {} step is decided by the kiosk's camera, chip reader or signature pad, not submitted",
                args.kind.as_str()
            ),
        ));
    }
    if let Some(missing) = args.kind.missing_capability() {
        return Err(ApiError::new(Code::NotImplemented, format!("This Vouch version cannot run {missing} yet")));
    }
    if args.detail.to_string().len() > 16 * 1024 {
        return Err(ApiError::invalid("detail must be at most 16 KiB of JSON"));
    }
    vouch_app::cases::expire_due(&state.app).await?;
    let actor = caller.actor();
    let (kind, outcome, detail) = (args.kind, args.outcome, args.detail);
    state.db(move |s| s.record_step(case_id, args.index, kind, outcome, detail, &actor)).await?;
    tracing::info!(%case_id, step = args.index + 1, kind = kind.as_str(), outcome = outcome.as_str(), "step recorded");
    case_session(state, case_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_case_id_in_a_link_or_alone() {
        let id = CaseId::new();
        for input in [
            format!("http://127.0.0.1:8270/kiosk/requests/{id}"),
            format!("http://x/kiosk/requests/{id}/"),
            format!("https://x/kiosk/requests/{id}?lang=et"),
            format!(" {id} "),
        ] {
            assert_eq!(case_id_in(&input), Some(id), "{input}");
        }
        assert_eq!(case_id_in("ABCD-EFGH"), None);
    }
}
