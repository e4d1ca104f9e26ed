//! Does a probe made of several frames beat a probe made of one? Measured with several photos of one person
//! standing in for the frames of a kiosk's live preview (`vouch faces eval --sequences`).

use vouch_vision::score::similarity_score;
use vouch_vision::FaceTemplate;

use crate::face_eval::{accuracy, by_identity, Photo};

/// Identities need this many photos: one reference and at least three frames.
const MIN_PHOTOS: usize = 4;

/// The ways a probe is made from the frames, in the order printed.
const PROBES: [&str; 5] = [
    "one frame (the first)",
    "one frame (the best by quality)",
    "all frames, mean",
    "best 3 frames, quality-weighted",
    "best 2 frames, quality-weighted",
];

fn probes(frames: &[&Photo]) -> Option<[FaceTemplate; 5]> {
    let with = |weigh: &dyn Fn(&Photo) -> f32| -> Vec<(&FaceTemplate, f32)> {
        frames.iter().filter_map(|p| Some((p.templates.first()?, weigh(p)))).collect()
    };
    let quality = with(&|p| p.quality);
    let first = frames.first()?.templates.first()?.clone();
    Some([
        first,
        FaceTemplate::fuse(&quality, 1)?,
        FaceTemplate::fuse(&with(&|_| 1.0), frames.len())?,
        FaceTemplate::fuse(&quality, 3)?,
        FaceTemplate::fuse(&quality, 2)?,
    ])
}

/// Every photo of every identity with `MIN_PHOTOS` or more is the reference once; the identity's other photos are
/// the frames. Genuine pairs: probe against its reference; impostor pairs: probe against every photo of everyone
/// else. The first embedder's templates.
pub fn print(photos: &[Photo]) {
    let by_identity = by_identity(photos);
    let mut genuine: Vec<Vec<f32>> = vec![Vec::new(); PROBES.len()];
    let mut impostor: Vec<Vec<f32>> = vec![Vec::new(); PROBES.len()];
    let mut sequences = 0;
    for group in by_identity.iter().filter(|g| g.len() >= MIN_PHOTOS) {
        for &reference in group {
            let frames: Vec<&Photo> =
                group.iter().filter(|&&i| i != reference).filter_map(|&i| photos.get(i)).collect();
            let (Some(made), Some(reference)) = (probes(&frames), photos.get(reference)) else { continue };
            let Some(reference_template) = reference.templates.first() else { continue };
            sequences += 1;
            for (k, probe) in made.iter().enumerate() {
                if let Some(scores) = genuine.get_mut(k) {
                    scores.push(similarity_score(probe.cosine(reference_template)));
                }
                let Some(scores) = impostor.get_mut(k) else { continue };
                for other in photos.iter().filter(|p| p.identity != reference.identity) {
                    if let Some(t) = other.templates.first() {
                        scores.push(similarity_score(probe.cosine(t)));
                    }
                }
            }
        }
    }
    if sequences == 0 {
        println!("sequences: no identity has {MIN_PHOTOS} photos or more");
        return;
    }
    println!(
        "sequences: {sequences} probes (each photo of a person with {MIN_PHOTOS}+ photos as the reference, the others as frames), {} impostor pairs each way",
        impostor.first().map_or(0, Vec::len)
    );
    println!("  {:<34}  TAR@FAR 1%   TAR@FAR 0.1%      EER", "probe");
    for ((name, mut g), mut i) in PROBES.iter().zip(genuine).zip(impostor) {
        g.sort_by(f32::total_cmp);
        i.sort_by(|a, b| b.total_cmp(a));
        let a = accuracy(&g, &i);
        let [(t1, _), (t01, _), _] = a.tar;
        println!("  {name:<34}  {:>9.2}%  {:>12.2}%  {:>6.2}%", t1 * 100.0, t01 * 100.0, a.eer * 100.0);
    }
}
