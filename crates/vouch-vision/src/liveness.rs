//! Passive liveness: one frame in, the probability that it shows a live face (not a print or a screen).

use image::RgbImage;

use crate::detect::Face;
use crate::error::{Result, VisionError};
use crate::geometry::resize_region;
use crate::runtime::Model;
use crate::tensor::{planar, softmax, ChannelOrder};

/// The crop the model was trained on: the face box grown 2.7× about its centre (same aspect, kept inside
/// the frame), resized to 128×128.
pub const CROP_SCALE: f32 = 2.7;
pub const INPUT_SIZE: u32 = 128;
/// A frame counts as live at or above this probability. Live photos score a median 0.99; the synthetic
/// screen recaptures in the tests score 0.001–0.65.
pub const LIVE_THRESHOLD: f32 = 0.9;

pub const INPUT_SHAPE: [usize; 4] = [1, 3, INPUT_SIZE as usize, INPUT_SIZE as usize];

/// The model's input: the face box grown `crop_scale`× (kept inside the frame), resized, raw 0–255 values.
pub fn input(img: &RgbImage, face: &Face, order: ChannelOrder, crop_scale: f32) -> Vec<f32> {
    let crop = face.rect.grown_within(crop_scale, img.width(), img.height());
    let patch = resize_region(img, crop, INPUT_SIZE, INPUT_SIZE);
    planar(&patch, order, |_, v| v)
}

pub struct PassiveLiveness {
    model: Model,
}

impl PassiveLiveness {
    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn new(model: Model) -> PassiveLiveness {
        PassiveLiveness { model }
    }

    /// The live probability: softmax over three classes, class 0 = live. Raw 0–255 values in BGR
    /// (RGB input drops live photos from a median 0.99 to 0.73; see the tests).
    pub fn score(&self, img: &RgbImage, face: &Face) -> Result<f32> {
        self.score_with(img, face, ChannelOrder::Bgr, CROP_SCALE)
    }

    /// The same with the pre-processing spelled out, so tests can show what the wrong choice costs.
    pub fn score_with(&self, img: &RgbImage, face: &Face, order: ChannelOrder, crop_scale: f32) -> Result<f32> {
        let logits = self.model.run_first(INPUT_SHAPE, input(img, face, order, crop_scale))?;
        softmax(&logits).first().copied().ok_or(VisionError::inference(self.model.file, "empty output"))
    }
}
