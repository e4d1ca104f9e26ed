//! Face quality in the shape of DIS's `FaceQuality`. Every score is a measurement scaled to 0..1 (what each
//! one means is in the field docs and docs/apis.md); `preconditions_met` says whether the measurement can be
//! trusted for this face (for instance, eye state needs a face turned less than 30°).
//!
//! Not computed, because no model here can measure them honestly: nose shadow, red eye.

use image::RgbImage;
use serde::Serialize;

use crate::attributes::HeadPose;
use crate::detect::Face;
use crate::geometry::{resize_region, Rect};
use crate::tensor::luma;

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Attribute {
    pub score: f32,
    pub preconditions_met: bool,
}

impl Attribute {
    fn new(score: f32, preconditions_met: bool) -> Attribute {
        Attribute { score: if score.is_finite() { score.clamp(0.0, 1.0) } else { 0.0 }, preconditions_met }
    }
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Angle {
    pub angle: i32,
    pub preconditions_met: bool,
}

/// Face quality measurements. Field meanings:
/// - `sharpness`: variance of the Laplacian of the face at 128 px width, `1 − e^(−v/150)`; blur lowers it.
/// - `brightness`: mean luma of the inner face / 255 (0.35–0.75 is well lit).
/// - `contrast`: standard deviation of that luma / 64.
/// - `unique_intensity_levels`: distinct grey levels in the face / 256 (low: posterised or over-compressed).
/// - `shadow`: difference in mean luma between the left and right half of the face / 128 (0: even light).
/// - `specularity`: share of face pixels that are saturated (luma ≥ 250), ×20 (0: no glare).
/// - `background_uniformity`: 1 − standard deviation of the luma around the head / 64 (1: plain backdrop).
/// - `roll` from the eye line; `yaw` and `pitch` from the pose model, in degrees.
/// - `eye_distance`: pixels between the eye centres / 100 (1.0 from 100 px; ISO 19794-5 asks ≥ 60 for a token
///   image).
/// - `eye_gaze`: 1 − the eyes' rotation in the head / [`EYE_GAZE_RANGE_DEG`] (1: the eyes look straight out of
///   the head; 0: 30° or more aside), from the iris model ([`crate::gaze`]); its preconditions need both eyes open,
///   measurable (big enough, face upright) and the head within 30° of frontal.
/// - `right_eye`, `left_eye`: probability that the eye is open.
/// - `mouth`: 1 − inner-lip gap / (0.3 × mouth width) (1: closed).
/// - `face_size`: face box height / 300 px.
/// - `face_relative_area`: face box area / image area.
/// - `face_relative_area_in_image`: share of the face box that lies inside the image (1: fully captured).
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct FaceQuality {
    pub sharpness: Attribute,
    pub brightness: Attribute,
    pub contrast: Attribute,
    pub unique_intensity_levels: Attribute,
    pub shadow: Attribute,
    pub specularity: Attribute,
    pub background_uniformity: Attribute,
    pub roll: Angle,
    pub yaw: Angle,
    pub pitch: Angle,
    pub eye_distance: Attribute,
    pub eye_gaze: Attribute,
    pub right_eye: Attribute,
    pub left_eye: Attribute,
    pub mouth: Attribute,
    pub face_size: Attribute,
    pub face_relative_area: Attribute,
    pub face_relative_area_in_image: Attribute,
}

/// Inputs from the models, measured by the engine before the image statistics are taken.
pub struct ModelMeasures {
    pub pose: HeadPose,
    pub eyes_open: [f32; 2],
    pub mouth_open_ratio: f32,
    /// The eyes' rotation in the head in degrees (yaw and pitch combined), and whether the eyes were measurable.
    pub eye_gaze: (f32, bool),
}

/// Eye rotation at which the `eye_gaze` score reaches 0.
pub const EYE_GAZE_RANGE_DEG: f32 = 30.0;

/// Image statistics of the face region.
#[derive(Debug, Clone, Copy)]
pub struct ImageStats {
    pub laplacian_variance: f32,
    pub mean: f32,
    pub std: f32,
    pub unique_levels: u32,
    pub left_right_diff: f32,
    pub saturated_share: f32,
}

impl ImageStats {
    /// `1 − e^(−v/150)` of the Laplacian's variance: near 1 for a sharp face, falling with blur.
    pub fn sharpness(&self) -> f32 {
        1.0 - (-self.laplacian_variance / 150.0).exp()
    }
}

/// Luma statistics of the inner face (the box shrunk by 15 % each side), resampled to 128 px wide so the
/// numbers do not depend on the photo's resolution.
pub fn face_stats(img: &RgbImage, face_box: Rect) -> ImageStats {
    let inner = face_box.shrunk(0.15).padded_clipped(0.0, img.width(), img.height());
    let w = 128u32;
    let h = ((inner.height() / inner.width().max(1.0)) * w as f32).round().clamp(16.0, 256.0) as u32;
    let patch = resize_region(img, inner, w, h);
    let lum: Vec<f32> = patch.pixels().map(|p| luma(p.0)).collect();
    let n = lum.len().max(1) as f32;
    let mean = lum.iter().sum::<f32>() / n;
    let std = (lum.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt();
    let mut levels = [false; 256];
    for v in &lum {
        if let Some(slot) = levels.get_mut(v.round().clamp(0.0, 255.0) as usize) {
            *slot = true;
        }
    }
    let unique_levels = levels.iter().filter(|b| **b).count() as u32;
    let (wu, hu) = (w as usize, h as usize);
    let at = |x: usize, y: usize| lum.get(y * wu + x).copied().unwrap_or(0.0);
    let laplacian_variance = laplacian_variance(&lum, wu, hu);
    let half = wu / 2;
    let (mut left, mut right) = (0.0f32, 0.0f32);
    for y in 0..hu {
        for x in 0..wu {
            if x < half {
                left += at(x, y);
            } else {
                right += at(x, y);
            }
        }
    }
    let per_half = (half * hu).max(1) as f32;
    let left_right_diff = (left / per_half - right / per_half).abs();
    let saturated_share = lum.iter().filter(|v| **v >= 250.0).count() as f32 / n;
    ImageStats { laplacian_variance, mean, std, unique_levels, left_right_diff, saturated_share }
}

/// Variance of the 4-neighbour Laplacian of a `w`×`h` luma plane: high for fine detail, low for blur.
pub fn laplacian_variance(lum: &[f32], w: usize, h: usize) -> f32 {
    let at = |x: usize, y: usize| lum.get(y * w + x).copied().unwrap_or(0.0);
    let mut lap = Vec::with_capacity(w * h);
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            lap.push(at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4.0 * at(x, y));
        }
    }
    let n = lap.len().max(1) as f32;
    let mean = lap.iter().sum::<f32>() / n;
    lap.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n
}

/// Standard deviation of luma in a band around the head (the box grown by 60 %, minus the box grown by 15 %),
/// or None when too little background is visible to judge.
pub fn background_std(img: &RgbImage, face_box: Rect) -> Option<f32> {
    let outer = face_box.padded_clipped(0.6, img.width(), img.height());
    let inner = face_box.padded_clipped(0.15, img.width(), img.height());
    let step = (outer.width().max(outer.height()) / 96.0).max(1.0);
    let mut values = Vec::new();
    let mut y = outer.y0;
    while y < outer.y1 {
        let mut x = outer.x0;
        while x < outer.x1 {
            let inside_head = x >= inner.x0 && x < inner.x1 && y >= inner.y0;
            if !inside_head {
                if let Some(p) = img.get_pixel_checked(x as u32, y as u32) {
                    values.push(luma(p.0));
                }
            }
            x += step;
        }
        y += step;
    }
    if values.len() < 200 {
        return None;
    }
    let n = values.len() as f32;
    let mean = values.iter().sum::<f32>() / n;
    Some((values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt())
}

/// A frame's weight among frames of one person (the kiosk's probe, `vouch faces eval --sequences`): sharp and
/// frontal counts. `sharpness` is the hint check's measure (0..1, [`ImageStats::sharpness`]); frontality is how
/// near the nose tip sits to the middle of the eyes, in eye distances (1 facing the camera, 0 at half an eye
/// distance off, about 30° of yaw).
pub fn frame_weight(sharpness: f32, face: &Face) -> f32 {
    let [right_eye, left_eye, nose, ..] = face.landmarks;
    let offset = (nose.x - (right_eye.x + left_eye.x) / 2.0).abs() / face.eye_distance().max(1.0);
    sharpness * (1.0 - 2.0 * offset).clamp(0.0, 1.0)
}

pub fn assess(img: &RgbImage, face: &Face, measures: &ModelMeasures) -> FaceQuality {
    let stats = face_stats(img, face.rect);
    let (iw, ih) = img.dimensions();
    let frontal = measures.pose.yaw.abs() < 30.0 && measures.pose.pitch.abs() < 30.0;
    let big_enough = face.eye_distance() >= 20.0;
    let fair_light = stats.mean > 30.0 && stats.mean < 230.0;
    let inside = face.rect.padded_clipped(0.0, iw, ih);
    let visible = inside.area() / face.rect.area().max(1.0);
    let background = background_std(img, face.rect);
    let angle = |v: f32, ok: bool| Angle { angle: v.round() as i32, preconditions_met: ok };
    FaceQuality {
        sharpness: Attribute::new(stats.sharpness(), big_enough),
        brightness: Attribute::new(stats.mean / 255.0, true),
        contrast: Attribute::new(stats.std / 64.0, true),
        unique_intensity_levels: Attribute::new(stats.unique_levels as f32 / 256.0, true),
        shadow: Attribute::new(stats.left_right_diff / 128.0, frontal && fair_light),
        specularity: Attribute::new(stats.saturated_share * 20.0, true),
        background_uniformity: Attribute::new(1.0 - background.unwrap_or(64.0) / 64.0, background.is_some()),
        roll: angle(face.roll_deg(), true),
        yaw: angle(measures.pose.yaw, big_enough),
        pitch: angle(measures.pose.pitch, big_enough),
        eye_distance: Attribute::new(face.eye_distance() / 100.0, true),
        eye_gaze: Attribute::new(
            1.0 - measures.eye_gaze.0 / EYE_GAZE_RANGE_DEG,
            measures.eye_gaze.1 && measures.eyes_open[0].min(measures.eyes_open[1]) >= 0.5 && frontal && big_enough,
        ),
        right_eye: Attribute::new(measures.eyes_open[0], frontal && big_enough),
        left_eye: Attribute::new(measures.eyes_open[1], frontal && big_enough),
        mouth: Attribute::new(1.0 - measures.mouth_open_ratio / 0.3, frontal && big_enough),
        face_size: Attribute::new(face.rect.height() / 300.0, true),
        face_relative_area: Attribute::new(face.rect.area() / (iw as f32 * ih as f32).max(1.0), true),
        face_relative_area_in_image: Attribute::new(visible, true),
    }
}
