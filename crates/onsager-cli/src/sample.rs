//! `onsager sample`: samples from Gibbs chains or EMF fixed points.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use ndarray::Array2;
use onsager::data::Split;
use onsager::io::model::{self, ModelFile};
use onsager::{meanfield, Float};

use crate::args::{parse_shape, DataArgs, Input};
use crate::draw;

/// Where sampling chains start.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Start {
    /// Uniform random binary states.
    Noise,
    /// Rows of the data.
    Data,
}

/// `onsager sample` options.
#[derive(Args, Debug)]
pub struct SampleArgs {
    /// Model file.
    pub model: PathBuf,
    /// Data for `--from data` (default: the bundled sample's test split).
    #[command(flatten)]
    pub data: DataArgs,
    /// Number of chains.
    #[arg(short, long, default_value_t = 64)]
    pub n: usize,
    /// Gibbs steps per chain.
    #[arg(long, default_value_t = 1000)]
    pub steps: usize,
    /// Where chains start.
    #[arg(long, value_enum, default_value_t = Start::Noise)]
    pub from: Start,
    /// Instead of Gibbs sampling, iterate the EMF fixed point of this order (1, 2 or 3) from
    /// the starts and write the visible magnetisations.
    #[arg(long)]
    pub emf: Option<u8>,
    /// Seed of the chains.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output .npy of the samples.
    #[arg(short, long, default_value = "samples.npy")]
    pub out: PathBuf,
    /// Also write the samples as a PNG grid (needs an image shape).
    #[arg(long)]
    pub png: Option<PathBuf>,
    /// Image shape, e.g. 28x28 (default: stored in the model).
    #[arg(long, value_parser = parse_shape)]
    pub shape: Option<(usize, usize)>,
}

/// Runs `onsager sample`.
pub fn sample(a: SampleArgs) -> Result<()> {
    with_dtype!(&a.model, sample_typed(&a))
}

fn sample_typed<T: Float>(a: &SampleArgs) -> Result<()> {
    let inputs = [a.model.as_path()]
        .into_iter()
        .chain(a.data.data.as_deref());
    onsager::io::check_output(&a.out, inputs.clone())?;
    if let Some(png) = &a.png {
        onsager::io::check_output(png, inputs.chain([a.out.as_path()]))?;
    }
    let file: ModelFile<T> = model::load(&a.model)?;
    let rbm = &file.rbm;
    let nv = rbm.n_visible();
    if a.n == 0 {
        bail!("-n must be at least 1");
    }
    // The starts, the chains' hidden states and the output: refused here if they cannot fit.
    onsager::allocatable::<T>(
        "the sample array (-n × visible units)",
        a.n,
        nv + rbm.n_hidden(),
        3,
    )?;
    let start: Array2<T> = match a.from {
        Start::Noise => {
            let mut r = onsager::rng::stream(a.seed, onsager::rng::Domain::Sample, u64::MAX);
            Array2::from_shape_fn((a.n, nv), |_| {
                T::of((onsager::rng::uniform::<f64>(&mut r) < 0.5) as u8 as f64)
            })
        }
        Start::Data => {
            let d = a.data.load::<T>(
                Split::Test,
                a.seed,
                rbm.visible_units(),
                Input::Model(file.input.as_ref()),
            )?;
            if d.x.ncols() != nv {
                bail!(
                    "the model has {nv} visible units but {} has {} columns",
                    d.name,
                    d.x.ncols()
                );
            }
            Array2::from_shape_fn((a.n, nv), |(i, j)| d.x[[i % d.x.nrows(), j]])
        }
    };
    let samples = match a.emf {
        Some(order) => {
            meanfield::mean_field_samples(rbm, order.try_into()?, start.view(), a.steps)?
        }
        None => rbm.gibbs(start.view(), a.steps, a.seed)?,
    };
    // A model of standardised data samples standardised values: back to the data's units.
    let samples = match &file.input {
        Some(map) => map.inverse(samples.view())?,
        None => samples,
    };
    // Values in [0, 1] are drawn as they are; Gaussian or mapped-back ones on their own range.
    let scale = if file.input.is_some() || rbm.visible_units() == onsager::Visible::Gaussian {
        draw::grid::Scale::Span
    } else {
        draw::grid::Scale::Unit
    };
    if let Some(png) = &a.png {
        let shape = a.shape.or(file.image_shape).ok_or_else(|| {
            anyhow::anyhow!("--png needs --shape (the model stores no image shape)")
        })?;
        draw::grid::write_grid(png, samples.mapv(|x| x.f64()).view(), shape, scale, None)?;
    }
    onsager::io::npy::write_float(&a.out, samples.view())?;
    eprintln!("wrote {} ({} samples)", a.out.display(), a.n);
    if let Some(png) = &a.png {
        eprintln!("wrote {} (the samples as a grid)", png.display());
    }
    Ok(())
}
