//! Liveness over several frames: passive, eye-gaze, smile and MagnifEye, as DIS defines the four types.
//!
//! Each frame is observed once ([`FaceEngine::observe`]) and the evaluations below are plain functions of
//! those observations, so they are tested on real photos without a camera.
//!
//! Every type answers a score in 0..1 whose decision threshold is [`PASS_SCORE`] (0.5), like the
//! similarity score. The active types take the lower of two parts, so a screen replaying someone who
//! follows the instructions still fails on the passive part:
//! - the *challenge* part: did the face do what was asked (turn towards the corners, smile then relax, come
//!   close with the eye in detail), each a ramp documented on its function;
//! - the *passive* part: the mean passive-liveness probability of the frames, mapped so that
//!   [`LIVE_THRESHOLD`] lands on 0.5.
//!
//! Gaze is judged by the line of sight: the head's direction (HopeNet yaw and pitch) plus the eyes' rotation in
//! the head (MediaPipe's iris model, [`crate::gaze`]). A customer may turn the head, the eyes or both toward a
//! corner. Where a frame's eyes cannot be measured (too small, or the face not upright), the moves into and out
//! of that frame are judged by the head alone.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::attributes;
use crate::detect::Face;
use crate::engine::FaceEngine;
use crate::error::Result;
use crate::geometry::{resize_region, Rect};
use crate::liveness::LIVE_THRESHOLD;
use crate::quality::laplacian_variance;
use crate::score::{similarity_score, MATCH_SCORE};
use crate::template::FaceTemplate;

/// Scores at or above this pass, for every liveness type.
pub const PASS_SCORE: f32 = 0.5;
/// Turn of the line of sight (degrees of yaw) between two corners that counts as fully following the target.
pub const GAZE_YAW_DEG: f32 = 10.0;
/// Tilt of the line of sight (degrees of pitch) between a top and a bottom corner that counts as fully following.
pub const GAZE_PITCH_DEG: f32 = 6.0;
/// Mouth widening (smile over neutral) that counts as a smile: the ramp runs from +3 % (score 0) to +11 %
/// (score 1), so +7 % is the threshold.
pub const SMILE_RAMP: (f32, f32) = (1.03, 1.11);
/// MagnifEye closeness: eye distance over frame width, ramp from 0.18 (arm's length) to 0.30 (close-up).
pub const CLOSE_RAMP: (f32, f32) = (0.18, 0.30);
/// MagnifEye detail: Laplacian variance of the eye band at 256 px wide, ramp from 20 (blurred) to 120.
pub const DETAIL_RAMP: (f32, f32) = (20.0, 120.0);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[ts(rename = "DisLivenessType")]
pub enum LivenessType {
    PassiveLiveness,
    EyeGazeLiveness,
    SmileLiveness,
    MagnifeyeLiveness,
}

impl LivenessType {
    /// DIS's name, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            LivenessType::PassiveLiveness => "PASSIVE_LIVENESS",
            LivenessType::EyeGazeLiveness => "EYE_GAZE_LIVENESS",
            LivenessType::SmileLiveness => "SMILE_LIVENESS",
            LivenessType::MagnifeyeLiveness => "MAGNIFEYE_LIVENESS",
        }
    }
}

/// Corners in an eye-gaze challenge: enough moves on both axes to be hard to fake by chance.
pub const GAZE_CHALLENGE_CORNERS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Corner {
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
}

impl Corner {
    pub const ALL: [Corner; 4] = [Corner::TopLeft, Corner::TopRight, Corner::BottomLeft, Corner::BottomRight];

    /// An eye-gaze challenge: [`GAZE_CHALLENGE_CORNERS`] random corners, none twice in a row, so every step
    /// is a move (DIS's challenges and the kiosk's alike).
    pub fn random_challenge() -> Vec<Corner> {
        use rand::seq::SliceRandom;
        let mut rng = rand::thread_rng();
        let mut out: Vec<Corner> = Vec::with_capacity(GAZE_CHALLENGE_CORNERS);
        while out.len() < GAZE_CHALLENGE_CORNERS {
            let options: Vec<Corner> = Corner::ALL.into_iter().filter(|c| out.last() != Some(c)).collect();
            if let Some(c) = options.choose(&mut rng) {
                out.push(*c);
            }
        }
        out
    }

    /// (+1 right, −1 left) and (+1 top, −1 bottom), as the customer sees the screen.
    fn signs(self) -> (f32, f32) {
        match self {
            Corner::TopLeft => (-1.0, 1.0),
            Corner::TopRight => (1.0, 1.0),
            Corner::BottomLeft => (-1.0, -1.0),
            Corner::BottomRight => (1.0, -1.0),
        }
    }
}

/// What the face was asked to show in a frame (DIS's `assertion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Assertion {
    EyeGazeTopLeft,
    EyeGazeTopRight,
    EyeGazeBottomLeft,
    EyeGazeBottomRight,
    Smile,
    Neutral,
    None,
    Magnifeye,
}

impl Assertion {
    pub fn corner(self) -> Option<Corner> {
        match self {
            Assertion::EyeGazeTopLeft => Some(Corner::TopLeft),
            Assertion::EyeGazeTopRight => Some(Corner::TopRight),
            Assertion::EyeGazeBottomLeft => Some(Corner::BottomLeft),
            Assertion::EyeGazeBottomRight => Some(Corner::BottomRight),
            _ => None,
        }
    }

    pub fn gaze(corner: Corner) -> Assertion {
        match corner {
            Corner::TopLeft => Assertion::EyeGazeTopLeft,
            Corner::TopRight => Assertion::EyeGazeTopRight,
            Corner::BottomLeft => Assertion::EyeGazeBottomLeft,
            Corner::BottomRight => Assertion::EyeGazeBottomRight,
        }
    }

    /// The liveness type whose evaluation reads frames with this assertion.
    pub fn liveness_type(self) -> LivenessType {
        match self {
            Assertion::None => LivenessType::PassiveLiveness,
            Assertion::Smile | Assertion::Neutral => LivenessType::SmileLiveness,
            Assertion::Magnifeye => LivenessType::MagnifeyeLiveness,
            _ => LivenessType::EyeGazeLiveness,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Assertion::EyeGazeTopLeft => "EYE_GAZE_TOP_LEFT",
            Assertion::EyeGazeTopRight => "EYE_GAZE_TOP_RIGHT",
            Assertion::EyeGazeBottomLeft => "EYE_GAZE_BOTTOM_LEFT",
            Assertion::EyeGazeBottomRight => "EYE_GAZE_BOTTOM_RIGHT",
            Assertion::Smile => "SMILE",
            Assertion::Neutral => "NEUTRAL",
            Assertion::None => "NONE",
            Assertion::Magnifeye => "MAGNIFEYE",
        }
    }

    pub fn parse(s: &str) -> Option<Assertion> {
        [
            Assertion::EyeGazeTopLeft,
            Assertion::EyeGazeTopRight,
            Assertion::EyeGazeBottomLeft,
            Assertion::EyeGazeBottomRight,
            Assertion::Smile,
            Assertion::Neutral,
            Assertion::None,
            Assertion::Magnifeye,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// What one frame shows, measured once.
#[derive(Debug, Clone)]
pub struct FrameObservation {
    /// The subject, or None when no face was found.
    pub face: Option<Face>,
    pub faces: usize,
    pub width: u32,
    /// Degrees; positive when the head turns to the customer's right (unmirrored camera frame).
    pub yaw: f32,
    /// Degrees; positive when the head tilts up.
    pub pitch: f32,
    /// The eyes' rotation in the head (degrees, yaw and pitch, signed like the head's), when they could be
    /// measured.
    pub eyes: Option<(f32, f32)>,
    /// Mouth width over outer-eye-corner distance.
    pub mouth_width: f32,
    /// The lower of the two open-eye probabilities.
    pub eyes_open: f32,
    /// Passive-liveness probability.
    pub passive: f32,
    pub template: Option<FaceTemplate>,
    /// Laplacian variance of the band across both eyes, resampled to 256 px wide.
    pub eye_detail: f32,
}

impl FrameObservation {
    fn no_face(faces: usize, width: u32) -> FrameObservation {
        FrameObservation {
            face: None,
            faces,
            width,
            yaw: 0.0,
            pitch: 0.0,
            eyes: None,
            mouth_width: 0.0,
            eyes_open: 0.0,
            passive: 0.0,
            template: None,
            eye_detail: 0.0,
        }
    }

    /// Where the person looks (yaw, pitch in degrees): head plus eyes, or the head alone when `with_eyes` is false
    /// or the eyes were not measured.
    pub fn line_of_sight(&self, with_eyes: bool) -> (f32, f32) {
        match self.eyes {
            Some((yaw, pitch)) if with_eyes => (self.yaw + yaw, self.pitch + pitch),
            _ => (self.yaw, self.pitch),
        }
    }

    /// Eye distance over frame width: how close the face is.
    pub fn closeness(&self) -> f32 {
        self.face.map_or(0.0, |f| f.eye_distance() / self.width.max(1) as f32)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EvaluationError {
    /// Frames of the needed kind are missing.
    NotEnoughData,
    /// Frames are there but unusable: no face, or not the same person throughout.
    InvalidData,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub score: f32,
    pub error: Option<EvaluationError>,
    /// Why, in words, for the audit trail and the clerk (never shown as the customer's verdict).
    pub reason: String,
    pub challenge: f32,
    pub passive: f32,
}

impl Evaluation {
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.score >= PASS_SCORE
    }

    fn refused(error: EvaluationError, reason: impl Into<String>) -> Evaluation {
        Evaluation { score: 0.0, error: Some(error), reason: reason.into(), challenge: 0.0, passive: 0.0 }
    }

    fn scored(challenge: f32, passive: f32, reason: String) -> Evaluation {
        Evaluation { score: challenge.min(passive).clamp(0.0, 1.0), error: None, reason, challenge, passive }
    }
}

impl FaceEngine {
    /// Everything the liveness evaluations read from one frame.
    pub fn observe(&self, img: &RgbImage) -> Result<FrameObservation> {
        let detection = self.detect(img)?;
        let Some(face) = detection.subject else {
            return Ok(FrameObservation::no_face(detection.faces.len(), img.width()));
        };
        let pose = self.head_pose(img, &face)?;
        let points = self.landmarks68(img, &face)?;
        let eyes = self.eyes_open(img, &points)?;
        let gaze = self.gaze(img, &points)?;
        let eyes_measured = gaze.measurable_on(&face) && eyes[0].min(eyes[1]) >= 0.5;
        Ok(FrameObservation {
            face: Some(face),
            faces: detection.faces.len(),
            width: img.width(),
            yaw: pose.yaw,
            pitch: pose.pitch,
            eyes: eyes_measured.then_some((gaze.yaw, gaze.pitch)),
            mouth_width: attributes::mouth_width_ratio(&points),
            eyes_open: eyes[0].min(eyes[1]),
            passive: self.passive_liveness(img, &face)?,
            template: Some(self.template(img, &face)?),
            eye_detail: eye_band_detail(img, &face),
        })
    }
}

impl FaceEngine {
    /// Observes the frames one at a time (each is dropped once read, so a long list never sits decoded in
    /// memory) and evaluates `kind` over them.
    pub fn evaluate_liveness<B: std::borrow::Borrow<RgbImage>>(
        &self,
        kind: LivenessType,
        frames: impl IntoIterator<Item = Result<(Assertion, B)>>,
    ) -> Result<Evaluation> {
        let observed = frames
            .into_iter()
            .map(|frame| {
                let (assertion, img) = frame?;
                Ok((assertion, self.observe(img.borrow())?))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(evaluate(kind, &observed))
    }
}

/// Laplacian variance across both eyes: the band from 0.45 eye-distances outside each eye, 0.3 above and below.
pub fn eye_band_detail(img: &RgbImage, face: &Face) -> f32 {
    let [right, left, ..] = face.landmarks;
    let d = face.eye_distance().max(1.0);
    let band = Rect {
        x0: right.x.min(left.x) - 0.45 * d,
        x1: right.x.max(left.x) + 0.45 * d,
        y0: right.y.min(left.y) - 0.3 * d,
        y1: right.y.max(left.y) + 0.3 * d,
    }
    .padded_clipped(0.0, img.width(), img.height());
    let w = 256u32;
    let h = ((band.height() / band.width().max(1.0)) * w as f32).round().clamp(8.0, 256.0) as u32;
    let patch = resize_region(img, band, w, h);
    let lum: Vec<f32> = patch.pixels().map(|p| crate::tensor::luma(p.0)).collect();
    laplacian_variance(&lum, w as usize, h as usize)
}

/// Passive probability to the common 0..1 scale: [`LIVE_THRESHOLD`] → 0.5, linear on either side.
pub fn passive_to_score(p: f32) -> f32 {
    let p = p.clamp(0.0, 1.0);
    if p < LIVE_THRESHOLD {
        0.5 * p / LIVE_THRESHOLD
    } else {
        0.5 + 0.5 * (p - LIVE_THRESHOLD) / (1.0 - LIVE_THRESHOLD)
    }
}

fn ramp(v: f32, (lo, hi): (f32, f32)) -> f32 {
    ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
}

/// The frames of one liveness type, in capture order.
pub fn evaluate(kind: LivenessType, frames: &[(Assertion, FrameObservation)]) -> Evaluation {
    let mine: Vec<&(Assertion, FrameObservation)> = frames.iter().filter(|(a, _)| a.liveness_type() == kind).collect();
    let needed = match kind {
        LivenessType::EyeGazeLiveness => 2,
        _ => 1,
    };
    if mine.len() < needed {
        return Evaluation::refused(
            EvaluationError::NotEnoughData,
            format!("{kind:?} needs at least {needed} frame(s) of its kind; {} given", mine.len()),
        );
    }
    if let Some(i) = mine.iter().position(|(_, o)| o.face.is_none()) {
        return Evaluation::refused(EvaluationError::InvalidData, format!("frame {} shows no face", i + 1));
    }
    if !same_person(&mine) {
        return Evaluation::refused(EvaluationError::InvalidData, "the frames do not show the same person");
    }
    let passive = passive_to_score(mine.iter().map(|(_, o)| o.passive).sum::<f32>() / mine.len() as f32);
    match kind {
        LivenessType::PassiveLiveness => {
            Evaluation::scored(1.0, passive, format!("passive liveness over {} frame(s)", mine.len()))
        }
        LivenessType::EyeGazeLiveness => eye_gaze(&mine, passive),
        LivenessType::SmileLiveness => smile(&mine, passive),
        LivenessType::MagnifeyeLiveness => magnifeye(&mine, passive),
    }
}

fn same_person(frames: &[&(Assertion, FrameObservation)]) -> bool {
    let templates: Vec<&FaceTemplate> = frames.iter().filter_map(|(_, o)| o.template.as_ref()).collect();
    match templates.split_first() {
        Some((first, rest)) => rest.iter().all(|t| similarity_score(first.cosine(t)) >= MATCH_SCORE),
        None => false,
    }
}

/// Between consecutive frames whose corners differ, the line of sight (head plus eyes; the head alone where
/// either frame's eyes were not measured) must move the way the target moved: yaw for a left/right change,
/// pitch for a top/bottom change. Each required move scores `ramp(Δ·sign, 0..full)`, where full is
/// [`GAZE_YAW_DEG`] or [`GAZE_PITCH_DEG`]; the challenge part is their mean.
fn eye_gaze(frames: &[&(Assertion, FrameObservation)], passive: f32) -> Evaluation {
    let mut moves = Vec::new();
    let mut head_only = 0;
    for pair in frames.windows(2) {
        let [(a, fa), (b, fb)] = pair else { continue };
        let (Some(ca), Some(cb)) = (a.corner(), b.corner()) else { continue };
        let ((ax, ay), (bx, by)) = (ca.signs(), cb.signs());
        let with_eyes = fa.eyes.is_some() && fb.eyes.is_some();
        head_only += usize::from(!with_eyes);
        let ((yaw_a, pitch_a), (yaw_b, pitch_b)) = (fa.line_of_sight(with_eyes), fb.line_of_sight(with_eyes));
        if ax != bx {
            moves.push(ramp((yaw_b - yaw_a) * (bx - ax) / 2.0, (0.0, GAZE_YAW_DEG)));
        }
        if ay != by {
            moves.push(ramp((pitch_b - pitch_a) * (by - ay) / 2.0, (0.0, GAZE_PITCH_DEG)));
        }
    }
    if moves.is_empty() {
        return Evaluation::refused(
            EvaluationError::NotEnoughData,
            "eye-gaze needs consecutive frames at different corners",
        );
    }
    let challenge = moves.iter().sum::<f32>() / moves.len() as f32;
    let followed = moves.iter().filter(|m| **m >= 0.5).count();
    let judged_by = if head_only == 0 {
        String::from("head and eyes")
    } else {
        format!("head and eyes; the head alone for {head_only} change(s) where the eyes were not measurable")
    };
    Evaluation::scored(
        challenge,
        passive,
        format!("the line of sight followed {followed} of {} target moves ({judged_by})", moves.len()),
    )
}

/// The smile frames' mouth must be wider than every neutral frame's: the narrowest margin, as a ratio,
/// goes through [`SMILE_RAMP`].
fn smile(frames: &[&(Assertion, FrameObservation)], passive: f32) -> Evaluation {
    let widths = |want: Assertion| -> Vec<f32> {
        frames.iter().filter(|(a, _)| *a == want).map(|(_, o)| o.mouth_width).collect()
    };
    let (smiles, neutrals) = (widths(Assertion::Smile), widths(Assertion::Neutral));
    if smiles.is_empty() || neutrals.is_empty() {
        return Evaluation::refused(EvaluationError::NotEnoughData, "smile liveness needs NEUTRAL and SMILE frames");
    }
    let smile = smiles.iter().sum::<f32>() / smiles.len() as f32;
    let widest_neutral = neutrals.iter().copied().fold(f32::MIN, f32::max).max(1e-3);
    let ratio = smile / widest_neutral;
    Evaluation::scored(
        ramp(ratio, SMILE_RAMP),
        passive,
        format!("the smile widened the mouth by {:+.1} %", (ratio - 1.0) * 100.0),
    )
}

/// The close-up must be close ([`CLOSE_RAMP`]), show the eyes in detail ([`DETAIL_RAMP`]) and open; the
/// challenge part is the weakest of the three over the best frame.
fn magnifeye(frames: &[&(Assertion, FrameObservation)], passive: f32) -> Evaluation {
    let best = frames
        .iter()
        .map(|(_, o)| {
            let open = if o.eyes_open >= 0.5 { 1.0 } else { 0.0 };
            (ramp(o.closeness(), CLOSE_RAMP).min(ramp(o.eye_detail, DETAIL_RAMP)).min(open), o)
        })
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let Some((challenge, o)) = best else {
        return Evaluation::refused(EvaluationError::NotEnoughData, "MagnifEye needs a close-up frame");
    };
    Evaluation::scored(
        challenge,
        passive,
        format!(
            "close-up: eye distance {:.0} % of the frame, eye detail {:.0}, eyes open {:.2}",
            o.closeness() * 100.0,
            o.eye_detail,
            o.eyes_open
        ),
    )
}
