//! The camera steps at the kiosk: the live guide under the preview, the selfie, and the four liveness
//! types. The server takes the frames from its own camera and decides the outcome; the UI only says when
//! to look. A customer can never claim a camera step passed: `step_submit` refuses these kinds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;
use vouch_core::flow::{LivenessType as FlowLiveness, Step, StepKind, StepOutcome};
use vouch_core::step_rules::{self, LivenessAttempt};
use vouch_core::{CaseId, EvidenceKind};
use vouch_vision::active::{Assertion, Corner, LivenessType};
use vouch_vision::engine::{BRIGHT_MEAN, DARK_MEAN};
use vouch_vision::quality::face_stats;
use vouch_vision::score::{similarity_score, MATCH_SCORE};
use vouch_vision::{SelfieAnalysis, Warning};

use super::customer::CaseSession;
use super::Caller;
use super::Kiosk;
use crate::camera::Shot;
use crate::faces::PROBE_FRAMES;
use crate::{AppCode, AppError};
use vouch_store::flows::NewStep;

/// Failed liveness attempts allowed before the step is recorded as failed (so a spoof cannot be tuned).
pub const LIVENESS_ATTEMPTS: u32 = 3;
/// Evidence frames are stored at this JPEG quality.
const EVIDENCE_JPEG_QUALITY: u8 = 90;
/// How long a capture waits for a usable frame before it gives the customer a hint instead.
const CAPTURE_WINDOW: Duration = Duration::from_secs(3);
/// How long after the first good selfie frame the kiosk looks for more of the probe's frames.
const PROBE_WINDOW: Duration = Duration::from_millis(1500);
/// An unfinished liveness run is forgotten after this.
const RUN_TTL: Duration = Duration::from_secs(300);

/// Liveness runs under way, per case and step.
pub type CaptureRuns = super::StepRuns<LivenessRun>;

pub struct LivenessRun {
    kind: LivenessType,
    plan: Vec<Assertion>,
    frames: Vec<(Assertion, Arc<Shot>)>,
    failures: u32,
    started: Instant,
}

#[derive(Serialize, TS)]
pub struct CameraStatusView {
    #[serde(flatten)]
    pub status: crate::camera::CameraStatus,
    /// The MJPEG preview, relative to the server (`server` in kiosk_status).
    pub preview_path: Option<String>,
}

#[derive(Deserialize, Default, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct CameraStatusArgs {
    /// The camera that reads documents (the kiosk camera unless a document camera is configured).
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub document: bool,
}

pub async fn camera_status(state: &Kiosk, args: CameraStatusArgs) -> Result<CameraStatusView, AppError> {
    let (camera, which) = if args.document {
        (state.document_camera.clone(), super::bridge::PreviewCamera::Document)
    } else {
        (state.camera.clone(), super::bridge::PreviewCamera::Kiosk)
    };
    // A new token on every call: it opens a stream for a minute, and a reconnecting preview asks again.
    let token = state.bridge.issue_preview_token(which);
    let status = tokio::task::spawn_blocking(move || camera.status()).await.map_err(AppError::internal)?;
    let preview_path = status.available.then(|| format!("/vouch/v1/kiosk/camera/preview?t={token}"));
    Ok(CameraStatusView { status, preview_path })
}

pub fn camera_error(e: String) -> AppError {
    AppError::new(AppCode::Conflict, format!("The camera is not available: {e}"))
}

/// What the customer should change, as codes the UI translates and speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Hint {
    NoFace,
    OnePerson,
    MoveCloser,
    MoveBack,
    Center,
    MoreLight,
    LessLight,
    HoldStill,
}

/// The live guide under the preview: where the face is and what to change.
#[derive(Serialize, TS)]
pub struct Guide {
    pub seq: u64,
    pub demo: bool,
    /// The face box as fractions of the frame (x0, y0, x1, y1).
    pub face: Option<[f32; 4]>,
    pub hints: Vec<Hint>,
    pub ready: bool,
}

/// What a capture answers: taken and recorded (with the case as it now stands, and the step's outcome where
/// the kiosk decided one), or not taken, with what the customer should change.
#[derive(Serialize, TS)]
pub struct Captured {
    pub captured: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub outcome: Option<StepOutcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub hints: Option<Vec<Hint>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub session: Option<CaseSession>,
}

impl Captured {
    pub(super) fn recorded(session: CaseSession) -> Captured {
        Captured { captured: true, outcome: None, hints: None, session: Some(session) }
    }
}

/// Hints from one preview frame: the fast detector (a few ms) and the face's brightness.
fn guide_hints(engine: &vouch_vision::FaceEngine, shot: &Shot) -> vouch_vision::Result<(Option<[f32; 4]>, Vec<Hint>)> {
    let img = shot.image.as_ref();
    let (w, h) = (img.width() as f32, img.height() as f32);
    let faces = engine.fast_detector().detect(img)?;
    let Some((rect, _)) = faces.first().copied() else {
        return Ok((None, vec![Hint::NoFace]));
    };
    let mut hints = Vec::new();
    if faces.len() > 1 {
        hints.push(Hint::OnePerson);
    }
    let height = rect.height() / h;
    if height < 0.3 {
        hints.push(Hint::MoveCloser);
    } else if height > 0.8 {
        hints.push(Hint::MoveBack);
    }
    let c = rect.center();
    if (c.x / w - 0.5).abs() > 0.15 || (c.y / h - 0.5).abs() > 0.2 {
        hints.push(Hint::Center);
    }
    let mean = face_stats(img, rect).mean;
    if mean < DARK_MEAN {
        hints.push(Hint::MoreLight);
    } else if mean > BRIGHT_MEAN {
        hints.push(Hint::LessLight);
    }
    Ok((Some([rect.x0 / w, rect.y0 / h, rect.x1 / w, rect.y1 / h]), hints))
}

pub async fn camera_guide(state: &Kiosk) -> Result<Guide, AppError> {
    let shot = state.camera.latest(Duration::from_secs(2)).await.map_err(camera_error)?;
    let (seq, demo) = (shot.seq, shot.kind.is_demo());
    let (face, hints) = state.faces.run(move |engine| guide_hints(engine, &shot)).await?;
    Ok(Guide { seq, demo, face, ready: hints.is_empty(), hints })
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct StepArgs {
    pub case_id: String,
    pub index: u32,
}

/// The case's current step, which must be `index` and of `kind`.
pub(super) async fn current_step(state: &Kiosk, args: &StepArgs, kind: StepKind) -> Result<(CaseId, Step), AppError> {
    let case_id = CaseId::parse(&args.case_id).ok_or_else(|| AppError::not_found("No such case"))?;
    Ok((case_id, crate::steps::current_step(&state.app, case_id, args.index, kind).await?))
}

fn hint_for(w: Warning) -> Option<Hint> {
    match w {
        Warning::MultipleFacesDetected => Some(Hint::OnePerson),
        Warning::FaceTooSmall => Some(Hint::MoveCloser),
        Warning::FaceTooDark => Some(Hint::MoreLight),
        Warning::FaceTooBright => Some(Hint::LessLight),
        Warning::FaceBlurred => Some(Hint::HoldStill),
        Warning::FaceNotFullyVisible | Warning::HeadTurned => Some(Hint::Center),
        Warning::EyesClosed => None,
    }
}

fn jpeg(shot: &Shot) -> Result<Vec<u8>, AppError> {
    vouch_vision::image_io::encode_jpeg(&shot.image, EVIDENCE_JPEG_QUALITY).map_err(AppError::internal)
}

/// Records a camera step the caller ran, with its frames (JPEG) as evidence, and answers the case as it now
/// stands.
pub(super) async fn record(
    state: &Kiosk,
    caller: &Caller,
    step: NewStep,
    frames: Vec<(EvidenceKind, Vec<u8>)>,
) -> Result<Captured, AppError> {
    let case_id = step.case_id;
    let evidence = frames.into_iter().map(|(k, bytes)| (k, "image/jpeg", bytes)).collect();
    crate::steps::record(&state.app, caller.actor(), step, evidence).await?;
    crate::subject_cases::settle(&state.app, &state.recognition, case_id).await?;
    Ok(Captured::recorded(crate::steps::case_session(&state.app, case_id).await?))
}

/// A good selfie frame and what the engine saw in it.
type GoodFrame = (Arc<Shot>, SelfieAnalysis);

/// Takes the selfie: the frames [`probe_frames`] keeps, recorded best last, so that the face steps make their
/// probe of them ([`crate::faces::probe_template`]) and show the best. Without a good frame it answers the hints
/// and records nothing, so the customer can adjust and try again.
pub async fn selfie_capture(state: &Kiosk, caller: &Caller, args: StepArgs) -> Result<Captured, AppError> {
    let (case_id, _) = current_step(state, &args, StepKind::Selfie).await?;
    let mut good = match probe_frames(state).await? {
        Ok(good) => good,
        Err(hints) => return Ok(Captured { captured: false, outcome: None, hints: Some(hints), session: None }),
    };
    good.sort_by(|(_, a), (_, b)| a.frame_weight().total_cmp(&b.frame_weight()));
    let Some((shot, best)) = good.last() else {
        return Err(AppError::internal("the selfie lost its frames"));
    };
    let detail = json!({
        "source": shot.kind,
        "demo": shot.kind.is_demo(),
        "face": best.face.rect,
        "confidence": best.face.confidence,
        "passive_liveness": best.liveness,
        "brightness": best.brightness,
        "sharpness": best.sharpness,
        "frames": good.len(),
        "frame_weights": good.iter().map(|(_, a)| a.frame_weight()).collect::<Vec<f32>>(),
    });
    if shot.kind.is_demo() {
        tracing::warn!(%case_id, "selfie taken from the DEMO camera");
    }
    let captures =
        good.iter().map(|(shot, _)| Ok((EvidenceKind::Selfie, jpeg(shot)?))).collect::<Result<_, AppError>>()?;
    let step = NewStep { case_id, index: args.index, kind: StepKind::Selfie, outcome: StepOutcome::Passed, detail };
    record(state, caller, step, captures).await
}

/// From the first frame within [`CAPTURE_WINDOW`] where one face is well placed, lit and sharp, the good frames of
/// the next [`PROBE_WINDOW`]: at most [`PROBE_FRAMES`], all of the same person. `Err` holds the last hints when no
/// frame was good.
async fn probe_frames(state: &Kiosk) -> Result<Result<Vec<GoodFrame>, Vec<Hint>>, AppError> {
    let deadline = Instant::now() + CAPTURE_WINDOW;
    let (mut after, mut window_ends) = (0u64, deadline);
    let mut last_hints = vec![Hint::NoFace];
    let mut good: Vec<GoodFrame> = Vec::new();
    while Instant::now() < window_ends && good.len() < PROBE_FRAMES {
        let shot = match state.camera.next_after(after, Duration::from_secs(2)).await {
            Ok(shot) => shot,
            // The camera went away after a good frame: what was taken stands.
            Err(_) if !good.is_empty() => break,
            Err(e) => return Err(camera_error(e)),
        };
        after = shot.seq;
        let frame = shot.clone();
        let Some(a) = state.faces.run(move |engine| engine.analyze_selfie(&frame.image)).await? else {
            last_hints = vec![Hint::NoFace];
            continue;
        };
        let hints: Vec<Hint> = a.warnings.iter().filter_map(|w| hint_for(*w)).collect();
        if !hints.is_empty() {
            last_hints = hints;
            continue;
        }
        match good.first() {
            None => window_ends = deadline.min(Instant::now() + PROBE_WINDOW),
            // Someone else stepped in front of the camera: not a frame of this customer.
            Some((_, first)) if similarity_score(first.template.cosine(&a.template)) < MATCH_SCORE => continue,
            Some(_) => {}
        }
        good.push((shot, a));
    }
    Ok(if good.is_empty() { Err(last_hints) } else { Ok(good) })
}

#[derive(Serialize, TS)]
pub struct LivenessPlan {
    pub liveness_type: LivenessType,
    /// What to show, in order; the UI prompts each and calls `liveness_frame` when the customer is there.
    pub plan: Vec<Assertion>,
    pub attempts_left: u32,
}

/// What a liveness frame answers: the next assertion to show; or, after the last, whether it passed, and
/// either the attempts left (nothing recorded) or the recorded step with the case as it now stands.
#[derive(Serialize, TS)]
pub struct LivenessFrame {
    pub done: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub next: Option<Assertion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub captured: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub passed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub attempts_left: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub session: Option<CaseSession>,
}

fn plan_for(kind: LivenessType) -> Vec<Assertion> {
    match kind {
        LivenessType::PassiveLiveness => vec![Assertion::None],
        LivenessType::SmileLiveness => vec![Assertion::Neutral, Assertion::Smile, Assertion::Neutral],
        LivenessType::MagnifeyeLiveness => vec![Assertion::None, Assertion::Magnifeye],
        LivenessType::EyeGazeLiveness => Corner::random_challenge().into_iter().map(Assertion::gaze).collect(),
    }
}

fn vision_type(t: FlowLiveness) -> LivenessType {
    match t {
        FlowLiveness::Passive => LivenessType::PassiveLiveness,
        FlowLiveness::EyeGaze => LivenessType::EyeGazeLiveness,
        FlowLiveness::Smile => LivenessType::SmileLiveness,
        FlowLiveness::Magnifeye => LivenessType::MagnifeyeLiveness,
    }
}

/// Starts (or restarts) the liveness step: the server draws the plan, so the customer cannot choose it.
pub async fn liveness_begin(state: &Kiosk, args: StepArgs) -> Result<LivenessPlan, AppError> {
    let (case_id, step) = current_step(state, &args, StepKind::Liveness).await?;
    let Step::Liveness { liveness_type } = step else {
        return Err(AppError::internal("a liveness step without its type"));
    };
    let kind = vision_type(liveness_type);
    let plan = plan_for(kind);
    let mut runs = state.captures.lock()?;
    runs.retain(|_, r| r.started.elapsed() < RUN_TTL);
    let failures = runs.get(&(case_id, args.index)).map_or(0, |r| r.failures);
    runs.insert(
        (case_id, args.index),
        LivenessRun { kind, plan: plan.clone(), frames: Vec::new(), failures, started: Instant::now() },
    );
    Ok(LivenessPlan { liveness_type: kind, plan, attempts_left: LIVENESS_ATTEMPTS - failures })
}

/// Takes the frame for the next item of the plan. After the last, evaluates: a pass is recorded; a fail is
/// recorded once the attempts are used up, and otherwise answered so the customer can try again.
pub async fn liveness_frame(state: &Kiosk, caller: &Caller, args: StepArgs) -> Result<LivenessFrame, AppError> {
    let (case_id, _) = current_step(state, &args, StepKind::Liveness).await?;
    let shot = state.camera.latest(Duration::from_secs(2)).await.map_err(camera_error)?;
    let key = (case_id, args.index);
    let (kind, frames) = {
        let mut runs = state.captures.lock()?;
        let run =
            runs.get_mut(&key).ok_or_else(|| AppError::new(AppCode::Conflict, "Start the liveness check first"))?;
        let Some(assertion) = run.plan.get(run.frames.len()).copied() else {
            return Err(AppError::new(AppCode::Conflict, "This liveness check already has all its frames"));
        };
        run.frames.push((assertion, shot));
        if run.frames.len() < run.plan.len() {
            let next = run.plan.get(run.frames.len()).copied();
            return Ok(LivenessFrame {
                done: false,
                next,
                captured: None,
                passed: None,
                attempts_left: None,
                session: None,
            });
        }
        (run.kind, std::mem::take(&mut run.frames))
    };
    let shots: Vec<(Assertion, Arc<Shot>)> = frames.clone();
    let evaluation = state
        .faces
        .run(move |engine| engine.evaluate_liveness(kind, shots.iter().map(|(a, s)| Ok((*a, s.image.as_ref())))))
        .await?;
    let demo = frames.iter().any(|(_, s)| s.kind.is_demo());
    let passed = evaluation.passed();
    // Counts the failure; the run ends when it passed or its attempts are used up.
    let attempt = {
        let mut runs = state.captures.lock()?;
        let failed_before = runs.get(&key).map_or(0, |r| r.failures);
        let attempt = step_rules::liveness_attempt(passed, failed_before, LIVENESS_ATTEMPTS);
        match attempt {
            LivenessAttempt::Record { .. } => {
                runs.remove(&key);
            }
            LivenessAttempt::Retry { .. } => {
                if let Some(run) = runs.get_mut(&key) {
                    run.failures = failed_before + 1;
                }
            }
        }
        attempt
    };
    tracing::info!(%case_id, kind = ?kind, score = evaluation.score, passed, demo, "kiosk liveness evaluated");
    let (outcome, attempts) = match attempt {
        LivenessAttempt::Retry { attempts_left } => {
            return Ok(LivenessFrame {
                done: true,
                next: None,
                captured: Some(false),
                passed: Some(false),
                attempts_left: Some(attempts_left),
                session: None,
            });
        }
        LivenessAttempt::Record { outcome, attempts } => (outcome, attempts),
    };
    let detail = json!({
        "liveness_type": kind,
        "score": evaluation.score,
        "challenge": evaluation.challenge,
        "passive": evaluation.passive,
        "error": evaluation.error,
        "reason": evaluation.reason,
        "assertions": frames.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(),
        "attempts": attempts,
        "demo": demo,
    });
    let captures = frames
        .iter()
        .map(|(_, s)| Ok((EvidenceKind::LivenessFrames, jpeg(s)?)))
        .collect::<Result<Vec<_>, AppError>>()?;
    let step = NewStep { case_id, index: args.index, kind: StepKind::Liveness, outcome, detail };
    let recorded = record(state, caller, step, captures).await?;
    Ok(LivenessFrame {
        done: true,
        next: None,
        captured: Some(recorded.captured),
        passed: Some(passed),
        attempts_left: None,
        session: recorded.session,
    })
}
