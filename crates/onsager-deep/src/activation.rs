//! Hidden-layer activations of the supervised networks (docs/maths.md §10), each with its
//! derivative written through its output y = f(x), which is what back-propagation keeps.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

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
    /// y = f(x).
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Activation::Logistic => {
                if x >= 0.0 {
                    1.0 / (1.0 + (-x).exp())
                } else {
                    let e = x.exp();
                    e / (1.0 + e)
                }
            }
            Activation::ScaledTanh => TANH_SCALE * (2.0 / 3.0 * x).tanh(),
            Activation::Relu => x.max(0.0),
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
        assert_eq!(
            Activation::ScaledTanh.apply(1.5),
            TANH_SCALE * 1.0f64.tanh()
        );
        assert!("softplus".parse::<Activation>().is_err());
    }
}
