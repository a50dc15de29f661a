//! The annealing step's kernels on one row: the hidden layer's weight increment and
//! transition probabilities, and the visible conditional of the intermediate model
//! (docs/maths.md §5).

use multiversion::multiversion;

use crate::kernels::{sigmoid_v, softplus_v, sum_lanes, LANES};
use crate::Float;

/// The largest step |Δ| the cancellation-free form takes: e^Δ stays far from overflow in
/// `f32` (e^40 ≈ 2·10¹⁷), and no usual schedule comes near it.
const SMALL_STEP: f64 = 40.0;

/// One AIS step of the hidden layer. With f_j = x_j + b_j, y₀ = β_{k−1}·f_j and
/// Δ = (β_k − β_{k−1})·f_j, returns Σ_j [softplus(y₀ + Δ) − softplus(y₀)] and overwrites x_j
/// with σ(y₀ + Δ), the sampling probability at β_k. When every |Δ| ≤ [`SMALL_STEP`] (every
/// step of a usual schedule) each term is ln(1 + σ(y₀)·(e^Δ − 1)) and the probability
/// σ(y₀)·e^Δ / (1 + σ(y₀)(e^Δ − 1)) — no cancellation even when Δ ≈ 10⁻⁵·f. A row with a
/// larger step (huge weights or few temperatures), where e^Δ would overflow, takes the
/// difference of the two softplus values directly for those units, which then has no
/// cancellation to fear; the check costs one pass, so the usual rows pay nothing more.
#[multiversion(targets = "simd")]
pub(crate) fn ais_hidden_step<T: Float>(x: &mut [T], b: &[T], beta_prev: T, dbeta: T) -> T {
    #[inline(always)]
    fn small<T: Float>(xj: &mut T, bj: T, beta_prev: T, dbeta: T) -> T {
        let f = *xj + bj;
        let s0 = sigmoid_v(beta_prev * f);
        let em = (dbeta * f).exp_m1_v();
        let g = s0 * em;
        *xj = s0 * (T::one() + em) / (T::one() + g);
        g.ln_1p_v()
    }
    #[inline(always)]
    fn any<T: Float>(xj: &mut T, bj: T, beta_prev: T, dbeta: T) -> T {
        let f = *xj + bj;
        if (dbeta * f).abs() <= T::of(SMALL_STEP) {
            return small(xj, bj, beta_prev, dbeta);
        }
        let (y0, y1) = (beta_prev * f, (beta_prev + dbeta) * f);
        *xj = sigmoid_v(y1);
        softplus_v(y1) - softplus_v(y0)
    }
    let n = x.len().min(b.len());
    let (x, b) = (&mut x[..n], &b[..n]);
    let widest = x
        .iter()
        .zip(b)
        .fold(T::zero(), |m, (&xj, &bj)| m.max((xj + bj).abs()));
    let usual = dbeta * widest <= T::of(SMALL_STEP);
    let mut acc = [T::zero(); LANES];
    let split = n - n % LANES;
    let (head, tail) = x.split_at_mut(split);
    // The usual rows run the branch-free loop (it vectorises); rows with a large step choose
    // the form per unit.
    if usual {
        for (xc, bc) in head
            .chunks_exact_mut(LANES)
            .zip(b[..split].chunks_exact(LANES))
        {
            for l in 0..LANES {
                acc[l] += small(&mut xc[l], bc[l], beta_prev, dbeta);
            }
        }
    } else {
        for (xc, bc) in head
            .chunks_exact_mut(LANES)
            .zip(b[..split].chunks_exact(LANES))
        {
            for l in 0..LANES {
                acc[l] += any(&mut xc[l], bc[l], beta_prev, dbeta);
            }
        }
    }
    for (l, (xj, &bj)) in tail.iter_mut().zip(&b[split..]).enumerate() {
        acc[l] += any(xj, bj, beta_prev, dbeta);
    }
    sum_lanes(acc)
}

/// `row[i] ← σ((1 − β)·base[i] + β·(a[i] + row[i]))`: the visible conditional of the AIS
/// intermediate model at inverse temperature β, from the field `row` = (W h)ᵢ.
#[multiversion(targets = "simd")]
pub(crate) fn sigmoid_mix<T: Float>(row: &mut [T], a: &[T], base: &[T], beta: T) {
    let keep = T::one() - beta;
    for ((x, &ai), &bi) in row.iter_mut().zip(a).zip(base) {
        *x = sigmoid_v(keep * bi + beta * (ai + *x));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{sigmoid, softplus};

    /// Every length 0..=40: the hidden step equals Σ softplus(β_k f) − softplus(β_{k−1} f) and
    /// leaves σ(β_k f); the visible mix equals its formula.
    #[test]
    fn annealing_kernels_match_their_formulas_on_ragged_lengths() {
        for n in 0..=40usize {
            let x0: Vec<f64> = (0..n).map(|i| (i as f64 * 0.9).sin() * 4.0).collect();
            let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.4).cos()).collect();
            // Small steps (the cancellation-free form) and large ones (the direct difference).
            let (tp, dt) = if n % 2 == 0 {
                (0.3, 0.01)
            } else {
                (0.3, 400.0)
            };
            let mut x = x0.clone();
            let got = ais_hidden_step(&mut x, &b, tp, dt);
            let want: f64 = x0
                .iter()
                .zip(&b)
                .map(|(x, b)| softplus((tp + dt) * (x + b)) - softplus(tp * (x + b)))
                .sum();
            assert!((got - want).abs() < 1e-12 * want.abs().max(1.0), "n = {n}");
            for j in 0..n {
                assert!((x[j] - sigmoid((tp + dt) * (x0[j] + b[j]))).abs() < 1e-14);
            }
            let mut row = x0.clone();
            sigmoid_mix(&mut row, &b, &x0, 0.25);
            for j in 0..n {
                let want = sigmoid(0.75 * x0[j] + 0.25 * (b[j] + x0[j]));
                assert!((row[j] - want).abs() < 1e-15, "n = {n} j = {j}");
            }
        }
    }
}
