//! What the customer's screens may do: see the kiosk's status, open their case by code or link, and
//! record the steps that are theirs. Nothing here returns a name, a document number or a claim value:
//! whoever stands at the terminal only learns where the case is in its flow.

use crate::steps::Submitter;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;
use vouch_core::flow::{self, StepKind, StepOutcome};
use vouch_core::CaseId;
use vouch_store::flows::NewStep;

use super::Kiosk;
use super::{Caller, Role};
use crate::{AppCode, AppError};

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

pub async fn status(state: &Kiosk, caller: &Caller) -> Result<KioskStatus, AppError> {
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

pub use crate::steps::CaseSession;

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

pub async fn open(state: &Kiosk, args: OpenArgs) -> Result<CaseSession, AppError> {
    if args.code.len() > 500 {
        return Err(AppError::invalid("That is too long to be a case code"));
    }
    if state.sessions.codes_paused() {
        return Err(AppError::new(AppCode::TooManyAttempts, "Too many wrong codes. Wait a minute, then try again."));
    }
    crate::cases::expire_due(&state.app).await?;
    let input = args.code.clone();
    let found = match case_id_in(&input) {
        Some(id) => state.db(move |s| s.get_case(id).map(|_| id)).await,
        None => state.db(move |s| s.case_by_code(&input)).await,
    };
    let case_id = match found {
        Ok(id) => id,
        Err(e) if e.code == AppCode::NotFound => {
            state.sessions.note_wrong_code();
            return Err(AppError::not_found(NO_SUCH_CODE));
        }
        Err(e) => return Err(e),
    };
    crate::central::claim_before_running(&state.app, state.central.as_ref(), case_id).await?;
    tracing::info!(%case_id, "case opened at the kiosk");
    crate::steps::case_session(&state.app, case_id).await
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
pub async fn submit(state: &Kiosk, caller: &Caller, args: StepSubmitArgs) -> Result<CaseSession, AppError> {
    let case_id = CaseId::parse(&args.case_id).ok_or_else(|| AppError::not_found(NO_SUCH_CODE))?;
    let by = Submitter { actor: caller.actor(), staff: matches!(caller.role(), Some(Role::Clerk | Role::Admin)) };
    let step = NewStep { case_id, index: args.index, kind: args.kind, outcome: args.outcome, detail: args.detail };
    crate::steps::submit(&state.app, by, step).await
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
