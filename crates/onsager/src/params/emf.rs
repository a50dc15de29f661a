//! The EMF negative phase's own settings beyond the order: how the fixed point is solved
//! ([`Solver`], docs/maths.md §3.2), how persistent magnetisation rows are kept apart
//! ([`Reseed`], docs/maths.md §3.3) and how the fixed points are weighted in the gradient
//! ([`Weighting`], docs/maths.md §3.4).
//!
//! | type | text |
//! |---|---|
//! | [`Solver`] | `damped`, `adaptive`, `anderson`, `anderson:DEPTH` |
//! | [`Reseed`] | `none`, `merged`, `FRACTION`, `merged+FRACTION` (e.g. `merged+0.1`) |
//! | [`Weighting`] | `uniform`, `free-energy` |

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How the fixed-point equations of Γ_k are solved (docs/maths.md §3.2).
/// The default, [`Solver::Damped`], is what files written before the solver was a setting used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Solver {
    /// Plain damped iteration: m ← damping·G(m) + (1 − damping)·m, visible layer then hidden.
    #[default]
    Damped,
    /// Damped iteration with a damping per row: each row starts undamped (damping 1) and
    /// halves its damping, down to the configured damping, whenever its residual grows by
    /// more than half in one sweep.
    Adaptive,
    /// Anderson acceleration (type II) of the damped map, per row, over the last `depth`
    /// iterates; restarted where the residual grows.
    Anderson {
        /// Iterates remembered (≥ 1).
        depth: usize,
    },
}

/// The Anderson depth `anderson` means on its own.
pub const ANDERSON_DEPTH: usize = 5;

impl fmt::Display for Solver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Solver::Damped => write!(f, "damped"),
            Solver::Adaptive => write!(f, "adaptive"),
            Solver::Anderson { depth } => write!(f, "anderson:{depth}"),
        }
    }
}

/// `damped`, `anderson` (depth [`ANDERSON_DEPTH`]) or `anderson:DEPTH`, case-insensitive.
impl FromStr for Solver {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidParam {
            name: "solver",
            value: s.to_string(),
            reason: "expected damped, adaptive, anderson or anderson:DEPTH",
        };
        let t = s.trim().to_ascii_lowercase();
        match t.split_once(':') {
            None if t == "damped" => Ok(Solver::Damped),
            None if t == "adaptive" => Ok(Solver::Adaptive),
            None if t == "anderson" => Ok(Solver::Anderson {
                depth: ANDERSON_DEPTH,
            }),
            Some(("anderson", d)) => Ok(Solver::Anderson {
                depth: d.trim().parse().map_err(|_| bad())?,
            }),
            _ => Err(bad()),
        }
    }
}

/// Re-seeding of persistent EMF magnetisation rows from the data batch, before the sweeps of
/// each mini-batch (docs/maths.md §3.3). Every row iterates the same deterministic map, so
/// rows that meet stay together for good; re-seeding keeps the negative phase on many fixed
/// points instead of one. The default is [`Reseed::NONE`], what files written before
/// re-seeding existed used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Reseed {
    /// Re-seed every row that coincides with another (all magnetisations within 10⁻³), keeping
    /// one row of each group.
    pub merged: bool,
    /// Fraction of the rows, in \[0, 1\], re-seeded at every mini-batch in turn (a cursor
    /// walks the rows, so each is renewed every 1/fraction mini-batches).
    pub fraction: f64,
}

impl Reseed {
    /// No re-seeding: plain persistence, as in the reference algorithm.
    pub const NONE: Reseed = Reseed {
        merged: false,
        fraction: 0.0,
    };

    /// Whether any row is ever re-seeded.
    pub fn is_active(&self) -> bool {
        self.merged || self.fraction > 0.0
    }
}

impl fmt::Display for Reseed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.merged, self.fraction > 0.0) {
            (false, false) => write!(f, "none"),
            (true, false) => write!(f, "merged"),
            (false, true) => write!(f, "{}", self.fraction),
            (true, true) => write!(f, "merged+{}", self.fraction),
        }
    }
}

/// `none`, `merged`, a fraction such as `0.1`, or `merged+0.1`, case-insensitive.
impl FromStr for Reseed {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidParam {
            name: "reseed",
            value: s.to_string(),
            reason: "expected none, merged, a fraction in [0, 1] or merged+FRACTION",
        };
        let t = s.trim().to_ascii_lowercase();
        let fraction = |x: &str| -> Result<f64> {
            match x.trim().parse::<f64>() {
                Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
                _ => Err(bad()),
            }
        };
        match t.as_str() {
            "none" => Ok(Reseed::NONE),
            "merged" => Ok(Reseed {
                merged: true,
                fraction: 0.0,
            }),
            _ => match t.strip_prefix("merged+") {
                Some(x) => Ok(Reseed {
                    merged: true,
                    fraction: fraction(x)?,
                }),
                None => Ok(Reseed {
                    merged: false,
                    fraction: fraction(&t)?,
                }),
            },
        }
    }
}

/// How the magnetisation rows' fixed points are weighted in the negative phase of the
/// gradient (docs/maths.md §3.4). The default, [`Weighting::Uniform`], is what files written
/// before the weighting was a setting used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weighting {
    /// Every row counts 1/rows: log Z ≈ mean_α −Γ_k(m_α).
    #[default]
    Uniform,
    /// The distinct fixed points m_α (rows that coincide counted once) weighted by
    /// e^{−Γ_k(m_α)}: log Z ≈ log Σ_α e^{−Γ_k(m_α)}, whose gradient weights each row's EMF
    /// gradient by softmax(−Γ_k)_α.
    FreeEnergy,
}

impl fmt::Display for Weighting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Weighting::Uniform => write!(f, "uniform"),
            Weighting::FreeEnergy => write!(f, "free-energy"),
        }
    }
}

/// `uniform` or `free-energy`, case-insensitive.
impl FromStr for Weighting {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "uniform" => Ok(Weighting::Uniform),
            "free-energy" => Ok(Weighting::FreeEnergy),
            _ => Err(Error::InvalidParam {
                name: "weighting",
                value: s.to_string(),
                reason: "expected uniform or free-energy",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solvers_and_reseeding_round_trip_through_text() {
        for s in [
            Solver::Damped,
            Solver::Adaptive,
            Solver::Anderson { depth: 3 },
        ] {
            assert_eq!(s.to_string().parse::<Solver>().unwrap(), s);
        }
        assert_eq!(
            "Anderson".parse::<Solver>().unwrap(),
            Solver::Anderson { depth: 5 }
        );
        for bad in ["", "newton", "anderson:x", "damped:2"] {
            assert!(bad.parse::<Solver>().is_err(), "{bad}");
        }
        for r in [
            Reseed::NONE,
            Reseed {
                merged: true,
                fraction: 0.0,
            },
            Reseed {
                merged: false,
                fraction: 0.25,
            },
            Reseed {
                merged: true,
                fraction: 0.1,
            },
        ] {
            assert_eq!(r.to_string().parse::<Reseed>().unwrap(), r);
        }
        for bad in ["", "1.5", "-0.1", "merged+", "merged+2", "some"] {
            assert!(bad.parse::<Reseed>().is_err(), "{bad}");
        }
        assert!(!Reseed::NONE.is_active() && "0.1".parse::<Reseed>().unwrap().is_active());
        for w in [Weighting::Uniform, Weighting::FreeEnergy] {
            assert_eq!(w.to_string().parse::<Weighting>().unwrap(), w);
        }
        assert!("boltzmann".parse::<Weighting>().is_err());
    }
}
