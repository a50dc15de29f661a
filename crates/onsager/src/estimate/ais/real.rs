//! AIS for real-valued visible units (docs/maths.md §5.1): from a base model of independent
//! Gaussian (or truncated-Gaussian) units N(μ_A, s_A²), fitted to the data, to the model
//! through inverse temperatures 0 = β₀ < … < β_K = 1, the hidden units summed out:
//!
//! ```text
//! log p*_β(v) = −(1 − β) Σᵢ (vᵢ − μ_A,ᵢ)²/(2s_A,ᵢ²) − β Σᵢ (vᵢ − aᵢ)²/(2σᵢ²) + Σⱼ softplus(β(bⱼ + (vJ)ⱼ))
//! v | h at β:  precision λᵢ = (1 − β)/s_A,ᵢ² + β/σᵢ²,  mean ((1 − β)μ_A,ᵢ/s_A,ᵢ² + β(aᵢ + (Wh)ᵢ)/σᵢ²)/λᵢ
//! log Z_A = Σᵢ log ∫ exp(−(x − μ_A,ᵢ)²/(2s_A,ᵢ²)) dx + nh·log 2
//! ```
//!
//! with J = diag(1/σ²)·W, the truncated units' draws and integrals on their interval.

use ndarray::{Array1, Array2, ArrayView2};
use rand_distr::{Distribution, StandardNormal};

use super::{kernels, Ais, AisEstimate, BaseModel};
use crate::rng::{self, Domain, StreamRng};
use crate::units::truncated_normal;
use crate::{check, linalg, par, Error, Float, Rbm, Result, Visible};

/// The Gaussian base of real-valued units: per unit a mean and a standard deviation (before
/// truncation, for truncated units), on the units' interval.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct GaussianBase {
    pub mean: Array1<f64>,
    pub sd: Array1<f64>,
    pub range: (f64, f64),
}

/// The smallest standard deviation a fitted base takes (a constant column would give 0).
const BASE_SD_FLOOR: f64 = 1e-3;

impl GaussianBase {
    /// The columns' means and standard deviations (floored at 10⁻³·max(1, range width)).
    pub fn from_data<T: Float>(data: ArrayView2<'_, T>, visible: Visible) -> Result<Self> {
        visible.check_data("base data", &data, data.ncols())?;
        let n = data.nrows() as f64;
        let range = visible.range();
        let width = if range.0.is_finite() {
            range.1 - range.0
        } else {
            1.0
        };
        let mean = data.map(|x| x.f64()).sum_axis(ndarray::Axis(0)) / n;
        let sd = Array1::from_shape_fn(data.ncols(), |i| {
            let var = data
                .column(i)
                .iter()
                .map(|x| (x.f64() - mean[i]).powi(2))
                .sum::<f64>()
                / n;
            var.sqrt().max(BASE_SD_FLOOR * width.max(1.0))
        });
        Ok(Self { mean, sd, range })
    }

    /// log of one unit's base integral ∫ exp(−(x − μ)²/(2s²)) dx on the interval.
    fn log_integral(&self, i: usize) -> f64 {
        let (mu, s) = (self.mean[i], self.sd[i]);
        if self.range.0.is_finite() {
            truncated_normal::moments(mu, s, self.range.0, self.range.1)
                .map_or(f64::NAN, |m| m.log_z)
        } else {
            (s * (2.0 * std::f64::consts::PI).sqrt()).ln()
        }
    }

    /// log Z_A for a model with `n_hidden` hidden units.
    pub fn log_partition(&self, n_hidden: usize) -> f64 {
        (0..self.mean.len())
            .map(|i| self.log_integral(i))
            .sum::<f64>()
            + n_hidden as f64 * std::f64::consts::LN_2
    }
}

/// Per-run state: the stream, the log-weight, and the two visible energies of its current v.
struct Run {
    rng: StreamRng,
    log_w: f64,
    /// −Σ (v − a)²/(2σ²) (the model's visible term).
    model: f64,
    /// −Σ (v − μ_A)²/(2s_A²) (the base's).
    base: f64,
}

/// [`Ais::log_partition_with`] for real-valued visible units.
pub(super) fn log_partition<T: Float>(
    ais: &Ais,
    rbm: &Rbm<T>,
    base: &BaseModel,
    progress: &mut dyn crate::Progress,
) -> Result<AisEstimate> {
    if rbm.beta != T::one() {
        return Err(Error::Unsupported {
            what: "AIS at β ≠ 1",
            model: format!("a model with {} visible units", rbm.visible_units()),
            reason: "use β = 1",
        });
    }
    let (m, nv, nh) = (ais.runs, rbm.n_visible(), rbm.n_hidden());
    let gb = match &base.gaussian {
        Some(g) if g.mean.len() == nv && g.range == rbm.visible_units().range() => g.clone(),
        Some(g) => {
            return Err(Error::Shape {
                what: "base model",
                expected: format!("{nv} {} units", rbm.visible_units()),
                got: format!("{} units on {:?}", g.mean.len(), g.range),
            })
        }
        // No Gaussian base given: the model's own visible prior, N(a, σ²).
        None => GaussianBase {
            mean: rbm.a.mapv(|x| x.f64()),
            sd: rbm.sigma.mapv(|x| x.f64()),
            range: rbm.visible_units().range(),
        },
    };
    check::finite1("base model mean", &gb.mean.view())?;
    let betas = ais.schedule.betas()?;
    let (a, sigma) = (rbm.a.mapv(|x| x.f64()), rbm.sigma.mapv(|x| x.f64()));
    let j = rbm.hidden_weights();
    let b = rbm.b.as_slice().expect("contiguous bias");
    let range = gb.range;

    let mut runs: Vec<Run> = (0..m)
        .map(|i| Run {
            rng: rng::stream(ais.seed, Domain::AisRun, i as u64),
            log_w: 0.0,
            model: 0.0,
            base: 0.0,
        })
        .collect();
    let mut v = Array2::<T>::zeros((m, nv));
    let mut x = Array2::<T>::zeros((m, nh));
    // v ~ P(v | h) at β from `row` = W h: the precision-weighted mix of base and model.
    let sample_visible = |v: &mut Array2<T>, runs: &mut [Run], beta: f64| {
        par::rows_with(v.view_mut(), runs, |_, row, run| {
            let (mut model, mut basee) = (0.0, 0.0);
            for i in 0..row.len() {
                let (pa, pm) = ((1.0 - beta) / gb.sd[i].powi(2), beta / sigma[i].powi(2));
                let lambda = pa + pm;
                let mean = (pa * gb.mean[i] + pm * (a[i] + row[i].f64())) / lambda;
                let s = lambda.sqrt().recip();
                let x = if range.0.is_finite() {
                    truncated_normal::sample(mean, s, range.0, range.1, &mut run.rng)
                } else {
                    let e: f64 = StandardNormal.sample(&mut run.rng);
                    mean + s * e
                };
                row[i] = T::of(x);
                let x = row[i].f64();
                model -= (x - a[i]).powi(2) / (2.0 * sigma[i].powi(2));
                basee -= (x - gb.mean[i]).powi(2) / (2.0 * gb.sd[i].powi(2));
            }
            run.model = model;
            run.base = basee;
        });
    };
    sample_visible(&mut v, &mut runs, 0.0);
    for k in 1..betas.len() {
        let (bk, bp) = (betas[k], betas[k - 1]);
        let (tp, dt) = (T::of(bp), T::of(bk - bp));
        let last = k + 1 == betas.len();
        linalg::gemm(x.view_mut(), false, v.view(), j, T::one());
        par::rows_with(x.view_mut(), &mut runs, |_, row, run| {
            let hidden = kernels::ais_hidden_step(row, b, tp, dt);
            run.log_w += (bk - bp) * (run.model - run.base) + hidden.f64();
            if !last {
                rng::bernoulli_in_place(row, &mut run.rng);
            }
        });
        if !last {
            linalg::gemm(v.view_mut(), false, x.view(), rbm.w.t(), T::one());
            sample_visible(&mut v, &mut runs, bk);
        }
        if (k % 64 == 0 || last)
            && progress
                .advance(k as u64, (betas.len() - 1) as u64)
                .is_break()
        {
            return Err(Error::Cancelled { what: "AIS" });
        }
    }
    let log_weights: Vec<f64> = runs.iter().map(|r| r.log_w).collect();
    super::estimate(rbm, log_weights, gb.log_partition(nh), betas.len() - 1)
}
