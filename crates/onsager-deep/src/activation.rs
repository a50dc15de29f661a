//! Hidden-layer activations of the supervised networks (docs/maths.md §10), each with its
//! derivative written through its output y = f(x), which is what back-propagation keeps.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use onsager::Float;

use crate::Error;

/// LeCun's scaling of tanh that Ciresan et al. use: 1.7159·tanh(⅔x).
pub const TANH_SCALE: f64 = 1.7159;

/// A hidden unit's non-linearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// σ(x) = 1/(1 + e^{−x}), the RBM's hidden units (for pretrained stacks); f' = y(1 − y).
    Logistic,
    /// 1.7159·tanh(⅔x); f' = ⅔(1.7159 − y²/1.7159).
    ScaledTanh,
    /// max(0, x); f' = 1 where y > 0, else 0.
    Relu,
}

impl Activation {
    /// y = f(x), in the precision of `x` and without branches, so that a loop over a layer
    /// vectorises (the `f32` exponentials of [`Float::exp_v`], a few ulp): the logistic as
    /// 1/(1 + e^{−x}) (e^{−x} clamped finite, so y ∈ \[0, 1\]); tanh z as −m/(2 + m) with
    /// m = e^{−2|z|} − 1 ([`Float::exp_m1_v`], accurate near 0), signed as z.
    #[inline(always)]
    pub fn apply<T: Float>(self, x: T) -> T {
        match self {
            Activation::Logistic => T::one() / (T::one() + (-x).exp_v()),
            Activation::ScaledTanh => {
                let z = T::of(2.0 / 3.0) * x;
                let m = (T::of(-2.0) * z.abs()).exp_m1_v();
                let t = -m / (T::of(2.0) + m);
                T::of(TANH_SCALE) * t.copysign(z)
            }
            Activation::Relu => x.max(T::zero()),
        }
    }

    /// [`Activation::apply`] on every value of `xs`, in place.
    pub fn apply_in_place<T: Float>(self, xs: &mut [T]) {
        // One loop per activation, so that each vectorises on its own.
        match self {
            Activation::Logistic => xs.iter_mut().for_each(|x| *x = Self::Logistic.apply(*x)),
            Activation::ScaledTanh => xs.iter_mut().for_each(|x| *x = Self::ScaledTanh.apply(*x)),
            Activation::Relu => xs.iter_mut().for_each(|x| *x = Self::Relu.apply(*x)),
        }
    }

    /// f'(x) written through y = f(x).
    pub fn derivative_at_output(self, y: f64) -> f64 {
        match self {
            Activation::Logistic => y * (1.0 - y),
            Activation::ScaledTanh => 2.0 / 3.0 * (TANH_SCALE - y * y / TANH_SCALE),
            Activation::Relu => {
                if y > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Activation::Logistic => "logistic",
            Activation::ScaledTanh => "scaled-tanh",
            Activation::Relu => "relu",
        })
    }
}

impl FromStr for Activation {
    type Err = Error;

    /// `logistic` (or `sigmoid`), `scaled-tanh` (or `tanh`), `relu`, in any case.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "logistic" | "sigmoid" => Ok(Activation::Logistic),
            "scaled-tanh" | "scaled_tanh" | "tanh" => Ok(Activation::ScaledTanh),
            "relu" => Ok(Activation::Relu),
            _ => Err(Error::InvalidParam {
                name: "activation",
                value: s.to_string(),
                reason: "expected logistic, scaled-tanh or relu",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_finite_differences_and_names_round_trip() {
        for act in [
            Activation::Logistic,
            Activation::ScaledTanh,
            Activation::Relu,
        ] {
            for x in [-3.0, -0.7, 0.4, 2.5] {
                let h = 1e-6;
                let fd = (act.apply(x + h) - act.apply(x - h)) / (2.0 * h);
                let d = act.derivative_at_output(act.apply(x));
                assert!((fd - d).abs() < 1e-8, "{act} at {x}: {d} vs {fd}");
            }
            assert_eq!(act.to_string().parse::<Activation>().unwrap(), act);
        }
        // Against the standard library: f64 and f32 to 4 ulp, over a grid
        // from −30 to 30 (both tails saturate without NaN).
        for i in -3000..=3000 {
            let x = i as f64 * 0.01;
            for (act, want) in [
                (Activation::ScaledTanh, TANH_SCALE * (2.0 / 3.0 * x).tanh()),
                (Activation::Logistic, 1.0 / (1.0 + (-x).exp())),
            ] {
                let got = act.apply(x);
                assert!(
                    (got - want).abs() <= 4.0 * f64::EPSILON * want.abs().max(1e-300),
                    "{act}({x}): {got} vs {want}"
                );
                let got = act.apply(x as f32) as f64;
                let want32 = {
                    let x = x as f32 as f64;
                    match act {
                        Activation::ScaledTanh => TANH_SCALE * (2.0 / 3.0 * x).tanh(),
                        _ => 1.0 / (1.0 + (-x).exp()),
                    }
                };
                assert!(
                    (got - want32).abs() <= 4.0 * f32::EPSILON as f64 * want32.abs() + 1e-38,
                    "{act}({x} as f32): {got} vs {want32}"
                );
            }
        }
        let mut xs = [-1e30f32, -2.0, 0.0, 3.0, 1e30];
        Activation::ScaledTanh.apply_in_place(&mut xs);
        assert_eq!(xs[2], 0.0);
        assert!(
            (xs[0] + TANH_SCALE as f32).abs() < 1e-6 && (xs[4] - TANH_SCALE as f32).abs() < 1e-6
        );
        assert!("softplus".parse::<Activation>().is_err());
    }
}
