//! `vouch doc bench`: the page reader on held-out synthetic frames. Frames are drawn first (not timed) from
//! seeds no test or training run uses: passport data pages, ID-card backs (MRZ) and fronts (no MRZ), in
//! varied kiosk conditions, every other one turned upside down. Then each is read once and every stage timed.

use std::path::Path;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::SeedableRng;
use vouch_capture::synthetic_document::{self, DocumentKind, Font, SceneOptions};
use vouch_vision::document::{DocumentReader, MrzReading, StageTimes};
use vouch_vision::image::{imageops, RgbImage};
use vouch_vision::registry::ModelRegistry;

use crate::faces::{percentile, report};

const SEED: u64 = 0xbe9c_0000;

struct Frame {
    image: RgbImage,
    kind: DocumentKind,
    mrz: Option<String>,
    corners: Vec<[f32; 2]>,
    turned: bool,
}

fn frames(font: &Font, portraits: &[RgbImage], count: usize) -> anyhow::Result<Vec<Frame>> {
    let kinds = [DocumentKind::PassportDataPage, DocumentKind::IdCardBack, DocumentKind::IdCardFront];
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let mut rng = StdRng::seed_from_u64(SEED + i as u64);
        let kind = kinds.get(i % kinds.len()).copied().unwrap_or(DocumentKind::PassportDataPage);
        let options = SceneOptions::varied(&mut rng);
        let portrait = portraits.get(i % portraits.len().max(1));
        let shot = synthetic_document::render(font, kind, portrait, &options, &mut rng)?;
        let turned = i % 2 == 1;
        let mut image = shot.image;
        let (w, h) = (image.width() as f32, image.height() as f32);
        let mut corners = shot.corners;
        if turned {
            imageops::rotate180_in_place(&mut image);
            corners = corners.iter().map(|[x, y]| [w - 1.0 - x, h - 1.0 - y]).collect();
        }
        out.push(Frame { image, kind, mrz: shot.mrz, corners, turned });
    }
    Ok(out)
}

pub fn bench(models: &Path, font: &Path, count: usize, threads: usize, real_dir: Option<&Path>) -> anyhow::Result<()> {
    let font = Font::from_bytes(std::fs::read(font).with_context(|| format!("reading {}", font.display()))?)?;
    let portraits: Vec<RgbImage> =
        crate::doc::load_portraits(Path::new("testdata/faces"))?.into_iter().map(|(_, image)| image).collect();
    let reader = DocumentReader::load(&ModelRegistry::open(models)?, threads)?;
    let frames = frames(&font, &portraits, count.max(3))?;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "document pages: {} held-out synthetic 1280×720 frames (passport pages, ID-card backs and fronts, varied \
         conditions, every other one upside down); {threads} threads a model, {cores} cores visible",
        frames.len()
    );

    // Warm-up: the first run of each model allocates.
    if let Some(first) = frames.first() {
        reader.read(&first.image)?;
    }
    let (mut found, mut with_mrz, mut exact, mut repaired, mut upright_right) = (0, 0, 0, 0, 0);
    let mut corner_errors = Vec::new();
    let mut times: Vec<StageTimes> = Vec::new();
    let mut mrz_times: Vec<StageTimes> = Vec::new();
    let mut front_times: Vec<StageTimes> = Vec::new();
    let mut fine = 0;
    let mut issues: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for frame in &frames {
        let Some(page) = reader.read(&frame.image)? else { continue };
        found += 1;
        if page.turned == frame.turned {
            upright_right += 1;
        }
        let error = page
            .quad
            .corners
            .iter()
            .zip(&frame.corners)
            .map(|(a, b)| (a[0] - b[0]).hypot(a[1] - b[1]))
            .fold(0.0f32, f32::max);
        corner_errors.push(f64::from(error));
        times.push(page.times);
        if page.quality.fine {
            fine += 1;
        }
        for issue in &page.quality.issues {
            *issues.entry(format!("{issue:?}")).or_default() += 1;
        }
        match (&frame.mrz, &page.mrz) {
            (Some(want), Some(read)) => {
                with_mrz += 1;
                if read.valid() && read.text() == *want {
                    exact += 1;
                    if !read.corrections.is_empty() {
                        repaired += 1;
                    }
                }
                mrz_times.push(page.times);
            }
            (Some(_), None) => with_mrz += 1,
            (None, _) => front_times.push(page.times),
        }
    }
    let mrz_pages = frames.iter().filter(|f| f.mrz.is_some()).count();
    let fronts = frames.iter().filter(|f| f.kind == DocumentKind::IdCardFront).count();
    corner_errors.sort_by(f64::total_cmp);
    println!("accuracy:");
    println!("  page found                   {found}/{}", frames.len());
    println!(
        "  corner error                 p50 {:.2} px, max {:.2} px",
        percentile(&corner_errors, 0.5),
        corner_errors.last().copied().unwrap_or(f64::NAN)
    );
    println!("  right way up                 {upright_right}/{found}");
    println!(
        "  MRZ read exactly             {exact}/{mrz_pages} ({:.1} %), {repaired} of them after a check-digit repair; \
         {} of {with_mrz} located",
        100.0 * exact as f64 / mrz_pages.max(1) as f64,
        mrz_times.len()
    );
    println!("  fronts without an MRZ        {}/{fronts} read as MRZ-less", front_times.len());
    println!("  quality fine                 {fine}/{found} (varied conditions; issues raised: {issues:?})");
    let stage = |label: &str, set: &[StageTimes], f: fn(&StageTimes) -> f64| {
        report(label, set.iter().map(f).collect());
    };
    println!("latency, pages with an MRZ ({}):", mrz_times.len());
    stage("locate page", &mrz_times, |t| t.locate);
    stage("flatten band + find lines", &mrz_times, |t| t.mrz_locate);
    stage("OCR", &mrz_times, |t| t.ocr);
    stage("parse + repair", &mrz_times, |t| t.parse);
    stage("MRZ from frame (sum of above)", &mrz_times, |t| t.locate + t.mrz_locate + t.ocr + t.parse);
    stage("flatten overview", &mrz_times, |t| t.normalise);
    stage("quality", &mrz_times, |t| t.quality);
    stage("whole read", &mrz_times, StageTimes::total);
    println!("latency, fronts ({}):", front_times.len());
    stage("orientation model", &front_times, |t| t.orientation);
    stage("whole read", &front_times, StageTimes::total);
    let mut floor = Vec::new();
    for _ in 0..20 {
        floor.push(reader.recogniser().model().time_inference([88, 1, 32, 24])?);
    }
    report("recogniser, 88 cells (bare)", floor);
    real(&reader, real_dir)
}

/// The real images of `dir` (`expected_mrz.csv` beside them, as in `shared/testdata/documents_dev`): how many
/// MRZs read exactly, how many characters (as reported, and as the recogniser read them before any repair),
/// whether the images without one read as none, whether the MRZs nobody transcribed are found, and the time
/// per image at its own size.
fn real(reader: &DocumentReader, dir: Option<&Path>) -> anyhow::Result<()> {
    let Some(dir) = dir else { return Ok(()) };
    let rows = vouch_vision::document::expected::load(dir)
        .with_context(|| format!("reading {}/expected_mrz.csv", dir.display()))?;
    let mut tally = RealTally::default();
    let mut times = Vec::new();
    let mut largest = (0u32, 0u32);
    for row in &rows {
        let bytes = std::fs::read(dir.join(&row.path)).with_context(|| format!("reading {}", row.path))?;
        let frame = vouch_vision::decode(&bytes, vouch_vision::ImageLimits::default())?;
        largest = largest.max(frame.dimensions());
        let t = std::time::Instant::now();
        let read = reader.read(&frame)?.and_then(|p| p.mrz);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        tally.add(row, read.as_ref());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "real images ({}, {} images, each at its own size, up to {}×{}):",
        dir.display(),
        times.len(),
        largest.0,
        largest.1
    );
    tally.print();
    report("whole read", times);
    Ok(())
}

/// What `vouch doc bench --real` counts.
#[derive(Default)]
struct RealTally {
    exact: usize,
    with_mrz: usize,
    chars: usize,
    chars_right: usize,
    raw_right: usize,
    without: usize,
    none_right: usize,
    untranscribed: usize,
    untranscribed_found: Vec<String>,
    misses: Vec<String>,
}

impl RealTally {
    fn add(&mut self, row: &vouch_vision::document::expected::ExpectedMrz, read: Option<&MrzReading>) {
        if row.none {
            self.without += 1;
            self.none_right += usize::from(read.is_none());
            return;
        }
        if row.unknown() {
            self.untranscribed += 1;
            if let Some(m) = read {
                let failing = failing_checks(m);
                self.untranscribed_found.push(format!("{} ({})", row.path, failing));
            }
            return;
        }
        self.with_mrz += 1;
        let want: Vec<char> = row.mrz.chars().filter(|c| *c != '\n').collect();
        let same = |text: &str| {
            let got: Vec<char> = text.chars().filter(|c| *c != '\n').collect();
            if got.len() == want.len() {
                want.iter().zip(&got).filter(|(a, b)| a == b).count()
            } else {
                0
            }
        };
        self.chars += want.len();
        self.chars_right += read.map_or(0, |m| same(&m.text()));
        self.raw_right += read.map_or(0, |m| same(&m.raw));
        if read.is_some_and(|m| m.valid() && m.text() == row.mrz) {
            self.exact += 1;
        } else {
            self.misses.push(row.path.clone());
        }
    }

    fn print(&self) {
        let share = |n: usize| 100.0 * n as f64 / self.chars.max(1) as f64;
        println!(
            "  MRZ read exactly             {}/{}; characters {}/{} ({:.2} %){}",
            self.exact,
            self.with_mrz,
            self.chars_right,
            self.chars,
            share(self.chars_right),
            if self.misses.is_empty() { String::new() } else { format!("; missed: {}", self.misses.join(", ")) }
        );
        println!(
            "  recogniser before repairs    characters {}/{} ({:.2} %)",
            self.raw_right,
            self.chars,
            share(self.raw_right)
        );
        println!("  without an MRZ, read as none {}/{}", self.none_right, self.without);
        if self.untranscribed > 0 {
            println!(
                "  MRZ nobody transcribed, found {}/{}{}",
                self.untranscribed_found.len(),
                self.untranscribed,
                if self.untranscribed_found.is_empty() {
                    String::new()
                } else {
                    format!(": {}", self.untranscribed_found.join(", "))
                }
            );
        }
    }
}

/// The checks a reading fails, named, or "every check holds".
fn failing_checks(m: &MrzReading) -> String {
    let c = &m.mrz.checks;
    let names = [
        (c.document_number, "document number"),
        (c.date_of_birth, "birth date"),
        (c.date_of_expiry, "expiry date"),
        (c.optional_data, "optional data"),
        (c.composite, "composite"),
    ];
    let failing: Vec<&str> = names.iter().filter(|(ok, _)| !ok).map(|(_, n)| *n).collect();
    if failing.is_empty() {
        "every check holds".to_owned()
    } else {
        format!("failing: {}", failing.join(", "))
    }
}
