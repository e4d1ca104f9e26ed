//! The signature as a picture: ink on a transparent background, cropped to the ink, line width following the
//! pressure, no larger than [`MAX_SIDE_PX`] on its longer side.

use image::{ImageEncoder, Rgba, RgbaImage};

use crate::stroke::{Drawn, PenSample};
use crate::SignatureError;

/// The longer side of the picture at most; the signature block in a PDF is about 60 mm wide, so this is
/// over 300 dpi there.
pub const MAX_SIDE_PX: u32 = 900;
/// Blue-black ink.
const INK: [u8; 3] = [0x1a, 0x23, 0x5a];
/// Stroke width in millimetres at no and at full pressure.
const WIDTH_MM: (f64, f64) = (0.35, 1.1);
const MARGIN_MM: f64 = 2.0;

/// PNG bytes of the drawn signature. The caller has already run [`Drawn::check`].
pub fn png(drawn: &Drawn) -> Result<Vec<u8>, SignatureError> {
    let image = raster(drawn)?;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::Adaptive,
    )
    .write_image(image.as_raw(), image.width(), image.height(), image::ExtendedColorType::Rgba8)
    .map_err(|e| SignatureError::Render(e.to_string()))?;
    Ok(out)
}

pub fn raster(drawn: &Drawn) -> Result<RgbaImage, SignatureError> {
    let down: Vec<&PenSample> = drawn.samples.iter().filter(|s| s.down).collect();
    if down.is_empty() {
        return Err(SignatureError::Empty);
    }
    let px_per_mm = drawn.pad.px_per_mm;
    let margin = MARGIN_MM * px_per_mm;
    let min_x = down.iter().map(|s| s.x).fold(f64::MAX, f64::min) - margin;
    let min_y = down.iter().map(|s| s.y).fold(f64::MAX, f64::min) - margin;
    let max_x = down.iter().map(|s| s.x).fold(f64::MIN, f64::max) + margin;
    let max_y = down.iter().map(|s| s.y).fold(f64::MIN, f64::max) + margin;
    // Draw at up to 3× the pad's resolution, then no larger than the cap.
    let (w, h) = (max_x - min_x, max_y - min_y);
    let scale = (3.0f64).min(f64::from(MAX_SIDE_PX) / w.max(h));
    let width = ((w * scale).ceil() as u32).clamp(1, MAX_SIDE_PX);
    let height = ((h * scale).ceil() as u32).clamp(1, MAX_SIDE_PX);
    let mut img = RgbaImage::from_pixel(width, height, Rgba([INK[0], INK[1], INK[2], 0]));
    let pressure_varies = drawn.stats().has_pressure;
    let radius = |p: f64| {
        let p = if pressure_varies { p } else { 0.5 };
        (WIDTH_MM.0 + (WIDTH_MM.1 - WIDTH_MM.0) * p) * px_per_mm * scale / 2.0
    };
    let to_img = |s: &PenSample| ((s.x - min_x) * scale, (s.y - min_y) * scale);
    let mut prev: Option<&PenSample> = None;
    for s in &drawn.samples {
        if s.down {
            let a = prev.filter(|p| p.down).unwrap_or(s);
            segment(&mut img, to_img(a), to_img(s), radius(a.pressure), radius(s.pressure));
        }
        prev = Some(s);
    }
    Ok(img)
}

/// A segment with round caps whose radius goes from `ra` to `rb`, anti-aliased by distance; overlapping
/// segments keep the darker coverage so joints do not double up.
fn segment(img: &mut RgbaImage, a: (f64, f64), b: (f64, f64), ra: f64, rb: f64) {
    let r = ra.max(rb) + 1.0;
    let x0 = (a.0.min(b.0) - r).floor().max(0.0) as u32;
    let y0 = (a.1.min(b.1) - r).floor().max(0.0) as u32;
    let x1 = ((a.0.max(b.0) + r).ceil() as u32).min(img.width().saturating_sub(1));
    let y1 = ((a.1.max(b.1) + r).ceil() as u32).min(img.height().saturating_sub(1));
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (px, py) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
            let t = if len2 > 0.0 { (((px - a.0) * dx + (py - a.1) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
            let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
            let d = ((px - cx).powi(2) + (py - cy).powi(2)).sqrt();
            let radius = ra + (rb - ra) * t;
            let coverage = (radius + 0.5 - d).clamp(0.0, 1.0);
            if coverage > 0.0 {
                let alpha = (coverage * 255.0).round() as u8;
                if let Some(pixel) = img.get_pixel_mut_checked(x, y) {
                    pixel.0[3] = pixel.0[3].max(alpha);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::stroke::tests::sample_signature;
    use crate::stroke::PointerKind;

    #[test]
    fn the_picture_is_cropped_transparent_ink_with_pressure_in_its_width() {
        let drawn = sample_signature(PointerKind::Pen);
        let bytes = png(&drawn).unwrap();
        let img = image::load_from_memory(&bytes).unwrap().to_rgba8();
        assert!(img.width() <= MAX_SIDE_PX && img.height() <= MAX_SIDE_PX);
        // Cropped: the pad was 700×260, the ink spans about 570×110 of it, plus margins, at up to 3×.
        let aspect = f64::from(img.width()) / f64::from(img.height());
        assert!((3.0..6.0).contains(&aspect), "{}×{}", img.width(), img.height());
        let corner = img.get_pixel(0, 0);
        assert_eq!(corner.0[3], 0, "background is transparent");
        let inked = img.pixels().filter(|p| p.0[3] > 128).count();
        assert!(inked > 1000, "{inked} inked pixels");
        // The same path with a constant pressure (a mouse) draws less ink than the pen's varying one, whose
        // widest strokes are wider than the mouse's constant mid width.
        let mouse = raster(&sample_signature(PointerKind::Mouse)).unwrap();
        let mouse_ink = mouse.pixels().filter(|p| p.0[3] > 128).count();
        assert_ne!(mouse_ink, inked);
        assert!(bytes.len() < crate::MAX_SIGNATURE_IMAGE_BYTES);
    }
}
