//! `onsager show distortions`: one image and its deformations under given settings, as a grid,
//! so a user can see what the augmentation does (docs/maths.md §9).

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use ndarray::{Array2, Axis};
use onsager::data::Split;
use onsager::Visible;
use onsager_deep::{Distorter, Distortion};

use crate::args::{parse_shape, DataArgs, Input};
use crate::draw::grid::{self, Scale};

/// `onsager show distortions` options (defaults: Ciresan et al.'s settings).
#[derive(Args, Debug)]
pub struct DistortionArgs {
    /// Where the image comes from (default: the bundled MNIST sample's training split).
    #[command(flatten)]
    pub data: DataArgs,
    /// Which row (0-based).
    #[arg(long, default_value_t = 0)]
    pub index: usize,
    /// Panels: the image itself, then this many minus one deformations (epochs 0, 1, … of
    /// its stream).
    #[arg(short, long, default_value_t = 16)]
    pub n: usize,
    /// Width σ (pixels) of the Gaussian smoothing the displacement fields.
    #[arg(long, default_value_t = Distortion::CIRESAN.sigma)]
    pub sigma: f64,
    /// Scale α (pixels) of the smoothed fields (0: no elastic part).
    #[arg(long, default_value_t = Distortion::CIRESAN.alpha)]
    pub alpha: f64,
    /// Largest rotation, degrees.
    #[arg(long, default_value_t = Distortion::CIRESAN.rotation)]
    pub rotation: f64,
    /// Largest horizontal shear, degrees.
    #[arg(long, default_value_t = Distortion::CIRESAN.shear)]
    pub shear: f64,
    /// Largest relative change of scale per axis (0.15: ±15 %).
    #[arg(long, default_value_t = Distortion::CIRESAN.scale)]
    pub scale: f64,
    /// Seed of the deformations.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Image shape, e.g. 28x28 (default: the data's, or 28x28).
    #[arg(long, value_parser = parse_shape)]
    pub shape: Option<(usize, usize)>,
    /// Screen pixels per image pixel [default: enough for a grid 480 pixels wide, ≤ 8].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub zoom: Option<u32>,
    /// Output PNG.
    #[arg(short, long, default_value = "distortions.png")]
    pub out: PathBuf,
}

/// Runs `onsager show distortions`.
pub fn distortions(a: &DistortionArgs) -> Result<()> {
    onsager::io::check_output(&a.out, a.data.data.as_deref())?;
    if a.n == 0 {
        bail!("-n must be at least 1 (the image itself)");
    }
    let loaded = a.data.load::<f32>(
        Split::Train,
        a.seed,
        Visible::TRUNCATED_UNIT,
        Input::Training,
    )?;
    let rows = loaded.x.nrows();
    if a.index >= rows {
        bail!(
            "--index {}: {} has {rows} rows (0 to {})",
            a.index,
            loaded.name,
            rows - 1
        );
    }
    let shape = a.shape.or(loaded.dataset.image_shape).unwrap_or((28, 28));
    let settings = Distortion {
        sigma: a.sigma,
        alpha: a.alpha,
        rotation: a.rotation,
        shear: a.shear,
        scale: a.scale,
    };
    let distorter = Distorter::new(settings, shape)?;
    let image = loaded.x.row(a.index).insert_axis(Axis(0)).to_owned();
    let mut panels = Array2::<f64>::zeros((a.n, image.ncols()));
    panels.row_mut(0).assign(&image.row(0).mapv(f64::from));
    for k in 1..a.n {
        let d = distorter.batch(image.view(), a.seed, (k - 1) as u64, a.index)?;
        panels.row_mut(k).assign(&d.row(0).mapv(f64::from));
    }
    let zoom = grid::write_grid(&a.out, panels.view(), shape, Scale::Unit, a.zoom)?;
    eprintln!(
        "wrote {} (row {} of {} and {} deformations: σ {}, α {}, rotation ±{}°, shear ±{}°, scale ±{} %; {zoom}x)",
        a.out.display(),
        a.index,
        loaded.name,
        a.n - 1,
        a.sigma,
        a.alpha,
        a.rotation,
        a.shear,
        a.scale * 100.0
    );
    Ok(())
}
