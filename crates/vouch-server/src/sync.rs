//! The sync API of a central service, for paired kiosks only (their tokens reach nothing else): the open cases a
//! kiosk may run, claiming one (one kiosk at a time), and pushing what it recorded (steps with their captures, and
//! the decision), each item under the kiosk's own id so that a push repeated after a dropped connection is applied
//! once. The central then does what it does for any case: webhooks, proofs, evidence packages.

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_core::flow::{StepKind, StepOutcome};
use vouch_core::{EvidenceKind, Outcome};
use vouch_store::flows::{Capture, NewStep};
use vouch_store::sync::Pushed;

use crate::error::{ApiError, Failure, KioskSync};
use crate::extract::{require_bearer, Authed, JsonBody};
use crate::native::{parse_case_id, IdentityInput, NativeError, NO_SUCH_CASE};
use crate::state::AppState;

type SyncResult<T> = Result<T, Failure<KioskSync>>;

/// The most captures one pushed step carries.
const MOST_CAPTURES: usize = 16;

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_cases))
        .routes(routes!(claim_case))
        .routes(routes!(reference_photo))
        .routes(routes!(document_to_sign))
        .routes(routes!(push_step))
        .routes(routes!(run_gallery_step))
        .routes(routes!(push_decision))
        .routes(routes!(walk_in_flow))
        .routes(routes!(make_walk_in))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), require_bearer::<KioskSync>))
        .layer(crate::extract::body_limit(state.config.image_body_limit_bytes))
}

#[derive(Deserialize, IntoParams)]
pub struct SyncCasesQuery {
    /// At most this many, oldest first (default 50, at most 200).
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct SyncCase {
    #[schema(value_type = Object)]
    pub case: serde_json::Value,
    /// The code a person types at the kiosk to open it.
    pub code: String,
    /// The flow version the case runs.
    #[schema(value_type = Object)]
    pub flow: serde_json::Value,
    /// The steps recorded so far.
    #[schema(value_type = Vec<Object>)]
    pub steps: Vec<vouch_core::flow::StepRecord>,
    /// Whether this kiosk holds it.
    pub claimed: bool,
    /// The integrator's reference photo for the face match, if there is one: fetched once, at
    /// `/vouch/v1/sync/cases/{id}/reference-photo`.
    #[schema(value_type = Option<Object>)]
    pub reference_photo: Option<vouch_store::central::PulledPhoto>,
    /// For a signing case: the signer's name and method, and the documents to read (each fetched once, at
    /// `/vouch/v1/sync/cases/{id}/documents/{position}`). The kiosk sends the drawing up; the central signs.
    #[schema(value_type = Option<Object>)]
    pub signing: Option<vouch_store::central::PulledSigning>,
}

fn item_id(id: &str) -> Result<(), ApiError> {
    let ok = (1..=100).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid("item_id is 1 to 100 letters, digits, '-' or '_': the kiosk's own id for this push"))
    }
}

/// The open cases this kiosk may run, with their flows: those no kiosk claimed, and its own.
#[utoipa::path(get, path = "/vouch/v1/sync/cases", tag = "Vouch", security(("bearer" = [])), params(SyncCasesQuery),
    responses((status = 200, body = Vec<SyncCase>), (status = 401, body = NativeError)))]
async fn list_cases(
    State(state): State<AppState>,
    Authed(kiosk): Authed,
    Query(q): Query<SyncCasesQuery>,
) -> SyncResult<Json<Vec<SyncCase>>> {
    let limit = q.limit.unwrap_or(50);
    let cases = state
        .db(move |s| {
            s.touch_kiosk(&kiosk.id)?;
            let offered = s.cases_for_kiosk(&kiosk.id, limit)?;
            let mut listed = Vec::with_capacity(offered.len());
            for o in offered {
                let signs = o.flow.steps.iter().any(|step| step.kind() == StepKind::Signature);
                let signing = if signs { s.signing_for_kiosk(o.case.id)? } else { None };
                listed.push((o, signing));
            }
            Ok(listed)
        })
        .await?;
    let cases = cases
        .into_iter()
        .map(|(o, signing)| SyncCase {
            code: vouch_store::case_codes::format_code(&o.code),
            flow: serde_json::to_value(&*o.flow).unwrap_or_default(),
            steps: o.steps,
            claimed: o.claimed,
            reference_photo: o.reference_photo,
            signing,
            case: serde_json::to_value(&o.case).unwrap_or_default(),
        })
        .collect();
    Ok(Json(cases))
}

/// The reference photo of an open case this kiosk may run (its bytes, with their media type).
#[utoipa::path(get, path = "/vouch/v1/sync/cases/{id}/reference-photo", tag = "Vouch", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "the photo", content_type = "image/jpeg"), (status = 404, body = NativeError)))]
async fn reference_photo(
    State(state): State<AppState>,
    Authed(kiosk): Authed,
    Path(id): Path<String>,
) -> SyncResult<axum::response::Response> {
    let case_id = parse_case_id(&id)?;
    let photo = state
        .db(move |s| {
            if !s.kiosk_may_run(&kiosk.id, case_id)? {
                return Err(vouch_store::StoreError::NotFound);
            }
            s.latest_evidence_bytes(case_id, EvidenceKind::ReferencePhoto)
        })
        .await
        .map_err(|e| e.with_not_found(NO_SUCH_CASE))?
        .ok_or_else(|| ApiError::not_found("this case has no reference photo"))?;
    let (evidence, bytes) = photo;
    Ok(([(axum::http::header::CONTENT_TYPE, evidence.media_type)], bytes).into_response())
}

/// A document a signing case this kiosk may run asks its signer to sign: the newest version, as PDF.
#[utoipa::path(get, path = "/vouch/v1/sync/cases/{id}/documents/{position}", tag = "Vouch", security(("bearer" = [])),
    params(("id" = String, Path), ("position" = u32, Path, description = "0-based, as the listing gives it")),
    responses((status = 200, description = "the PDF", content_type = "application/pdf"), (status = 404, body = NativeError)))]
async fn document_to_sign(
    State(state): State<AppState>,
    Authed(kiosk): Authed,
    Path((id, position)): Path<(String, u32)>,
) -> SyncResult<axum::response::Response> {
    let case_id = parse_case_id(&id)?;
    let bytes = state
        .db(move |s| {
            if !s.kiosk_may_run(&kiosk.id, case_id)? {
                return Err(vouch_store::StoreError::NotFound);
            }
            let signer = s.signer(case_id)?.ok_or(vouch_store::StoreError::NotFound)?;
            let process = s.sign_process(&signer.process_id)?;
            let doc = process
                .documents
                .into_iter()
                .find(|d| d.position == position && d.purged_at.is_none())
                .ok_or(vouch_store::StoreError::NotFound)?;
            s.blobs().get(&doc.current_sha256)
        })
        .await
        .map_err(|e| e.with_not_found("this case has no such document to sign"))?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/pdf")], bytes).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct ClaimView {
    pub case_id: String,
    pub kiosk_id: String,
}

/// Claim a case before running it: one kiosk at a time. Claiming a case this kiosk holds already is fine.
#[utoipa::path(post, path = "/vouch/v1/sync/cases/{id}/claim", tag = "Vouch", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ClaimView), (status = 404, body = NativeError),
              (status = 409, body = NativeError, description = "another kiosk holds it, or it is closed")))]
async fn claim_case(
    State(state): State<AppState>,
    Authed(kiosk): Authed,
    Path(id): Path<String>,
) -> SyncResult<Json<ClaimView>> {
    let case_id = parse_case_id(&id)?;
    let kiosk_id = kiosk.id.clone();
    state.db(move |s| s.claim_case(&kiosk_id, case_id)).await.map_err(|e| e.with_not_found(NO_SUCH_CASE))?;
    Ok(Json(ClaimView { case_id: case_id.to_string(), kiosk_id: kiosk.id }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushCapture {
    /// The evidence kind: selfie, liveness_frames, document_page, chip_data, signature_data, ...
    pub kind: String,
    pub media_type: String,
    /// The captured bytes, base64.
    pub data: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushStep {
    /// The kiosk's own id for this push: the same id pushed again is applied once.
    pub item_id: String,
    /// 0-based index of the step in the case's flow.
    pub index: u32,
    #[schema(value_type = String, example = "selfie")]
    pub kind: StepKind,
    #[schema(value_type = String, example = "passed")]
    pub outcome: StepOutcome,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    #[serde(default)]
    pub captures: Vec<PushCapture>,
}

#[derive(Serialize, ToSchema)]
pub struct PushedView {
    /// False when an earlier push of the same item applied it.
    pub applied_now: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PushedStepView {
    /// False when an earlier push of the same item applied it.
    pub applied_now: bool,
    /// The central's decision on the case when its steps decided it here (a Verifik validation whose last step
    /// this was, or one that failed): the kiosk keeps it instead of waiting for a clerk.
    #[schema(value_type = Option<Object>)]
    pub decision: Option<vouch_core::Decision>,
}

/// Push a step this kiosk ran on a case it holds, with what it captured (stored encrypted as the case's evidence).
#[utoipa::path(post, path = "/vouch/v1/sync/cases/{id}/steps", tag = "Vouch", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = PushStep,
    responses((status = 200, body = PushedStepView), (status = 404, body = NativeError),
              (status = 409, body = NativeError, description = "not this kiosk's case, or not the step the flow expects"),
              (status = 413, body = NativeError), (status = 422, body = NativeError)))]
async fn push_step(
    State(state): State<AppState>,
    Authed(kiosk): Authed,
    Path(id): Path<String>,
    JsonBody(body, ..): JsonBody<PushStep, KioskSync>,
) -> SyncResult<Json<PushedStepView>> {
    let case_id = parse_case_id(&id)?;
    item_id(&body.item_id)?;
    vouch_app::steps::check_submitted_detail(&body.detail)?;
    if body.captures.len() > MOST_CAPTURES {
        return Err(ApiError::invalid(format!("a step carries at most {MOST_CAPTURES} captures")).into());
    }
    let mut captured = Vec::with_capacity(body.captures.len());
    for c in body.captures {
        let kind = EvidenceKind::parse(&c.kind)
            .ok_or_else(|| ApiError::invalid(format!("{:?} is not an evidence kind", c.kind)))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(c.data.as_bytes())
            .map_err(|_| ApiError::invalid("a capture's data is not base64"))?;
        captured.push((kind, c.media_type, bytes));
    }
    if body.kind == StepKind::Signature {
        let drawn = pen_data(&captured)?;
        let (kiosk_id, item) = (kiosk.id.clone(), body.item_id);
        let pushed = vouch_app::sign_case::sign_pushed(&state.app, kiosk_id, item, case_id, body.index, drawn)
            .await
            .map_err(|e| e.with_not_found(NO_SUCH_CASE))?;
        if pushed == Pushed::Applied {
            tracing::info!(%case_id, step = body.index + 1, "a kiosk's signature applied to the documents here");
        }
        return Ok(Json(PushedStepView { applied_now: pushed == Pushed::Applied, decision: None }));
    }
    let step = NewStep { case_id, index: body.index, kind: body.kind, outcome: body.outcome, detail: body.detail };
    let (kiosk_id, item) = (kiosk.id.clone(), body.item_id);
    let (pushed, _) = state
        .db(move |s| {
            let captures: Vec<Capture<'_>> =
                captured.iter().map(|(kind, media_type, bytes)| Capture { kind: *kind, media_type, bytes }).collect();
            s.push_kiosk_step(&kiosk_id, &item, step, &captures)
        })
        .await
        .map_err(|e| e.with_not_found(NO_SUCH_CASE))?;
    // A case its steps decide (a Verifik validation) is decided once the kiosk's last step is here; the kiosk
    // keeps that decision from the answer.
    // The step is applied: a decision made meanwhile by another call is the one read below.
    match vouch_app::subject_cases::settle(&state.app, &state.recognition, case_id).await {
        Err(e) if e.code == vouch_app::AppCode::Conflict => {}
        other => drop(other?),
    }
    let case = state.db(move |s| s.get_case(case_id)).await?;
    let decided_here = case.decision.filter(|d| d.actor == vouch_app::subject_cases::STEPS_ACTOR);
    Ok(Json(PushedStepView { applied_now: pushed == Pushed::Applied, decision: decided_here }))
}

#[derive(Serialize, ToSchema)]
pub struct GalleryStepView {
    /// The step as the central recorded it.
    #[schema(value_type = Object)]
    pub step: vouch_core::flow::StepRecord,
    /// The case after it: decided already when its steps decide it and this was the last.
    #[schema(value_type = Object)]
    pub case: serde_json::Value,
}

/// Run the gallery step a case this kiosk holds is at (a duplicate check, or a face match against the enrolled
/// person): the gallery lives here, so the central decides it on the face the kiosk pushed before it. Asked again
/// for a step it ran, it answers that step as recorded.
#[utoipa::path(post, path = "/vouch/v1/sync/cases/{id}/steps/{index}/run", tag = "Vouch", security(("bearer" = [])),
    params(("id" = String, Path), ("index" = u32, Path, description = "0-based index of the step in the case's flow")),
    responses((status = 200, body = GalleryStepView), (status = 404, body = NativeError),
              (status = 409, body = NativeError, description = "not this kiosk's case, or not at that gallery step")))]
async fn run_gallery_step(
    State(state): State<AppState>,
    Authed(kiosk): Authed,
    Path((id, index)): Path<(String, u32)>,
) -> SyncResult<Json<GalleryStepView>> {
    let case_id = parse_case_id(&id)?;
    let holder = state.db(move |s| s.case_holder(case_id)).await.map_err(|e| e.with_not_found(NO_SUCH_CASE))?;
    if holder.as_deref() != Some(kiosk.id.as_str()) {
        return Err(ApiError::new(crate::error::Code::Conflict, "claim the case before asking for its steps").into());
    }
    let actor = format!("kiosk:{}", kiosk.id);
    let run = vouch_app::subject_cases::run_gallery_step(&state.app, &state.recognition, case_id, index, actor)
        .await
        .map_err(|e| e.with_not_found(NO_SUCH_CASE))?;
    tracing::info!(%case_id, step = index + 1, outcome = run.step.outcome.as_str(), "a kiosk's gallery step decided here");
    Ok(Json(GalleryStepView { step: run.step, case: serde_json::to_value(&run.case).unwrap_or_default() }))
}

/// The drawing a kiosk's signature step carries: the one capture of the pen data, as the kiosk kept it.
fn pen_data(captured: &[(EvidenceKind, String, Vec<u8>)]) -> Result<vouch_signature::Drawn, ApiError> {
    let mut pens = captured.iter().filter(|(kind, media_type, _)| {
        *kind == EvidenceKind::SignatureData && media_type == vouch_store::signing::PEN_MEDIA_TYPE
    });
    match (pens.next(), pens.next()) {
        (Some((_, _, bytes)), None) => serde_json::from_slice(bytes)
            .map_err(|e| ApiError::invalid(format!("the signature's pen data is not a drawing: {e}"))),
        _ => Err(ApiError::invalid(format!(
            "a signature step carries its pen data: one signature_data capture of {}",
            vouch_store::signing::PEN_MEDIA_TYPE
        ))),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushDecision {
    /// The kiosk's own id for this push.
    pub item_id: String,
    #[schema(value_type = String, example = "approved")]
    pub outcome: Outcome,
    /// The clerk's reason: mandatory, recorded in the audit log.
    pub reason: String,
    /// The verified person; required for an approval.
    pub identity: Option<IdentityInput>,
}

/// Push the decision a clerk made at this kiosk on a case it holds. The central fires the integrator's webhook and
/// builds the proof, as for any decision. Pushed again, a decision this kiosk made already answers as applied.
#[utoipa::path(post, path = "/vouch/v1/sync/cases/{id}/decision", tag = "Vouch", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = PushDecision,
    responses((status = 200, body = PushedView), (status = 404, body = NativeError),
              (status = 409, body = NativeError, description = "not this kiosk's case, or decided otherwise"),
              (status = 422, body = NativeError)))]
async fn push_decision(
    State(state): State<AppState>,
    Authed(kiosk): Authed,
    Path(id): Path<String>,
    JsonBody(body, ..): JsonBody<PushDecision, KioskSync>,
) -> SyncResult<Json<PushedView>> {
    let case_id = parse_case_id(&id)?;
    item_id(&body.item_id)?;
    let actor = format!("kiosk:{}", kiosk.id);
    let (kiosk_id, who) = (kiosk.id.clone(), actor.clone());
    let (holder, case) = state
        .db(move |s| Ok((s.case_holder(case_id)?, s.get_case(case_id)?)))
        .await
        .map_err(|e| e.with_not_found(NO_SUCH_CASE))?;
    if holder.as_deref() != Some(kiosk_id.as_str()) {
        return Err(ApiError::new(crate::error::Code::Conflict, "claim the case before pushing its decision").into());
    }
    if case.decision.as_ref().is_some_and(|d| d.actor == who) {
        return Ok(Json(PushedView { applied_now: false }));
    }
    let identity = body.identity.map(IdentityInput::verified).transpose()?;
    let input = vouch_app::cases::DecisionInput { outcome: body.outcome, reason: body.reason, identity };
    vouch_app::cases::decide(&state.app, case_id, input, actor).await.map_err(|e| e.with_not_found(NO_SUCH_CASE))?;
    Ok(Json(PushedView { applied_now: true }))
}

#[derive(Serialize, ToSchema)]
pub struct WalkInFlowView {
    /// The flow version this kiosk's walk-ins run.
    #[schema(value_type = Object)]
    pub flow: serde_json::Value,
}

/// The flow this kiosk's walk-ins run: 404 when the central's admin has not set up walk-ins for it.
#[utoipa::path(get, path = "/vouch/v1/sync/walk-in-flow", tag = "Vouch", security(("bearer" = [])),
    responses((status = 200, body = WalkInFlowView), (status = 404, body = NativeError)))]
async fn walk_in_flow(State(state): State<AppState>, Authed(kiosk): Authed) -> SyncResult<Json<WalkInFlowView>> {
    let flow = state
        .db(move |s| s.kiosk_walk_in_flow(&kiosk.id))
        .await?
        .ok_or_else(|| ApiError::not_found("This kiosk takes no walk-ins: the central's admin has not set them up"))?;
    Ok(Json(WalkInFlowView { flow: serde_json::to_value(&flow).unwrap_or_default() }))
}

/// Make a walk-in this kiosk started (its id, the flow version it runs, when it started): a case of the client the
/// admin named for this kiosk's walk-ins, held by this kiosk. Made already by this kiosk: done, `applied_now` false.
#[utoipa::path(post, path = "/vouch/v1/sync/walk-ins", tag = "Vouch", security(("bearer" = [])),
    request_body(content = Object, description = "case_id, flow {id, version}, created_at, expires_at (RFC 3339)"),
    responses((status = 200, body = PushedView), (status = 409, body = NativeError, description = "the kiosk takes no walk-ins, another flow, or the id is taken"),
              (status = 422, body = NativeError)))]
async fn make_walk_in(
    State(state): State<AppState>,
    Authed(kiosk): Authed,
    JsonBody(body, ..): JsonBody<vouch_store::walk_ins::WalkInCase, KioskSync>,
) -> SyncResult<Json<PushedView>> {
    let case_id = body.case_id;
    let pushed = state.db(move |s| s.make_walk_in_case(&kiosk.id, &body)).await?;
    if pushed == Pushed::Applied {
        tracing::info!(%case_id, "a kiosk's walk-in made here");
    }
    Ok(Json(PushedView { applied_now: pushed == Pushed::Applied }))
}
