//! `vouch doc`: identity-document pages. `synth` draws SPECIMEN pages in camera scenes with their ground
//! truth, for tests, for the recogniser's held-out checks and as a DEMO file-camera source.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use vouch_capture::synthetic_document::{self, DocumentKind, Font, SceneOptions};
use vouch_vision::document::DocumentReader;
use vouch_vision::registry::ModelRegistry;
use vouch_vision::ImageLimits;

/// How synthetic frames are drawn.
#[derive(clap::Args)]
pub struct FrameArgs {
    /// The OCR-B font (default: the models folder's OCRB.otf)
    #[arg(long)]
    font: Option<PathBuf>,
    #[arg(long, default_value_t = 1280)]
    width: u32,
    #[arg(long, default_value_t = 720)]
    height: u32,
}

#[derive(Subcommand)]
pub enum DocCommand {
    /// Draw synthetic SPECIMEN document frames (JPEG) and a labels.json with each frame's MRZ and corners
    Synth {
        /// Output folder (created)
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 20)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// passport, id-front, id-back, or mixed
        #[arg(long, default_value = "mixed")]
        kind: String,
        /// clean (square, sharp, even light) or varied (what a kiosk camera meets)
        #[arg(long, default_value = "varied")]
        conditions: String,
        /// Folder of face photos for the portraits (default: the checkout's testdata/faces)
        #[arg(long)]
        faces: Option<PathBuf>,
        #[command(flatten)]
        frame: FrameArgs,
    },
    /// A DEMO clip (MJPEG) of a document shown to the camera: empty desk, arriving, glare, held still. The
    /// file camera plays it for the kiosk's document_scan step (VOUCH_DOCUMENT_CAMERA=demo:FILE)
    Clip {
        /// Output file (.mjpeg)
        #[arg(long)]
        out: PathBuf,
        /// demo: the DEMO chip passport's holder (ERIKSSON, L898902C3), so the scanned MRZ opens the demo chip;
        /// random: an invented holder drawn from --seed
        #[arg(long, default_value = "demo")]
        holder: String,
        /// passport or id-back
        #[arg(long, default_value = "passport")]
        kind: String,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// The portrait printed on the page (default: the checkout's testdata/faces/fr_obama2.jpg, the face in
        /// the demo chip)
        #[arg(long)]
        portrait: Option<PathBuf>,
        #[command(flatten)]
        frame: FrameArgs,
    },
    /// Read one frame or page photo: where the page is, which way up, its MRZ and its quality
    Read {
        image: PathBuf,
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// Per-stage latency and accuracy of the page reader on held-out synthetic 1280×720 frames, then on real
    /// document images with their expected MRZs
    Bench {
        #[arg(long, default_value_t = 120)]
        count: usize,
        /// A folder of real document images with an expected_mrz.csv (default: ../shared/testdata/documents_dev
        /// when present)
        #[arg(long)]
        real: Option<PathBuf>,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// The OCR-B font (default: the models folder's OCRB.otf)
        #[arg(long)]
        font: Option<PathBuf>,
    },
}

#[derive(Serialize)]
struct Label {
    file: String,
    kind: DocumentKind,
    mrz: Option<String>,
    corners: Vec<[f32; 2]>,
    mrz_corners: Vec<[f32; 2]>,
    portrait: Option<String>,
    options: SceneOptions,
}

pub fn run(command: DocCommand, models: Option<PathBuf>) -> anyhow::Result<()> {
    match command {
        DocCommand::Read { image, threads } => read(&crate::models_dir(models)?, &image, threads),
        DocCommand::Bench { count, threads, font, real } => {
            let dir = crate::models_dir(models)?;
            let font = font.unwrap_or_else(|| dir.join("OCRB.otf"));
            let real = real.or_else(|| {
                Some(PathBuf::from("../shared/testdata/documents_dev")).filter(|d| d.join("expected_mrz.csv").is_file())
            });
            crate::doc_bench::bench(&dir, &font, count, threads, real.as_deref())
        }
        DocCommand::Clip { out, holder, kind, seed, portrait, frame } => {
            let (font, width, height) = (load_font(frame.font, models)?, frame.width, frame.height);
            let kind = match kind.as_str() {
                "passport" => DocumentKind::PassportDataPage,
                "id-back" => DocumentKind::IdCardBack,
                other => anyhow::bail!("--kind must be passport or id-back (a page with an MRZ), not {other}"),
            };
            let holder = match holder.as_str() {
                "demo" => demo_holder(),
                "random" => synthetic_document::Holder::random(&mut StdRng::seed_from_u64(seed)),
                other => anyhow::bail!("--holder must be demo or random, not {other}"),
            };
            let portrait_path = portrait.unwrap_or_else(|| PathBuf::from("testdata/faces/fr_obama2.jpg"));
            let portrait = image::open(&portrait_path)
                .with_context(|| format!("reading the portrait {}", portrait_path.display()))?
                .to_rgb8();
            let frames = synthetic_document::clip(&font, kind, &holder, Some(&portrait), (width, height), seed)?;
            let mut mjpeg = Vec::new();
            for frame in &frames {
                mjpeg.extend_from_slice(&synthetic_document::encode_jpeg(&frame.shot.image, 88)?);
            }
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&out, mjpeg).with_context(|| format!("writing {}", out.display()))?;
            println!("{} SPECIMEN frames written to {} (DEMO: not a real document)", frames.len(), out.display());
            Ok(())
        }
        DocCommand::Synth { out, count, seed, kind, conditions, faces, frame } => {
            let (font, width, height) = (load_font(frame.font, models)?, frame.width, frame.height);
            let faces = faces.unwrap_or_else(|| PathBuf::from("testdata/faces"));
            let portraits = load_portraits(&faces)?;
            let kinds: Vec<DocumentKind> = match kind.as_str() {
                "mixed" => vec![DocumentKind::PassportDataPage, DocumentKind::IdCardFront, DocumentKind::IdCardBack],
                other => vec![DocumentKind::parse(other)
                    .with_context(|| format!("--kind must be passport, id-front, id-back or mixed, not {other}"))?],
            };
            let varied = match conditions.as_str() {
                "varied" => true,
                "clean" => false,
                other => anyhow::bail!("--conditions must be clean or varied, not {other}"),
            };
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            let mut rng = StdRng::seed_from_u64(seed);
            let mut labels = Vec::with_capacity(count);
            for i in 0..count {
                let kind = kinds.get(i % kinds.len()).copied().unwrap_or(DocumentKind::PassportDataPage);
                let mut options = if varied { SceneOptions::varied(&mut rng) } else { SceneOptions::default() };
                options.width = width;
                options.height = height;
                let portrait =
                    if portraits.is_empty() { None } else { portraits.get(rng.gen_range(0..portraits.len())) };
                let shot =
                    synthetic_document::render(&font, kind, portrait.map(|(_, image)| image), &options, &mut rng)?;
                let file = format!("frame-{i:04}.jpg");
                std::fs::write(out.join(&file), synthetic_document::encode_jpeg(&shot.image, 92)?)?;
                labels.push(Label {
                    file,
                    kind,
                    mrz: shot.mrz,
                    corners: shot.corners,
                    mrz_corners: shot.mrz_corners,
                    portrait: portrait.map(|(name, _)| name.clone()),
                    options,
                });
            }
            std::fs::write(out.join("labels.json"), serde_json::to_vec_pretty(&labels)?)?;
            println!("{count} SPECIMEN frames and labels.json written to {}", out.display());
            Ok(())
        }
    }
}

/// The OCR-B font: the one given, or the models folder's.
fn load_font(font: Option<PathBuf>, models: Option<PathBuf>) -> anyhow::Result<Font> {
    let path = match font {
        Some(path) => path,
        None => crate::models_dir(models)?.join("OCRB.otf"),
    };
    Ok(Font::from_bytes(std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?)?)
}

/// The holder of the DEMO chip passport (`vouch_chip`'s specimen), so a scan of the clip's page opens that chip.
fn demo_holder() -> synthetic_document::Holder {
    let spec = vouch_chip::emulator::passport::PassportSpec::specimen(Vec::new(), (0, 0));
    synthetic_document::Holder {
        surname: spec.surname.replace(' ', "<"),
        given_names: spec.given_names.replace(' ', "<"),
        document_number: spec.document_number,
        nationality: spec.nationality,
        date_of_birth: spec.date_of_birth,
        sex: spec.sex,
        date_of_expiry: spec.date_of_expiry,
    }
}

fn read(models: &Path, path: &Path, threads: usize) -> anyhow::Result<()> {
    let reader = DocumentReader::load(&ModelRegistry::open(models)?, threads)?;
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let frame = vouch_vision::decode(&bytes, ImageLimits::default())?;
    let Some(page) = reader.read(&frame)? else {
        println!("{}", serde_json::json!({ "errorCode": "NO_CARD_CORNERS_DETECTED", "mrz": null }));
        return Ok(());
    };
    let mrz = page.mrz.as_ref().map(|m| {
        serde_json::json!({
            "text": m.text(),
            "valid": m.valid(),
            "checks": m.mrz.checks,
            "corrections": m.corrections,
            "minConfidence": m.min_confidence,
        })
    });
    let report = serde_json::json!({
        "corners": page.quad.corners,
        "confidence": page.quad.confidence,
        "pageFound": page.page_found,
        "format": page.format,
        "turned": page.turned,
        "side": page.side,
        "mrz": mrz,
        "quality": page.quality,
        "timesMs": page.times,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

pub(crate) fn load_portraits(dir: &Path) -> anyhow::Result<Vec<(String, image::RgbImage)>> {
    let mut portraits = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!("no face photos in {}: portraits are grey silhouettes", dir.display());
        return Ok(portraits);
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let is_image = matches!(path.extension().and_then(|e| e.to_str()), Some("jpg" | "jpeg" | "png"));
        if is_image {
            let image = image::open(&path).with_context(|| format!("reading {}", path.display()))?.to_rgb8();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            portraits.push((name, image));
        }
    }
    Ok(portraits)
}
