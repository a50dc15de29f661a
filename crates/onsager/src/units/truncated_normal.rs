//! The normal distribution N(μ, s²) truncated to an interval \[l, u\]: its log-normaliser, mean
//! and variance, computed in `f64` without cancellation in either tail, one unit at a time or
//! a block of [`BLOCK`] units at once (vectorised; the same bits).
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
//! Stable forms. The interval is mirrored (x → −x) when α + b < 0, so that α + b ≥ 0 and
//! b ≥ |α|. Then everything is written through the scaled complementary error function
//! E(x) = erfcx(x/√2) = 2 e^{x²/2} Q(x) of non-negative arguments ([`crate::special::erfcx`],
//! which needs no exponential): when α ≥ 0 (the interval in the upper tail) every term is
//! divided by e^{−α²/2}, which Q(α) and Q(b) would underflow long before their ratio does,
//!
//! ```text
//! Q(α) − Q(b) = ½ e^{−α²/2} (E(α) − d·E(b)),   φ(α) − φ(b) = e^{−α²/2} (1 − d)/√(2π),   d = e^{−(b − α)(b + α)/2}
//! ```
//!
//! and when α < 0 < b (the mode inside), Q(α) − Q(b) = 1 − ½ e^{−α²/2} E(−α) − ½ e^{−b²/2} E(b),
//! a sum without cancellation. Far in a one-sided tail (α > 50, Q(b)/Q(α) below 10⁻¹⁷) the
//! variance, a difference of terms of size α², takes its asymptotic series
//! s²(1/α² − 6/α⁴ + 50/α⁶) instead; an interval so narrow that the density changes by at most
//! e² across it ((b − α)·max(|α|, |b|, 1) ≤ 2) is integrated by 24-point Gauss–Legendre
//! quadrature with centred moments, where the closed forms would cancel.
//!
//! Draws invert the CDF ([`sample`], [`sample_block`]): one uniform per draw, the root of
//! −ln Q in log space by Halley's method (docs/maths.md §1b), vectorised across a block.

use multiversion::multiversion;

use crate::rng::StreamRng;
use crate::special::{erfcx, exp, ln};
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

/// Units per call of [`mean_var_block`].
pub const BLOCK: usize = 16;

const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7; // 1/√(2π)
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8; // ln √(2π)

/// The standardised closed form of one interval [α, b] (module documentation), without
/// branches: (mean, variance, Q(α) − Q(b) divided by e^{−shift}, shift), so that
/// log(Q(α) − Q(b)) = ln(third) − shift.
#[inline(always)]
fn closed(alpha: f64, b: f64) -> (f64, f64, f64, f64) {
    let flip = alpha + b < 0.0;
    let (lo, hi) = if flip { (-b, -alpha) } else { (alpha, b) };
    let tail = lo >= 0.0;
    // The scale: e^{−α²/2} in the tail, 1 with the mode inside.
    let c = if tail { lo } else { 0.0 };
    let shift = 0.5 * c * c;
    let e_lo = erfcx(lo.abs() * std::f64::consts::FRAC_1_SQRT_2);
    let e_hi = erfcx(hi * std::f64::consts::FRAC_1_SQRT_2);
    let p_lo = exp(-0.5 * (lo - c) * (lo + c)); // 1 in the tail
    let p_hi = exp(-0.5 * (hi - c) * (hi + c)); // d in the tail
    let q_hi = p_hi * e_hi;
    let den = if tail {
        0.5 * (e_lo - q_hi)
    } else {
        1.0 - 0.5 * (p_lo * e_lo + q_hi)
    };
    let mean = (p_lo - p_hi) * FRAC_1_SQRT_2PI / den;
    // x·φ(x) → 0 at an infinite end.
    let x_p = |x: f64, p: f64| if x.is_finite() { x * p } else { 0.0 };
    let far = tail && lo > 50.0 && q_hi < 1e-17 * e_lo;
    let y = 1.0 / (lo * lo);
    let var = if far {
        y * (1.0 - y * (6.0 - 50.0 * y))
    } else {
        1.0 + (x_p(lo, p_lo) - x_p(hi, p_hi)) * FRAC_1_SQRT_2PI / den - mean * mean
    };
    (if flip { -mean } else { mean }, var, den, shift)
}

/// x held in \[lo, hi\] (NaN stays NaN), as `f64::clamp` but without its panic when the bounds
/// come from a diverged unit of a block.
#[inline(always)]
fn clamp(x: f64, lo: f64, hi: f64) -> f64 {
    if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
    }
}

/// Whether [α, b] is narrow enough for quadrature (module documentation).
#[inline(always)]
fn is_narrow(alpha: f64, b: f64) -> bool {
    (b - alpha) * alpha.abs().max(b.abs()).max(1.0) <= 2.0
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
    check(mu, s, l, u)?;
    let (alpha, b) = ((l - mu) / s, (u - mu) / s);
    let (log_z, mean, var) = if is_narrow(alpha, b) {
        narrow(alpha, b)
    } else {
        let (mean, var, den, shift) = closed(alpha, b);
        (LN_SQRT_2PI + den.ln() - shift, mean, var)
    };
    Ok(Moments {
        log_z: log_z + s.ln(),
        mean: clamp(mu + s * mean, l, u),
        var: clamp(s * s * var, f64::MIN_POSITIVE, s * s),
    })
}

/// The mean and variance of N(`mu`, `s`²) truncated to \[`l`, `u`\], as [`moments`] gives
/// them, without log Z.
///
/// # Errors
/// As [`moments`].
pub fn mean_var(mu: f64, s: f64, l: f64, u: f64) -> Result<(f64, f64)> {
    check(mu, s, l, u)?;
    Ok(scaled(mu, s, l, u))
}

/// [`mean_var`] of valid arguments.
#[inline(always)]
fn scaled(mu: f64, s: f64, l: f64, u: f64) -> (f64, f64) {
    let (alpha, b) = ((l - mu) / s, (u - mu) / s);
    let (mean, var) = if is_narrow(alpha, b) {
        let (_, m, v) = narrow(alpha, b);
        (m, v)
    } else {
        let (m, v, _, _) = closed(alpha, b);
        (m, v)
    };
    (
        clamp(mu + s * mean, l, u),
        clamp(s * s * var, f64::MIN_POSITIVE, s * s),
    )
}

/// The means and variances of [`BLOCK`] truncated normals N(`mu`ₖ, `s`ₖ²) on one interval
/// \[`l`, `u`\] (l < u, the caller's invariant), bit for bit what [`mean_var`] gives for each,
/// the closed forms vectorised across the block (the TAP sweep and the conditional means call
/// this for every unit). A unit with a non-finite mean, or an `s` that is not finite and
/// positive (diverged weights), gets its mean clamped into the interval (NaN stays NaN) and
/// variance 0; narrow intervals take the quadrature one unit at a time.
#[multiversion(targets = "simd")]
pub fn mean_var_block(
    mu: &[f64; BLOCK],
    s: &[f64; BLOCK],
    (l, u): (f64, f64),
    mean: &mut [f64; BLOCK],
    var: &mut [f64; BLOCK],
) {
    let mut special = [false; BLOCK];
    for k in 0..BLOCK {
        let (m, sd) = (mu[k], s[k]);
        let ok = m.is_finite() && sd.is_finite() && sd > 0.0;
        let (alpha, b) = ((l - m) / sd, (u - m) / sd);
        special[k] = !ok || is_narrow(alpha, b);
        let (cm, cv, _, _) = closed(alpha, b);
        mean[k] = clamp(m + sd * cm, l, u);
        var[k] = clamp(sd * sd * cv, f64::MIN_POSITIVE, sd * sd);
    }
    for k in 0..BLOCK {
        if special[k] {
            (mean[k], var[k]) = if check(mu[k], s[k], l, u).is_ok() {
                scaled(mu[k], s[k], l, u)
            } else {
                (mu[k].clamp(l, u), 0.0)
            };
        }
    }
}

/// The arguments' checks of [`moments`].
fn check(mu: f64, s: f64, l: f64, u: f64) -> Result<()> {
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
    Ok(())
}

/// Halley steps of the inverse-CDF draw: from y₀ = √(2c), three reach the root to 3·10⁻¹³
/// (absolute, rounding at y ≈ 1400) for every target c from ln 2 + 10⁻¹² to 10⁶ (checked
/// against 30-digit roots at 400 points).
const ROOT_STEPS: usize = 3;

const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4; // √(2/π)

/// One Halley step towards y ≥ 0 with −ln Q(y) = `c` (c ≥ ln 2): g(y) = −ln Q(y) =
/// y²/2 − ln(½E(y)) is convex and increasing with g′(y) = λ(y) = φ(y)/Q(y) = √(2/π)/E(y) (the
/// inverse Mills ratio) and g″(y) = λ(λ − y), so y ← y − 2g₁g′/(2g′² − g₁g″), g₁ = g(y) − c,
/// converges cubically from y₀ = √(2c), which lies right of the root (½E ≤ ½).
#[inline(always)]
fn root_step(y: f64, c: f64) -> f64 {
    let e = erfcx(y * std::f64::consts::FRAC_1_SQRT_2);
    let lambda = SQRT_2_OVER_PI / e;
    let g1 = 0.5 * y * y - ln(0.5 * e) - c;
    let g2 = lambda * (lambda - y);
    (y - 2.0 * g1 * lambda / (2.0 * lambda * lambda - g1 * g2)).max(0.0)
}

/// The interval mirrored so that α + b ≥ 0 (as [`closed`]), and the uniform with it (p → 1 − p
/// keeps F(z) = p): (lo, hi, p, whether mirrored).
#[inline(always)]
fn mirrored(alpha: f64, b: f64, p: f64) -> (f64, f64, f64, bool) {
    let flip = alpha + b < 0.0;
    if flip {
        (-b, -alpha, 1.0 - p, true)
    } else {
        (alpha, b, p, false)
    }
}

/// The target of the inverse CDF (the quantile function: F(z) = p), without branches: c with
/// −ln Q(y) = c for the magnitude y of the mirrored draw, and the draw's sign. In the tail
/// (α ≥ 0 after the mirror) Q(z) = Q(α)·(1 − p(1 − r)) with r = Q(b)/Q(α), so z solves
/// −ln Q(z) = −ln Q(α) − ln(1 − p(1 − r)); with the mode inside, the draw's lower-tail mass
/// Φ(α) + pZ (Z = Φ(b) − Φ(α)) if it is below ½ (sign −), else its upper-tail mass
/// Q(b) + (1 − p)Z (sign +), is a Q of ∓z. Every case is one root of −ln Q in log space
/// ([`root_step`]), so nothing underflows however far the interval lies.
#[inline(always)]
fn target(alpha: f64, b: f64, p: f64) -> (f64, f64) {
    let (lo, hi, p, _) = mirrored(alpha, b, p);
    let tail = lo >= 0.0;
    let e_lo = erfcx(lo.abs() * std::f64::consts::FRAC_1_SQRT_2);
    let e_hi = erfcx(hi * std::f64::consts::FRAC_1_SQRT_2);
    // Tail: −ln Q(α) and r; mode inside: Q(−α), Q(b) and Z.
    let r = exp(-0.5 * (hi - lo) * (hi + lo)) * e_hi / e_lo;
    let q_below = 0.5 * exp(-0.5 * lo * lo) * e_lo; // Q(|α|) = Φ(α) for α < 0
    let q_above = 0.5 * exp(-0.5 * hi * hi) * e_hi; // Q(b)
    let mass = 1.0 - q_below - q_above;
    let lower = q_below + p * mass;
    let upper = q_above + (1.0 - p) * mass;
    let left = !tail && lower < 0.5;
    let base = if tail {
        0.5 * lo * lo - ln(0.5 * e_lo)
    } else {
        0.0
    };
    let mass_left = if tail {
        1.0 - p * (1.0 - r)
    } else if left {
        lower
    } else {
        upper
    };
    (base - ln(mass_left), if left { -1.0 } else { 1.0 })
}

/// The draw from its target's sign and root y. Beyond 10⁸ standard deviations (where α² would
/// lose the draw's offset) the tail's law α + E/α, E = −ln(1 − p) exponential, is exact to
/// double precision. Degenerate arguments (a diverged model): NaN ends give NaN, an empty
/// interval α.
#[inline(always)]
fn finish(alpha: f64, b: f64, p: f64, sign: f64, y: f64) -> f64 {
    let (lo, hi, p, flip) = mirrored(alpha, b, p);
    let z = if lo > 1e8 {
        lo - ln(1.0 - p) / lo
    } else {
        sign * y
    };
    let z = clamp(z, lo, hi);
    let z = if flip { -z } else { z };
    if alpha.is_nan() || b.is_nan() {
        f64::NAN
    } else if alpha >= b {
        alpha
    } else {
        z
    }
}

/// A draw from N(0, 1) truncated to \[`alpha`, `b`\] (α < b, either end may be infinite),
/// from one uniform of `rng`, by the inverse CDF (the module's log-space form: exact in law
/// to rounding, in the bulk and in either far tail alike, with a fixed cost; see
/// [`sample_block`] for many at once, the same bits).
///
/// Arguments from a diverged model never hang: an empty or degenerate interval (α ≥ b) gives
/// α, and a NaN end gives NaN (for the trainer's finiteness check to report).
pub fn sample_standard(alpha: f64, b: f64, rng: &mut StreamRng) -> f64 {
    let p = crate::rng::uniform::<f64>(rng);
    standard_draw(alpha, b, p)
}

/// [`sample_standard`] of a given uniform `p`.
#[inline(always)]
fn standard_draw(alpha: f64, b: f64, p: f64) -> f64 {
    let (c, sign) = target(alpha, b, p);
    let mut y = (2.0 * c).sqrt();
    for _ in 0..ROOT_STEPS {
        y = root_step(y, c);
    }
    finish(alpha, b, p, sign, y)
}

/// A draw from N(`mu`, `s`²) truncated to \[`l`, `u`\] (as [`sample_standard`]; `s` > 0,
/// `l` < `u`, checked by the caller), clamped into the interval against rounding.
#[inline]
pub fn sample(mu: f64, s: f64, l: f64, u: f64, rng: &mut StreamRng) -> f64 {
    let p = crate::rng::uniform::<f64>(rng);
    draw(mu, s, (l, u), p)
}

/// [`sample`] of a given uniform `p`.
#[inline(always)]
fn draw(mu: f64, s: f64, (l, u): (f64, f64), p: f64) -> f64 {
    clamp(mu + s * standard_draw((l - mu) / s, (u - mu) / s, p), l, u)
}

/// [`BLOCK`] draws from N(`mu`ₖ, `s`ₖ²) on one interval \[`l`, `u`\], the k-th from the uniform
/// `p`ₖ ∈ \[0, 1): bit for bit what [`sample`] gives for each (with the same uniform), each
/// stage of the scalar draw vectorised across the block (the Gibbs steps of truncated units
/// call this for every unit).
#[multiversion(targets = "simd")]
pub fn sample_block(
    mu: &[f64; BLOCK],
    s: &[f64; BLOCK],
    (l, u): (f64, f64),
    p: &[f64; BLOCK],
    out: &mut [f64; BLOCK],
) {
    let (mut alpha, mut b, mut y) = ([0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK]);
    let (mut c, mut sign) = ([0.0; BLOCK], [0.0; BLOCK]);
    for k in 0..BLOCK {
        (alpha[k], b[k]) = ((l - mu[k]) / s[k], (u - mu[k]) / s[k]);
        (c[k], sign[k]) = target(alpha[k], b[k], p[k]);
        y[k] = (2.0 * c[k]).sqrt();
    }
    for _ in 0..ROOT_STEPS {
        for k in 0..BLOCK {
            y[k] = root_step(y[k], c[k]);
        }
    }
    for k in 0..BLOCK {
        out[k] = clamp(
            mu[k] + s[k] * finish(alpha[k], b[k], p[k], sign[k], y[k]),
            l,
            u,
        );
    }
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

    /// The vectorised block gives, unit by unit, the bits of the scalar `mean_var`, across the
    /// regimes (mode inside, both tails, far tails, narrow intervals) and for diverged
    /// arguments (clamped means, variance 0).
    #[test]
    fn blocks_equal_the_scalar_moments_bit_for_bit() {
        let mut rng = crate::rng::stream(5, crate::rng::Domain::Other, 0);
        let mut u01 = || crate::rng::uniform::<f64>(&mut rng);
        for range in [(0.0, 1.0), (-1.0, 2.0), (0.0, f64::INFINITY)] {
            for round in 0..200 {
                let (mut mu, mut s) = ([0.0; BLOCK], [0.0; BLOCK]);
                for k in 0..BLOCK {
                    // Means from far below to far above, spreads from 10⁻³ to 10.
                    mu[k] = (u01() - 0.5) * 10f64.powf(3.0 * u01());
                    s[k] = 10f64.powf(4.0 * u01() - 3.0);
                }
                if round == 0 {
                    (mu[0], mu[1], s[2], s[3]) = (f64::NAN, f64::INFINITY, 0.0, f64::INFINITY);
                }
                let (mut mean, mut var) = ([0.0; BLOCK], [0.0; BLOCK]);
                mean_var_block(&mu, &s, range, &mut mean, &mut var);
                for k in 0..BLOCK {
                    match mean_var(mu[k], s[k], range.0, range.1) {
                        Ok((m, v)) => {
                            assert_eq!(
                                (mean[k].to_bits(), var[k].to_bits()),
                                (m.to_bits(), v.to_bits()),
                                "N({}, {}²) on {range:?}",
                                mu[k],
                                s[k]
                            );
                        }
                        Err(_) => {
                            let want = mu[k].clamp(range.0, range.1);
                            assert!(mean[k] == want || (mean[k].is_nan() && want.is_nan()));
                            assert_eq!(var[k], 0.0);
                        }
                    }
                }
            }
        }
    }

    /// The inverse CDF inverts: for uniforms across [0, 1) the draw z has F(z) = p, F from the
    /// log-normalisers of [α, z] and [α, b] (the closed form or quadrature of `moments`, an
    /// independent path), in the bulk, both tails, far out and in narrow intervals.
    #[test]
    fn draws_invert_the_cdf() {
        let inf = f64::INFINITY;
        let cases = [
            (0.0, 1.0, -1.0, 2.0),
            (0.0, 1.0, -8.0, 8.0),
            (0.0, 1.0, 0.5, 3.0),
            (0.0, 1.0, 3.0, inf),
            (0.0, 1.0, 30.0, 31.0),
            (0.0, 1.0, 200.0, inf),
            (0.0, 1.0, -inf, -40.0),
            (0.0, 1.0, -0.01, 0.02),
            (0.0, 1.0, 5.0, 5.001),
            (0.0, 1.0, -3.0, 0.5),
        ];
        for (mu, s, l, u) in cases {
            let whole = moments(mu, s, l, u).unwrap().log_z;
            for i in 0..=100 {
                let p = (i as f64 / 100.0).clamp(1e-12, 1.0 - 1e-12);
                let z = draw(mu, s, (l, u), p);
                assert!((l..=u).contains(&z), "[{l}, {u}] p {p}: {z}");
                let below = if z > l {
                    (moments(mu, s, l, z).unwrap().log_z - whole).exp()
                } else {
                    0.0
                };
                assert!(
                    (below - p).abs() < 1e-9,
                    "[{l}, {u}] p {p}: z {z}, F(z) {below}"
                );
            }
        }
    }

    #[test]
    fn block_draws_equal_scalar_draws_bit_for_bit() {
        let mut rng = crate::rng::stream(9, crate::rng::Domain::Other, 0);
        for range in [(0.0, 1.0), (-2.0, 0.5)] {
            for _ in 0..100 {
                let (mut mu, mut s, mut p) = ([0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK]);
                for k in 0..BLOCK {
                    mu[k] = (crate::rng::uniform::<f64>(&mut rng) - 0.5) * 60.0;
                    s[k] = 10f64.powf(3.0 * crate::rng::uniform::<f64>(&mut rng) - 2.0);
                    p[k] = crate::rng::uniform::<f64>(&mut rng);
                }
                let mut out = [0.0; BLOCK];
                sample_block(&mu, &s, range, &p, &mut out);
                for k in 0..BLOCK {
                    assert_eq!(out[k].to_bits(), draw(mu[k], s[k], range, p[k]).to_bits());
                }
            }
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
