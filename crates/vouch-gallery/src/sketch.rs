//! The approximate index: each template's binary sketch (the signs of a fixed random rotation of it, 256 bits by
//! default), scanned by Hamming distance for a shortlist whose int8 codes are then scored exactly.
//!
//! Why sketches and not a graph: an HNSW graph (usearch 2.26.6, measured in docs/benchmarks.md) walks towards the
//! query through neighbours, which works when templates cluster, but on 512-value templates spread over the sphere
//! it found only 72 % of enrolled faces at M 16 and took 141 s to build 100,000 at M 32. A sketch needs no
//! structure: the angle between two templates sets the expected share of differing bits (angle / π), so another
//! photo of an enrolled face differs in fewer bits than nearly all of a million strangers (cosine about 0), and
//! its template makes the shortlist: by the binomial model, at a million random strangers a photo at cosine 0.6
//! does 99.9 % of the time, one at the 0.475 of `min_score` 0.75 does 94 % (shortlist 200) or 97 % (1,000).
//! The scan reads 32 bytes a template instead of 516, laid out so that it runs at memory speed.

/// How long a sketch is, and how many templates the Hamming scan hands to the int8 scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SketchParams {
    pub bits: usize,
    pub shortlist: usize,
}

impl Default for SketchParams {
    /// Measured (docs/benchmarks.md): at a million synthetic templates every enrolled face found, 1.7 ms p50 (the
    /// median of five runs); on real templates among 100,000 the same people found first as by the exact scan.
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

/// Templates whose sketches are stored together, word by word: lane `l` of row `w` is word `w` of the block's
/// `l`-th template. Laid out so, a block's distances are 8-lane vector operations (xor, popcount, add) with no
/// horizontal sums, and the scan runs at memory speed instead of 2.7 ns a template.
pub(crate) const LANES: usize = 8;

/// The sketches of a gallery's slots, in blocks of [`LANES`] templates (the last block padded with zeros).
#[derive(Default)]
pub(crate) struct Sketches {
    words: usize,
    data: Vec<u64>,
}

impl Sketches {
    pub(crate) fn new(words: usize) -> Sketches {
        Sketches { words, data: Vec::new() }
    }

    fn at(&self, slot: usize, word: usize) -> usize {
        (slot / LANES) * LANES * self.words + word * LANES + slot % LANES
    }

    /// Stores `sketch` as slot `slot`'s, growing by a block when the slot is the first of a new one.
    pub(crate) fn put(&mut self, slot: usize, sketch: &[u64]) {
        let needed = (slot / LANES + 1) * LANES * self.words;
        if self.data.len() < needed {
            self.data.resize(needed, 0);
        }
        for (w, value) in sketch.iter().enumerate().take(self.words) {
            let at = self.at(slot, w);
            if let Some(dst) = self.data.get_mut(at) {
                *dst = *value;
            }
        }
    }

    /// Moves slot `from`'s sketch to `to` (removal fills a slot with the last one).
    pub(crate) fn copy(&mut self, from: usize, to: usize) {
        for w in 0..self.words {
            let value = self.data.get(self.at(from, w)).copied().unwrap_or(0);
            let at = self.at(to, w);
            if let Some(dst) = self.data.get_mut(at) {
                *dst = value;
            }
        }
    }

    /// Keeps the first `len` slots: later lanes of the last block are zeroed, later blocks dropped.
    pub(crate) fn truncate(&mut self, len: usize) {
        self.data.truncate(len.div_ceil(LANES) * LANES * self.words);
        for slot in len..len.div_ceil(LANES) * LANES {
            for w in 0..self.words {
                let at = self.at(slot, w);
                if let Some(dst) = self.data.get_mut(at) {
                    *dst = 0;
                }
            }
        }
    }

    /// The `n` slots among the first `len` whose sketches differ least from `query`, over threads.
    pub(crate) fn nearest(&self, len: usize, query: &[u64], n: usize, threads: usize) -> Vec<usize> {
        let block = LANES * self.words;
        if self.words == 0 || n == 0 || len == 0 || query.len() != self.words {
            return Vec::new();
        }
        let blocks = len.div_ceil(LANES);
        let parts = threads.clamp(1, 64).min(blocks.div_ceil(2048)).max(1);
        let per_part = blocks.div_ceil(parts);
        let data = self.data.get(..blocks * block).unwrap_or_default();
        let scan = |(i, part): (usize, &[u64])| {
            let first = i * per_part * LANES;
            let op = Part { blocks: part, words: self.words, query, n, first, len };
            match Popcnt512::try_new() {
                Some(simd) => simd.vectorize(|| op.run()),
                None => pulp::Arch::new().dispatch(op),
            }
        };
        let mut found: Vec<(u32, usize)> = if parts == 1 {
            scan((0, data))
        } else {
            // The calling thread scans the first part itself: one thread fewer to start per search.
            std::thread::scope(|s| {
                let mut parts = data.chunks(per_part * block).enumerate();
                let own = parts.next();
                let handles: Vec<_> = parts.map(|part| s.spawn(move || scan(part))).collect();
                let mut found = own.map(scan).unwrap_or_default();
                found.extend(handles.into_iter().flat_map(|h| h.join().unwrap_or_default()));
                found
            })
        };
        found.sort_unstable();
        found.truncate(n);
        found.into_iter().map(|(_, slot)| slot).collect()
    }
}

pulp::simd_type! {
    /// AVX-512 with its vector popcount (Ice Lake, Zen 4 and later): a block's 8 distances of one word in one
    /// instruction. Elsewhere the scan is pulp's usual dispatch, where the compiler counts bits by table lookups.
    struct Popcnt512 {
        pub sse: "sse",
        pub sse2: "sse2",
        pub popcnt: "popcnt",
        pub avx: "avx",
        pub avx2: "avx2",
        pub avx512f: "avx512f",
        pub avx512bw: "avx512bw",
        pub avx512vl: "avx512vl",
        pub avx512vpopcntdq: "avx512vpopcntdq",
    }
}

/// One part's scan: blocks of sketches, the first of them slot `first`; slots from `len` on are padding.
struct Part<'a> {
    blocks: &'a [u64],
    words: usize,
    query: &'a [u64],
    n: usize,
    first: usize,
    len: usize,
}

impl Part<'_> {
    #[inline(always)]
    fn run(self) -> Vec<(u32, usize)> {
        match self.words {
            4 => self.scan::<4>(),
            8 => self.scan::<8>(),
            _ => self.scan_any(),
        }
    }

    #[inline(always)]
    fn scan<const W: usize>(self) -> Vec<(u32, usize)> {
        let mut query = [0u64; W];
        query.iter_mut().zip(self.query).for_each(|(q, v)| *q = *v);
        let mut best = Shortlist::new(self.n);
        for (b, block) in self.blocks.chunks_exact(W * LANES).enumerate() {
            let mut distances = [0u64; LANES];
            for (row, q) in block.chunks_exact(LANES).zip(query) {
                for (d, word) in distances.iter_mut().zip(row) {
                    *d += u64::from((word ^ q).count_ones());
                }
            }
            best.offer(&distances, self.first + b * LANES, self.len);
        }
        best.into_vec()
    }

    #[inline(always)]
    fn scan_any(self) -> Vec<(u32, usize)> {
        let mut best = Shortlist::new(self.n);
        for (b, block) in self.blocks.chunks_exact(self.words * LANES).enumerate() {
            let mut distances = [0u64; LANES];
            for (row, q) in block.chunks_exact(LANES).zip(self.query) {
                for (d, word) in distances.iter_mut().zip(row) {
                    *d += u64::from((word ^ q).count_ones());
                }
            }
            best.offer(&distances, self.first + b * LANES, self.len);
        }
        best.into_vec()
    }
}

impl pulp::WithSimd for Part<'_> {
    type Output = Vec<(u32, usize)>;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> Self::Output {
        self.run()
    }
}

/// The `n` nearest so far. Templates under the bar are appended; when twice `n` have gathered, the nearest `n`
/// are selected and the bar drops to the farthest of them. Cheaper than a heap: early in a scan, when the bar is
/// still high, many templates pass it, and each heap insertion would cost a logarithmic sift.
struct Shortlist {
    kept: Vec<(u32, usize)>,
    n: usize,
    bar: u64,
}

impl Shortlist {
    fn new(n: usize) -> Shortlist {
        Shortlist { kept: Vec::with_capacity(2 * n + LANES), n, bar: u64::MAX }
    }

    #[inline(always)]
    fn offer(&mut self, distances: &[u64; LANES], first: usize, len: usize) {
        // Nearly every block has no template under the bar: one vector compare skips it.
        if distances.iter().all(|d| *d >= self.bar) {
            return;
        }
        for (i, &d) in distances.iter().enumerate() {
            let slot = first + i;
            if d < self.bar && slot < len {
                self.kept.push((u32::try_from(d).unwrap_or(u32::MAX), slot));
            }
        }
        if self.kept.len() >= 2 * self.n {
            self.keep_nearest();
        }
    }

    fn keep_nearest(&mut self) {
        if self.kept.len() > self.n {
            self.kept.select_nth_unstable(self.n - 1);
            self.kept.truncate(self.n);
        }
        if self.kept.len() == self.n {
            self.bar = self.kept.iter().map(|k| u64::from(k.0)).max().unwrap_or(u64::MAX);
        }
    }

    fn into_vec(mut self) -> Vec<(u32, usize)> {
        self.keep_nearest();
        self.kept
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
