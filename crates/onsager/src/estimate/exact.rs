//! Exact log Z by enumeration (docs/maths.md §5), for small models.
//!
//! Summing out the other layer analytically,
//!
//! ```text
//! log Z = logsumexp_{h ∈ {0,1}^nh} [ β bᵀh + Σ_i softplus(β(a_i + (W h)_i)) ]      (over h)
//!       = logsumexp_{v ∈ {0,1}^nv} [ β aᵀv + Σ_j softplus(β(b_j + (vᵀW)_j)) ]     (over v)
//! ```
//!
//! States are enumerated in blocks of 1024 (one matrix product each), in parallel, in `f64`,
//! with a running log-sum-exp; blocks are merged in a fixed order.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rayon::prelude::*;

use crate::kernels::{softplus, LogSumExp};
use crate::{check, linalg, Error, Float, Rbm, Result};

/// The largest layer size enumerated (2^30 states).
pub const MAX_UNITS: usize = 30;

const BLOCK: usize = 1024;

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

/// log Σ_s exp(β·bias·s + Σ_i softplus(β(other_bias_i + (W s)_i))) over s ∈ {0,1}^n, where
/// `w` is (other × n).
fn enumerate(
    w: ArrayView2<'_, f64>,
    bias: ArrayView1<'_, f64>,
    other_bias: ArrayView1<'_, f64>,
    beta: f64,
) -> f64 {
    let n = bias.len();
    let states: u64 = 1 << n;
    let blocks = states.div_ceil(BLOCK as u64);
    let parts: Vec<LogSumExp> = (0..blocks)
        .into_par_iter()
        .map(|blk| {
            let first = blk * BLOCK as u64;
            let rows = (states - first).min(BLOCK as u64) as usize;
            let s = Array2::from_shape_fn((rows, n), |(r, j)| ((first + r as u64) >> j & 1) as f64);
            let mut field = Array2::zeros((rows, w.nrows()));
            linalg::gemm(field.view_mut(), false, s.view(), w.t(), beta);
            let mut acc = LogSumExp::default();
            for (srow, frow) in s.rows().into_iter().zip(field.rows()) {
                let lin: f64 = srow.iter().zip(bias).map(|(x, b)| x * b).sum::<f64>() * beta;
                let sp: f64 = frow
                    .iter()
                    .zip(other_bias)
                    .map(|(f, c)| softplus(f + beta * c))
                    .sum();
                acc.push(lin + sp);
            }
            acc
        })
        .collect();
    let mut total = LogSumExp::default();
    parts.into_iter().for_each(|p| total.merge(p));
    total.value()
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
    let m = rbm.cast::<f64>();
    let hidden = match layer {
        Layer::Visible => false,
        Layer::Hidden => true,
        Layer::Smaller => m.n_hidden() <= m.n_visible(),
    };
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
    Ok(if hidden {
        enumerate(m.w.view(), m.b.view(), m.a.view(), m.beta)
    } else {
        enumerate(m.w.t(), m.a.view(), m.b.view(), m.beta)
    })
}

/// Exact log p(v) = −F_c(v) − log Z for each row of `data`.
///
/// # Errors
/// As [`log_partition`], and bad data (shape, non-finite, outside \[0, 1\]).
pub fn log_likelihood<T: Float>(rbm: &Rbm<T>, data: ArrayView2<'_, T>) -> Result<Array1<f64>> {
    check::unit_data("data", &data, rbm.n_visible())?;
    let log_z = log_partition(rbm, Layer::Smaller)?;
    let m = rbm.cast::<f64>();
    let f = m.free_energy(data.mapv(|x| x.f64()).view())?;
    Ok(f.mapv(|f| -f - log_z))
}

/// Mean exact log-likelihood of the rows of `data`, in nats.
///
/// # Errors
/// As [`log_likelihood`].
pub fn mean_log_likelihood<T: Float>(rbm: &Rbm<T>, data: ArrayView2<'_, T>) -> Result<f64> {
    let ll = log_likelihood(rbm, data)?;
    Ok(ll.mean().expect("data is non-empty"))
}
