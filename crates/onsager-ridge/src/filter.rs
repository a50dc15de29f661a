//! Spectral filters: how much of each singular direction a regularised solution keeps
//! (docs/maths.md §8.2). The solution is w = Σᵢ fᵢ (uᵢᵀy / sᵢ) vᵢ.

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// A regularisation: Tikhonov (ridge) with penalty α, or the truncated SVD keeping k
/// directions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Filter {
    /// Ridge, minimising ‖y − Xw‖² + α‖w‖² (α as in scikit-learn's `Ridge`):
    /// fᵢ = sᵢ²/(sᵢ² + α).
    Tikhonov(f64),
    /// The truncated SVD: fᵢ = 1 for the k largest singular values, 0 for the rest.
    Truncated(usize),
}

impl Filter {
    /// Checks the setting: α finite and ≥ 0, k ≥ 1.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming `alpha` or `k`.
    pub fn check(&self) -> Result<()> {
        match *self {
            Filter::Tikhonov(a) if !(a.is_finite() && a >= 0.0) => Err(Error::InvalidParam {
                name: "alpha",
                value: a.to_string(),
                reason: "must be finite and non-negative",
            }),
            Filter::Truncated(0) => Err(Error::InvalidParam {
                name: "k",
                value: "0".into(),
                reason: "the truncated SVD keeps at least one direction",
            }),
            _ => Ok(()),
        }
    }

    /// The filter's parameter as a number: α (Tikhonov) or k (truncated SVD).
    pub fn parameter(&self) -> f64 {
        match *self {
            Filter::Tikhonov(a) => a,
            Filter::Truncated(k) => k as f64,
        }
    }

    /// The filter factor of direction `i` (from 0) with singular value `s`.
    #[inline]
    pub fn factor(&self, i: usize, s: f64) -> f64 {
        match *self {
            Filter::Tikhonov(a) => {
                let s2 = s * s;
                s2 / (s2 + a)
            }
            Filter::Truncated(k) => f64::from(u8::from(i < k)),
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Tikhonov(a) => write!(f, "tikhonov:{a}"),
            Filter::Truncated(k) => write!(f, "tsvd:{k}"),
        }
    }
}

/// `tikhonov:ALPHA` (or a bare number) and `tsvd:K`.
impl FromStr for Filter {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason| Error::InvalidParam {
            name: "filter",
            value: s.to_string(),
            reason,
        };
        let t = s.trim().to_ascii_lowercase();
        let f = match t.split_once(':') {
            Some(("tikhonov" | "ridge", a)) => {
                Filter::Tikhonov(a.parse().map_err(|_| bad("alpha must be a number"))?)
            }
            Some(("tsvd" | "truncated", k)) => {
                Filter::Truncated(k.parse().map_err(|_| bad("k must be a whole number"))?)
            }
            None => Filter::Tikhonov(
                t.parse()
                    .map_err(|_| bad("expected tikhonov:ALPHA, tsvd:K or a number"))?,
            ),
            _ => return Err(bad("expected tikhonov:ALPHA, tsvd:K or a number")),
        };
        f.check()?;
        Ok(f)
    }
}

/// The kind of filter a path runs over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterKind {
    /// Tikhonov over a grid of α.
    Tikhonov,
    /// The truncated SVD over k = 1 … rank.
    Truncated,
}

impl FromStr for FilterKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tikhonov" | "ridge" => Ok(FilterKind::Tikhonov),
            "tsvd" | "truncated" => Ok(FilterKind::Truncated),
            _ => Err(Error::InvalidParam {
                name: "filter",
                value: s.to_string(),
                reason: "expected tikhonov or tsvd",
            }),
        }
    }
}

impl fmt::Display for FilterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FilterKind::Tikhonov => "tikhonov",
            FilterKind::Truncated => "tsvd",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_and_text() {
        assert_eq!(Filter::Tikhonov(1.0).factor(0, 1.0), 0.5);
        assert_eq!(Filter::Tikhonov(0.0).factor(3, 2.0), 1.0);
        assert_eq!(Filter::Truncated(2).factor(1, 0.1), 1.0);
        assert_eq!(Filter::Truncated(2).factor(2, 9.0), 0.0);
        assert_eq!(Filter::Truncated(7).parameter(), 7.0);
        assert_eq!(Filter::Tikhonov(0.25).parameter(), 0.25);
        for f in [Filter::Tikhonov(1e-8), Filter::Truncated(3)] {
            assert_eq!(f.to_string().parse::<Filter>().unwrap(), f);
        }
        assert_eq!("0.5".parse::<Filter>().unwrap(), Filter::Tikhonov(0.5));
        assert!("tikhonov:-1".parse::<Filter>().is_err());
        assert!("tsvd:0".parse::<Filter>().is_err());
        assert!("lasso:1".parse::<Filter>().is_err());
        assert_eq!("TSVD".parse::<FilterKind>().unwrap(), FilterKind::Truncated);
    }
}
