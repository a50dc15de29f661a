//! Anderson acceleration of the damped fixed-point sweep (docs/maths.md §3.2), row by row.
//!
//! With G the damped sweep and x_k = (m_v, m_h) one row's magnetisations, g_k = G(x_k) and
//! f_k = g_k − x_k, the type-II step over the last `depth` differences ΔF_j = f_{j+1} − f_j,
//! ΔG_j = g_{j+1} − g_j is
//!
//! ```text
//! γ = argmin_γ ‖f_k − ΔF γ‖₂,     x_{k+1} = clamp₀¹(g_k − ΔG γ)
//! ```
//!
//! (Walker & Ni 2011, eq. 2.1 with the differences of G). Each row keeps its own history and
//! restarts it where ‖f_k‖ grows past twice the previous one, or where the small
//! least-squares system is singular; the step is then the plain damped one. Rows never mix,
//! so the result does not depend on how the rows are split between threads.

use ndarray::{Array2, ArrayViewMut2};
use rayon::prelude::*;

use crate::Float;

/// A row's history bookkeeping and its small least-squares system.
#[derive(Clone, Debug)]
struct RowState {
    /// Differences stored (≤ depth).
    count: usize,
    /// Ring slot the next difference goes to.
    head: usize,
    /// ‖f‖² of the previous iterate.
    last: f64,
    /// Gram matrix ΔFᵀΔF of the stored slots (depth × depth, row-major), its factorised
    /// copy, and the right-hand side ΔFᵀf (then γ).
    gram: Vec<f64>,
    work: Vec<f64>,
    rhs: Vec<f64>,
}

/// Coefficients γ summing (in absolute value) past this mark a near-singular history: the
/// row restarts instead of extrapolating.
const MAX_GAMMA: f64 = 100.0;

/// The history buffers of Anderson acceleration for up to `rows` rows, allocated once.
#[derive(Clone, Debug)]
pub(crate) struct Anderson<T: Float> {
    depth: usize,
    nv: usize,
    nh: usize,
    /// Per row, packed: x, f_prev, g_prev, g, then `depth` ΔF and `depth` ΔG (each nv + nh).
    hist: Array2<T>,
    state: Vec<RowState>,
}

impl<T: Float> Anderson<T> {
    /// Buffers for `rows` rows of `nv` + `nh` magnetisations and `depth` ≥ 1 differences.
    pub(crate) fn new(rows: usize, nv: usize, nh: usize, depth: usize) -> Self {
        let n = nv + nh;
        Self {
            depth,
            nv,
            nh,
            hist: Array2::zeros((rows, (4 + 2 * depth) * n)),
            state: vec![
                RowState {
                    count: 0,
                    head: 0,
                    last: f64::INFINITY,
                    gram: vec![0.0; depth * depth],
                    work: vec![0.0; depth * depth],
                    rhs: vec![0.0; depth],
                };
                rows
            ],
        }
    }

    /// The rows the buffers hold.
    pub(crate) fn rows(&self) -> usize {
        self.hist.nrows()
    }

    /// Forgets every row's history (a new solve begins).
    pub(crate) fn reset(&mut self) {
        for s in &mut self.state {
            s.count = 0;
            s.head = 0;
            s.last = f64::INFINITY;
        }
    }

    /// Records x_k, the magnetisations about to be swept.
    pub(crate) fn save(&mut self, m_v: ArrayViewMut2<'_, T>, m_h: ArrayViewMut2<'_, T>) {
        let (nv, nh) = (self.nv, self.nh);
        self.for_rows(m_v, m_h, |mv, mh, hist, _| {
            hist[..nv].copy_from_slice(mv);
            hist[nv..nv + nh].copy_from_slice(mh);
        });
    }

    /// Given g_k = G(x_k) in `(m_v, m_h)` (the sweep just done), records the differences and
    /// replaces the magnetisations by the accelerated iterate x_{k+1}.
    /// A row whose largest |f| is at most `settled` keeps g_k (its differences would be
    /// rounding noise, and an extrapolation from them a jump).
    pub(crate) fn step(
        &mut self,
        m_v: ArrayViewMut2<'_, T>,
        m_h: ArrayViewMut2<'_, T>,
        settled: f64,
    ) {
        let (nv, depth) = (self.nv, self.depth);
        let n = self.nv + self.nh;
        self.for_rows(m_v, m_h, |mv, mh, hist, st| {
            let (x, rest) = hist.split_at_mut(n);
            let (f_prev, rest) = rest.split_at_mut(n);
            let (g_prev, rest) = rest.split_at_mut(n);
            let (g, rest) = rest.split_at_mut(n);
            let (df, dg) = rest.split_at_mut(depth * n);
            g[..nv].copy_from_slice(mv);
            g[nv..].copy_from_slice(mh);
            // x ← f_k = g_k − x_k, in place; ‖f_k‖².
            x.iter_mut().zip(&*g).for_each(|(xj, &gj)| *xj = gj - *xj);
            let f = &*x;
            let norm = dot(f, f);
            let worst = f.iter().fold(0.0f64, |w, v| w.max(v.f64().abs()));
            if worst <= settled {
                st.count = 0;
                st.head = 0;
                st.last = f64::INFINITY;
                return;
            }
            let first = st.last.is_infinite();
            let mut fresh = false;
            if !first && norm > 4.0 * st.last {
                st.count = 0;
                st.head = 0;
            } else if !first {
                fresh = true;
                let slot = st.head;
                let dfs = &mut df[slot * n..(slot + 1) * n];
                dfs.iter_mut()
                    .zip(f.iter().zip(&*f_prev))
                    .for_each(|(d, (&a, &b))| *d = a - b);
                let dgs = &mut dg[slot * n..(slot + 1) * n];
                dgs.iter_mut()
                    .zip(g.iter().zip(&*g_prev))
                    .for_each(|(d, (&a, &b))| *d = a - b);
                st.head = (slot + 1) % depth;
                st.count = (st.count + 1).min(depth);
            }
            st.last = norm;
            f_prev.copy_from_slice(f);
            g_prev.copy_from_slice(g);
            let c = st.count;
            if c == 0 {
                return;
            }
            // The Gram matrix ΔFᵀΔF is kept up to date one column at a time (the new slot's
            // dot products with every stored slot); the right-hand side ΔFᵀf is fresh.
            let dfc = |a: usize| &df[a * n..(a + 1) * n];
            if fresh {
                let a = (st.head + depth - 1) % depth;
                for b in 0..c {
                    let d = dot(dfc(a), dfc(b));
                    st.gram[a * depth + b] = d;
                    st.gram[b * depth + a] = d;
                }
            }
            for a in 0..c {
                st.rhs[a] = dot(dfc(a), f);
            }
            st.work[..depth * depth].copy_from_slice(&st.gram);
            if !cholesky_solve(&mut st.work, &mut st.rhs, c, depth)
                || st.rhs[..c].iter().map(|g| g.abs()).sum::<f64>() > MAX_GAMMA
            {
                st.count = 0;
                st.head = 0;
                return;
            }
            // x_{k+1} = g_k − ΔG γ, clamped to [0, 1].
            // Accumulated in T, slot by slot, so each pass is a plain vectorised axpy.
            let (lo, hi) = (T::zero(), T::one());
            for a in 0..c {
                let gamma = T::of(st.rhs[a]);
                let d = &dg[a * n..(a + 1) * n];
                mv.iter_mut()
                    .zip(&d[..nv])
                    .for_each(|(m, &x)| *m -= gamma * x);
                mh.iter_mut()
                    .zip(&d[nv..])
                    .for_each(|(m, &x)| *m -= gamma * x);
            }
            let clamp = |m: &mut T| {
                *m = if *m < lo {
                    lo
                } else if *m > hi {
                    hi
                } else {
                    *m
                }
            };
            mv.iter_mut().for_each(clamp);
            mh.iter_mut().for_each(clamp);
        });
    }

    /// Runs `f(m_v row, m_h row, history row, row state)` over the rows of `m_v`, in parallel.
    fn for_rows(
        &mut self,
        mut m_v: ArrayViewMut2<'_, T>,
        mut m_h: ArrayViewMut2<'_, T>,
        f: impl Fn(&mut [T], &mut [T], &mut [T], &mut RowState) + Sync,
    ) {
        let rows = m_v.nrows();
        let (nv, nh) = (self.nv, self.nh);
        if rows == 0 || nv + nh == 0 {
            return;
        }
        let width = self.hist.ncols();
        let mv = m_v
            .as_slice_mut()
            .expect("internal invariant: standard layout");
        let mh = m_h
            .as_slice_mut()
            .expect("internal invariant: standard layout");
        let hist = self.hist.as_slice_mut().expect("a fresh array");
        let min_len = (1 << 14) / width.max(1);
        mv.par_chunks_mut(nv.max(1))
            .zip(mh.par_chunks_mut(nh.max(1)))
            .zip(hist.par_chunks_mut(width))
            .zip(self.state[..rows].par_iter_mut())
            .with_min_len(min_len.max(1))
            .for_each(|(((a, b), h), s)| f(a, b, h, s));
    }
}

/// Σ a_j b_j, accumulated in f64 over eight interleaved partial sums (so the loop
/// vectorises; the order is fixed, so the value is too).
fn dot<T: Float>(a: &[T], b: &[T]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l].f64() * y[l].f64();
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x.f64() * y.f64()).sum();
    acc.iter().sum::<f64>() + tail
}

/// Solves (H + λI) γ = r in place for the leading c × c block of `h` (row stride `stride`),
/// λ = 10⁻¹⁰ · max diag(H); γ is left in `r`. False where a pivot is not positive.
fn cholesky_solve(h: &mut [f64], r: &mut [f64], c: usize, stride: usize) -> bool {
    let scale = (0..c).map(|a| h[a * stride + a]).fold(0.0f64, f64::max);
    if !(scale > 0.0 && scale.is_finite()) {
        return false;
    }
    for a in 0..c {
        h[a * stride + a] += 1e-10 * scale;
    }
    // H = L Lᵀ, L in the lower triangle.
    for j in 0..c {
        let mut d = h[j * stride + j];
        for k in 0..j {
            d -= h[j * stride + k] * h[j * stride + k];
        }
        if d.is_nan() || d <= 1e-14 * scale {
            return false;
        }
        let d = d.sqrt();
        h[j * stride + j] = d;
        for i in j + 1..c {
            let mut s = h[i * stride + j];
            for k in 0..j {
                s -= h[i * stride + k] * h[j * stride + k];
            }
            h[i * stride + j] = s / d;
        }
    }
    for i in 0..c {
        let mut s = r[i];
        for k in 0..i {
            s -= h[i * stride + k] * r[k];
        }
        r[i] = s / h[i * stride + i];
    }
    for i in (0..c).rev() {
        let mut s = r[i];
        for k in i + 1..c {
            s -= h[k * stride + i] * r[k];
        }
        r[i] = s / h[i * stride + i];
    }
    r[..c].iter().all(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3 × 3 system against its known solution.
    #[test]
    fn cholesky_solves_a_small_system() {
        // H = [[4, 2, 0], [2, 3, 1], [0, 1, 2]], γ = [1, -1, 2] → r = H γ = [2, 1, 3].
        let mut h = vec![4.0, 2.0, 0.0, 2.0, 3.0, 1.0, 0.0, 1.0, 2.0];
        let mut r = vec![2.0, 1.0, 3.0];
        assert!(cholesky_solve(&mut h, &mut r, 3, 3));
        for (g, want) in r.iter().zip([1.0, -1.0, 2.0]) {
            assert!((g - want).abs() < 1e-8, "{g} {want}");
        }
        let mut singular = vec![0.0; 4];
        assert!(!cholesky_solve(&mut singular, &mut [1.0, 1.0], 2, 2));
    }

    /// On a linear map x ← A x + c with a 2-dimensional row, Anderson with depth 2 is exact
    /// after the history spans the space (it is GMRES on the linear system).
    #[test]
    fn anderson_solves_a_linear_fixed_point_in_a_few_steps() {
        let a = [[0.9, 0.05], [0.02, 0.8]];
        let c = [0.01, 0.05];
        // Fixed point: (I − A) x = c.
        let det = (1.0 - a[0][0]) * (1.0 - a[1][1]) - a[0][1] * a[1][0];
        let star = [
            ((1.0 - a[1][1]) * c[0] + a[0][1] * c[1]) / det,
            ((1.0 - a[0][0]) * c[1] + a[1][0] * c[0]) / det,
        ];
        let mut acc = Anderson::<f64>::new(1, 1, 1, 2);
        let (mut mv, mut mh) = (
            Array2::from_elem((1, 1), 0.5),
            Array2::from_elem((1, 1), 0.5),
        );
        for _ in 0..4 {
            acc.save(mv.view_mut(), mh.view_mut());
            let (x0, x1) = (mv[[0, 0]], mh[[0, 0]]);
            mv[[0, 0]] = a[0][0] * x0 + a[0][1] * x1 + c[0];
            mh[[0, 0]] = a[1][0] * x0 + a[1][1] * x1 + c[1];
            acc.step(mv.view_mut(), mh.view_mut(), 0.0);
        }
        assert!(
            (mv[[0, 0]] - star[0]).abs() < 1e-9,
            "{} {}",
            mv[[0, 0]],
            star[0]
        );
        assert!((mh[[0, 0]] - star[1]).abs() < 1e-9);
    }
}
