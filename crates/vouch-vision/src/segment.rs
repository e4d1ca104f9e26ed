//! Person segmentation: which pixels of a head-and-shoulders image show the person, for DIS's crop with the
//! background removed. MediaPipe's selfie segmentation, converted to ONNX by `models/convert/selfie_segmentation.py`.

use image::imageops::FilterType;
use image::{GrayImage, Luma, RgbImage, RgbaImage};

use crate::error::{Result, VisionError};
use crate::geometry::Rect;
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

/// How a person mask covers a photo: the mean over the central 60 % of the face box (1 when the face is kept) and
/// over two squares of a tenth of the width in the top corners (0 when the background above the shoulders is
/// dropped). `vouch faces segment-eval` and the tests measure with it.
#[derive(Debug, Clone, Copy)]
pub struct Coverage {
    pub face: f32,
    pub top_corners: f32,
}

pub fn coverage(mask: &GrayImage, face: Rect) -> Coverage {
    let inner = face.shrunk(0.2);
    let w = mask.width() as f32;
    let side = w * 0.1;
    let left = Rect { x0: 0.0, y0: 0.0, x1: side, y1: side };
    let right = Rect { x0: w - side, y0: 0.0, x1: w, y1: side };
    Coverage { face: mean_in(mask, inner), top_corners: (mean_in(mask, left) + mean_in(mask, right)) / 2.0 }
}

/// The mean of `mask` (as 0–1) over `r`, clipped to the mask.
pub fn mean_in(mask: &GrayImage, r: Rect) -> f32 {
    let (x0, y0) = (r.x0.max(0.0) as u32, r.y0.max(0.0) as u32);
    let (x1, y1) = ((r.x1.max(0.0) as u32).min(mask.width()), (r.y1.max(0.0) as u32).min(mask.height()));
    let (mut sum, mut n) = (0u64, 0u64);
    for y in y0..y1 {
        for x in x0..x1 {
            sum += u64::from(mask.get_pixel(x, y).0[0]);
            n += 1;
        }
    }
    sum as f32 / 255.0 / n.max(1) as f32
}
