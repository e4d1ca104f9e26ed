//! The kiosk settings' page on the central service: pair this kiosk with one, see how its sync stands, and sync now.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use vouch_store::central::CentralStatus;

use super::Kiosk;
use crate::central::{self, Round};
use crate::AppError;

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct CentralPairArgs {
    /// The central's address: `https://central.example` (http only on this machine).
    pub url: String,
    /// The SHA-256 fingerprint `vouch serve` printed for its generated certificate, to pin it; none: a certificate
    /// the system's CAs vouch for.
    pub fingerprint: Option<String>,
    /// The one-time code the central's admin made for this kiosk.
    pub code: String,
}

#[derive(Serialize, TS)]
#[ts(optional_fields = nullable)]
pub struct CentralLinkView {
    pub url: String,
    pub kiosk_id: String,
    pub name: String,
    pub branch: Option<String>,
    /// The central's pinned certificate fingerprint, if the admin gave one.
    pub fingerprint: Option<String>,
    pub paired_at: String,
    pub last_sync_at: Option<String>,
    /// Why the last sync stopped; None when it finished.
    pub last_error: Option<String>,
}

#[derive(Serialize, TS)]
pub struct RefusedCaseView {
    pub case_id: String,
    pub reason: String,
}

#[derive(Serialize, TS)]
#[ts(optional_fields = nullable)]
pub struct CentralView {
    /// None until this kiosk is paired.
    pub link: Option<CentralLinkView>,
    /// Steps and decisions recorded here that the central has not acknowledged yet.
    pub waiting: u64,
    /// Cases pulled from the central.
    pub pulled: u64,
    /// Cases the central refused this kiosk's work on, for a clerk or admin to look into.
    pub refused: Vec<RefusedCaseView>,
    /// What a sync asked for just now did, if one was asked for.
    pub round: Option<Round>,
    /// The name of the flow walk-ins run, when the central takes walk-ins from this kiosk.
    pub walk_in_flow: Option<String>,
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn view(status: CentralStatus, round: Option<Round>) -> CentralView {
    CentralView {
        link: status.link.map(|l| CentralLinkView {
            url: l.url,
            kiosk_id: l.kiosk_id,
            name: l.name,
            branch: l.branch,
            fingerprint: l.fingerprint,
            paired_at: rfc3339(l.paired_at),
            last_sync_at: l.last_sync_at.map(rfc3339),
            last_error: l.last_error,
        }),
        waiting: status.waiting,
        pulled: status.pulled,
        refused: status.refused.into_iter().map(|r| RefusedCaseView { case_id: r.case_id, reason: r.reason }).collect(),
        round,
        walk_in_flow: status.walk_in_flow,
    }
}

pub async fn central_status(state: &Kiosk) -> Result<CentralView, AppError> {
    Ok(view(state.db(|s| s.central_status()).await?, None))
}

pub async fn central_pair(state: &Kiosk, args: CentralPairArgs, actor: &str) -> Result<CentralView, AppError> {
    let fingerprint = args.fingerprint.as_deref();
    central::pair(&state.app, state.central.as_ref(), &args.url, fingerprint, &args.code, actor).await?;
    central_status(state).await
}

pub async fn central_unpair(state: &Kiosk, actor: &str) -> Result<CentralView, AppError> {
    let actor = actor.to_string();
    state.db(move |s| s.unlink_central(&actor)).await?;
    tracing::info!("unpaired from the central service");
    central_status(state).await
}

/// Runs one sync round now, as the loop would, and says what it did.
pub async fn central_sync_now(state: &Kiosk) -> Result<CentralView, AppError> {
    let Some(link) = state.db(|s| s.central_link()).await? else {
        return Err(AppError::conflict("this kiosk is not paired with a central service"));
    };
    let secret = state.db(|s| s.central_secret()).await?;
    let connected = state
        .central
        .connect(&link, secret)
        .map_err(|e| AppError::new(crate::AppCode::CentralUnreachable, e.to_string()))?;
    let round = match central::sync_once(&state.app, connected.as_ref()).await {
        Ok(round) => round,
        Err(e) => {
            let why = e.to_string();
            state.db(move |s| s.note_central_sync(Some(&why))).await?;
            return Err(match e {
                central::SyncError::Local(e) => e,
                central::SyncError::Link(e) => AppError::new(crate::AppCode::CentralUnreachable, e.to_string()),
            });
        }
    };
    state.db(|s| s.note_central_sync(None)).await?;
    Ok(view(state.db(|s| s.central_status()).await?, Some(round)))
}
