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
