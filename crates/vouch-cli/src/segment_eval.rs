//! `vouch faces segment-eval`: how well the person segmentation (DIS's crop with the background removed) keeps the
//! person and drops the background, on a folder of real photos.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use vouch_vision::segment::coverage;
use vouch_vision::{decode, EngineConfig, FaceEngine, ImageLimits};

use crate::faces::percentile;

/// A face counts as kept at or above this mean mask, the top corners as dropped at or below 1 − it.
const KEPT: f64 = 0.9;

/// The JPEG and PNG files under `dir`, sub-folders included.
pub(crate) fn images(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            images(&path, out)?;
        } else if path.extension().is_some_and(|e| ["jpg", "jpeg", "png"].contains(&e.to_string_lossy().as_ref())) {
            out.push(path);
        }
    }
    Ok(())
}

/// For each photo with a face, the mask's [`coverage`]: of the face (should be 1: the person) and of the top corners
/// (should be 0: background above the shoulders).
pub fn segment_eval(models: &Path, dir: &Path, threads: usize) -> anyhow::Result<()> {
    let engine = FaceEngine::load(&EngineConfig { models_dir: models.to_path_buf(), threads })
        .with_context(|| format!("loading the face models from {}", models.display()))?;
    let mut files = Vec::new();
    images(dir, &mut files)?;
    files.sort();
    let (mut faces, mut corners, mut times, mut failures, mut skipped) = (vec![], vec![], vec![], vec![], 0);
    for file in &files {
        let img = decode(&std::fs::read(file)?, ImageLimits::default())?;
        let Some(face) = engine.detect(&img)?.subject else {
            skipped += 1;
            continue;
        };
        let t = Instant::now();
        let mask = engine.segmenter().person_mask(&img)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        let measured = coverage(&mask, face.rect);
        let (kept, corner) = (f64::from(measured.face), f64::from(measured.top_corners));
        if kept < KEPT || corner > 1.0 - KEPT {
            failures.push(format!("{}: face {kept:.3}, top corners {corner:.3}", file.display()));
        }
        faces.push(kept);
        corners.push(corner);
    }
    if faces.is_empty() {
        bail!("no photo with a face in {}", dir.display());
    }
    let n = faces.len() as f64;
    let face_kept = faces.iter().filter(|v| **v >= KEPT).count() as f64 / n * 100.0;
    let corners_dropped = corners.iter().filter(|v| **v <= 1.0 - KEPT).count() as f64 / n * 100.0;
    faces.sort_by(f64::total_cmp);
    corners.sort_by(f64::total_cmp);
    times.sort_by(f64::total_cmp);
    println!("{} photos with a face ({skipped} without one skipped)", faces.len());
    println!(
        "  face kept (mean mask ≥ {KEPT}):          {face_kept:5.1} %   face mean p5 {:.3}, median {:.3}",
        percentile(&faces, 0.05),
        percentile(&faces, 0.5)
    );
    println!(
        "  top corners dropped (mean ≤ {:.1}):      {corners_dropped:5.1} %   corner mean median {:.3}, p95 {:.3}",
        1.0 - KEPT,
        percentile(&corners, 0.5),
        percentile(&corners, 0.95)
    );
    println!(
        "  mask time per photo                  p50 {:.1} ms, p99 {:.1} ms",
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
    for f in &failures {
        println!("  below the bar: {f}");
    }
    Ok(())
}
