//! Reading an identity document page from a camera frame or an upload: find the page ([`locate`]), flatten it
//! to its ISO format ([`normalise`]), turn it upright ([`orientation`]), find the MRZ lines on it
//! ([`mrz_zone`]), read them with Vouch's recogniser and check them with `vouch_core::mrz`, and judge the
//! capture ([`quality`]). Every stage is timed, for the benchmark and the kiosk's logs.

pub mod colour;
pub mod locate;
pub mod mrz_zone;
pub mod normalise;
pub mod orientation;
pub mod quality;

use std::time::Instant;

use image::RgbImage;
use serde::Serialize;
use vouch_core::mrz::{self, Correction, Mrz, MrzFormat};

use crate::error::Result;
use crate::mrz::{GreyFrame, LineGeometry, MrzRecogniser};
use crate::registry::ModelRegistry;
pub use locate::{locate_page, PageQuad};
pub use mrz_zone::{locate_mrz, MrzZone};
pub use normalise::{normalise, PageFormat};
pub use orientation::{Orientation, OrientationModel};
pub use quality::{PageQuality, QualityIssue, QualityWarning};

/// Which side of the document a page is, as DIS names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PageSide {
    Front,
    Back,
}

impl PageSide {
    pub fn as_str(self) -> &'static str {
        match self {
            PageSide::Front => "front",
            PageSide::Back => "back",
        }
    }
}

/// What the MRZ on a page says, as read and as checked.
#[derive(Debug, Clone)]
pub struct MrzReading {
    /// The recogniser's text, lines joined by `\n`, before any repair.
    pub raw: String,
    /// Parsed after position-aware repair; its `checks` say which check digits hold.
    pub mrz: Mrz,
    pub corrections: Vec<Correction>,
    /// The least sure character's probability.
    pub min_confidence: f32,
    /// Where the lines lie on the normalised page.
    pub lines: Vec<LineGeometry>,
}

impl MrzReading {
    /// Every check digit and the composite hold.
    pub fn valid(&self) -> bool {
        self.mrz.checks.all_valid()
    }

    /// The MRZ as it should read, repairs applied, lines joined by `\n`.
    pub fn text(&self) -> String {
        let mut lines: Vec<Vec<char>> = self.raw.lines().map(|l| l.chars().collect()).collect();
        for c in &self.corrections {
            if let Some(cell) = lines.get_mut(c.line).and_then(|l| l.get_mut(c.column)) {
                *cell = c.corrected;
            }
        }
        lines.iter().map(|l| l.iter().collect::<String>()).collect::<Vec<_>>().join("\n")
    }
}

/// Milliseconds per stage of one page read.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct StageTimes {
    pub locate: f64,
    pub normalise: f64,
    pub orientation: f64,
    pub mrz_locate: f64,
    pub ocr: f64,
    pub parse: f64,
    pub quality: f64,
}

impl StageTimes {
    pub fn total(&self) -> f64 {
        self.locate + self.normalise + self.orientation + self.mrz_locate + self.ocr + self.parse + self.quality
    }
}

/// One page as read.
#[derive(Debug, Clone)]
pub struct PageReading {
    /// The page's corners in the frame, clockwise from the top-left of the upright page.
    pub quad: PageQuad,
    pub format: PageFormat,
    /// The orientation model's verdict, where it was asked: a page whose MRZ was found needs no model, the
    /// MRZ's place at the bottom says which way up it is.
    pub orientation: Option<Orientation>,
    /// The page was seen upside down (its corners are given upright).
    pub turned: bool,
    pub mrz: Option<MrzReading>,
    pub side: PageSide,
    pub quality: PageQuality,
    pub times: StageTimes,
}

impl PageReading {
    /// The whole page, flat and upright at its format's canonical size (8 px/mm), out of the frame it was
    /// read from.
    pub fn flatten(&self, frame: &RgbImage) -> Option<RgbImage> {
        normalise(frame, &self.quad, self.format)
    }
}

/// The models a page read needs, loaded once.
pub struct DocumentReader {
    recogniser: MrzRecogniser,
    orientation: OrientationModel,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// The format the MRZ's shape implies.
fn format_of(length: usize) -> PageFormat {
    match length {
        30 => PageFormat::Id1,
        36 => PageFormat::Id2,
        _ => PageFormat::Id3,
    }
}

/// The MRZ band: the bottom of the page from this share of its height. ICAO puts the MRZ in the bottom 23.2 mm
/// of 88 (TD3, from 74 %), 17.9 of 54 (TD1, from 67 %) and 17 of 74 (TD2, from 77 %).
const MRZ_BAND_FROM: f32 = 0.6;
/// The small flattened page that orientation and quality look at: the model's input is 320 wide.
const OVERVIEW_WIDTH: u32 = 320;

/// The bottom band of the page inside `quad`, flat at canonical resolution, and the page row it starts at.
fn mrz_band(frame: &GreyFrame, quad: &PageQuad, format: PageFormat) -> Option<(GreyFrame, u32)> {
    let (w, h) = format.size_px();
    let top = (h as f32 * MRZ_BAND_FROM) as u32;
    Some((normalise::flatten_grey(frame, quad, (w, h), top..h)?, top))
}

struct FoundMrz {
    quad: PageQuad,
    format: PageFormat,
    band: GreyFrame,
    band_top: u32,
    zone: MrzZone,
    turned: bool,
}

impl DocumentReader {
    pub fn load(registry: &ModelRegistry, threads: usize) -> Result<DocumentReader> {
        Ok(DocumentReader {
            recogniser: MrzRecogniser::load(registry, threads)?,
            orientation: OrientationModel::load(registry, threads)?,
        })
    }

    pub fn recogniser(&self) -> &MrzRecogniser {
        &self.recogniser
    }

    pub fn orientation_model(&self) -> &OrientationModel {
        &self.orientation
    }

    /// The MRZ along the page's bottom edge as the frame shows it, else along its top edge (the page upside
    /// down); flattened again at the format the MRZ's length implies when the aspect guessed another.
    fn find_mrz(frame: &GreyFrame, quad: &PageQuad, format: PageFormat) -> Option<FoundMrz> {
        for (quad, turned) in [(*quad, false), (quad.rotated_half(), true)] {
            let Some((band, band_top)) = mrz_band(frame, &quad, format) else { continue };
            let Some(zone) = locate_mrz(&band) else { continue };
            let implied = format_of(zone.length);
            if implied == format {
                return Some(FoundMrz { quad, format, band, band_top, zone, turned });
            }
            let (band, band_top) = mrz_band(frame, &quad, implied)?;
            let zone = locate_mrz(&band)?;
            return Some(FoundMrz { quad, format: implied, band, band_top, zone, turned });
        }
        None
    }

    /// Reads the page in `frame`; `Ok(None)` when no document's corners are found in it.
    pub fn read(&self, frame: &RgbImage) -> Result<Option<PageReading>> {
        let mut times = StageTimes::default();
        let t = Instant::now();
        let Some(located) = locate_page(frame) else {
            return Ok(None);
        };
        times.locate = ms(t);

        let t = Instant::now();
        let guess = PageFormat::from_aspect(located.aspect());
        let grey = GreyFrame::from_rgb(frame);
        let found = Self::find_mrz(&grey, &located, guess);
        times.mrz_locate = ms(t);

        let (mut quad, mut format, mut turned, mut orientation, mut reading) = (located, guess, false, None, None);
        if let Some(found) = found {
            let t = Instant::now();
            let mut lines = Vec::with_capacity(found.zone.lines.len());
            let mut min_confidence = 1.0f32;
            for line in &found.zone.lines {
                let read = self.recogniser.read_line(&found.band, line, found.zone.length)?;
                min_confidence = min_confidence.min(read.min_confidence());
                lines.push(read.text);
            }
            times.ocr = ms(t);
            let t = Instant::now();
            let raw = lines.join("\n");
            if let Ok((mrz, corrections)) = mrz::parse_corrected(&raw) {
                // Geometry in page rows, not band rows.
                let shift = found.band_top as f32;
                let lines = found
                    .zone
                    .lines
                    .iter()
                    .map(|l| LineGeometry { origin: [l.origin[0], l.origin[1] + shift], advance: l.advance })
                    .collect();
                reading = Some(MrzReading { raw, mrz, corrections, min_confidence, lines });
            }
            times.parse = ms(t);
            (quad, format, turned) = (found.quad, found.format, found.turned);
        }

        let t = Instant::now();
        let overview_size = {
            let (w, h) = format.size_px();
            (OVERVIEW_WIDTH, (OVERVIEW_WIDTH as f32 * h as f32 / w as f32).round() as u32)
        };
        // Two taps a side are enough for a page that is only looked at as a whole.
        let Some(mut overview) = normalise::flatten_with(frame, &quad, overview_size, 0..overview_size.1, 2) else {
            return Ok(None);
        };
        times.normalise = ms(t);
        if reading.is_none() {
            let t = Instant::now();
            let verdict = self.orientation.classify(&overview)?;
            times.orientation = ms(t);
            if verdict.quarter_turns == 2 {
                quad = quad.rotated_half();
                image::imageops::rotate180_in_place(&mut overview);
                turned = true;
            }
            orientation = Some(verdict);
        }

        let side = match reading.as_ref().map(|r| r.mrz.format) {
            Some(MrzFormat::Td1) => PageSide::Back,
            _ => PageSide::Front,
        };
        let t = Instant::now();
        let quality = quality::assess(&grey, &quad, format, &overview);
        times.quality = ms(t);
        Ok(Some(PageReading { quad, format, orientation, turned, mrz: reading, side, quality, times }))
    }
}
