//! The estimation error of (nearly) unregularised least squares on isotropic Gaussian designs,
//! in closed form and by Monte Carlo (docs/maths.md §8.6): the double-descent peak at n ≈ p.
//!
//! With X (n × p) of independent N(0, 1) entries, y = Xw* + ε, ε ~ N(0, σ²I) and ŵ the
//! minimum-norm least-squares solution (ridge as α → 0):
//!
//! ```text
//! n > p + 1:  E‖ŵ − w*‖² = σ² p/(n − p − 1)                         (bias 0)
//! n < p − 1:  E‖ŵ − w*‖² = ‖w*‖²(1 − n/p) + σ² n/(p − n − 1)         (bias + variance)
//! ```
//!
//! (the means of the inverse Wishart matrices (XᵀX)⁻¹ and (XXᵀ)⁻¹, and the rotation invariance
//! of the row space for the bias).

use ndarray::{Array1, Array2, ArrayView1, Axis};
use onsager::rng::{self, Domain};
use rand_distr::{Distribution, StandardNormal};

use crate::{Error, Filter, Problem, Result};

/// The estimation error split into its parts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErrorTerms {
    /// ‖E ŵ − w*‖²-type part: what the fit misses of w* without noise.
    pub bias2: f64,
    /// The noise's part, ‖ŵ(ε)‖².
    pub variance: f64,
}

impl ErrorTerms {
    /// bias² + variance.
    pub fn total(&self) -> f64 {
        self.bias2 + self.variance
    }
}

/// The closed form of the expected error at (n, p) for noise σ and ‖w*‖² = `w_norm2`; `None`
/// at and next to the pole (p − 1 ≤ n ≤ p + 1), where the expectation is infinite.
pub fn closed_form(n: usize, p: usize, sigma: f64, w_norm2: f64) -> Option<ErrorTerms> {
    let (n, p, s2) = (n as f64, p as f64, sigma * sigma);
    if n > p + 1.0 {
        Some(ErrorTerms {
            bias2: 0.0,
            variance: s2 * p / (n - p - 1.0),
        })
    } else if n < p - 1.0 {
        Some(ErrorTerms {
            bias2: w_norm2 * (1.0 - n / p),
            variance: s2 * n / (p - n - 1.0),
        })
    } else {
        None
    }
}

/// A mean over repetitions with its standard error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mean {
    /// The mean.
    pub mean: f64,
    /// Its standard error, sd/√reps.
    pub stderr: f64,
}

fn mean_of(xs: &[f64]) -> Mean {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0).max(1.0);
    Mean {
        mean: m,
        stderr: (var / n).sqrt(),
    }
}

/// Monte Carlo estimates of the error terms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MonteCarlo {
    /// ‖ŵ(Xw*) − w*‖².
    pub bias2: Mean,
    /// ‖ŵ(ε)‖².
    pub variance: Mean,
    /// ‖ŵ − w*‖².
    pub total: Mean,
}

/// An n × p design of independent N(0, 1) entries from `rng`.
pub fn gaussian_design(n: usize, p: usize, rng: &mut rng::StreamRng) -> Array2<f64> {
    Array2::from_shape_simple_fn((n, p), || StandardNormal.sample(rng))
}

/// The error of ridge at `alpha` (no intercept) on `reps` isotropic Gaussian designs of n rows
/// for the true coefficients `w_star` and noise σ; repetition r draws from stream r of `seed`
/// (the same figures for any thread count).
///
/// # Errors
/// [`Error::InvalidParam`] for fewer than 2 repetitions or a bad α or σ; errors of
/// [`Problem::new`].
pub fn monte_carlo(
    n: usize,
    w_star: ArrayView1<'_, f64>,
    sigma: f64,
    alpha: f64,
    reps: usize,
    seed: u64,
) -> Result<MonteCarlo> {
    Filter::Tikhonov(alpha).check()?;
    if reps < 2 || !(sigma.is_finite() && sigma >= 0.0) {
        return Err(Error::InvalidParam {
            name: "monte carlo",
            value: format!("{reps} repetitions, sigma {sigma}"),
            reason: "needs at least 2 repetitions and a finite σ ≥ 0",
        });
    }
    let p = w_star.len();
    let (mut bias2, mut variance, mut total) = (vec![], vec![], vec![]);
    for r in 0..reps {
        let mut g = rng::stream(seed, Domain::Other, r as u64);
        let x = gaussian_design(n, p, &mut g);
        let noise = Array1::from_shape_simple_fn(n, || {
            let z: f64 = StandardNormal.sample(&mut g);
            sigma * z
        });
        let mut signal = Array1::zeros(n);
        onsager::linalg::gemm(
            signal.view_mut().insert_axis(Axis(1)),
            false,
            x.view(),
            w_star.insert_axis(Axis(1)),
            1.0,
        );
        let y = &signal + &noise;
        let problem = Problem::new(x.view(), y.view(), false)?;
        let (w, _) = problem.coefficients(Filter::Tikhonov(alpha))?;
        let (w_signal, _) = problem
            .with_target(signal.view())?
            .coefficients(Filter::Tikhonov(alpha))?;
        let sq = |v: Array1<f64>| v.dot(&v);
        bias2.push(sq(&w_signal - &w_star));
        variance.push(sq(&w - &w_signal));
        total.push(sq(&w - &w_star));
    }
    Ok(MonteCarlo {
        bias2: mean_of(&bias2),
        variance: mean_of(&variance),
        total: mean_of(&total),
    })
}
