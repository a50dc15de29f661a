//! Arguments shared by several commands: where data comes from and how it is preprocessed,
//! and how the library's option keys read as this command line's flags.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, ValueEnum};
use ndarray::Array2;
use onsager::data::{self, Dataset, Preprocess, Scaling, Split, Standardization};
use onsager::estimate::ais::{Ais, AisSchedule};
use onsager::{Error, Float, Visible};

/// Where the data comes from.
#[derive(Args, Clone, Debug)]
pub struct DataArgs {
    /// Data file: .npy (u8, f32, f64), .csv (optional header) or MNIST-style IDX (gzip or
    /// plain). Without it, `--dataset`, or else the MNIST sample bundled with onsager.
    #[arg(conflicts_with = "dataset")]
    pub data: Option<PathBuf>,
    /// A built-in data set, downloaded once into the cache (`$ONSAGER_DATA` or the platform
    /// cache folder) unless `--data-dir` names local copies.
    #[arg(long, value_enum)]
    pub dataset: Option<DatasetName>,
    /// Folder with the four standard MNIST files (for `--dataset mnist`).
    #[arg(long, requires = "dataset")]
    pub data_dir: Option<PathBuf>,
    /// How raw values become the model's data: [0, 1] for binary and truncated units,
    /// standardised columns for Gaussian ones (bytes holding only 0 and 1 stay binary under
    /// every scaling; the map applied is printed). A model trained on standardised data stores
    /// its map, which every later command applies.
    #[arg(long, value_enum, default_value_t = PreprocessArg::Auto)]
    pub preprocess: PreprocessArg,
    /// Threshold of `--preprocess binarize`, on the scaled value, in [0, 1) [default: 0.5].
    #[arg(long)]
    pub threshold: Option<f64>,
    /// The raw range LOW,HIGH that `--preprocess range` maps onto [0, 1], e.g. 0,255.
    #[arg(long, value_parser = parse_range)]
    pub range: Option<(f64, f64)>,
    /// Use only the first N rows.
    #[arg(long)]
    pub limit: Option<usize>,
}

/// Built-in data sets.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum DatasetName {
    /// The 60 000 + 10 000 MNIST digits.
    Mnist,
}

/// `--preprocess` choices.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum PreprocessArg {
    /// Bytes ÷255, floats as they are.
    Auto,
    /// Values as they are; any outside [0, 1] is an error.
    None,
    /// Bytes ÷255, other values from the data's range [min(0, lowest), highest] onto [0, 1].
    Scale,
    /// Values from `--range LOW,HIGH` onto [0, 1].
    Range,
    /// Scaled as by auto, then 1 above `--threshold`, else 0.
    Binarize,
    /// Scaled as by auto, then 1 with probability equal to the value (seeded).
    Stochastic,
    /// Each column to (value − mean) ÷ standard deviation, the training data's, stored in the
    /// model (for Gaussian visible units).
    Standardize,
}

/// Whose standardisation the data takes.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    /// Training data: `--preprocess standardize` fits the map on it.
    Training,
    /// Data for a model (or held out from a run): the model's stored map, if it has one, is
    /// applied; `--preprocess standardize` without one is refused (fitting on evaluation data
    /// would give it its own moments).
    Model(Option<&'a Standardization>),
}

/// Model precision.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Dtype {
    /// 32-bit floats (fast).
    F32,
    /// 64-bit floats.
    F64,
}

/// A loaded data set, prepared, with a description for messages.
pub struct Loaded<T> {
    pub x: Array2<T>,
    pub dataset: Dataset,
    pub name: String,
    /// The map that turned the raw values into `x`, for the run's header line.
    pub scaling: Scaling,
}

impl DataArgs {
    /// The library's preprocessing for these flags; `--threshold` and `--range` only with the
    /// choice they belong to.
    fn preprocess(&self, seed: u64) -> Result<Preprocess> {
        if self.threshold.is_some() && self.preprocess != PreprocessArg::Binarize {
            bail!("--threshold applies only to --preprocess binarize");
        }
        if self.range.is_some() != (self.preprocess == PreprocessArg::Range) {
            bail!("--preprocess range and --range LOW,HIGH go together");
        }
        Ok(match self.preprocess {
            PreprocessArg::Auto => Preprocess::Auto,
            PreprocessArg::None => Preprocess::None,
            PreprocessArg::Scale => Preprocess::Scale,
            PreprocessArg::Range => {
                let (low, high) = self.range.expect("checked above");
                Preprocess::Range { low, high }
            }
            PreprocessArg::Binarize => Preprocess::Binarize {
                threshold: self.threshold.unwrap_or(0.5),
            },
            PreprocessArg::Stochastic => Preprocess::Stochastic { seed },
            PreprocessArg::Standardize => Preprocess::Standardize,
        })
    }

    /// The raw data set of `split` (files have one split; built-in sets have two).
    pub fn dataset(&self, split: Split) -> Result<(Dataset, String)> {
        let (d, name) = if let Some(p) = &self.data {
            (Dataset::load(p)?, p.display().to_string())
        } else if self.dataset == Some(DatasetName::Mnist) {
            let dir = match &self.data_dir {
                Some(d) => d.clone(),
                None => mnist_dir()?,
            };
            (
                Dataset::mnist(&dir, split)?,
                format!("MNIST {split:?} ({})", dir.display()).to_lowercase(),
            )
        } else {
            (
                Dataset::bundled_mnist(split),
                format!("bundled MNIST sample ({split:?})").to_lowercase(),
            )
        };
        Ok(match self.limit {
            Some(n) => (d.head(n), name),
            None => (d, name),
        })
    }

    /// The data of `split`, prepared as `T` for visible units of type `visible` (whose range
    /// the prepared values must lie in), standardised as `input` says.
    pub fn load<T: Float>(
        &self,
        split: Split,
        seed: u64,
        visible: Visible,
        input: Input<'_>,
    ) -> Result<Loaded<T>> {
        let how = self.preprocess(seed)?;
        let stored = match input {
            Input::Training => None,
            Input::Model(None) if how == Preprocess::Standardize => bail!(
                "--preprocess standardize: the model stores no standardisation to apply (train it with --preprocess standardize; its own moments would not be the training data's)"
            ),
            Input::Model(None) => None,
            Input::Model(Some(map)) => match self.preprocess {
                PreprocessArg::Auto | PreprocessArg::Standardize => Some(map),
                other => bail!(
                    "--preprocess {}: the model was trained on standardised data, and its stored means and standard deviations apply (leave --preprocess out)",
                    other.to_possible_value().expect("no skipped values").get_name()
                ),
            },
        };
        let (dataset, name) = self.dataset(split)?;
        let prepared = match stored {
            Some(map) => dataset.prepare_standardized::<T>(map, visible),
            None => dataset.prepare_for::<T>(how, visible),
        };
        let (x, scaling) = prepared.map_err(|e| match e {
            onsager::Error::InvalidParam { .. } => {
                in_flag_terms(e).context(format!("in {name}"))
            }
            onsager::Error::OutOfRange { .. } => anyhow::anyhow!(
                "{e} in {name}: --preprocess scale maps the data's own range onto [0, 1], --preprocess range --range LOW,HIGH a given one"
            ),
            e => anyhow::Error::new(e).context(format!("in {name}")),
        })?;
        Ok(Loaded {
            x,
            dataset,
            name,
            scaling,
        })
    }

    /// Whether the data has a separate test split (built-in sets do, files do not).
    pub fn has_test_split(&self) -> bool {
        self.data.is_none()
    }
}

/// The MNIST cache folder, downloading the files on first use.
pub fn mnist_dir() -> Result<PathBuf> {
    let dir = data::mnist_cache_dir();
    let url = std::env::var("ONSAGER_MNIST_URL").unwrap_or_else(|_| data::MNIST_URL.to_string());
    let all_there = data::MNIST_FILES.iter().all(|(n, _)| dir.join(n).exists());
    if !all_there {
        eprintln!("downloading MNIST from {url} into {} ...", dir.display());
    }
    // ONSAGER_NET_TIMEOUT (seconds) shortens or lengthens the wait for a silent server.
    let timeout = std::env::var("ONSAGER_NET_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(std::time::Duration::from_secs_f64)
        .unwrap_or(data::DOWNLOAD_TIMEOUT);
    data::download_mnist_with(
        &url,
        &dir,
        timeout,
        &mut crate::interrupt::progress("MNIST files", false),
    )
    .context("could not fetch MNIST (use --data-dir with local copies)")
}

/// Parses "28x28".
pub fn parse_shape(s: &str) -> Result<(usize, usize), String> {
    let (r, c) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("`{s}` is not ROWSxCOLS"))?;
    let p = |v: &str| {
        v.trim()
            .parse::<usize>()
            .map_err(|_| format!("`{s}` is not ROWSxCOLS"))
    };
    let (r, c) = (p(r)?, p(c)?);
    if r == 0 || c == 0 {
        return Err(format!(
            "`{s}`: an image needs at least one row and one column"
        ));
    }
    if r.checked_mul(c).is_none() {
        return Err(format!("`{s}`: {r} × {c} pixels do not fit in a count"));
    }
    Ok((r, c))
}

/// Parses "LOW,HIGH" (two finite numbers, LOW < HIGH).
pub fn parse_range(s: &str) -> Result<(f64, f64), String> {
    let bad = || format!("`{s}` is not LOW,HIGH with LOW < HIGH (e.g. 0,255)");
    let (lo, hi) = s.split_once(',').ok_or_else(bad)?;
    let (lo, hi): (f64, f64) = (
        lo.trim().parse().map_err(|_| bad())?,
        hi.trim().parse().map_err(|_| bad())?,
    );
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(bad());
    }
    Ok((lo, hi))
}

/// The AIS options shared by `eval` and `train --ais`.
#[derive(Args, Clone, Debug)]
pub struct AisArgs {
    /// AIS runs.
    #[arg(long, default_value_t = 100)]
    pub ais_runs: usize,
    /// AIS temperatures (Salakhutdinov & Murray's spacing).
    #[arg(long, default_value_t = 14_500)]
    pub ais_temperatures: usize,
}

impl AisArgs {
    /// The AIS settings, runs drawn from `seed`, checked (errors name the flags).
    pub fn ais(&self, seed: u64) -> Result<Ais> {
        let ais = Ais {
            runs: self.ais_runs,
            schedule: AisSchedule::Piecewise {
                temperatures: self.ais_temperatures,
            },
            seed,
        };
        ais.validate().map_err(|e| match e {
            onsager::Error::InvalidParam {
                name,
                value,
                reason,
            } => {
                let flag = match name {
                    "runs" => "--ais-runs",
                    _ => "--ais-temperatures",
                };
                anyhow::anyhow!("{flag} {value}: {reason}")
            }
            e => e.into(),
        })?;
        Ok(ais)
    }
}

/// The library's option keys as this command line spells its flags.
pub fn flag(key: &str) -> String {
    match key {
        "n_hidden" => "--hidden".into(),
        "learning_rate" => "--lr".into(),
        "shuffle" => "--no-shuffle".into(),
        "option" => "an option".into(),
        k => format!("--{}", k.replace('_', "-")),
    }
}

/// A library error, with a parameter named by its flag.
pub fn in_flag_terms(e: Error) -> anyhow::Error {
    match e {
        Error::InvalidParam {
            name,
            value,
            reason,
        } => anyhow!("{} {value}: {reason}", flag(name)),
        e => e.into(),
    }
}
