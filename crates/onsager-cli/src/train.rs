//! `onsager train`.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{s, Array2};
use onsager::data::Split;
use onsager::estimate::ais::{Ais, AisSchedule, BaseModel};
use onsager::io::model::{self, ModelFile};
use onsager::{
    BatchProgress, CancelFlag, Decay, EmfOrder, EpochMetrics, EpochReport, Float, Method, Metrics,
    Monitor, Persistence, Rbm, Schedule, TrainConfig, Trainer,
};

use crate::args::{parse_shape, DataArgs, Dtype};

/// `onsager train` options. Training options left out take the library's defaults (or, with
/// `--resume`, the values stored in the file).
#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Model file to write (safetensors).
    #[arg(short, long, default_value = "model.safetensors")]
    pub out: PathBuf,
    /// Continue training the model (and its optimiser state) in this file; `--epochs` may raise
    /// the total. Other training options come from the file; name the same data (and
    /// preprocessing) as the first run, which the file does not record.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Training method.
    #[arg(long, value_enum)]
    pub method: Option<MethodArg>,
    /// Gibbs steps per mini-batch (cd, pcd).
    #[arg(long)]
    pub k: Option<usize>,
    /// Persistent chains (pcd).
    #[arg(long)]
    pub chains: Option<usize>,
    /// EMF order: 1, 2 or 3.
    #[arg(long)]
    pub order: Option<u8>,
    /// EMF fixed-point sweeps per mini-batch.
    #[arg(long)]
    pub iterations: Option<usize>,
    /// EMF damping in (0, 1].
    #[arg(long)]
    pub damping: Option<f64>,
    /// EMF magnetisations: `data`, `persistent`, or `from:N` (persistent from epoch N).
    #[arg(long)]
    pub persistence: Option<String>,
    /// Hidden units.
    #[arg(long)]
    pub hidden: Option<usize>,
    /// Learning rate (on the mean gradient).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Learning-rate schedule: `constant`, `linear:FINAL` or `exp:FACTOR`.
    #[arg(long)]
    pub schedule: Option<String>,
    /// Mini-batch size.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Total epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Momentum on W, in [0, 1).
    #[arg(long)]
    pub momentum: Option<f64>,
    /// Weight decay: `none`, `l1:LAMBDA` or `l2:LAMBDA` (on the mean gradient).
    #[arg(long)]
    pub decay: Option<String>,
    /// Standard deviation of the initial weights.
    #[arg(long)]
    pub init_std: Option<f64>,
    /// Inverse temperature of the model.
    #[arg(long)]
    pub beta: Option<f64>,
    /// Keep the row order instead of reshuffling every epoch.
    #[arg(long)]
    pub no_shuffle: bool,
    /// Seed of every random stream (also of `--preprocess stochastic`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (0: all cores). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Precision of the model.
    #[arg(long, value_enum, default_value_t = Dtype::F32)]
    pub dtype: Dtype,
    /// Validation data file (default: the test split of a built-in data set).
    #[arg(long)]
    pub validation: Option<PathBuf>,
    /// Hold out this fraction of the training rows (their end) for validation instead.
    #[arg(long)]
    pub validation_split: Option<f64>,
    /// Validation rows used for the per-epoch metrics.
    #[arg(long, default_value_t = 1000)]
    pub validation_size: usize,
    /// Per-epoch metrics on the validation rows, comma-separated: pl (pseudo-likelihood),
    /// recon (reconstruction error), emf (EMF log-likelihood, order 2), or `none`.
    #[arg(long, default_value = "pl,recon")]
    pub metrics: String,
    /// After training, estimate the validation log-likelihood by AIS.
    #[arg(long)]
    pub ais: bool,
    /// AIS runs.
    #[arg(long, default_value_t = 100)]
    pub ais_runs: usize,
    /// AIS temperatures (Salakhutdinov & Murray's spacing).
    #[arg(long, default_value_t = 14_500)]
    pub ais_temperatures: usize,
    /// Write the model (with its optimiser state) every N epochs.
    #[arg(long)]
    pub checkpoint_every: Option<usize>,
    /// Image shape of the visible units, e.g. 28x28 (stored in the model).
    #[arg(long, value_parser = parse_shape)]
    pub shape: Option<(usize, usize)>,
    /// Metrics log: one JSON object per epoch.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `--method` choices.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum MethodArg {
    /// Contrastive divergence.
    Cd,
    /// Persistent contrastive divergence.
    Pcd,
    /// Extended mean field.
    Emf,
}

fn parse_tagged(s: &str, what: &str) -> Result<(String, Option<f64>)> {
    match s.split_once(':') {
        Some((tag, v)) => {
            let x: f64 = v
                .parse()
                .with_context(|| format!("`{s}`: `{v}` is not a number ({what})"))?;
            Ok((tag.to_string(), Some(x)))
        }
        None => Ok((s.to_string(), None)),
    }
}

impl TrainArgs {
    /// Names of the training options given on the command line.
    fn given_training_options(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        macro_rules! given {
            ($($f:ident),*) => { $( if self.$f.is_some() { v.push(stringify!($f)); } )* };
        }
        given!(
            method,
            k,
            chains,
            order,
            iterations,
            damping,
            persistence,
            hidden,
            lr,
            schedule,
            batch_size,
            momentum,
            decay,
            init_std,
            beta,
            seed
        );
        if self.no_shuffle {
            v.push("no_shuffle");
        }
        v
    }

    /// The configuration: `base` with every given option applied.
    fn config(&self, base: TrainConfig) -> Result<TrainConfig> {
        let mut c = base;
        if let Some(h) = self.hidden {
            c.n_hidden = h;
        }
        if let Some(x) = self.lr {
            c.learning_rate = x;
        }
        if let Some(x) = self.batch_size {
            c.batch_size = x;
        }
        if let Some(x) = self.epochs {
            c.epochs = x;
        }
        if let Some(x) = self.momentum {
            c.momentum = x;
        }
        if let Some(x) = self.init_std {
            c.init_std = x;
        }
        if let Some(x) = self.beta {
            c.beta = x;
        }
        if let Some(x) = self.seed {
            c.seed = x;
        }
        c.threads = self.threads;
        if self.no_shuffle {
            c.shuffle = false;
        }
        if let Some(s) = &self.schedule {
            c.schedule = match parse_tagged(s, "schedule")? {
                (t, None) if t == "constant" => Schedule::Constant,
                (t, Some(x)) if t == "linear" => Schedule::Linear { final_rate: x },
                (t, Some(x)) if t == "exp" => Schedule::Exponential { factor: x },
                _ => bail!("--schedule `{s}`: expected constant, linear:FINAL or exp:FACTOR"),
            };
        }
        if let Some(s) = &self.decay {
            c.decay = match parse_tagged(s, "decay")? {
                (t, None) if t == "none" => Decay::None,
                (t, Some(x)) if t == "l1" => Decay::L1 { lambda: x },
                (t, Some(x)) if t == "l2" => Decay::L2 { lambda: x },
                _ => bail!("--decay `{s}`: expected none, l1:LAMBDA or l2:LAMBDA"),
            };
        }
        let method_given = self.method.is_some()
            || self.k.is_some()
            || self.chains.is_some()
            || self.order.is_some()
            || self.iterations.is_some()
            || self.damping.is_some()
            || self.persistence.is_some();
        if method_given {
            let kind = self.method.unwrap_or(match c.method {
                Method::Cd { .. } => MethodArg::Cd,
                Method::Pcd { .. } => MethodArg::Pcd,
                Method::Emf { .. } => MethodArg::Emf,
            });
            c.method = match kind {
                MethodArg::Cd => Method::Cd {
                    k: self.k.unwrap_or(1),
                },
                MethodArg::Pcd => Method::Pcd {
                    k: self.k.unwrap_or(1),
                    chains: self.chains.unwrap_or(c.batch_size),
                },
                MethodArg::Emf => {
                    let persistence = match self.persistence.as_deref() {
                        None | Some("persistent") => Persistence::Persistent,
                        Some("data") => Persistence::DataInit,
                        Some(p) => match p.strip_prefix("from:").and_then(|n| n.parse().ok()) {
                            Some(epoch) => Persistence::PersistentFrom { epoch },
                            None => {
                                bail!("--persistence `{p}`: expected data, persistent or from:N")
                            }
                        },
                    };
                    Method::Emf {
                        order: EmfOrder::try_from(self.order.unwrap_or(2))?,
                        iterations: self.iterations.unwrap_or(3),
                        damping: self.damping.unwrap_or(0.5),
                        persistence,
                    }
                }
            };
        }
        Ok(c)
    }
}

fn parse_metrics(s: &str) -> Result<Metrics> {
    let mut m = Metrics::default();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part {
            "pl" => m.pseudo_likelihood = true,
            "recon" => m.reconstruction_error = true,
            "emf" => m.emf_log_likelihood = true,
            "none" => {}
            _ => bail!("--metrics: unknown metric `{part}` (pl, recon, emf, none)"),
        }
    }
    Ok(m)
}

/// Progress bar or plain lines, metrics, log, cancellation, checkpoint pauses.
struct CliMonitor<T: Float> {
    cancel: CancelFlag,
    bar: Option<ProgressBar>,
    plain: bool,
    validation: Option<Array2<T>>,
    metrics: Metrics,
    log: Option<File>,
    log_error: Option<std::io::Error>,
    history: Vec<EpochMetrics>,
    checkpoint_every: Option<usize>,
    seed: u64,
    rows_per_epoch: u64,
}

impl<T: Float> CliMonitor<T> {
    fn evaluate(&self, r: &EpochReport, model: &Rbm<T>) -> EpochMetrics {
        match &self.validation {
            Some(v) => self.metrics.evaluate(r, model, v.view(), self.seed),
            None => EpochMetrics::from_report(r),
        }
    }
}

/// One line describing an epoch's metrics.
fn describe(m: &EpochMetrics, epochs: usize) -> String {
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
    if let Some(x) = m.fixed_point_residual {
        s += &format!("  residual {x:.1e}");
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
    let metrics = parse_metrics(&a.metrics)?;
    let resumed: Option<ModelFile<T>> = match &a.resume {
        Some(path) => {
            let given = a.given_training_options();
            if !given.is_empty() {
                bail!(
                    "--resume continues with the options stored in the model; remove --{}",
                    given.join(", --").replace('_', "-")
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
    let params = config.clone().build()?;

    // Training and validation rows.
    let loaded = a.data.load::<T>(Split::Train, config.seed)?;
    let mut train_x = loaded.x;
    let mut validation = None;
    if let Some(f) = a.validation_split {
        if !(f > 0.0 && f < 1.0) {
            bail!("--validation-split {f}: expected a fraction in (0, 1)");
        }
        let n = train_x.nrows();
        let hold = ((n as f64 * f).round() as usize).clamp(1, n - 1);
        validation = Some(train_x.slice(s![n - hold.., ..]).to_owned());
        train_x = train_x.slice(s![..n - hold, ..]).to_owned();
    } else if let Some(p) = &a.validation {
        let args = DataArgs {
            data: Some(p.clone()),
            ..a.data.clone()
        };
        validation = Some(args.load::<T>(Split::Test, config.seed)?.x);
    } else if a.data.has_test_split() {
        validation = Some(a.data.load::<T>(Split::Test, config.seed)?.x);
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
                let (was, now): (serde_json::Value, serde_json::Value) = (
                    serde_json::from_str(stored)?,
                    serde_json::from_str(&fingerprint)?,
                );
                if was["hash"] != now["hash"] {
                    bail!(
                        "--resume: the model was trained on {} ({} rows x {}), this run has {} ({} rows x {}); give the same data options",
                        was["name"], was["rows"], was["cols"], now["name"], now["rows"], now["cols"]
                    );
                }
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

    let cancel = CancelFlag::new();
    {
        let c = cancel.clone();
        // A second handler (tests calling run twice) is not an error worth failing for.
        let _ = ctrlc::set_handler(move || c.cancel());
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
    if !a.quiet {
        eprintln!(
            "training {:?} with {} hidden units on {} rows x {nv} of {}{}",
            config.method,
            config.n_hidden,
            train_x.nrows(),
            loaded.name,
            validation
                .as_ref()
                .map(|v| format!("; validating on {} rows", v.nrows()))
                .unwrap_or_default()
        );
    }
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
            extra: [("training_data".to_string(), fingerprint.clone())].into(),
        };
        Ok(model::save(&a.out, &file)?)
    };
    loop {
        trainer.fit(train_x.view(), &mut mon)?;
        save(&trainer, &mon.history)?;
        if cancel.is_cancelled() || trainer.epochs_completed() >= config.epochs {
            break;
        }
    }
    if let Some(bar) = &mon.bar {
        bar.finish_and_clear();
    }
    if let Some(e) = mon.log_error {
        bail!("could not write the metrics log: {e}");
    }
    if cancel.is_cancelled() {
        eprintln!(
            "interrupted after {} complete epochs; model written to {}",
            trainer.epochs_completed(),
            a.out.display()
        );
        return Ok(ExitCode::from(130));
    }
    if a.ais {
        let target = mon.validation.as_ref().unwrap_or(&train_x);
        let base = BaseModel::from_data(train_x.view(), 1.0)?;
        let ais = Ais {
            runs: a.ais_runs,
            schedule: AisSchedule::Piecewise {
                temperatures: a.ais_temperatures,
            },
            seed: config.seed,
        };
        let est = ais.log_partition(trainer.model(), &base)?;
        let (ll, lo, hi) = est.mean_log_likelihood(trainer.model(), target.view())?;
        if !a.quiet {
            eprintln!("AIS: log Z = {:.3} [{:.3}, {:.3}]; mean log-likelihood {ll:.3} [{lo:.3}, {hi:.3}] nats", est.log_z, est.log_z_lower, est.log_z_upper);
        }
        if let Some(last) = mon.history.last_mut() {
            last.ais_log_likelihood = Some(ll);
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

/// JSON naming the training data and fingerprinting its values (FNV-1a over the bits of every
/// value), so `--resume` can refuse other data.
fn fingerprint<T: Float>(x: &Array2<T>, name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in x.iter() {
        for byte in v.f64().to_bits().to_le_bytes() {
            h = (h ^ byte as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    serde_json::json!({"name": name, "rows": x.nrows(), "cols": x.ncols(), "hash": format!("{h:016x}")}).to_string()
}
