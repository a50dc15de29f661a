//! `onsager transform`: hidden-unit probabilities P(h|v) of data as features.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use onsager::data::Split;
use onsager::io::model::{self, ModelFile};
use onsager::Float;

use crate::args::{DataArgs, Input};

/// `onsager transform` options.
#[derive(Args, Debug)]
pub struct TransformArgs {
    /// Model file.
    pub model: PathBuf,
    /// Data (default: the training split of the bundled sample or of `--dataset`).
    #[command(flatten)]
    pub data: DataArgs,
    /// Which split of `--dataset` (or the bundled sample) to transform; a file has one.
    #[arg(long, value_enum, default_value_t = SplitArg::Train)]
    pub split: SplitArg,
    /// Output .npy file of P(h|v), one row per sample, in the model's dtype.
    #[arg(short, long, default_value = "features.npy")]
    pub out: PathBuf,
}

/// `--split` choices.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum SplitArg {
    /// The training images.
    Train,
    /// The test images.
    Test,
}

/// Runs `onsager transform`.
pub fn transform(a: TransformArgs) -> Result<()> {
    with_dtype!(&a.model, transform_typed(&a))
}

fn transform_typed<T: Float>(a: &TransformArgs) -> Result<()> {
    onsager::io::check_output(
        &a.out,
        [a.model.as_path()]
            .into_iter()
            .chain(a.data.data.as_deref()),
    )?;
    let split = match a.split {
        SplitArg::Train => Split::Train,
        SplitArg::Test if !a.data.has_test_split() => {
            bail!("--split test: a data file has one split; give the test rows as the file")
        }
        SplitArg::Test => Split::Test,
    };
    let file: ModelFile<T> = model::load(&a.model)?;
    let data = a.data.load::<T>(
        split,
        0,
        file.rbm.visible_units(),
        Input::Model(file.input.as_ref()),
    )?;
    let h = file.rbm.hidden_probs(data.x.view())?;
    onsager::io::npy::write_float(&a.out, h.view())?;
    eprintln!(
        "wrote {} ({} x {} hidden-unit probabilities of {}; {})",
        a.out.display(),
        h.nrows(),
        h.ncols(),
        data.name,
        data.scaling
    );
    Ok(())
}
