//! What training real-valued visible units adds to the binary case (docs/maths.md §1b): the
//! precisions 1/σ² that scale W's and a's gradients, and the step on σ when it is learned.
//!
//! With z = log σ² per visible unit (Cho, Ilin & Raiko 2011), the energy's derivative is
//!
//! ```text
//! −∂E/∂zᵢ = ½(vᵢ − aᵢ)²/σᵢ² − vᵢ(W h)ᵢ/σᵢ²
//! g_zᵢ    = β·(mean over the positive rows − mean over the negative rows),   h = P(h | v)
//! zᵢ ← zᵢ + lr·g_zᵢ,   σᵢ ← max(e^{zᵢ/2}, floor)
//! ```
//!
//! (the expectation over h given v is exact here, the term being linear in h). Each phase's
//! W·h costs one product h·Wᵀ, taken with the weights the statistics were gathered under.

use ndarray::{Array2, ArrayView2};

use rayon::prelude::*;

use crate::{linalg, Float, Rbm, Sigma};

/// Visible units per parallel task of the σ statistics.
const UNITS_PER_TASK: usize = 64;

/// Buffers of the real-valued units' training, sized once (empty for Bernoulli units).
#[derive(Clone, Debug)]
pub(super) struct RealUnits<T: Float> {
    /// 1/σᵢ² of the current batch (nv; empty for Bernoulli units).
    pub precision: Vec<T>,
    /// W·h of one phase's rows (rows × nv; 0 × 0 unless σ is learned).
    wh: Array2<T>,
    /// Σ over rows of −∂E/∂zᵢ, positive minus negative, each phase divided by its rows.
    sums: Vec<f64>,
}

impl<T: Float> RealUnits<T> {
    /// Buffers for a model of `nv` visible units of `rbm`'s type, phases of at most `rows`
    /// rows, and σ set as `sigma` says.
    pub fn new(rbm: &Rbm<T>, rows: usize, sigma: Sigma) -> Self {
        let nv = rbm.n_visible();
        let real = rbm.visible_units().is_real();
        let learned = real && sigma.is_learned();
        Self {
            precision: if real {
                vec![T::zero(); nv]
            } else {
                Vec::new()
            },
            wh: Array2::zeros(if learned { (rows, nv) } else { (0, 0) }),
            sums: if learned { vec![0.0; nv] } else { Vec::new() },
        }
    }

    /// Sets [`RealUnits::precision`] from the model's σ (nothing for Bernoulli units).
    pub fn refresh_precision(&mut self, rbm: &Rbm<T>) {
        for (p, &s) in self.precision.iter_mut().zip(&rbm.sigma) {
            *p = T::one() / (s * s);
        }
    }

    /// Whether σ is learned (the buffers exist).
    pub fn learns_sigma(&self) -> bool {
        !self.sums.is_empty()
    }

    /// Starts the σ gradient of a batch: clears the sums.
    pub fn clear(&mut self) {
        self.sums.iter_mut().for_each(|s| *s = 0.0);
    }

    /// Adds `sign`·mean over the rows of (`v`, `h`) of −∂E/∂zᵢ, under the model as it stands.
    pub fn accumulate(
        &mut self,
        rbm: &Rbm<T>,
        v: ArrayView2<'_, T>,
        h: ArrayView2<'_, T>,
        sign: f64,
    ) {
        let rows = v.nrows();
        let mut wh = self.wh.slice_mut(ndarray::s![..rows, ..]);
        linalg::gemm(wh.view_mut(), false, h, rbm.w.t(), T::one());
        let scale = sign / rows.max(1) as f64;
        let (wh, a, sigma) = (wh.view(), &rbm.a, &rbm.sigma);
        // Fixed blocks of units, each summing its rows in order: the same bits on any number
        // of threads; within a block the units vectorise.
        self.sums
            .par_chunks_mut(UNITS_PER_TASK)
            .enumerate()
            .for_each(|(task, sums)| {
                let lo = task * UNITS_PER_TASK;
                let hi = lo + sums.len();
                let mut coef = [0.0f64; UNITS_PER_TASK];
                let mut bias = [0.0f64; UNITS_PER_TASK];
                for (k, i) in (lo..hi).enumerate() {
                    let sd = sigma[i].f64();
                    coef[k] = scale / (sd * sd);
                    bias[k] = a[i].f64();
                }
                for (vr, whr) in v.rows().into_iter().zip(wh.rows()) {
                    let (vr, whr) = (
                        vr.slice(ndarray::s![lo..hi]),
                        whr.slice(ndarray::s![lo..hi]),
                    );
                    for (k, (s, (&x, &f))) in sums.iter_mut().zip(vr.iter().zip(whr)).enumerate() {
                        let (x, f) = (x.f64(), f.f64());
                        let d = x - bias[k];
                        *s += coef[k] * (0.5 * d * d - x * f);
                    }
                }
            });
    }

    /// Adds `sign`·mean over the rows of the real-valued TAP's extra terms of −∂Γ/∂zᵢ
    /// (docs/maths.md §4b): cᵢ/(2σᵢ²) − cᵢ·Σⱼ J²ᵢⱼ dⱼ, beside [`RealUnits::accumulate`] of the
    /// means, which gives the rest.
    pub fn accumulate_tap(
        &mut self,
        rbm: &Rbm<T>,
        c: ArrayView2<'_, T>,
        pull: ArrayView2<'_, T>,
        sign: f64,
    ) {
        let scale = sign / c.nrows().max(1) as f64;
        for (cr, pr) in c.rows().into_iter().zip(pull.rows()) {
            for (((s, &c), &p), &sd) in self.sums.iter_mut().zip(cr).zip(pr).zip(&rbm.sigma) {
                let (c, p, var) = (c.f64(), p.f64(), sd.f64() * sd.f64());
                *s += scale * (0.5 * c / var - c * p);
            }
        }
    }

    /// The step z ← z + lr·β·sums on z = log σ², σ clamped at `floor`; then the cached
    /// diag(1/σ²)·W is rebuilt.
    pub fn step(&self, rbm: &mut Rbm<T>, lr: f64, floor: f64) {
        let beta = rbm.beta.f64();
        for (s, &g) in rbm.sigma.iter_mut().zip(&self.sums) {
            let z = (s.f64() * s.f64()).ln() + lr * beta * g;
            *s = T::of((0.5 * z).exp().max(floor));
        }
        rbm.refresh_hidden_weights();
    }
}
