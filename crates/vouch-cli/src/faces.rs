//! `vouch faces bench` and `vouch faces eval`: the face engine's speed and accuracy, measured.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use vouch_vision::image::{imageops, Rgb, RgbImage};
use vouch_vision::track::Tracker;
use vouch_vision::{decode, EngineConfig, FaceEngine, ImageLimits};

fn load(models: &Path, threads: usize) -> anyhow::Result<(FaceEngine, f64)> {
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
    let photo =
        decode(&std::fs::read(photo).with_context(|| format!("reading {}", photo.display()))?, ImageLimits::default())?;
    for (w, h) in [(640u32, 480u32), (1280, 720)] {
        let img = frame(&photo, w, h);
        let face = engine.detect(&img)?.subject.context("no face in the benchmark frame")?;
        // Warm-up: first runs allocate and pick kernels.
        for _ in 0..3 {
            engine.analyze_selfie(&img)?;
        }
        let mut floor = Vec::new();
        for _ in 0..runs {
            floor.push(engine.inference_floor(w, h)?.iter().sum::<f64>());
        }
        let (mut detect, mut align, mut embed, mut live, mut quality, mut selfie, mut full_quality) =
            (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        for _ in 0..runs {
            let (analysis, total) = time(|| engine.analyze_selfie(&img)?.context("face lost"))?;
            detect.push(analysis.timings.detect_ms);
            align.push(analysis.timings.align_ms);
            embed.push(analysis.timings.embed_ms);
            live.push(analysis.timings.liveness_ms);
            quality.push(analysis.timings.quality_ms);
            selfie.push(total);
            full_quality.push(time(|| Ok(engine.quality(&img, &face)?))?.1);
        }
        println!("{w}×{h}, {runs} runs:");
        report("detect (RetinaFace)", detect);
        report("align (5-point similarity)", align);
        report("embed (512-d)", embed);
        report("passive liveness", live);
        report("image checks (hints)", quality);
        floor.sort_by(f64::total_cmp);
        selfie.sort_by(f64::total_cmp);
        let (f50, s50) = (percentile(&floor, 0.5), percentile(&selfie, 0.5));
        report("selfie pipeline (all above)", selfie);
        report("bare inference of its 3 models", floor);
        println!("  pipeline overhead over bare inference: {:+.0}%", (s50 / f50 - 1.0) * 100.0);
        report("full DIS quality (+pose, eyes)", full_quality);
        // Liveness reads every frame once (detect, pose, 68 points, eyes, passive, template).
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

struct Sample {
    identity: String,
    template: vouch_vision::FaceTemplate,
}

/// TAR at the given FARs and the EER over every genuine and impostor pair of a folder of identity folders.
pub fn eval(models: &Path, dir: &Path, threads: usize) -> anyhow::Result<()> {
    let (engine, _) = load(models, threads)?;
    let mut samples = Vec::new();
    let mut skipped = Vec::new();
    let mut identities: Vec<PathBuf> =
        std::fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
    identities.sort();
    for id_dir in &identities {
        let identity = id_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut files: Vec<PathBuf> = std::fs::read_dir(id_dir)?.filter_map(Result::ok).map(|e| e.path()).collect();
        files.sort();
        for file in files {
            let Ok(bytes) = std::fs::read(&file) else { continue };
            let Ok(img) = decode(&bytes, ImageLimits::default()) else {
                skipped.push(format!("{} (not an image)", file.display()));
                continue;
            };
            match engine.detect(&img)?.subject {
                Some(face) => {
                    samples.push(Sample { identity: identity.clone(), template: engine.template(&img, &face)? })
                }
                None => skipped.push(format!("{} (no face)", file.display())),
            }
        }
    }
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for (i, a) in samples.iter().enumerate() {
        for b in samples.iter().skip(i + 1) {
            let s = vouch_vision::score::similarity_score(a.template.cosine(&b.template));
            if a.identity == b.identity {
                genuine.push(s);
            } else {
                impostor.push(s);
            }
        }
    }
    if genuine.is_empty() || impostor.is_empty() {
        bail!("need at least two identities with two faces each; found {} faces", samples.len());
    }
    impostor.sort_by(|a, b| b.total_cmp(a));
    println!(
        "{} identities, {} faces ({} skipped), {} genuine and {} impostor pairs",
        identities.len(),
        samples.len(),
        skipped.len(),
        genuine.len(),
        impostor.len()
    );
    for s in &skipped {
        println!("  skipped {s}");
    }
    for far in [0.01, 0.001, 0.0001] {
        // The threshold: the score that only `far` of impostor pairs reach.
        let allowed = (impostor.len() as f64 * far).floor() as usize;
        let threshold = impostor.get(allowed).copied().unwrap_or(0.0);
        let tar = genuine.iter().filter(|s| **s > threshold).count() as f64 / genuine.len() as f64;
        let note = if (impostor.len() as f64) * far < 1.0 {
            "  (fewer impostor pairs than 1/FAR: threshold = best impostor)"
        } else {
            ""
        };
        println!("  TAR at FAR {:>6}%: {:>6.2}% (score threshold {threshold:.3}){note}", far * 100.0, tar * 100.0);
    }
    let mut best = (f64::MAX, 0.0f32, 0.0);
    for step in 0..=1000 {
        let t = step as f32 / 1000.0;
        let far = impostor.iter().filter(|s| **s >= t).count() as f64 / impostor.len() as f64;
        let frr = genuine.iter().filter(|s| **s < t).count() as f64 / genuine.len() as f64;
        if (far - frr).abs() < best.0 {
            best = ((far - frr).abs(), t, (far + frr) / 2.0);
        }
    }
    println!("  EER: {:.2}% at score {:.3}", best.2 * 100.0, best.1);
    let min_genuine = genuine.iter().copied().fold(f32::MAX, f32::min);
    let max_impostor = impostor.first().copied().unwrap_or(0.0);
    println!("  lowest genuine score {min_genuine:.3}, highest impostor score {max_impostor:.3}");
    crate::one_to_n::print_fmr(&impostor);
    let mut identities: Vec<crate::one_to_n::Identity<'_>> = Vec::new();
    let mut last: Option<&str> = None;
    for sample in &samples {
        match identities.last_mut() {
            Some(identity) if last == Some(sample.identity.as_str()) => identity.templates.push(&sample.template),
            _ => identities.push(crate::one_to_n::Identity { templates: vec![&sample.template] }),
        }
        last = Some(sample.identity.as_str());
    }
    crate::one_to_n::print_search(&identities);
    Ok(())
}
