//! How the real-valued visible units' standard deviations σ are set: fixed, or learned by
//! their gradient (docs/maths.md §1b). Parsed once here for the command line and Python.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The floor a learned σ never goes below unless set (the data's scale is assumed to be about
/// 1: pixels in \[0, 1\] or standardised features).
pub const SIGMA_FLOOR: f64 = 0.01;

/// σ of real-valued visible units (ignored for Bernoulli units).
///
/// Text: `fixed` (σ = 1), `fixed:S`, `learned` (from σ = 1, floor [`SIGMA_FLOOR`]),
/// `learned:S` or `learned:S:FLOOR`.
///
/// ```
/// use onsager::Sigma;
/// assert_eq!("fixed:0.5".parse::<Sigma>().unwrap(), Sigma::Fixed { value: 0.5 });
/// let s: Sigma = "learned:0.3:0.05".parse().unwrap();
/// assert_eq!(s, Sigma::Learned { init: 0.3, floor: 0.05 });
/// assert_eq!(s.to_string().parse::<Sigma>().unwrap(), s);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Sigma {
    /// σ = `value` for every unit, never changed (for standardised data, 1).
    Fixed {
        /// The standard deviation.
        value: f64,
    },
    /// σ per unit learned by gradient ascent on z = log σ² (Cho et al. 2011), starting at
    /// `init`, clamped at `floor` after each step.
    Learned {
        /// The starting σ of every unit.
        init: f64,
        /// The smallest σ allowed.
        floor: f64,
    },
}

impl Default for Sigma {
    fn default() -> Self {
        Sigma::Fixed { value: 1.0 }
    }
}

impl Sigma {
    /// The σ every unit starts from.
    pub fn initial(&self) -> f64 {
        match *self {
            Sigma::Fixed { value } => value,
            Sigma::Learned { init, .. } => init,
        }
    }

    /// Whether σ is learned.
    pub fn is_learned(&self) -> bool {
        matches!(self, Sigma::Learned { .. })
    }

    /// Checks the values.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] (`sigma`) unless every value is finite and positive and a
    /// learned σ starts at or above its floor.
    pub fn check(&self) -> Result<()> {
        let bad = |reason| {
            Err(Error::InvalidParam {
                name: "sigma",
                value: self.to_string(),
                reason,
            })
        };
        let ok = |x: f64| x.is_finite() && x > 0.0;
        match *self {
            Sigma::Fixed { value } if !ok(value) => bad("σ must be finite and positive"),
            Sigma::Learned { init, floor } if !(ok(init) && ok(floor)) => {
                bad("σ and its floor must be finite and positive")
            }
            Sigma::Learned { init, floor } if init < floor => {
                bad("the starting σ must not lie below the floor")
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Sigma {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Sigma::Fixed { value } => write!(f, "fixed:{value}"),
            Sigma::Learned { init, floor } => write!(f, "learned:{init}:{floor}"),
        }
    }
}

/// `fixed`, `fixed:S`, `learned`, `learned:S`, `learned:S:FLOOR`.
impl FromStr for Sigma {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidParam {
            name: "sigma",
            value: s.to_string(),
            reason: "expected fixed, fixed:S, learned, learned:S or learned:S:FLOOR",
        };
        let parts: Vec<&str> = s.trim().split(':').map(str::trim).collect();
        let num = |t: &str| t.parse::<f64>().map_err(|_| bad());
        let sigma = match (parts[0].to_ascii_lowercase().as_str(), &parts[1..]) {
            ("fixed", []) => Sigma::Fixed { value: 1.0 },
            ("fixed", [v]) => Sigma::Fixed { value: num(v)? },
            ("learned", []) => Sigma::Learned {
                init: 1.0,
                floor: SIGMA_FLOOR,
            },
            ("learned", [v]) => Sigma::Learned {
                init: num(v)?,
                floor: SIGMA_FLOOR,
            },
            ("learned", [v, fl]) => Sigma::Learned {
                init: num(v)?,
                floor: num(fl)?,
            },
            _ => return Err(bad()),
        };
        sigma.check()?;
        Ok(sigma)
    }
}

impl From<Sigma> for String {
    fn from(s: Sigma) -> String {
        s.to_string()
    }
}

impl TryFrom<String> for Sigma {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_bad_ones_are_refused() {
        for s in [
            Sigma::default(),
            Sigma::Fixed { value: 0.25 },
            Sigma::Learned {
                init: 1.0,
                floor: SIGMA_FLOOR,
            },
        ] {
            assert_eq!(s.to_string().parse::<Sigma>().unwrap(), s);
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(serde_json::from_str::<Sigma>(&json).unwrap(), s);
        }
        for bad in [
            "fixed:0",
            "fixed:-1",
            "learned:0.01:0.1",
            "learned:x",
            "wild",
            "fixed:1:2",
            "learned:nan",
        ] {
            assert!(bad.parse::<Sigma>().is_err(), "{bad}");
        }
    }
}
