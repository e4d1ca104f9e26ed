//! The MRZ character recogniser: `mrz_ocr.onnx` reads each 24 × 32 cell as one of the 37 MRZ characters.

use ort::session::builder::GraphOptimizationLevel;

use super::cells::{sample_cells, GreyFrame, LineGeometry, CELL_LEN, CELL_WIDTH, STRIP_HEIGHT};
use crate::error::{Result, VisionError};
use crate::registry::ModelRegistry;
use crate::runtime::Model;

pub const MODEL_FILE: &str = "mrz_ocr.onnx";
/// The model's output classes, in order.
pub const CLASSES: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<";

/// One character as read: the best class, its softmax probability, and the runner-up (what an OCR repair
/// would try first).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CharReading {
    pub char: char,
    pub confidence: f32,
    pub runner_up: char,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LineReading {
    pub text: String,
    pub chars: Vec<CharReading>,
}

impl LineReading {
    /// The least sure character's probability: a line is only as good as its worst cell.
    pub fn min_confidence(&self) -> f32 {
        self.chars.iter().map(|c| c.confidence).fold(1.0, f32::min)
    }
}

pub struct MrzRecogniser {
    model: Model,
}

impl MrzRecogniser {
    pub fn load(registry: &ModelRegistry, threads: usize) -> Result<MrzRecogniser> {
        let path = registry.verified_path(MODEL_FILE)?;
        Ok(MrzRecogniser { model: Model::load(MODEL_FILE, &path, threads, GraphOptimizationLevel::Level3)? })
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Reads `length` characters along `line`.
    pub fn read_line(&self, frame: &GreyFrame, line: &LineGeometry, length: usize) -> Result<LineReading> {
        let chars = self.read_cells(sample_cells(frame, line, length))?;
        Ok(LineReading { text: chars.iter().map(|c| c.char).collect(), chars })
    }

    /// Reads cells already sampled per the cell contract, `[n, 1, 32, 24]` flattened.
    pub fn read_cells(&self, cells: Vec<f32>) -> Result<Vec<CharReading>> {
        let count = cells.len() / CELL_LEN;
        if count == 0 {
            return Ok(Vec::new());
        }
        let logits = self.model.run_first([count, 1, STRIP_HEIGHT, CELL_WIDTH], cells)?;
        let classes: Vec<char> = CLASSES.chars().collect();
        let per = classes.len();
        if logits.len() != count * per {
            return Err(VisionError::inference(MODEL_FILE, "unexpected output shape"));
        }
        Ok(logits
            .chunks_exact(per)
            .map(|row| {
                let max = row.iter().copied().fold(f32::MIN, f32::max);
                let exp: Vec<f32> = row.iter().map(|v| (v - max).exp()).collect();
                let sum: f32 = exp.iter().sum();
                let mut order: Vec<usize> = (0..per).collect();
                order.sort_by(|&a, &b| exp.get(b).unwrap_or(&0.0).total_cmp(exp.get(a).unwrap_or(&0.0)));
                let best = order.first().copied().unwrap_or(0);
                let second = order.get(1).copied().unwrap_or(0);
                CharReading {
                    char: classes.get(best).copied().unwrap_or('<'),
                    confidence: exp.get(best).copied().unwrap_or(0.0) / sum,
                    runner_up: classes.get(second).copied().unwrap_or('<'),
                }
            })
            .collect())
    }
}
