//! Exact log Z by enumeration (docs/maths.md §5), for small models.
//!
//! Summing out the other layer analytically,
//!
//! ```text
//! log Z = logsumexp_{h ∈ {0,1}^nh} [ β bᵀh + Σ_i softplus(β(a_i + (W h)_i)) ]      (over h)
//!       = logsumexp_{v ∈ {0,1}^nv} [ β aᵀv + Σ_j softplus(β(b_j + (vᵀW)_j)) ]     (over v)
//! ```
//!
//! For real-valued visible units only the hidden layer is enumerated; each visible unit's
//! integral given its field fᵢ = (W h)ᵢ is a Gaussian one in closed form (docs/maths.md §1b):
//!
//! ```text
//! log Z = logsumexp_h [ β bᵀh + Σ_i L_i((W h)_i) ],
//! L_i(f) = β f(2aᵢ + f)/(2σᵢ²) + log(√(2π)·σᵢ/√β)                       (Gaussian)
//! L_i(f) = β f(2aᵢ + f)/(2σᵢ²) + log ∫_low^high exp(−(v − aᵢ − f)²/(2σᵢ²/β)) dv   (truncated)
//! ```
//!
//! States are enumerated in blocks of 1024: one matrix product per block gives every state's
//! fields, and the vectorised kernels of `kernels.rs` (`dot`, `softplus_shift_sum`) the rest,
//! in `f64`, blocks in parallel, each with a running log-sum-exp, merged in a fixed order.
//! [`log_partition_with`] reports progress and stops within a round of blocks when asked;
//! [`cost`] is the work it does, which [`crate::Estimator::auto`] weighs against AIS.

use std::ops::ControlFlow;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rayon::prelude::*;

use crate::kernels::{dot, softplus_shift_sum, LogSumExp};
use crate::units::{gaussian, truncated_gaussian};
use crate::{linalg, Error, Float, Progress, Rbm, Result, Visible};

/// The largest layer size enumerated (2^30 states).
pub const MAX_UNITS: usize = 30;

const BLOCK: usize = 1024;
/// Blocks per round between progress reports (a few hundred milliseconds on a laptop core for
/// a 784-unit other layer).
const ROUND: u64 = 64;

/// Which layer to enumerate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// Enumerate the visible states, summing the hidden units out.
    Visible,
    /// Enumerate the hidden states, summing the visible units out.
    Hidden,
    /// Whichever layer is smaller (the hidden one on a tie).
    Smaller,
}

impl Layer {
    /// Whether this choice enumerates the hidden layer of a (nv, nh) model.
    fn is_hidden(self, nv: usize, nh: usize) -> bool {
        match self {
            Layer::Visible => false,
            Layer::Hidden => true,
            Layer::Smaller => nh <= nv,
        }
    }
}

/// The work of enumerating `layer` of an (nv × nh) model, in multiply-adds (a softplus counted
/// as 20): 2^n states × (the product's n·other + 20·other for the softplus terms). `None` when
/// the layer is beyond [`MAX_UNITS`].
pub fn cost(n_visible: usize, n_hidden: usize, layer: Layer) -> Option<f64> {
    let (n, other) = if layer.is_hidden(n_visible, n_hidden) {
        (n_hidden, n_visible)
    } else {
        (n_visible, n_hidden)
    };
    (n <= MAX_UNITS).then(|| (n as f64).exp2() * other as f64 * (n as f64 + 20.0))
}

/// log Σ_s exp(β·bias·s + other(β·W s)) over s ∈ {0,1}^n, where `w` is (other × n) and
/// `other` sums the other layer out given its field row (the softplus terms of binary units,
/// the Gaussian integrals of real-valued ones).
fn enumerate(
    w: ArrayView2<'_, f64>,
    bias: ArrayView1<'_, f64>,
    beta: f64,
    other: &(dyn Fn(&[f64]) -> f64 + Sync),
    progress: &mut dyn Progress,
) -> Result<f64> {
    let n = bias.len();
    let states: u64 = 1 << n;
    let blocks = states.div_ceil(BLOCK as u64);
    let bias = bias.mapv(|b| beta * b);
    let bias = bias.as_slice().expect("owned");
    let block = |blk: u64| {
        let first = blk * BLOCK as u64;
        let rows = (states - first).min(BLOCK as u64) as usize;
        let s = Array2::from_shape_fn((rows, n), |(r, j)| ((first + r as u64) >> j & 1) as f64);
        let mut field = Array2::zeros((rows, w.nrows()));
        linalg::gemm(field.view_mut(), false, s.view(), w.t(), beta);
        let mut acc = LogSumExp::default();
        for (srow, frow) in s.rows().into_iter().zip(field.rows()) {
            let lin = dot(srow.as_slice().expect("row-major"), bias);
            acc.push(lin + other(frow.as_slice().expect("row-major")));
        }
        acc
    };
    let mut total = LogSumExp::default();
    let mut start = 0;
    while start < blocks {
        let end = (start + ROUND).min(blocks);
        let parts: Vec<LogSumExp> = (start..end).into_par_iter().map(block).collect();
        parts.into_iter().for_each(|p| total.merge(p));
        start = end;
        if let ControlFlow::Break(()) = progress.advance(start, blocks) {
            return Err(Error::Cancelled {
                what: "exact enumeration",
            });
        }
    }
    Ok(total.value())
}

/// Exact log Z of `rbm` by enumerating `layer` (computed in `f64` whatever `T` is).
///
/// # Errors
/// [`Error::TooLarge`] (naming the state count) if the enumerated layer has more than
/// [`MAX_UNITS`] units.
///
/// ```
/// let rbm = onsager::Rbm::<f64>::zeros(3, 2).unwrap();
/// let log_z = onsager::estimate::exact::log_partition(&rbm, onsager::estimate::exact::Layer::Smaller).unwrap();
/// assert!((log_z - 5.0 * 2f64.ln()).abs() < 1e-12); // 2^5 equally likely states
/// ```
pub fn log_partition<T: Float>(rbm: &Rbm<T>, layer: Layer) -> Result<f64> {
    log_partition_with(rbm, layer, &mut ())
}

/// [`log_partition`], reporting the blocks done to `progress` (and stopping when it says so).
///
/// # Errors
/// As [`log_partition`]; [`Error::Cancelled`] when `progress` stops it.
pub fn log_partition_with<T: Float>(
    rbm: &Rbm<T>,
    layer: Layer,
    progress: &mut dyn Progress,
) -> Result<f64> {
    let m = rbm.cast::<f64>();
    let real = m.visible.is_real();
    if real && layer == Layer::Visible {
        return Err(Error::Unsupported {
            what: "enumerating the visible layer",
            model: format!("{} visible units", m.visible),
            reason: "real-valued states cannot be enumerated; enumerate the hidden layer",
        });
    }
    let hidden = real || layer.is_hidden(m.n_visible(), m.n_hidden());
    let n = if hidden { m.n_hidden() } else { m.n_visible() };
    if n > MAX_UNITS {
        return Err(Error::TooLarge {
            what: "exact log Z",
            reason: format!(
                "enumerating the {} layer means 2^{n} states; at most 2^{MAX_UNITS} are supported (use AIS)",
                if hidden { "hidden" } else { "visible" }
            ),
        });
    }
    let beta = m.beta;
    let softplus = |bias: ArrayView1<'_, f64>| {
        let bias = bias.as_standard_layout().into_owned();
        move |f: &[f64]| softplus_shift_sum(f, bias.as_slice().expect("owned"), beta)
    };
    let (a, sigma) = (
        m.a.as_slice().expect("owned"),
        m.sigma.as_slice().expect("owned"),
    );
    let units = || a.iter().zip(sigma);
    match m.visible {
        Visible::Bernoulli if hidden => enumerate(
            m.w.view(),
            m.b.view(),
            beta,
            &softplus(m.a.view()),
            progress,
        ),
        Visible::Bernoulli => enumerate(m.w.t(), m.a.view(), beta, &softplus(m.b.view()), progress),
        Visible::Gaussian => {
            let other = |f: &[f64]| {
                units()
                    .zip(f)
                    .map(|((&a, &s), &f)| gaussian::log_integral(f / beta, a, s, beta))
                    .sum()
            };
            enumerate(m.w.view(), m.b.view(), beta, &other, progress)
        }
        Visible::TruncatedGaussian { low, high } => {
            let other = |f: &[f64]| {
                units()
                    .zip(f)
                    .map(|((&a, &s), &f)| {
                        truncated_gaussian::log_integral(f / beta, a, s, beta, (low, high))
                    })
                    .sum()
            };
            enumerate(m.w.view(), m.b.view(), beta, &other, progress)
        }
    }
}

/// log p(v) = −F_c(v) − `log_z` for each row of `data` (the model's free energy in `f64`,
/// which checks the data; callers check it first too, before the enumeration they pay for).
pub(crate) fn log_likelihood_given<T: Float>(
    rbm: &Rbm<T>,
    data: ArrayView2<'_, T>,
    log_z: f64,
) -> Result<Array1<f64>> {
    let m = rbm.cast::<f64>();
    let f = m.free_energy(data.mapv(|x| x.f64()).view())?;
    Ok(f.mapv(|f| -f - log_z))
}

/// Exact log p(v) = −F_c(v) − log Z for each row of `data` (a log-density for real-valued
/// visible units).
///
/// # Errors
/// As [`log_partition`], and bad data (shape, non-finite, outside the units' range).
pub fn log_likelihood<T: Float>(rbm: &Rbm<T>, data: ArrayView2<'_, T>) -> Result<Array1<f64>> {
    rbm.visible_units()
        .check_data("data", &data, rbm.n_visible())?;
    let log_z = log_partition(rbm, Layer::Smaller)?;
    log_likelihood_given(rbm, data, log_z)
}

/// Mean exact log-likelihood (log-density for real-valued units) of the rows of `data`, in nats.
///
/// # Errors
/// As [`log_likelihood`].
pub fn mean_log_likelihood<T: Float>(rbm: &Rbm<T>, data: ArrayView2<'_, T>) -> Result<f64> {
    let ll = log_likelihood(rbm, data)?;
    Ok(ll.mean().expect("data is non-empty"))
}
