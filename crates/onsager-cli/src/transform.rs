//! `onsager transform`: hidden-unit probabilities P(h|v) of data as features.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use onsager::data::Split;
use onsager::io::model::{self, ModelFile};
use onsager::Float;

use crate::args::DataArgs;

/// `onsager transform` options.
#[derive(Args, Debug)]
pub struct TransformArgs {
    /// Model file.
    pub model: PathBuf,
    /// Data (default: the training split of the bundled sample or of `--dataset`).
    #[command(flatten)]
    pub data: DataArgs,
    /// Output .npy file of P(h|v), one row per sample, in the model's dtype.
    #[arg(short, long, default_value = "features.npy")]
    pub out: PathBuf,
}

/// Runs `onsager transform`.
pub fn transform(a: TransformArgs) -> Result<()> {
    with_dtype!(&a.model, transform_typed(&a))
}

fn transform_typed<T: Float>(a: &TransformArgs) -> Result<()> {
    let file: ModelFile<T> = model::load(&a.model)?;
    let data = a.data.load::<T>(Split::Train, 0)?;
    let h = file.rbm.hidden_probs(data.x.view())?;
    onsager::io::npy::write_float(&a.out, h.view())?;
    eprintln!(
        "wrote {} ({} x {} hidden-unit probabilities)",
        a.out.display(),
        h.nrows(),
        h.ncols()
    );
    Ok(())
}
