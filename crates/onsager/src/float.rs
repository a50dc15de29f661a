//! The scalar types the library computes in: `f32` (the default) and `f64`.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point type the library supports: `f32` or `f64`, and nothing else (sealed).
///
/// It bundles what the numerics need: arithmetic (`num_traits::Float`), faer's matrix-product
/// traits, ndarray scalar operations, and a uniform draw in \[0, 1) at the type's precision.
pub trait Float:
    num_traits::Float
    + faer::traits::RealField
    + ndarray::ScalarOperand
    + ndarray::LinalgScalar
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + 'static
    + sealed::Sealed
{
    /// The type's name as NumPy spells it (`"float32"`, `"float64"`).
    const DTYPE: &'static str;

    /// Converts from `f64` (rounding to nearest for `f32`).
    fn of(x: f64) -> Self;

    /// Widens to `f64` exactly.
    fn f64(self) -> f64;

    /// A uniform draw in \[0, 1) from the top bits of 64 random bits, as many as the mantissa
    /// holds (24 for `f32`, 53 for `f64`), so the `f32` value is the `f64` one truncated to 24
    /// bits. (Bernoulli draws use [`crate::rng::bernoulli_in_place`], the same at both
    /// precisions.)
    fn unit(bits: u64) -> Self;

    /// eˣ without branches, so loops over slices vectorise. `f32`: Cephes-style range
    /// reduction and a degree-6 polynomial (within 2 ulp), inputs clamped to \[−87.3, 88\]
    /// (so the result is always a finite normal number); `f64`: the standard library's `exp`.
    fn exp_v(self) -> Self;

    /// ln x for finite positive normal x, without branches. `f32`: exponent split and a
    /// degree-9 polynomial on \[√½, √2) (within 2 ulp); `f64`: the standard library's `ln`.
    fn ln_v(self) -> Self;

    /// eˣ − 1, accurate for small x (Taylor series below |x| = ½), without branches.
    fn exp_m1_v(self) -> Self;

    /// ln(1 + x) for x > −1, accurate for small x (Goldberg: ln(u)·x/(u − 1), u = 1 + x),
    /// without branches.
    fn ln_1p_v(self) -> Self;
}

impl Float for f32 {
    const DTYPE: &'static str = "float32";
    #[inline(always)]
    fn of(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn unit(bits: u64) -> Self {
        (bits >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }
    #[inline(always)]
    fn exp_v(self) -> Self {
        const MAGIC: f32 = 12_582_912.0; // 1.5·2²³: adding it rounds to an integer
        let x = self.clamp(-87.3, 88.0);
        let n = (x * std::f32::consts::LOG2_E + MAGIC) - MAGIC;
        let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
        let p = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2)
            * r
            + 1.666_666_5e-1)
            * r
            + 0.5;
        let p = p * r * r + r + 1.0;
        p * f32::from_bits(((n as i32 + 127) as u32) << 23)
    }
    #[inline(always)]
    fn ln_v(self) -> Self {
        let bits = self.to_bits();
        let e = ((bits >> 23) & 0xff) as i32 - 127;
        let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000); // [1, 2)
        let big = m > std::f32::consts::SQRT_2;
        let m = if big { 0.5 * m } else { m };
        let e = (e + big as i32) as f32;
        let f = m - 1.0;
        let z = f * f;
        let y = ((((((((7.037_683_6e-2 * f - 1.151_461e-1) * f + 1.167_699_9e-1) * f
            - 1.242_014_1e-1)
            * f
            + 1.424_932_3e-1)
            * f
            - 1.666_805_8e-1)
            * f
            + 2.000_071_4e-1)
            * f
            - 2.499_999_4e-1)
            * f
            + 3.333_333e-1)
            * f
            * z;
        let y = y - 2.121_944_4e-4 * e - 0.5 * z;
        f + y + 0.693_359_4 * e
    }
    #[inline(always)]
    fn exp_m1_v(self) -> Self {
        let d = self;
        let series = d
            * (1.0
                + d * 0.5
                    * (1.0
                        + d * (1.0 / 3.0)
                            * (1.0
                                + d * 0.25
                                    * (1.0
                                        + d * 0.2
                                            * (1.0 + d * (1.0 / 6.0) * (1.0 + d * (1.0 / 7.0)))))));
        if d.abs() < 0.5 {
            series
        } else {
            d.exp_v() - 1.0
        }
    }
    #[inline(always)]
    fn ln_1p_v(self) -> Self {
        let u = 1.0 + self;
        let r = u.ln_v() * (self / (u - 1.0));
        if u == 1.0 {
            self
        } else {
            r
        }
    }
}

impl Float for f64 {
    const DTYPE: &'static str = "float64";
    #[inline(always)]
    fn of(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn unit(bits: u64) -> Self {
        (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    #[inline(always)]
    fn exp_v(self) -> Self {
        self.clamp(-708.0, 709.0).exp()
    }
    #[inline(always)]
    fn ln_v(self) -> Self {
        self.ln()
    }
    #[inline(always)]
    fn exp_m1_v(self) -> Self {
        self.exp_m1()
    }
    #[inline(always)]
    fn ln_1p_v(self) -> Self {
        self.ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_spans_zero_to_below_one() {
        assert_eq!(f32::unit(0), 0.0);
        assert_eq!(f64::unit(0), 0.0);
        assert!(f32::unit(u64::MAX) < 1.0);
        assert!(f64::unit(u64::MAX) < 1.0);
        assert_eq!(f32::unit(u64::MAX), 1.0 - f32::EPSILON / 2.0);
        assert_eq!(f64::unit(u64::MAX), 1.0 - f64::EPSILON / 2.0);
    }

    #[test]
    fn f32_exp_and_ln_are_within_a_few_ulp() {
        let mut worst_exp = 0.0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let want = (x as f64).exp();
            worst_exp = worst_exp.max(((x.exp_v() as f64) - want).abs() / want);
            x += 0.0137;
        }
        assert!(
            worst_exp < 3.0 * f32::EPSILON as f64,
            "exp relative error {worst_exp}"
        );
        assert!(f32::exp_v(-1000.0) > 0.0 && f32::exp_v(1000.0).is_finite());
        let mut worst_ln = 0.0f64;
        for k in 0..200_000 {
            let x = f32::from_bits(0x0080_0000 + k * 10_600); // normals from 1.2e-38 up
            let want = (x as f64).ln();
            let err = ((x.ln_v() as f64) - want).abs() / want.abs().max(1.0);
            worst_ln = worst_ln.max(err);
        }
        assert!(worst_ln < 3.0 * f32::EPSILON as f64, "ln error {worst_ln}");
        assert_eq!(1.0f32.ln_v(), 0.0);
        for &x in &[
            1e-30f32, 1e-8, -1e-6, 3e-4, 0.1, 0.49, -0.49, 0.51, 2.0, 20.0, -5.0,
        ] {
            let want = (x as f64).exp_m1();
            assert!(
                ((x.exp_m1_v() as f64) - want).abs() <= 4e-7 * want.abs(),
                "expm1({x})"
            );
            if x > -1.0 {
                let want = (x as f64).ln_1p();
                assert!(
                    ((x.ln_1p_v() as f64) - want).abs() <= 4e-7 * want.abs(),
                    "ln1p({x})"
                );
            }
        }
    }
}
