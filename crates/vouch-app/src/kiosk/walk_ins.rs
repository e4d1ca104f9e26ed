//! A clerk starts a case for a person who walked in without one, on the flow the central service set for this
//! kiosk's walk-ins. It runs here at once, online or not; the central makes it (for the integrator the central's
//! admin named) when it is reached.

use serde::Serialize;
use ts_rs::TS;

use super::customer::CaseSession;
use super::Kiosk;
use crate::AppError;

#[derive(Serialize, TS)]
#[ts(optional_fields = nullable)]
pub struct WalkInsView {
    /// The name of the flow a walk-in runs; None when this kiosk takes no walk-ins (not paired with a central, or
    /// the central's admin has not set them up for it).
    pub flow_name: Option<String>,
}

pub async fn walk_ins(state: &Kiosk) -> Result<WalkInsView, AppError> {
    Ok(WalkInsView { flow_name: state.db(|s| s.walk_in_flow()).await?.map(|f| f.name) })
}

pub async fn walk_in_open(state: &Kiosk, actor: String) -> Result<CaseSession, AppError> {
    let ttl = time::Duration::try_from(state.app.case_ttl).unwrap_or(time::Duration::days(7));
    let case = state.db(move |s| s.open_walk_in_case(ttl, &actor)).await?;
    tracing::info!(case_id = %case.id, "walk-in case started at the kiosk");
    crate::central::claim_before_running(&state.app, state.central.as_ref(), case.id).await?;
    crate::steps::case_session(&state.app, case.id).await
}
