//! The experiment's data: MNIST's training images split into training and validation rows,
//! the test images, binarised, with their labels.

use anyhow::{bail, Result};
use clap::ValueEnum;
use ndarray::{Array1, Array2};
use onsager::data::{Dataset, Preprocess, Split};

use super::{MnistArgs, Settings};

/// How the grey levels become binary.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binarize {
    /// 1 where the grey level is above 0.5.
    Threshold,
    /// 1 with probability equal to the grey level, drawn once (seeded).
    Stochastic,
    /// 1 wherever the grey level is not 0 (the reference EMF code's binarisation).
    Nonzero,
}

/// The data of the experiment, binarised.
pub struct Data {
    pub train: Array2<f32>,
    pub train_labels: Array1<usize>,
    pub valid: Array2<f32>,
    pub test: Array2<f32>,
    pub test_labels: Array1<usize>,
}

pub fn load(a: &MnistArgs, st: &Settings) -> Result<Data> {
    let dir = match &a.data_dir {
        Some(d) => d.clone(),
        None => crate::args::mnist_dir()?,
    };
    let prep = |d: &Dataset, seed: u64| -> Result<Array2<f32>> {
        let how = match a.binarize {
            Binarize::Threshold => Preprocess::Binarize { threshold: 0.5 },
            Binarize::Stochastic => Preprocess::Stochastic { seed },
            Binarize::Nonzero => Preprocess::Binarize { threshold: 0.0 },
        };
        Ok(d.prepare::<f32>(how)?)
    };
    let labels = |d: &Dataset| -> Array1<usize> {
        d.labels
            .as_ref()
            .map_or_else(|| Array1::zeros(0), |l| l.mapv(usize::from))
    };
    let read = |split: Split| -> Result<Dataset> {
        let d = Dataset::mnist(&dir, split)?;
        let (images, n_labels) = (d.values.dim().0, labels(&d).len());
        if images != n_labels {
            bail!(
                "MNIST {split:?} in {}: {images} images but {n_labels} labels",
                dir.display()
            );
        }
        Ok(d)
    };
    let train_all = read(Split::Train)?;
    let n = train_all.values.dim().0;
    if st.validation_rows >= n {
        bail!(
            "--validation-rows {} leaves no training rows (MNIST has {n})",
            st.validation_rows
        );
    }
    let first_valid = n - st.validation_rows;
    let train = train_all.rows(0, st.train_rows.min(first_valid));
    let valid = train_all.rows(first_valid, st.validation_rows);
    let test = read(Split::Test)?.head(st.test_rows);
    Ok(Data {
        train: prep(&train, a.seed)?,
        train_labels: labels(&train),
        valid: prep(&valid, a.seed.wrapping_add(1))?,
        test: prep(&test, a.seed.wrapping_add(2))?,
        test_labels: labels(&test),
    })
}
