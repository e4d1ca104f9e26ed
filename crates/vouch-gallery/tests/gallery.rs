//! The gallery against a plain f32 scan on random unit vectors, and its bookkeeping.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use vouch_gallery::{dot, Gallery, GalleryError, Hit};

const DIM: usize = 512;

fn unit(rng: &mut StdRng) -> Vec<f32> {
    // A sum of uniforms is close enough to Gaussian for directions spread over the sphere.
    let v: Vec<f32> = (0..DIM).map(|_| (0..4).map(|_| rng.gen_range(-1.0f32..1.0)).sum()).collect();
    let n = dot(&v, &v).sqrt();
    v.iter().map(|x| x / n).collect()
}

/// `v` moved by noise of about `amount` of its length, as another photo of the same face moves a template.
fn near(v: &[f32], amount: f32, rng: &mut StdRng) -> Vec<f32> {
    let noise = unit(rng);
    let moved: Vec<f32> = v.iter().zip(&noise).map(|(a, b)| a + amount * b).collect();
    let n = dot(&moved, &moved).sqrt();
    moved.iter().map(|x| x / n).collect()
}

fn reference(all: &HashMap<u64, Vec<f32>>, query: &[f32], k: usize) -> Vec<Hit> {
    let mut hits: Vec<Hit> = all.iter().map(|(key, t)| Hit { key: *key, cosine: dot(query, t) }).collect();
    hits.sort_by(|a, b| b.cosine.total_cmp(&a.cosine).then(a.key.cmp(&b.key)));
    hits.truncate(k);
    hits
}

fn filled(n: usize, threads: usize, seed: u64) -> (Gallery, HashMap<u64, Vec<f32>>, StdRng) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut gallery = Gallery::new(DIM, threads);
    let mut all = HashMap::new();
    for key in 0..n as u64 {
        let t = unit(&mut rng);
        gallery.insert(key * 7 + 1, &t).unwrap();
        all.insert(key * 7 + 1, t);
    }
    (gallery, all, rng)
}

#[test]
fn the_scan_agrees_with_a_plain_f32_scan() {
    let (gallery, all, mut rng) = filled(20_000, 2, 1);
    let keys: Vec<u64> = all.keys().copied().collect();
    for q in 0..40 {
        // Half the queries are near an enrolled template, half are strangers.
        let query = if q % 2 == 0 { near(&all[&keys[q * 37 % keys.len()]], 0.8, &mut rng) } else { unit(&mut rng) };
        let want = reference(&all, &query, 10);
        let got = gallery.search(&query, 10, 90, |key| all.get(&key).cloned()).unwrap();
        let (got_keys, want_keys): (Vec<u64>, Vec<u64>) =
            (got.iter().map(|h| h.key).collect(), want.iter().map(|h| h.key).collect());
        assert_eq!(got_keys, want_keys, "query {q}");
        for (g, w) in got.iter().zip(&want) {
            assert!((g.cosine - w.cosine).abs() < 1e-3, "query {q}: {} against {}", g.cosine, w.cosine);
        }
        // The int8 scores alone are close too.
        for hit in gallery.candidates(&query, 5).unwrap() {
            assert!((hit.cosine - dot(&query, &all[&hit.key])).abs() < 0.01, "query {q}");
        }
    }
}

#[test]
fn one_thread_and_several_find_the_same() {
    let (one, all, mut rng) = filled(9_000, 1, 2);
    let mut four = Gallery::new(DIM, 4);
    for (key, t) in &all {
        four.insert(*key, t).unwrap();
    }
    for _ in 0..10 {
        let query = unit(&mut rng);
        let a: Vec<u64> = one.candidates(&query, 20).unwrap().iter().map(|h| h.key).collect();
        let b: Vec<u64> = four.candidates(&query, 20).unwrap().iter().map(|h| h.key).collect();
        assert_eq!(a, b);
    }
}

#[test]
fn removed_and_replaced_templates_are_found_as_they_now_are() {
    let (mut gallery, mut all, mut rng) = filled(3_000, 2, 3);
    let victim = 7 * 100 + 1;
    let query = all[&victim].clone();
    assert_eq!(gallery.search(&query, 1, 8, |k| all.get(&k).cloned()).unwrap()[0].key, victim);
    assert!(gallery.remove(victim));
    assert!(!gallery.remove(victim), "already gone");
    all.remove(&victim);
    assert_eq!(gallery.len(), 2_999);
    let hits = gallery.search(&query, 5, 8, |k| all.get(&k).cloned()).unwrap();
    assert!(hits.iter().all(|h| h.key != victim));
    assert!(hits[0].cosine < 0.5, "nobody else is that face: {}", hits[0].cosine);
    // The slot it left is taken by the last template, which is still found.
    let last = 7 * 2_999 + 1;
    assert_eq!(gallery.search(&all[&last], 1, 8, |k| all.get(&k).cloned()).unwrap()[0].key, last);
    // Enrolling a key again replaces its template.
    let other = unit(&mut rng);
    gallery.insert(last, &other).unwrap();
    all.insert(last, other.clone());
    assert_eq!(gallery.len(), 2_999);
    let hit = gallery.search(&other, 1, 8, |k| all.get(&k).cloned()).unwrap()[0];
    assert_eq!(hit.key, last);
    assert!((hit.cosine - 1.0).abs() < 1e-5);
}

#[test]
fn what_is_not_a_template_is_refused() {
    let mut gallery = Gallery::new(DIM, 1);
    assert_eq!(gallery.insert(1, &[0.5; 3]), Err(GalleryError::Dimension { expected: DIM, found: 3 }));
    assert_eq!(gallery.insert(1, &[0.0; DIM]), Err(GalleryError::NotAVector));
    let mut nan = vec![0.1; DIM];
    nan[9] = f32::NAN;
    assert_eq!(gallery.insert(1, &nan), Err(GalleryError::NotAVector));
    assert!(gallery.is_empty());
    assert_eq!(gallery.search(&[0.1; DIM], 3, 3, |_| None).unwrap(), Vec::<Hit>::new());
    assert!(gallery.bytes_per_template() <= 600, "{}", gallery.bytes_per_template());
}

#[test]
fn the_approximate_index_finds_enrolled_faces_as_the_scan_does_and_keeps_removals_and_replacements() {
    let mut rng = StdRng::seed_from_u64(11);
    let mut graph = Gallery::approximate(DIM, 2, vouch_gallery::sketch::SketchParams::default()).unwrap();
    assert!(graph.is_approximate() && graph.is_empty());
    let all: HashMap<u64, Vec<f32>> = (0..20_000u64).map(|key| (key * 3 + 2, unit(&mut rng))).collect();
    for (key, t) in &all {
        graph.insert(*key, t).unwrap();
    }
    assert_eq!(graph.len(), 20_000);
    let keys: Vec<u64> = all.keys().copied().collect();
    let fetch = |key: u64| all.get(&key).cloned();
    let mut found = 0;
    for q in 0..100 {
        // Another photo of an enrolled face (cosine about 0.5, a hard genuine pair): the scan's answer is the
        // enrolled template, and so is the approximate index's.
        let mate = keys[q * 131 % keys.len()];
        let query = near(&all[&mate], 1.5, &mut rng);
        let want = reference(&all, &query, 1)[0];
        assert_eq!(want.key, mate);
        let got = graph.search(&query, 1, 20, fetch).unwrap()[0];
        if got.key == mate {
            found += 1;
            assert!((got.cosine - want.cosine).abs() < 1e-3, "re-ranked with the exact template");
        }
    }
    assert!(found >= 99, "the approximate index found {found} of 100 enrolled faces");

    // Removed: no longer found. Replaced: found as it now is. Refused as the scan refuses.
    let victim = keys[5];
    assert!(graph.remove(victim) && !graph.contains(victim));
    let hits = graph.search(&all[&victim], 3, 10, fetch).unwrap();
    assert!(hits.iter().all(|h| h.key != victim));
    let other = unit(&mut rng);
    graph.insert(keys[6], &other).unwrap();
    let hit = graph.search(&other, 1, 10, |_| Some(other.clone())).unwrap()[0];
    assert_eq!((hit.key, graph.len()), (keys[6], 19_999));
    assert!(matches!(graph.insert(1, &[0.5; 3]), Err(GalleryError::Dimension { .. })));
    assert!(matches!(graph.search(&vec![0.0; DIM], 1, 0, fetch), Err(GalleryError::NotAVector)));
    let bits = vouch_gallery::sketch::SketchParams { bits: 100, shortlist: 10 };
    assert!(matches!(Gallery::approximate(DIM, 1, bits), Err(GalleryError::SketchBits { max: 512 })));
    // What the scan found for every template left is what the approximate index finds: each its own best.
    for key in keys.iter().filter(|k| **k != victim && **k != keys[6]).step_by(997) {
        assert_eq!(graph.search(&all[key], 1, 10, fetch).unwrap()[0].key, *key);
    }
}

#[test]
fn every_sketch_length_keeps_its_templates_through_removals_across_blocks() {
    // 1,003 templates fill 125 blocks of 8 and part of another; removing every third moves templates between
    // blocks and leaves the last one part-filled, whose empty lanes must never be answered.
    for bits in [64, 192, 256, 512] {
        let mut rng = StdRng::seed_from_u64(bits as u64);
        let params = vouch_gallery::sketch::SketchParams { bits, shortlist: 3 };
        let mut graph = Gallery::approximate(DIM, 2, params).unwrap();
        let all: HashMap<u64, Vec<f32>> = (0..1_003u64).map(|key| (key, unit(&mut rng))).collect();
        for key in 0..1_003u64 {
            graph.insert(key, &all[&key]).unwrap();
        }
        let removed: Vec<u64> = (0..1_003u64).step_by(3).collect();
        for key in &removed {
            assert!(graph.remove(*key));
        }
        assert_eq!(graph.len(), 1_003 - removed.len());
        let fetch = |key: u64| all.get(&key).cloned();
        for (key, template) in &all {
            let hits = graph.search(template, 3, 0, fetch).unwrap();
            assert_eq!(hits.len(), 3, "{bits} bits");
            assert!(hits.iter().all(|h| h.key % 3 != 0 && h.key < 1_003), "{bits} bits: {hits:?}");
            if key % 3 != 0 {
                assert_eq!(hits[0].key, *key, "{bits} bits");
            }
        }
    }
}
