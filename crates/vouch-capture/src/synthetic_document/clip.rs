//! A few seconds of a customer showing a document to the kiosk camera, for the DEMO document camera and the
//! document_scan step's end-to-end tests: an empty desk, the page brought in (moving, blurred), held under a
//! lamp's glare, then held still. Looped by the file camera, it exercises every hint the step gives and ends
//! in frames the reader can capture.

use image::RgbImage;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;

use super::page::{self, DocumentKind, Holder};
use super::scene::{photograph, SceneOptions, Synthetic};
use super::text::Font;
use super::SynthError;

/// What a stretch of the clip shows, so a test knows which frames should be captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipPhase {
    /// No document in view.
    Empty,
    /// The document moving into place: blurred and turning.
    Arriving,
    /// Held still, but a lamp's reflection burns part of the page.
    Glare,
    /// Held still and evenly lit: what a capture should come from.
    Steady,
}

pub struct ClipFrame {
    pub phase: ClipPhase,
    pub shot: Synthetic,
}

/// Frames per phase, at the kiosk's 15 fps: 0.4 s empty, 0.4 s arriving, 0.6 s of glare, 1.6 s held still.
pub const PHASES: [(ClipPhase, usize); 4] =
    [(ClipPhase::Empty, 6), (ClipPhase::Arriving, 6), (ClipPhase::Glare, 9), (ClipPhase::Steady, 24)];

/// The clip's frames for `holder`'s document. One seed draws the page, the desk and where the page lands; the
/// phases vary only the hand and the light.
pub fn clip(
    font: &Font,
    kind: DocumentKind,
    holder: &Holder,
    portrait: Option<&RgbImage>,
    (width, height): (u32, u32),
    seed: u64,
) -> Result<Vec<ClipFrame>, SynthError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let page = page::draw(font, kind, holder, portrait, &mut rng);
    let mut frames = Vec::new();
    for (phase, count) in PHASES {
        for i in 0..count {
            let t = i as f32 / count.max(1) as f32;
            let base = SceneOptions { width, height, noise: 2.0, jpeg_quality: Some(88), ..SceneOptions::default() };
            // The hand is never perfectly still: a fraction of a degree of tremor and a little tilt.
            let tremor = (i as f32 * 1.7).sin() * 0.15;
            let options = match phase {
                ClipPhase::Empty => SceneOptions { with_document: false, ..base },
                ClipPhase::Arriving => SceneOptions {
                    fill: 0.4 + 0.2 * t,
                    rotation_deg: 14.0 - 11.0 * t,
                    blur_sigma: 3.0 - 1.5 * t,
                    ..base
                },
                ClipPhase::Glare => SceneOptions { fill: 0.6, rotation_deg: 3.0 + tremor, glare: 0.9, ..base },
                ClipPhase::Steady => SceneOptions { fill: 0.6, rotation_deg: 3.0 + tremor, ..base },
            };
            // Every frame starts from the same rng state: the same desk, the page in the same place.
            let shot = photograph(&page, holder.clone(), &options, &mut rng.clone())?;
            frames.push(ClipFrame { phase, shot });
        }
    }
    Ok(frames)
}
