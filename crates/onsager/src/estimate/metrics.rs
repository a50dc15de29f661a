//! Per-epoch evaluation: which figures to compute on a validation set after each epoch, and
//! computing them into the epoch's [`EpochMetrics`]. The command line's `--metrics` and the
//! Python estimators' `metrics` choose a [`Metrics`].

use ndarray::ArrayView2;

use super::{emf::EmfEstimator, pseudo};
use crate::monitor::{EpochMetrics, EpochReport};
use crate::{Float, Rbm};

/// Which evaluation figures to compute after each epoch (see [`Metrics::evaluate`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Mean pseudo-likelihood ([`crate::estimate::pseudo::pseudo_log_likelihood`]).
    pub pseudo_likelihood: bool,
    /// Mean reconstruction error ([`crate::estimate::pseudo::reconstruction_error`]).
    pub reconstruction_error: bool,
    /// Mean EMF log-likelihood at order 2 ([`crate::estimate::emf::EmfEstimator`] defaults).
    pub emf_log_likelihood: bool,
}

/// A comma-separated list of figures, each by its short or long name: `pl` or
/// `pseudo_likelihood`, `recon` or `reconstruction_error`, `emf` or `emf_log_likelihood`;
/// `none` (or nothing) for none.
impl std::str::FromStr for Metrics {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        let mut m = Metrics::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "pl" | "pseudo_likelihood" => m.pseudo_likelihood = true,
                "recon" | "reconstruction_error" => m.reconstruction_error = true,
                "emf" | "emf_log_likelihood" => m.emf_log_likelihood = true,
                "none" => {}
                _ => {
                    return Err(crate::Error::InvalidParam {
                        name: "metrics",
                        value: part.to_string(),
                        reason: "expected pl (pseudo_likelihood), recon (reconstruction_error), \
                                 emf (emf_log_likelihood) or none",
                    })
                }
            }
        }
        Ok(m)
    }
}

impl Metrics {
    /// Whether no figure is asked for.
    pub fn is_empty(&self) -> bool {
        !(self.pseudo_likelihood || self.reconstruction_error || self.emf_log_likelihood)
    }

    /// The report's own figures plus the chosen evaluations of `model` on `data` (usually a
    /// validation set). The pseudo-likelihood flips bits drawn from `seed` and the epoch, so
    /// each epoch sees fresh flips and a rerun sees the same ones. A figure that cannot be
    /// computed (empty data, a numerical failure) is left out rather than reported as NaN.
    pub fn evaluate<T: Float>(
        &self,
        report: &EpochReport,
        model: &Rbm<T>,
        data: ArrayView2<'_, T>,
        seed: u64,
    ) -> EpochMetrics {
        let mut m = EpochMetrics::from_report(report);
        let finite = |x: f64| x.is_finite().then_some(x);
        if self.pseudo_likelihood {
            m.pseudo_likelihood =
                pseudo::pseudo_log_likelihood(model, data, seed ^ report.epoch as u64)
                    .ok()
                    .and_then(|x| x.mean())
                    .and_then(finite);
        }
        if self.reconstruction_error {
            m.reconstruction_error = pseudo::reconstruction_error(model, data)
                .ok()
                .and_then(finite);
        }
        if self.emf_log_likelihood {
            m.emf_log_likelihood = EmfEstimator::default()
                .log_likelihood(model, data)
                .ok()
                .and_then(|(ll, _)| ll.mean())
                .and_then(finite);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::Metrics;

    #[test]
    fn metrics_parse_by_short_and_long_names() {
        let m: Metrics = "pl, reconstruction_error".parse().unwrap();
        assert!(m.pseudo_likelihood && m.reconstruction_error && !m.emf_log_likelihood);
        assert!("none".parse::<Metrics>().unwrap().is_empty());
        assert!("".parse::<Metrics>().unwrap().is_empty());
        assert!("emf,likelihood".parse::<Metrics>().is_err());
    }
}
