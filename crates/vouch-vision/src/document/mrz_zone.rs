//! Finding the MRZ lines on a normalised page, classically: ink against the local paper level, rows of ink
//! that run across most of the page's width, the bottom two or three of them, each line's
//! centre fitted through its ink, then the character pitch and phase found by a comb whose teeth sit in the
//! gaps between characters. The result is the geometry the recogniser samples its cells along.

use super::normalise::PX_PER_MM;
use crate::mrz::{GreyFrame, LineGeometry};

/// Glyph ink width as a share of the pitch, for OCR-B capitals at MRZ size: where the first cell starts
/// relative to the first ink.
const GLYPH_SHARE: f32 = 0.6;
/// An MRZ line spans at least this share of the page's width (TD1 89%, TD2 87%, TD3 89% when printed).
const MIN_SPAN: f32 = 0.7;

/// The located MRZ: one geometry per line, top line first, and the characters each line holds.
#[derive(Debug, Clone, PartialEq)]
pub struct MrzZone {
    pub lines: Vec<LineGeometry>,
    pub length: usize,
}

/// Ink per pixel: darker than four fifths of the mean around it over a box (on a page at 8 px/mm, 61 pixels:
/// 7.5 mm, so a line of dense print and the paper around it both count), whatever the exposure.
pub(crate) struct InkMap {
    pub(crate) width: usize,
    pub(crate) height: usize,
    ink: Vec<bool>,
}

impl InkMap {
    fn of(page: &GreyFrame) -> InkMap {
        let mut ink = Self::with_radius(page, 30);
        // At 8 px/mm a character is 18 px high and 20 apart: a longer straight run of ink is a ruled line or a
        // card's edge, and would join the lines or move their ends.
        ink.drop_runs(48, 40);
        ink
    }

    /// Clears horizontal runs of ink longer than `across` and vertical runs longer than `down`.
    pub(crate) fn drop_runs(&mut self, across: usize, down: usize) {
        let (w, h) = (self.width, self.height);
        let mut clear = vec![false; w * h];
        for y in 0..h {
            let mut x = 0;
            while x < w {
                let start = x;
                while x < w && self.at(x, y) {
                    x += 1;
                }
                if x - start > across {
                    clear.iter_mut().skip(y * w + start).take(x - start).for_each(|c| *c = true);
                }
                x += 1;
            }
        }
        for x in 0..w {
            let mut y = 0;
            while y < h {
                let start = y;
                while y < h && self.at(x, y) {
                    y += 1;
                }
                if y - start > down {
                    for yy in start..y {
                        if let Some(c) = clear.get_mut(yy * w + x) {
                            *c = true;
                        }
                    }
                }
                y += 1;
            }
        }
        for (cell, gone) in self.ink.iter_mut().zip(clear) {
            *cell &= !gone;
        }
    }

    /// Ink against the mean of the `(2r+1)²` box around each pixel.
    pub(crate) fn with_radius(page: &GreyFrame, r: usize) -> InkMap {
        let (w, h) = (page.width(), page.height());
        let rows = h;
        // Integral image of the region for box means.
        let mut integral = vec![0f64; (w + 1) * (rows + 1)];
        for y in 0..rows {
            let mut row_sum = 0f64;
            for x in 0..w {
                row_sum += f64::from(page.pixel(x, y));
                let above = integral.get(y * (w + 1) + x + 1).copied().unwrap_or(0.0);
                if let Some(cell) = integral.get_mut((y + 1) * (w + 1) + x + 1) {
                    *cell = above + row_sum;
                }
            }
        }
        let sum = |x0: usize, y0: usize, x1: usize, y1: usize| {
            let at = |x: usize, y: usize| integral.get(y * (w + 1) + x).copied().unwrap_or(0.0);
            at(x1, y1) - at(x0, y1) - at(x1, y0) + at(x0, y0)
        };
        let mut ink = vec![false; w * rows];
        for y in 0..rows {
            let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(rows));
            for x in 0..w {
                let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
                let mean = sum(x0, y0, x1, y1) / ((x1 - x0) * (y1 - y0)) as f64;
                let g = f64::from(page.pixel(x, y));
                if let Some(cell) = ink.get_mut(y * w + x) {
                    *cell = g < 0.8 * mean && mean - g > 0.03;
                }
            }
        }
        InkMap { width: w, height: h, ink }
    }

    pub(crate) fn at(&self, x: usize, y: usize) -> bool {
        x < self.width && self.ink.get(y * self.width + x).copied().unwrap_or(false)
    }
}

/// A band of rows holding one line of text, with the columns its ink spans.
#[derive(Debug, Clone, Copy)]
struct Band {
    top: usize,
    bottom: usize,
    left: usize,
    right: usize,
}

fn bands(ink: &InkMap) -> Vec<Band> {
    let (w, h) = (ink.width, ink.height);
    let (x_from, x_to) = (w / 50, w - w / 50);
    let counts: Vec<usize> = (0..h).map(|y| (x_from..x_to).filter(|&x| ink.at(x, y)).count()).collect();
    let threshold = (0.05 * w as f32) as usize;
    let mut out = Vec::new();
    let mut y = 0;
    while y < h {
        if counts.get(y).copied().unwrap_or(0) < threshold {
            y += 1;
            continue;
        }
        let top = y;
        while y < h && counts.get(y).copied().unwrap_or(0) >= threshold {
            y += 1;
        }
        let bottom = y;
        if bottom - top < 4 {
            continue;
        }
        // Columns with ink in the band; the widest run with gaps shorter than about 1.5 characters.
        let inked: Vec<bool> = (0..w).map(|x| (top..bottom).any(|yy| ink.at(x, yy))).collect();
        let max_gap = w / 30;
        let (mut best, mut start, mut last): (Option<(usize, usize)>, Option<usize>, usize) = (None, None, 0);
        for (x, &has) in inked.iter().enumerate() {
            if !has {
                continue;
            }
            match start {
                Some(s) if x - last <= max_gap => {
                    last = x;
                    if best.is_none_or(|(l, r)| r - l < x - s) {
                        best = Some((s, x));
                    }
                }
                _ => {
                    start = Some(x);
                    last = x;
                    if best.is_none() {
                        best = Some((x, x));
                    }
                }
            }
        }
        if let Some((left, right)) = best {
            if (right - left) as f32 >= MIN_SPAN * w as f32 {
                out.push(Band { top, bottom, left, right });
            }
        }
    }
    out
}

/// The line's centre as `y = a + b·x`, through the ink centroids of eight stretches of the band.
fn centre_line(ink: &InkMap, band: &Band) -> Option<(f32, f32)> {
    let pad = (band.bottom - band.top) / 2 + 2;
    let (y0, y1) = (band.top.saturating_sub(pad), (band.bottom + pad).min(ink.height));
    let width = band.right - band.left + 1;
    let mut points = Vec::new();
    for s in 0..8 {
        let (x0, x1) = (band.left + s * width / 8, band.left + (s + 1) * width / 8);
        let (mut n, mut sy) = (0usize, 0usize);
        for y in y0..y1 {
            for x in x0..x1 {
                if ink.at(x, y) {
                    n += 1;
                    sy += y;
                }
            }
        }
        if n > 0 {
            // Edge coordinates (pixel i spans i..i+1), as the recogniser's geometry uses.
            points.push((((x0 + x1) as f32) / 2.0, sy as f32 / n as f32 + 0.5));
        }
    }
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f32;
    let (mx, my) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (mx / n, my / n);
    let (sxx, sxy) =
        points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + (x - mx) * (x - mx), b + (x - mx) * (y - my)));
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    Some((my - slope * mx, slope))
}

/// The pitch and first-cell edge that put the comb's teeth (cell edges) in the gaps and its spaces (cell
/// centres) on ink, searched around the estimate from the ink's span.
fn comb(profile: &[f32], first: f32, last: f32, length: usize, pitch_hint: Option<f32>) -> (f32, f32, f32) {
    // `profile[i]` is column i's centre, i + 0.5 in edge coordinates.
    let at = |x: f32| {
        let x = x - 0.5;
        let i = x.floor();
        let f = x - i;
        let get = |i: f32| if i < 0.0 { 0.0 } else { profile.get(i as usize).copied().unwrap_or(0.0) };
        get(i) * (1.0 - f) + get(i + 1.0) * f
    };
    let n = length as f32;
    let pitch0 = (last - first) / (n - 1.0 + GLYPH_SHARE);
    let origin0 = first - (1.0 - GLYPH_SHARE) / 2.0 * pitch0;
    let score = |pitch: f32, origin: f32| {
        let mut score = -at(origin + n * pitch);
        for k in 0..length {
            let edge = origin + k as f32 * pitch;
            score += at(edge + 0.5 * pitch) - at(edge);
        }
        score
    };
    // Coarse to fine: pitch within ±4 % in 0.4 % steps and phase within ±0.3 pitch, then around the best;
    // from the ink's span, or from the caller's estimate (the span is short when a line's last fillers are
    // too faint to count as ink).
    let mut winner = (f32::MIN, pitch0, origin0);
    for start_pitch in [pitch_hint.unwrap_or(pitch0)] {
        let start_origin = first - (1.0 - GLYPH_SHARE) / 2.0 * start_pitch;
        let mut best = (f32::MIN, start_pitch, start_origin);
        for (pitch_step, pitch_steps, origin_step, origin_steps) in [(0.004, 10, 0.05, 6), (0.0005, 8, 0.01, 5)] {
            let (centre_pitch, centre_origin) = (best.1, best.2);
            for pi in -pitch_steps..=pitch_steps {
                let pitch = centre_pitch * (1.0 + pi as f32 * pitch_step);
                for oi in -origin_steps..=origin_steps {
                    let origin = centre_origin + oi as f32 * origin_step * start_pitch;
                    let s = score(pitch, origin);
                    if s > best.0 {
                        best = (s, pitch, origin);
                    }
                }
            }
        }
        if best.0 > winner.0 {
            winner = best;
        }
    }
    (winner.0 / n, winner.1, winner.2)
}

/// Ink per column along the line's centre, within half a cap height of it.
fn column_profile(ink: &InkMap, a: f32, b: f32, half_height: f32) -> Vec<f32> {
    (0..ink.width)
        .map(|x| {
            let centre = a + b * (x as f32 + 0.5) - 0.5;
            let (y0, y1) =
                ((centre - half_height).round().max(0.0) as usize, (centre + half_height).round().max(0.0) as usize);
            (y0..=y1).filter(|&y| ink.at(x, y)).count() as f32
        })
        .collect()
}

/// The MRZ on a normalised, upright page or on a band cut from its bottom: the bottom-most lines of text that
/// span most of its width, with the line length (30, 36 or 44) whose character comb fits best.
pub fn locate_mrz(page: &GreyFrame) -> Option<MrzZone> {
    locate_mrz_as(page, None, None)
}

/// As [`locate_mrz`], with the characters a line holds given (`Some(36)`) rather than chosen by the comb, and
/// the pitch searched around `pitch_hint` (page pixels) rather than around what the ink's span implies.
pub fn locate_mrz_as(page: &GreyFrame, length: Option<usize>, pitch_hint: Option<f32>) -> Option<MrzZone> {
    let ink = InkMap::of(page);
    let found = bands(&ink);
    // Lines of an MRZ start within a character of each other and sit 4 to 8 mm apart (more than a line of
    // text, less than two).
    let aligned = |a: &Band, b: &Band| {
        let spacing = b.top.saturating_sub(a.top) as f32 / PX_PER_MM;
        a.left.abs_diff(b.left) < page.width() / 25 && b.top > a.bottom && (3.0..=10.0).contains(&spacing)
    };
    let count = found.len();
    let take = match found.as_slice() {
        [.., a, b, c] if aligned(a, b) && aligned(b, c) => 3,
        [.., a, b] if aligned(a, b) => 2,
        _ => return None,
    };
    let lines: Vec<Band> = found.into_iter().skip(count - take).collect();
    let half_height = lines.iter().map(|b| (b.bottom - b.top) as f32).sum::<f32>() / (2.0 * take as f32) + 2.0;
    let lengths: Vec<usize> = match (take, length) {
        (3, _) => vec![30],
        (_, Some(n)) if n != 30 => vec![n],
        _ => vec![44, 36],
    };
    // Every line of an MRZ holds as many characters at one pitch from one left margin, but a line's last
    // fillers can be too faint to count as ink: each line's span is the longest line's.
    // Likewise they start together: print or a pattern just left of one line is not part of it.
    let left = lines.iter().map(|b| b.left).max().unwrap_or(0);
    let span = lines.iter().map(|b| b.right.saturating_sub(left)).max().unwrap_or(0);
    let mut best: Option<(f32, MrzZone)> = None;
    for &length in &lengths {
        let mut geometry = Vec::with_capacity(take);
        let mut total = 0.0;
        for band in &lines {
            let (a, b) = centre_line(&ink, band)?;
            let profile = column_profile(&ink, a, b, half_height);
            let (score, pitch, origin) = comb(&profile, left as f32, (left + span) as f32 + 1.0, length, pitch_hint);
            total += score;
            geometry.push(LineGeometry { origin: [origin, a + b * origin], advance: [pitch, pitch * b] });
        }
        if best.as_ref().is_none_or(|(s, _)| total > *s) {
            best = Some((total, MrzZone { lines: geometry, length }));
        }
    }
    best.map(|(_, zone)| zone)
}
