//! `vouch faces eval`: verification accuracy over a labelled folder, for one embedder or several side by side,
//! with the pairs that fail at a chosen threshold and a DET curve to look at.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use vouch_vision::embed::{align, Embedder};
use vouch_vision::engine::{load_embedder, EmbedderKind};
use vouch_vision::registry::ModelRegistry;
use vouch_vision::score::similarity_score;
use vouch_vision::{decode, EngineConfig, FaceEngine, FaceTemplate, ImageLimits};

use crate::det_plot::{self, Curve};

pub struct EvalOptions {
    pub embedders: Vec<EmbedderKind>,
    /// The score at which failures are listed (the product's match point by default).
    pub threshold: f32,
    pub det: Option<PathBuf>,
    /// At most this many failures of each kind are printed.
    pub failures: usize,
    pub threads: usize,
    /// Also measure probes made of several photos of one person standing in for the frames of a live preview.
    pub sequences: bool,
}

pub struct Photo {
    pub identity: String,
    pub path: PathBuf,
    /// One template per embedder, in the order asked.
    pub templates: Vec<FaceTemplate>,
    /// How good a frame this photo would make (`frame_quality`).
    pub quality: f32,
}

/// A frame's weight among frames of one person, as the kiosk weighs its probe's frames.
pub fn frame_quality(img: &vouch_vision::image::RgbImage, face: &vouch_vision::Face) -> f32 {
    let sharpness = vouch_vision::quality::face_stats(img, face.rect).sharpness();
    vouch_vision::quality::frame_weight(sharpness, face)
}

/// The scores of every pair, genuine and impostor, with the photos' indices.
struct Scores {
    genuine: Vec<(f32, u32, u32)>,
    /// Sorted from the highest score down.
    impostor: Vec<(f32, u32, u32)>,
}

pub struct Accuracy {
    /// TAR at FAR 1 %, 0.1 % and 0.01 %, each with its score threshold.
    pub tar: [(f64, f32); 3],
    pub eer: f64,
    pub eer_score: f32,
}

pub const FARS: [f64; 3] = [0.01, 0.001, 0.0001];

/// The identity sub-folders of `dir` with their files, both sorted by name.
pub fn identity_folders(dir: &Path) -> anyhow::Result<Vec<(String, Vec<PathBuf>)>> {
    let mut folders: Vec<PathBuf> =
        std::fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
    folders.sort();
    let mut out = Vec::with_capacity(folders.len());
    for folder in folders {
        let identity = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)?.filter_map(Result::ok).map(|e| e.path()).collect();
        files.sort();
        out.push((identity, files));
    }
    Ok(out)
}

/// The indices of `photos` grouped by identity (photos of one identity are consecutive, as `read_photos` gives them).
pub fn by_identity(photos: &[Photo]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, photo) in photos.iter().enumerate() {
        let same = groups.last().and_then(|g| g.first()).and_then(|&g| photos.get(g)).map(|p| &p.identity);
        match groups.last_mut() {
            Some(group) if same == Some(&photo.identity) => group.push(i),
            _ => groups.push(vec![i]),
        }
    }
    groups
}

/// Every photo under `dir` (one sub-folder per identity), detected and aligned once and embedded by each embedder.
fn read_photos(
    engine: &FaceEngine,
    embedders: &[Embedder],
    dir: &Path,
    skipped: &mut Vec<String>,
) -> anyhow::Result<Vec<Photo>> {
    let mut photos = Vec::new();
    for (identity, files) in identity_folders(dir)? {
        for file in files {
            let Ok(bytes) = std::fs::read(&file) else { continue };
            let Ok(img) = decode(&bytes, ImageLimits::default()) else {
                skipped.push(format!("{} (not an image)", file.display()));
                continue;
            };
            let Some(face) = engine.detect(&img)?.subject else {
                skipped.push(format!("{} (no face)", file.display()));
                continue;
            };
            let aligned = align(&img, &face)?;
            let templates = embedders.iter().map(|e| e.embed(&aligned)).collect::<Result<Vec<_>, _>>()?;
            let quality = frame_quality(&img, &face);
            photos.push(Photo { identity: identity.clone(), path: file, templates, quality });
        }
    }
    Ok(photos)
}

fn pair_scores(photos: &[Photo], embedder: usize) -> Scores {
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for (i, a) in photos.iter().enumerate() {
        for (j, b) in photos.iter().enumerate().skip(i + 1) {
            let (Some(ta), Some(tb)) = (a.templates.get(embedder), b.templates.get(embedder)) else { continue };
            let pair = (similarity_score(ta.cosine(tb)), i as u32, j as u32);
            if a.identity == b.identity {
                genuine.push(pair);
            } else {
                impostor.push(pair);
            }
        }
    }
    genuine.sort_by(|a, b| a.0.total_cmp(&b.0));
    impostor.sort_by(|a, b| b.0.total_cmp(&a.0));
    Scores { genuine, impostor }
}

/// The share of `sorted_desc` (highest first) at or above `score`.
fn share_at_or_above(sorted_desc: &[f32], score: f32) -> f64 {
    sorted_desc.partition_point(|s| *s >= score) as f64 / sorted_desc.len().max(1) as f64
}

pub fn accuracy(genuine: &[f32], impostor_desc: &[f32]) -> Accuracy {
    let tar = FARS.map(|far| {
        // The threshold: the score that only `far` of impostor pairs exceed.
        let allowed = (impostor_desc.len() as f64 * far).floor() as usize;
        let threshold = impostor_desc.get(allowed).copied().unwrap_or(0.0);
        let accepted = genuine.iter().filter(|s| **s > threshold).count();
        (accepted as f64 / genuine.len().max(1) as f64, threshold)
    });
    let mut best = (f64::MAX, 0.0f32, 0.0);
    for step in 0..=1000 {
        let t = step as f32 / 1000.0;
        let far = share_at_or_above(impostor_desc, t);
        let frr = genuine.iter().filter(|s| **s < t).count() as f64 / genuine.len().max(1) as f64;
        if (far - frr).abs() < best.0 {
            best = ((far - frr).abs(), t, (far + frr) / 2.0);
        }
    }
    Accuracy { tar, eer: best.2, eer_score: best.1 }
}

/// (FAR, FRR) when pairs scoring `threshold` or more are accepted.
fn rates_at(genuine_asc: &[f32], impostor_desc: &[f32], threshold: f32) -> (f64, f64) {
    let frr = genuine_asc.partition_point(|s| *s < threshold) as f64 / genuine_asc.len().max(1) as f64;
    (share_at_or_above(impostor_desc, threshold), frr)
}

/// FAR and FRR at each score threshold from 0 to 1, for the DET curve.
fn det_points(genuine_asc: &[f32], impostor_desc: &[f32]) -> Vec<(f64, f64)> {
    (0..=2000).map(|step| rates_at(genuine_asc, impostor_desc, step as f32 / 2000.0)).collect()
}

pub fn eval(models: &Path, dir: &Path, options: &EvalOptions) -> anyhow::Result<()> {
    let engine = FaceEngine::load(&EngineConfig { models_dir: models.to_path_buf(), threads: options.threads })
        .with_context(|| format!("loading the face models from {}", models.display()))?;
    let registry = ModelRegistry::open(models)?;
    let mut embedders = Vec::new();
    for kind in &options.embedders {
        embedders.push(load_embedder(&registry, *kind, options.threads)?);
    }
    let names: Vec<String> = options.embedders.iter().map(|k| k.file().to_string()).collect();
    let mut skipped = Vec::new();
    let photos = read_photos(&engine, &embedders, dir, &mut skipped)?;
    let identities = photos.iter().map(|p| p.identity.as_str()).collect::<std::collections::BTreeSet<_>>().len();
    let all_scores: Vec<Scores> = (0..embedders.len()).map(|e| pair_scores(&photos, e)).collect();
    let Some(first) = all_scores.first() else { bail!("no embedder to evaluate") };
    if first.genuine.is_empty() || first.impostor.is_empty() {
        bail!("need at least two identities with two faces each; found {} faces", photos.len());
    }
    println!(
        "{identities} identities, {} faces ({} skipped), {} genuine and {} impostor pairs",
        photos.len(),
        skipped.len(),
        first.genuine.len(),
        first.impostor.len()
    );
    for s in &skipped {
        println!("  skipped {s}");
    }
    let mut curves = Vec::new();
    let mut rows = Vec::new();
    for (name, scores) in names.iter().zip(&all_scores) {
        let genuine: Vec<f32> = scores.genuine.iter().map(|p| p.0).collect();
        let impostor: Vec<f32> = scores.impostor.iter().map(|p| p.0).collect();
        rows.push((name.as_str(), accuracy(&genuine, &impostor), genuine_at(&genuine, &impostor)));
        let marker = Some(rates_at(&genuine, &impostor, options.threshold));
        curves.push(Curve { label: name.clone(), points: det_points(&genuine, &impostor), marker });
    }
    print_accuracy(&rows, first.impostor.len());
    print_defaults(&all_scores, &names);
    for (name, scores) in names.iter().zip(&all_scores) {
        print_failures(name, scores, &photos, options.threshold, options.failures);
    }
    if let Some(path) = &options.det {
        let font = vouch_capture::synthetic_document::Font::from_bytes(
            std::fs::read(models.join("OCRB.otf")).context("reading the label font models/OCRB.otf")?,
        )?;
        det_plot::write_png(path, &curves, &format!("score {:.2}", options.threshold), &font)?;
        println!("DET curve written to {}", path.display());
    }
    if let Some(scores) = all_scores.first() {
        let impostor: Vec<f32> = scores.impostor.iter().map(|p| p.0).collect();
        crate::one_to_n::print_fmr(&impostor);
        print_search(&photos);
    }
    if options.sequences {
        crate::face_sequences::print(&photos);
    }
    Ok(())
}

/// The lowest genuine and highest impostor scores.
fn genuine_at(genuine_asc: &[f32], impostor_desc: &[f32]) -> (f32, f32) {
    (genuine_asc.first().copied().unwrap_or(0.0), impostor_desc.first().copied().unwrap_or(0.0))
}

fn print_accuracy(rows: &[(&str, Accuracy, (f32, f32))], impostors: usize) {
    print!("{:<34}", "embedder");
    for far in FARS {
        print!("  TAR@FAR {:<7}", format!("{}%", far * 100.0));
    }
    println!("  {:>6}  {:>9}  {:>9}", "EER", "min gen.", "max imp.");
    for (name, accuracy, (min_genuine, max_impostor)) in rows {
        print!("{name:<34}");
        for ((tar, threshold), far) in accuracy.tar.iter().zip(FARS) {
            if (impostors as f64) * far < 1.0 {
                // Fewer impostor pairs than 1/FAR: that FAR cannot be read off this folder.
                print!("  {:>16}", "too few pairs");
            } else {
                print!("  {:>6.2}% ({threshold:.3})", tar * 100.0);
            }
        }
        println!(
            "  {:>5.2}%  {min_genuine:>9.3}  {max_impostor:>9.3}   (EER at score {:.3})",
            accuracy.eer * 100.0,
            accuracy.eer_score
        );
    }
    println!("  (score thresholds in brackets; FAR 0.01% rests on {} impostor pairs above it)", impostors / 10_000);
}

/// What the product's fixed score thresholds give on this folder: the 1:1 match point (0.5) and the defaults of
/// Verifik's validations (0.75) and comparisons and searches (0.85).
pub const FIXED_THRESHOLDS: [f32; 6] = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85];

fn print_defaults(all_scores: &[Scores], names: &[String]) {
    println!("FAR / FRR at fixed scores (0.5: the default match point; 0.75, 0.85: Verifik's defaults):");
    print!("  score");
    for name in names {
        print!("  {name:>32}");
    }
    println!();
    let rates: Vec<(Vec<f32>, Vec<f32>)> = all_scores
        .iter()
        .map(|s| (s.genuine.iter().map(|p| p.0).collect(), s.impostor.iter().map(|p| p.0).collect()))
        .collect();
    for t in FIXED_THRESHOLDS {
        print!("  {t:>5.2}");
        for (genuine, impostor) in &rates {
            let (far, frr) = rates_at(genuine, impostor, t);
            print!("  {:>32}", format!("{:.4}% / {:.2}%", far * 100.0, frr * 100.0));
        }
        println!();
    }
}

fn print_failures(name: &str, scores: &Scores, photos: &[Photo], threshold: f32, limit: usize) {
    let rejected: Vec<_> = scores.genuine.iter().take_while(|p| p.0 < threshold).collect();
    let accepted: Vec<_> = scores.impostor.iter().take_while(|p| p.0 >= threshold).collect();
    println!(
        "{name}: failures at score {threshold:.2}: {} genuine pairs rejected, {} impostor pairs accepted",
        rejected.len(),
        accepted.len()
    );
    let path = |i: u32| photos.get(i as usize).map(|p| p.path.display().to_string()).unwrap_or_default();
    for (kind, pairs) in [("rejected", &rejected), ("accepted", &accepted)] {
        for (score, a, b) in pairs.iter().take(limit) {
            println!("  {kind} {score:.3}  {}  {}", path(*a), path(*b));
        }
        if pairs.len() > limit {
            println!("  … and {} more {kind}", pairs.len() - limit);
        }
    }
}

/// The 1:N search over the folder with the first embedder's templates.
fn print_search(photos: &[Photo]) {
    let identities: Vec<crate::one_to_n::Identity<'_>> = by_identity(photos)
        .iter()
        .map(|group| crate::one_to_n::Identity {
            templates: group.iter().filter_map(|&i| photos.get(i)?.templates.first()).collect(),
        })
        .filter(|identity| !identity.templates.is_empty())
        .collect();
    crate::one_to_n::print_search(&identities);
}
