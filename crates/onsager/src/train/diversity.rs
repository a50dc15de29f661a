//! Keeping persistent EMF magnetisation rows apart (docs/maths.md §3.3): finding rows that
//! have merged, and re-seeding rows from the data batch.
//!
//! Every persistent row iterates the same deterministic map, so two rows that reach the same
//! fixed point stay together for good, and the negative phase ends up seeing one mode counted
//! many times. Rows are compared through a fixed projection (a key per row, sorted), and only
//! rows with nearby keys are compared in full, so the check costs a pass over the rows and a
//! sort, not a comparison of every pair.

use ndarray::{ArrayView2, ArrayViewMut2};

use super::phase::Positive;
use crate::{Float, Reseed};

/// Two rows whose magnetisations all lie within this of each other count as one.
pub(crate) const MERGED: f64 = 1e-3;

/// The buffers of the merged-row check and the re-seeding cursor, allocated once.
#[derive(Clone, Debug)]
pub(super) struct Diversity {
    /// Projection weights of the visible and hidden magnetisations (fixed, in [1, 2)).
    weights: Vec<f64>,
    /// Key of each row, and the rows in key order.
    keys: Vec<f64>,
    order: Vec<usize>,
    /// Whether each row duplicates an earlier one in key order.
    merged: Vec<bool>,
}

impl Diversity {
    /// Buffers for `rows` rows of `nv` + `nh` magnetisations.
    pub(super) fn new(rows: usize, nv: usize, nh: usize) -> Self {
        // Deterministic weights spread over [1, 2) (Weyl sequence of the golden ratio).
        let weights = (0..nv + nh)
            .map(|j| 1.0 + ((j as f64 + 1.0) * 0.618_033_988_749_895).fract())
            .collect();
        Self {
            weights,
            keys: vec![0.0; rows],
            order: (0..rows).collect(),
            merged: vec![false; rows],
        }
    }

    /// Marks every row that coincides (within [`MERGED`]) with another, keeping the first of
    /// each group in key order unmarked; returns the number of distinct rows.
    pub(super) fn find_merged<T: Float>(
        &mut self,
        m_v: ArrayView2<'_, T>,
        m_h: ArrayView2<'_, T>,
    ) -> usize {
        let rows = m_v.nrows();
        let nv = m_v.ncols();
        let (wv, wh) = self.weights.split_at(nv);
        for (r, key) in self.keys[..rows].iter_mut().enumerate() {
            let kv: f64 = m_v.row(r).iter().zip(wv).map(|(m, w)| m.f64() * w).sum();
            let kh: f64 = m_h.row(r).iter().zip(wh).map(|(m, w)| m.f64() * w).sum();
            *key = kv + kh;
        }
        let keys = &self.keys;
        let order = &mut self.order[..rows];
        order.iter_mut().enumerate().for_each(|(i, o)| *o = i);
        order.sort_unstable_by(|&a, &b| keys[a].total_cmp(&keys[b]).then(a.cmp(&b)));
        // Rows within MERGED everywhere have keys within MERGED · Σ weights.
        let reach = MERGED * self.weights.iter().sum::<f64>();
        let same = |a: usize, b: usize| {
            let close = |x: ArrayView2<'_, T>| {
                x.row(a)
                    .iter()
                    .zip(x.row(b))
                    .all(|(p, q)| (p.f64() - q.f64()).abs() <= MERGED)
            };
            close(m_v) && close(m_h)
        };
        let mut distinct = 0;
        for i in 0..rows {
            let r = order[i];
            let mut dup = false;
            for &earlier in order[..i].iter().rev() {
                if keys[r] - keys[earlier] > reach {
                    break;
                }
                if !self.merged[earlier] && same(r, earlier) {
                    dup = true;
                    break;
                }
            }
            self.merged[r] = dup;
            distinct += usize::from(!dup);
        }
        distinct
    }

    /// Whether the last [`Diversity::find_merged`] marked row `r` as a copy of another.
    pub(super) fn is_merged(&self, r: usize) -> bool {
        self.merged[r]
    }

    /// Re-seeds rows of `(m_v, m_h)` from the batch `pos` (m_v = a batch row, m_h = P(h | it)):
    /// the rows [`Diversity::find_merged`] marked, when `reseed.merged`, then the fraction's
    /// share of rows from `cursor` on (the cursor, kept in the trainer's state so that a
    /// resumed run renews the same rows, moves past them). Batch rows are used in turn.
    /// Returns the rows renewed.
    pub(super) fn reseed<T: Float>(
        &mut self,
        reseed: Reseed,
        mut m_v: ArrayViewMut2<'_, T>,
        mut m_h: ArrayViewMut2<'_, T>,
        pos: &Positive<'_, T>,
        cursor: &mut usize,
    ) -> usize {
        let rows = m_v.nrows();
        let b = pos.v.nrows();
        if rows == 0 || b == 0 {
            return 0;
        }
        let mut used = 0;
        let mut renew = |r: usize, used: &mut usize| {
            let src = *used % b;
            m_v.row_mut(r).assign(&pos.v.row(src));
            m_h.row_mut(r).assign(&pos.h.row(src));
            *used += 1;
        };
        if reseed.merged {
            for r in 0..rows {
                if self.merged[r] {
                    renew(r, &mut used);
                }
            }
        }
        let share = (reseed.fraction * rows as f64).round() as usize;
        for _ in 0..share.min(rows) {
            let r = *cursor % rows;
            *cursor = (r + 1) % rows;
            if !(reseed.merged && self.merged[r]) {
                renew(r, &mut used);
            }
        }
        used
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    #[test]
    fn merged_rows_are_found_and_renewed_from_the_batch() {
        // Rows 0, 2 and 3 coincide (3 within 10⁻⁴ of 0), row 1 is apart.
        let mut m_v = array![[0.1, 0.9], [0.5, 0.5], [0.1, 0.9], [0.10005, 0.9]];
        let mut m_h = array![[0.3], [0.3], [0.3], [0.3]];
        let mut d = Diversity::new(4, 2, 1);
        assert_eq!(d.find_merged(m_v.view(), m_h.view()), 2);
        assert_eq!(d.merged.iter().filter(|&&m| m).count(), 2);
        let v = array![[1.0, 0.0], [0.0, 1.0]];
        let h = Array2::from_elem((2, 1), 0.7);
        let pos = Positive {
            v: v.view(),
            h: h.view(),
        };
        let merged = Reseed {
            merged: true,
            fraction: 0.0,
        };
        let mut cursor = 0;
        assert_eq!(
            d.reseed(merged, m_v.view_mut(), m_h.view_mut(), &pos, &mut cursor),
            2
        );
        assert_eq!(d.find_merged(m_v.view(), m_h.view()), 4);
        assert_eq!(m_h.iter().filter(|&&x| x == 0.7).count(), 2);
        // A fraction of 0.5 renews two rows per call, walking the rows in turn.
        let half = Reseed {
            merged: false,
            fraction: 0.5,
        };
        let before = m_v.clone();
        assert_eq!(
            d.reseed(half, m_v.view_mut(), m_h.view_mut(), &pos, &mut cursor),
            2
        );
        assert_eq!(m_v.row(0), v.row(0));
        assert_eq!(m_v.row(1), v.row(1));
        assert_eq!(m_v.row(2), before.row(2));
        d.reseed(half, m_v.view_mut(), m_h.view_mut(), &pos, &mut cursor);
        assert_eq!(cursor, 0);
        assert_eq!(m_v.row(2), v.row(0));
    }
}
