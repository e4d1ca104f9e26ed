//! `vouch faces bench` and `vouch faces eval`: the face engine's speed and accuracy, measured.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use vouch_vision::image::{imageops, Rgb, RgbImage};
use vouch_vision::track::Tracker;
use vouch_vision::{decode, EngineConfig, FaceEngine, ImageLimits};

pub(crate) fn load(models: &Path, threads: usize) -> anyhow::Result<(FaceEngine, f64)> {
    let t = Instant::now();
    let engine = FaceEngine::load(&EngineConfig { models_dir: models.to_path_buf(), threads })
        .with_context(|| format!("loading the face models from {}", models.display()))?;
    Ok((engine, t.elapsed().as_secs_f64() * 1000.0))
}

fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A webcam-like frame: the photo scaled to the frame's height and centred on a grey background.
fn frame(photo: &RgbImage, width: u32, height: u32) -> RgbImage {
    let w = (photo.width() as f32 * height as f32 / photo.height() as f32).round() as u32;
    let scaled = imageops::resize(photo, w.min(width), height, imageops::FilterType::Triangle);
    let mut out = RgbImage::from_pixel(width, height, Rgb([118, 124, 130]));
    imageops::replace(&mut out, &scaled, i64::from((width - scaled.width()) / 2), 0);
    out
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted.get(idx).copied().unwrap_or(f64::NAN)
}

pub(crate) fn report(label: &str, mut samples: Vec<f64>) {
    samples.sort_by(f64::total_cmp);
    println!("  {label:<28} p50 {:>7.2} ms   p99 {:>7.2} ms", percentile(&samples, 0.5), percentile(&samples, 0.99));
}

/// A stage's p50/p99 beside the bare inference of its model(s) in the same runs, and their ratio at p50.
fn report_against(label: &str, mut samples: Vec<f64>, bare: &mut [f64]) {
    samples.sort_by(f64::total_cmp);
    bare.sort_by(f64::total_cmp);
    let (s50, b50) = (percentile(&samples, 0.5), percentile(bare, 0.5));
    println!(
        "  {label:<28} p50 {s50:>7.2} ms   p99 {:>7.2} ms   bare {b50:>7.2} ms   ×{:.2}",
        percentile(&samples, 0.99),
        s50 / b50
    );
}

fn time<T>(f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(T, f64)> {
    let t = Instant::now();
    let v = f()?;
    Ok((v, t.elapsed().as_secs_f64() * 1000.0))
}

pub fn bench(models: &Path, photo: &Path, runs: usize, threads: usize) -> anyhow::Result<()> {
    let before = rss_mib();
    let (engine, load_ms) = load(models, threads)?;
    let after = rss_mib();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    println!("face engine: {threads} intra-op threads per model, {cores} cores visible");
    println!("  load all {} models           {load_ms:>7.0} ms", vouch_vision::engine::ALL_MODELS.len());
    if let (Some(b), Some(a)) = (before, after) {
        println!("  memory after loading         {:>7.0} MiB resident (+{:.0} MiB for the models)", a, a - b);
    }
    let int8 = vouch_vision::engine::load_embedder(
        &vouch_vision::registry::ModelRegistry::open(models)?,
        vouch_vision::engine::EmbedderKind::Int8,
        threads,
    )?;
    let photo =
        decode(&std::fs::read(photo).with_context(|| format!("reading {}", photo.display()))?, ImageLimits::default())?;
    for (w, h) in [(640u32, 480u32), (1280, 720)] {
        let img = frame(&photo, w, h);
        let face = engine.detect(&img)?.subject.context("no face in the benchmark frame")?;
        // Warm-up: first runs allocate and pick kernels.
        for _ in 0..3 {
            engine.analyze_selfie(&img)?;
        }
        let (mut detect, mut align, mut embed, mut live, mut quality, mut selfie, mut full_quality) =
            (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        let (mut bare_detect, mut bare_embed, mut bare_live, mut floor) = (vec![], vec![], vec![], vec![]);
        let aligned = vouch_vision::embed::align(&img, &face)?;
        let (mut embed_fp32, mut embed_int8) = (vec![], vec![]);
        // The floor and the pipeline take turns, so that both see the same moments of a noisy machine.
        for _ in 0..runs {
            let [d, e, l] = engine.inference_floor(&img)?;
            bare_detect.push(d);
            bare_embed.push(e);
            bare_live.push(l);
            floor.push(d + e + l);
            let (analysis, total) = time(|| engine.analyze_selfie(&img)?.context("face lost"))?;
            detect.push(analysis.timings.detect_ms);
            align.push(analysis.timings.align_ms);
            embed.push(analysis.timings.embed_ms);
            live.push(analysis.timings.liveness_ms);
            quality.push(analysis.timings.quality_ms);
            selfie.push(total);
            full_quality.push(time(|| Ok(engine.quality(&img, &face)?))?.1);
            embed_fp32.push(time(|| Ok(engine.embedder().embed(&aligned)?))?.1);
            embed_int8.push(time(|| Ok(int8.embed(&aligned)?))?.1);
        }
        println!("{w}×{h}, {runs} runs (each stage beside the bare inference of its model, p50 ratio):");
        report_against("detect (RetinaFace)", detect, &mut bare_detect);
        report("align (5-point similarity)", align);
        report_against("embed (512-d)", embed, &mut bare_embed);
        report_against("passive liveness", live, &mut bare_live);
        report("image checks (hints)", quality);
        report_against("selfie pipeline (all above)", selfie, &mut floor);
        report("full DIS quality (+pose, eyes, gaze)", full_quality);
        report("embed alone, fp32 (shipped)", embed_fp32);
        report("embed alone, int8", embed_int8);
        // Liveness reads every frame once (detect, pose, 68 points, eyes, gaze, passive, template).
        let points = engine.landmarks68(&img, &face)?;
        let mut gaze = Vec::new();
        for _ in 0..runs {
            gaze.push(time(|| Ok(engine.gaze(&img, &points)?))?.1);
        }
        report("eye gaze (iris model, both eyes)", gaze);
        let mut observe = Vec::new();
        let mut preview_jpeg = Vec::new();
        for _ in 0..runs {
            observe.push(time(|| Ok(engine.observe(&img)?))?.1);
            preview_jpeg.push(time(|| Ok(vouch_vision::image_io::encode_jpeg(&img, 75)?))?.1);
        }
        report("liveness: observe one frame", observe);
        report("preview JPEG encode (q75)", preview_jpeg);
    }
    // Preview: the fast detector and the tracker on a face moving across 640×480 frames.
    let small = imageops::resize(&photo, 240, 300, imageops::FilterType::Triangle);
    let frames: Vec<RgbImage> = (0..30)
        .map(|i| {
            let mut f = RgbImage::from_pixel(640, 480, Rgb([118, 124, 130]));
            imageops::replace(&mut f, &small, 100 + i * 6, 90);
            f
        })
        .collect();
    let mut tracker = Tracker::default();
    let mut per_frame = Vec::new();
    let started = Instant::now();
    let mut tracked = 0;
    for i in 0..runs.max(60) {
        let f = frames.get(i % frames.len()).context("frame")?;
        let (track, ms) = time(|| Ok(tracker.update(&engine.fast_detector().detect(f)?, 640, 480)))?;
        tracked += usize::from(track.is_some());
        per_frame.push(ms);
    }
    let fps = per_frame.len() as f64 / started.elapsed().as_secs_f64();
    println!("preview 640×480 ({} frames, face tracked in {tracked}):", per_frame.len());
    report("detect + track per frame", per_frame);
    println!("  throughput                   {fps:>7.0} frames/s");
    Ok(())
}

/// A photo decoded, or `None` when it cannot be read or is not an image (the folder walks pass over it).
pub(crate) fn read_photo(file: &Path) -> Option<RgbImage> {
    decode(&std::fs::read(file).ok()?, ImageLimits::default()).ok()
}

/// The photos named, and those in the folders named (sub-folders included), sorted.
pub(crate) fn image_files(inputs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            crate::segment_eval::images(input, &mut files)?;
        } else {
            files.push(input.clone());
        }
    }
    files.sort();
    Ok(files)
}

/// Writes the 112×112 aligned crop the embedder sees of every face found in the given photos or folders
/// (recursively), as PNGs named after the photo: material for quantisation calibration, and for looking at what
/// the embedder was given.
pub fn aligned(models: &Path, inputs: &[PathBuf], out: &Path, threads: usize) -> anyhow::Result<()> {
    let (engine, _) = load(models, threads)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let files = image_files(inputs)?;
    let mut written = 0;
    for file in &files {
        let Some(img) = crate::faces::read_photo(file) else { continue };
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        for (n, face) in engine.detect(&img)?.faces.iter().enumerate() {
            let crop = vouch_vision::embed::align(&img, face)?;
            let path = out.join(format!("{stem}-{n}.png"));
            std::fs::write(&path, vouch_vision::image_io::encode_png(&crop)?)
                .with_context(|| format!("writing {}", path.display()))?;
            written += 1;
        }
    }
    println!("{written} aligned faces from {} files written to {}", files.len(), out.display());
    Ok(())
}
