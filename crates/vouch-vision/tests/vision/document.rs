//! The page pipeline on synthetic SPECIMEN frames it never saw: finding the page, flattening it, turning it
//! upright, finding and reading the MRZ, and judging the capture. Fixed seeds, held out from the recogniser's
//! training (which used Pillow-drawn snippets, never whole frames).

use rand::rngs::StdRng;
use rand::SeedableRng;
use vouch_capture::synthetic_document::{self, DocumentKind, Font, SceneOptions, Synthetic};
use vouch_vision::document::{DocumentReader, PageReading};
use vouch_vision::image::RgbImage;
use vouch_vision::registry::ModelRegistry;

fn reader() -> DocumentReader {
    DocumentReader::load(&ModelRegistry::open(&vouch_testkit::repo_root().join("models")).unwrap(), 2).unwrap()
}

fn font() -> Font {
    Font::from_bytes(std::fs::read(vouch_testkit::repo_root().join("models/OCRB.otf")).unwrap()).unwrap()
}

fn portraits() -> Vec<RgbImage> {
    ["fr_obama.jpg", "fr_biden.jpg", "skimage_astronaut.png"]
        .iter()
        .map(|name| std::fs::read(vouch_testkit::repo_root().join("testdata/faces").join(name)).unwrap())
        .map(|bytes| vouch_vision::image::load_from_memory(&bytes).unwrap().to_rgb8())
        .collect()
}

fn shot(font: &Font, portraits: &[RgbImage], kind: DocumentKind, options: &SceneOptions, seed: u64) -> Synthetic {
    let mut rng = StdRng::seed_from_u64(seed);
    let portrait = portraits.get(seed as usize % portraits.len().max(1));
    synthetic_document::render(font, kind, portrait, options, &mut rng).unwrap()
}

/// The largest distance from a found corner to the true one, in frame pixels; `turned` when the frame was
/// turned half a turn after drawing.
fn corner_error(reading: &PageReading, truth: &Synthetic, turned: bool) -> f32 {
    let (w, h) = (truth.image.width() as f32, truth.image.height() as f32);
    reading
        .quad
        .corners
        .iter()
        .zip(&truth.corners)
        .map(|(a, b)| {
            let b = if turned { [w - 1.0 - b[0], h - 1.0 - b[1]] } else { *b };
            (a[0] - b[0]).hypot(a[1] - b[1])
        })
        .fold(0.0, f32::max)
}

#[test]
fn held_out_pages_are_found_and_their_mrz_read_exactly() {
    let (font, portraits, reader) = (font(), portraits(), reader());
    let (mut pages, mut exact, mut found) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    let mut worst_corner = 0f32;
    for seed in 0..40u64 {
        let kind = if seed % 2 == 0 { DocumentKind::PassportDataPage } else { DocumentKind::IdCardBack };
        let mut rng = StdRng::seed_from_u64(0x0da9_e5ee + seed);
        let options = SceneOptions::varied(&mut rng);
        let truth = shot(&font, &portraits, kind, &options, 0x0da9_e5ee + seed);
        pages += 1;
        let Some(reading) = reader.read(&truth.image).unwrap() else {
            failures.push(format!("seed {seed}: no page"));
            continue;
        };
        found += 1;
        worst_corner = worst_corner.max(corner_error(&reading, &truth, false));
        let want = truth.mrz.as_deref().unwrap();
        match &reading.mrz {
            Some(mrz) if mrz.text() == want && mrz.valid() => exact += 1,
            Some(mrz) => failures.push(format!("seed {seed}: read\n{}\nwant\n{want}", mrz.text())),
            None => failures
                .push(format!("seed {seed}: no MRZ (corner error {:.1})", corner_error(&reading, &truth, false))),
        }
    }
    let rate = exact as f64 / pages as f64;
    println!("pages {pages}, found {found}, MRZ exact {exact} ({rate:.3}), worst corner {worst_corner:.1} px");
    println!("{}", failures.join("\n"));
    assert!(rate >= 0.97, "{rate}: {failures:#?}");
}

/// Quality on purpose-made captures: each named defect raises its own issue, and a clean capture is fine.
#[test]
fn quality_flags_fire_on_dark_blurred_glaring_and_small_pages_and_not_on_a_clean_one() {
    use vouch_vision::document::QualityIssue::*;
    let (font, portraits, reader) = (font(), portraits(), reader());
    let clean = SceneOptions { jpeg_quality: Some(90), ..SceneOptions::default() };
    let cases: Vec<(&str, SceneOptions, Option<vouch_vision::document::QualityIssue>)> = vec![
        ("clean", clean.clone(), None),
        ("dark", SceneOptions { exposure: 0.22, ..clean.clone() }, Some(BrightnessLow)),
        ("overexposed", SceneOptions { exposure: 1.9, ..clean.clone() }, Some(BrightnessHigh)),
        ("blurred", SceneOptions { blur_sigma: 3.5, ..clean.clone() }, Some(SharpnessLow)),
        ("glare", SceneOptions { glare: 1.0, ..clean.clone() }, Some(HotspotsScoreHigh)),
        ("small", SceneOptions { fill: 0.22, ..clean.clone() }, Some(DocumentSmall)),
    ];
    let (mut report, mut failures) = (Vec::new(), Vec::new());
    for (seed, (name, options, expected)) in cases.into_iter().enumerate() {
        for kind in [DocumentKind::PassportDataPage, DocumentKind::IdCardFront] {
            let truth = shot(&font, &portraits, kind, &options, 0x9a11_7000 + seed as u64);
            let page = reader.read(&truth.image).unwrap().unwrap_or_else(|| panic!("{name}: no page"));
            let q = &page.quality;
            report.push(format!(
                "{name:<12} {kind:?}: brightness {:.3} sharpness {:.3} hotspots {:.3} px/mm {:.1} issues {:?}",
                q.brightness.score, q.sharpness.score, q.hotspots.score, q.px_per_mm, q.issues
            ));
            let right = match expected {
                None => q.fine,
                Some(issue) => q.issues.contains(&issue) && !q.fine,
            };
            if !right {
                failures.push(format!("{name} {kind:?}: expected {expected:?}, got {q:?}"));
            }
        }
    }
    println!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_frame_without_a_document_has_no_page() {
    let (font, portraits, reader) = (font(), portraits(), reader());
    for seed in 0..6u64 {
        let mut rng = StdRng::seed_from_u64(0x0e11_0000 + seed);
        let options = SceneOptions { with_document: false, ..SceneOptions::varied(&mut rng) };
        let truth = shot(&font, &portraits, DocumentKind::PassportDataPage, &options, 0x0e11_0000 + seed);
        assert!(reader.read(&truth.image).unwrap().is_none(), "seed {seed}: a page found on a bare backdrop");
    }
}

/// Fronts have no MRZ to say which way is up: the orientation model does, and the page comes out upright.
#[test]
fn id_card_fronts_are_turned_upright_by_the_orientation_model() {
    let (font, portraits, reader) = (font(), portraits(), reader());
    for seed in 0..8u64 {
        let mut rng = StdRng::seed_from_u64(0x0f40_0000 + seed);
        let options = SceneOptions::varied(&mut rng);
        let mut truth = shot(&font, &portraits, DocumentKind::IdCardFront, &options, 0x0f40_0000 + seed);
        let turned = seed % 2 == 1;
        if turned {
            vouch_vision::image::imageops::rotate180_in_place(&mut truth.image);
        }
        let page = reader.read(&truth.image).unwrap().expect("a page");
        assert!(page.mrz.is_none(), "seed {seed}: an MRZ on a front");
        assert!(page.orientation.is_some(), "seed {seed}: the model was not asked");
        assert_eq!(page.turned, turned, "seed {seed}: {:?}", page.orientation);
        assert!(corner_error(&page, &truth, turned) < 3.0, "seed {seed}");
        assert_eq!(page.format, vouch_vision::document::PageFormat::Id1);
    }
}

#[test]
fn a_printed_page_is_colourful_and_its_greyscale_copy_is_not() {
    use vouch_vision::document::colour::{colour_profile_score, colourfulness, COLOUR_PROFILE_CHANGED_BELOW};
    let font = font();
    let mut rng = StdRng::seed_from_u64(77);
    let (mut lowest, mut highest) = (f32::MAX, 0.0f32);
    for kind in [DocumentKind::PassportDataPage, DocumentKind::IdCardFront, DocumentKind::IdCardBack] {
        for _ in 0..3 {
            let page =
                synthetic_document::render(&font, kind, None, &SceneOptions::varied(&mut rng), &mut rng).unwrap().page;
            let grey = vouch_vision::image::DynamicImage::ImageLuma8(vouch_vision::image::imageops::grayscale(&page))
                .to_rgb8();
            lowest = lowest.min(colourfulness(&page));
            highest = highest.max(colourfulness(&page));
            assert!(colour_profile_score(&page) >= COLOUR_PROFILE_CHANGED_BELOW, "{kind:?}: {}", colourfulness(&page));
            assert!(colour_profile_score(&grey) < COLOUR_PROFILE_CHANGED_BELOW, "{kind:?} in grey");
        }
    }
    eprintln!("colourfulness of the colour pages: {lowest:.1} to {highest:.1}");
}

/// What the real images taught, on held-out synthetic pages: a flat scan that is all page (no edges in view),
/// a crop of just the MRZ band, and either turned a quarter, all read exactly.
#[test]
fn flat_scans_mrz_crops_and_quarter_turns_read_without_the_page_edges() {
    use vouch_vision::image::imageops;
    let (font, portraits, reader) = (font(), portraits(), reader());
    let mut failures = Vec::new();
    for seed in 0..6u64 {
        let kind = if seed % 2 == 0 { DocumentKind::PassportDataPage } else { DocumentKind::IdCardBack };
        let mut rng = StdRng::seed_from_u64(0x5ca7_0000 + seed);
        let truth = shot(&font, &portraits, kind, &SceneOptions::varied(&mut rng), 0x5ca7_0000 + seed);
        let want = truth.mrz.clone().unwrap();
        let page = truth.page.clone();
        let top = truth.mrz_lines.iter().map(|l| l[1]).fold(f32::MAX, f32::min) - 30.0;
        let bottom = truth.mrz_lines.iter().map(|l| l[1]).fold(0.0, f32::max) + 30.0;
        let band = imageops::crop_imm(&page, 0, top.max(0.0) as u32, page.width(), (bottom - top) as u32).to_image();
        let cases = [
            ("flat scan", page.clone()),
            ("MRZ crop", band.clone()),
            ("flat scan turned a quarter", imageops::rotate90(&page)),
            ("MRZ crop turned three quarters", imageops::rotate270(&band)),
        ];
        for (name, image) in cases {
            match reader.read(&image).unwrap().and_then(|p| p.mrz) {
                Some(m) if m.text() == want && m.valid() => {}
                Some(m) => failures.push(format!("seed {seed} {name}: read\n{}\nwant\n{want}", m.text())),
                None => failures.push(format!("seed {seed} {name}: no MRZ")),
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
