//! The approximate index: each template's binary sketch (the signs of a fixed random rotation of it, 256 bits by
//! default), scanned by Hamming distance for a shortlist whose int8 codes are then scored exactly.
//!
//! Why sketches and not a graph: an HNSW graph (usearch 2.26.6, measured in docs/benchmarks.md) walks towards the
//! query through neighbours, which works when templates cluster, but on 512-value templates spread over the sphere
//! it found only 72 % of enrolled faces at M 16 and took 141 s to build 100,000 at M 32. A sketch needs no
//! structure: the angle between two templates sets the expected share of differing bits (angle / π), so another
//! photo of an enrolled face (cosine 0.4 and up) differs in far fewer bits than any of a million strangers
//! (cosine about 0), and its template makes the shortlist. The scan reads 32 bytes a template instead of 516.

use std::collections::BinaryHeap;

/// How long a sketch is, and how many templates the Hamming scan hands to the int8 scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SketchParams {
    pub bits: usize,
    pub shortlist: usize,
}

impl Default for SketchParams {
    /// Measured (docs/benchmarks.md): at a million synthetic templates every enrolled face found, 2.7 ms p50; on
    /// real templates among 100,000 the same people found first as by the exact scan.
    fn default() -> SketchParams {
        SketchParams { bits: 256, shortlist: 200 }
    }
}

/// Makes sketches: random signs, then a Walsh–Hadamard transform (a rotation that mixes every value into every
/// coordinate), then the signs of the first `bits` coordinates.
pub(crate) struct Sketcher {
    signs: Vec<f32>,
    pub(crate) words: usize,
}

impl Sketcher {
    /// `None` when `bits` is not a multiple of 64 between 64 and the template length rounded up to a power of two.
    pub(crate) fn new(dim: usize, bits: usize) -> Option<Sketcher> {
        let width = dim.max(1).next_power_of_two();
        if bits == 0 || !bits.is_multiple_of(64) || bits > width {
            return None;
        }
        // A fixed seed: sketches made before a restart match those made after.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let signs = (0..width)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                if state >> 63 == 0 {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect();
        Some(Sketcher { signs, words: bits / 64 })
    }

    pub(crate) fn sketch(&self, unit: &[f32]) -> Vec<u64> {
        let mut v: Vec<f32> =
            self.signs.iter().enumerate().map(|(i, s)| s * unit.get(i).copied().unwrap_or(0.0)).collect();
        hadamard(&mut v);
        let mut out = vec![0u64; self.words];
        for (i, x) in v.iter().take(self.words * 64).enumerate() {
            if *x > 0.0 {
                if let Some(word) = out.get_mut(i / 64) {
                    *word |= 1 << (i % 64);
                }
            }
        }
        out
    }
}

/// The in-place fast Walsh–Hadamard transform (unnormalised: only signs are kept).
fn hadamard(v: &mut [f32]) {
    let mut h = 1;
    while h < v.len() {
        for block in v.chunks_mut(2 * h) {
            let (a, b) = block.split_at_mut(h);
            for (x, y) in a.iter_mut().zip(b.iter_mut()) {
                let (p, q) = (*x, *y);
                *x = p + q;
                *y = p - q;
            }
        }
        h *= 2;
    }
}

/// The `n` slots whose sketches differ least from `query`, over threads.
pub(crate) fn nearest(sketches: &[u64], words: usize, query: &[u64], n: usize, threads: usize) -> Vec<usize> {
    if words == 0 || n == 0 || sketches.is_empty() {
        return Vec::new();
    }
    let templates = sketches.len() / words;
    let parts = threads.clamp(1, 64).min(templates.div_ceil(16_384)).max(1);
    let per_part = templates.div_ceil(parts);
    let mut found: Vec<(u32, usize)> = if parts == 1 {
        nearest_in(sketches, words, query, n, 0)
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = sketches
                .chunks(per_part * words)
                .enumerate()
                .map(|(i, part)| s.spawn(move || nearest_in(part, words, query, n, i * per_part)))
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
        })
    };
    found.sort_unstable();
    found.truncate(n);
    found.into_iter().map(|(_, slot)| slot).collect()
}

fn nearest_in(sketches: &[u64], words: usize, query: &[u64], n: usize, first: usize) -> Vec<(u32, usize)> {
    pulp::Arch::new().dispatch(Part { sketches, words, query, n, first })
}

/// One part's scan, compiled per instruction set (so `count_ones` is one `popcnt` where the CPU has it).
struct Part<'a> {
    sketches: &'a [u64],
    words: usize,
    query: &'a [u64],
    n: usize,
    first: usize,
}

impl pulp::WithSimd for Part<'_> {
    type Output = Vec<(u32, usize)>;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> Self::Output {
        let Part { sketches, words, query, n, first } = self;
        let mut heap: BinaryHeap<(u32, usize)> = BinaryHeap::with_capacity(n + 1);
        let mut worst = u32::MAX;
        let mut distances = [0u32; BLOCK];
        // Distances a block at a time in a tight loop the compiler vectorises (xor and popcount over the lanes),
        // then the rare few that beat the shortlist's worst go into the heap.
        for (b, block) in sketches.chunks(BLOCK * words).enumerate() {
            let count = block.len() / words;
            match words {
                4 => distances_of::<4>(block, query, &mut distances),
                8 => distances_of::<8>(block, query, &mut distances),
                _ => {
                    for (d, sketch) in distances.iter_mut().zip(block.chunks_exact(words)) {
                        *d = sketch.iter().zip(query).map(|(a, q)| (a ^ q).count_ones()).sum();
                    }
                }
            }
            for (i, &distance) in distances.iter().take(count).enumerate() {
                if distance >= worst {
                    continue;
                }
                heap.push((distance, first + b * BLOCK + i));
                if heap.len() > n {
                    heap.pop();
                }
                if heap.len() == n {
                    worst = heap.peek().map_or(u32::MAX, |w| w.0);
                }
            }
        }
        heap.into_vec()
    }
}

/// Templates a block of the scan holds.
const BLOCK: usize = 512;

#[inline(always)]
fn distances_of<const W: usize>(block: &[u64], query: &[u64], out: &mut [u32; BLOCK]) {
    let Ok(query) = <[u64; W]>::try_from(query.get(..W).unwrap_or_default()) else { return };
    for (d, sketch) in out.iter_mut().zip(block.chunks_exact(W)) {
        let mut sum = 0;
        for (a, q) in sketch.iter().zip(query) {
            sum += (a ^ q).count_ones();
        }
        *d = sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_templates_have_close_sketches_and_the_rotation_keeps_lengths() {
        let mut v = vec![1.0, 0.0, 0.0, 0.0];
        hadamard(&mut v);
        assert_eq!(v, vec![1.0, 1.0, 1.0, 1.0]);
        let sketcher = Sketcher::new(512, 256).unwrap_or_else(|| unreachable!());
        let a: Vec<f32> = (0..512).map(|i| ((i * 7919) % 13) as f32 - 6.0).collect();
        let mut b = a.clone();
        if let Some(x) = b.get_mut(3) {
            *x += 0.5;
        }
        let c: Vec<f32> = a.iter().rev().copied().collect();
        let differ = |x: &[u64], y: &[u64]| -> u32 { x.iter().zip(y).map(|(p, q)| (p ^ q).count_ones()).sum() };
        let (sa, sb, sc) = (sketcher.sketch(&a), sketcher.sketch(&b), sketcher.sketch(&c));
        assert!(differ(&sa, &sb) < 20, "{}", differ(&sa, &sb));
        assert!(differ(&sa, &sc) > 60, "{}", differ(&sa, &sc));
        assert!(Sketcher::new(512, 100).is_none() && Sketcher::new(512, 1024).is_none());
    }
}
