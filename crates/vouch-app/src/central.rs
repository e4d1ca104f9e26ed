//! A kiosk's side of syncing with a central service. An admin pairs the kiosk once with a code the central's admin
//! made; from then on a loop pushes up what was recorded here on the cases pulled from the central (claiming each
//! before its first item, items of a case in the order they were recorded, each under an id the central applies
//! once) and then pulls the open cases the central offers. When the central cannot be reached the kiosk goes on
//! with what it has, and the next round picks up where the last one stopped: the outbox lives in the store.
//!
//! The HTTP is the server crate's ([`CentralConnector`]): this module decides what is sent, when, and what is kept.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use vouch_core::flow::{FlowVersion, StepRecord};
use vouch_core::{Case, CaseId, Decision, EvidenceKind};
use vouch_store::central::{
    CaptureRef, CentralLink, OutboxBody, OutboxItem, OutboxStep, Pairing, PulledCase, ReferenceBytes,
};
use vouch_store::walk_ins::WalkInCase;

use crate::{App, AppCode, AppError};

/// Why a call to the central did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not reached, timed out, or the central failed (5xx): try again later, nothing is lost.
    #[error("the central service could not be reached: {0}")]
    Unreachable(String),
    /// The central answered that this cannot be done (4xx): trying again will not help.
    #[error("the central service refused it ({status}): {message}")]
    Refused { status: u16, message: String },
}

pub type LinkFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, LinkError>> + Send + 'a>>;

/// One step's captures as they go up: what the outbox names, with the bytes read back from the blob store.
pub struct UpCapture {
    pub capture: CaptureRef,
    pub bytes: Vec<u8>,
}

/// A central service, as this kiosk signs in to it.
pub trait Central: Send + Sync {
    fn cases(&self) -> LinkFuture<'_, Vec<PulledCase>>;
    fn claim(&self, case_id: CaseId) -> LinkFuture<'_, ()>;
    /// A case's reference photo: its bytes.
    fn reference_photo(&self, case_id: CaseId) -> LinkFuture<'_, Vec<u8>>;
    /// A document a signing case's signer reads (the PDF), by its position in the listing.
    fn document_to_sign(&self, case_id: CaseId, position: u32) -> LinkFuture<'_, Vec<u8>>;
    /// Pushes a step; answers the central's decision when the case's steps decided it there.
    fn push_step<'a>(
        &'a self,
        case_id: CaseId,
        item_id: &'a str,
        step: &'a OutboxStep,
        captures: Vec<UpCapture>,
    ) -> LinkFuture<'a, Option<Decision>>;
    fn push_decision<'a>(&'a self, case_id: CaseId, item_id: &'a str, decision: &'a Decision) -> LinkFuture<'a, ()>;
    /// Has the central run the gallery step a case this kiosk holds is at, on the face pushed before it.
    fn run_gallery_step(&self, case_id: CaseId, index: u32) -> LinkFuture<'_, GalleryStepAnswer>;
    /// The flow this kiosk's walk-ins run, if the central takes walk-ins from it.
    fn walk_in_flow(&self) -> LinkFuture<'_, Option<FlowVersion>>;
    /// Has the central make a walk-in started here, held by this kiosk (done already is fine).
    fn make_walk_in<'a>(&'a self, walk_in: &'a WalkInCase) -> LinkFuture<'a, ()>;
}

/// The central's answer on a gallery step: the step as it recorded it, and the case after it.
#[derive(Debug, Clone, Deserialize)]
pub struct GalleryStepAnswer {
    pub step: StepRecord,
    pub case: Case,
}

/// Reaches central services: pairs with one, and signs in to the one this kiosk is paired with.
pub trait CentralConnector: Send + Sync {
    /// Exchanges a pairing code at `url` for this kiosk's credentials there; with `fingerprint`, only a central
    /// serving the certificate of that SHA-256 is believed.
    fn pair<'a>(&'a self, url: &'a str, fingerprint: Option<&'a str>, code: &'a str) -> LinkFuture<'a, Pairing>;
    fn connect(&self, link: &CentralLink, secret: String) -> Result<Arc<dyn Central>, LinkError>;
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Round {
    /// Items the central applied.
    pub pushed: u32,
    /// Cases the central refused this kiosk's work on (another kiosk holds them, or they were closed there).
    pub refused: u32,
    /// New cases kept here.
    pub pulled: u32,
    /// Pulled cases the central no longer offers (another kiosk took them, or they closed there), withdrawn here.
    pub withdrawn: u32,
}

/// How many open cases one pull asks for: the most the central lists.
pub const PULL_LIMIT: u32 = vouch_store::sync::MOST_LISTED;

/// Why a round stopped.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("the kiosk's store: {0}")]
    Local(#[from] AppError),
}

/// A central address: https, or http to this machine.
pub fn check_url(url: &str) -> Result<String, AppError> {
    let url = url.trim().trim_end_matches('/');
    let parsed = url::Url::parse(url).map_err(|_| AppError::invalid("the central's address is not a URL"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let ok = parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback);
    if !ok || parsed.query().is_some() || !parsed.username().is_empty() {
        return Err(AppError::invalid("the central's address is https://HOST[:PORT] (http only on this machine)"));
    }
    Ok(url.to_string())
}

/// Pairs this kiosk with the central at `url` using a code its admin made. The code is spent at the central even
/// if the kiosk then cannot keep the link, so the kiosk checks first that it is not paired yet.
pub async fn pair(
    app: &App,
    connector: &dyn CentralConnector,
    url: &str,
    fingerprint: Option<&str>,
    code: &str,
    actor: &str,
) -> Result<CentralLink, AppError> {
    let url = check_url(url)?;
    let fingerprint = fingerprint.map(str::trim).filter(|f| !f.is_empty());
    if fingerprint.is_some() && !url.starts_with("https://") {
        return Err(AppError::invalid("a certificate fingerprint goes with an https address"));
    }
    if app.db(|s| s.central_link()).await?.is_some() {
        return Err(AppError::conflict("this kiosk is paired with a central service already"));
    }
    let mut pairing = connector.pair(&url, fingerprint, code).await.map_err(|e| match e {
        LinkError::Unreachable(why) => {
            AppError::new(AppCode::CentralUnreachable, format!("the central service could not be reached: {why}"))
        }
        LinkError::Refused { message, .. } => AppError::invalid(format!("the central service refused: {message}")),
    })?;
    pairing.url = url;
    pairing.fingerprint = fingerprint.map(str::to_string);
    let actor = actor.to_string();
    let link = app.db(move |s| s.link_central(&pairing, &actor)).await?;
    tracing::info!(central = %link.url, kiosk = %link.kiosk_id, "paired with a central service");
    Ok(link)
}

/// How long opening a case waits for the central's word on a claim before it goes on offline.
const CLAIM_WAIT: Duration = Duration::from_secs(5);

/// Claims a case pulled from the central before a person runs it here, so one kiosk at a time runs it (a walk-in
/// started here: has the central make it). Refused when another kiosk holds it or the central closed it; when the
/// central cannot be reached in time, the case runs offline and is claimed (made) with its first push, where a
/// refusal then sets it aside for staff.
pub async fn claim_before_running(
    app: &App,
    connector: &dyn CentralConnector,
    case_id: CaseId,
) -> Result<(), AppError> {
    if app.db(move |s| s.central_case(case_id)).await? != Some(false) {
        return Ok(());
    }
    let Some(link) = app.db(|s| s.central_link()).await? else { return Ok(()) };
    let central = match connector.connect(&link, app.db(|s| s.central_secret()).await?) {
        Ok(central) => central,
        Err(e) => {
            tracing::warn!(%case_id, error = %e, "the central cannot be reached: the case runs offline");
            return Ok(());
        }
    };
    let walk_in = app.db(move |s| s.unmade_walk_in(case_id)).await?;
    match tokio::time::timeout(CLAIM_WAIT, claim_or_make(central.as_ref(), case_id, walk_in.as_ref())).await {
        Ok(Ok(())) => app.db(move |s| s.note_central_claim(case_id)).await,
        Ok(Err(LinkError::Refused { message, .. })) if walk_in.is_some() => {
            tracing::warn!(%case_id, reason = %message, "the central refused this kiosk's walk-in");
            let why = message.clone();
            app.db(move |s| s.note_central_refusal(case_id, &why)).await?;
            Err(AppError::conflict(format!("The central service does not take this walk-in: {message}")))
        }
        Ok(Err(LinkError::Refused { message, .. })) => {
            tracing::info!(%case_id, reason = %message, "the central refused this kiosk's claim");
            Err(AppError::conflict("This case is being handled at another desk. Please ask a member of staff."))
        }
        Ok(Err(LinkError::Unreachable(why))) => {
            tracing::info!(%case_id, reason = %why, "the central is not reached: the case runs offline");
            Ok(())
        }
        Err(_) => {
            tracing::info!(%case_id, "the central did not answer in time: the case runs offline");
            Ok(())
        }
    }
}

/// How long a gallery step waits for the central: what the case recorded goes up first, then the search runs there.
const GALLERY_WAIT: Duration = Duration::from_secs(20);

/// Has the central decide the gallery step a pulled case is at ([`vouch_core::flow::decided_by_the_central`]): what
/// this kiosk recorded on the case goes up first (the face the step searches with), then the central runs the step
/// and answers it, with its decision when the case's steps decided it; both are kept here and not sent back.
/// Without the link the step waits, nothing recorded, and can be asked again.
pub async fn run_gallery_step(
    app: &App,
    connector: &dyn CentralConnector,
    case_id: CaseId,
    index: u32,
) -> Result<(), AppError> {
    let offline = |why: &str| {
        tracing::info!(%case_id, reason = why, "the central is not reached: the gallery step waits");
        AppError::new(
            AppCode::CentralUnreachable,
            "This check is made by the central service, which cannot be reached just now. Nothing is lost: it is \
             done as soon as the kiosk is back online, or try again in a moment.",
        )
    };
    let Some(link) = app.db(|s| s.central_link()).await? else {
        return Err(AppError::conflict("This kiosk is no longer paired with the central service that runs this check"));
    };
    let central =
        connector.connect(&link, app.db(|s| s.central_secret()).await?).map_err(|e| offline(&e.to_string()))?;
    match tokio::time::timeout(GALLERY_WAIT, ask_gallery_step(app, central.as_ref(), case_id, index)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(SyncError::Link(LinkError::Unreachable(why)))) => Err(offline(&why)),
        Ok(Err(SyncError::Link(LinkError::Refused { message, .. }))) => {
            tracing::warn!(%case_id, reason = %message, "the central refused to run a gallery step");
            Err(AppError::conflict(format!("The central service refused this check: {message}")))
        }
        Ok(Err(SyncError::Local(e))) => Err(e),
        Err(_) => Err(offline("no answer in time")),
    }
}

/// Sends what waits on the case, has the central run the gallery step at `index` and keeps its answer. Done
/// already here (a sync round and the customer's retry at once): fine.
async fn ask_gallery_step(app: &App, central: &dyn Central, case_id: CaseId, index: u32) -> Result<(), SyncError> {
    push_case(app, central, case_id).await?;
    let answer = central.run_gallery_step(case_id, index).await?;
    if answer.step.index != index {
        return Err(AppError::internal("the central answered another step").into());
    }
    let decision = answer.case.decision.filter(|_| answer.case.status.is_terminal());
    let step = answer.step;
    let kept = app
        .db(move |s| match s.record_central_step(case_id, &step, decision.as_ref()) {
            Err(vouch_store::StoreError::Conflict(_)) if s.case_steps(case_id)?.iter().any(|r| r.index == index) => {
                Ok(false)
            }
            other => other.map(|()| true),
        })
        .await?;
    if kept {
        tracing::info!(%case_id, step = index + 1, "the central decided the gallery step");
    }
    Ok(())
}

/// Has the central run the gallery steps that pulled cases reached while it could not be reached: a validation
/// captured offline is decided without its person coming back. A refusal is logged; the case stays for staff.
async fn run_waiting_gallery_steps(app: &App, central: &dyn Central) -> Result<(), SyncError> {
    for (case_id, index) in app.db(|s| s.pulled_cases_at_a_gallery_step()).await? {
        match ask_gallery_step(app, central, case_id, index).await {
            Ok(()) => {}
            Err(SyncError::Link(LinkError::Refused { message, .. })) => {
                tracing::warn!(%case_id, reason = %message, "the central refused to run a waiting gallery step");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Sends what waits on one case, in order (claiming it first); a refusal sets the case aside, as in a round.
async fn push_case(app: &App, central: &dyn Central, case_id: CaseId) -> Result<(), SyncError> {
    let items = app.db(move |s| s.central_outbox_of(case_id)).await?;
    for item in &items {
        match push(app, central, item).await {
            Ok(()) => {
                let seq = item.seq;
                app.db(move |s| s.ack_central_item(seq)).await?;
            }
            Err(SyncError::Link(LinkError::Refused { status, message })) => {
                let why = message.clone();
                app.db(move |s| s.note_central_refusal(case_id, &why)).await?;
                return Err(LinkError::Refused { status, message }.into());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Claims a pulled case at the central, or has it make a walk-in started here (which this kiosk then holds).
async fn claim_or_make(central: &dyn Central, case_id: CaseId, walk_in: Option<&WalkInCase>) -> Result<(), LinkError> {
    match walk_in {
        Some(walk_in) => central.make_walk_in(walk_in).await,
        None => central.claim(case_id).await,
    }
}

/// Sends one outbox item, claiming its case first (or making it, for a walk-in) if this kiosk does not hold it yet.
async fn push(app: &App, central: &dyn Central, item: &OutboxItem) -> Result<(), SyncError> {
    let case_id = item.case_id;
    if app.db(move |s| s.central_case(case_id)).await? != Some(true) {
        let walk_in = app.db(move |s| s.unmade_walk_in(case_id)).await?;
        claim_or_make(central, case_id, walk_in.as_ref()).await?;
        app.db(move |s| s.note_central_claim(case_id)).await?;
    }
    match &item.body {
        OutboxBody::Step(step) => {
            let mut captures = Vec::with_capacity(step.captures.len());
            for capture in &step.captures {
                let sha = capture.sha256.clone();
                let bytes = app.db(move |s| s.blobs().get(&sha)).await?;
                captures.push(UpCapture { capture: capture.clone(), bytes });
            }
            if let Some(decision) = central.push_step(case_id, &item.item_id, step, captures).await? {
                app.db(move |s| s.adopt_central_decision(case_id, &decision)).await?;
            }
        }
        OutboxBody::Decision(decision) => central.push_decision(case_id, &item.item_id, decision).await?,
    }
    Ok(())
}

async fn fetch_photo(central: &dyn Central, case_id: CaseId, sha256: &str) -> Result<Vec<u8>, SyncError> {
    let bytes = central.reference_photo(case_id).await?;
    if vouch_store::sha256_hex(&bytes) != sha256 {
        return Err(LinkError::Unreachable("a reference photo arrived altered".into()).into());
    }
    Ok(bytes)
}

/// Keeps an offered case that is new here, with its reference photo (fetched, and checked against its hash).
async fn keep(app: &App, central: &dyn Central, pulled: PulledCase) -> Result<bool, SyncError> {
    let case_id = pulled.case.id;
    if let Some(claimed) = app.db(move |s| s.central_case(case_id)).await? {
        // Kept already; the integrator may have added the photo since.
        let missing = !claimed
            && pulled.reference_photo.is_some()
            && app.db(move |s| s.latest_evidence_bytes(case_id, EvidenceKind::ReferencePhoto)).await?.is_none();
        if let (true, Some(photo)) = (missing, &pulled.reference_photo) {
            let (bytes, media_type) = (fetch_photo(central, case_id, &photo.sha256).await?, photo.media_type.clone());
            app.db(move |s| s.add_reference_photo(case_id, &bytes, &media_type, "central")).await?;
        }
        return Ok(false);
    }
    let photo = match &pulled.reference_photo {
        Some(photo) => Some((fetch_photo(central, case_id, &photo.sha256).await?, photo.media_type.clone())),
        None => None,
    };
    let mut documents = Vec::new();
    for listed in pulled.signing.iter().flat_map(|s| &s.documents) {
        documents.push(central.document_to_sign(case_id, listed.position).await?);
    }
    let kept = app
        .db(move |s| {
            let reference = photo.as_ref().map(|(bytes, media_type)| ReferenceBytes { bytes, media_type });
            s.keep_pulled_case(&pulled, reference, &documents)
        })
        .await?;
    Ok(kept)
}

/// How many outbox items one read takes.
const OUTBOX_BATCH: u32 = 50;

/// Pushes what waits (oldest first; a case the central refuses is set aside with its reason, the others go on),
/// then keeps the open cases the central offers that are not here yet, and the flow walk-ins run.
pub async fn sync_once(app: &App, central: &dyn Central) -> Result<Round, SyncError> {
    let mut round = Round::default();
    loop {
        let items = app.db(|s| s.central_outbox(OUTBOX_BATCH)).await?;
        if items.is_empty() {
            break;
        }
        let mut set_aside = HashSet::new();
        for item in &items {
            if set_aside.contains(&item.case_id) {
                continue;
            }
            match push(app, central, item).await {
                Ok(()) => {
                    let seq = item.seq;
                    app.db(move |s| s.ack_central_item(seq)).await?;
                    round.pushed += 1;
                }
                Err(SyncError::Link(LinkError::Refused { status, message })) => {
                    tracing::warn!(case = %item.case_id, status, reason = %message, "the central refused a case's item");
                    let (case_id, why) = (item.case_id, message.clone());
                    app.db(move |s| s.note_central_refusal(case_id, &why)).await?;
                    set_aside.insert(item.case_id);
                    round.refused += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
    run_waiting_gallery_steps(app, central).await?;
    let offered = central.cases().await?;
    let complete = offered.len() < PULL_LIMIT as usize;
    let ids: Vec<CaseId> = offered.iter().map(|p| p.case.id).collect();
    for pulled in offered {
        if keep(app, central, pulled).await? {
            round.pulled += 1;
        }
    }
    if complete {
        round.withdrawn = app.db(move |s| s.withdraw_unoffered_cases(&ids)).await?;
    }
    let walk_in_flow = central.walk_in_flow().await?;
    app.db(move |s| s.keep_walk_in_flow(walk_in_flow.as_ref())).await?;
    Ok(round)
}

/// Syncs every `every` while this kiosk is paired, until `stop` turns true. An item being sent when it is told to
/// stop is finished first, or left for the next start: the central applies it once either way.
pub async fn run(
    app: App,
    connector: Arc<dyn CentralConnector>,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        // The connector keeps the central it connected to, with its token, from one round to the next.
        match app.db(|s| s.central_link()).await {
            Ok(Some(link)) => match app.db(|s| s.central_secret()).await {
                Ok(secret) => match connector.connect(&link, secret) {
                    Ok(central) => round(&app, central.as_ref()).await,
                    Err(e) => tracing::error!(error = %e, "the central cannot be reached with its link"),
                },
                Err(e) => tracing::error!(error = %e.message, "the central credentials cannot be read"),
            },
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e.message, "the central link cannot be read"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            // Told to stop, or whoever could tell it is gone.
            changed = stop.changed() => if changed.is_err() { return },
        }
    }
}

async fn round(app: &App, central: &dyn Central) {
    let outcome = sync_once(app, central).await;
    let error = match &outcome {
        Ok(r) if *r != Round::default() => {
            tracing::info!(
                pushed = r.pushed,
                pulled = r.pulled,
                refused = r.refused,
                withdrawn = r.withdrawn,
                "synced with the central"
            );
            None
        }
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "sync with the central stopped; it goes on at the next round");
            Some(e.to_string())
        }
    };
    if let Err(e) = app.db(move |s| s.note_central_sync(error.as_deref())).await {
        tracing::error!(error = %e.message, "the sync's outcome could not be noted");
    }
}
