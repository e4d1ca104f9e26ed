//! The retention job: what the kiosk holds about a person past the admin's retention period is purged (closed
//! cases' evidence and signer details, their sign processes' documents, old DIS customers and faces; see
//! `vouch_store::retention`), on a timer and on demand from admin settings. The store audits each purge.

use vouch_store::retention::PurgeReport;

use crate::{App, AppError};

/// `on_demand`: an admin asked, so even a run that finds nothing is audited.
pub async fn purge(app: &App, actor: &str, on_demand: bool) -> Result<PurgeReport, AppError> {
    let actor = actor.to_string();
    let report = app
        .db(move |s| {
            let days = s.kiosk_settings()?.retention_days;
            let cutoff = vouch_store::now() - time::Duration::days(i64::from(days));
            s.purge_evidence(cutoff, days, &actor, on_demand)
        })
        .await?;
    tracing::info!(
        cases = report.cases,
        evidence = report.evidence,
        signers = report.signers,
        sign_documents = report.sign_documents,
        dis_customers = report.dis_customers,
        dis_faces = report.dis_faces,
        trust_records = report.trust_records,
        blobs = report.blobs_deleted,
        "retention purge"
    );
    Ok(report)
}

/// Blobs nothing names are deleted once they are this old (a row naming a younger one may not have
/// committed yet).
pub const ORPHAN_BLOB_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Purges, then sweeps orphan blobs, every `every`, for as long as the server runs.
pub async fn run(app: App, every: std::time::Duration) {
    loop {
        if let Err(e) = purge(&app, "system:retention", false).await {
            tracing::error!(error = %e.message, "retention purge failed");
        }
        if let Err(e) = app.db(|s| s.sweep_orphan_blobs(ORPHAN_BLOB_AGE)).await {
            tracing::error!(error = %e.message, "orphan blob sweep failed");
        }
        tokio::time::sleep(every).await;
    }
}
