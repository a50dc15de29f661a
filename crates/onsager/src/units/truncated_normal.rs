//! The normal distribution N(μ, s²) truncated to an interval \[l, u\]: its log-normaliser, mean
//! and variance, computed in `f64` without cancellation in either tail.
//!
//! This is the building block of truncated-Gaussian visible units (issue 13): their
//! conditional P(v | h) is such a distribution, and so is the tilted prior of real-valued TAP,
//! whose mean and variance are the fixed-point functions f_a and f_c. With α = (l − μ)/s,
//! b = (u − μ)/s, φ the standard normal density and Q(x) = ½ erfc(x/√2) its upper tail,
//!
//! ```text
//! log Z = log(s√(2π)) + log(Q(α) − Q(b))            Z = ∫_l^u exp(−(x − μ)²/(2s²)) dx
//! mean  = μ + s·(φ(α) − φ(b)) / (Q(α) − Q(b))
//! var   = s²·[1 + (αφ(α) − bφ(b)) / (Q(α) − Q(b)) − ((φ(α) − φ(b)) / (Q(α) − Q(b)))²]
//! ```
//!
//! When the interval lies in a tail (α ≥ 0, or b ≤ 0 by symmetry), Q(α) and Q(b) both
//! underflow long before their ratio does, so everything is written through the scaled
//! complementary error function erfcx(x) = e^{x²} erfc(x): Q(x) = ½ erfcx(x/√2) e^{−x²/2}, the
//! inverse Mills ratio λ(x) = φ(x)/Q(x) = √(2/π) / erfcx(x/√2), and with r = Q(b)/Q(α),
//! mean = μ + s(λ(α) − rλ(b))/(1 − r). Far in a one-sided tail (α > 50, r below rounding) the
//! variance, a difference of terms of size α², takes its asymptotic series
//! s²(1/α² − 6/α⁴ + 50/α⁶) instead; an interval so narrow that the density changes by at most
//! e² across it ((b − α)·max(|α|, |b|, 1) ≤ 2) is integrated by 24-point Gauss–Legendre
//! quadrature with centred moments, where the closed forms would cancel.

use rand_distr::{Distribution, Exp1, StandardNormal};

use crate::rng::StreamRng;
use crate::{Error, Result};

/// log Z, mean and variance of a truncated normal (see the module's formulas).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moments {
    /// log ∫_l^u exp(−(x − μ)²/(2s²)) dx.
    pub log_z: f64,
    /// The mean, inside \[l, u\].
    pub mean: f64,
    /// The variance, in (0, s²\].
    pub var: f64,
}

const FRAC_1_SQRT_PI: f64 = 0.564_189_583_547_756_3; // 1/√π
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4; // √(2/π)
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8; // ln √(2π)

/// erfcx(x) = e^{x²} erfc(x) for x ≥ 0: from libm's erfc below 26 (where e^{x²} is finite),
/// else its asymptotic series 1/(x√π)·(1 − 1/(2x²) + 3/(4x⁴) − 15/(8x⁶) + 105/(16x⁸)),
/// whose first omitted term is below 10⁻¹³ there.
fn erfcx(x: f64) -> f64 {
    if x < 26.0 {
        (x * x).exp() * libm::erfc(x)
    } else {
        let y = 1.0 / (x * x);
        FRAC_1_SQRT_PI / x * (1.0 - y * (0.5 - y * (0.75 - y * (1.875 - y * 6.5625))))
    }
}

/// φ(x), with φ(±∞) = 0.
fn phi(x: f64) -> f64 {
    if x.is_infinite() {
        0.0
    } else {
        (-0.5 * x * x - LN_SQRT_2PI).exp()
    }
}

/// x·φ(x), with the limit 0 at ±∞.
fn x_phi(x: f64) -> f64 {
    if x.is_infinite() {
        0.0
    } else {
        x * phi(x)
    }
}

/// Standardised (log Z − log s, mean, variance) for an interval in the upper tail, 0 ≤ α < b,
/// with one erfcx per end: with e_x = erfcx(x/√2) and d = e^{−(b² − α²)/2}, r = Q(b)/Q(α) =
/// d·e_b/e_α, λ(α) = √(2/π)/e_α and rλ(b) = φ(b)/Q(α) = d·√(2/π)/e_α. log Z (a logarithm more)
/// only when `want_log_z`; NaN otherwise.
fn upper_tail(alpha: f64, b: f64, want_log_z: bool) -> (f64, f64, f64) {
    let ea = erfcx(alpha / std::f64::consts::SQRT_2);
    let decay = (-0.5 * (b - alpha) * (b + alpha)).exp();
    let eb = if decay > 0.0 {
        erfcx(b / std::f64::consts::SQRT_2)
    } else {
        0.0
    };
    let r = decay * eb / ea; // Q(b)/Q(α) ∈ [0, 1)
    let log_z = if want_log_z {
        LN_SQRT_2PI - 0.5 * alpha * alpha + (0.5 * ea).ln() + (-r).ln_1p()
    } else {
        f64::NAN
    };
    let la = SQRT_2_OVER_PI / ea;
    let rb = decay * SQRT_2_OVER_PI / ea;
    let mean = (la - rb) / (1.0 - r);
    let var = if alpha > 50.0 && r < 1e-17 {
        let y = 1.0 / (alpha * alpha);
        y * (1.0 - y * (6.0 - 50.0 * y))
    } else {
        let b_term = if decay > 0.0 { b * rb } else { 0.0 };
        1.0 + (alpha * la - b_term) / (1.0 - r) - mean * mean
    };
    (log_z, mean, var)
}

/// Gauss–Legendre nodes and weights on [−1, 1], 24 points (exact for polynomials of degree
/// 47), by Newton's method on the Legendre polynomial, computed once.
fn gauss_legendre() -> &'static [(f64, f64)] {
    static RULE: std::sync::OnceLock<Vec<(f64, f64)>> = std::sync::OnceLock::new();
    RULE.get_or_init(|| {
        const N: usize = 24;
        (1..=N)
            .map(|i| {
                let mut x = (std::f64::consts::PI * (i as f64 - 0.25) / (N as f64 + 0.5)).cos();
                let mut dp = 1.0;
                for _ in 0..100 {
                    let (mut p0, mut p1) = (1.0, x);
                    for j in 2..=N {
                        let p2 = ((2 * j - 1) as f64 * x * p1 - (j - 1) as f64 * p0) / j as f64;
                        (p0, p1) = (p1, p2);
                    }
                    dp = N as f64 * (x * p1 - p0) / (x * x - 1.0);
                    let dx = p1 / dp;
                    x -= dx;
                    if dx.abs() < 1e-16 {
                        break;
                    }
                }
                (x, 2.0 / ((1.0 - x * x) * dp * dp))
            })
            .collect()
    })
}

/// Standardised (log ∫ e^{−x²/2} over [α, b], mean, variance) of a narrow interval [α, b], where the density
/// changes by at most e² across it: by Gauss–Legendre quadrature about the interval's middle,
/// the variance from centred terms (the closed forms would subtract numbers of size α² to get
/// one of size (b − α)²).
fn narrow(alpha: f64, b: f64) -> (f64, f64, f64) {
    let (mid, half) = (0.5 * (alpha + b), 0.5 * (b - alpha));
    let peak = if alpha > 0.0 {
        alpha
    } else if b < 0.0 {
        b
    } else {
        0.0
    };
    // On the stack: this runs per unit and sweep in training.
    let mut points = [(0.0f64, 0.0f64); 24];
    for (p, &(t, w)) in points.iter_mut().zip(gauss_legendre()) {
        let x = mid + half * t;
        *p = (x, w * (-0.5 * (x * x - peak * peak)).exp());
    }
    let total: f64 = points.iter().map(|p| p.1).sum();
    let mean = points.iter().map(|&(x, p)| p * x).sum::<f64>() / total;
    let var = points
        .iter()
        .map(|&(x, p)| p * (x - mean) * (x - mean))
        .sum::<f64>()
        / total;
    ((half * total).ln() - 0.5 * peak * peak, mean, var)
}

/// log Z, mean and variance of N(`mu`, `s`²) truncated to \[`l`, `u`\] (`l` may be −∞ and `u`
/// +∞; see the module documentation for the formulas and their stable forms).
///
/// # Errors
/// [`Error::InvalidParam`] unless `s` is finite and positive, `mu` finite and `l` < `u`.
///
/// ```
/// use onsager::units::truncated_normal::moments;
/// // Uniform-like on [0, 1] for a wide normal; the half-normal's mean √(2/π) for [0, ∞).
/// let m = moments(0.5, 1e6, 0.0, 1.0).unwrap();
/// assert!((m.mean - 0.5).abs() < 1e-9 && (m.var - 1.0 / 12.0).abs() < 1e-9);
/// let h = moments(0.0, 1.0, 0.0, f64::INFINITY).unwrap();
/// assert!((h.mean - (2.0 / std::f64::consts::PI).sqrt()).abs() < 1e-15);
/// ```
pub fn moments(mu: f64, s: f64, l: f64, u: f64) -> Result<Moments> {
    moments_with(mu, s, l, u, true)
}

/// The mean and variance of N(`mu`, `s`²) truncated to \[`l`, `u`\], as [`moments`] gives
/// them but without log Z (a logarithm fewer per call: the conditional means and the TAP
/// sweep need none).
///
/// # Errors
/// As [`moments`].
pub fn mean_var(mu: f64, s: f64, l: f64, u: f64) -> Result<(f64, f64)> {
    moments_with(mu, s, l, u, false).map(|m| (m.mean, m.var))
}

fn moments_with(mu: f64, s: f64, l: f64, u: f64, want_log_z: bool) -> Result<Moments> {
    let bad = |name: &'static str, value: f64, reason: &'static str| Error::InvalidParam {
        name,
        value: value.to_string(),
        reason,
    };
    if !(s.is_finite() && s > 0.0) {
        return Err(bad("sigma", s, "must be finite and positive"));
    }
    if !mu.is_finite() {
        return Err(bad("mean", mu, "must be finite"));
    }
    if l.is_nan() || u.is_nan() || l >= u {
        return Err(bad(
            "interval",
            u,
            "the upper end must lie above the lower end",
        ));
    }
    let (alpha, b) = ((l - mu) / s, (u - mu) / s);
    let reach = alpha.abs().max(b.abs()).max(1.0);
    let (log_z, mean, var) = if (b - alpha) * reach <= 2.0 {
        narrow(alpha, b)
    } else if alpha >= 0.0 {
        upper_tail(alpha, b, want_log_z)
    } else if b <= 0.0 {
        // Mirror x → −x: the interval [−b, −α] lies in the upper tail.
        let (lz, m, v) = upper_tail(-b, -alpha, want_log_z);
        (lz, -m, v)
    } else {
        // The interval holds the mode: Q(α) − Q(b) = ½(erf(b/√2) − erf(α/√2)), a sum of two
        // terms of opposite sign, with no cancellation.
        let z = 0.5
            * (libm::erf(b / std::f64::consts::SQRT_2)
                - libm::erf(alpha / std::f64::consts::SQRT_2));
        let mean = (phi(alpha) - phi(b)) / z;
        let var = 1.0 + (x_phi(alpha) - x_phi(b)) / z - mean * mean;
        let log_z = if want_log_z {
            LN_SQRT_2PI + z.ln()
        } else {
            f64::NAN
        };
        (log_z, mean, var)
    };
    Ok(Moments {
        log_z: log_z + s.ln(),
        mean: (mu + s * mean).clamp(l, u),
        var: (s * s * var).clamp(f64::MIN_POSITIVE, s * s),
    })
}

/// A draw from N(0, 1) truncated to \[`alpha`, `b`\] (α < b, either end may be infinite), by
/// Robert's (1995) exact rejection samplers, each chosen where its acceptance stays high:
/// the interval holding 0 from N(0, 1) itself (wide) or a uniform proposal accepted with
/// probability e^{−z²/2} (narrow, b − α < √(2π)); an interval in the upper tail (α ≥ 0)
/// from α plus an exponential of rate λ = (α + √(α² + 4))/2 accepted with probability
/// e^{−(z − λ)²/2} (and z ≤ b), or, when the interval is shorter than Robert's bound
/// (2/(α + √(α²+4)))·e^{(α² − α√(α²+4))/4 + ½}, a uniform proposal accepted with probability
/// e^{(α² − z²)/2}; the lower tail by the mirror z → −z.
///
/// Arguments from a diverged model never hang or recurse: an empty or degenerate interval
/// (α ≥ b, both ends infinite on one side) gives α, a NaN end gives NaN (for the trainer's
/// finiteness check to report), and an end beyond 10⁸ standard deviations gives α + E/α with
/// E ~ Exp(1), the tail's law to double precision there.
pub fn sample_standard(alpha: f64, b: f64, rng: &mut StreamRng) -> f64 {
    if alpha.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if alpha >= b {
        return alpha;
    }
    if b <= 0.0 {
        return -sample_standard(-b, -alpha, rng);
    }
    if alpha > 1e8 {
        let e: f64 = Exp1.sample(rng);
        return (alpha + e / alpha).min(b);
    }
    let uniform = |rng: &mut StreamRng| crate::rng::uniform::<f64>(rng);
    if alpha < 0.0 {
        if b - alpha >= (2.0 * std::f64::consts::PI).sqrt() {
            loop {
                let z: f64 = StandardNormal.sample(rng);
                if (alpha..=b).contains(&z) {
                    return z;
                }
            }
        }
        loop {
            let z = alpha + (b - alpha) * uniform(rng);
            if uniform(rng) <= (-0.5 * z * z).exp() {
                return z;
            }
        }
    }
    let root = (alpha * alpha + 4.0).sqrt();
    // Robert's bound is at most 2/(α + √(α²+4))·e^{1/2} (its exponent's first part is ≤ 0):
    // a wider interval skips its exponential.
    let width = b - alpha;
    let narrow = width < 2.0 / (alpha + root) * std::f64::consts::E.sqrt()
        && width < 2.0 / (alpha + root) * ((alpha * alpha - alpha * root) / 4.0 + 0.5).exp();
    if narrow {
        loop {
            let z = alpha + (b - alpha) * uniform(rng);
            if uniform(rng) <= (0.5 * (alpha * alpha - z * z)).exp() {
                return z;
            }
        }
    }
    let rate = 0.5 * (alpha + root);
    loop {
        let e: f64 = Exp1.sample(rng);
        let z = alpha + e / rate;
        if z <= b {
            // Accept with probability e^{−t}; u ≤ 1 − t accepts without the exponential.
            let (t, u) = (0.5 * (z - rate) * (z - rate), uniform(rng));
            if u <= 1.0 - t || u <= (-t).exp() {
                return z;
            }
        }
    }
}

/// A draw from N(`mu`, `s`²) truncated to \[`l`, `u`\] (as [`sample_standard`]; `s` > 0,
/// `l` < `u`, checked by the caller), clamped into the interval against rounding.
#[inline]
pub fn sample(mu: f64, s: f64, l: f64, u: f64, rng: &mut StreamRng) -> f64 {
    (mu + s * sample_standard((l - mu) / s, (u - mu) / s, rng)).clamp(l, u)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Z, mean and variance by composite Simpson quadrature on 400 001 points (an infinite end
    /// cut 40 s from the mean or the other end), the exponent shifted by its maximum.
    fn quadrature(mu: f64, s: f64, l: f64, u: f64) -> (f64, f64, f64) {
        let lo = if l.is_finite() {
            l
        } else {
            u.min(mu) - 40.0 * s
        };
        let hi = if u.is_finite() {
            u
        } else {
            l.max(mu) + 40.0 * s
        };
        let e = |x: f64| -(x - mu) * (x - mu) / (2.0 * s * s);
        let peak = e(mu.clamp(lo, hi));
        let n = 400_000;
        let h = (hi - lo) / n as f64;
        // (x, Simpson weight × density) at every point, then the centred moments.
        let points: Vec<(f64, f64)> = (0..=n)
            .map(|k| {
                let x = lo + k as f64 * h;
                let w = match k {
                    0 => 1.0,
                    k if k == n => 1.0,
                    k if k % 2 == 1 => 4.0,
                    _ => 2.0,
                };
                (x, w * (e(x) - peak).exp())
            })
            .collect();
        let z: f64 = points.iter().map(|p| p.1).sum();
        let mean = points.iter().map(|&(x, p)| p * x).sum::<f64>() / z;
        let c2: f64 = points
            .iter()
            .map(|&(x, p)| p * (x - mean) * (x - mean))
            .sum();
        ((z * h / 3.0).ln() + peak, mean, c2 / z)
    }

    #[test]
    fn moments_match_quadrature_in_the_bulk_and_far_in_both_tails() {
        let inf = f64::INFINITY;
        let cases = [
            (0.5, 0.3, 0.0, 1.0),      // mode inside
            (0.0, 1.0, 0.0, 1.0),      // mode at the lower end
            (3.0, 0.5, 0.0, 1.0),      // above the interval: b = −4
            (-30.0, 1.0, 0.0, 1.0),    // far below: α = 30
            (-200.0, 1.0, 0.0, 1.0),   // very far: the asymptotic variance
            (40.0, 1.0, 0.0, 1.0),     // very far above, mirrored
            (0.3, 2.0, -inf, 0.2),     // one-sided
            (-1000.0, 1.0, 0.0, 0.05), // far tail, effectively one-sided
            (0.5, 0.01, 0.0, 1.0),     // narrow normal inside a wide interval
            (-5.0, 0.7, 0.0, 0.001),   // a narrow interval in the tail (quadrature path)
            (-5.0, 0.7, 0.0, 0.5),     // a short interval in the tail (closed form, r ≈ 0.006)
            (0.0, 1.0, -1.5, 1.2),     // the closed form with the mode inside
        ];
        for (mu, s, l, u) in cases {
            let m = moments(mu, s, l, u).unwrap();
            let (lz, mean, var) = quadrature(mu, s, l, u);
            let what = format!("N({mu}, {s}²) on [{l}, {u}]: {m:?} vs ({lz}, {mean}, {var})");
            assert!(
                (m.log_z - lz).abs() < 1e-7 * lz.abs().max(1.0),
                "log Z {what}"
            );
            assert!(
                (m.mean - mean).abs() < 1e-8 * (u.min(1e3) - l.max(-1e3)).abs(),
                "mean {what}"
            );
            assert!((m.var - var).abs() < 1e-6 * var, "variance {what}");
            // Without log Z: the same mean and variance, to the bit.
            assert_eq!(mean_var(mu, s, l, u).unwrap(), (m.mean, m.var), "{what}");
        }
    }

    #[test]
    fn degenerate_draws_return_at_once() {
        let mut rng = crate::rng::stream(0, crate::rng::Domain::Other, 0);
        let inf = f64::INFINITY;
        // Empty, single-point and one-sided infinite intervals: an end, never a loop.
        assert_eq!(sample_standard(0.0, 0.0, &mut rng), 0.0);
        assert_eq!(sample_standard(-0.0, -0.0, &mut rng), 0.0);
        assert_eq!(sample_standard(inf, inf, &mut rng), inf);
        assert_eq!(sample_standard(-inf, -inf, &mut rng), -inf);
        assert!(sample_standard(f64::NAN, 1.0, &mut rng).is_nan());
        // Far tails: within 1/α of the end.
        let z = sample_standard(1e300, inf, &mut rng);
        assert!(z >= 1e300 && z.is_finite(), "{z}");
        let z = sample_standard(-inf, -1e300, &mut rng);
        assert!(z <= -1e300 && z.is_finite(), "{z}");
        // σ = ∞ (a diverged σ): NaN, never a hang, for the trainer to report.
        assert!(sample(0.5, inf, 0.0, 1.0, &mut rng).is_nan());
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(moments(0.0, 0.0, 0.0, 1.0).is_err());
        assert!(moments(0.0, f64::NAN, 0.0, 1.0).is_err());
        assert!(moments(f64::INFINITY, 1.0, 0.0, 1.0).is_err());
        assert!(moments(0.0, 1.0, 1.0, 1.0).is_err());
        assert!(moments(0.0, 1.0, f64::NAN, 1.0).is_err());
    }

    /// Draws in the bulk, in a narrow interval, in both far tails: the sample mean and variance
    /// match the moments within 5 standard errors, and every draw lies in the interval.
    #[test]
    fn draws_have_the_moments_in_every_regime() {
        let inf = f64::INFINITY;
        let cases = [
            (0.5, 0.3, 0.0, 1.0),
            (0.5, 3.0, 0.0, 1.0),
            (-30.0, 1.0, 0.0, 1.0),
            (40.0, 2.0, 0.0, 1.0),
            (-5.0, 0.7, 0.0, 0.001),
            (0.0, 1.0, -inf, inf),
            (-0.2, 1.0, 0.0, inf),
            (0.1, 0.5, -0.2, 0.1),
        ];
        let mut rng = crate::rng::stream(3, crate::rng::Domain::Other, 0);
        for (mu, s, l, u) in cases {
            let m = moments(mu, s, l, u).unwrap();
            let n = 40_000;
            let xs: Vec<f64> = (0..n).map(|_| sample(mu, s, l, u, &mut rng)).collect();
            assert!(
                xs.iter().all(|x| (l..=u).contains(x)),
                "N({mu}, {s}²) on [{l}, {u}]"
            );
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
            let se = (m.var / n as f64).sqrt();
            assert!(
                (mean - m.mean).abs() < 5.0 * se,
                "mean of N({mu}, {s}²) on [{l}, {u}]: {mean} vs {}",
                m.mean
            );
            // The variance of a sample variance is (μ₄ − σ⁴)/n: at most 8σ⁴/n here (the far
            // tails are nearly exponential, μ₄ = 9σ⁴); five of its standard errors.
            assert!(
                (var - m.var).abs() < 5.0 * (8.0 / n as f64).sqrt() * m.var,
                "variance of N({mu}, {s}²) on [{l}, {u}]: {var} vs {}",
                m.var
            );
        }
    }
}
