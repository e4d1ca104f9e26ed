//! The cell contract shared with the training script (`models/train/train_mrz.py`): a line is resampled so
//! that the character pitch is 16 px and the text's centre line is row 16 of a 32-row strip; cell `i` is the
//! 24 × 32 window centred on character `i` (4 px of each neighbour included); pixels run from 0 (black) to
//! 1 (white), grey as ITU-R BT.601 luma (what Pillow's `L` mode computes).

use image::RgbImage;

pub const PITCH: f32 = 16.0;
pub const STRIP_HEIGHT: usize = 32;
pub const CELL_WIDTH: usize = 24;
pub const CELL_LEN: usize = STRIP_HEIGHT * CELL_WIDTH;

/// A frame as grey levels 0..1, row-major.
pub struct GreyFrame {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

/// A pixel's grey level 0..1: ITU-R BT.601 luma, the one grey every part of the page reader uses.
pub fn luma(rgb: [u8; 3]) -> f32 {
    let [r, g, b] = rgb.map(f32::from);
    (0.299 * r + 0.587 * g + 0.114 * b) / 255.0
}

impl GreyFrame {
    pub fn from_rgb(image: &RgbImage) -> GreyFrame {
        let data = image.pixels().map(|p| luma(p.0)).collect();
        GreyFrame { width: image.width() as usize, height: image.height() as usize, data }
    }

    /// Grey levels 0..1, row-major; a short `data` reads as white beyond its end.
    pub fn from_luma(width: usize, height: usize, data: Vec<f32>) -> GreyFrame {
        GreyFrame { width, height, data }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    /// The grey level of pixel (`x`, `y`); white outside the frame.
    pub fn pixel(&self, x: usize, y: usize) -> f32 {
        if x >= self.width {
            return 1.0;
        }
        self.data.get(y * self.width + x).copied().unwrap_or(1.0)
    }

    /// Bilinear sample at a real position (pixel centres at integers), clamped at the border.
    pub fn sample(&self, x: f32, y: f32) -> f32 {
        if self.width == 0 || self.height == 0 {
            return 1.0;
        }
        let x = x.clamp(0.0, (self.width - 1) as f32);
        let y = y.clamp(0.0, (self.height - 1) as f32);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let top = self.pixel(x0, y0) + (self.pixel(x1, y0) - self.pixel(x0, y0)) * fx;
        let bottom = self.pixel(x0, y1) + (self.pixel(x1, y1) - self.pixel(x0, y1)) * fx;
        top + (bottom - top) * fy
    }
}

/// Where one MRZ line lies in the frame: the left edge of its first character cell on the text's centre
/// line, and one character pitch along the line (its length is the pitch in frame pixels; its direction
/// carries the line's rotation). The line's "down" is this vector turned a quarter clockwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineGeometry {
    pub origin: [f32; 2],
    pub advance: [f32; 2],
}

impl LineGeometry {
    /// The frame position of strip point (`x`, `y`), strip pixels, centres at +0.5.
    pub fn to_frame(&self, x: f32, y: f32) -> [f32; 2] {
        let [ax, ay] = self.advance;
        let (down_x, down_y) = (-ay, ax);
        let u = x / PITCH;
        let v = (y - STRIP_HEIGHT as f32 / 2.0) / PITCH;
        [self.origin[0] + u * ax + v * down_x, self.origin[1] + u * ay + v * down_y]
    }

    pub fn pitch(&self) -> f32 {
        self.advance[0].hypot(self.advance[1])
    }
}

/// The `length` cells of a line, `[length, 1, 32, 24]` flattened. Where the frame's pitch is larger than the
/// strip's, each strip pixel averages a grid of frame samples so fine print does not alias.
pub fn sample_cells(frame: &GreyFrame, line: &LineGeometry, length: usize) -> Vec<f32> {
    let taps = (line.pitch() / PITCH).ceil().clamp(1.0, 4.0) as usize;
    let step = 1.0 / taps as f32;
    let mut out = Vec::with_capacity(length * CELL_LEN);
    for i in 0..length {
        let left = i as f32 * PITCH + PITCH / 2.0 - CELL_WIDTH as f32 / 2.0;
        for row in 0..STRIP_HEIGHT {
            for col in 0..CELL_WIDTH {
                let mut sum = 0.0;
                for ty in 0..taps {
                    for tx in 0..taps {
                        let x = left + col as f32 + (tx as f32 + 0.5) * step;
                        let y = row as f32 + (ty as f32 + 0.5) * step;
                        let [fx, fy] = line.to_frame(x, y);
                        sum += frame.sample(fx - 0.5, fy - 0.5);
                    }
                }
                out.push(sum / (taps * taps) as f32);
            }
        }
    }
    out
}
