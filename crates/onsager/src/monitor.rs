//! Progress, metrics and cancellation: the library never prints; it calls a [`Monitor`].

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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
#[derive(Clone, Debug, Default, PartialEq)]
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
    /// EMF only: mean over mini-batches of the last sweep's fixed-point residual
    /// max |σ(field) − m| (docs/maths.md §3.2).
    pub fixed_point_residual: Option<f64>,
    /// EMF only: mean fixed-point sweeps per mini-batch.
    pub fixed_point_sweeps: Option<f64>,
    /// EMF only: the true distance to the fixed point after the epoch's last mini-batch, mean
    /// over rows of max |m − m*| with m* solved on to a residual of 10⁻⁵ (at most 200
    /// accelerated sweeps), under the model as it stands after the epoch.
    pub fixed_point_distance: Option<f64>,
    /// Persistent EMF only: mean number of distinct magnetisation rows arriving at a
    /// mini-batch (rows within 10⁻³ of each other count once), before re-seeding.
    pub distinct_rows: Option<f64>,
    /// Persistent EMF only: rows re-seeded from the data over the epoch.
    pub reseeded_rows: Option<usize>,
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
    /// EMF only: mean last-sweep fixed-point residual max |σ(field) − m|.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_point_residual: Option<f64>,
    /// EMF only: mean fixed-point sweeps per mini-batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_point_sweeps: Option<f64>,
    /// EMF only: distance to the fixed point after the epoch (see [`EpochReport`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_point_distance: Option<f64>,
    /// Persistent EMF only: mean distinct magnetisation rows per mini-batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distinct_rows: Option<f64>,
    /// Persistent EMF only: rows re-seeded from the data over the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reseeded_rows: Option<usize>,
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
    /// The AIS estimate's lower bound (−3σ of log Z), when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ais_log_likelihood_lower: Option<f64>,
    /// The AIS estimate's upper bound (+3σ of log Z); absent where the lower bound was
    /// recorded but the upper one is open (the weights spread too widely).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ais_log_likelihood_upper: Option<f64>,
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
            fixed_point_sweeps: r.fixed_point_sweeps,
            fixed_point_distance: r.fixed_point_distance,
            distinct_rows: r.distinct_rows,
            reseeded_rows: r.reseeded_rows,
            ..Self::default()
        }
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

/// Receives the progress of a long computation that is not training (AIS, exact enumeration)
/// and may stop it: `ControlFlow::Break(())` makes the computation return
/// [`crate::Error::Cancelled`] at its next check, within a fraction of a second.
///
/// Implemented for `()` (never stops), [`CancelFlag`] (stops once cancelled) and any
/// `FnMut(done, total) -> ControlFlow<()>` (to draw a progress bar).
pub trait Progress {
    /// `done` of `total` steps are finished (the unit is the computation's: AIS temperatures,
    /// blocks of enumerated states).
    fn advance(&mut self, done: u64, total: u64) -> ControlFlow<()>;
}

impl Progress for () {
    fn advance(&mut self, _: u64, _: u64) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

impl Progress for CancelFlag {
    fn advance(&mut self, _: u64, _: u64) -> ControlFlow<()> {
        if self.is_cancelled() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

impl<F: FnMut(u64, u64) -> ControlFlow<()>> Progress for F {
    fn advance(&mut self, done: u64, total: u64) -> ControlFlow<()> {
        self(done, total)
    }
}
