//! The document_scan step at the kiosk: "show your passport photo page to the camera". The UI polls
//! `document_scan_frame`; each poll reads the newest frame of the document camera (the kiosk camera unless one
//! is configured), answers the page outline and what to change, and captures by itself once the page is fine
//! and the same valid MRZ has been read on `AGREEING_READS` frames in a row. What was read opens the chip in a
//! later document_chip step. A clerk can type the MRZ or the CAN instead (`document_scan_manual`), which the
//! step records as typed, not scanned.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use vouch_core::flow::{StepKind, StepOutcome};
use vouch_core::mrz;
use vouch_core::{CaseId, EvidenceKind};
use vouch_vision::document::{PageQuality, PageReading, PageSide, QualityIssue};

use super::capture::{camera_error, current_step, StepArgs};
use super::chip::AccessArgs;
use super::Caller;
use super::Kiosk;
use crate::camera::Shot;
use crate::{AppCode, AppError};
use vouch_store::flows::NewStep;

/// Consecutive frames that must read the same valid MRZ on a fine page before the step captures: one read can
/// be a lucky guess of the corrector, three in a row are the page.
pub const AGREEING_READS: u32 = 3;
/// A page whose corners moved more than this share of the frame's diagonal since the last frame is moving.
const MOVED: f32 = 0.02;
/// The flattened page is kept as evidence at this JPEG quality: the MRZ and the portrait stay legible.
const PAGE_JPEG_QUALITY: u8 = 92;
/// An abandoned scan is forgotten after this.
const RUN_TTL: Duration = Duration::from_secs(300);
pub const DOCUMENT_READING_MEDIA_TYPE: &str = "application/vnd.vouch.document-reading+json";

/// Scans by case and step index.
type Runs = HashMap<(CaseId, u32), ScanRun>;

#[derive(Default)]
pub struct ScanRuns {
    runs: Mutex<Runs>,
}

impl ScanRuns {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Runs>, AppError> {
        self.runs.lock().map_err(|_| AppError::internal("scan lock poisoned"))
    }
}

#[derive(Default)]
struct ScanRun {
    last_seq: u64,
    last_corners: Option<[[f32; 2]; 4]>,
    /// The MRZ read on the last frames, and on how many in a row.
    mrz: Option<String>,
    agreeing: u32,
    touched: Option<Instant>,
}

/// What the customer should change, as codes the UI translates and speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ScanHint {
    ShowDocument,
    /// The page in view has no MRZ (an ID card's front): show the other side.
    TurnOver,
    HoldStill,
    TiltForGlare,
    MoreLight,
    LessLight,
    MoveCloser,
    FitInFrame,
    /// A page with an MRZ that does not read yet: keep it there.
    Reading,
}

fn quality_hint(issue: QualityIssue) -> ScanHint {
    match issue {
        QualityIssue::BrightnessLow => ScanHint::MoreLight,
        QualityIssue::BrightnessHigh => ScanHint::LessLight,
        QualityIssue::HotspotsScoreHigh => ScanHint::TiltForGlare,
        QualityIssue::SharpnessLow => ScanHint::HoldStill,
        QualityIssue::DocumentSmall => ScanHint::MoveCloser,
        QualityIssue::DocumentOutOfImage => ScanHint::FitInFrame,
    }
}

/// What one frame of the document scan shows: the page, the hints, and the capture once it is made.
#[derive(Serialize, ts_rs::TS)]
pub struct ScanView {
    pub seq: u64,
    pub demo: bool,
    /// The page's corners as fractions of the frame (x, y), clockwise; none when no page is in view.
    pub outline: Option<[[f32; 2]; 4]>,
    pub hints: Vec<ScanHint>,
    /// Frames in a row that read the same valid MRZ, of `needed`.
    pub agreeing: u32,
    pub needed: u32,
    pub captured: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub outcome: Option<StepOutcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub session: Option<super::customer::CaseSession>,
}

/// What one frame says: the hints, and the valid MRZ when the page is fit to capture.
fn judge(page: Option<&PageReading>, moved: bool) -> (Vec<ScanHint>, Option<String>) {
    let Some(page) = page else {
        return (vec![ScanHint::ShowDocument], None);
    };
    let mut hints: Vec<ScanHint> = page.quality.issues.iter().map(|i| quality_hint(*i)).collect();
    if moved && !hints.contains(&ScanHint::HoldStill) {
        hints.push(ScanHint::HoldStill);
    }
    let valid = page.mrz.as_ref().filter(|m| m.valid()).map(|m| m.text());
    if valid.is_none() && hints.is_empty() {
        hints.push(if page.side == PageSide::Front && page.mrz.is_none() {
            ScanHint::TurnOver
        } else {
            ScanHint::Reading
        });
    }
    let fit = hints.is_empty() && page.quality.fine;
    (hints, valid.filter(|_| fit))
}

fn fractions(page: &PageReading, width: u32, height: u32) -> [[f32; 2]; 4] {
    let (w, h) = (width.max(1) as f32, height.max(1) as f32);
    page.quad.corners.map(|[x, y]| [x / w, y / h])
}

fn moved(before: Option<[[f32; 2]; 4]>, now: Option<[[f32; 2]; 4]>, aspect: f32) -> bool {
    match (before, now) {
        (Some(a), Some(b)) => {
            // Fractions of width and height; the diagonal in units of the frame's width.
            let diagonal = (1.0 + 1.0 / (aspect * aspect)).sqrt();
            a.iter().zip(b.iter()).any(|(p, q)| ((p[0] - q[0]).hypot((p[1] - q[1]) / aspect)) > MOVED * diagonal)
        }
        _ => false,
    }
}

/// Reads the document camera's next frame for the case's current document_scan step; captures and records the
/// step once the same valid MRZ has been read on enough fine frames in a row.
pub async fn document_scan_frame(state: &Kiosk, caller: &Caller, args: StepArgs) -> Result<ScanView, AppError> {
    let (case_id, _) = current_step(state, &args, StepKind::DocumentScan).await?;
    let key = (case_id, args.index);
    let after = {
        let mut runs = state.scans.lock()?;
        runs.retain(|_, r| r.touched.is_some_and(|t| t.elapsed() < RUN_TTL));
        runs.get(&key).map_or(0, |r| r.last_seq)
    };
    let shot = state.document_camera.next_after(after, Duration::from_secs(2)).await.map_err(camera_error)?;
    let frame = shot.clone();
    let page = state.documents.run(move |reader| reader.read(&frame.image)).await?;
    let (width, height) = shot.image.dimensions();
    let outline = page.as_ref().map(|p| fractions(p, width, height));
    let (agreeing, hints) = {
        let mut runs = state.scans.lock()?;
        let run = runs.entry(key).or_default();
        let aspect = width.max(1) as f32 / height.max(1) as f32;
        let (hints, valid) = judge(page.as_ref(), moved(run.last_corners, outline, aspect));
        run.agreeing = match (&valid, &run.mrz) {
            (Some(now), Some(before)) if now == before => run.agreeing + 1,
            (Some(_), _) => 1,
            (None, _) => 0,
        };
        run.mrz = valid;
        run.last_seq = shot.seq;
        run.last_corners = outline;
        run.touched = Some(Instant::now());
        (run.agreeing, hints)
    };
    let mut view = ScanView {
        seq: shot.seq,
        demo: shot.kind.is_demo(),
        outline,
        hints,
        agreeing,
        needed: AGREEING_READS,
        captured: false,
        outcome: None,
        session: None,
    };
    if let (true, Some(page)) = (agreeing >= AGREEING_READS, page) {
        let outcome = capture(state, caller, case_id, args.index, &shot, page).await?;
        state.scans.lock()?.remove(&key);
        view.captured = true;
        view.outcome = Some(outcome);
        view.session = Some(crate::steps::case_session(&state.app, case_id).await?);
    }
    Ok(view)
}

/// What the document_scan step records when the camera read the page.
#[derive(Serialize, ts_rs::TS)]
pub struct CameraScanDetail {
    #[ts(type = "\"camera\"")]
    pub method: &'static str,
    pub demo: bool,
    pub source: vouch_capture::SourceKind,
    pub document_type: &'static str,
    pub mrz_format: mrz::MrzFormat,
    pub side: PageSide,
    pub turned: bool,
    pub holder: vouch_core::mrz::MrzHolder,
    pub expired: Option<bool>,
    pub agreeing_reads: u32,
    pub corrections: usize,
    pub min_confidence: f32,
    pub quality: ScanQuality,
    pub failures: Vec<&'static str>,
}

/// What the document_scan step records when a clerk typed the access data instead.
#[derive(Serialize, ts_rs::TS)]
pub struct ManualScanDetail {
    #[ts(type = "\"manual\"")]
    pub method: &'static str,
    pub entered_by: String,
    /// What was typed: `mrz`, `mrz_fields` or `can`.
    pub typed: &'static str,
    pub document_type: Option<&'static str>,
    pub holder: Option<vouch_core::mrz::MrzHolder>,
    pub expired: Option<bool>,
    pub failures: Vec<&'static str>,
}

/// The page's quality as the reader judged it.
#[derive(Serialize, ts_rs::TS)]
pub struct ScanQuality {
    pub fine: bool,
    pub issues: Vec<QualityIssue>,
    pub warnings: Vec<vouch_vision::document::QualityWarning>,
    pub brightness: f32,
    pub sharpness: f32,
    pub hotspots: f32,
    pub px_per_mm: f32,
}

/// What the scan read, or the clerk typed, kept (encrypted) for the chip step; the same fields it takes.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DocumentAccess {
    pub source: String,
    pub mrz: Option<String>,
    pub document_number: Option<String>,
    pub date_of_birth: Option<String>,
    pub date_of_expiry: Option<String>,
    pub can: Option<String>,
}

impl DocumentAccess {
    pub fn password(&self) -> Result<vouch_chip::pace::Password, vouch_chip::pace::PasswordError> {
        vouch_chip::pace::Password::from_parts(
            self.mrz.as_deref(),
            self.document_number.as_deref(),
            self.date_of_birth.as_deref(),
            self.date_of_expiry.as_deref(),
            self.can.as_deref(),
        )
    }
}

/// The step's outcome from the MRZ ([`vouch_core::step_rules::document_page`]).
async fn capture(
    state: &Kiosk,
    caller: &Caller,
    case_id: CaseId,
    index: u32,
    shot: &Arc<Shot>,
    page: PageReading,
) -> Result<StepOutcome, AppError> {
    let mrz = page.mrz.as_ref().ok_or_else(|| AppError::internal("a capture without an MRZ"))?;
    let text = mrz.text();
    // The reader already parsed the corrected MRZ.
    let parsed = &mrz.mrz;
    let verdict = vouch_core::step_rules::document_page(parsed, crate::today());
    let (outcome, failures, expired) = (verdict.outcome, verdict.failure_codes(), verdict.expired);
    let frame = shot.clone();
    let flat = {
        let page = page.clone();
        tokio::task::spawn_blocking(move || {
            let flat = page.flatten(&frame.image).ok_or("the page could not be flattened")?;
            vouch_vision::image_io::encode_jpeg(&flat, PAGE_JPEG_QUALITY).map_err(|e| e.to_string().into())
        })
        .await
        .map_err(AppError::internal)?
        .map_err(|e: Box<dyn std::error::Error + Send + Sync>| AppError::internal(e.to_string()))?
    };
    let demo = shot.kind.is_demo();
    let detail = CameraScanDetail {
        method: "camera",
        demo,
        source: shot.kind,
        document_type: mrz::document_kind(&parsed.document_code),
        mrz_format: parsed.format,
        side: page.side,
        turned: page.turned,
        holder: vouch_core::mrz::MrzHolder::of(parsed, crate::today().year()),
        expired,
        agreeing_reads: AGREEING_READS,
        corrections: mrz.corrections.len(),
        min_confidence: mrz.min_confidence,
        quality: quality_detail(&page.quality),
        failures,
    };
    let detail = serde_json::to_value(detail).map_err(AppError::internal)?;
    let access = DocumentAccess { source: "camera".into(), mrz: Some(text), ..DocumentAccess::default() };
    let access = serde_json::to_vec(&access).map_err(AppError::internal)?;
    if demo {
        tracing::warn!(%case_id, "document page scanned from the DEMO camera (a SPECIMEN page, not a document)");
    }
    let step = NewStep { case_id, index, kind: StepKind::DocumentScan, outcome, detail };
    let evidence = vec![
        (EvidenceKind::DocumentPage, "image/jpeg", flat),
        (EvidenceKind::DocumentReading, DOCUMENT_READING_MEDIA_TYPE, access),
    ];
    crate::steps::record(&state.app, caller.actor(), step, evidence).await?;
    Ok(outcome)
}

fn quality_detail(q: &PageQuality) -> ScanQuality {
    ScanQuality {
        fine: q.fine,
        issues: q.issues.clone(),
        warnings: q.warnings.clone(),
        brightness: q.brightness.score,
        sharpness: q.sharpness.score,
        hotspots: q.hotspots.score,
        px_per_mm: q.px_per_mm,
    }
}

/// The clerk's fallback when the page will not scan (a worn MRZ, no camera): the MRZ, its three key fields or
/// the CAN, typed. Checked as the chip will check it, recorded as typed and by whom.
pub async fn document_scan_manual(
    state: &Kiosk,
    caller: &Caller,
    args: AccessArgs,
) -> Result<super::capture::Captured, AppError> {
    let step_args = StepArgs { case_id: args.case_id.clone(), index: args.index };
    let (case_id, _) = current_step(state, &step_args, StepKind::DocumentScan).await?;
    let clean = |s: Option<String>| s.map(|s| s.trim().to_ascii_uppercase()).filter(|s| !s.is_empty());
    let access = DocumentAccess {
        source: "manual".into(),
        mrz: clean(args.mrz).map(|m| m.lines().map(|l| l.trim().replace(' ', "")).collect::<Vec<_>>().join("\n")),
        document_number: clean(args.document_number),
        date_of_birth: clean(args.date_of_birth),
        date_of_expiry: clean(args.date_of_expiry),
        can: clean(args.can),
    };
    access.password().map_err(|e| AppError::invalid(e.to_string()))?;
    let typed = if access.mrz.is_some() {
        "mrz"
    } else if access.can.is_some() {
        "can"
    } else {
        "mrz_fields"
    };
    let parsed = access.mrz.as_deref().map(mrz::parse).transpose().map_err(|e| AppError::invalid(e.to_string()))?;
    let (outcome, failures, expired, holder) = match &parsed {
        Some(m) => {
            let verdict = vouch_core::step_rules::document_page(m, crate::today());
            (
                verdict.outcome,
                verdict.failure_codes(),
                verdict.expired,
                Some(vouch_core::mrz::MrzHolder::of(m, crate::today().year())),
            )
        }
        None => (StepOutcome::Passed, Vec::new(), None, None),
    };
    let detail = ManualScanDetail {
        method: "manual",
        entered_by: caller.actor(),
        typed,
        document_type: parsed.as_ref().map(|m| mrz::document_kind(&m.document_code)),
        holder,
        expired,
        failures,
    };
    let detail = serde_json::to_value(detail).map_err(AppError::internal)?;
    tracing::info!(%case_id, typed, "document access data typed by staff");
    let access = serde_json::to_vec(&access).map_err(AppError::internal)?;
    let step = NewStep { case_id, index: args.index, kind: StepKind::DocumentScan, outcome, detail };
    let evidence = vec![(EvidenceKind::DocumentReading, DOCUMENT_READING_MEDIA_TYPE, access)];
    crate::steps::record(&state.app, caller.actor(), step, evidence).await?;
    state.scans.lock()?.remove(&(case_id, args.index));
    Ok(super::capture::Captured {
        captured: true,
        outcome: Some(outcome),
        hints: None,
        session: Some(crate::steps::case_session(&state.app, case_id).await?),
    })
}

/// The access data the case's document scan left for the chip, if any.
pub async fn scanned_access(state: &Kiosk, case_id: CaseId) -> Result<Option<DocumentAccess>, AppError> {
    let latest = state.db(move |s| s.latest_evidence_bytes(case_id, EvidenceKind::DocumentReading)).await?;
    match latest {
        Some((_, bytes)) => Ok(Some(serde_json::from_slice(&bytes).map_err(AppError::internal)?)),
        None => Ok(None),
    }
}

/// Why a chip read cannot start: neither typed nor scanned access data.
pub fn no_access_data() -> AppError {
    AppError::new(
        AppCode::InvalidInput,
        "Type the document number with the dates of birth and expiry, or the CAN: no page was scanned in this case",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_still_page_has_not_moved_and_a_shifted_one_has() {
        let a = [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]];
        let nudged = a.map(|[x, y]| [x + 0.005, y]);
        let shifted = a.map(|[x, y]| [x + 0.05, y]);
        assert!(!moved(Some(a), Some(nudged), 16.0 / 9.0));
        assert!(moved(Some(a), Some(shifted), 16.0 / 9.0));
        assert!(!moved(None, Some(a), 16.0 / 9.0));
    }
}
