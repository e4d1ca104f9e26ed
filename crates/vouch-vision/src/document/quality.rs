//! Page quality as DIS reports it (`DocumentPageQuality`): brightness, sharpness and hotspots each as a score
//! in 0..1 with a level, the issues that make a capture unusable and the warnings that do not. Brightness and
//! hotspots are measured on the normalised page; sharpness on the frame inside the page, because defocus is
//! the camera's and resampling to the canonical size would add its own blur. Thresholds are calibrated on
//! the synthetic generator's purpose-made pages (`vouch doc synth`), see the tests.

use image::RgbImage;
use serde::Serialize;

use super::locate::PageQuad;
use super::normalise::{frame_px_per_mm, PageFormat};
use crate::mrz::{luma, GreyFrame};

/// Mean page luma below this is too dark to read reliably; above it, washed out. A well-exposed page with its
/// portrait and print averages about 0.8; the paper burns to white from about 0.9.
const BRIGHTNESS_LOW: f32 = 0.30;
const BRIGHTNESS_HIGH: f32 = 0.9;
/// The blur metric's sharpness (1 − blur) below this is out of focus.
const SHARPNESS_LOW: f32 = 0.45;
const SHARPNESS_MEDIUM: f32 = 0.6;
/// Share of the page burnt to white by a reflection above which text under it is lost.
const HOTSPOTS_HIGH: f32 = 0.01;
const HOTSPOTS_MEDIUM: f32 = 0.002;
/// Below this many frame pixels per millimetre the MRZ's strokes merge.
const MIN_PX_PER_MM: f32 = 4.0;
/// A corner this close to the frame's edge (a share of its short side) is about to leave it.
const BORDER_MARGIN: f32 = 0.02;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Detail {
    pub score: f32,
    pub level: Level,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QualityIssue {
    BrightnessHigh,
    BrightnessLow,
    HotspotsScoreHigh,
    SharpnessLow,
    DocumentSmall,
    DocumentOutOfImage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QualityWarning {
    DocumentCloseToImageBorder,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageQuality {
    pub fine: bool,
    pub issues: Vec<QualityIssue>,
    pub warnings: Vec<QualityWarning>,
    pub brightness: Detail,
    pub sharpness: Detail,
    pub hotspots: Detail,
    /// The frame's resolution on the page.
    pub px_per_mm: f32,
}

/// Mean luma of the page.
fn brightness(page: &RgbImage) -> f32 {
    let n = (page.width() * page.height()).max(1) as f32;
    page.pixels().map(|p| luma(p.0)).sum::<f32>() / n
}

/// The share of the page burnt to white by a reflection. A glint is a bump: brighter than the page all round
/// it. The bright side of uneven light is brighter than one side only, and an overexposed page is white
/// everywhere (brightness reports that). So per 16-pixel block (its 80th-percentile luma), a block is a
/// hotspot when it stands clearly above the blocks six blocks away in most directions, and the hotspot share
/// is the saturated pixels in such blocks.
fn hotspot_share(page: &RgbImage) -> f32 {
    const BLOCK: u32 = 16;
    const RING: i64 = 6;
    let (bw, bh) = (page.width().div_ceil(BLOCK), page.height().div_ceil(BLOCK));
    let mut levels = vec![0f32; (bw * bh) as usize];
    for by in 0..bh {
        for bx in 0..bw {
            let mut values: Vec<f32> = (by * BLOCK..((by + 1) * BLOCK).min(page.height()))
                .flat_map(|y| (bx * BLOCK..((bx + 1) * BLOCK).min(page.width())).map(move |x| (x, y)))
                .map(|(x, y)| luma(page.get_pixel(x, y).0))
                .collect();
            values.sort_by(f32::total_cmp);
            if let Some(cell) = levels.get_mut((by * bw + bx) as usize) {
                *cell = values.get(values.len() * 8 / 10).copied().unwrap_or(1.0);
            }
        }
    }
    let (bw, bh) = (i64::from(bw), i64::from(bh));
    let level = |x: i64, y: i64| {
        if x < 0 || y < 0 || x >= bw || y >= bh {
            return None;
        }
        levels.get((y * bw + x) as usize).copied()
    };
    let directions = [(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)];
    let hot: Vec<bool> = (0..bh)
        .flat_map(|y| (0..bw).map(move |x| (x, y)))
        .map(|(x, y)| {
            let Some(here) = level(x, y).filter(|l| *l >= 0.95) else { return false };
            let ring: Vec<f32> = directions.iter().filter_map(|(dx, dy)| level(x + dx * RING, y + dy * RING)).collect();
            let below = ring.iter().filter(|l| **l < here - 0.05).count();
            ring.len() >= 4 && below * 4 >= ring.len() * 3
        })
        .collect();
    let n = (page.width() * page.height()).max(1) as f32;
    page.enumerate_pixels()
        .filter(|(x, y, p)| {
            let block = i64::from(y / BLOCK) * bw + i64::from(x / BLOCK);
            p.0.iter().all(|&c| c >= 250) && hot.get(block as usize).copied().unwrap_or(false)
        })
        .count() as f32
        / n
}

fn inside(quad: &PageQuad, x: f32, y: f32) -> bool {
    let c = quad.corners;
    (0..4).all(|i| {
        let a = c.get(i).copied().unwrap_or_default();
        let b = c.get((i + 1) % 4).copied().unwrap_or_default();
        (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]) >= 0.0
    })
}

/// Crété-Roffet's no-reference blur (2007): how much of the image's pixel-to-pixel variation survives a
/// 9-tap box blur. A sharp page loses most of it (blur near 0.3), a defocused one little (near 0.7 and up).
/// Returned as sharpness, 1 − blur, over the frame inside the page shrunk by a tenth.
pub fn sharpness(frame: &GreyFrame, quad: &PageQuad) -> f32 {
    let (fw, fh) = (frame.width() as u32, frame.height() as u32);
    let cx = quad.corners.iter().map(|c| c[0]).sum::<f32>() / 4.0;
    let cy = quad.corners.iter().map(|c| c[1]).sum::<f32>() / 4.0;
    let shrunk = PageQuad {
        corners: quad.corners.map(|[x, y]| [cx + (x - cx) * 0.9, cy + (y - cy) * 0.9]),
        confidence: quad.confidence,
    };
    let x0 = shrunk.corners.iter().map(|c| c[0]).fold(f32::MAX, f32::min).max(0.0) as u32;
    let x1 = (shrunk.corners.iter().map(|c| c[0]).fold(f32::MIN, f32::max).max(0.0) as u32).min(fw);
    let y0 = shrunk.corners.iter().map(|c| c[1]).fold(f32::MAX, f32::min).max(0.0) as u32;
    let y1 = (shrunk.corners.iter().map(|c| c[1]).fold(f32::MIN, f32::max).max(0.0) as u32).min(fh);
    if x1 < x0 + 16 || y1 < y0 + 16 {
        return 0.0;
    }
    let (w, h) = ((x1 - x0) as usize, (y1 - y0) as usize);
    let at = |x: usize, y: usize| frame.pixel(x0 as usize + x, y0 as usize + y);
    let inside_at = |x: usize, y: usize| inside(&shrunk, (x0 as usize + x) as f32, (y0 as usize + y) as f32);
    // Every third row (for the horizontal measure) and column (vertical): the statistic is a mean over
    // hundreds of thousands of pixel pairs, and a third of them estimate it as well at a third of the cost.
    let (mut horizontal, mut vertical) = ((0f32, 0f32), (0f32, 0f32));
    let accumulate = |line: &[f32], keep: &dyn Fn(usize) -> bool, sums: &mut (f32, f32)| {
        let mut prefix = Vec::with_capacity(line.len() + 1);
        prefix.push(0f32);
        for v in line {
            prefix.push(prefix.last().copied().unwrap_or(0.0) + v);
        }
        let blurred = |i: usize| {
            (prefix.get(i + 5).copied().unwrap_or(0.0) - prefix.get(i.saturating_sub(4)).copied().unwrap_or(0.0)) / 9.0
        };
        for i in 5..line.len().saturating_sub(5) {
            if !keep(i) {
                continue;
            }
            let d_f = (line.get(i).copied().unwrap_or(0.0) - line.get(i - 1).copied().unwrap_or(0.0)).abs();
            let d_b = (blurred(i) - blurred(i - 1)).abs();
            sums.0 += d_f;
            sums.1 += (d_f - d_b).max(0.0);
        }
    };
    for y in (0..h).step_by(3) {
        let line: Vec<f32> = (0..w).map(|x| at(x, y)).collect();
        accumulate(&line, &|x| inside_at(x, y), &mut horizontal);
    }
    for x in (0..w).step_by(3) {
        let line: Vec<f32> = (0..h).map(|y| at(x, y)).collect();
        accumulate(&line, &|y| inside_at(x, y), &mut vertical);
    }
    let blur = |(s_f, s_v): (f32, f32)| if s_f > 0.0 { (s_f - s_v) / s_f } else { 1.0 };
    1.0 - blur(horizontal).max(blur(vertical))
}

/// The quality of a page located at `quad` in `frame` and normalised to `page`.
/// `frame` is the whole frame in grey (the page reader has it already for the MRZ band).
pub fn assess(frame: &GreyFrame, quad: &PageQuad, format: PageFormat, page: &RgbImage) -> PageQuality {
    let mut issues = Vec::new();
    let mut warnings = Vec::new();

    let b = brightness(page);
    let brightness = Detail {
        score: b,
        level: if b < BRIGHTNESS_LOW {
            Level::Low
        } else if b > BRIGHTNESS_HIGH {
            Level::High
        } else {
            Level::Medium
        },
    };
    match brightness.level {
        Level::Low => issues.push(QualityIssue::BrightnessLow),
        Level::High => issues.push(QualityIssue::BrightnessHigh),
        Level::Medium => {}
    }

    let s = sharpness(frame, quad);
    let sharpness = Detail {
        score: s,
        level: if s < SHARPNESS_LOW {
            Level::Low
        } else if s < SHARPNESS_MEDIUM {
            Level::Medium
        } else {
            Level::High
        },
    };
    if sharpness.level == Level::Low {
        issues.push(QualityIssue::SharpnessLow);
    }

    let share = hotspot_share(page);
    let hotspots = Detail {
        // 0 for none, 1 at five times the share that fails.
        score: (share / (5.0 * HOTSPOTS_HIGH)).min(1.0),
        level: if share > HOTSPOTS_HIGH {
            Level::High
        } else if share > HOTSPOTS_MEDIUM {
            Level::Medium
        } else {
            Level::Low
        },
    };
    if hotspots.level == Level::High {
        issues.push(QualityIssue::HotspotsScoreHigh);
    }

    let px_per_mm = frame_px_per_mm(quad, format);
    if px_per_mm < MIN_PX_PER_MM {
        issues.push(QualityIssue::DocumentSmall);
    }
    let (fw, fh) = (frame.width() as f32, frame.height() as f32);
    if quad.out_of_image(frame.width() as u32, frame.height() as u32) {
        issues.push(QualityIssue::DocumentOutOfImage);
    } else {
        let margin = BORDER_MARGIN * fw.min(fh);
        if quad.corners.iter().any(|&[x, y]| x < margin || y < margin || x > fw - 1.0 - margin || y > fh - 1.0 - margin)
        {
            warnings.push(QualityWarning::DocumentCloseToImageBorder);
        }
    }
    PageQuality { fine: issues.is_empty(), issues, warnings, brightness, sharpness, hotspots, px_per_mm }
}
