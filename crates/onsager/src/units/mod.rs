//! The visible units' type: a property of the model ([`crate::Rbm::visible_units`]), not a
//! copy of it. Each type's conditional mean, draw, free-energy term and integral over v live in
//! its own file — `bernoulli.rs`, `gaussian.rs`, `truncated_gaussian.rs` (docs/maths.md §1,
//! §1b) — and the model, the trainer and the estimators dispatch on the variant.
//! [`truncated_normal`] holds the stable moments and draws of the normal distribution on an
//! interval that the truncated-Gaussian type is built on.
//!
//! The real-valued types share Cho, Ilin & Raiko's (2011) energy, with a standard deviation
//! σᵢ per visible unit ([`crate::Rbm::sigma`]):
//!
//! ```text
//! E(v, h) = Σᵢ (vᵢ − aᵢ)²/(2σᵢ²) − Σᵢⱼ vᵢWᵢⱼhⱼ/σᵢ² − bᵀh          (docs/maths.md §1b)
//! v | h ~ N(a + W h, σ²/β) per unit (on [low, high] if truncated),  P(hⱼ = 1 | v) = σ(β(bⱼ + Σᵢ vᵢWᵢⱼ/σᵢ²))
//! ```

pub(crate) mod bernoulli;
pub(crate) mod gaussian;
pub(crate) mod truncated_gaussian;
pub mod truncated_normal;

use std::fmt;
use std::str::FromStr;

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::{check, Error, Float, Result};

/// The type of the visible units.
///
/// Parsed from and written as `bernoulli`, `gaussian`, `truncated_gaussian` (on \[0, 1\]) or
/// `truncated_gaussian:LOW:HIGH` (`-` may stand for `_`); model files and saved parameters use
/// the same text.
///
/// ```
/// use onsager::Visible;
/// let t: Visible = "truncated-gaussian:-1:2".parse().unwrap();
/// assert_eq!(t, Visible::TruncatedGaussian { low: -1.0, high: 2.0 });
/// assert_eq!("truncated_gaussian".parse::<Visible>().unwrap(), Visible::TRUNCATED_UNIT);
/// assert_eq!(t.to_string().parse::<Visible>().unwrap(), t);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Visible {
    /// Binary units, v ∈ {0, 1}: P(v = 1 | h) = σ(β(a + W h)); data in \[0, 1\] are taken as
    /// probabilities.
    #[default]
    Bernoulli,
    /// Real-valued units, v ∈ ℝ: v | h ~ N(a + W h, σ²/β); data may be any finite values
    /// (standardised, usually).
    Gaussian,
    /// Real-valued units on an interval: v | h ~ N(a + W h, σ²/β) truncated to
    /// \[low, high\]; data must lie in the interval.
    TruncatedGaussian {
        /// The interval's lower end.
        low: f64,
        /// The interval's upper end.
        high: f64,
    },
}

impl Visible {
    /// Truncated-Gaussian units on \[0, 1\] (grey levels).
    pub const TRUNCATED_UNIT: Visible = Visible::TruncatedGaussian {
        low: 0.0,
        high: 1.0,
    };

    /// Whether the units are real-valued (carry a σ per unit).
    pub fn is_real(&self) -> bool {
        !matches!(self, Visible::Bernoulli)
    }

    /// The values a unit can take, \[low, high\] (±∞ for Gaussian units).
    pub fn range(&self) -> (f64, f64) {
        match *self {
            Visible::Bernoulli => (0.0, 1.0),
            Visible::Gaussian => (f64::NEG_INFINITY, f64::INFINITY),
            Visible::TruncatedGaussian { low, high } => (low, high),
        }
    }

    /// What a log-likelihood of data is under this type: "log-likelihood" (a log probability,
    /// nats) for Bernoulli units, "log-density" (nats, with respect to Lebesgue measure, so it
    /// may be positive and changes with the data's scale) for real-valued ones. Every output
    /// that prints one uses this word.
    pub fn log_likelihood_word(&self) -> &'static str {
        if self.is_real() {
            "log-density"
        } else {
            "log-likelihood"
        }
    }

    /// Checks the interval of a truncated type.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] (`visible_units`) unless low < high, both finite.
    pub fn check(&self) -> Result<()> {
        match *self {
            Visible::TruncatedGaussian { low, high }
                if !(low.is_finite() && high.is_finite() && low < high) =>
            {
                Err(Error::InvalidParam {
                    name: "visible_units",
                    value: self.to_string(),
                    reason: "the interval must be two finite values, low < high",
                })
            }
            _ => Ok(()),
        }
    }

    /// Checks data for these units: `ncols` columns, at least one row, finite values inside
    /// [`Visible::range`].
    ///
    /// # Errors
    /// [`Error::Shape`], [`Error::Empty`], [`Error::NonFinite`] or [`Error::OutOfRange`]
    /// naming `what` and the first bad value's row and column.
    pub fn check_data<T: Float>(
        &self,
        what: &'static str,
        x: &ArrayView2<'_, T>,
        ncols: usize,
    ) -> Result<()> {
        let (low, high) = self.range();
        check::in_range(what, x, ncols, low, high)
    }
}

impl fmt::Display for Visible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Visible::Bernoulli => write!(f, "bernoulli"),
            Visible::Gaussian => write!(f, "gaussian"),
            Visible::TruncatedGaussian { low, high } if low == 0.0 && high == 1.0 => {
                write!(f, "truncated_gaussian")
            }
            Visible::TruncatedGaussian { low, high } => {
                write!(f, "truncated_gaussian:{low}:{high}")
            }
        }
    }
}

/// `bernoulli`, `gaussian`, `truncated_gaussian` or `truncated_gaussian:LOW:HIGH`.
impl FromStr for Visible {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason| Error::InvalidParam {
            name: "visible_units",
            value: s.to_string(),
            reason,
        };
        let text = s.trim().to_ascii_lowercase().replace('-', "_");
        // `-` is also a minus sign in the interval: split off the name before mapping it.
        let (name, interval) = match s.trim().split_once(':') {
            Some((n, rest)) => (n.to_ascii_lowercase().replace('-', "_"), Some(rest)),
            None => (text, None),
        };
        let v = match (name.as_str(), interval) {
            ("bernoulli", None) => Visible::Bernoulli,
            ("gaussian", None) => Visible::Gaussian,
            ("truncated_gaussian", None) => Visible::TRUNCATED_UNIT,
            ("truncated_gaussian", Some(iv)) => {
                let parts: Vec<&str> = iv.split(':').collect();
                let num = |t: &str| t.trim().parse::<f64>().ok();
                match parts.as_slice() {
                    [lo, hi] => match (num(lo), num(hi)) {
                        (Some(low), Some(high)) => Visible::TruncatedGaussian { low, high },
                        _ => return Err(bad("the interval must be two numbers, LOW:HIGH")),
                    },
                    _ => return Err(bad("the interval must be two numbers, LOW:HIGH")),
                }
            }
            _ => return Err(bad(
                "expected bernoulli, gaussian, truncated_gaussian or truncated_gaussian:LOW:HIGH",
            )),
        };
        v.check()?;
        Ok(v)
    }
}

impl From<Visible> for String {
    fn from(v: Visible) -> String {
        v.to_string()
    }
}

impl TryFrom<String> for Visible {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bad_ones_are_refused() {
        for v in [
            Visible::Bernoulli,
            Visible::Gaussian,
            Visible::TRUNCATED_UNIT,
            Visible::TruncatedGaussian {
                low: -2.5,
                high: 0.5,
            },
        ] {
            assert_eq!(v.to_string().parse::<Visible>().unwrap(), v);
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(serde_json::from_str::<Visible>(&json).unwrap(), v);
        }
        assert_eq!("Gaussian".parse::<Visible>().unwrap(), Visible::Gaussian);
        for bad in [
            "poisson",
            "truncated_gaussian:1:0",
            "truncated_gaussian:0",
            "truncated_gaussian:a:b",
            "gaussian:0:1",
            "truncated_gaussian:0:inf",
        ] {
            assert!(bad.parse::<Visible>().is_err(), "{bad}");
        }
    }
}
