//! Person segmentation: which pixels of a head-and-shoulders image show the person, for DIS's crop with the
//! background removed. MediaPipe's selfie segmentation, converted to ONNX by `models/convert/selfie_segmentation.py`.

use image::imageops::FilterType;
use image::{GrayImage, Luma, RgbImage, RgbaImage};

use crate::error::{Result, VisionError};
use crate::runtime::Model;
use crate::tensor::{planar, ChannelOrder};

/// The model's square input and output side.
pub const INPUT_SIZE: u32 = 256;

pub struct Segmenter {
    model: Model,
}

impl Segmenter {
    pub fn new(model: Model) -> Segmenter {
        Segmenter { model }
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The probability that each pixel of `img` shows the person, as 0–255, at `img`'s size. The whole image is
    /// stretched to 256×256 (as MediaPipe feeds this model), RGB scaled to 0–1.
    pub fn person_mask(&self, img: &RgbImage) -> Result<GrayImage> {
        let input = image::imageops::resize(img, INPUT_SIZE, INPUT_SIZE, FilterType::Triangle);
        let data = planar(&input, ChannelOrder::Rgb, |_, v| v / 255.0);
        let side = INPUT_SIZE as usize;
        let probabilities = self.model.run_first([1, 3, side, side], data)?;
        if probabilities.len() != side * side {
            return Err(VisionError::inference(self.model.file, "mask of an unexpected size"));
        }
        let small = GrayImage::from_fn(INPUT_SIZE, INPUT_SIZE, |x, y| {
            let p = probabilities.get(y as usize * side + x as usize).copied().unwrap_or(0.0);
            Luma([(p.clamp(0.0, 1.0) * 255.0).round() as u8])
        });
        Ok(image::imageops::resize(&small, img.width(), img.height(), FilterType::Triangle))
    }

    /// `img` with the background made transparent: alpha is the person mask.
    pub fn remove_background(&self, img: &RgbImage) -> Result<RgbaImage> {
        let mask = self.person_mask(img)?;
        Ok(RgbaImage::from_fn(img.width(), img.height(), |x, y| {
            let [r, g, b] = img.get_pixel(x, y).0;
            image::Rgba([r, g, b, mask.get_pixel(x, y).0[0]])
        }))
    }
}
