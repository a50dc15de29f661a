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

    /// A uniform draw in \[0, 1) from 64 random bits, using as many bits as the mantissa holds
    /// (24 for `f32`, 53 for `f64`), so `u < p` is a Bernoulli(p) draw for every representable p.
    fn unit(bits: u64) -> Self;
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
}
