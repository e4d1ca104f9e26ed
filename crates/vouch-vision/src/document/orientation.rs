//! Page orientation with `doc_orientation.onnx` (ORINet from `occular-deskew`): the page letterboxed on white
//! into 320 × 320, ImageNet mean and deviation, four logits. Class `k` means the page as seen is turned `k`
//! quarter turns clockwise from upright (checked on OCR-B text pages turned each way; see `models/MODELS.md`).

use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};
use ort::session::builder::GraphOptimizationLevel;

use crate::error::{Result, VisionError};
use crate::registry::ModelRegistry;
use crate::runtime::Model;

pub const MODEL_FILE: &str = "doc_orientation.onnx";
const SIDE: u32 = 320;
const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// How the page as seen is turned from upright, clockwise, and how sure the model is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Orientation {
    pub quarter_turns: u8,
    pub confidence: f32,
    /// The probability that the page is upside down (two quarter turns), whatever the winner.
    pub upside_down: f32,
}

pub struct OrientationModel {
    model: Model,
}

impl OrientationModel {
    pub fn load(registry: &ModelRegistry, threads: usize) -> Result<OrientationModel> {
        let path = registry.verified_path(MODEL_FILE)?;
        Ok(OrientationModel { model: Model::load(MODEL_FILE, &path, threads, GraphOptimizationLevel::Level3)? })
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn classify(&self, page: &RgbImage) -> Result<Orientation> {
        let logits = self.model.run_first([1, 3, SIDE as usize, SIDE as usize], tensor(page))?;
        if logits.len() != 4 {
            return Err(VisionError::inference(MODEL_FILE, "expected four logits"));
        }
        let max = logits.iter().copied().fold(f32::MIN, f32::max);
        let exp: Vec<f32> = logits.iter().map(|v| (v - max).exp()).collect();
        let sum: f32 = exp.iter().sum();
        let (best, p) = exp
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, v)| (i as u8, v / sum))
            .unwrap_or((0, 0.0));
        Ok(Orientation { quarter_turns: best, confidence: p, upside_down: exp.get(2).copied().unwrap_or(0.0) / sum })
    }
}

fn tensor(page: &RgbImage) -> Vec<f32> {
    let (w, h) = (page.width().max(1), page.height().max(1));
    let scale = SIDE as f32 / w.max(h) as f32;
    let (rw, rh) =
        (((w as f32 * scale).round() as u32).clamp(1, SIDE), ((h as f32 * scale).round() as u32).clamp(1, SIDE));
    let resized = imageops::resize(page, rw, rh, FilterType::Triangle);
    let mut canvas = RgbImage::from_pixel(SIDE, SIDE, Rgb([255, 255, 255]));
    imageops::overlay(&mut canvas, &resized, i64::from((SIDE - rw) / 2), i64::from((SIDE - rh) / 2));
    let plane = (SIDE * SIDE) as usize;
    let mut out = vec![0f32; 3 * plane];
    for (i, pixel) in canvas.pixels().enumerate() {
        for (c, value) in pixel.0.iter().enumerate() {
            let (mean, std) = (MEAN.get(c).copied().unwrap_or(0.0), STD.get(c).copied().unwrap_or(1.0));
            if let Some(cell) = out.get_mut(c * plane + i) {
                *cell = (f32::from(*value) / 255.0 - mean) / std;
            }
        }
    }
    out
}
