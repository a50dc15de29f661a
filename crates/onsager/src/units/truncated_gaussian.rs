//! Truncated-Gaussian visible units (docs/maths.md §1b): v | h ~ N(a + W h, σ²/β) truncated to
//! \[low, high\] per unit; the conditional mean (from [`super::truncated_normal::mean_var_block`])
//! or a draw (from [`super::truncated_normal::sample_block`]) in one pass over a row, and the unit's
//! integral over the interval given its field (for exact log Z).

use super::truncated_normal::{mean_var_block, moments, sample_block, BLOCK};
use crate::rng::StreamRng;
use crate::Float;

/// `row ← E[v | h]` from the pre-activations `row` = β·(W h)ᵢ: the mean of N(a + W h, σ²/β)
/// on \[`low`, `high`\]; with `rng`, a draw from it instead.
#[inline]
pub(crate) fn conditional_row<T: Float>(
    row: &mut [T],
    bias: &[T],
    sigma: &[T],
    beta: T,
    (low, high): (f64, f64),
    mut rng: Option<&mut StreamRng>,
) {
    let (beta, root) = (beta.f64(), beta.f64().sqrt());
    let range = (low, high);
    // A block at a time (vectorised; the ragged tail as one padded block): the means by
    // [`mean_var_block`] or, with `rng`, draws by [`sample_block`] from one uniform per unit in
    // the row's order (the same bits as `truncated_normal::sample` unit by unit). σ > 0 and
    // low < high are the model's invariants; a non-finite field (diverged weights) gives the
    // nearest end.
    let (mut mu, mut s, mut p) = ([0.0; BLOCK], [1.0; BLOCK], [0.5; BLOCK]);
    let (mut out, mut var) = ([0.0; BLOCK], [0.0; BLOCK]);
    for start in (0..row.len()).step_by(BLOCK) {
        let len = BLOCK.min(row.len() - start);
        for k in 0..len {
            let i = start + k;
            mu[k] = bias[i].f64() + row[i].f64() / beta;
            s[k] = sigma[i].f64() / root;
        }
        match rng.as_deref_mut() {
            Some(rng) => {
                for q in &mut p[..len] {
                    *q = crate::rng::uniform::<f64>(rng);
                }
                sample_block(&mu, &s, range, &p, &mut out);
            }
            None => mean_var_block(&mu, &s, range, &mut out, &mut var),
        }
        for k in 0..len {
            row[start + k] = T::of(out[k]);
        }
    }
}

/// log ∫ exp(−β(v − a)²/(2σ²) + β v f/σ²) dv over \[`low`, `high`\]: the Gaussian's completed
/// square β f(2a + f)/(2σ²) plus log ∫ exp(−(v − a − f)²/(2σ²/β)) dv on the interval.
#[inline]
pub(crate) fn log_integral(f: f64, a: f64, sigma: f64, beta: f64, (low, high): (f64, f64)) -> f64 {
    let s = sigma / beta.sqrt();
    let log_z = moments(a + f, s, low, high).map_or(f64::NAN, |m| m.log_z);
    beta * f * (2.0 * a + f) / (2.0 * sigma * sigma) + log_z
}
