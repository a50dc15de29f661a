//! Gaussian visible units (docs/maths.md §1b): v | h ~ N(a + W h, σ²/β) per unit, the
//! conditional mean and a draw in one pass over a row, and the unit's integral over v given
//! its field (for exact log Z).

use rand_distr::{Distribution, StandardNormal};

use crate::rng::StreamRng;
use crate::Float;

/// `row ← a + row/β` from the pre-activations `row` = β·(W h)ᵢ: the conditional mean; then,
/// with `rng`, a draw mean + (σᵢ/√β)·ε with ε ~ N(0, 1) for each unit.
#[inline]
pub(crate) fn conditional_row<T: Float>(
    row: &mut [T],
    bias: &[T],
    sigma: &[T],
    beta: T,
    rng: Option<&mut StreamRng>,
) {
    let inv_beta = T::one() / beta;
    for (x, &a) in row.iter_mut().zip(bias) {
        *x = a + *x * inv_beta;
    }
    if let Some(rng) = rng {
        let scale = T::one() / beta.sqrt();
        for (x, &s) in row.iter_mut().zip(sigma) {
            let e: f64 = StandardNormal.sample(rng);
            *x += s * scale * T::of(e);
        }
    }
}

/// log ∫ exp(−β(v − a)²/(2σ²) + β v f/σ²) dv over ℝ, the visible unit summed out given its
/// field f = (W h)ᵢ: completing the square, β f(2a + f)/(2σ²) + log(√(2π)·σ/√β).
#[inline]
pub(crate) fn log_integral(f: f64, a: f64, sigma: f64, beta: f64) -> f64 {
    let s = sigma / beta.sqrt();
    beta * f * (2.0 * a + f) / (2.0 * sigma * sigma)
        + (s * (2.0 * std::f64::consts::PI).sqrt()).ln()
}
