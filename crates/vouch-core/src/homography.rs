//! Plane projective maps: the homography that takes four points to four others, as perspective placement of a
//! page (the synthetic generator) and its removal (page normalisation) both need.

/// A 3×3 projective map, row-major, with `h[8] == 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homography(pub [f64; 9]);

impl Homography {
    /// The map taking each `from` point to the `to` point at the same index (direct linear transform on four
    /// correspondences). `None` when three of the points are collinear.
    // Indices below run over fixed-size arrays within constant bounds.
    #[allow(clippy::indexing_slicing)]
    pub fn from_points(from: [[f64; 2]; 4], to: [[f64; 2]; 4]) -> Option<Homography> {
        let mut a = [[0.0f64; 9]; 8];
        for (i, (&[x, y], &[u, v])) in from.iter().zip(to.iter()).enumerate() {
            a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
            a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
        }
        let h = solve8(a)?;
        Some(Homography([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0]))
    }

    pub fn apply(&self, [x, y]: [f64; 2]) -> [f64; 2] {
        let h = &self.0;
        let w = h[6] * x + h[7] * y + h[8];
        [(h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w]
    }

    pub fn inverse(&self) -> Option<Homography> {
        let m = &self.0;
        let det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6])
            + m[2] * (m[3] * m[7] - m[4] * m[6]);
        if det.abs() < 1e-12 {
            return None;
        }
        let inv = [
            (m[4] * m[8] - m[5] * m[7]) / det,
            (m[2] * m[7] - m[1] * m[8]) / det,
            (m[1] * m[5] - m[2] * m[4]) / det,
            (m[5] * m[6] - m[3] * m[8]) / det,
            (m[0] * m[8] - m[2] * m[6]) / det,
            (m[2] * m[3] - m[0] * m[5]) / det,
            (m[3] * m[7] - m[4] * m[6]) / det,
            (m[1] * m[6] - m[0] * m[7]) / det,
            (m[0] * m[4] - m[1] * m[3]) / det,
        ];
        let scale = inv[8];
        if scale.abs() < 1e-12 {
            return None;
        }
        Some(Homography(inv.map(|v| v / scale)))
    }
}

/// Gaussian elimination with partial pivoting on the 8×8 system whose augmented column is the last.
#[allow(clippy::indexing_slicing)] // every index is below the arrays' constant sizes
fn solve8(mut a: [[f64; 9]; 8]) -> Option<[f64; 8]> {
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        for row in 0..8 {
            if row != col {
                let factor = a[row][col] / a[col][col];
                let pivot_row = a[col];
                for (cell, p) in a[row].iter_mut().zip(pivot_row.iter()).skip(col) {
                    *cell -= factor * p;
                }
            }
        }
    }
    let mut x = [0.0; 8];
    for (i, v) in x.iter_mut().enumerate() {
        *v = a[i][8] / a[i][i];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_homography_maps_its_four_points_and_its_inverse_maps_them_back() {
        let from = [[0.0, 0.0], [100.0, 0.0], [100.0, 60.0], [0.0, 60.0]];
        let to = [[12.0, 30.0], [140.0, 18.0], [150.0, 110.0], [5.0, 95.0]];
        let h = Homography::from_points(from, to).unwrap();
        let back = h.inverse().unwrap();
        for (f, t) in from.iter().zip(to.iter()) {
            let mapped = h.apply(*f);
            assert!((mapped[0] - t[0]).abs() < 1e-6 && (mapped[1] - t[1]).abs() < 1e-6);
            let round = back.apply(mapped);
            assert!((round[0] - f[0]).abs() < 1e-6 && (round[1] - f[1]).abs() < 1e-6);
        }
        assert!(Homography::from_points(from, [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]).is_none());
    }
}
