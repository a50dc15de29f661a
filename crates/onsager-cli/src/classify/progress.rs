//! `onsager classify fit`'s progress, like `onsager train`'s: a bar on an interactive terminal
//! (plain lines when piped, nothing with `--quiet`) for the pretraining, layer by layer, and for
//! the supervised epochs, the metrics log (`--log`), and Ctrl-C, which stops the pretraining
//! within a mini-batch and the supervised run after its epoch.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::ControlFlow;
use std::path::Path;

use anyhow::{Context, Result};
use indicatif::ProgressBar;
use onsager::{BatchProgress, CancelFlag, EpochReport, Monitor, Rbm, TrainParams};
use onsager_deep::{EpochRecord, PretrainMonitor};

use crate::interrupt::bar;

/// Prints `line` above the bar, or alone when there is none, or nothing when `quiet`.
fn print(bar: &Option<ProgressBar>, quiet: bool, line: &str) {
    match bar {
        Some(b) => b.println(line),
        None if !quiet => eprintln!("{line}"),
        None => {}
    }
}

/// The pretraining's progress: a line per layer and per epoch (`label` before each, e.g. an
/// experiment's row), a bar over the layer's mini-batches.
pub struct Pretraining {
    label: String,
    quiet: bool,
    bar: Option<ProgressBar>,
    layer: usize,
    layers: usize,
    cancel: CancelFlag,
}

impl Pretraining {
    /// Progress labelled `label`; silent but for Ctrl-C when `quiet`.
    pub fn new(label: &str, quiet: bool) -> Self {
        Self {
            label: label.to_string(),
            quiet,
            bar: bar(quiet, "mini-batches"),
            layer: 0,
            layers: 0,
            cancel: crate::interrupt::flag(),
        }
    }
}

impl Drop for Pretraining {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl<T: onsager::Float> Monitor<T> for Pretraining {
    fn on_batch(&mut self, p: &BatchProgress) -> ControlFlow<()> {
        if let Some(b) = &self.bar {
            b.set_length((p.batches * p.epochs) as u64);
            b.set_position((p.batches * (p.epoch - 1) + p.batch) as u64);
        }
        if self.cancel.is_cancelled() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn on_epoch(&mut self, r: &EpochReport, _: &Rbm<T>) -> ControlFlow<()> {
        let line = format!(
            "{}pretraining layer {}/{}  epoch {}/{}  lr {:.3e}  {:.0} rows/s  {:.1} s",
            self.label,
            self.layer + 1,
            self.layers,
            r.epoch,
            r.epochs,
            r.learning_rate,
            r.samples as f64 / r.seconds.max(1e-9),
            r.seconds
        );
        print(&self.bar, self.quiet, &line);
        ControlFlow::Continue(()) // Ctrl-C is seen before the next mini-batch
    }
}

impl<T: onsager::Float> PretrainMonitor<T> for Pretraining {
    fn on_layer(&mut self, layer: usize, layers: usize, params: &TrainParams) {
        (self.layer, self.layers) = (layer, layers);
        let line = format!(
            "{}pretraining layer {}/{layers}: {} hidden units by {}",
            self.label,
            layer + 1,
            params.n_hidden,
            params.method
        );
        print(&self.bar, self.quiet, &line);
        if let Some(b) = &self.bar {
            b.set_message(format!("layer {}/{layers}", layer + 1));
            b.set_position(0);
        }
    }
}

/// The supervised epochs' progress: a line per epoch, a bar over the run's epochs, and the
/// metrics log.
pub struct Epochs {
    quiet: bool,
    bar: Option<ProgressBar>,
    log: Option<BufWriter<File>>,
}

impl Epochs {
    /// Progress over a run of `epochs` epochs of which `history` are done; the log at `log`, if
    /// named, starts with the finished epochs' lines, so it holds the whole run when resumed.
    ///
    /// # Errors
    /// The log cannot be written.
    pub fn new(
        quiet: bool,
        epochs: usize,
        history: &[EpochRecord],
        log: Option<&Path>,
    ) -> Result<Self> {
        let bar = bar(quiet, "epochs");
        if let Some(b) = &bar {
            b.set_length(epochs as u64);
            b.set_position(history.len() as u64);
            b.set_message("training");
        }
        let mut progress = Self {
            quiet,
            bar,
            log: None,
        };
        if let Some(path) = log {
            let f = File::create(path)
                .with_context(|| format!("cannot write the log {}", path.display()))?;
            progress.log = Some(BufWriter::new(f));
            for r in history {
                progress.write_log(r)?;
            }
        }
        Ok(progress)
    }

    /// Appends `r` to the log as one JSON object.
    fn write_log(&mut self, r: &EpochRecord) -> Result<()> {
        if let Some(f) = &mut self.log {
            let json = serde_json::to_string(r).expect("an epoch record serialises");
            writeln!(f, "{json}")
                .and_then(|()| f.flush())
                .context("writing the log")?;
        }
        Ok(())
    }

    /// Shows epoch `r` of `epochs` and logs it.
    ///
    /// # Errors
    /// The log cannot be written.
    pub fn epoch(&mut self, r: &EpochRecord, epochs: usize) -> Result<()> {
        let v = r
            .validation_error
            .map_or(String::new(), |e| format!("  validation error {e:.4}"));
        let line = format!(
            "epoch {}/{epochs}  lr {:.3e}  loss {:.4}{v}  {:.1} s",
            r.epoch, r.learning_rate, r.train_loss, r.seconds
        );
        print(&self.bar, self.quiet, &line);
        if let Some(b) = &self.bar {
            b.set_position(r.epoch as u64);
        }
        self.write_log(r)
    }
}

impl Drop for Epochs {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
