//! The exact int8 scan: one integer dot product per template, compiled for the best instruction set the CPU has
//! (pulp dispatches at run time), over contiguous codes split between threads, keeping the best `n` of each part.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The `n` best `(slot, dot)` pairs of `codes` (`dim` values a template) against `query`, best first.
pub fn best(codes: &[i8], dim: usize, query: &[i8], n: usize, threads: usize) -> Vec<(usize, i32)> {
    if dim == 0 || n == 0 || codes.is_empty() {
        return Vec::new();
    }
    let templates = codes.len() / dim;
    let parts = threads.clamp(1, 64).min(templates.div_ceil(4096)).max(1);
    let per_part = templates.div_ceil(parts);
    let mut found: Vec<(usize, i32)> = if parts == 1 {
        best_in(codes, dim, query, n, 0)
    } else {
        // The calling thread scans the first part itself: one thread fewer to start per search.
        std::thread::scope(|s| {
            let mut parts = codes.chunks(per_part * dim).enumerate();
            let own = parts.next();
            let handles: Vec<_> =
                parts.map(|(i, part)| s.spawn(move || best_in(part, dim, query, n, i * per_part))).collect();
            let mut found = own.map(|(_, part)| best_in(part, dim, query, n, 0)).unwrap_or_default();
            found.extend(handles.into_iter().flat_map(|h| h.join().unwrap_or_default()));
            found
        })
    };
    found.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    found.truncate(n);
    found
}

/// The best `n` of one part, its slots counted from `first`.
fn best_in(codes: &[i8], dim: usize, query: &[i8], n: usize, first: usize) -> Vec<(usize, i32)> {
    pulp::Arch::new().dispatch(Part { codes, dim, query, n, first })
}

/// One part's scan. As a `WithSimd`, its body is compiled once per instruction set and inlined into a function
/// with those features, so the dot product below is vectorised for AVX2 or AVX-512 where the CPU has them.
struct Part<'a> {
    codes: &'a [i8],
    dim: usize,
    query: &'a [i8],
    n: usize,
    first: usize,
}

impl pulp::WithSimd for Part<'_> {
    type Output = Vec<(usize, i32)>;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> Self::Output {
        let Part { codes, dim, query, n, first } = self;
        let mut heap: BinaryHeap<Reverse<(i32, usize)>> = BinaryHeap::with_capacity(n + 1);
        for (i, code) in codes.chunks_exact(dim).enumerate() {
            let dot = dot_i8(code, query);
            if heap.len() < n {
                heap.push(Reverse((dot, first + i)));
            } else if heap.peek().is_some_and(|Reverse((worst, _))| dot > *worst) {
                heap.pop();
                heap.push(Reverse((dot, first + i)));
            }
        }
        heap.into_iter().map(|Reverse((dot, slot))| (slot, dot)).collect()
    }
}

/// The integer dot product, written as the plain reduction the compiler vectorises (widening multiply-adds)
/// for the instruction set `dispatch` compiled it for.
#[inline(always)]
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).map(|(p, q)| i32::from(*p) * i32::from(*q)).sum()
}

/// The `n` best of the given `slots` by their int8 dot with `query`, best first.
pub fn score(codes: &[i8], dim: usize, query: &[i8], slots: &[usize], n: usize) -> Vec<(usize, i32)> {
    let mut scored = pulp::Arch::new().dispatch(Listed { codes, dim, query, slots });
    scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.truncate(n);
    scored
}

struct Listed<'a> {
    codes: &'a [i8],
    dim: usize,
    query: &'a [i8],
    slots: &'a [usize],
}

impl pulp::WithSimd for Listed<'_> {
    type Output = Vec<(usize, i32)>;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> Self::Output {
        let Listed { codes, dim, query, slots } = self;
        slots
            .iter()
            .filter_map(|&slot| codes.get(slot * dim..(slot + 1) * dim).map(|code| (slot, dot_i8(code, query))))
            .collect()
    }
}
