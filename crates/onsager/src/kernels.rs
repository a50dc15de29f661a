//! Numerically stable scalar kernels: the logistic function, softplus, log-sigmoid,
//! log-sum-exp and the binary entropy term. Everything else calls these.

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
/// pre-activations (emf-math §1).
#[multiversion(targets = "simd")]
pub fn sigmoid_shift<T: Float>(row: &mut [T], bias: &[T], scale: T) {
    for (x, &b) in row.iter_mut().zip(bias) {
        *x = sigmoid_v(*x + scale * b);
    }
}

/// Reductions keep `LANES` partial sums (so the loop vectorises; a single running sum would
/// be a serial dependency that the compiler may not reorder) and add them in a fixed order at
/// the end, so the result does not depend on the SIMD width or the thread count.
const LANES: usize = 16;

#[inline(always)]
fn sum_lanes<T: Float>(acc: [T; LANES]) -> T {
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
/// part of the clamped free energy (emf-math §1).
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

/// One AIS step of the hidden layer. With f_j = x_j + b_j, y₀ = β_{k−1}·f_j and
/// Δ = (β_k − β_{k−1})·f_j, returns Σ_j [softplus(y₀ + Δ) − softplus(y₀)], each term computed
/// as ln(1 + σ(y₀)·(e^Δ − 1)) — no cancellation even when Δ ≈ 10⁻⁵·f — and overwrites x_j with
/// σ(y₀ + Δ) = σ(y₀)·e^Δ / (1 + σ(y₀)(e^Δ − 1)), the sampling probability at β_k.
#[multiversion(targets = "simd")]
pub fn ais_hidden_step<T: Float>(x: &mut [T], b: &[T], beta_prev: T, dbeta: T) -> T {
    #[inline(always)]
    fn one<T: Float>(xj: &mut T, bj: T, beta_prev: T, dbeta: T) -> T {
        let f = *xj + bj;
        let s0 = sigmoid_v(beta_prev * f);
        let em = (dbeta * f).exp_m1_v();
        let g = s0 * em;
        *xj = s0 * (T::one() + em) / (T::one() + g);
        g.ln_1p_v()
    }
    let n = x.len().min(b.len());
    let mut acc = [T::zero(); LANES];
    let split = n - n % LANES;
    let (head, tail) = x[..n].split_at_mut(split);
    for (xc, bc) in head
        .chunks_exact_mut(LANES)
        .zip(b[..split].chunks_exact(LANES))
    {
        for l in 0..LANES {
            acc[l] += one(&mut xc[l], bc[l], beta_prev, dbeta);
        }
    }
    for (l, (xj, &bj)) in tail.iter_mut().zip(&b[split..n]).enumerate() {
        acc[l] += one(xj, bj, beta_prev, dbeta);
    }
    sum_lanes(acc)
}

/// `row[i] ← σ((1 − β)·base[i] + β·(a[i] + row[i]))`: the visible conditional of the AIS
/// intermediate model at inverse temperature β, from the field `row` = (W h)ᵢ.
#[multiversion(targets = "simd")]
pub fn sigmoid_mix<T: Float>(row: &mut [T], a: &[T], base: &[T], beta: T) {
    let keep = T::one() - beta;
    for ((x, &ai), &bi) in row.iter_mut().zip(a).zip(base) {
        *x = sigmoid_v(keep * bi + beta * (ai + *x));
    }
}

/// The damped mean-field update of one layer's row (emf-math §3):
/// m ← damp·σ(β·bias + f₁ + f₂(½ − m) + f₃(⅓ − 2(m − m²))) + (1 − damp)·m, with the f₂ and f₃
/// terms present at orders ≥ 2 and 3 (`f2`, `f3` empty otherwise). Returns max |Δm|.
#[multiversion(targets = "simd")]
pub fn mean_field_update<T: Float>(
    m: &mut [T],
    bias: &[T],
    beta: T,
    f1: &[T],
    f2: &[T],
    f3: &[T],
    damping: T,
) -> T {
    let (half, third, two) = (T::of(0.5), T::of(1.0 / 3.0), T::of(2.0));
    let keep = T::one() - damping;
    let n = m.len();
    let mut worst = [T::zero(); LANES];
    let block =
        |x: &[T], o: usize| -> [T; LANES] { x[o..o + LANES].try_into().expect("LANES values") };
    // One loop per order and fixed-size blocks, so the inner loop has no branches or bounds
    // checks and vectorises; the ragged tail goes through the same code on a padded block.
    macro_rules! sweep {
        (|$o:ident| $prep:stmt; |$l:ident, $old:ident| $field:expr) => {{
            let split = n - n % LANES;
            for $o in (0..split).step_by(LANES) {
                $prep
                let mc: &mut [T; LANES] = (&mut m[$o..$o + LANES]).try_into().expect("LANES values");
                for $l in 0..LANES {
                    let $old = mc[$l];
                    let new = damping * sigmoid_v($field) + keep * $old;
                    let d = (new - $old).abs();
                    worst[$l] = if d > worst[$l] { d } else { worst[$l] };
                    mc[$l] = new;
                }
            }
            split
        }};
    }
    let split = match (f2.is_empty(), f3.is_empty()) {
        (true, _) => {
            sweep!(|o| let (b, g1) = (block(bias, o), block(f1, o)); |l, _old| beta * b[l] + g1[l])
        }
        (false, true) => sweep!(
            |o| let (b, g1, g2) = (block(bias, o), block(f1, o), block(f2, o));
            |l, old| beta * b[l] + g1[l] + g2[l] * (half - old)
        ),
        (false, false) => sweep!(
            |o| let (b, g1, g2, g3) = (block(bias, o), block(f1, o), block(f2, o), block(f3, o));
            |l, old| beta * b[l] + g1[l] + g2[l] * (half - old) + g3[l] * (third - two * (old - old * old))
        ),
    };
    for j in split..n {
        let old = m[j];
        let mut x = beta * bias[j] + f1[j];
        if !f2.is_empty() {
            x += f2[j] * (half - old);
        }
        if !f3.is_empty() {
            x += f3[j] * (third - two * (old - old * old));
        }
        let new = damping * sigmoid_v(x) + keep * old;
        let d = (new - old).abs();
        worst[0] = if d > worst[0] { d } else { worst[0] };
        m[j] = new;
    }
    worst
        .into_iter()
        .fold(T::zero(), |a, b| if b > a { b } else { a })
}

/// `q ← m − m²` and, if `r` is not empty, `r ← q(½ − m)`: the variances the EMF terms use
/// (emf-math §2).
#[multiversion(targets = "simd")]
pub fn variances_row<T: Float>(m: &[T], q: &mut [T], r: &mut [T]) {
    let half = T::of(0.5);
    let n = m.len();
    let q = &mut q[..n];
    if r.is_empty() {
        for (qq, &mm) in q.iter_mut().zip(m) {
            *qq = mm - mm * mm;
        }
    } else {
        let r = &mut r[..n];
        for ((qq, rr), &mm) in q.iter_mut().zip(r.iter_mut()).zip(m) {
            let v = mm - mm * mm;
            *qq = v;
            *rr = v * (half - mm);
        }
    }
}

/// Hyperparameters of one fused SGD step on a row of W.
#[derive(Clone, Copy, Debug)]
pub struct Step<T> {
    /// Learning rate.
    pub lr: T,
    /// Momentum μ.
    pub momentum: T,
    /// L1 coefficient.
    pub l1: T,
    /// L2 coefficient.
    pub l2: T,
}

/// The cached powers of W, element-wise over a row (or a whole matrix, flattened):
/// `p2 ← w²`, `p3 ← w³` (each skipped when empty).
#[multiversion(targets = "simd")]
pub fn powers_row<T: Float>(w: &[T], p2: &mut [T], p3: &mut [T]) {
    if !p2.is_empty() {
        let p2 = &mut p2[..w.len()];
        for (p, &x) in p2.iter_mut().zip(w) {
            *p = x * x;
        }
    }
    if !p3.is_empty() {
        let p3 = &mut p3[..w.len()];
        for (p, &x) in p3.iter_mut().zip(w) {
            *p = x * x * x;
        }
    }
}

/// One fused step on a row of W (emf-math §4 and the update convention): the gradient
/// g = g₀ + w·g₁ + w²·g₂ (`g1`, `g2` empty when absent) − l2·w − l1·sign(w), then
/// v ← μv + lr·g and w ← w + v.
#[multiversion(targets = "simd")]
pub fn sgd_row<T: Float>(w: &mut [T], vel: &mut [T], g0: &[T], g1: &[T], g2: &[T], step: Step<T>) {
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
    match (g1.is_empty(), g2.is_empty()) {
        (true, _) => update!(|j, _x| g0[j]),
        (false, true) => {
            let g1 = &g1[..n];
            update!(|j, x| g0[j] + x * g1[j])
        }
        (false, false) => {
            let (g1, g2) = (&g1[..n], &g2[..n]);
            update!(|j, x| g0[j] + x * g1[j] + x * x * g2[j])
        }
    }
}
