//! `onsager classify`: supervised networks from `onsager-deep` (docs/maths.md §9–10). `fit`
//! trains one, optionally from an RBM stack pretrained here and on images distorted anew every
//! epoch; `eval` scores a saved one. One command with two subcommands was chosen over separate
//! `pretrain` and `finetune` commands: a stack is pretrained as the first phase of `fit`
//! (`--pretrain METHOD`), and the file keeps the stack beside the network. [`progress`] shows
//! both phases and writes the log.

mod progress;

pub use progress::Pretraining;

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use ndarray::{s, Array2};
use onsager::data::Split;
use onsager::{Method, Visible};
use onsager_deep::file::{self, DeepFile, Resume};
use onsager_deep::{
    error_rate, fit_from, Activation, Distorter, Distortion, FitState, Init, Labelled, Mlp, Sgd,
    Stack,
};

use crate::args::{DataArgs, Input, Loaded};

/// `onsager classify` options.
#[derive(Args, Debug)]
pub struct ClassifyArgs {
    #[command(subcommand)]
    pub what: Classify,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Classify {
    /// Train a network on labelled images (the bundled sample, `--dataset mnist`, or an IDX file
    /// with its labels beside it); prints each epoch and, where there is a test split, the test
    /// error of the kept epoch.
    Fit(Box<FitArgs>),
    /// The error rate of a saved network on labelled data (default: the test split).
    Eval(EvalArgs),
}

/// `onsager classify fit` options.
#[derive(Args, Debug)]
pub struct FitArgs {
    /// The training data (values in [0, 1]; labels from the data set).
    #[command(flatten)]
    pub data: DataArgs,
    /// Hidden layer sizes, input side first.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "500",
        conflicts_with = "resume"
    )]
    pub hidden: Vec<usize>,
    /// Hidden activation: scaled-tanh, logistic or relu (a pretrained stack needs logistic,
    /// which --pretrain chooses).
    #[arg(long, conflicts_with = "resume")]
    pub activation: Option<String>,
    /// Initial weights: a uniform half-width (Ciresan et al.: 0.05) or `glorot`.
    #[arg(long, default_value = "glorot", conflicts_with = "resume")]
    pub init: String,
    /// Pretrain the hidden layers as an RBM stack by this method first (cd, cd-K, pcd, pcd-K,
    /// emf, emf-ORDER), then fine-tune.
    #[arg(long, conflicts_with = "resume")]
    pub pretrain: Option<String>,
    /// Epochs per pretrained layer.
    #[arg(long, default_value_t = 5, conflicts_with = "resume")]
    pub pretrain_epochs: usize,
    /// Learning rate of the pretraining.
    #[arg(long, default_value_t = 0.05, conflicts_with = "resume")]
    pub pretrain_lr: f64,
    /// Epochs of supervised training in all [default: 10; with --resume, the file's total].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Rows per mini-batch.
    #[arg(long, default_value_t = 100, conflicts_with = "resume")]
    pub batch_size: usize,
    /// Learning rate of the first epoch.
    #[arg(long, default_value_t = 0.1, conflicts_with = "resume")]
    pub lr: f64,
    /// Per-epoch factor of the learning rate (Ciresan et al. decay 10⁻³ to 10⁻⁶).
    #[arg(long, default_value_t = 1.0, conflicts_with = "resume")]
    pub decay: f64,
    /// Floor of the decayed learning rate.
    #[arg(long, default_value_t = 0.0, conflicts_with = "resume")]
    pub min_lr: f64,
    /// Momentum.
    #[arg(long, default_value_t = 0.9, conflicts_with = "resume")]
    pub momentum: f64,
    /// Clip each mini-batch gradient to this Euclidean norm.
    #[arg(long, conflicts_with = "resume")]
    pub clip: Option<f64>,
    /// Stop as diverged when a mini-batch's mean cross-entropy exceeds this many times ln K,
    /// the uniform guess's loss over K classes (a net saturated at chance); `off` turns the
    /// ceiling off (a loss that is not finite always stops the run).
    #[arg(long, default_value = "50", value_parser = loss_limit, conflicts_with = "resume")]
    pub loss_limit: f64,
    /// Distort the training images anew every epoch (Ciresan et al.'s elastic and affine
    /// settings; `onsager show distortions` draws them).
    #[arg(long, conflicts_with = "resume")]
    pub distort: bool,
    /// Hold out this many rows from the end of the training rows for validation; the kept
    /// network is the epoch of lowest validation error.
    #[arg(long, default_value_t = 0, conflicts_with = "resume")]
    pub validation_size: usize,
    /// Seed (initial weights, shuffling, distortions, pretraining).
    #[arg(long, default_value_t = 0, conflicts_with = "resume")]
    pub seed: u64,
    /// Output network file: the kept network, its stack, and what continues the run.
    #[arg(short, long, default_value = "classifier.safetensors")]
    pub out: PathBuf,
    /// Continue the run in this file (written by `classify fit`: finished, interrupted by
    /// Ctrl-C, or a checkpoint) exactly where it stopped; `--epochs` may raise the total. The
    /// network, its settings and the validation rows come from the file; name the same data.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Write the output file every N epochs, so a stopped run loses at most N − 1 of them.
    #[arg(long)]
    pub checkpoint_every: Option<usize>,
    /// Metrics log: one JSON object per supervised epoch (epoch, learning_rate, train_loss,
    /// validation_error, seconds); with --resume, the whole run's.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// No progress bar or per-epoch lines.
    #[arg(long)]
    pub quiet: bool,
}

/// `onsager classify eval` options.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Network file (from `classify fit`).
    pub model: PathBuf,
    /// Labelled data (default: the test split of the bundled sample or of `--dataset`).
    #[command(flatten)]
    pub data: DataArgs,
}

/// Runs `onsager classify`.
pub fn run(a: ClassifyArgs) -> Result<()> {
    crate::interrupt::flag(); // Ctrl-C stops training after the current epoch
    match a.what {
        Classify::Fit(f) => fit_command(&f),
        Classify::Eval(e) => eval_command(&e),
    }
}

/// `--loss-limit`: a number, or `off` (infinity) for no ceiling; the library checks the
/// number.
fn loss_limit(s: &str) -> std::result::Result<f64, String> {
    match s {
        "off" => Ok(f64::INFINITY),
        _ => s
            .parse()
            .map_err(|_| format!("`{s}` is neither a number nor `off`")),
    }
}

/// Labelled rows of `split`, in [0, 1].
fn labelled(data: &DataArgs, split: Split, seed: u64) -> Result<(Loaded<f32>, Vec<usize>)> {
    let loaded = data.load::<f32>(split, seed, Visible::Bernoulli, Input::Training)?;
    let labels = loaded.dataset.labels.as_ref().with_context(|| {
        format!(
            "{} has no labels (an IDX image file needs its labels file beside it; or use the bundled sample or --dataset mnist)",
            loaded.name
        )
    })?;
    let y = labels.iter().map(|&l| l as usize).collect();
    Ok((loaded, y))
}

/// The network to train: a pretrained stack's, or a fresh one.
fn initial_network(
    a: &FitArgs,
    x: &Array2<f32>,
    classes: usize,
) -> Result<(Mlp<f32>, Option<Stack<f32>>)> {
    let init: Init = a.init.parse()?;
    let Some(method) = &a.pretrain else {
        let activation: Activation = a.activation.as_deref().unwrap_or("scaled-tanh").parse()?;
        let mut sizes = vec![x.ncols()];
        sizes.extend(&a.hidden);
        sizes.push(classes);
        return Ok((Mlp::random(&sizes, activation, init, a.seed)?, None));
    };
    if a.activation.as_deref().is_some_and(|s| s != "logistic") {
        bail!("--pretrain builds logistic layers (the RBMs' P(h|v)); --activation must be logistic or left out");
    }
    let method: Method = method.parse()?;
    let layers =
        Stack::<f32>::uniform_layers(&a.hidden, method, a.pretrain_lr, a.pretrain_epochs, a.seed)?;
    let stack = Stack::pretrain(
        x.view(),
        &layers,
        &mut progress::Pretraining::new("", a.quiet),
    )?;
    Ok((stack.to_mlp(classes, init, a.seed)?, Some(stack)))
}

/// A run of `classify fit`: the network as its last epoch left it, its stack, settings and
/// state, and the notes its file keeps (the data's fingerprint, the validation rows, the
/// distortions), fresh or read from `--resume`.
struct Run {
    net: Mlp<f32>,
    stack: Option<Stack<f32>>,
    sgd: Sgd,
    state: FitState<f32>,
    extra: BTreeMap<String, String>,
}

impl Run {
    /// Writes the run as it stands to `path` (see [`save_run`]).
    fn save(&self, path: &Path) -> Result<()> {
        save_run(
            path,
            &self.net,
            &self.stack,
            &self.sgd,
            &self.state,
            &self.extra,
        )
    }
}

/// Writes a run's file: the kept network, the stack, the notes, and what continues the run
/// (its settings, its last epoch's network `net`, its state).
fn save_run(
    path: &Path,
    net: &Mlp<f32>,
    stack: &Option<Stack<f32>>,
    sgd: &Sgd,
    state: &FitState<f32>,
    extra: &BTreeMap<String, String>,
) -> Result<()> {
    let mut extra = extra.clone();
    extra.insert("best_epoch".into(), state.kept_epoch().to_string());
    let f = DeepFile {
        stack: stack.clone(),
        mlp: Some(state.kept(net)),
        extra,
        resume: Some(Resume {
            sgd: sgd.clone(),
            current: net.clone(),
            state: state.clone(),
        }),
    };
    Ok(file::save(path, &f)?)
}

/// The file `--resume` names, and the run's split and distortions it records: the validation
/// rows (at the end of the training rows), whether to distort, and the seed.
fn resumed_file(path: &Path) -> Result<(DeepFile<f32>, usize, bool, u64)> {
    let f = file::load::<f32>(path)?;
    let seed = match &f.resume {
        Some(r) => r.sgd.seed,
        None => bail!(
            "{} keeps no run to continue (a stack only, or not written by `classify fit`)",
            path.display()
        ),
    };
    let get = |key: &str| {
        f.extra.get(key).with_context(|| {
            format!(
                "{} does not record `{key}` (not written by `classify fit`)",
                path.display()
            )
        })
    };
    let validation_size = get("validation_size")?.parse()?;
    let distort = get("distort")? == "ciresan";
    Ok((f, validation_size, distort, seed))
}

/// The run in the file `--resume` named, its total raised to `--epochs`, checked against
/// this data.
fn resumed_run(a: &FitArgs, path: &Path, f: DeepFile<f32>, fingerprint: &str) -> Result<Run> {
    let r = f.resume.expect("checked by resumed_file");
    let mut sgd = r.sgd;
    let done = r.state.epochs_done();
    sgd.epochs = a.epochs.unwrap_or(sgd.epochs);
    if done >= sgd.epochs {
        bail!(
            "--resume: {} has done {done} epochs already; give --epochs above {done} to train on",
            path.display()
        );
    }
    if let Some(stored) = f.extra.get("training_data") {
        crate::train::same_data(stored, fingerprint, "network")?;
    }
    Ok(Run {
        net: r.current,
        stack: f.stack,
        sgd,
        state: r.state,
        extra: f.extra,
    })
}

/// A fresh run: the network (pretrained first if asked) and the settings from the flags.
fn fresh_run(
    a: &FitArgs,
    x: &Array2<f32>,
    classes: usize,
    notes: [(&str, String); 4],
) -> Result<Run> {
    let (net, stack) = initial_network(a, x, classes)?;
    let sgd = Sgd {
        epochs: a.epochs.unwrap_or(10),
        batch_size: a.batch_size,
        learning_rate: a.lr,
        decay: a.decay,
        min_learning_rate: a.min_lr,
        momentum: a.momentum,
        clip: a.clip,
        seed: a.seed,
        loss_limit: (a.loss_limit != f64::INFINITY).then_some(a.loss_limit),
    };
    Ok(Run {
        state: FitState::new(&net),
        net,
        stack,
        sgd,
        extra: notes.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    })
}

fn fit_command(a: &FitArgs) -> Result<()> {
    // The output may be the file resumed (it is replaced whole, by a rename), not the data.
    onsager::io::check_output(&a.out, a.data.data.as_deref())?;
    if let Some(log) = &a.log {
        let others = [a.out.as_path()].into_iter().chain(a.resume.as_deref());
        onsager::io::check_output(log, a.data.data.as_deref().into_iter().chain(others))?;
    }
    if a.checkpoint_every == Some(0) {
        bail!("--checkpoint-every 0: give a number of epochs of at least 1");
    }
    // A resumed run takes its split and distortions from the file, before the data is read.
    let (resumed, validation_size, distort, seed) = match &a.resume {
        Some(path) => {
            let (f, v, d, seed) = resumed_file(path)?;
            (Some((path, f)), v, d, seed)
        }
        None => (None, a.validation_size, a.distort, a.seed),
    };
    let (loaded, y) = labelled(&a.data, Split::Train, seed)?;
    let n = loaded.x.nrows();
    if validation_size >= n {
        bail!(
            "--validation-size {validation_size} leaves no training rows ({} has {n})",
            loaded.name
        );
    }
    let cut = n - validation_size;
    let (x, vx) = (
        loaded.x.slice(s![..cut, ..]).to_owned(),
        loaded.x.slice(s![cut.., ..]),
    );
    let fingerprint = crate::train::fingerprint(&loaded.x, &loaded.name);
    let classes = y.iter().max().map_or(2, |m| m + 1).max(2);
    let mut run = match resumed {
        Some((path, f)) => resumed_run(a, path, f, &fingerprint)?,
        None => {
            let notes = [
                ("trained_on", loaded.name.clone()),
                ("training_data", fingerprint),
                ("validation_size", validation_size.to_string()),
                (
                    "distort",
                    if distort { "ciresan" } else { "none" }.to_string(),
                ),
            ];
            fresh_run(a, &x, classes, notes)?
        }
    };
    let distorter = match (distort, loaded.dataset.image_shape) {
        (false, _) => None,
        (true, Some(shape)) => Some(Distorter::new(Distortion::CIRESAN, shape)?),
        (true, None) => bail!(
            "--distort needs images: {} records no image shape",
            loaded.name
        ),
    };
    let validation = (validation_size > 0).then(|| Labelled {
        x: vx,
        y: &y[cut..],
    });
    let outcome = train(
        a,
        &mut run,
        Labelled {
            x: x.view(),
            y: &y[..cut],
        },
        validation,
        distorter.as_ref(),
    );
    // The file is written whatever the end: finished, stopped, or diverged after an epoch
    // finished (then with the last finished epoch, which `fit_from` put back); not after any
    // other error, nor over a file for a run that finished no epoch.
    let diverged = |e: &anyhow::Error| {
        matches!(
            e.downcast_ref::<onsager_deep::Error>(),
            Some(onsager_deep::Error::Diverged { .. })
        )
    };
    let finished_some = run.state.epochs_done() > 0;
    if outcome
        .as_ref()
        .map_or_else(|e| diverged(e) && finished_some, |_| true)
    {
        run.save(&a.out)?;
        let (done, kept) = (run.state.epochs_done(), run.state.kept_epoch());
        eprintln!("wrote {} (epoch {kept} of {done} kept)", a.out.display());
    }
    if outcome? {
        return Err(onsager::Error::Cancelled {
            what: "training (the network of the epochs finished is written; --resume continues exactly)",
        }
        .into());
    }
    if a.data.has_test_split() {
        let (test, ty) = labelled(&a.data, Split::Test, seed)?;
        let e = error_rate(
            &run.state.kept(&run.net),
            Labelled {
                x: test.x.view(),
                y: &ty,
            },
        )?;
        println!(
            "test error {e:.4} ({} rows of {})",
            test.x.nrows(),
            test.name
        );
    }
    Ok(())
}

/// Trains `run` on, printing every epoch, writing a checkpoint every `--checkpoint-every`
/// epochs and stopping after the epoch in which Ctrl-C came. Returns whether it stopped early.
fn train(
    a: &FitArgs,
    run: &mut Run,
    train: Labelled<'_, f32>,
    validation: Option<Labelled<'_, f32>>,
    distorter: Option<&Distorter>,
) -> Result<bool> {
    let cancel = crate::interrupt::flag();
    let mut progress = progress::Epochs::new(
        a.quiet,
        run.sgd.epochs,
        &run.state.history,
        a.log.as_deref(),
    )?;
    let mut failed = None;
    let Run {
        net,
        stack,
        sgd,
        state,
        extra,
    } = run;
    let epochs = sgd.epochs;
    let result = fit_from(
        net,
        train,
        validation,
        distorter,
        sgd,
        state,
        &mut |net, st| {
            let r = st.history.last().expect("after an epoch");
            if let Err(e) = progress.epoch(r, epochs) {
                failed = Some(e);
                return ControlFlow::Break(());
            }
            if a.checkpoint_every
                .is_some_and(|k| r.epoch.is_multiple_of(k))
                && r.epoch < epochs
            {
                if let Err(e) = save_run(&a.out, net, stack, sgd, st, extra) {
                    failed = Some(e.context("writing the checkpoint"));
                    return ControlFlow::Break(());
                }
            }
            if cancel.is_cancelled() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    );
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(result?)
}

fn eval_command(a: &EvalArgs) -> Result<()> {
    let f = file::load::<f32>(&a.model)?;
    let net = f
        .mlp
        .with_context(|| format!("{} holds no network (a stack only)", a.model.display()))?;
    let (data, y) = labelled(&a.data, Split::Test, 0)?;
    let e = error_rate(
        &net,
        Labelled {
            x: data.x.view(),
            y: &y,
        },
    )?;
    println!("error {e:.4} ({} rows of {})", data.x.nrows(), data.name);
    Ok(())
}
