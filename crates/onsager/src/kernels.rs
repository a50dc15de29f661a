//! Numerically stable scalar kernels: the logistic function, softplus, log-sigmoid,
//! log-sum-exp and the binary entropy term. Everything else calls these.

use crate::Float;

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

/// softplus(x) = log(1 + eˣ), computed as x + log1p(e^−x) for x > 0 (emf-math §1).
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
/// (emf-math §2), with 0·log 0 = 0. Computed in `f64`.
#[inline(always)]
pub fn neg_entropy(m: f64) -> f64 {
    let xlogx = |x: f64| if x > 0.0 { x * x.ln() } else { 0.0 };
    xlogx(m) + xlogx(1.0 - m)
}

/// log Σ exp(xᵢ) of a slice, stable for any finite input; −∞ for an empty slice.
pub fn logsumexp(xs: &[f64]) -> f64 {
    let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + xs.iter().map(|&x| (x - max).exp()).sum::<f64>().ln()
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
        assert!((logsumexp(&xs) - direct).abs() < 1e-14);
        assert!((logsumexp(&[1000.0, 1000.0]) - (1000.0 + std::f64::consts::LN_2)).abs() < 1e-12);
        assert_eq!(logsumexp(&[]), f64::NEG_INFINITY);
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

    #[test]
    fn entropy_term_limits() {
        assert_eq!(neg_entropy(0.0), 0.0);
        assert_eq!(neg_entropy(1.0), 0.0);
        assert!((neg_entropy(0.5) + std::f64::consts::LN_2).abs() < 1e-15);
    }
}
