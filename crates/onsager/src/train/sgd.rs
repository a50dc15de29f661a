//! The fused SGD step on one row of W: weight decay, momentum and the update, with the EMF
//! gradient's W-dependent terms (docs/maths.md §4). Called by the update pass (`update.rs`).

use multiversion::multiversion;

use crate::{EmfOrder, Float};

/// Hyperparameters of one fused SGD step on a row of W.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Step<T> {
    /// Learning rate.
    pub(crate) lr: T,
    /// Momentum μ.
    pub(crate) momentum: T,
    /// L1 coefficient.
    pub(crate) l1: T,
    /// L2 coefficient.
    pub(crate) l2: T,
}

/// One fused step on a row of W (docs/maths.md §4 and the update convention): the gradient
/// g = g₀ + w·g₁ + w²·g₂ − l2·w − l1·sign(w), then v ← μv + lr·g and w ← w + v. `terms` says
/// which sums are present: the EMF order whose gradient it is (g₁ from order 2, g₂ at order
/// 3; CD and PCD pass [`EmfOrder::First`], only g₀). Sums above it are not read.
#[multiversion(targets = "simd")]
pub(crate) fn sgd_row<T: Float>(
    w: &mut [T],
    vel: &mut [T],
    terms: EmfOrder,
    [g0, g1, g2]: [&[T]; 3],
    step: Step<T>,
) {
    let n = w.len();
    let (vel, g0) = (&mut vel[..n], &g0[..n]);
    let (zero, one) = (T::zero(), T::one());
    macro_rules! update {
        (|$j:ident, $w:ident| $grad:expr) => {
            for $j in 0..n {
                let $w = w[$j];
                let sign = if $w > zero {
                    one
                } else if $w < zero {
                    -one
                } else {
                    zero
                };
                let g = $grad - step.l2 * $w - step.l1 * sign;
                let v = step.momentum * vel[$j] + step.lr * g;
                vel[$j] = v;
                w[$j] = $w + v;
            }
        };
    }
    match terms {
        EmfOrder::First => update!(|j, _x| g0[j]),
        EmfOrder::Second => {
            let g1 = &g1[..n];
            update!(|j, x| g0[j] + x * g1[j])
        }
        EmfOrder::Third => {
            let (g1, g2) = (&g1[..n], &g2[..n]);
            update!(|j, x| g0[j] + x * g1[j] + x * x * g2[j])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length 0..=40, every term count, both decays: the step equals the formula.
    #[test]
    fn sgd_row_matches_the_formula_on_ragged_lengths() {
        let step = Step {
            lr: 0.1,
            momentum: 0.5,
            l1: 0.01,
            l2: 0.02,
        };
        for terms in [EmfOrder::First, EmfOrder::Second, EmfOrder::Third] {
            for n in 0..=40usize {
                let v = |s: f64| -> Vec<f64> { (0..n).map(|i| (i as f64 * s).sin()).collect() };
                let (w0, vel0, g0, g1, g2) = (v(0.3), v(0.5), v(0.7), v(1.1), v(1.3));
                let (mut w, mut vel) = (w0.clone(), vel0.clone());
                sgd_row(&mut w, &mut vel, terms, [&g0, &g1, &g2], step);
                for j in 0..n {
                    let x = w0[j];
                    let mut g = g0[j] - 0.02 * x - 0.01 * x.signum() * (x != 0.0) as u8 as f64;
                    if terms.has_second() {
                        g += x * g1[j];
                    }
                    if terms.has_third() {
                        g += x * x * g2[j];
                    }
                    let want_v = 0.5 * vel0[j] + 0.1 * g;
                    assert!((vel[j] - want_v).abs() < 1e-15, "{terms:?} n = {n} j = {j}");
                    assert!((w[j] - (x + want_v)).abs() < 1e-15);
                }
            }
        }
    }
}
