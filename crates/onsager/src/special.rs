//! Branch-free `f64` special functions, written so that a loop over a block of values
//! vectorises (no calls into libm, no data-dependent branches): eˣ, ln x and the scaled
//! complementary error function erfcx(x) = e^{x²} erfc(x). The truncated normal's moments
//! (`units::truncated_normal`, docs/maths.md §1b) evaluate them for every unit of every TAP
//! sweep, where libm's scalar `erfc` and `exp` cost several times the sweep's matrix products.
//!
//! Plain `*` and `+` only (never a fused multiply-add, which a target without FMA would
//! emulate in software): every SIMD width and the scalar fallback give the same bits.

/// 1.5·2⁵²: adding it to a double of magnitude below 2⁵¹ rounds it to an integer, which then
/// sits in the low bits of the sum's mantissa.
const ROUND: f64 = 6_755_399_441_055_744.0;
/// ln 2 split so that n·LN2_HI is exact for |n| < 2²⁰ (its low 32 mantissa bits are zero).
const LN2_HI: f64 = 0.693_146_705_627_441_4;
const LN2_LO: f64 = 4.749_325_039_031_672_6e-7;

/// eˣ for x clamped to \[−708, 709\] (so the result is a finite normal number; e^{−708} ≈
/// 3·10⁻³⁰⁸ stands for anything smaller), within 2 ulp: x = n ln 2 + r with |r| ≤ ½ ln 2, e^r
/// by its Taylor polynomial of degree 12 (truncation below 2·10⁻¹⁶ relative), times 2ⁿ built
/// in the exponent bits.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    let x = x.clamp(-708.0, 709.0);
    let k = x * std::f64::consts::LOG2_E + ROUND;
    let n = k - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // 1/k! for k = 12 down to 2, by Horner; then 1 + r + r²·(…).
    let mut p = 1.0 / 479_001_600.0;
    for c in [
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
    ] {
        p = p * r + c;
    }
    let e_r = 1.0 + r + r * r * p;
    // n is the integer in k's low mantissa bits (two's complement for n < 0).
    let n_bits = k.to_bits().wrapping_sub(ROUND.to_bits());
    f64::from_bits(n_bits.wrapping_add(1023) << 52) * e_r
}

/// ln x for positive x (below the smallest normal, as the smallest normal), without branches:
/// x = 2ᵉ·m with m ∈ \[√½, √2), ln m = 2 atanh(f) = 2(f + f³/3 + … + f²¹/21), f = (m − 1)/(m + 1)
/// (|f| ≤ 0.172, truncation below 10⁻¹⁷), plus e·ln 2 in two parts; within 2 ulp.
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    let x = x.max(f64::MIN_POSITIVE);
    let bits = x.to_bits();
    // The biased exponent as a double, by the 2⁵² trick (no integer conversion, which AVX2
    // lacks for 64-bit lanes).
    let e =
        f64::from_bits(0x4330_0000_0000_0000 | (bits >> 52)) - (4_503_599_627_370_496.0 + 1023.0);
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000); // [1, 2)
    let big = m > std::f64::consts::SQRT_2;
    let m = if big { 0.5 * m } else { m };
    let e = if big { e + 1.0 } else { e };
    let f = (m - 1.0) / (m + 1.0);
    let f2 = f * f;
    let mut p = 1.0 / 21.0;
    for k in (1..10).rev() {
        p = p * f2 + 1.0 / (2 * k + 1) as f64;
    }
    let series = 2.0 * f + 2.0 * f * f2 * p;
    e * LN2_HI + (series + e * LN2_LO)
}

/// The coefficients of P in erfcx(x) = t·P(s), t = 3/(3 + x), s = 2t − 1 = (3 − x)/(3 + x),
/// lowest power first: P is the degree-21 polynomial interpolating erfcx(x)/t at the 22
/// Chebyshev points of s ∈ \[−1, 1\], computed in 40-digit arithmetic (mpmath) and converted
/// to powers of s (the largest coefficient is 0.36, so Horner's rule loses nothing).
const ERFCX: [f64; 22] = [
    0.358_002_302_362_779_9,
    0.294_464_817_723_294_4,
    0.196_742_785_701_370_47,
    0.103_489_087_300_222_51,
    0.039_842_587_095_630_93,
    0.008_942_411_540_157_038,
    -0.000_404_138_873_528_198_4,
    -0.001_011_353_979_653_304,
    -0.000_182_769_916_653_513_26,
    9.225_911_748_086_809e-5,
    3.585_393_123_029_015_6e-5,
    -1.013_196_185_420_356_3e-5,
    -5.823_870_436_897_067e-6,
    1.580_902_484_615_263_9e-6,
    9.225_926_033_647_226e-7,
    -3.289_959_597_940_773_5e-7,
    -1.372_245_285_887_013_7e-7,
    7.321_488_451_829_213e-8,
    1.663_955_052_038_079_3e-8,
    -1.352_998_132_459_111_7e-8,
    -1.180_058_905_944_824_2e-9,
    1.410_965_418_710_444e-9,
];

/// erfcx(x) = e^{x²} erfc(x) for x ≥ 0 (and +∞, where it is 0), within 1.2·10⁻¹⁵ relative
/// everywhere on \[0, ∞): t = 3/(3 + x) times one polynomial in s = (3 − x)/(3 + x) (the
/// table `ERFCX`, fitted as its comment says); no exponential, so it neither overflows nor
/// underflows. Negative x are outside its domain (use erfcx(−x) = 2e^{x²} − erfcx(x)).
#[inline(always)]
pub fn erfcx(x: f64) -> f64 {
    let t = 3.0 / (3.0 + x);
    let s = t + t - 1.0;
    let mut p = ERFCX[21];
    for &c in ERFCX[..21].iter().rev() {
        p = p * s + c;
    }
    t * p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erfcx from libm's erfc and e^{x²} with x² split exactly into a rounded square and its
    /// error (so the exponential adds no error of size x²·ε); finite below x ≈ 26.
    fn erfcx_libm(x: f64) -> f64 {
        let sq = x * x;
        let err = x.mul_add(x, -sq);
        sq.exp() * (1.0 + err) * libm::erfc(x)
    }

    #[test]
    fn exp_is_within_two_ulp_of_libm_and_clamps() {
        let mut worst = 0.0f64;
        let mut x = -708.0f64;
        while x < 709.0 {
            let want = x.exp();
            worst = worst.max(((exp(x) - want) / want).abs());
            x += 0.013_7;
        }
        for x in [
            -1e-300,
            0.0,
            1e-300,
            0.5,
            -0.5,
            1.0,
            0.346_573_590_279_972_6,
        ] {
            let want = f64::exp(x);
            worst = worst.max(((exp(x) - want) / want).abs());
        }
        assert!(worst < 2.5 * f64::EPSILON, "relative error {worst}");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-1e6), exp(-708.0));
        assert!(exp(f64::NEG_INFINITY) > 0.0 && exp(f64::INFINITY).is_finite());
    }

    #[test]
    fn ln_is_within_two_ulp() {
        let mut worst = 0.0f64;
        for k in 0..100_000u64 {
            // Normal doubles from the smallest to near the largest, evenly in their bits.
            let x = f64::from_bits(
                0x0010_0000_0000_0000
                    + k * ((0x7fe0_0000_0000_0000 - 0x0010_0000_0000_0000) / 100_000),
            );
            let want = x.ln();
            worst = worst.max((ln(x) - want).abs() / want.abs().max(1.0));
        }
        assert!(worst < 2.5 * f64::EPSILON, "{worst}");
        assert_eq!(ln(1.0), 0.0);
    }

    #[test]
    fn erfcx_matches_libm_and_its_asymptotic_series() {
        let mut worst = 0.0f64;
        for i in 0..=26_000 {
            let x = i as f64 * 1e-3;
            let want = erfcx_libm(x);
            worst = worst.max(((erfcx(x) - want) / want).abs());
        }
        assert!(worst < 3e-15, "relative error below 26: {worst}");
        // From 40: 1/(x√π)·Σ (−1)ᵏ (2k − 1)!!/(2x²)ᵏ, five terms (the next below 3·10⁻¹⁵).
        let mut worst = 0.0f64;
        for i in 0..2000 {
            let x = 40.0 * 1.01f64.powi(i);
            let y = 1.0 / (x * x);
            let want = std::f64::consts::FRAC_2_SQRT_PI / 2.0 / x
                * (1.0 - y * (0.5 - y * (0.75 - y * (1.875 - y * 6.5625))));
            worst = worst.max(((erfcx(x) - want) / want).abs());
        }
        assert!(worst < 5e-15, "relative error from 40: {worst}");
        assert!((erfcx(0.0) - 1.0).abs() < 2e-15);
        assert_eq!(erfcx(f64::INFINITY), 0.0);
    }
}
