//! What a fit's spectrum says (docs/maths.md §8.5): the discrete Picard plot, and the danger
//! zone where the number of samples is close to the number of features and the penalty is too
//! small to tame the smallest singular values.

use crate::{Error, Problem, Result};

/// The discrete Picard plot: for each singular direction, sᵢ, |uᵢᵀy| and their ratio. The
/// Picard condition holds where |uᵢᵀy| falls faster than sᵢ (the ratio falls); where the
/// coordinates level off at the noise while sᵢ keeps falling, the ratio grows and an
/// unregularised solution is dominated by noise.
#[derive(Clone, Debug, PartialEq)]
pub struct Picard {
    /// sᵢ, nonzero, decreasing.
    pub singular_values: Vec<f64>,
    /// |uᵢᵀy|.
    pub coordinates: Vec<f64>,
    /// |uᵢᵀy| / sᵢ.
    pub ratios: Vec<f64>,
    /// Singular values the rank tolerance counted as zero (their directions are dropped).
    pub dropped: Vec<f64>,
}

/// The settings of the danger-zone warning.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DangerZone {
    /// The band around n/p = 1 in which a fit is at risk: |n/p − 1| ≤ band.
    pub band: f64,
}

impl Default for DangerZone {
    /// A band of 0.25: n/p from 0.75 to 1.25, where the minimum-norm estimator's variance
    /// σ²·min(n, p)/|n − p − 1| is above about 3σ² for p ≥ 20 (docs/maths.md §8.6).
    fn default() -> Self {
        Self { band: 0.25 }
    }
}

/// Why a fit sits in the danger zone.
#[derive(Clone, Debug, PartialEq)]
pub struct Danger {
    /// n/p.
    pub ratio: f64,
    /// The fit's α.
    pub alpha: f64,
    /// The smallest nonzero sᵢ², which α does not reach.
    pub smallest_s2: f64,
    /// Σ fᵢ²/sᵢ², the noise's amplification (the variance of w is σ² times this).
    pub variance_factor: f64,
}

impl Danger {
    /// The warning, in words.
    pub fn message(&self) -> String {
        format!(
            "ridge in the danger zone: n/p = {:.3} is close to 1 and alpha = {:.3e} is below \
             the smallest squared singular value {:.3e}, so the noise is amplified by \
             sum f_i^2/s_i^2 = {:.3e}; a larger alpha (chosen by GCV, LOO or the L-curve) or \
             fewer features avoids it",
            self.ratio, self.alpha, self.smallest_s2, self.variance_factor
        )
    }
}

impl DangerZone {
    /// Checks the band.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] unless 0 ≤ band is finite.
    pub fn check(&self) -> Result<()> {
        if self.band.is_finite() && self.band >= 0.0 {
            Ok(())
        } else {
            Err(Error::InvalidParam {
                name: "band",
                value: self.band.to_string(),
                reason: "must be finite and non-negative",
            })
        }
    }

    /// The danger of a Tikhonov fit at `alpha` on `problem`, if it is in the zone:
    /// |n/p − 1| ≤ band and α < s²_min (the smallest direction keeps more than half of its
    /// unregularised, noise-dominated coefficient).
    pub fn assess(&self, problem: &Problem, alpha: f64) -> Option<Danger> {
        let ratio = problem.n as f64 / problem.p as f64;
        let smallest = problem.s.last().copied()?;
        let smallest_s2 = smallest * smallest;
        if (ratio - 1.0).abs() > self.band || alpha >= smallest_s2 {
            return None;
        }
        let variance_factor = problem
            .s
            .iter()
            .map(|&s| {
                let f = s * s / (s * s + alpha);
                f * f / (s * s)
            })
            .sum();
        Some(Danger {
            ratio,
            alpha,
            smallest_s2,
            variance_factor,
        })
    }
}

impl Problem {
    /// The discrete Picard plot of the problem.
    pub fn picard(&self) -> Picard {
        let coordinates: Vec<f64> = self.beta.iter().map(|b| b.abs()).collect();
        Picard {
            singular_values: self.s.to_vec(),
            ratios: coordinates
                .iter()
                .zip(&self.s)
                .map(|(c, s)| c / s)
                .collect(),
            coordinates,
            dropped: self.dropped.clone(),
        }
    }
}
