//! Text drawing with an OpenType font (OCR-B for the MRZ and the visual zone).

use ab_glyph::{Font as _, FontVec, PxScale, ScaleFont};
use image::RgbImage;

use super::SynthError;

pub struct Font {
    font: FontVec,
    /// Cap height as a fraction of the em, measured on `H`: sizes are asked for in cap height, as the MRZ
    /// specification gives them.
    cap_ratio: f32,
}

impl Font {
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Font, SynthError> {
        let font = FontVec::try_from_vec(bytes).map_err(|e| SynthError::Font(e.to_string()))?;
        let glyph = font.glyph_id('H').with_scale(PxScale::from(100.0));
        let cap_ratio = font
            .outline_glyph(glyph)
            .map(|g| g.px_bounds().height() / 100.0)
            .filter(|r| *r > 0.1)
            .ok_or_else(|| SynthError::Font("the font has no outline for H".into()))?;
        Ok(Font { font, cap_ratio })
    }

    /// Draws `text` with its baseline at `y`, starting at `x`. With `pitch`, every character takes that width
    /// and sits centred in it (the MRZ is monospaced at 2.54 mm); otherwise the font's advances are used.
    /// Returns the x after the last character.
    #[allow(clippy::too_many_arguments)] // a pen position, a size and a colour read best spelled out
    pub fn draw(
        &self,
        image: &mut RgbImage,
        text: &str,
        x: f32,
        y: f32,
        cap_height: f32,
        pitch: Option<f32>,
        color: [u8; 3],
    ) -> f32 {
        let scale = PxScale::from(cap_height / self.cap_ratio);
        let scaled = self.font.as_scaled(scale);
        let mut pen = x;
        for c in text.chars() {
            let id = self.font.glyph_id(c);
            let advance = scaled.h_advance(id);
            let left = match pitch {
                Some(p) => pen + (p - advance) / 2.0,
                None => pen,
            };
            let glyph = id.with_scale_and_position(scale, ab_glyph::point(left, y));
            if let Some(outlined) = self.font.outline_glyph(glyph) {
                let bounds = outlined.px_bounds();
                outlined.draw(|gx, gy, coverage| {
                    let px = bounds.min.x as i64 + i64::from(gx);
                    let py = bounds.min.y as i64 + i64::from(gy);
                    let (Ok(px), Ok(py)) = (u32::try_from(px), u32::try_from(py)) else { return };
                    if let Some(pixel) = image.get_pixel_mut_checked(px, py) {
                        for (channel, ink) in pixel.0.iter_mut().zip(color) {
                            let c = coverage.clamp(0.0, 1.0);
                            *channel = (f32::from(*channel) * (1.0 - c) + f32::from(ink) * c).round() as u8;
                        }
                    }
                });
            }
            pen += pitch.unwrap_or(advance);
        }
        pen
    }
}
