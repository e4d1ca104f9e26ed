//! Perspective placement: a bilinear inverse-mapping warp that draws the source image through the homography
//! taking its corners to four points.

use image::{Rgb, RgbImage};
pub use vouch_core::homography::Homography;

/// Bilinear sample at a real position; `None` outside the image.
pub fn sample(image: &RgbImage, x: f64, y: f64) -> Option<[f32; 3]> {
    let (w, h) = (f64::from(image.width()), f64::from(image.height()));
    if !(0.0..=w - 1.0).contains(&x) || !(0.0..=h - 1.0).contains(&y) {
        return None;
    }
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = ((x - x0) as f32, (y - y0) as f32);
    let (x0, y0) = (x0 as u32, y0 as u32);
    let x1 = (x0 + 1).min(image.width() - 1);
    let y1 = (y0 + 1).min(image.height() - 1);
    let p = |x, y| image.get_pixel(x, y).0.map(f32::from);
    let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
    let mut out = [0.0; 3];
    for ((o, (a, b)), (c, d)) in out.iter_mut().zip(a.iter().zip(b)).zip(c.iter().zip(d)) {
        let top = a + (b - a) * fx;
        let bottom = c + (d - c) * fx;
        *o = top + (bottom - top) * fy;
    }
    Some(out)
}

/// Draws `source` onto `target` so that the source's corners (top-left, top-right, bottom-right, bottom-left)
/// land on `corners`. The source is supersampled 2×2 per target pixel along its edges' anti-aliasing, so a
/// shrunken page keeps its fine print legible as a camera would see it.
pub fn place(target: &mut RgbImage, source: &RgbImage, corners: [[f64; 2]; 4]) -> Option<()> {
    let (sw, sh) = (f64::from(source.width()), f64::from(source.height()));
    let rect = [[0.0, 0.0], [sw - 1.0, 0.0], [sw - 1.0, sh - 1.0], [0.0, sh - 1.0]];
    let to_source = Homography::from_points(corners, rect)?;
    let min_x = corners.iter().map(|c| c[0]).fold(f64::MAX, f64::min).max(0.0).floor() as u32;
    let max_x =
        corners.iter().map(|c| c[0]).fold(f64::MIN, f64::max).min(f64::from(target.width()) - 1.0).max(0.0) as u32;
    let min_y = corners.iter().map(|c| c[1]).fold(f64::MAX, f64::min).max(0.0).floor() as u32;
    let max_y =
        corners.iter().map(|c| c[1]).fold(f64::MIN, f64::max).min(f64::from(target.height()) - 1.0).max(0.0) as u32;
    // How many source pixels one target pixel spans, to average over them rather than alias.
    let spread = {
        let a = to_source.apply([corners[0][0], corners[0][1]]);
        let b = to_source.apply([corners[0][0] + 1.0, corners[0][1]]);
        ((a[0] - b[0]).hypot(a[1] - b[1])).clamp(1.0, 6.0)
    };
    let taps = spread.ceil() as i32;
    for y in min_y..=max_y {
        for x in min_x..=max_x {
            let mut sum = [0.0f32; 3];
            let mut hits = 0u32;
            for sy in 0..taps {
                for sx in 0..taps {
                    let px = f64::from(x) + (f64::from(sx) + 0.5) / f64::from(taps) - 0.5;
                    let py = f64::from(y) + (f64::from(sy) + 0.5) / f64::from(taps) - 0.5;
                    let [u, v] = to_source.apply([px, py]);
                    if let Some(rgb) = sample(source, u, v) {
                        for (s, c) in sum.iter_mut().zip(rgb) {
                            *s += c;
                        }
                        hits += 1;
                    }
                }
            }
            if hits > 0 {
                let total = (taps * taps) as f32;
                let cover = hits as f32 / total;
                let pixel = target.get_pixel_mut(x, y);
                for (channel, s) in pixel.0.iter_mut().zip(sum) {
                    let mean = s / hits as f32;
                    *channel = (f32::from(*channel) * (1.0 - cover) + mean * cover).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
    Some(())
}

/// A fresh image filled with one colour.
pub fn filled(width: u32, height: u32, color: [u8; 3]) -> RgbImage {
    RgbImage::from_pixel(width, height, Rgb(color))
}
