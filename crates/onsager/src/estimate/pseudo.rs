//! Cheap proxies: the pseudo-likelihood (exactly as scikit-learn's `BernoulliRBM.score_samples`)
//! and the reconstruction error (docs/maths.md §5).

use ndarray::{Array1, Array2, ArrayView2};

use crate::rng::{self, Domain};
use crate::{check, Error, Float, Rbm, Result};

/// Pseudo-likelihood per row with one bit flipped per row: row i flips column `flips[i]`,
/// giving ṽ, and scores nv · log σ(F_c(ṽ) − F_c(v)) (docs/maths.md §5). For binary v this is nv
/// times log P(v_i | v_{−i}) of the flipped unit.
///
/// # Errors
/// Bad data (shape, empty, non-finite, outside \[0, 1\]); [`Error::Shape`] if `flips` does not
/// have one entry per row; [`Error::InvalidParam`] for a column index out of range.
pub fn pseudo_log_likelihood_with<T: Float>(
    rbm: &Rbm<T>,
    data: ArrayView2<'_, T>,
    flips: &[usize],
) -> Result<Array1<f64>> {
    rbm.require_bernoulli(
        "pseudo-likelihood",
        "it flips binary units; use the exact log-density or the reconstruction error",
    )?;
    check::unit_data("data", &data, rbm.n_visible())?;
    if flips.len() != data.nrows() {
        return Err(Error::Shape {
            what: "flipped-bit indices",
            expected: data.nrows().to_string(),
            got: flips.len().to_string(),
        });
    }
    if let Some(&bad) = flips.iter().find(|&&j| j >= rbm.n_visible()) {
        return Err(Error::InvalidParam {
            name: "flips",
            value: bad.to_string(),
            reason: "a flipped column must be below the number of visible units",
        });
    }
    let mut flipped = data.to_owned();
    for (mut row, &j) in flipped.rows_mut().into_iter().zip(flips) {
        row[j] = T::one() - row[j];
    }
    let f = rbm.free_energy(data)?;
    let f_flipped = rbm.free_energy(flipped.view())?;
    let nv = rbm.n_visible() as f64;
    Ok(Array1::from_shape_fn(data.nrows(), |i| {
        nv * crate::kernels::log_sigmoid(f_flipped[i] - f[i])
    }))
}

/// Pseudo-likelihood per row with the flipped column of row i drawn uniformly from random stream
/// i of `seed` (see [`pseudo_log_likelihood_with`]).
///
/// # Errors
/// As [`pseudo_log_likelihood_with`].
pub fn pseudo_log_likelihood<T: Float>(
    rbm: &Rbm<T>,
    data: ArrayView2<'_, T>,
    seed: u64,
) -> Result<Array1<f64>> {
    let flips: Vec<usize> = (0..data.nrows())
        .map(|i| {
            rng::index(
                &mut rng::stream(seed, Domain::PseudoFlip, i as u64),
                rbm.n_visible(),
            )
        })
        .collect();
    pseudo_log_likelihood_with(rbm, data, &flips)
}

/// Mean squared reconstruction error per unit: mean over rows and columns of
/// (v − P(v | P(h | v)))², the deterministic mean-field reconstruction.
///
/// # Errors
/// Bad data (shape, empty, non-finite, outside \[0, 1\]).
pub fn reconstruction_error<T: Float>(rbm: &Rbm<T>, data: ArrayView2<'_, T>) -> Result<f64> {
    let h = rbm.hidden_probs(data)?;
    let mut r = Array2::zeros(data.dim());
    rbm.visible_probs_into(h.view(), r.view_mut());
    let total: f64 = data
        .iter()
        .zip(&r)
        .map(|(v, p)| (v.f64() - p.f64()).powi(2))
        .sum();
    Ok(total / data.len() as f64)
}
