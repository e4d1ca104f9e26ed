//! Where the eyes look: MediaPipe's iris landmark model on each eye, and the eye's rotation in its socket
//! derived from where the iris centre sits between the eye corners.
//!
//! The crop is MediaPipe's: a square 2.3 eye widths wide about the midpoint of the corners, turned so that the
//! corners lie level, 64×64, RGB 0–1; the subject's left eye (image right) is mirrored so that both look like
//! the image-left eye the model was trained on. The 68-point landmarks place the crop; the model's own lid
//! contour gives the corners that the iris is measured against.
//!
//! The rotation is a model of the eye, not a calibration: the iris centre turns about the eyeball's centre at
//! [`IRIS_ORBIT_IN_EYE_WIDTHS`] of the corner-to-corner width (about 10 mm against 29 mm in adults), so an
//! offset `h` (in eye widths) from the corners' midpoint is `asin(h / 0.345)`. What the liveness check reads
//! is the change between frames, which needs no zero; the absolute angle (for the DIS `eyeGaze` quality) takes
//! the iris's resting height from [`IRIS_REST_VERTICAL`].
//!
//! Limits: the crop is placed by the 68-point landmarks, which need an upright face, so a face rolled far from
//! level or one whose eyes are a few pixels wide reads nonsense; [`Gaze::plausible`] tells those apart by the
//! eye shape the model returns. The corner line is not level in every face (canthal tilt), so the vertical angle
//! of one photo is rougher than the horizontal one; changes between frames of one face cancel that out.

use image::RgbImage;
use serde::Serialize;

use crate::detect::Face;
use crate::error::{Result, VisionError};
use crate::geometry::{similarity_transform, warp_affine, Point};
use crate::runtime::Model;

pub const INPUT_SIZE: u32 = 64;
/// MediaPipe's crop: this many eye widths (corner to corner) on each side of the square.
pub const CROP_EYE_WIDTHS: f32 = 2.3;
/// Radius of the iris centre's turn about the eyeball's centre, in eye widths.
pub const IRIS_ORBIT_IN_EYE_WIDTHS: f32 = 0.345;
/// Where the iris centre rests across the line through the corners (+: below), in eye widths, when the eye looks
/// straight ahead: the median of 15 upright portraits looking at the camera (`testdata/faces` and the specimen
/// documents' portraits), where it sits 0.057 eye widths above the line (9.5° uncorrected).
pub const IRIS_REST_VERTICAL: f32 = -0.057;
/// Eyes narrower than this (pixels, corner to corner) are too small to place an iris in.
pub const MIN_EYE_WIDTH_PX: f32 = 10.0;
/// Faces rolled further than this from upright are not measured: the 68-point landmarks that place the eye
/// crops are made for upright faces.
pub const MAX_ROLL_DEG: f32 = 25.0;
const CONTOUR_POINTS: usize = 71;
const IRIS_POINTS: usize = 5;
/// The lid contour's corners in the model's output: the first and the ninth point.
const CORNERS: (usize, usize) = (0, 8);
/// Points 0–15 are the lids (lower 0–8, upper 9–15); the rest are brows and halos.
const LID_POINTS: usize = 16;

/// One eye as the iris model sees it, in image pixels.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EyeLandmarks {
    /// The image-left and image-right corner.
    pub corners: [Point; 2],
    pub iris_center: Point,
    /// Mean distance from the centre to the four iris edge points.
    pub iris_radius: f32,
    /// The 16 lid points, lower then upper.
    pub lids: Vec<Point>,
}

impl EyeLandmarks {
    pub fn width(&self) -> f32 {
        self.corners[0].distance(self.corners[1])
    }

    /// The iris centre's offset from the corners' midpoint, in eye widths: along the corner line (+: toward
    /// image right) and across it (+: toward image bottom).
    pub fn iris_offset(&self) -> (f32, f32) {
        let [a, b] = self.corners;
        let w = self.width().max(1e-3);
        let (ux, uy) = ((b.x - a.x) / w, (b.y - a.y) / w);
        let mid = a.midpoint(b);
        let (dx, dy) = (self.iris_center.x - mid.x, self.iris_center.y - mid.y);
        ((dx * ux + dy * uy) / w, (-dx * uy + dy * ux) / w)
    }

    /// Lid opening (mean distance between facing lower and upper lid points) over the eye width.
    pub fn opening(&self) -> f32 {
        let pairs = [(2, 15), (3, 14), (4, 13), (5, 12), (6, 11)];
        let gaps: f32 =
            pairs.iter().filter_map(|&(lo, up)| Some(self.lids.get(lo)?.distance(*self.lids.get(up)?))).sum();
        gaps / pairs.len() as f32 / self.width().max(1e-3)
    }
}

/// Both eyes and the rotation of the eyes in their sockets.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Gaze {
    /// The subject's right eye (image left) and left eye (image right).
    pub eyes: [EyeLandmarks; 2],
    /// Degrees the eyes are turned in the head, same sign as head yaw: + toward the subject's right (image left
    /// in an unmirrored frame).
    pub yaw: f32,
    /// Degrees, + up.
    pub pitch: f32,
}

impl Gaze {
    /// Whether the eyes of `face` can be measured: an upright face ([`MAX_ROLL_DEG`]) whose eyes have the shape of
    /// eyes.
    pub fn measurable_on(&self, face: &Face) -> bool {
        face.roll_deg().abs() <= MAX_ROLL_DEG && self.plausible()
    }

    /// Whether both eyes have the shape of an eye ([`Gaze::implausible`] says why not).
    pub fn plausible(&self) -> bool {
        self.implausible().is_none()
    }

    /// Why the eyes found are not eyes to measure, or `None`: each must be at least [`MIN_EYE_WIDTH_PX`] wide,
    /// 0.22–0.6 of the distance between the eyes' centres, with an iris radius of 0.12–0.32 eye widths whose
    /// centre lies within the eye's span. As the model places the corners, on 1,807 eyes of `face_dev`, the
    /// fixtures and the specimen documents: width over distance 0.31–0.42 (5th–95th percentile, median 0.37), iris
    /// radius 0.18–0.24 (median 0.21).
    pub fn implausible(&self) -> Option<&'static str> {
        let [right, left] = &self.eyes;
        let apart = right.corners[0].midpoint(right.corners[1]).distance(left.corners[0].midpoint(left.corners[1]));
        self.eyes.iter().find_map(|eye| {
            let w = eye.width();
            if w < MIN_EYE_WIDTH_PX {
                Some("eyes too small")
            } else if !(0.22..=0.6).contains(&(w / apart.max(1e-3))) {
                Some("eye width out of proportion (head turned far, or not upright)")
            } else if !(0.12..=0.32).contains(&(eye.iris_radius / w)) {
                Some("iris size out of proportion")
            } else if eye.iris_offset().0.abs() >= 0.5 {
                Some("iris outside the eye")
            } else {
                None
            }
        })
    }

    /// How far the eyes look away from straight out of the head, in degrees (yaw and pitch combined).
    pub fn off_axis_deg(&self) -> f32 {
        self.yaw.hypot(self.pitch)
    }
}

/// Eye rotation in degrees for an offset in eye widths.
fn rotation_deg(offset: f32) -> f32 {
    (offset / IRIS_ORBIT_IN_EYE_WIDTHS).clamp(-1.0, 1.0).asin().to_degrees()
}

impl Gaze {
    fn from_eyes(eyes: [EyeLandmarks; 2]) -> Gaze {
        let offsets = eyes.each_ref().map(EyeLandmarks::iris_offset);
        let along = offsets.iter().map(|o| o.0).sum::<f32>() / 2.0;
        let across = offsets.iter().map(|o| o.1).sum::<f32>() / 2.0;
        Gaze { eyes, yaw: -rotation_deg(along), pitch: -rotation_deg(across - IRIS_REST_VERTICAL) }
    }
}

/// The iris model's view of both eyes, placed by the eye corners of the 68-point landmarks (36/39 and 42/45).
pub fn gaze(model: &Model, img: &RgbImage, points68: &[Point]) -> Result<Gaze> {
    let corner = |i: usize| points68.get(i).copied().ok_or(VisionError::inference(model.file, "68 landmarks needed"));
    let right = eye(model, img, [corner(36)?, corner(39)?], false)?;
    let left = eye(model, img, [corner(42)?, corner(45)?], true)?;
    Ok(Gaze::from_eyes([right, left]))
}

/// One eye between its corners (image-left first). `mirror` for the image-right eye.
fn eye(model: &Model, img: &RgbImage, corners: [Point; 2], mirror: bool) -> Result<EyeLandmarks> {
    let size = INPUT_SIZE as f32;
    let centre = (size - 1.0) / 2.0;
    let half = size / CROP_EYE_WIDTHS / 2.0;
    let dst = [Point::new(centre - half, centre), Point::new(centre + half, centre)];
    let to_crop =
        similarity_transform(&corners, &dst).ok_or(VisionError::inference(model.file, "eye corners coincide"))?;
    let from_crop = to_crop.invert().ok_or(VisionError::inference(model.file, "eye corners coincide"))?;
    let mut crop = warp_affine(img, &to_crop, INPUT_SIZE, INPUT_SIZE)
        .ok_or(VisionError::inference(model.file, "eye corners coincide"))?;
    if mirror {
        image::imageops::flip_horizontal_in_place(&mut crop);
    }
    let tensor = crate::tensor::planar(&crop, crate::tensor::ChannelOrder::Rgb, |_, v| v / 255.0);
    let outputs = model.run([1, 3, INPUT_SIZE as usize, INPUT_SIZE as usize], tensor)?;
    let points = |i: usize, count: usize| -> Result<Vec<Point>> {
        let (_, values) = outputs.get(i).ok_or(VisionError::inference(model.file, "missing output"))?;
        if values.len() != count * 3 {
            return Err(VisionError::inference(model.file, "unexpected landmark count"));
        }
        // The model's coordinates put pixel i's centre at i + 0.5; the warp's at i.
        Ok(values
            .chunks_exact(3)
            .filter_map(|c| match c {
                [x, y, _] => {
                    let x = if mirror { size - x } else { *x };
                    Some(from_crop.apply(Point::new(x - 0.5, y - 0.5)))
                }
                _ => None,
            })
            .collect())
    };
    let contour = points(0, CONTOUR_POINTS)?;
    let iris = points(1, IRIS_POINTS)?;
    let at = |v: &[Point], i: usize| v.get(i).copied().ok_or(VisionError::inference(model.file, "missing landmark"));
    let (a, b) = (at(&contour, CORNERS.0)?, at(&contour, CORNERS.1)?);
    let iris_center = at(&iris, 0)?;
    let iris_radius = iris.iter().skip(1).map(|p| p.distance(iris_center)).sum::<f32>() / (IRIS_POINTS - 1) as f32;
    // Mirrored, the model's first corner is the image-right one.
    let corners = if a.x <= b.x { [a, b] } else { [b, a] };
    Ok(EyeLandmarks { corners, iris_center, iris_radius, lids: contour.into_iter().take(LID_POINTS).collect() })
}
