//! The optimiser's settings over time: the learning-rate [`Schedule`] and the weight
//! [`Decay`] (docs/maths.md §4, the update convention).
//!
//! | type | text |
//! |---|---|
//! | [`Schedule`] | `constant`, `linear:FINAL`, `exp:FACTOR` |
//! | [`Decay`] | `none`, `l1:LAMBDA`, `l2:LAMBDA` |

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The learning rate of epoch e (0-based) of E.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// The same rate every epoch.
    Constant,
    /// Linear from the initial rate at the first epoch to `final_rate` at the last.
    Linear {
        /// Rate of the last epoch (≥ 0).
        final_rate: f64,
    },
    /// rate₀ · factorᵉ.
    Exponential {
        /// Factor per epoch, in (0, 1].
        factor: f64,
    },
}

impl Schedule {
    /// The rate of epoch `epoch` (0-based) of `epochs`, starting from `initial`.
    pub fn rate(self, initial: f64, epoch: usize, epochs: usize) -> f64 {
        match self {
            Schedule::Constant => initial,
            Schedule::Linear { final_rate } => {
                let span = epochs.saturating_sub(1).max(1) as f64;
                let t = (epoch as f64 / span).min(1.0);
                initial + (final_rate - initial) * t
            }
            Schedule::Exponential { factor } => initial * factor.powi(epoch as i32),
        }
    }
}

/// Weight decay added to the mean W-gradient (only W is decayed, not the biases).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decay {
    /// No decay.
    None,
    /// −λ·sign(W).
    L1 {
        /// λ ≥ 0.
        lambda: f64,
    },
    /// −λ·W.
    L2 {
        /// λ ≥ 0.
        lambda: f64,
    },
}

impl Decay {
    /// (λ₁, λ₂): the L1 and L2 coefficients, one of them zero.
    pub fn coefficients(self) -> (f64, f64) {
        match self {
            Decay::None => (0.0, 0.0),
            Decay::L1 { lambda } => (lambda, 0.0),
            Decay::L2 { lambda } => (0.0, lambda),
        }
    }
}

/// Splits `tag:number`; `None` for the number when there is no colon.
fn tagged(s: &str) -> (String, Option<&str>) {
    match s.trim().split_once(':') {
        Some((t, v)) => (t.trim().to_ascii_lowercase(), Some(v.trim())),
        None => (s.trim().to_ascii_lowercase(), None),
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Constant => write!(f, "constant"),
            Schedule::Linear { final_rate } => write!(f, "linear:{final_rate}"),
            Schedule::Exponential { factor } => write!(f, "exp:{factor}"),
        }
    }
}

/// `constant`, `linear:FINAL` or `exp:FACTOR` (also `exponential:FACTOR`).
impl FromStr for Schedule {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidParam {
            name: "schedule",
            value: s.to_string(),
            reason: "expected constant, linear:FINAL or exp:FACTOR",
        };
        let num = |v: Option<&str>| v.and_then(|v| v.parse::<f64>().ok()).ok_or_else(bad);
        match tagged(s) {
            (t, None) if t == "constant" => Ok(Schedule::Constant),
            (t, v) if t == "linear" => Ok(Schedule::Linear {
                final_rate: num(v)?,
            }),
            (t, v) if t == "exp" || t == "exponential" => {
                Ok(Schedule::Exponential { factor: num(v)? })
            }
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Decay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decay::None => write!(f, "none"),
            Decay::L1 { lambda } => write!(f, "l1:{lambda}"),
            Decay::L2 { lambda } => write!(f, "l2:{lambda}"),
        }
    }
}

/// `none`, `l1:LAMBDA` or `l2:LAMBDA`.
impl FromStr for Decay {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidParam {
            name: "decay",
            value: s.to_string(),
            reason: "expected none, l1:LAMBDA or l2:LAMBDA",
        };
        let num = |v: Option<&str>| v.and_then(|v| v.parse::<f64>().ok()).ok_or_else(bad);
        match tagged(s) {
            (t, None) if t == "none" => Ok(Decay::None),
            (t, v) if t == "l1" => Ok(Decay::L1 { lambda: num(v)? }),
            (t, v) if t == "l2" => Ok(Decay::L2 { lambda: num(v)? }),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_give_the_documented_rates() {
        assert!((0..5).all(|e| Schedule::Constant.rate(0.1, e, 5) == 0.1));
        let l = Schedule::Linear { final_rate: 0.02 };
        let want = [0.1, 0.08, 0.06, 0.04, 0.02];
        for (e, w) in want.iter().enumerate() {
            assert!((l.rate(0.1, e, 5) - w).abs() < 1e-15, "epoch {e}");
        }
        let x = Schedule::Exponential { factor: 0.5 };
        assert!((x.rate(0.1, 3, 5) - 0.0125).abs() < 1e-15);
    }

    #[test]
    fn schedules_and_decays_round_trip_through_text() {
        for s in [
            Schedule::Constant,
            Schedule::Linear { final_rate: 0.001 },
            Schedule::Exponential { factor: 0.9 },
        ] {
            assert_eq!(s.to_string().parse::<Schedule>().unwrap(), s);
        }
        for d in [
            Decay::None,
            Decay::L1 { lambda: 0.01 },
            Decay::L2 { lambda: 1e-4 },
        ] {
            assert_eq!(d.to_string().parse::<Decay>().unwrap(), d);
        }
        for bad in ["linear", "exp:x", "sometimes", "constant:1"] {
            assert!(bad.parse::<Schedule>().is_err(), "{bad}");
        }
        for bad in ["l2", "l3:1", "none:1"] {
            assert!(bad.parse::<Decay>().is_err(), "{bad}");
        }
    }
}
