//! Numerically stable scalar kernels — the logistic function, softplus, log-sigmoid, a running
//! log-sum-exp, the binary entropy term — and their vectorised row forms used by the model's
//! conditionals and free energy. The kernels of one algorithm live beside it: the fixed point's
//! in `meanfield/kernels.rs`, AIS's in `estimate/ais/kernels.rs`, the SGD step's in
//! `train/sgd.rs`.

use multiversion::multiversion;

use crate::Float;

/// σ(x) without branches (vectorises): 1 / (1 + e^−x), with e^−x clamped to a finite range,
/// so σ is exact to a few ulp for |x| < 87 and tends to the right limit beyond.
#[inline(always)]
pub fn sigmoid_v<T: Float>(x: T) -> T {
    T::one() / (T::one() + (-x).exp_v())
}

/// softplus(x) = max(x, 0) + ln(1 + e^−|x|) without branches (vectorises).
#[inline(always)]
pub fn softplus_v<T: Float>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp_v().ln_1p_v()
}

/// `row[j] ← σ(row[j] + scale·bias[j])`: the conditional probabilities of a layer from its
/// pre-activations (docs/maths.md §1).
#[multiversion(targets = "simd")]
pub fn sigmoid_shift<T: Float>(row: &mut [T], bias: &[T], scale: T) {
    for (x, &b) in row.iter_mut().zip(bias) {
        *x = sigmoid_v(*x + scale * b);
    }
}

/// Reductions keep `LANES` partial sums (so the loop vectorises; a single running sum would
/// be a serial dependency that the compiler may not reorder) and add them in a fixed order at
/// the end, so the result does not depend on the SIMD width or the thread count.
pub(crate) const LANES: usize = 16;

#[inline(always)]
pub(crate) fn sum_lanes<T: Float>(acc: [T; LANES]) -> T {
    acc.into_iter().fold(T::zero(), |s, x| s + x)
}

/// Σ_i x_i·y_i, summed in `T` over 16 lanes (vectorised).
#[multiversion(targets = "simd")]
pub fn dot<T: Float>(x: &[T], y: &[T]) -> T {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let mut acc = [T::zero(); LANES];
    let split = n - n % LANES;
    for (xc, yc) in x[..split]
        .chunks_exact(LANES)
        .zip(y[..split].chunks_exact(LANES))
    {
        for l in 0..LANES {
            acc[l] += xc[l] * yc[l];
        }
    }
    for (l, (&a, &b)) in x[split..].iter().zip(&y[split..]).enumerate() {
        acc[l] += a * b;
    }
    sum_lanes(acc)
}

/// `Σ_j softplus(row[j] + scale·bias[j])`, summed in `T` over 16 lanes (vectorised); the hidden
/// part of the clamped free energy (docs/maths.md §1).
#[multiversion(targets = "simd")]
pub fn softplus_shift_sum<T: Float>(row: &[T], bias: &[T], scale: T) -> T {
    let n = row.len().min(bias.len());
    let mut acc = [T::zero(); LANES];
    let split = n - n % LANES;
    for (xc, bc) in row[..split]
        .chunks_exact(LANES)
        .zip(bias[..split].chunks_exact(LANES))
    {
        for l in 0..LANES {
            acc[l] += softplus_v(xc[l] + scale * bc[l]);
        }
    }
    for (l, (&x, &b)) in row[split..n].iter().zip(&bias[split..n]).enumerate() {
        acc[l] += softplus_v(x + scale * b);
    }
    sum_lanes(acc)
}

/// The logistic function σ(x) = 1 / (1 + e^−x), without overflow for any finite x.
#[inline(always)]
pub fn sigmoid<T: Float>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// softplus(x) = log(1 + eˣ), computed as x + log1p(e^−x) for x > 0 (docs/maths.md §1).
#[inline(always)]
pub fn softplus<T: Float>(x: T) -> T {
    if x > T::zero() {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// log σ(x) = −softplus(−x).
#[inline(always)]
pub fn log_sigmoid<T: Float>(x: T) -> T {
    -softplus(-x)
}

/// m·log m + (1 − m)·log(1 − m), the negative binary entropy of a unit with mean m
/// (docs/maths.md §2), with 0·log 0 = 0. Computed in `f64`.
#[inline(always)]
pub fn neg_entropy(m: f64) -> f64 {
    let xlogx = |x: f64| if x > 0.0 { x * x.ln() } else { 0.0 };
    xlogx(m) + xlogx(1.0 - m)
}

/// A running log-sum-exp accumulator in `f64` (one pass, stable).
#[derive(Clone, Copy, Debug)]
pub struct LogSumExp {
    max: f64,
    sum: f64,
}

impl Default for LogSumExp {
    fn default() -> Self {
        Self {
            max: f64::NEG_INFINITY,
            sum: 0.0,
        }
    }
}

impl LogSumExp {
    /// Adds exp(x) to the sum.
    #[inline]
    pub fn push(&mut self, x: f64) {
        if x <= self.max {
            self.sum += (x - self.max).exp();
        } else {
            self.sum = self.sum * (self.max - x).exp() + 1.0;
            self.max = x;
        }
    }

    /// Merges another accumulator into this one.
    pub fn merge(&mut self, other: LogSumExp) {
        if other.max == f64::NEG_INFINITY {
            return;
        }
        if other.max <= self.max {
            self.sum += other.sum * (other.max - self.max).exp();
        } else {
            self.sum = self.sum * (self.max - other.max).exp() + other.sum;
            self.max = other.max;
        }
    }

    /// log of the accumulated sum.
    pub fn value(&self) -> f64 {
        self.max + self.sum.ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_at_extremes() {
        assert_eq!(sigmoid(0.0f64), 0.5);
        assert_eq!(sigmoid(800.0f64), 1.0);
        assert_eq!(sigmoid(-800.0f64), 0.0);
        assert!((sigmoid(-30.0f64) - 9.357622968839299e-14).abs() < 1e-26);
        assert_eq!(sigmoid(200.0f32), 1.0);
        assert!(sigmoid(-100.0f32) >= 0.0);
        assert!((sigmoid(2.0f32) - 0.880_797_1).abs() < 1e-7);
    }

    #[test]
    fn softplus_at_extremes() {
        assert_eq!(softplus(1000.0f64), 1000.0);
        assert!((softplus(-1000.0f64)).abs() < 1e-300);
        assert!((softplus(0.0f64) - std::f64::consts::LN_2).abs() < 1e-15);
        assert!((softplus(-40.0f64) - (-40.0f64).exp()).abs() < 1e-30);
        assert_eq!(softplus(100.0f32), 100.0);
        assert!((log_sigmoid(-1000.0f64) + 1000.0).abs() < 1e-12);
        assert!(log_sigmoid(1000.0f64).abs() < 1e-300);
    }

    #[test]
    fn logsumexp_matches_direct_and_survives_large_values() {
        let xs = [0.1, -2.0, 3.5, 1.0];
        let direct = xs.iter().map(|x: &f64| x.exp()).sum::<f64>().ln();
        let mut big = LogSumExp::default();
        big.push(1000.0);
        big.push(1000.0);
        assert!((big.value() - (1000.0 + std::f64::consts::LN_2)).abs() < 1e-12);
        assert_eq!(LogSumExp::default().value(), f64::NEG_INFINITY);
        let mut acc = LogSumExp::default();
        let mut other = LogSumExp::default();
        for (i, &x) in xs.iter().enumerate() {
            if i % 2 == 0 {
                acc.push(x)
            } else {
                other.push(x)
            }
        }
        acc.merge(other);
        assert!((acc.value() - direct).abs() < 1e-14);
    }

    /// Every length from 0 to 40 (below, at and past the 16 lanes, with ragged tails): the
    /// vectorised kernels equal the plain formulas term by term.
    #[test]
    fn vector_kernels_match_the_formulas_on_ragged_lengths() {
        for n in 0..=40usize {
            let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin() * 30.0).collect();
            let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
            let want: f64 = x.iter().zip(&b).map(|(x, b)| x * b).sum();
            assert!((dot(&x, &b) - want).abs() < 1e-9, "dot, n = {n}");
            let want: f64 = x.iter().zip(&b).map(|(x, b)| softplus(x + 2.0 * b)).sum();
            let got = softplus_shift_sum(&x, &b, 2.0);
            assert!(
                (got - want).abs() < 1e-9 * (1.0 + want.abs()),
                "softplus, n = {n}"
            );
            let mut row = x.clone();
            sigmoid_shift(&mut row, &b, 2.0);
            for (j, (&r, (&x, &b))) in row.iter().zip(x.iter().zip(&b)).enumerate() {
                assert!(
                    (r - sigmoid(x + 2.0 * b)).abs() < 1e-15,
                    "sigmoid, n = {n}, j = {j}"
                );
            }
        }
    }

    #[test]
    fn entropy_term_limits() {
        assert_eq!(neg_entropy(0.0), 0.0);
        assert_eq!(neg_entropy(1.0), 0.0);
        assert!((neg_entropy(0.5) + std::f64::consts::LN_2).abs() < 1e-15);
    }
}
