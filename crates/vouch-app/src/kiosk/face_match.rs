//! The face_match step: the face the kiosk captured earlier in the case (the selfie, or the selfie of a
//! liveness step) against the case's reference photo, or against the portrait in the chip the kiosk read.
//! Decided here from stored evidence; nothing the customer sends can change the result. On a case pulled from a
//! central, the gallery steps are decided there, where the gallery is.

use serde_json::{json, Value};
use vouch_core::flow::{FaceReference, Step, StepKind, StepOutcome};
use vouch_core::EvidenceKind;
use vouch_vision::score::similarity_score;
use vouch_vision::FaceEngine;

use super::capture::{current_step, record, StepArgs};
use super::Caller;
use super::Kiosk;
use crate::faces::{probe_template, subject_template};
use crate::AppError;
use vouch_store::flows::NewStep;

use crate::subject_cases::{self, unmatched};

/// The calibrated score between the probe made of the selfie's frames and the reference photo's subject face, or
/// the reason there is none.
fn compare(
    engine: &FaceEngine,
    probe: &[Vec<u8>],
    reference: &[u8],
    limits: vouch_vision::ImageLimits,
) -> vouch_vision::Result<Result<(f32, f32), Value>> {
    let Some(probe) = probe_template(engine, probe, limits)? else {
        return Ok(Err(unmatched("no_face_in_selfie", "no face was found in the captured selfie")));
    };
    let Some(reference) = subject_template(engine, reference, limits)? else {
        return Ok(Err(unmatched("no_face_in_reference", "no face was found in the reference photo")));
    };
    let cosine = probe.cosine(&reference);
    Ok(Ok((cosine, similarity_score(cosine))))
}

pub async fn face_match_run(
    state: &Kiosk,
    caller: &Caller,
    args: StepArgs,
) -> Result<super::capture::Captured, AppError> {
    if let Some(done) = ran_at_the_central(state, &args, StepKind::FaceMatch).await? {
        return Ok(done);
    }
    let (case_id, step) = current_step(state, &args, StepKind::FaceMatch).await?;
    let Step::FaceMatch { threshold, reference } = step else {
        return Err(AppError::internal("the current step is not a face match"));
    };
    if reference == FaceReference::Enrolled {
        if state.db(move |s| s.central_case(case_id)).await?.is_some() {
            return at_the_central(state, case_id, args.index).await;
        }
        return enrolled_match(state, caller, case_id, args.index, threshold).await;
    }
    // The document's portrait: the chip's (signed by the issuer) when the case read one, else the printed one
    // on the scanned page.
    let (probe, reference_kind, photo) = state
        .db(move |s| {
            let probe =
                subject_cases::FaceProbe { frames: vouch_store::case_subjects::latest_face_frames(s, case_id)? };
            let (kind, photo) = match reference {
                FaceReference::Document => match s.latest_evidence_bytes(case_id, EvidenceKind::ChipData)? {
                    Some(chip) => (EvidenceKind::ChipData, Some(chip)),
                    None => {
                        let page = s.latest_evidence_bytes(case_id, EvidenceKind::DocumentPage)?;
                        (if page.is_some() { EvidenceKind::DocumentPage } else { EvidenceKind::ChipData }, page)
                    }
                },
                FaceReference::Uploaded | FaceReference::Enrolled => {
                    (EvidenceKind::ReferencePhoto, s.latest_evidence_bytes(case_id, EvidenceKind::ReferencePhoto)?)
                }
            };
            Ok((probe, kind, photo))
        })
        .await?;
    // The chip data holds the portrait in DG2 (JPEG or JPEG 2000).
    let photo = match (reference_kind, photo) {
        (EvidenceKind::ChipData, Some((ev, bytes))) => match chip_portrait(&bytes) {
            Some(portrait) => Some((ev, portrait)),
            None => {
                let detail = unmatched("no_chip_portrait", "the chip the kiosk read holds no readable portrait");
                let outcome = StepOutcome::Failed;
                let step = NewStep { case_id, index: args.index, kind: StepKind::FaceMatch, outcome, detail };
                return record(state, caller, step, Vec::new()).await;
            }
        },
        (_, other) => other,
    };
    let (reference_name, missing) = match reference_kind {
        EvidenceKind::ChipData => {
            ("document_chip", "neither a chip nor a document page was read in this case before the customer got here")
        }
        EvidenceKind::DocumentPage => ("document_page", ""),
        _ => ("uploaded", "no reference photo was uploaded for this case before the customer got here"),
    };
    let limits = state.faces.limits;
    let (outcome, detail) = match (probe.shown().is_some(), photo) {
        (false, _) => (StepOutcome::Failed, unmatched("no_selfie", "the case has no selfie to compare")),
        (_, None) => (
            StepOutcome::Failed,
            unmatched(
                if reference_kind == EvidenceKind::ChipData { "no_document_read" } else { "no_reference_photo" },
                missing,
            ),
        ),
        (true, Some((ref_ev, photo))) => {
            let frames = probe.photos();
            let compared = state.faces.run(move |engine| compare(engine, &frames, &photo, limits)).await?;
            match compared {
                Ok((cosine, score)) => {
                    let outcome = vouch_core::step_rules::face_match(score, threshold);
                    let mut detail = json!({
                        "reference": reference_name,
                        "score": score,
                        "cosine": cosine,
                        "threshold": threshold,
                        "reference_photo": ref_ev.sha256,
                    });
                    subject_cases::merge(&mut detail, probe.cited());
                    (outcome, detail)
                }
                Err(why) => (StepOutcome::Failed, why),
            }
        }
    };
    let step = NewStep { case_id, index: args.index, kind: StepKind::FaceMatch, outcome, detail };
    record(state, caller, step, Vec::new()).await
}

/// The selfie against the person the case was opened for, or the best match of its collection.
async fn enrolled_match(
    state: &Kiosk,
    caller: &Caller,
    case_id: vouch_core::CaseId,
    index: u32,
    threshold: f64,
) -> Result<super::capture::Captured, AppError> {
    let (case, subject, probe) = subject_cases::load(&state.app, case_id).await?;
    let (outcome, detail) =
        subject_cases::face_match(&state.recognition, &case, subject.as_ref(), probe, threshold).await?;
    let step = NewStep { case_id, index, kind: StepKind::FaceMatch, outcome, detail };
    record(state, caller, step, Vec::new()).await
}

/// The duplicate_check step: the selfie searched among enrolled persons; fails when someone reaches the
/// threshold, so one person cannot onboard twice under two names.
pub async fn duplicate_check_run(
    state: &Kiosk,
    caller: &Caller,
    args: StepArgs,
) -> Result<super::capture::Captured, AppError> {
    if let Some(done) = ran_at_the_central(state, &args, StepKind::DuplicateCheck).await? {
        return Ok(done);
    }
    let (case_id, step) = current_step(state, &args, StepKind::DuplicateCheck).await?;
    let Step::DuplicateCheck { threshold, collection } = step else {
        return Err(AppError::internal("the current step is not a duplicate check"));
    };
    if state.db(move |s| s.central_case(case_id)).await?.is_some() {
        return at_the_central(state, case_id, args.index).await;
    }
    let (case, subject, probe) = subject_cases::load(&state.app, case_id).await?;
    let (outcome, detail) =
        subject_cases::duplicate_check(&state.recognition, &case, subject, collection, probe, threshold).await?;
    let step = NewStep { case_id, index: args.index, kind: StepKind::DuplicateCheck, outcome, detail };
    record(state, caller, step, Vec::new()).await
}

/// The case as it stands when the kiosk's sync round had the central run this gallery step while the customer was
/// asking for it (their retry once the link came back): done, not an error.
async fn ran_at_the_central(
    state: &Kiosk,
    args: &StepArgs,
    kind: StepKind,
) -> Result<Option<super::capture::Captured>, AppError> {
    let Some(case_id) = vouch_core::CaseId::parse(&args.case_id) else { return Ok(None) };
    let index = args.index;
    let ran = state
        .db(move |s| {
            Ok(s.central_case(case_id)?.is_some()
                && s.case_steps(case_id)?.iter().any(|r| r.index == index && r.kind == kind))
        })
        .await?;
    if !ran {
        return Ok(None);
    }
    Ok(Some(super::capture::Captured::recorded(crate::steps::case_session(&state.app, case_id).await?)))
}

/// A gallery step on a case pulled from the central: the gallery lives there, so the central decides it.
async fn at_the_central(
    state: &Kiosk,
    case_id: vouch_core::CaseId,
    index: u32,
) -> Result<super::capture::Captured, AppError> {
    crate::central::run_gallery_step(&state.app, state.central.as_ref(), case_id, index).await?;
    Ok(super::capture::Captured::recorded(crate::steps::case_session(&state.app, case_id).await?))
}

/// The first portrait in chip data the kiosk stored.
pub(super) fn chip_portrait(chip_data: &[u8]) -> Option<Vec<u8>> {
    let data = vouch_chip::chip_data::decode(chip_data).ok()?;
    let dg2 = data.files.groups.get(&2)?;
    vouch_chip::lds::face::parse_dg2(dg2).ok()?.into_iter().next().map(|f| f.data)
}
