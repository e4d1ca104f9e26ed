//! Perspective normalisation: the located page redrawn as a flat rectangle of its ISO/IEC 7810 format at a
//! fixed 8 pixels per millimetre, so the MRZ pitch (2.54 mm) is always about 20 pixels, above the recogniser's
//! 16, and every layout position is a constant.

use std::ops::Range;

use image::{Rgb, RgbImage};
use serde::Serialize;
use vouch_core::homography::Homography;

use super::locate::PageQuad;
use crate::mrz::GreyFrame;

pub const PX_PER_MM: f32 = 8.0;

/// The ISO/IEC 7810 card formats identity documents come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PageFormat {
    /// 85.60 × 53.98 mm: identity cards (TD1).
    Id1,
    /// 105 × 74 mm: older identity cards and visas (TD2, MRV-B).
    Id2,
    /// 125 × 88 mm: passport data pages (TD3, MRV-A).
    Id3,
}

impl PageFormat {
    pub fn size_mm(self) -> (f32, f32) {
        match self {
            PageFormat::Id1 => (85.6, 53.98),
            PageFormat::Id2 => (105.0, 74.0),
            PageFormat::Id3 => (125.0, 88.0),
        }
    }

    /// The normalised page's size in pixels.
    pub fn size_px(self) -> (u32, u32) {
        let (w, h) = self.size_mm();
        ((w * PX_PER_MM).round() as u32, (h * PX_PER_MM).round() as u32)
    }

    /// The format a page's apparent aspect suggests before anything on it is read: ID-1 is 1.586, ID-2 and
    /// ID-3 are 1.42, and perspective moves either by several per cent. The boundary leans towards ID-3
    /// because a page with an MRZ corrects a wrong guess from the MRZ's length, and the pages without one
    /// are mostly ID-1 card fronts. ID-2 and ID-3 share an aspect; ID-3, far the commoner, is the guess.
    pub fn from_aspect(aspect: f32) -> PageFormat {
        if aspect >= 1.45 {
            PageFormat::Id1
        } else {
            PageFormat::Id3
        }
    }
}

/// The page inside `quad` of `frame`, flattened to `format`'s canonical size.
pub fn normalise(frame: &RgbImage, quad: &PageQuad, format: PageFormat) -> Option<RgbImage> {
    let (w, h) = format.size_px();
    flatten(frame, quad, (w, h), 0..h)
}

/// Rows `rows` of the page inside `quad` flattened to a `size` rectangle: row 0 of the result is row
/// `rows.start` of the page. Where the page is larger in the frame than in the output, each output pixel
/// averages up to `max_taps`² frame samples so fine print does not alias.
pub fn flatten(frame: &RgbImage, quad: &PageQuad, size: (u32, u32), rows: Range<u32>) -> Option<RgbImage> {
    flatten_with(frame, quad, size, rows, 3)
}

/// As [`flatten`], with at most `max_taps`² samples per output pixel (1 is plain bilinear).
pub fn flatten_with(
    frame: &RgbImage,
    quad: &PageQuad,
    size: (u32, u32),
    rows: Range<u32>,
    max_taps: u32,
) -> Option<RgbImage> {
    let sampler = Sampler::new(frame, quad, size, max_taps)?;
    let (w, h) = size;
    let rows = rows.start.min(h)..rows.end.min(h);
    if rows.is_empty() {
        return None;
    }
    let mut out = RgbImage::new(w, rows.end - rows.start);
    for (y, row) in out.rows_mut().enumerate() {
        let y = rows.start + y as u32;
        for (x, pixel) in row.enumerate() {
            *pixel = Rgb(sampler.pixel(x as u32, y).map(|v| v.round().clamp(0.0, 255.0) as u8));
        }
    }
    Some(out)
}

/// As [`flatten`], from the frame's grey levels (`GreyFrame::from_rgb` of the frame), for the MRZ band: the
/// recogniser reads grey, and one channel is a third of the work.
pub fn flatten_grey(frame: &GreyFrame, quad: &PageQuad, size: (u32, u32), rows: Range<u32>) -> Option<GreyFrame> {
    let (w, h) = size;
    let rows = rows.start.min(h)..rows.end.min(h);
    if w == 0 || rows.is_empty() || frame.width() < 2 || frame.height() < 2 {
        return None;
    }
    let rect = [[0.0, 0.0], [f64::from(w), 0.0], [f64::from(w), f64::from(h)], [0.0, f64::from(h)]];
    let to_frame = Homography::from_points(rect, quad.corners.map(|[x, y]| [f64::from(x), f64::from(y)]))?;
    let taps = pixel_scale(&to_frame, w, h).ceil().clamp(1.0, 2.0) as u32;
    let m = to_frame.0.map(|v| v as f32);
    let step = 1.0 / taps as f32;
    let n = (taps * taps) as f32;
    let mut data = Vec::with_capacity((w * (rows.end - rows.start)) as usize);
    for y in rows.clone() {
        for x in 0..w {
            let mut sum = 0.0;
            for ty in 0..taps {
                for tx in 0..taps {
                    let u = x as f32 + (tx as f32 + 0.5) * step;
                    let v = y as f32 + (ty as f32 + 0.5) * step;
                    let d = m[6] * u + m[7] * v + m[8];
                    // `sample`, like the locator's corners, puts pixel centres on integers.
                    sum += frame.sample((m[0] * u + m[1] * v + m[2]) / d, (m[3] * u + m[4] * v + m[5]) / d);
                }
            }
            data.push(sum / n);
        }
    }
    Some(GreyFrame::from_luma(w as usize, (rows.end - rows.start) as usize, data))
}

/// How many frame pixels one output pixel spans at the page's centre.
fn pixel_scale(to_frame: &Homography, w: u32, h: u32) -> f64 {
    let a = to_frame.apply([f64::from(w) / 2.0, f64::from(h) / 2.0]);
    let b = to_frame.apply([f64::from(w) / 2.0 + 1.0, f64::from(h) / 2.0]);
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// Output pixel → frame samples through the page's homography.
struct Sampler<'a> {
    raw: &'a [u8],
    width: usize,
    height: usize,
    to_frame: [f32; 9],
    taps: u32,
}

impl<'a> Sampler<'a> {
    fn new(frame: &'a RgbImage, quad: &PageQuad, size: (u32, u32), max_taps: u32) -> Option<Sampler<'a>> {
        let (w, h) = size;
        if w == 0 || h == 0 || frame.width() < 2 || frame.height() < 2 {
            return None;
        }
        let rect = [[0.0, 0.0], [f64::from(w), 0.0], [f64::from(w), f64::from(h)], [0.0, f64::from(h)]];
        let to_frame = Homography::from_points(rect, quad.corners.map(|[x, y]| [f64::from(x), f64::from(y)]))?;
        let scale = pixel_scale(&to_frame, w, h);
        Some(Sampler {
            raw: frame.as_raw(),
            width: frame.width() as usize,
            height: frame.height() as usize,
            to_frame: to_frame.0.map(|v| v as f32),
            taps: scale.ceil().clamp(1.0, f64::from(max_taps.max(1))) as u32,
        })
    }

    /// Bilinear RGB at a frame position; pixel centres on integers, as the locator's corners are.
    fn bilinear(&self, x: f32, y: f32) -> [f32; 3] {
        let x = x.clamp(0.0, (self.width - 1) as f32);
        let y = y.clamp(0.0, (self.height - 1) as f32);
        let (x0, y0) = (x as usize, y as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (ax, ay) = (x - x0 as f32, y - y0 as f32);
        let px = |x: usize, y: usize| {
            let i = (y * self.width + x) * 3;
            match self.raw.get(i..i + 3) {
                Some(&[r, g, b]) => [f32::from(r), f32::from(g), f32::from(b)],
                _ => [0.0; 3],
            }
        };
        let (a, b, c, d) = (px(x0, y0), px(x1, y0), px(x0, y1), px(x1, y1));
        let mut out = [0f32; 3];
        for ((o, (a, b)), (c, d)) in out.iter_mut().zip(a.iter().zip(b)).zip(c.iter().zip(d)) {
            let top = a + (b - a) * ax;
            *o = top + (c + (d - c) * ax - top) * ay;
        }
        out
    }

    /// The mean of the taps over output pixel (`x`, `y`).
    fn pixel(&self, x: u32, y: u32) -> [f32; 3] {
        let h = &self.to_frame;
        let step = 1.0 / self.taps as f32;
        let mut sum = [0f32; 3];
        for ty in 0..self.taps {
            for tx in 0..self.taps {
                let u = x as f32 + (tx as f32 + 0.5) * step;
                let v = y as f32 + (ty as f32 + 0.5) * step;
                let w = h[6] * u + h[7] * v + h[8];
                let rgb = self.bilinear((h[0] * u + h[1] * v + h[2]) / w, (h[3] * u + h[4] * v + h[5]) / w);
                for (s, c) in sum.iter_mut().zip(rgb) {
                    *s += c;
                }
            }
        }
        let n = (self.taps * self.taps) as f32;
        sum.map(|s| s / n)
    }
}

/// Pixels per millimetre the frame gives the page: the resolution the camera really had, whatever the
/// normalised size. Below about 4 the MRZ is not legible.
pub fn frame_px_per_mm(quad: &PageQuad, format: PageFormat) -> f32 {
    let (w_mm, h_mm) = format.size_mm();
    let (long, short) = quad.side_lengths();
    ((long / w_mm) + (short / h_mm)) / 2.0
}
