//! Boxes, points, resampling and the similarity transform used for alignment. Hand-written because the few
//! operations needed do not justify OpenCV's build.

use image::RgbImage;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

impl Point {
    pub fn new(x: f32, y: f32) -> Point {
        Point { x, y }
    }
    pub fn distance(self, other: Point) -> f32 {
        ((self.x - other.x).powi(2) + (self.y - other.y).powi(2)).sqrt()
    }
    pub fn midpoint(self, other: Point) -> Point {
        Point::new((self.x + other.x) / 2.0, (self.y + other.y) / 2.0)
    }
}

/// An axis-aligned box in pixels: left, top, right, bottom.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl Rect {
    pub fn width(&self) -> f32 {
        (self.x1 - self.x0).max(0.0)
    }
    pub fn height(&self) -> f32 {
        (self.y1 - self.y0).max(0.0)
    }
    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }
    pub fn center(&self) -> Point {
        Point::new((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)
    }
    pub fn iou(&self, other: &Rect) -> f32 {
        let ix = (self.x1.min(other.x1) - self.x0.max(other.x0)).max(0.0);
        let iy = (self.y1.min(other.y1) - self.y0.max(other.y0)).max(0.0);
        let inter = ix * iy;
        let union = self.area() + other.area() - inter;
        if union <= 0.0 {
            0.0
        } else {
            inter / union
        }
    }
    pub fn scale(&self, sx: f32, sy: f32) -> Rect {
        Rect { x0: self.x0 * sx, y0: self.y0 * sy, x1: self.x1 * sx, y1: self.y1 * sy }
    }
    /// Whether the box lies wholly inside a `width`×`height` image.
    pub fn inside(&self, width: u32, height: u32) -> bool {
        self.x0 >= 0.0 && self.y0 >= 0.0 && self.x1 <= width as f32 && self.y1 <= height as f32
    }

    /// The box grown about its centre by `factor`, shrunk if needed so it fits the image, then shifted inside it.
    /// This is the crop the liveness, age and landmark models were trained on (box × factor, same aspect).
    pub fn grown_within(&self, factor: f32, width: u32, height: u32) -> Rect {
        let (w, h) = (self.width().max(1.0), self.height().max(1.0));
        let max_w = width.saturating_sub(1) as f32;
        let max_h = height.saturating_sub(1) as f32;
        let scale = factor.min(max_h / h).min(max_w / w);
        let (nw, nh) = (w * scale, h * scale);
        let c = self.center();
        let (mut x0, mut y0) = (c.x - nw / 2.0, c.y - nh / 2.0);
        x0 = x0.clamp(0.0, (max_w - nw).max(0.0));
        y0 = y0.clamp(0.0, (max_h - nh).max(0.0));
        Rect { x0, y0, x1: x0 + nw, y1: y0 + nh }
    }

    /// The box shrunk by `fraction` of its size on each side (its inner part), not clipped.
    pub fn shrunk(&self, fraction: f32) -> Rect {
        let (dw, dh) = (self.width() * fraction, self.height() * fraction);
        Rect { x0: self.x0 + dw, y0: self.y0 + dh, x1: self.x1 - dw, y1: self.y1 - dh }
    }

    /// The box grown by `margin` times its size on each side, clipped to the image.
    pub fn padded_clipped(&self, margin: f32, width: u32, height: u32) -> Rect {
        let (mw, mh) = (self.width() * margin, self.height() * margin);
        Rect {
            x0: (self.x0 - mw).max(0.0),
            y0: (self.y0 - mh).max(0.0),
            x1: (self.x1 + mw).min(width as f32),
            y1: (self.y1 + mh).min(height as f32),
        }
    }
}

/// Bilinear sample of channel values at a sub-pixel position; outside the image the edge pixel repeats.
#[inline]
pub fn sample(img: &RgbImage, x: f32, y: f32) -> [f32; 3] {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return [0.0; 3];
    }
    let xf = x.clamp(0.0, (w - 1) as f32);
    let yf = y.clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (xf.floor() as u32, yf.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (ax, ay) = (xf - x0 as f32, yf - y0 as f32);
    let raw = img.as_raw();
    let px = |xx: u32, yy: u32| -> [f32; 3] {
        let i = ((yy as usize) * (w as usize) + xx as usize) * 3;
        match raw.get(i..i + 3) {
            Some([r, g, b]) => [f32::from(*r), f32::from(*g), f32::from(*b)],
            _ => [0.0; 3],
        }
    };
    let (p00, p10, p01, p11) = (px(x0, y0), px(x1, y0), px(x0, y1), px(x1, y1));
    let lerp = |a: [f32; 3], b: [f32; 3], t: f32| -> [f32; 3] {
        let [a0, a1, a2] = a;
        let [b0, b1, b2] = b;
        [a0 + (b0 - a0) * t, a1 + (b1 - a1) * t, a2 + (b2 - a2) * t]
    };
    lerp(lerp(p00, p10, ax), lerp(p01, p11, ax), ay)
}

/// Resamples the region `src` of `img` to `out_w`×`out_h` (bilinear, pixel centres aligned like OpenCV's
/// resize). Box-averages first when shrinking by 2× or more, so big photos do not alias.
pub fn resize_region(img: &RgbImage, src: Rect, out_w: u32, out_h: u32) -> RgbImage {
    let factor = (src.width() / out_w.max(1) as f32).min(src.height() / out_h.max(1) as f32);
    if factor >= 2.0 {
        let k = factor.floor() as u32;
        // Reduce only the region (plus a pixel of margin), not the whole photo.
        let (iw, ih) = img.dimensions();
        let x0 = (src.x0.floor().max(0.0) as u32).min(iw.saturating_sub(1));
        let y0 = (src.y0.floor().max(0.0) as u32).min(ih.saturating_sub(1));
        let x1 = (src.x1.ceil().max(0.0) as u32 + 1).min(iw);
        let y1 = (src.y1.ceil().max(0.0) as u32 + 1).min(ih);
        if (x0, y0, x1, y1) != (0, 0, iw, ih) && x1 > x0 && y1 > y0 {
            let region = image::imageops::crop_imm(img, x0, y0, x1 - x0, y1 - y0).to_image();
            let shifted =
                Rect { x0: src.x0 - x0 as f32, y0: src.y0 - y0 as f32, x1: src.x1 - x0 as f32, y1: src.y1 - y0 as f32 };
            return resize_region(&region, shifted, out_w, out_h);
        }
        let reduced = box_reduce(img, k);
        let inv = 1.0 / k as f32;
        let scaled = Rect { x0: src.x0 * inv, y0: src.y0 * inv, x1: src.x1 * inv, y1: src.y1 * inv };
        // A whole frame halved exactly (640×480 → 320×240 for the preview detector) needs no second pass.
        let whole = scaled.x0 == 0.0 && scaled.y0 == 0.0;
        if whole
            && reduced.dimensions() == (out_w, out_h)
            && scaled.width() as u32 == out_w
            && scaled.height() as u32 == out_h
        {
            return reduced;
        }
        return resize_bilinear(&reduced, scaled, out_w, out_h);
    }
    resize_bilinear(img, src, out_w, out_h)
}

fn resize_bilinear(img: &RgbImage, src: Rect, out_w: u32, out_h: u32) -> RgbImage {
    let sx = src.width() / out_w.max(1) as f32;
    let sy = src.height() / out_h.max(1) as f32;
    let mut out = RgbImage::new(out_w, out_h);
    for (x, y, p) in out.enumerate_pixels_mut() {
        let fx = src.x0 + (x as f32 + 0.5) * sx - 0.5;
        let fy = src.y0 + (y as f32 + 0.5) * sy - 0.5;
        let v = sample(img, fx, fy);
        p.0 = [round_u8(v[0]), round_u8(v[1]), round_u8(v[2])];
    }
    out
}

/// Averages k×k blocks (integer downscale).
pub fn box_reduce(img: &RgbImage, k: u32) -> RgbImage {
    let k = k.max(1) as usize;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (ow, oh) = ((w / k).max(1), (h / k).max(1));
    let raw = img.as_raw();
    if k == 2 {
        return halve(raw, w, ow, oh);
    }
    let n = (k * k) as u32;
    let mut out = Vec::with_capacity(ow * oh * 3);
    let mut acc = vec![0u32; ow * 3];
    for oy in 0..oh {
        acc.iter_mut().for_each(|a| *a = 0);
        for dy in 0..k {
            let y = (oy * k + dy).min(h.saturating_sub(1));
            let Some(row) = raw.get(y * w * 3..(y + 1) * w * 3) else { continue };
            // Each output pixel sums k consecutive input pixels of this row.
            for (px, chunk) in row.chunks_exact(3 * k).take(ow).enumerate() {
                for (i, v) in chunk.iter().enumerate() {
                    if let Some(a) = acc.get_mut(px * 3 + i % 3) {
                        *a += u32::from(*v);
                    }
                }
            }
        }
        out.extend(acc.iter().map(|a| (a / n) as u8));
    }
    RgbImage::from_raw(ow as u32, oh as u32, out).unwrap_or_else(|| RgbImage::new(ow as u32, oh as u32))
}

/// `box_reduce` by 2, the preview's every-frame case (640×480 → 320×240): two rows at a time, each output pixel
/// straight from its four inputs, no accumulator row: 0.63 ms instead of 1.02 ms for 640×480 (release, p50 of 300).
fn halve(raw: &[u8], w: usize, ow: usize, oh: usize) -> RgbImage {
    let mut out = Vec::with_capacity(ow * oh * 3);
    for oy in 0..oh {
        let (Some(top), Some(bottom)) =
            (raw.get(2 * oy * w * 3..(2 * oy + 1) * w * 3), raw.get((2 * oy + 1) * w * 3..(2 * oy + 2) * w * 3))
        else {
            break;
        };
        for (t, b) in top.chunks_exact(6).zip(bottom.chunks_exact(6)).take(ow) {
            if let ([t0, t1, t2, t3, t4, t5], [b0, b1, b2, b3, b4, b5]) = (t, b) {
                let avg = |a: &u8, b: &u8, c: &u8, d: &u8| {
                    ((u16::from(*a) + u16::from(*b) + u16::from(*c) + u16::from(*d)) / 4) as u8
                };
                out.extend_from_slice(&[avg(t0, t3, b0, b3), avg(t1, t4, b1, b4), avg(t2, t5, b2, b5)]);
            }
        }
    }
    RgbImage::from_raw(ow as u32, oh as u32, out).unwrap_or_else(|| RgbImage::new(ow as u32, oh as u32))
}

#[inline]
pub fn round_u8(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// A 2×3 affine matrix `[a, b, tx; c, d, ty]` mapping source to destination.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    pub m: [[f32; 3]; 2],
}

impl Affine {
    pub fn apply(&self, p: Point) -> Point {
        let [[a, b, tx], [c, d, ty]] = self.m;
        Point::new(a * p.x + b * p.y + tx, c * p.x + d * p.y + ty)
    }
    pub fn invert(&self) -> Option<Affine> {
        let [[a, b, tx], [c, d, ty]] = self.m;
        let det = a * d - b * c;
        if det.abs() < 1e-9 {
            return None;
        }
        let (ia, ib, ic, id) = (d / det, -b / det, -c / det, a / det);
        Some(Affine { m: [[ia, ib, -(ia * tx + ib * ty)], [ic, id, -(ic * tx + id * ty)]] })
    }
    /// The rotation angle in degrees (for a similarity transform).
    pub fn rotation_deg(&self) -> f32 {
        self.m[1][0].atan2(self.m[0][0]).to_degrees()
    }
}

/// The least-squares similarity transform (rotation, uniform scale, translation) taking `src` onto `dst`
/// (Umeyama 1991, closed form for 2-D). None when the points are degenerate.
pub fn similarity_transform(src: &[Point], dst: &[Point]) -> Option<Affine> {
    let n = src.len().min(dst.len());
    if n < 2 {
        return None;
    }
    let nf = n as f32;
    let (mut msx, mut msy, mut mdx, mut mdy) = (0.0, 0.0, 0.0, 0.0);
    for (s, d) in src.iter().zip(dst) {
        msx += s.x;
        msy += s.y;
        mdx += d.x;
        mdy += d.y;
    }
    let (msx, msy, mdx, mdy) = (msx / nf, msy / nf, mdx / nf, mdy / nf);
    let (mut sxx, mut sxy, mut var) = (0.0f32, 0.0f32, 0.0f32);
    for (s, d) in src.iter().zip(dst) {
        let (sx, sy, dx, dy) = (s.x - msx, s.y - msy, d.x - mdx, d.y - mdy);
        // a = Σ (s·d), b = Σ (s × d): the optimal rotation is atan2(b, a).
        sxx += sx * dx + sy * dy;
        sxy += sx * dy - sy * dx;
        var += sx * sx + sy * sy;
    }
    if var < 1e-9 {
        return None;
    }
    let a = sxx / var;
    let b = sxy / var;
    let tx = mdx - (a * msx - b * msy);
    let ty = mdy - (b * msx + a * msy);
    Some(Affine { m: [[a, -b, tx], [b, a, ty]] })
}

/// Warps `img` with `to_dst` into an `out_w`×`out_h` image (inverse mapping, bilinear).
pub fn warp_affine(img: &RgbImage, to_dst: &Affine, out_w: u32, out_h: u32) -> Option<RgbImage> {
    let inv = to_dst.invert()?;
    let mut out = RgbImage::new(out_w, out_h);
    for (x, y, p) in out.enumerate_pixels_mut() {
        let s = inv.apply(Point::new(x as f32, y as f32));
        let v = sample(img, s.x, s.y);
        p.0 = [round_u8(v[0]), round_u8(v[1]), round_u8(v[2])];
    }
    Some(out)
}

/// Greedy non-maximum suppression over (box, score) pairs, best first.
pub fn nms<T>(mut items: Vec<(Rect, f32, T)>, iou_threshold: f32) -> Vec<(Rect, f32, T)> {
    items.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut kept: Vec<(Rect, f32, T)> = Vec::new();
    for item in items {
        if kept.iter().all(|k| k.0.iou(&item.0) <= iou_threshold) {
            kept.push(item);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn box_reduce_averages_each_k_by_k_block_and_drops_the_ragged_edge() {
        // Odd sizes, so the last column and row do not fill a block and are dropped, as the output size says.
        let img =
            RgbImage::from_fn(11, 7, |x, y| image::Rgb([(x * 23 + y * 7) as u8, (x * y) as u8, (250 - x * y) as u8]));
        for k in [1u32, 2, 3] {
            let out = box_reduce(&img, k);
            assert_eq!(out.dimensions(), (11 / k, 7 / k));
            for (ox, oy, p) in out.enumerate_pixels() {
                for c in 0..3 {
                    let mut sum = 0u32;
                    for dy in 0..k {
                        for dx in 0..k {
                            sum += u32::from(img.get_pixel(ox * k + dx, oy * k + dy)[c]);
                        }
                    }
                    assert_eq!(u32::from(p[c]), sum / (k * k), "k={k} at ({ox},{oy}) channel {c}");
                }
            }
        }
    }

    #[test]
    fn similarity_recovers_a_known_transform() {
        let src = [Point::new(10.0, 10.0), Point::new(50.0, 12.0), Point::new(30.0, 40.0)];
        let angle = 0.3f32;
        let (s, tx, ty) = (1.7f32, 5.0f32, -3.0f32);
        let dst: Vec<Point> = src
            .iter()
            .map(|p| {
                Point::new(
                    s * (angle.cos() * p.x - angle.sin() * p.y) + tx,
                    s * (angle.sin() * p.x + angle.cos() * p.y) + ty,
                )
            })
            .collect();
        let t = similarity_transform(&src, &dst).unwrap();
        for (p, q) in src.iter().zip(&dst) {
            assert!(t.apply(*p).distance(*q) < 1e-3);
        }
        assert!((t.rotation_deg() - angle.to_degrees()).abs() < 1e-3);
        let back = t.invert().unwrap();
        assert!(back.apply(dst[1]).distance(src[1]) < 1e-3);
    }

    #[test]
    fn grown_crop_stays_inside_the_image() {
        let r = Rect { x0: 5.0, y0: 5.0, x1: 45.0, y1: 55.0 };
        let g = r.grown_within(2.7, 100, 80);
        assert!(g.x0 >= 0.0 && g.y0 >= 0.0 && g.x1 <= 99.0 && g.y1 <= 79.0, "{g:?}");
        // The aspect ratio of the box is kept.
        assert!((g.width() / g.height() - r.width() / r.height()).abs() < 1e-3);
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let a = Rect { x0: 0.0, y0: 0.0, x1: 10.0, y1: 10.0 };
        let b = Rect { x0: 1.0, y0: 1.0, x1: 11.0, y1: 11.0 };
        let c = Rect { x0: 50.0, y0: 50.0, x1: 60.0, y1: 60.0 };
        let kept = nms(vec![(a, 0.8, 'a'), (b, 0.9, 'b'), (c, 0.5, 'c')], 0.4);
        assert_eq!(kept.iter().map(|k| k.2).collect::<String>(), "bc");
    }
}
