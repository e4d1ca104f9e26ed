//! From cosine similarity to the 0..1 similarity score DIS integrators expect.
//!
//! The raw cosine of this embedder is not a probability and its useful range is narrow (same person on
//! different photos 0.6–0.75, different people below 0.35). The score is a monotone piecewise-linear map
//! through anchor points, chosen so that the decision threshold falls on 0.5:
//!
//! | cosine | score | meaning |
//! |---|---|---|
//! | ≤ 0.00 | 0.00 | unrelated |
//! | 0.20 | 0.20 | typical impostor pair |
//! | 0.335 | 0.50 | threshold: FAR 0.1 % on `face_dev` (cosine 0.3315 at FAR 0.1 %, rounded up; see docs/apis.md) |
//! | 0.50 | 0.80 | clear match |
//! | 0.65 | 0.95 | typical genuine pair on good photos |
//! | 1.00 | 1.00 | same image |
//!
//! The match point was calibrated on `../shared/testdata/face_dev` (900 LFW photos, 1,500 genuine and 403,050
//! impostor pairs; it was 0.35 from a 60-identity measurement upstream, which gave FAR 0.056 % there).
//! `vouch faces eval` measures TAR/FAR on any labelled folder, so the anchors can be re-checked on a customer's own
//! data without changing the API.

/// Cosine at which two faces are declared the same person.
pub const MATCH_COSINE: f32 = 0.335;
/// The score that corresponds to [`MATCH_COSINE`].
pub const MATCH_SCORE: f32 = 0.5;

const ANCHORS: [(f32, f32); 6] =
    [(0.0, 0.0), (0.20, 0.20), (MATCH_COSINE, MATCH_SCORE), (0.50, 0.80), (0.65, 0.95), (1.0, 1.0)];

pub fn similarity_score(cosine: f32) -> f32 {
    let c = cosine.clamp(-1.0, 1.0);
    let mut prev = (0.0f32, 0.0f32);
    for (x, y) in ANCHORS {
        if c <= x {
            if x <= prev.0 {
                return y;
            }
            return prev.1 + (c - prev.0) / (x - prev.0) * (y - prev.1);
        }
        prev = (x, y);
    }
    1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_is_monotone_bounded_and_puts_the_threshold_on_one_half() {
        assert_eq!(similarity_score(-0.5), 0.0);
        assert!((similarity_score(MATCH_COSINE) - MATCH_SCORE).abs() < 1e-6);
        assert_eq!(similarity_score(1.0), 1.0);
        let mut last = -1.0;
        for i in -100..=100 {
            let s = similarity_score(i as f32 / 100.0);
            assert!((0.0..=1.0).contains(&s) && s >= last);
            last = s;
        }
    }
}
