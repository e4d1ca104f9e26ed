//! Perspective placement: the homography that takes a rectangle's corners to four points, and a bilinear
//! inverse-mapping warp that draws the source image through it.

use image::{Rgb, RgbImage};

/// A 3×3 projective map, row-major, with `h[8] == 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homography(pub [f64; 9]);

impl Homography {
    /// The map taking each `from` point to the `to` point at the same index (direct linear transform on four
    /// correspondences). `None` when three of the points are collinear.
    // Indices below run over fixed-size arrays within constant bounds.
    #[allow(clippy::indexing_slicing)]
    pub fn from_points(from: [[f64; 2]; 4], to: [[f64; 2]; 4]) -> Option<Homography> {
        let mut a = [[0.0f64; 9]; 8];
        for (i, (&[x, y], &[u, v])) in from.iter().zip(to.iter()).enumerate() {
            a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
            a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
        }
        let h = solve8(a)?;
        Some(Homography([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0]))
    }

    pub fn apply(&self, [x, y]: [f64; 2]) -> [f64; 2] {
        let h = &self.0;
        let w = h[6] * x + h[7] * y + h[8];
        [(h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w]
    }

    pub fn inverse(&self) -> Option<Homography> {
        let m = &self.0;
        let det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6])
            + m[2] * (m[3] * m[7] - m[4] * m[6]);
        if det.abs() < 1e-12 {
            return None;
        }
        let inv = [
            (m[4] * m[8] - m[5] * m[7]) / det,
            (m[2] * m[7] - m[1] * m[8]) / det,
            (m[1] * m[5] - m[2] * m[4]) / det,
            (m[5] * m[6] - m[3] * m[8]) / det,
            (m[0] * m[8] - m[2] * m[6]) / det,
            (m[2] * m[3] - m[0] * m[5]) / det,
            (m[3] * m[7] - m[4] * m[6]) / det,
            (m[1] * m[6] - m[0] * m[7]) / det,
            (m[0] * m[4] - m[1] * m[3]) / det,
        ];
        let scale = inv[8];
        if scale.abs() < 1e-12 {
            return None;
        }
        Some(Homography(inv.map(|v| v / scale)))
    }
}

/// Gaussian elimination with partial pivoting on the 8×8 system whose augmented column is the last.
#[allow(clippy::indexing_slicing)] // every index is below the arrays' constant sizes
fn solve8(mut a: [[f64; 9]; 8]) -> Option<[f64; 8]> {
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        for row in 0..8 {
            if row != col {
                let factor = a[row][col] / a[col][col];
                let pivot_row = a[col];
                for (cell, p) in a[row].iter_mut().zip(pivot_row.iter()).skip(col) {
                    *cell -= factor * p;
                }
            }
        }
    }
    let mut x = [0.0; 8];
    for (i, v) in x.iter_mut().enumerate() {
        *v = a[i][8] / a[i][i];
    }
    Some(x)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_homography_maps_its_four_points_and_its_inverse_maps_them_back() {
        let from = [[0.0, 0.0], [100.0, 0.0], [100.0, 60.0], [0.0, 60.0]];
        let to = [[12.0, 30.0], [140.0, 18.0], [150.0, 110.0], [5.0, 95.0]];
        let h = Homography::from_points(from, to).unwrap();
        let back = h.inverse().unwrap();
        for (f, t) in from.iter().zip(to.iter()) {
            let mapped = h.apply(*f);
            assert!((mapped[0] - t[0]).abs() < 1e-6 && (mapped[1] - t[1]).abs() < 1e-6);
            let round = back.apply(mapped);
            assert!((round[0] - f[0]).abs() < 1e-6 && (round[1] - f[1]).abs() < 1e-6);
        }
        assert!(Homography::from_points(from, [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]).is_none());
    }
}
