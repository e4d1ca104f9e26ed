//! A DET curve (false rejects against false accepts, both on log scales) drawn into a PNG.

use std::path::Path;

use anyhow::Context;
use vouch_capture::synthetic_document::Font;
use vouch_vision::image::{Rgb, RgbImage};

pub struct Curve {
    pub label: String,
    /// (FAR, FRR) pairs, each in 0..=1.
    pub points: Vec<(f64, f64)>,
    /// (FAR, FRR) at the threshold in use, drawn as a dot.
    pub marker: Option<(f64, f64)>,
}

const WIDTH: u32 = 900;
const HEIGHT: u32 = 700;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 80.0;
/// Decades shown: FAR 1e-5..1, FRR 1e-4..1. Points below them (a rate of 0 among them) are left out.
const FAR_DECADES: (i32, i32) = (-5, 0);
const FRR_DECADES: (i32, i32) = (-4, 0);
const COLOURS: [[u8; 3]; 4] = [[31, 119, 180], [214, 39, 40], [44, 160, 44], [148, 103, 189]];
const INK: [u8; 3] = [40, 40, 40];
const GRID: Rgb<u8> = Rgb([220, 220, 220]);

fn to_x(far: f64) -> f64 {
    let (lo, hi) = FAR_DECADES;
    let v = far.max(10f64.powi(lo)).log10();
    LEFT + (v - f64::from(lo)) / f64::from(hi - lo) * (f64::from(WIDTH) - LEFT - RIGHT)
}

fn to_y(frr: f64) -> f64 {
    let (lo, hi) = FRR_DECADES;
    let v = frr.max(10f64.powi(lo)).log10();
    f64::from(HEIGHT) - BOTTOM - (v - f64::from(lo)) / f64::from(hi - lo) * (f64::from(HEIGHT) - TOP - BOTTOM)
}

fn dot(img: &mut RgbImage, x: f64, y: f64, colour: Rgb<u8>, radius: i64) {
    for dy in -radius..=radius {
        for dx in -radius..=radius {
            let (px, py) = (x.round() as i64 + dx, y.round() as i64 + dy);
            if let (Ok(px), Ok(py)) = (u32::try_from(px), u32::try_from(py)) {
                if let Some(p) = img.get_pixel_mut_checked(px, py) {
                    *p = colour;
                }
            }
        }
    }
}

fn line(img: &mut RgbImage, (x0, y0): (f64, f64), (x1, y1): (f64, f64), colour: Rgb<u8>, radius: i64) {
    let steps = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as usize).max(1);
    for i in 0..=steps {
        let t = i as f64 / steps as f64;
        dot(img, x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, colour, radius);
    }
}

fn axes(img: &mut RgbImage, font: &Font) {
    let (x_lo, x_hi) = FAR_DECADES;
    let (y_lo, y_hi) = FRR_DECADES;
    let (left, right) = (to_x(0.0), to_x(1.0));
    let (bottom, top) = (to_y(0.0), to_y(1.0));
    for d in x_lo..=x_hi {
        let x = to_x(10f64.powi(d));
        line(img, (x, top), (x, bottom), GRID, 0);
        font.draw(img, &format!("1e{d}"), x as f32 - 14.0, bottom as f32 + 22.0, 11.0, None, INK);
    }
    for d in y_lo..=y_hi {
        let y = to_y(10f64.powi(d));
        line(img, (left, y), (right, y), GRID, 0);
        font.draw(img, &format!("1e{d}"), 30.0, y as f32 + 5.0, 11.0, None, INK);
    }
    line(img, (left, bottom), (right, bottom), Rgb(INK), 0);
    line(img, (left, top), (left, bottom), Rgb(INK), 0);
    font.draw(img, "FALSE ACCEPT RATE (IMPOSTOR PAIRS)", 300.0, bottom as f32 + 55.0, 12.0, None, INK);
    font.draw(img, "FALSE REJECT RATE (GENUINE PAIRS)", 30.0, top as f32 - 15.0, 12.0, None, INK);
}

/// The curves, with a legend that names each and says what its dot marks.
pub fn render(curves: &[Curve], marker_label: &str, font: &Font) -> RgbImage {
    let mut img = RgbImage::from_pixel(WIDTH, HEIGHT, Rgb([255, 255, 255]));
    axes(&mut img, font);
    for (i, curve) in curves.iter().enumerate() {
        let colour = COLOURS.get(i % COLOURS.len()).copied().unwrap_or(INK);
        let mut last: Option<(f64, f64)> = None;
        for &(far, frr) in &curve.points {
            if far < 10f64.powi(FAR_DECADES.0) || frr < 10f64.powi(FRR_DECADES.0) {
                last = None;
                continue;
            }
            let p = (to_x(far), to_y(frr));
            if let Some(prev) = last {
                line(&mut img, prev, p, Rgb(colour), 1);
            }
            last = Some(p);
        }
        if let Some((far, frr)) = curve.marker {
            dot(&mut img, to_x(far), to_y(frr), Rgb(colour), 5);
        }
        let y = TOP as f32 + 20.0 + 22.0 * i as f32;
        line(
            &mut img,
            (WIDTH as f64 - 330.0, f64::from(y) - 5.0),
            (WIDTH as f64 - 300.0, f64::from(y) - 5.0),
            Rgb(colour),
            1,
        );
        font.draw(&mut img, &curve.label, WIDTH as f32 - 290.0, y, 11.0, None, INK);
    }
    let y = TOP + 20.0 + 22.0 * curves.len() as f64;
    dot(&mut img, WIDTH as f64 - 315.0, y - 5.0, Rgb(INK), 5);
    font.draw(&mut img, marker_label, WIDTH as f32 - 290.0, y as f32, 11.0, None, INK);
    img
}

pub fn write_png(path: &Path, curves: &[Curve], marker_label: &str, font: &Font) -> anyhow::Result<()> {
    let png = vouch_vision::image_io::encode_png(&render(curves, marker_label, font))?;
    std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
}
