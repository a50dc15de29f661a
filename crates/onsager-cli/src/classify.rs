//! `onsager classify`: supervised networks from `onsager-deep` (docs/maths.md §9–10). `fit`
//! trains one, optionally from an RBM stack pretrained here and on images distorted anew every
//! epoch; `eval` scores a saved one. One command with two subcommands was chosen over separate
//! `pretrain` and `finetune` commands: a stack is pretrained as the first phase of `fit`
//! (`--pretrain METHOD`), and the file keeps the stack beside the network.

use std::ops::ControlFlow;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use ndarray::{s, Array2};
use onsager::data::Split;
use onsager::{Method, Visible};
use onsager_deep::file::{self, DeepFile};
use onsager_deep::{
    error_rate, fit, Activation, Distorter, Distortion, Init, Labelled, Mlp, Sgd, Stack,
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
    #[arg(long, value_delimiter = ',', default_value = "500")]
    pub hidden: Vec<usize>,
    /// Hidden activation: scaled-tanh, logistic or relu (a pretrained stack needs logistic,
    /// which --pretrain chooses).
    #[arg(long)]
    pub activation: Option<String>,
    /// Initial weights: a uniform half-width (Ciresan et al.: 0.05) or `glorot`.
    #[arg(long, default_value = "glorot")]
    pub init: String,
    /// Pretrain the hidden layers as an RBM stack by this method first (cd, cd-K, pcd, pcd-K,
    /// emf, emf-ORDER), then fine-tune.
    #[arg(long)]
    pub pretrain: Option<String>,
    /// Epochs per pretrained layer.
    #[arg(long, default_value_t = 5)]
    pub pretrain_epochs: usize,
    /// Learning rate of the pretraining.
    #[arg(long, default_value_t = 0.05)]
    pub pretrain_lr: f64,
    /// Epochs of supervised training.
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Rows per mini-batch.
    #[arg(long, default_value_t = 100)]
    pub batch_size: usize,
    /// Learning rate of the first epoch.
    #[arg(long, default_value_t = 0.1)]
    pub lr: f64,
    /// Per-epoch factor of the learning rate (Ciresan et al. decay 10⁻³ to 10⁻⁶).
    #[arg(long, default_value_t = 1.0)]
    pub decay: f64,
    /// Floor of the decayed learning rate.
    #[arg(long, default_value_t = 0.0)]
    pub min_lr: f64,
    /// Momentum.
    #[arg(long, default_value_t = 0.9)]
    pub momentum: f64,
    /// Clip each mini-batch gradient to this Euclidean norm.
    #[arg(long)]
    pub clip: Option<f64>,
    /// Distort the training images anew every epoch (Ciresan et al.'s elastic and affine
    /// settings; `onsager show distortions` draws them).
    #[arg(long)]
    pub distort: bool,
    /// Hold out this many rows from the end of the training rows for validation; the kept
    /// network is the epoch of lowest validation error.
    #[arg(long, default_value_t = 0)]
    pub validation_size: usize,
    /// Seed (initial weights, shuffling, distortions, pretraining).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output network file.
    #[arg(short, long, default_value = "classifier.safetensors")]
    pub out: PathBuf,
    /// No per-epoch lines.
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
    let quiet = a.quiet;
    let stack = Stack::pretrain(x.view(), &layers, &mut |k| {
        if !quiet {
            eprintln!(
                "pretraining layer {} of {} ({} hidden units, {method})",
                k + 1,
                layers.len(),
                layers[k].n_hidden
            );
        }
    })?;
    Ok((stack.to_mlp(classes, init, a.seed)?, Some(stack)))
}

fn fit_command(a: &FitArgs) -> Result<()> {
    onsager::io::check_output(&a.out, a.data.data.as_deref())?;
    let (loaded, y) = labelled(&a.data, Split::Train, a.seed)?;
    let n = loaded.x.nrows();
    if a.validation_size >= n {
        bail!(
            "--validation-size {} leaves no training rows ({} has {n})",
            a.validation_size,
            loaded.name
        );
    }
    let cut = n - a.validation_size;
    let (x, vx) = (
        loaded.x.slice(s![..cut, ..]).to_owned(),
        loaded.x.slice(s![cut.., ..]),
    );
    let classes = y.iter().max().map_or(2, |m| m + 1).max(2);
    let (mut net, stack) = initial_network(a, &x, classes)?;
    let shape = loaded.dataset.image_shape;
    let distorter = match (a.distort, shape) {
        (false, _) => None,
        (true, Some(shape)) => Some(Distorter::new(Distortion::CIRESAN, shape)?),
        (true, None) => bail!(
            "--distort needs images: {} records no image shape",
            loaded.name
        ),
    };
    let sgd = Sgd {
        epochs: a.epochs,
        batch_size: a.batch_size,
        learning_rate: a.lr,
        decay: a.decay,
        min_learning_rate: a.min_lr,
        momentum: a.momentum,
        clip: a.clip,
        seed: a.seed,
    };
    let validation = (a.validation_size > 0).then(|| Labelled {
        x: vx,
        y: &y[cut..],
    });
    let cancel = crate::interrupt::flag();
    let quiet = a.quiet;
    let fitted = fit(
        &mut net,
        Labelled {
            x: x.view(),
            y: &y[..cut],
        },
        validation,
        distorter.as_ref(),
        &sgd,
        &mut |r, _| {
            if !quiet {
                let v = r
                    .validation_error
                    .map_or(String::new(), |e| format!("  validation error {e:.4}"));
                eprintln!(
                    "epoch {}/{}  lr {:.3e}  loss {:.4}{v}  {:.1} s",
                    r.epoch, a.epochs, r.learning_rate, r.train_loss, r.seconds
                );
            }
            if cancel.is_cancelled() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )?;
    let out = DeepFile {
        stack,
        mlp: Some(net.clone()),
        extra: [
            ("trained_on".to_string(), loaded.name.clone()),
            ("best_epoch".to_string(), fitted.best_epoch.to_string()),
        ]
        .into(),
    };
    file::save(&a.out, &out)?;
    eprintln!(
        "wrote {} (epoch {} of {} kept)",
        a.out.display(),
        fitted.best_epoch,
        fitted.history.len()
    );
    if fitted.stopped {
        return Err(onsager::Error::Cancelled {
            what: "training (the network of the epochs finished is written)",
        }
        .into());
    }
    if a.data.has_test_split() {
        let (test, ty) = labelled(&a.data, Split::Test, a.seed)?;
        let e = error_rate(
            &net,
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
