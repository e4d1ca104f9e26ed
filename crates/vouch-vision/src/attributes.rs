//! The small attribute models: 68 landmarks (coarse eye and mouth geometry), eye state, head pose, age and
//! gender. Each states the crop and pre-processing it was trained with.

use image::RgbImage;
use serde::Serialize;

use crate::error::{Result, VisionError};
use crate::geometry::{resize_region, Point, Rect};
use crate::runtime::Model;
use crate::tensor::{grey, imagenet, planar, softmax, ChannelOrder};

/// 68 points (iBUG order) from a 64×64 grey crop of the face box. Too coarse to align with (it cost 40 points
/// of TAR when tried); good enough to find the eyes and the mouth.
pub fn landmarks68(model: &Model, img: &RgbImage, face_box: Rect) -> Result<Vec<Point>> {
    let crop = face_box.grown_within(1.0, img.width(), img.height());
    let patch = resize_region(img, crop, 64, 64);
    let values = model.run_first([1, 1, 64, 64], grey(&patch, |v| v / 256.0))?;
    if values.len() != 136 {
        return Err(VisionError::inference(model.file, "expected 136 values"));
    }
    Ok(values
        .chunks_exact(2)
        .filter_map(|c| match c {
            [x, y] => Some(Point::new(crop.x0 + x * crop.width(), crop.y0 + y * crop.height())),
            _ => None,
        })
        .collect())
}

fn pt(points: &[Point], i: usize) -> Point {
    points.get(i).copied().unwrap_or(Point::new(0.0, 0.0))
}

/// The eye regions the eye-state model expects: a square of 1.6× the eye's corner-to-corner width around the
/// mean of its four lid points.
pub fn eye_boxes(points: &[Point]) -> [Rect; 2] {
    let eye = |corner_a: usize, corner_b: usize, lids: [usize; 4]| {
        let cx = lids.iter().map(|&i| pt(points, i).x).sum::<f32>() / 4.0;
        let cy = lids.iter().map(|&i| pt(points, i).y).sum::<f32>() / 4.0;
        let size = ((pt(points, corner_b).x - pt(points, corner_a).x) * 1.6).max(4.0);
        Rect { x0: cx - size / 2.0, y0: cy - size / 2.0, x1: cx + size / 2.0, y1: cy + size / 2.0 }
    };
    [eye(36, 39, [37, 38, 40, 41]), eye(42, 45, [43, 44, 46, 47])]
}

/// Probability that the eye in `eye_box` is open (24×24 grey / 255; class 1 = open, class 0 = closed: checked
/// on open-eyed photos and on the same eyes painted over with skin in the tests).
pub fn eye_open(model: &Model, img: &RgbImage, eye_box: Rect) -> Result<f32> {
    let clipped = eye_box.padded_clipped(0.0, img.width(), img.height());
    if clipped.width() < 2.0 || clipped.height() < 2.0 {
        return Err(VisionError::inference(model.file, "eye outside the image"));
    }
    let patch = resize_region(img, clipped, 24, 24);
    let logits = model.run_first([1, 1, 24, 24], grey(&patch, |v| v / 255.0))?;
    softmax(&logits).get(1).copied().ok_or(VisionError::inference(model.file, "empty output"))
}

/// Mouth opening: inner-lip gap over mouth width, from the 68 points (0 closed, ~0.5 wide open).
pub fn mouth_open_ratio(points: &[Point]) -> f32 {
    let width = pt(points, 48).distance(pt(points, 54)).max(1.0);
    let gap = (pt(points, 61).distance(pt(points, 67))
        + pt(points, 62).distance(pt(points, 66))
        + pt(points, 63).distance(pt(points, 65)))
        / 3.0;
    gap / width
}

/// Mouth width over the distance between the outer eye corners: rises when the person smiles.
pub fn mouth_width_ratio(points: &[Point]) -> f32 {
    pt(points, 48).distance(pt(points, 54)) / pt(points, 36).distance(pt(points, 45)).max(1.0)
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct HeadPose {
    /// Left/right turn in degrees.
    pub yaw: f32,
    /// Up/down tilt in degrees.
    pub pitch: f32,
    /// In-plane rotation in degrees.
    pub roll: f32,
}

/// Head pose (HopeNet-style: 66 bins of 3° from −99°, expectation over the softmax). Crop: the box grown by a
/// quarter on each side, 224×224, RGB with ImageNet normalisation.
pub fn head_pose(model: &Model, img: &RgbImage, face_box: Rect) -> Result<HeadPose> {
    let crop = face_box.padded_clipped(0.25, img.width(), img.height());
    let patch = resize_region(img, crop, 224, 224);
    let outputs = model.run([1, 3, 224, 224], planar(&patch, ChannelOrder::Rgb, imagenet))?;
    let angle = |i: usize| -> Result<f32> {
        let (_, logits) = outputs.get(i).ok_or(VisionError::inference(model.file, "missing pose output"))?;
        Ok(softmax(logits).iter().enumerate().map(|(k, p)| k as f32 * p).sum::<f32>() * 3.0 - 99.0)
    };
    Ok(HeadPose { yaw: angle(0)?, pitch: angle(1)?, roll: angle(2)? })
}

/// SSR-Net's soft stagewise regression: three stages of three bins, each with a learnt shift and scale.
fn ssr_merge(x: &[f32], range: f32) -> f32 {
    let v = |i: usize| x.get(i).copied().unwrap_or(0.0);
    let s = 3.0f32;
    let mut stages = [0.0f32; 3];
    let mut divisor = 1.0f32;
    for (k, out) in stages.iter_mut().enumerate() {
        let mut acc = 0.0;
        for i in 0..3 {
            acc += (i as f32 + v(12 + 3 * k + i)) * v(3 * k + i);
        }
        divisor *= s * (1.0 + v(9 + k));
        *out = acc / divisor;
    }
    stages.iter().sum::<f32>() * range
}

fn ssr_input(img: &RgbImage, face_box: Rect) -> Vec<f32> {
    let crop = face_box.grown_within(1.4, img.width(), img.height());
    let patch = resize_region(img, crop, 64, 64);
    planar(&patch, ChannelOrder::Rgb, imagenet)
}

fn ssr_run(model: &Model, img: &RgbImage, face_box: Rect, range: f32) -> Result<f32> {
    let outputs = model.run([1, 3, 64, 64], ssr_input(img, face_box))?;
    let flat: Vec<f32> = outputs.into_iter().flat_map(|(_, v)| v).collect();
    if flat.len() != 21 {
        return Err(VisionError::inference(model.file, "expected SSR-Net's 21 outputs"));
    }
    Ok(ssr_merge(&flat, range))
}

/// Estimated age in years.
pub fn age(model: &Model, img: &RgbImage, face_box: Rect) -> Result<f32> {
    ssr_run(model, img, face_box, 101.0)
}

/// Gender score: near 0 female, near 1 male (SSR-Net's labels; checked on the fixtures).
pub fn gender(model: &Model, img: &RgbImage, face_box: Rect) -> Result<f32> {
    Ok(ssr_run(model, img, face_box, 1.0)?.clamp(0.0, 1.0))
}
