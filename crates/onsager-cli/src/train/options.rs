//! `onsager train`'s options, and how they become the library's named training options
//! (`TrainConfig::with_options`): the command line parses no training parameter itself.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use onsager::TrainConfig;

use crate::args::{flag, in_flag_terms, parse_shape, AisArgs, DataArgs, Dtype};

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
    /// Training method: cd, pcd or emf (also cd-K, pcd-K, emf-ORDER).
    #[arg(long, value_enum)]
    pub method: Option<String>,
    /// Gibbs steps per mini-batch (cd, pcd) [default: 1].
    #[arg(long)]
    pub k: Option<String>,
    /// Persistent chains (pcd) [default: one per mini-batch row].
    #[arg(long)]
    pub chains: Option<String>,
    /// EMF order: 1, 2 or 3.
    #[arg(long)]
    pub order: Option<String>,
    /// EMF: the most fixed-point sweeps per mini-batch (all of them with `--tolerance 0`).
    #[arg(long)]
    pub iterations: Option<String>,
    /// EMF: stop sweeping once the fixed-point residual max |σ(field) − m| is at most this
    /// (0 runs every sweep, as the reference algorithm does).
    #[arg(long)]
    pub tolerance: Option<String>,
    /// EMF fixed-point solver: `damped`, `adaptive`, `anderson` or `anderson:DEPTH`.
    #[arg(long)]
    pub solver: Option<String>,
    /// EMF persistent rows re-seeded from the data: `none`, `merged` (rows that have merged),
    /// a fraction per mini-batch such as `0.1`, or `merged+0.1`.
    #[arg(long)]
    pub reseed: Option<String>,
    /// EMF: how the rows' fixed points count in the gradient: `uniform` (each row 1/rows) or
    /// `free-energy` (distinct fixed points weighted by e^{−Γ}; docs/maths.md §3.4).
    #[arg(long)]
    pub weighting: Option<String>,
    /// EMF damping in (0, 1].
    #[arg(long)]
    pub damping: Option<String>,
    /// EMF magnetisations: `data`, `persistent`, or `from:N` (persistent from epoch N).
    #[arg(long)]
    pub persistence: Option<String>,
    /// Hidden units.
    #[arg(long)]
    pub hidden: Option<String>,
    /// Learning rate (on the mean gradient).
    #[arg(long)]
    pub lr: Option<String>,
    /// Learning-rate schedule: `constant`, `linear:FINAL` or `exp:FACTOR`.
    #[arg(long)]
    pub schedule: Option<String>,
    /// Mini-batch size.
    #[arg(long)]
    pub batch_size: Option<String>,
    /// Total epochs.
    #[arg(long)]
    pub epochs: Option<String>,
    /// Momentum on W, in [0, 1).
    #[arg(long)]
    pub momentum: Option<String>,
    /// Weight decay: `none`, `l1:LAMBDA` or `l2:LAMBDA` (on the mean gradient).
    #[arg(long)]
    pub decay: Option<String>,
    /// Standard deviation of the initial weights.
    #[arg(long)]
    pub init_std: Option<String>,
    /// Inverse temperature of the model.
    #[arg(long)]
    pub beta: Option<String>,
    /// Visible units: `bernoulli`, `gaussian`, `truncated-gaussian` (on [0, 1]) or
    /// `truncated-gaussian:LOW:HIGH` (docs/maths.md §1b). Real-valued units train by cd and
    /// pcd; their log-likelihood is a log-density.
    #[arg(long)]
    pub visible: Option<String>,
    /// σ of real-valued visible units: `fixed`, `fixed:S`, `learned`, `learned:S` or
    /// `learned:S:FLOOR`.
    #[arg(long)]
    pub sigma: Option<String>,
    /// Keep the row order instead of reshuffling every epoch.
    #[arg(long)]
    pub no_shuffle: bool,
    /// Seed of every random stream (also of `--preprocess stochastic`).
    #[arg(long)]
    pub seed: Option<String>,
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
    /// recon (reconstruction error), emf (EMF log-likelihood, order 2), or `none`
    /// [default: pl,recon; recon for real-valued visible units, which have no pseudo-likelihood].
    #[arg(long)]
    pub metrics: Option<String>,
    /// After training, estimate the validation log-likelihood by AIS.
    #[arg(long)]
    pub ais: bool,
    #[command(flatten)]
    pub ais_args: AisArgs,
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

impl TrainArgs {
    /// The training options given on the command line, by the library's keys; `epochs` and
    /// `threads` apart, since `--resume` may change them.
    pub fn training_options(&self) -> Vec<(&'static str, String)> {
        let mut v = Vec::new();
        macro_rules! given {
            ($($f:ident => $key:literal),*) => {
                $( if let Some(x) = &self.$f { v.push(($key, x.clone())); } )*
            };
        }
        given!(
            method => "method",
            k => "k",
            chains => "chains",
            order => "order",
            iterations => "iterations",
            damping => "damping",
            persistence => "persistence",
            tolerance => "tolerance",
            solver => "solver",
            reseed => "reseed",
            weighting => "weighting",
            hidden => "n_hidden",
            lr => "learning_rate",
            schedule => "schedule",
            batch_size => "batch_size",
            momentum => "momentum",
            decay => "decay",
            init_std => "init_std",
            beta => "beta",
            visible => "visible",
            sigma => "sigma",
            seed => "seed"
        );
        if self.no_shuffle {
            v.push(("shuffle", "false".into()));
        }
        v
    }

    /// The flags of [`TrainArgs::training_options`], as typed.
    pub fn given_flags(&self) -> Vec<String> {
        self.training_options()
            .iter()
            .map(|(k, _)| flag(k))
            .collect()
    }

    /// The configuration: `base` with every given option applied by the library.
    pub fn config(&self, base: TrainConfig) -> Result<TrainConfig> {
        let mut options = self.training_options();
        if let Some(e) = &self.epochs {
            options.push(("epochs", e.clone()));
        }
        options.push(("threads", self.threads.to_string()));
        base.with_options(&options).map_err(in_flag_terms)
    }
}

/// The `train` command with each training option's default, taken from the library's
/// [`TrainConfig::default`] (so help and behaviour cannot disagree), appended to its help.
pub fn with_defaults_in_help(mut c: clap::Command) -> clap::Command {
    for (key, value) in TrainConfig::default().to_options() {
        if key == "shuffle" {
            continue; // a switch: its help says what it turns off
        }
        let long = flag(key).trim_start_matches("--").to_string();
        let ids: Vec<String> = c
            .get_arguments()
            .filter(|a| a.get_long() == Some(long.as_str()))
            .map(|a| a.get_id().to_string())
            .collect();
        for id in ids {
            c = c.mut_arg(id, |a| {
                let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
                let a = match a.get_long_help().map(|h| h.to_string()) {
                    Some(long) => a.long_help(format!("{long} [default: {value}]")),
                    None => a,
                };
                a.help(format!("{help} [default: {value}]"))
            });
        }
    }
    c
}
