//! `onsager train`'s progress: a bar or plain lines, per-epoch metrics on the validation
//! rows, the metrics log, Ctrl-C and checkpoint pauses.

use std::fs::File;
use std::io::Write;
use std::ops::ControlFlow;

use indicatif::ProgressBar;
use ndarray::Array2;
use onsager::{BatchProgress, CancelFlag, EpochMetrics, EpochReport, Float, Metrics, Monitor, Rbm};

/// Progress bar or plain lines, metrics, log, cancellation, checkpoint pauses.
pub struct CliMonitor<T: Float> {
    pub cancel: CancelFlag,
    pub bar: Option<ProgressBar>,
    pub plain: bool,
    pub validation: Option<Array2<T>>,
    pub metrics: Metrics,
    pub log: Option<File>,
    pub log_error: Option<std::io::Error>,
    pub history: Vec<EpochMetrics>,
    pub checkpoint_every: Option<usize>,
    pub seed: u64,
    pub rows_per_epoch: u64,
}

impl<T: Float> CliMonitor<T> {
    fn evaluate(&self, r: &EpochReport, model: &Rbm<T>) -> EpochMetrics {
        match &self.validation {
            Some(v) => self.metrics.evaluate(r, model, v.view(), self.seed),
            None => EpochMetrics::from_report(r),
        }
    }
}

/// One line describing an epoch's metrics (also `onsager info`'s "last epoch").
pub fn describe(m: &EpochMetrics, epochs: usize) -> String {
    let mut s = format!(
        "epoch {}/{epochs}  lr {:.3e}  {:.0} rows/s",
        m.epoch, m.learning_rate, m.samples_per_second
    );
    if let Some(x) = m.pseudo_likelihood {
        s += &format!("  pseudo-ll {x:.3}");
    }
    if let Some(x) = m.reconstruction_error {
        s += &format!("  recon {x:.5}");
    }
    if let Some(x) = m.emf_log_likelihood {
        s += &format!("  emf-ll {x:.3}");
    }
    if let Some(x) = m.fixed_point_sweeps {
        s += &format!("  sweeps {x:.1}");
    }
    if let Some(x) = m.fixed_point_residual {
        s += &format!("  residual {x:.1e}");
    }
    if let Some(x) = m.fixed_point_distance {
        s += &format!("  distance {x:.1e}");
    }
    if let Some(x) = m.distinct_rows {
        s += &format!("  distinct rows {x:.1}");
    }
    if let Some(x) = m.reseeded_rows {
        s += &format!("  reseeded {x}");
    }
    if let Some(x) = m.ais_log_likelihood {
        s += &format!("  AIS-ll {x:.3}");
    }
    s
}

impl<T: Float> Monitor<T> for CliMonitor<T> {
    fn on_batch(&mut self, p: &BatchProgress) -> ControlFlow<()> {
        if let Some(bar) = &self.bar {
            bar.set_position(self.rows_per_epoch * (p.epoch - 1) as u64 + p.samples as u64);
        }
        if self.cancel.is_cancelled() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn on_epoch(&mut self, r: &EpochReport, model: &Rbm<T>) -> ControlFlow<()> {
        let m = self.evaluate(r, model);
        let line = describe(&m, r.epochs);
        if let Some(bar) = &self.bar {
            bar.set_position(self.rows_per_epoch * r.epoch as u64);
            bar.println(&line);
        } else if self.plain {
            eprintln!("{line}");
        }
        if let Some(f) = &mut self.log {
            let json = serde_json::to_string(&m).expect("metrics serialise");
            if let Err(e) = writeln!(f, "{json}") {
                self.log_error.get_or_insert(e);
            }
        }
        self.history.push(m);
        let pause = self
            .checkpoint_every
            .is_some_and(|n| n > 0 && r.epoch.is_multiple_of(n));
        if pause || self.cancel.is_cancelled() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}
