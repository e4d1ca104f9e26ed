//! The retention job: evidence of closed cases older than the admin's retention period is purged,
//! on a timer and on demand from admin settings. The store records each purge in the audit log.

use vouch_store::retention::PurgeReport;

use crate::error::ApiError;
use crate::state::AppState;

/// `on_demand`: an admin asked, so even a run that finds nothing is audited.
pub async fn purge(state: &AppState, actor: &str, on_demand: bool) -> Result<PurgeReport, ApiError> {
    let actor = actor.to_string();
    let report = state
        .db(move |s| {
            let days = s.kiosk_settings()?.retention_days;
            let cutoff = vouch_store::now() - time::Duration::days(i64::from(days));
            s.purge_evidence(cutoff, days, &actor, on_demand)
        })
        .await?;
    tracing::info!(cases = report.cases, evidence = report.evidence, blobs = report.blobs_deleted, "retention purge");
    Ok(report)
}

pub async fn run(state: AppState) {
    loop {
        if let Err(e) = purge(&state, "system:retention", false).await {
            tracing::error!(error = %e.message, "retention purge failed");
        }
        tokio::time::sleep(state.config.retention_sweep).await;
    }
}
