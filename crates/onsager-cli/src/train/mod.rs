//! `onsager train`: options in `options.rs`, progress in `monitor.rs`, the run here.

pub mod monitor;
mod options;

use std::fs::File;
use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{s, Array2};
use onsager::data::Split;
use onsager::estimate::ais::BaseModel;
use onsager::io::model::{self, ModelFile};
use onsager::{EpochMetrics, Estimator, Float, TrainConfig, Trainer};

use crate::args::{in_flag_terms, DataArgs, Dtype, Input};
use monitor::CliMonitor;
pub use options::{with_defaults_in_help, TrainArgs};

/// Runs `onsager train`; returns the exit code (130 after Ctrl-C, with the model written).
pub fn run(a: TrainArgs) -> Result<ExitCode> {
    let dtype = match &a.resume {
        Some(p) => match model::file_dtype(p)? {
            "float64" => Dtype::F64,
            _ => Dtype::F32,
        },
        None => a.dtype,
    };
    match dtype {
        Dtype::F32 => run_typed::<f32>(a),
        Dtype::F64 => run_typed::<f64>(a),
    }
}

fn run_typed<T: Float>(a: TrainArgs) -> Result<ExitCode> {
    let resumed: Option<ModelFile<T>> = match &a.resume {
        Some(path) => {
            let given = a.given_flags();
            if !given.is_empty() {
                bail!(
                    "--resume continues with the options stored in the model; remove {}",
                    given.join(", ")
                );
            }
            Some(model::load(path)?)
        }
        None => None,
    };
    let base = match &resumed {
        Some(f) => f
            .params
            .clone()
            .context("the model file stores no hyperparameters to resume with")?,
        None => TrainConfig::default(),
    };
    let config = a.config(base)?;
    let params = config.clone().build().map_err(in_flag_terms)?;
    let real = params.visible.is_real();
    let metrics: onsager::Metrics = match &a.metrics {
        Some(m) => m.as_str(),
        None if real => "recon",
        None => "pl,recon",
    }
    .parse()
    .map_err(in_flag_terms)?;
    if let Some(f) = &resumed {
        if f.epochs_completed >= config.epochs {
            bail!(
                "--resume: {} has done {} epochs already; give --epochs above {} to train on",
                a.resume.as_ref().expect("resumed").display(),
                f.epochs_completed,
                f.epochs_completed
            );
        }
    }
    // Everything that could fail after training is checked before it: where the model and
    // the log go (not over an input), and the AIS settings.
    let inputs = [&a.data.data, &a.validation]
        .into_iter()
        .flatten()
        .map(|p| p.as_path());
    onsager::io::check_output(&a.out, inputs.clone())?;
    if let Some(log) = &a.log {
        let others = [a.out.as_path()].into_iter().chain(a.resume.as_deref());
        onsager::io::check_output(log, inputs.chain(others))?;
    }
    let ais = a.ais.then(|| a.ais_args.ais(config.seed)).transpose()?;

    // Training and validation rows.
    let loaded = a
        .data
        .load::<T>(Split::Train, config.seed, config.visible, Input::Training)?;
    // Held-out rows take the training data's standardisation, if it had one.
    let input = loaded.scaling.columns.clone();
    let held_out = Input::Model(input.as_ref());
    let mut train_x = loaded.x;
    let mut validation = None;
    if let Some(f) = a.validation_split {
        if !(f > 0.0 && f < 1.0) {
            bail!("--validation-split {f}: expected a fraction in (0, 1)");
        }
        let n = train_x.nrows();
        if n < 2 {
            bail!(
                "--validation-split needs at least 2 rows to split; {} has {n}",
                loaded.name
            );
        }
        let hold = ((n as f64 * f).round() as usize).clamp(1, n - 1);
        validation = Some(train_x.slice(s![n - hold.., ..]).to_owned());
        train_x = train_x.slice(s![..n - hold, ..]).to_owned();
    } else if let Some(p) = &a.validation {
        let args = DataArgs {
            data: Some(p.clone()),
            ..a.data.clone()
        };
        validation = Some(
            args.load::<T>(Split::Test, config.seed, config.visible, held_out)?
                .x,
        );
    } else if a.data.has_test_split() {
        validation = Some(
            a.data
                .load::<T>(Split::Test, config.seed, config.visible, held_out)?
                .x,
        );
    }
    let validation = validation.map(|v| {
        v.slice(s![..v.nrows().min(a.validation_size), ..])
            .to_owned()
    });
    if let Some(v) = &validation {
        if v.ncols() != train_x.ncols() {
            bail!(
                "validation data has {} columns, training data {}",
                v.ncols(),
                train_x.ncols()
            );
        }
    }
    let nv = train_x.ncols();

    let fingerprint = fingerprint(&train_x, &loaded.name);
    let (mut trainer, history, image_shape) = match resumed {
        Some(f) => {
            if let Some(stored) = f.extra.get("training_data") {
                same_data(stored, &fingerprint, "model")?;
            }
            if f.rbm.n_visible() != nv {
                bail!(
                    "the model has {} visible units but the data has {nv} columns",
                    f.rbm.n_visible()
                );
            }
            let t = match f.state {
                Some(state) => Trainer::resume(params, f.rbm, state)?,
                None => Trainer::with_model(params, f.rbm)?,
            };
            (t, f.history, a.shape.or(f.image_shape))
        }
        None => (
            Trainer::<T>::new(params, nv)?,
            Vec::new(),
            a.shape.or(loaded.dataset.image_shape),
        ),
    };
    if let Some((r, c)) = image_shape {
        if r * c != nv {
            bail!(
                "--shape {r}x{c} has {} pixels but the data has {nv} columns",
                r * c
            );
        }
    }

    let cancel = crate::interrupt::flag();
    // The header goes out before the progress bar exists, so the bar never overdraws it.
    if !a.quiet {
        let units = if config.visible.is_real() {
            format!(
                " and {} visible units (sigma {})",
                config.visible, config.sigma
            )
        } else {
            String::new()
        };
        eprintln!(
            "training {} with {} hidden units{units} on {} rows x {nv} of {} ({}){}",
            config.method,
            config.n_hidden,
            train_x.nrows(),
            loaded.name,
            loaded.scaling,
            validation
                .as_ref()
                .map(|v| format!("; validating on {} rows", v.nrows()))
                .unwrap_or_default()
        );
    }
    let interactive = !a.quiet && std::io::stderr().is_terminal();
    let rows = train_x.nrows() as u64;
    let bar = interactive.then(|| {
        let bar = ProgressBar::new(rows * config.epochs as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {human_pos}/{human_len} samples  {rate}  eta {eta}",
            )
            .expect("valid template")
            .with_key(
                "rate",
                |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0} samples/s", s.per_sec());
                },
            ),
        );
        bar.set_position(rows * trainer.epochs_completed() as u64);
        bar
    });
    let log = match &a.log {
        Some(p) => {
            Some(File::create(p).with_context(|| format!("cannot write the log {}", p.display()))?)
        }
        None => None,
    };
    let mut mon = CliMonitor {
        cancel: cancel.clone(),
        bar,
        plain: !a.quiet && !interactive,
        validation,
        metrics,
        log,
        log_error: None,
        history,
        checkpoint_every: a.checkpoint_every,
        seed: config.seed,
        rows_per_epoch: rows,
    };
    let save = |trainer: &Trainer<T>, history: &[EpochMetrics]| -> Result<()> {
        let file = ModelFile {
            rbm: trainer.model().clone(),
            params: Some(config.clone()),
            epochs_completed: trainer.epochs_completed(),
            history: history.to_vec(),
            image_shape,
            state: Some(trainer.state()),
            input: input.clone(),
            extra: [("training_data".to_string(), fingerprint.clone())].into(),
        };
        Ok(model::save(&a.out, &file)?)
    };
    let per_epoch = train_x.nrows().div_ceil(config.batch_size);
    let partial = loop {
        let report = trainer.fit(train_x.view(), &mut mon)?;
        let partial = report.batches % per_epoch;
        save(&trainer, &mon.history)?;
        if cancel.is_cancelled() || trainer.epochs_completed() >= config.epochs {
            break partial;
        }
    };
    if let Some(bar) = &mon.bar {
        bar.finish_and_clear();
    }
    if let Some(e) = mon.log_error {
        bail!("could not write the metrics log: {e}");
    }
    if cancel.is_cancelled() {
        let done = trainer.epochs_completed();
        if partial == 0 {
            eprintln!(
                "interrupted after {done} complete epochs; model written to {} (--resume continues exactly)",
                a.out.display()
            );
        } else {
            eprintln!(
                "interrupted in epoch {} after {partial} of {per_epoch} mini-batches; model written to {} with those updates, counted as {done} complete epochs (--resume repeats epoch {} from these weights, so the run is not bit-identical to an uninterrupted one)",
                done + 1,
                a.out.display(),
                done + 1
            );
        }
        return Ok(ExitCode::from(130));
    }
    if let Some(ais) = ais {
        let target = mon.validation.as_ref().unwrap_or(&train_x);
        let est = Estimator::Ais {
            ais,
            base: Some(BaseModel::for_data(train_x.view(), config.visible)?),
        };
        let ll = est.log_likelihood_with(
            trainer.model(),
            target.view(),
            &mut crate::interrupt::progress("AIS", a.quiet),
        )?;
        if !a.quiet {
            let word = config.visible.log_likelihood_word();
            eprintln!("{}", crate::eval::line(&est, &ll, word));
        }
        if let Some(last) = mon.history.last_mut() {
            last.ais_log_likelihood = Some(ll.mean);
            last.ais_log_likelihood_lower = ll.lower.filter(|l| l.is_finite());
            last.ais_log_likelihood_upper = ll.upper.filter(|u| u.is_finite());
        }
        save(&trainer, &mon.history)?;
    }
    if !a.quiet {
        eprintln!(
            "wrote {} ({} epochs)",
            a.out.display(),
            trainer.epochs_completed()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses a `--resume` on data other than the first run's: `stored` and `now` are
/// [`fingerprint`]s, `what` the file's kind ("model", "network").
pub(crate) fn same_data(stored: &str, now: &str, what: &str) -> Result<()> {
    let (was, now): (serde_json::Value, serde_json::Value) =
        (serde_json::from_str(stored)?, serde_json::from_str(now)?);
    if was["hash"] != now["hash"] {
        bail!(
            "--resume: the {what} was trained on {} ({} rows x {}), this run has {} ({} rows x {}); give the same data options",
            was["name"], was["rows"], was["cols"], now["name"], now["rows"], now["cols"]
        );
    }
    Ok(())
}

/// JSON naming the training data and fingerprinting its values (FNV-1a over the bits of every
/// value), so `--resume` can refuse other data.
pub(crate) fn fingerprint<T: Float>(x: &Array2<T>, name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in x.iter() {
        for byte in v.f64().to_bits().to_le_bytes() {
            h = (h ^ byte as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    serde_json::json!({"name": name, "rows": x.nrows(), "cols": x.ncols(), "hash": format!("{h:016x}")}).to_string()
}
