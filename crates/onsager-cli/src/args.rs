//! Arguments shared by several commands: where data comes from and how it is preprocessed.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use ndarray::Array2;
use onsager::data::{self, Dataset, Preprocess, Split};
use onsager::estimate::ais::{Ais, AisSchedule};
use onsager::Float;

/// Where the data comes from.
#[derive(Args, Clone, Debug)]
pub struct DataArgs {
    /// Data file: .npy (u8, f32, f64), .csv (optional header) or MNIST-style IDX (gzip or
    /// plain). Without it, `--dataset`, or else the MNIST sample bundled with onsager.
    pub data: Option<PathBuf>,
    /// A built-in data set, downloaded once into the cache (`$ONSAGER_DATA` or the platform
    /// cache folder) unless `--data-dir` names local copies.
    #[arg(long, value_enum)]
    pub dataset: Option<DatasetName>,
    /// Folder with the four standard MNIST files (for `--dataset mnist`).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// How raw values become [0, 1] data. auto: bytes ÷255, floats as they are.
    #[arg(long, value_enum, default_value_t = PreprocessArg::Auto)]
    pub preprocess: PreprocessArg,
    /// Threshold of `--preprocess binarize`, on the scaled value.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
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
    /// Bytes ÷255.
    Scale,
    /// 1 above `--threshold`, else 0.
    Binarize,
    /// 1 with probability equal to the scaled value (seeded).
    Stochastic,
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
}

impl DataArgs {
    fn preprocess(&self, seed: u64) -> Preprocess {
        match self.preprocess {
            PreprocessArg::Auto => Preprocess::Auto,
            PreprocessArg::None => Preprocess::None,
            PreprocessArg::Scale => Preprocess::Scale,
            PreprocessArg::Binarize => Preprocess::Binarize {
                threshold: self.threshold,
            },
            PreprocessArg::Stochastic => Preprocess::Stochastic { seed },
        }
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

    /// The data of `split`, prepared as `T`.
    pub fn load<T: Float>(&self, split: Split, seed: u64) -> Result<Loaded<T>> {
        let (dataset, name) = self.dataset(split)?;
        let x = dataset
            .prepare::<T>(self.preprocess(seed))
            .with_context(|| format!("in {name}"))?;
        Ok(Loaded { x, dataset, name })
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
    data::download_mnist(&url, &dir)
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
    Ok((p(r)?, p(c)?))
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
    /// The AIS settings, runs drawn from `seed`.
    pub fn ais(&self, seed: u64) -> Ais {
        Ais {
            runs: self.ais_runs,
            schedule: AisSchedule::Piecewise {
                temperatures: self.ais_temperatures,
            },
            seed,
        }
    }
}
