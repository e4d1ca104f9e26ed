//! The MRZ recogniser on a held-out set: frames drawn by the Rust generator (ab_glyph, not the Pillow
//! renderer the model trained on) in varied camera conditions, with fixed seeds. Each frame is rectified
//! with its true corners, so this measures the recogniser alone; finding the page and the lines is tested
//! with the page pipeline.

use rand::rngs::StdRng;
use rand::SeedableRng;
use vouch_capture::synthetic_document::{self, DocumentKind, Font, Homography, SceneOptions, Synthetic};
use vouch_vision::image::{Rgb, RgbImage};
use vouch_vision::mrz::{GreyFrame, LineGeometry, MrzRecogniser};
use vouch_vision::registry::ModelRegistry;

fn recogniser() -> MrzRecogniser {
    MrzRecogniser::load(&ModelRegistry::open(&vouch_testkit::repo_root().join("models")).unwrap(), 2).unwrap()
}

/// The frame seen through the page's true corners, back at the page's own 8 px/mm.
fn rectified(shot: &Synthetic) -> RgbImage {
    let (w, h) = (shot.page.width(), shot.page.height());
    let rect =
        [[0.0, 0.0], [f64::from(w) - 1.0, 0.0], [f64::from(w) - 1.0, f64::from(h) - 1.0], [0.0, f64::from(h) - 1.0]];
    let corners: Vec<[f64; 2]> = shot.corners.iter().map(|c| [f64::from(c[0]), f64::from(c[1])]).collect();
    let to_frame = Homography::from_points(rect, [corners[0], corners[1], corners[2], corners[3]]).unwrap();
    let frame = &shot.image;
    let at = |x: u32, y: u32| frame.get_pixel(x.min(frame.width() - 1), y.min(frame.height() - 1)).0.map(f64::from);
    RgbImage::from_fn(w, h, |x, y| {
        let [fx, fy] = to_frame.apply([f64::from(x), f64::from(y)]);
        let (fx, fy) = (fx.clamp(0.0, f64::from(frame.width() - 1)), fy.clamp(0.0, f64::from(frame.height() - 1)));
        let (x0, y0) = (fx.floor() as u32, fy.floor() as u32);
        let (tx, ty) = (fx - fx.floor(), fy - fy.floor());
        let (a, b, c, d) = (at(x0, y0), at(x0 + 1, y0), at(x0, y0 + 1), at(x0 + 1, y0 + 1));
        Rgb(std::array::from_fn(|i| {
            let top = a[i] + (b[i] - a[i]) * tx;
            let bottom = c[i] + (d[i] - c[i]) * tx;
            (top + (bottom - top) * ty).round() as u8
        }))
    })
}

#[test]
fn the_recogniser_reads_held_out_pages_at_the_accuracy_the_issue_asks() {
    let font = Font::from_bytes(std::fs::read(vouch_testkit::repo_root().join("models/OCRB.otf")).unwrap()).unwrap();
    let recogniser = recogniser();
    let (mut chars, mut chars_right, mut lines, mut lines_right) = (0usize, 0usize, 0usize, 0usize);
    let mut misreads = Vec::new();
    for seed in 0..60u64 {
        let kind = if seed % 2 == 0 { DocumentKind::PassportDataPage } else { DocumentKind::IdCardBack };
        // Seeds far from anything else in the repository: this set is held out by construction.
        let mut rng = StdRng::seed_from_u64(0x00d0_c5e7 + seed);
        let options = SceneOptions::varied(&mut rng);
        let shot = synthetic_document::render(&font, kind, None, &options, &mut rng).unwrap();
        let page = GreyFrame::from_rgb(&rectified(&shot));
        let truth: Vec<&str> = shot.mrz.as_deref().unwrap().lines().collect();
        for (line, [x, y, pitch]) in truth.iter().zip(&shot.mrz_lines) {
            let geometry = LineGeometry { origin: [*x, *y], advance: [*pitch, 0.0] };
            let read = recogniser.read_line(&page, &geometry, line.len()).unwrap();
            let right = read.text.chars().zip(line.chars()).filter(|(a, b)| a == b).count();
            chars += line.len();
            chars_right += right;
            lines += 1;
            if right == line.len() {
                lines_right += 1;
            } else {
                misreads.push(format!("seed {seed}: {line} read {}", read.text));
            }
        }
    }
    let char_accuracy = chars_right as f64 / chars as f64;
    let line_accuracy = lines_right as f64 / lines as f64;
    println!("held-out: {chars} characters {char_accuracy:.5}, {lines} lines {line_accuracy:.4}; {misreads:#?}");
    assert!(char_accuracy >= 0.999, "character accuracy {char_accuracy}: {misreads:#?}");
    assert!(line_accuracy >= 0.99, "line accuracy {line_accuracy}: {misreads:#?}");
}
