//! Face detection with five landmarks (RetinaFace, MobileNet-0.25). The network takes any input size; photos
//! are scaled so their long side is at most `DETECT_MAX_SIDE`, which keeps a 640×480 frame at full resolution.

use std::collections::HashMap;
use std::sync::Mutex;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::{Result, VisionError};
use crate::geometry::{nms, resize_region, Point, Rect};
use crate::runtime::Model;

pub const DETECT_MAX_SIDE: u32 = 640;
const MIN_SIZES: [[f32; 2]; 3] = [[16.0, 32.0], [64.0, 128.0], [256.0, 512.0]];
const STEPS: [f32; 3] = [8.0, 16.0, 32.0];
const VARIANCES: [f32; 2] = [0.1, 0.2];
/// The network was trained on BGR with these per-channel means subtracted (Caffe convention).
const BGR_MEAN: [f32; 3] = [104.0, 117.0, 123.0];
pub const CONFIDENCE_THRESHOLD: f32 = 0.6;
const NMS_IOU: f32 = 0.4;

/// A detected face in the coordinates of the analysed image.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Face {
    pub rect: Rect,
    pub confidence: f32,
    /// The subject's right eye (image left), left eye (image right), nose tip, right and left mouth corner:
    /// the order of the ArcFace alignment template.
    pub landmarks: [Point; 5],
}

impl Face {
    pub fn eye_distance(&self) -> f32 {
        self.landmarks[0].distance(self.landmarks[1])
    }
    /// The same face in an image `factor` times the size.
    pub fn scaled(&self, factor: f32) -> Face {
        let r = self.rect;
        Face {
            rect: Rect { x0: r.x0 * factor, y0: r.y0 * factor, x1: r.x1 * factor, y1: r.y1 * factor },
            confidence: self.confidence,
            landmarks: self.landmarks.map(|p| Point::new(p.x * factor, p.y * factor)),
        }
    }

    /// In-plane rotation of the eye line, in degrees (positive: clockwise in the image).
    pub fn roll_deg(&self) -> f32 {
        let [a, b, ..] = self.landmarks;
        (b.y - a.y).atan2(b.x - a.x).to_degrees()
    }
}

/// A frame as the detector's network takes it, and the scale from the frame to it.
pub struct DetectorInput {
    pub shape: [usize; 4],
    pub data: Vec<f32>,
    pub scale: f32,
    /// The frame scaled to the network's size, when it had to be.
    pub scaled_frame: Option<RgbImage>,
}

/// The frame as the detector saw it, `scale` times the original's size.
pub struct ScaledFrame {
    pub image: RgbImage,
    pub scale: f32,
}

/// Anchor boxes by input size: computed once per frame size.
type PriorCache = HashMap<(u32, u32), Vec<[f32; 4]>>;

pub struct Detector {
    model: Model,
    priors: Mutex<PriorCache>,
}

impl Detector {
    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn new(model: Model) -> Detector {
        Detector { model, priors: Mutex::new(HashMap::new()) }
    }

    /// The network's input for `img`: scaled so its long side is at most `DETECT_MAX_SIDE`, BGR minus the means.
    pub fn input(&self, img: &RgbImage) -> DetectorInput {
        let (w, h) = img.dimensions();
        let scale = (DETECT_MAX_SIDE as f32 / w.max(h) as f32).min(1.0);
        let (dw, dh) = (((w as f32 * scale).round() as u32).max(1), ((h as f32 * scale).round() as u32).max(1));
        let mut resized = None;
        let input = if (dw, dh) == (w, h) {
            img
        } else {
            resized = Some(resize_region(img, Rect { x0: 0.0, y0: 0.0, x1: w as f32, y1: h as f32 }, dw, dh));
            resized.as_ref().unwrap_or(img)
        };
        let plane = (dw * dh) as usize;
        let mut data = vec![0f32; plane * 3];
        let (bp, rest) = data.split_at_mut(plane);
        let (gp, rp) = rest.split_at_mut(plane);
        for (((p, b), g), r) in input.pixels().zip(bp).zip(gp).zip(rp) {
            *b = f32::from(p.0[2]) - BGR_MEAN[0];
            *g = f32::from(p.0[1]) - BGR_MEAN[1];
            *r = f32::from(p.0[0]) - BGR_MEAN[2];
        }
        DetectorInput { shape: [1, 3, dh as usize, dw as usize], data, scale, scaled_frame: resized }
    }

    /// Every face above the confidence threshold, best first.
    pub fn detect(&self, img: &RgbImage) -> Result<Vec<Face>> {
        Ok(self.detect_input(self.input(img))?.0)
    }

    /// The faces in a prepared input, and the scaled frame (with its scale) when the input was scaled down, so
    /// that later steps that need less resolution need not scale the frame again.
    pub fn detect_input(&self, input: DetectorInput) -> Result<(Vec<Face>, Option<ScaledFrame>)> {
        let DetectorInput { shape, data, scale, scaled_frame } = input;
        let [_, _, dh, dw] = shape;
        let (dw, dh) = (dw as u32, dh as u32);
        let outputs = self.model.run(shape, data)?;
        let [(_, loc), (_, conf), (_, landms)] = <[(Vec<i64>, Vec<f32>); 3]>::try_from(outputs)
            .map_err(|_| VisionError::inference(self.model.file, "expected outputs loc, conf, landmarks"))?;
        let priors = self.priors_for(dw, dh)?;
        if loc.len() != priors.len() * 4 || conf.len() != priors.len() * 2 || landms.len() != priors.len() * 10 {
            return Err(VisionError::inference(self.model.file, "output size does not match the prior boxes"));
        }
        let (sx, sy) = (dw as f32 / scale, dh as f32 / scale);
        let mut candidates = Vec::new();
        for (k, prior) in priors.iter().enumerate() {
            let score = conf.get(k * 2 + 1).copied().unwrap_or(0.0);
            if score < CONFIDENCE_THRESHOLD {
                continue;
            }
            let [pcx, pcy, pw, ph] = *prior;
            let l = loc.get(k * 4..k * 4 + 4).unwrap_or(&[0.0; 4]);
            let (l0, l1, l2, l3) = (at(l, 0), at(l, 1), at(l, 2), at(l, 3));
            let cx = pcx + l0 * VARIANCES[0] * pw;
            let cy = pcy + l1 * VARIANCES[0] * ph;
            let bw = pw * (l2 * VARIANCES[1]).exp();
            let bh = ph * (l3 * VARIANCES[1]).exp();
            let rect = Rect {
                x0: (cx - bw / 2.0) * sx,
                y0: (cy - bh / 2.0) * sy,
                x1: (cx + bw / 2.0) * sx,
                y1: (cy + bh / 2.0) * sy,
            };
            let lm = landms.get(k * 10..k * 10 + 10).unwrap_or(&[0.0; 10]);
            let mut points = [Point::new(0.0, 0.0); 5];
            for (j, p) in points.iter_mut().enumerate() {
                let x = pcx + at(lm, 2 * j) * VARIANCES[0] * pw;
                let y = pcy + at(lm, 2 * j + 1) * VARIANCES[0] * ph;
                *p = Point::new(x * sx, y * sy);
            }
            candidates.push((rect, score, points));
        }
        let faces = nms(candidates, NMS_IOU)
            .into_iter()
            .map(|(rect, confidence, landmarks)| Face { rect, confidence, landmarks })
            .collect();
        Ok((faces, scaled_frame.map(|image| ScaledFrame { image, scale })))
    }

    fn priors_for(&self, w: u32, h: u32) -> Result<Vec<[f32; 4]>> {
        let mut cache =
            self.priors.lock().map_err(|_| VisionError::inference(self.model.file, "prior cache poisoned"))?;
        Ok(cache.entry((w, h)).or_insert_with(|| priors(w, h)).clone())
    }
}

#[inline]
fn at(values: &[f32], i: usize) -> f32 {
    values.get(i).copied().unwrap_or(0.0)
}

/// RetinaFace anchor centres and sizes, normalised to the input, in the network's output order.
fn priors(w: u32, h: u32) -> Vec<[f32; 4]> {
    let (wf, hf) = (w as f32, h as f32);
    let mut out = Vec::new();
    for (step, sizes) in STEPS.iter().zip(MIN_SIZES.iter()) {
        let rows = (hf / step).ceil() as u32;
        let cols = (wf / step).ceil() as u32;
        for i in 0..rows {
            for j in 0..cols {
                for size in sizes {
                    out.push([(j as f32 + 0.5) * step / wf, (i as f32 + 0.5) * step / hf, size / wf, size / hf]);
                }
            }
        }
    }
    out
}
