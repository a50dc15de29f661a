//! Progress, metrics and cancellation: the library never prints; it calls a [`Monitor`].

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ndarray::ArrayView2;

use crate::{Float, Rbm};

/// Where training stands before a mini-batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchProgress {
    /// Current epoch, 1-based.
    pub epoch: usize,
    /// Total epochs of the run.
    pub epochs: usize,
    /// Index of the next mini-batch within the epoch (0-based).
    pub batch: usize,
    /// Mini-batches per epoch.
    pub batches: usize,
    /// Rows processed so far in this epoch.
    pub samples: usize,
}

/// What one finished epoch did.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// The epoch, 1-based.
    pub epoch: usize,
    /// Total epochs of the run.
    pub epochs: usize,
    /// Learning rate used in this epoch.
    pub learning_rate: f64,
    /// Mini-batches processed.
    pub batches: usize,
    /// Rows processed.
    pub samples: usize,
    /// Wall-clock seconds the epoch took.
    pub seconds: f64,
    /// EMF only: mean over mini-batches of the largest |Δm| in the last fixed-point sweep.
    pub fixed_point_residual: Option<f64>,
}

/// Metrics of one epoch as recorded in a model's history and a metrics log: the trainer's own
/// figures plus whatever evaluation the caller ran on a validation set.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct EpochMetrics {
    /// The epoch, 1-based.
    pub epoch: usize,
    /// Learning rate used in the epoch.
    pub learning_rate: f64,
    /// Wall-clock seconds of the epoch.
    pub seconds: f64,
    /// Training rows per second.
    pub samples_per_second: f64,
    /// EMF only: mean last-sweep residual of the fixed-point iteration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_point_residual: Option<f64>,
    /// Mean pseudo-likelihood of the validation rows (nats per row).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pseudo_likelihood: Option<f64>,
    /// Mean squared reconstruction error per unit on the validation rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconstruction_error: Option<f64>,
    /// Mean EMF log-likelihood of the validation rows (nats per row).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emf_log_likelihood: Option<f64>,
    /// Mean AIS log-likelihood of the validation rows (nats per row), usually at the end only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ais_log_likelihood: Option<f64>,
}

impl EpochMetrics {
    /// The trainer's own figures for an epoch; evaluation fields are left empty.
    pub fn from_report(r: &EpochReport) -> Self {
        Self {
            epoch: r.epoch,
            learning_rate: r.learning_rate,
            seconds: r.seconds,
            samples_per_second: r.samples as f64 / r.seconds.max(1e-12),
            fixed_point_residual: r.fixed_point_residual,
            ..Self::default()
        }
    }
}

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
        use crate::estimate::{emf::EmfEstimator, pseudo};
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

/// Receives progress during training and may stop it.
///
/// Returning `ControlFlow::Break(())` stops training between mini-batches (from `on_batch`) or
/// after the epoch (from `on_epoch`); the model is consistent either way. Both methods default
/// to continuing, so an implementation overrides only what it needs.
pub trait Monitor<T: Float> {
    /// Called before each mini-batch.
    fn on_batch(&mut self, progress: &BatchProgress) -> ControlFlow<()> {
        let _ = progress;
        ControlFlow::Continue(())
    }

    /// Called after each epoch with the model as it now stands (to compute metrics).
    fn on_epoch(&mut self, report: &EpochReport, model: &Rbm<T>) -> ControlFlow<()> {
        let _ = (report, model);
        ControlFlow::Continue(())
    }
}

/// The silent monitor.
impl<T: Float> Monitor<T> for () {}

/// A cancel flag to share with another thread or a signal handler: once
/// [`CancelFlag::cancel`] is called, training stops before its next mini-batch.
#[derive(Clone, Debug, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// A flag that is not set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks training to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether stopping was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl<T: Float> Monitor<T> for CancelFlag {
    fn on_batch(&mut self, _: &BatchProgress) -> ControlFlow<()> {
        if self.is_cancelled() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}
