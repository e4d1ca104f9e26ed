//! The preview tracker: UltraFace at 320×240 (about 1.6 ms) finds face boxes on every preview frame, and a
//! small IoU tracker keeps one subject steady between frames so the oval guide does not jitter.

use image::RgbImage;
use serde::Serialize;

use crate::error::{Result, VisionError};
use crate::geometry::{nms, resize_region, Rect};
use crate::runtime::Model;
use crate::tensor::{planar, ChannelOrder};

const INPUT_W: u32 = 320;
const INPUT_H: u32 = 240;
const SCORE_THRESHOLD: f32 = 0.7;
const NMS_IOU: f32 = 0.3;

pub struct FastDetector {
    model: Model,
}

impl FastDetector {
    pub fn new(model: Model) -> FastDetector {
        FastDetector { model }
    }

    /// Face boxes in frame coordinates, best first. RGB, (x − 127) / 128, the whole frame squeezed to 320×240.
    pub fn detect(&self, frame: &RgbImage) -> Result<Vec<(Rect, f32)>> {
        let (w, h) = frame.dimensions();
        let full = Rect { x0: 0.0, y0: 0.0, x1: w as f32, y1: h as f32 };
        let small = resize_region(frame, full, INPUT_W, INPUT_H);
        let data = planar(&small, ChannelOrder::Rgb, |_, v| (v - 127.0) / 128.0);
        let outputs = self.model.run([1, 3, INPUT_H as usize, INPUT_W as usize], data)?;
        let [(_, scores), (_, boxes)] = <[(Vec<i64>, Vec<f32>); 2]>::try_from(outputs)
            .map_err(|_| VisionError::inference(self.model.file, "expected outputs scores, boxes"))?;
        let mut found = Vec::new();
        for (k, pair) in scores.chunks_exact(2).enumerate() {
            let score = pair.get(1).copied().unwrap_or(0.0);
            if score < SCORE_THRESHOLD {
                continue;
            }
            if let Some([x0, y0, x1, y1]) = boxes.get(k * 4..k * 4 + 4).and_then(|b| <[f32; 4]>::try_from(b).ok()) {
                let rect = Rect { x0: x0 * w as f32, y0: y0 * h as f32, x1: x1 * w as f32, y1: y1 * h as f32 };
                found.push((rect, score, ()));
            }
        }
        Ok(nms(found, NMS_IOU).into_iter().map(|(r, s, ())| (r, s)).collect())
    }
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Track {
    pub rect: Rect,
    pub score: f32,
    /// Consecutive frames this subject has been seen.
    pub age: u32,
    /// How many faces the frame holds (the subject included).
    pub faces: usize,
}

/// Follows one subject: the face that overlaps the last position most, otherwise the most central one of
/// good size. Boxes are smoothed with an exponential moving average.
#[derive(Debug, Default)]
pub struct Tracker {
    current: Option<Track>,
    missed: u32,
}

impl Tracker {
    pub fn update(&mut self, boxes: &[(Rect, f32)], width: u32, height: u32) -> Option<Track> {
        let faces = boxes.len();
        let previous = self.current;
        let chosen = match previous {
            Some(prev) => boxes
                .iter()
                .map(|b| (b, b.0.iou(&prev.rect)))
                .filter(|(_, iou)| *iou > 0.2)
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(b, _)| *b),
            None => None,
        }
        .or_else(|| {
            let rects: Vec<Rect> = boxes.iter().map(|b| b.0).collect();
            crate::engine::subject_index(&rects, width, height).and_then(|i| boxes.get(i).copied())
        });
        match chosen {
            Some((rect, score)) => {
                self.missed = 0;
                let track = match previous {
                    Some(prev) if prev.rect.iou(&rect) > 0.2 => {
                        Track { rect: smooth(prev.rect, rect, 0.5), score, age: prev.age.saturating_add(1), faces }
                    }
                    _ => Track { rect, score, age: 1, faces },
                };
                self.current = Some(track);
                Some(track)
            }
            None => {
                self.missed += 1;
                // A face missing for a frame or two (a blink of the detector) keeps its track.
                if self.missed > 2 {
                    self.current = None;
                }
                None
            }
        }
    }
}

fn smooth(old: Rect, new: Rect, alpha: f32) -> Rect {
    let mix = |a: f32, b: f32| a + (b - a) * alpha;
    Rect { x0: mix(old.x0, new.x0), y0: mix(old.y0, new.y0), x1: mix(old.x1, new.x1), y1: mix(old.y1, new.y1) }
}
