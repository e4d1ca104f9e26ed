//! Reading an identity document page from a camera frame or an upload: find the page ([`locate`]), flatten it
//! to its ISO format ([`normalise`]), turn it upright ([`orientation`]), find the MRZ lines on it
//! ([`mrz_zone`]), read them with Vouch's recogniser and check them with `vouch_core::mrz`, and judge the
//! capture ([`quality`]). Where the page's corners are not in view (a flat scan, a crop, a page held too
//! close), or its MRZ does not read, the MRZ is looked for directly ([`mrz_find`]), in any quarter turn, and the
//! page is placed from it. Every stage is timed, for the benchmark and the kiosk's logs.

pub mod colour;
pub mod expected;
pub mod locate;
pub mod mrz_find;
pub mod mrz_zone;
pub mod normalise;
pub mod orientation;
pub mod quality;

use std::time::Instant;

use image::RgbImage;
use serde::Serialize;
use vouch_core::mrz::{self, Correction, Mrz, MrzFormat};

use crate::error::Result;
use crate::mrz::{GreyFrame, LineGeometry, LineReading, MrzRecogniser};
use crate::registry::ModelRegistry;
pub use locate::{locate_page, PageQuad};
pub use mrz_zone::{locate_mrz, MrzZone};
pub use normalise::{normalise, PageFormat};
pub use orientation::{Orientation, OrientationModel};
pub use quality::{PageQuality, QualityIssue, QualityWarning};

/// Which side of the document a page is, as DIS names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
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
    /// The page's corners in the frame, clockwise from the top-left of the upright page: found, or (when
    /// `page_found` is false) placed from the MRZ by ICAO 9303's layout, possibly beyond the frame.
    pub quad: PageQuad,
    /// Whether the page's edges were found; false when only its MRZ was.
    pub page_found: bool,
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

    /// Reads the page in `frame`: by its corners where they are found, else (or when its MRZ does not read
    /// that way) by its MRZ alone. `Ok(None)` when neither a page nor an MRZ is found.
    pub fn read(&self, frame: &RgbImage) -> Result<Option<PageReading>> {
        let grey = GreyFrame::from_rgb(frame);
        let t = Instant::now();
        let located = locate_page(frame);
        let locate_ms = ms(t);
        let mut page = match located {
            Some(located) => self.read_page(frame, &grey, located)?,
            None => None,
        };
        if let Some(page) = page.as_mut() {
            page.times.locate = locate_ms;
        }
        if page.as_ref().and_then(|p| p.mrz.as_ref()).is_some_and(MrzReading::valid) {
            return Ok(page);
        }
        let t = Instant::now();
        let loose = self.read_loose(&grey)?;
        let loose_ms = ms(t);
        let Some(loose) = loose else { return Ok(page) };
        match page {
            Some(mut page) => {
                if better(&loose.reading, page.mrz.as_ref()) {
                    page.side = side_of(&loose.reading);
                    page.mrz = Some(loose.reading);
                }
                page.times.mrz_locate += loose_ms;
                Ok(Some(page))
            }
            None => self.page_from_mrz(frame, &grey, loose, locate_ms + loose_ms).map(Some),
        }
    }

    /// The MRZ read without the page: each candidate region, both ways up, the best reading by its check
    /// digits. None when nothing reads as an MRZ (see [`plausible`]).
    fn read_loose(&self, grey: &GreyFrame) -> Result<Option<LooseMrz>> {
        let mut best: Option<LooseMrz> = None;
        for region in mrz_find::find_regions(grey).into_iter().take(MAX_LOOSE_REGIONS) {
            for quad in [region.quad, region.quad.rotated_half()] {
                let Some(found) = self.read_region(grey, &quad, region.lines)? else { continue };
                if !plausible(&found.reading) {
                    continue;
                }
                let done = found.reading.valid();
                if best.as_ref().is_none_or(|b| better(&found.reading, Some(&b.reading))) {
                    best = Some(found);
                }
                if done {
                    return Ok(best);
                }
            }
        }
        Ok(best)
    }

    /// Flattens the region inside `quad` so its lines run at about the canonical page's size, finds the lines
    /// in it and reads them.
    fn read_region(&self, grey: &GreyFrame, quad: &PageQuad, lines: usize) -> Result<Option<LooseMrz>> {
        let [tl, tr, _, bl] = quad.corners;
        let (width, height) = ((tr[0] - tl[0]).hypot(tr[1] - tl[1]), (bl[0] - tl[0]).hypot(bl[1] - tl[1]));
        if width < 1.0 || height < 1.0 {
            return Ok(None);
        }
        // A TD1 line is 30 characters, a TD2 or TD3 line 36 or 44, at 2.54 mm; the region holds a line and
        // a character's margin either side.
        let line_px = if lines == 3 { 30.0 } else { 44.0 } * 2.54 * normalise::PX_PER_MM;
        let scale = line_px / (width / (1.0 + 2.0 * mrz_find::MARGIN));
        let size = ((width * scale).round() as u32, (height * scale).round().max(8.0) as u32);
        let Some(band) = normalise::flatten_grey(grey, quad, size, 0..size.1) else { return Ok(None) };
        // The comb alone can take a 44-character line for 36 wider characters: both are read, the check
        // digits choose.
        let lengths: &[usize] = if lines == 3 { &[30] } else { &[44, 36] };
        let mut best: Option<LooseMrz> = None;
        // The pitch from the ink's span, and from the region's scale (a line's last fillers may be too faint
        // to count in its span).
        let nominal = line_px / if lines == 3 { 30.0 } else { 44.0 };
        let tries = lengths.iter().flat_map(|&l| [(l, None), (l, Some(nominal))]);
        for (length, hint) in tries {
            let Some(zone) = mrz_zone::locate_mrz_as(&band, Some(length), hint) else { continue };
            if zone.lines.len() != lines {
                continue;
            }
            let Some(reading) = self.read_zone(&band, &zone)? else { continue };
            // The longest length comes first, so a reading whose every check holds cannot be bettered.
            let done = reading.valid();
            if best.as_ref().is_none_or(|b| better(&reading, Some(&b.reading))) {
                best = Some(LooseMrz { reading, quad: *quad, band_size: size, zone });
            }
            if done {
                break;
            }
        }
        Ok(best)
    }

    /// Reads the lines of `zone` in `band` and parses them, repairs applied: by position and check digit
    /// (`parse_corrected`), then, if a check still fails, the recogniser's second choice at its least sure
    /// characters ([`second_choices`]).
    fn read_zone(&self, band: &GreyFrame, zone: &MrzZone) -> Result<Option<MrzReading>> {
        let mut lines = Vec::with_capacity(zone.lines.len());
        for line in &zone.lines {
            lines.push(self.recogniser.read_line(band, line, zone.length)?);
        }
        let min_confidence = lines.iter().map(LineReading::min_confidence).fold(1.0, f32::min);
        let raw = lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n");
        let Ok((mut mrz, mut corrections)) = mrz::parse_corrected(&raw) else { return Ok(None) };
        if !mrz.checks.all_valid() {
            if let Some((fixed, fixes)) = second_choices(&lines) {
                (mrz, corrections) = (fixed, fixes);
            }
        }
        Ok(Some(MrzReading { raw, mrz, corrections, min_confidence, lines: zone.lines.clone() }))
    }

    /// A page placed from an MRZ read without it: ICAO 9303 puts the MRZ's first character a few millimetres
    /// from the page's left edge and its last line a few millimetres above the bottom edge.
    fn page_from_mrz(&self, frame: &RgbImage, grey: &GreyFrame, loose: LooseMrz, find_ms: f64) -> Result<PageReading> {
        let mut times = StageTimes { mrz_locate: find_ms, ..StageTimes::default() };
        let format = format_of(loose.zone.length);
        let quad = loose.page_quad(format);
        let t = Instant::now();
        let overview_size = {
            let (w, h) = format.size_px();
            (OVERVIEW_WIDTH, (OVERVIEW_WIDTH as f32 * h as f32 / w as f32).round() as u32)
        };
        let overview = normalise::flatten_with(frame, &quad, overview_size, 0..overview_size.1, 2)
            .unwrap_or_else(|| RgbImage::new(1, 1));
        times.normalise = ms(t);
        let t = Instant::now();
        let mut quality = quality::assess(grey, &quad, format, &overview);
        // The page was placed from its MRZ, not found: that it reaches past the frame says nothing about the
        // capture (a flat scan, a crop, a page under an overhead camera), so it is no issue here.
        quality.issues.retain(|i| *i != QualityIssue::DocumentOutOfImage);
        quality.warnings.retain(|w| *w != QualityWarning::DocumentCloseToImageBorder);
        quality.fine = quality.issues.is_empty();
        times.quality = ms(t);
        let side = side_of(&loose.reading);
        // Line geometry on the placed page, as the page path gives it.
        let lines = loose.zone.lines.iter().map(|l| loose.to_page(l, format)).collect();
        let mut reading = loose.reading;
        reading.lines = lines;
        Ok(PageReading {
            quad,
            page_found: false,
            format,
            orientation: None,
            turned: false,
            mrz: Some(reading),
            side,
            quality,
            times,
        })
    }

    /// Reads the page inside `located`.
    fn read_page(&self, frame: &RgbImage, grey: &GreyFrame, located: PageQuad) -> Result<Option<PageReading>> {
        let mut times = StageTimes::default();
        let t = Instant::now();
        let guess = PageFormat::from_aspect(located.aspect());
        let found = Self::find_mrz(grey, &located, guess);
        times.mrz_locate = ms(t);

        let (mut quad, mut format, mut turned, mut orientation, mut reading) = (located, guess, false, None, None);
        if let Some(found) = found {
            let t = Instant::now();
            reading = self.read_zone(&found.band, &found.zone)?.filter(plausible).map(|mut r| {
                // Geometry in page rows, not band rows.
                let shift = found.band_top as f32;
                r.lines = r
                    .lines
                    .iter()
                    .map(|l| LineGeometry { origin: [l.origin[0], l.origin[1] + shift], advance: l.advance })
                    .collect();
                r
            });
            times.ocr = ms(t);
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

        let side = reading.as_ref().map_or(PageSide::Front, side_of);
        let t = Instant::now();
        let quality = quality::assess(grey, &quad, format, &overview);
        times.quality = ms(t);
        Ok(Some(PageReading {
            quad,
            page_found: true,
            format,
            orientation,
            turned,
            mrz: reading,
            side,
            quality,
            times,
        }))
    }
}

/// The least sure characters whose second choice is tried when a check digit fails.
const SECOND_CHOICES: usize = 6;

/// Where the check digits fail after the repairs by position, the recogniser's runner-up at one or two of its
/// least sure characters: kept only when every check then holds and no other such change would do. Real print
/// (ink spread, a hologram over a digit) makes a 9 look like a 7 to the recogniser, which no confusion table
/// knows, but which it says it is unsure of.
fn second_choices(lines: &[LineReading]) -> Option<(Mrz, Vec<Correction>)> {
    let mut unsure: Vec<(usize, usize, f32, char, char)> = lines
        .iter()
        .enumerate()
        .flat_map(|(l, line)| {
            line.chars.iter().enumerate().map(move |(c, r)| (l, c, r.confidence, r.char, r.runner_up))
        })
        .filter(|u| u.3 != u.4)
        .collect();
    unsure.sort_by(|a, b| a.2.total_cmp(&b.2));
    unsure.truncate(SECOND_CHOICES);
    let attempt = |changes: &[&(usize, usize, f32, char, char)]| -> Option<(Mrz, Vec<Correction>)> {
        let mut text: Vec<Vec<char>> = lines.iter().map(|l| l.text.chars().collect()).collect();
        for (l, c, _, _, to) in changes.iter().copied() {
            *text.get_mut(*l)?.get_mut(*c)? = *to;
        }
        let joined = text.iter().map(|l| l.iter().collect::<String>()).collect::<Vec<_>>().join("\n");
        let (mrz, mut corrections) = mrz::parse_corrected(&joined).ok()?;
        if !mrz.checks.all_valid() {
            return None;
        }
        for (l, c, _, read, to) in changes.iter().copied() {
            corrections.push(Correction { line: *l, column: *c, read: *read, corrected: *to });
        }
        Some((mrz, corrections))
    };
    let singles: Vec<_> = unsure.iter().filter_map(|u| attempt(&[u])).collect();
    if singles.len() == 1 {
        return singles.into_iter().next();
    }
    if !singles.is_empty() {
        return None;
    }
    let mut pairs = Vec::new();
    for (i, a) in unsure.iter().enumerate() {
        for b in unsure.iter().skip(i + 1) {
            if let Some(found) = attempt(&[a, b]) {
                pairs.push(found);
            }
        }
    }
    if pairs.len() == 1 {
        pairs.pop()
    } else {
        None
    }
}

/// Candidate regions read at most, both ways up, when looking for the MRZ without the page.
const MAX_LOOSE_REGIONS: usize = 6;

/// An MRZ read without its page: the reading, the region it was read in (corners as the text reads) and the
/// flattened region's size and line geometry.
struct LooseMrz {
    reading: MrzReading,
    quad: PageQuad,
    band_size: (u32, u32),
    zone: MrzZone,
}

impl LooseMrz {
    /// A point of the flattened region in frame pixels. The region is a parallelogram in the frame, so the map
    /// is affine.
    fn to_frame(&self, [x, y]: [f32; 2]) -> [f32; 2] {
        let [tl, tr, _, bl] = self.quad.corners;
        let (u, v) = (x / self.band_size.0.max(1) as f32, y / self.band_size.1.max(1) as f32);
        [tl[0] + u * (tr[0] - tl[0]) + v * (bl[0] - tl[0]), tl[1] + u * (tr[1] - tl[1]) + v * (bl[1] - tl[1])]
    }

    /// Where the page is, from the first and last lines' geometry and ICAO 9303's margins (as Vouch's own
    /// synthetic pages lay them out): the first character's left edge 6 mm (TD3) or 3.5 mm (cards) from the
    /// page's left edge, the last line's centre 6.2 mm or 5.7 mm above its bottom edge.
    fn page_quad(&self, format: PageFormat) -> PageQuad {
        let (first, last) = match (self.zone.lines.first(), self.zone.lines.last()) {
            (Some(f), Some(l)) => (f, l),
            _ => return self.quad,
        };
        let start = self.to_frame(first.origin);
        let step = self.to_frame([first.origin[0] + first.advance[0], first.origin[1] + first.advance[1]]);
        let along = [step[0] - start[0], step[1] - start[1]];
        let pitch = along[0].hypot(along[1]).max(1e-3);
        let px_per_mm = pitch / 2.54;
        let unit = [along[0] / pitch, along[1] / pitch];
        let down = [-unit[1], unit[0]];
        let last_centre = self.to_frame(last.origin);
        let (left_mm, bottom_mm) = if format == PageFormat::Id3 { (6.0, 6.2) } else { (3.5, 5.7) };
        let (w_mm, h_mm) = format.size_mm();
        // The page's bottom-left corner: left of the first character, below the last line.
        let across_last = (last_centre[0] - start[0]) * down[0] + (last_centre[1] - start[1]) * down[1];
        let bottom = across_last + bottom_mm * px_per_mm;
        let left = -left_mm * px_per_mm;
        let at = |a: f32, d: f32| [start[0] + unit[0] * a + down[0] * d, start[1] + unit[1] * a + down[1] * d];
        let (w, h) = (w_mm * px_per_mm, h_mm * px_per_mm);
        PageQuad {
            corners: [at(left, bottom - h), at(left + w, bottom - h), at(left + w, bottom), at(left, bottom)],
            confidence: 0.0,
        }
    }

    /// A line's geometry on the placed page at the canonical resolution.
    fn to_page(&self, line: &LineGeometry, format: PageFormat) -> LineGeometry {
        let quad = self.page_quad(format);
        let (w, h) = format.size_px();
        let [tl, tr, _, bl] = quad.corners;
        let (ex, ey) = ([tr[0] - tl[0], tr[1] - tl[1]], [bl[0] - tl[0], bl[1] - tl[1]]);
        // Solve frame = tl + u·ex + v·ey for (u, v).
        let det = ex[0] * ey[1] - ex[1] * ey[0];
        let page = |p: [f32; 2]| {
            let d = [p[0] - tl[0], p[1] - tl[1]];
            if det.abs() < 1e-6 {
                return [0.0, 0.0];
            }
            let u = (d[0] * ey[1] - d[1] * ey[0]) / det;
            let v = (ex[0] * d[1] - ex[1] * d[0]) / det;
            [u * w as f32, v * h as f32]
        };
        let origin = page(self.to_frame(line.origin));
        let next = page(self.to_frame([line.origin[0] + line.advance[0], line.origin[1] + line.advance[1]]));
        LineGeometry { origin, advance: [next[0] - origin[0], next[1] - origin[1]] }
    }
}

/// The side an MRZ is printed on: an ID card's TD1 MRZ is on its back, every other on the front.
fn side_of(reading: &MrzReading) -> PageSide {
    match reading.mrz.format {
        MrzFormat::Td1 => PageSide::Back,
        _ => PageSide::Front,
    }
}

/// How many of a reading's check digits hold, the composite counting as one.
fn checks_held(reading: &MrzReading) -> usize {
    let c = &reading.mrz.checks;
    [c.document_number, c.date_of_birth, c.date_of_expiry, c.optional_data, c.composite].iter().filter(|v| **v).count()
}

/// The checks a format lacks, which [`vouch_core::mrz::MrzChecks`] counts as holding.
fn checks_absent(format: MrzFormat) -> usize {
    match format {
        MrzFormat::Td3 => 0,
        MrzFormat::Td1 | MrzFormat::Td2 => 1,
        MrzFormat::MrvA | MrzFormat::MrvB | MrzFormat::FrenchId => 2,
    }
}

/// Whether `a` reads better than `b`: more check digits hold, then more characters (the first 35 of a TD3's
/// second line are laid out as a TD2's, so a TD3 cut short can pass a TD2's checks by chance), then the least
/// sure character is surer.
fn better(a: &MrzReading, b: Option<&MrzReading>) -> bool {
    let Some(b) = b else { return true };
    (checks_held(a), a.raw.len(), a.min_confidence) > (checks_held(b), b.raw.len(), b.min_confidence)
}

/// Whether text read off a page is an MRZ at all, not print that happens to be two long lines: every check
/// holds; or the document code is one ICAO defines and at least two of its check digits, and half of them,
/// hold (random characters pass a check digit one time in ten); or its structure says so where its checks
/// fail ([`structured`]), so that a misprinted MRZ or one with an unreadable character is reported with its
/// failing checks instead of as no MRZ.
fn plausible(reading: &MrzReading) -> bool {
    let absent = checks_absent(reading.mrz.format);
    let (held, total) = (checks_held(reading).saturating_sub(absent), 5 - absent);
    reading.valid() || (code_ok(&reading.mrz) && held >= 2 && 2 * held >= total) || structured(&reading.mrz)
}

fn code_ok(mrz: &Mrz) -> bool {
    matches!(mrz.document_code.chars().next(), Some('P' | 'V' | 'I' | 'A' | 'C'))
}

/// An MRZ by its fields: a document code ICAO defines, an issuing state ICAO lists, a birth date that is a date
/// (`<` where a part is unknown) and a sex ICAO allows; random print passes all four about once in a hundred
/// thousand times. The nationality is not asked for: a field missing before it (as on a misprinted specimen)
/// shifts it.
fn structured(mrz: &Mrz) -> bool {
    code_ok(mrz)
        && mrz::states::is_known(&mrz.issuing_state)
        && mrz::is_date(&mrz.date_of_birth, true)
        && matches!(mrz.sex.as_str(), "M" | "F" | "X" | "" | "<")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Mrz {
        mrz::parse(text).unwrap()
    }

    #[test]
    fn an_mrz_whose_checks_fail_is_still_one_by_its_fields() {
        // ICAO's TD1 specimen with its document number's check digit wrong.
        let m =
            parsed("I<UTOD231458906<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<");
        assert!(!m.checks.all_valid());
        assert!(structured(&m));
    }

    #[test]
    fn print_that_only_looks_like_an_mrz_is_not_one() {
        let lines = [
            // An unknown state.
            "I<QQQD231458906<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<",
            // A month 13.
            "I<UTOD231458906<<<<<<<<<<<<<<<\n7413122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<",
            // No document code ICAO defines.
            "5<UTOD231458906<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<",
            // A sex ICAO does not allow.
            "I<UTOD231458906<<<<<<<<<<<<<<<\n7408122Q1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<",
        ];
        for text in lines {
            assert!(!structured(&parsed(text)), "{text}");
        }
    }
}
