//! `onsager show`: filters, samples and training curves as PNG pictures.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use onsager::io::model::{self, ModelFile};
use onsager::EpochMetrics;

use crate::args::parse_shape;
use crate::draw::chart::{panels, Series};
use crate::draw::grid::{self, Scale};

/// `onsager show` options.
#[derive(Args, Debug)]
pub struct ShowArgs {
    #[command(subcommand)]
    pub what: Show,
}

/// What to draw.
#[derive(Subcommand, Debug)]
pub enum Show {
    /// Each hidden unit's weights as an image, tiled.
    Filters {
        /// Model file.
        model: PathBuf,
        /// Output PNG.
        #[arg(short, long, default_value = "filters.png")]
        out: PathBuf,
        /// How many hidden units (the first N).
        #[arg(short, long, default_value_t = 100)]
        n: usize,
        /// Colour scale: one for all filters, or each filter stretched on its own.
        #[arg(long, value_enum, default_value_t = Scale::Shared)]
        scale: Scale,
        /// Image shape, e.g. 28x28 (default: stored in the model).
        #[arg(long, value_parser = parse_shape)]
        shape: Option<(usize, usize)>,
        /// Screen pixels per image pixel [default: enough for a grid 480 pixels wide, ≤ 8].
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=64))]
        zoom: Option<u32>,
    },
    /// Rows of a .npy file (samples, data) as a grid of images.
    Samples {
        /// The .npy file (values in [0, 1], or any with `--scale span`).
        file: PathBuf,
        /// Output PNG.
        #[arg(short, long, default_value = "samples.png")]
        out: PathBuf,
        /// Grey scale: `unit` draws [0, 1]; `span` draws the values' own range (samples of a
        /// Gaussian or standardised model, in raw units).
        #[arg(long, value_enum, default_value_t = Scale::Unit)]
        scale: Scale,
        /// Image shape, e.g. 28x28.
        #[arg(long, value_parser = parse_shape, default_value = "28x28")]
        shape: (usize, usize),
        /// Screen pixels per image pixel [default: enough for a grid 480 pixels wide, ≤ 8].
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=64))]
        zoom: Option<u32>,
    },
    /// One image and its elastic and affine deformations (the augmentation of `onsager-deep`;
    /// docs/maths.md §9), the image first.
    Distortions(Box<crate::distortions::DistortionArgs>),
    /// Training curves from a metrics log (`train --log`): one panel per metric present
    /// (pseudo-ll, recon, emf-ll, rows/s), each on its own scale, labelled with its name, range
    /// and epochs (the ranges are also printed).
    Curves {
        /// The JSON-lines metrics log.
        log: PathBuf,
        /// Output PNG.
        #[arg(short, long, default_value = "curves.png")]
        out: PathBuf,
    },
}

/// Runs `onsager show`.
pub fn show(a: ShowArgs) -> Result<()> {
    match a.what {
        Show::Filters {
            model: path,
            out,
            n,
            scale,
            shape,
            zoom,
        } => {
            let file: ModelFile<f64> = model::load(&path)?;
            let shape = shape
                .or(file.image_shape)
                .context("--shape is needed (the model stores no image shape)")?;
            let w = file.rbm.weights();
            let k = n.min(w.ncols());
            let filters = w.t().slice(ndarray::s![..k, ..]).to_owned();
            let zoom = grid::write_grid(&out, filters.view(), shape, scale, zoom)?;
            eprintln!("wrote {} ({k} filters, {zoom}x)", out.display());
        }
        Show::Samples {
            file,
            out,
            scale,
            shape,
            zoom,
        } => {
            let x = match onsager::io::npy::read(&file)? {
                onsager::data::Values::U8(a) => a.mapv(|v| v as f64 / 255.0),
                onsager::data::Values::F32(a) => a.mapv(|v| v as f64),
                onsager::data::Values::F64(a) => a,
            };
            let zoom = grid::write_grid(&out, x.view(), shape, scale, zoom)?;
            eprintln!("wrote {} ({} images, {zoom}x)", out.display(), x.nrows());
        }
        Show::Curves { log, out } => curves(&log, &out)?,
        Show::Distortions(d) => crate::distortions::distortions(&d)?,
    }
    Ok(())
}

/// Reads a metrics log (one JSON record per line) and draws one panel per quantity present.
fn curves(log: &Path, out: &Path) -> Result<()> {
    let text =
        std::fs::read_to_string(log).with_context(|| format!("cannot read {}", log.display()))?;
    let mut records = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let m: EpochMetrics = serde_json::from_str(line).with_context(|| {
            format!("{}: line {} is not a metrics record", log.display(), i + 1)
        })?;
        records.push(m);
    }
    if records.is_empty() {
        bail!("{}: no metrics records", log.display());
    }
    type Getter = fn(&EpochMetrics) -> Option<f64>;
    let quantities: [(&str, Getter); 4] = [
        ("pseudo-likelihood (nats)", |m| m.pseudo_likelihood),
        ("reconstruction error", |m| m.reconstruction_error),
        ("EMF-2 log-likelihood (nats)", |m| m.emf_log_likelihood),
        ("training rows per second", |m| Some(m.samples_per_second)),
    ];
    let series: Vec<Series> = quantities
        .iter()
        .map(|(name, get)| {
            let pts = records
                .iter()
                .filter_map(|m| get(m).map(|v| (m.epoch as f64, v)));
            Series::plain(*name, pts)
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    for s in &series {
        let (lo, hi) = s
            .points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| {
                (l.min(p.y), h.max(p.y))
            });
        let (x0, x1) = (s.points[0].x, s.points[s.points.len() - 1].x);
        println!("{:28} epochs {x0}..{x1}  range [{lo:.5}, {hi:.5}]", s.name);
    }
    panels(out, "epoch", &series)?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
