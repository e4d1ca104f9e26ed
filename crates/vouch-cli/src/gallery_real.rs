//! `vouch faces gallery-bench --real DIR`: real templates in the gallery at scale. The first photo of every
//! identity at an even position of a labelled folder is enrolled among the synthetic templates; the identity's
//! other photos search for it, and every photo of the identities at odd positions searches as a stranger. Each
//! search is the gallery's (int8 scan, f32 re-rank) beside the exact f32 scan of the same vectors.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use vouch_gallery::Gallery;
use vouch_vision::score::similarity_score;
use vouch_vision::{decode, EngineConfig, FaceEngine, ImageLimits};

/// The `min_score` strangers are counted against (see docs/benchmarks.md, 1:N thresholds).
const MIN_SCORE: f32 = 0.75;

/// One identity's templates, in the order of its sorted file names.
pub struct Identity {
    pub templates: Vec<Vec<f32>>,
}

/// The subject templates of every photo of a folder of identity sub-folders.
pub fn load(models: &Path, dir: &Path) -> anyhow::Result<Vec<Identity>> {
    let engine = FaceEngine::load(&EngineConfig { models_dir: models.to_path_buf(), threads: 2 })
        .with_context(|| format!("loading the face models from {}", models.display()))?;
    let mut identities = Vec::new();
    for (_, files) in crate::face_eval::identity_folders(dir)? {
        let mut templates = Vec::new();
        for file in files {
            let Ok(img) =
                std::fs::read(&file).map_err(anyhow::Error::from).and_then(|b| Ok(decode(&b, ImageLimits::default())?))
            else {
                continue;
            };
            if let Some(face) = engine.detect(&img)?.subject {
                templates.push(engine.template(&img, &face)?.values);
            }
        }
        if !templates.is_empty() {
            identities.push(Identity { templates });
        }
    }
    Ok(identities)
}

/// Enrols the even identities' first templates under keys from `first_key`, appending them to `all`; the
/// probes: (the key the probe should find, or None for a stranger, the probe).
pub fn enrol(
    identities: &[Identity],
    gallery: &mut Gallery,
    all: &mut Vec<f32>,
    first_key: u64,
) -> anyhow::Result<Vec<(Option<u64>, Vec<f32>)>> {
    let mut probes = Vec::new();
    let mut key = first_key;
    for (i, identity) in identities.iter().enumerate() {
        let Some((enrolled, others)) = identity.templates.split_first() else { continue };
        if i % 2 == 1 {
            probes.extend(identity.templates.iter().map(|t| (None, t.clone())));
            continue;
        }
        gallery.insert(key, enrolled)?;
        all.extend_from_slice(enrolled);
        probes.extend(others.iter().map(|t| (Some(key), t.clone())));
        key += 1;
    }
    Ok(probes)
}

/// Searches every probe; prints latency, who was found first, and strangers above [`MIN_SCORE`].
pub fn search(
    gallery: &Gallery,
    all: &[f32],
    probes: &[(Option<u64>, Vec<f32>)],
    f32_scan: impl Fn(&[f32], &[f32], usize) -> Vec<vouch_gallery::Hit>,
) -> anyhow::Result<()> {
    let dim = probes.first().map_or(512, |p| p.1.len());
    let fetch = |key: u64| all.get(key as usize * dim..(key as usize + 1) * dim).map(<[f32]>::to_vec);
    let (mut latencies, mut agree) = (Vec::new(), 0usize);
    let (mut genuine, mut found, mut strangers, mut matched) = (0usize, 0usize, 0usize, 0usize);
    for (want, probe) in probes {
        let t = Instant::now();
        let got = gallery.search(probe, 10, 90, fetch)?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        let reference = f32_scan(all, probe, 1);
        agree += usize::from(got.first().map(|h| h.key) == reference.first().map(|h| h.key));
        let best = got.first();
        let passes = best.is_some_and(|h| similarity_score(h.cosine) > MIN_SCORE);
        match want {
            Some(key) => {
                genuine += 1;
                found += usize::from(passes && best.map(|h| h.key) == Some(*key));
            }
            None => {
                strangers += 1;
                matched += usize::from(passes);
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let at = |p: f64| latencies.get(((latencies.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0);
    println!(
        "  real templates: {} searches, p50 {:.2} ms, p99 {:.2} ms; the gallery's first answer is the f32 scan's in {} of {}",
        probes.len(),
        at(0.5),
        at(0.99),
        agree,
        probes.len()
    );
    println!(
        "  at min_score {MIN_SCORE}: {found} of {genuine} enrolled people found first by another photo; {matched} of {strangers} strangers' searches matched someone"
    );
    Ok(())
}
