//! The experiment's outputs: table rows, JSON figures and each model's pictures.

use std::path::Path;

use anyhow::Result;
use image::RgbImage;
use ndarray::{s, Array2};
use onsager::Rbm;
use serde_json::{json, Value};

use super::evaluate::Figures;
use crate::draw::grid::{self, Scale};

pub fn figures_json(f: &Figures) -> Value {
    json!({
        "ais_log_likelihood": f.ais.0,
        "ais_log_likelihood_lower": f.ais.1,
        "ais_log_likelihood_upper": f.ais.2,
        "ais_log_z": f.log_z,
        "emf2_log_likelihood": f.emf2,
        "emf3_log_likelihood": f.emf3,
        "pseudo_log_likelihood": f.pseudo,
        "reconstruction_error": f.recon,
        "accuracy": f.accuracy,
    })
}

/// A markdown table row: method, figures, training time.
pub fn table_row(label: &str, f: &Figures, seconds: Option<f64>) -> String {
    let upper = if f.ais.2.is_finite() {
        format!("{:.2}", f.ais.2)
    } else {
        "∞".into()
    };
    format!(
        "| {label} | {:.2} [{:.2}, {upper}] | {:.2} | {:.2} | {:.2} | {:.4} | {:.4} | {} |",
        f.ais.0,
        f.ais.1,
        f.emf2,
        f.emf3,
        f.pseudo,
        f.recon,
        f.accuracy,
        seconds.map_or("–".into(), |s| format!("{s:.1}")),
    )
}

/// A model's pictures: its first 100 filters and 100 samples, each drawn once in full and
/// once as a 4 × 4 corner for the side-by-side galleries.
pub struct Pictures {
    pub filters: RgbImage,
    pub samples: RgbImage,
}

/// Filters (the first 100 hidden units) and 100 samples (1000 Gibbs steps from uniform
/// noise, shown as P(v | h) of the last step) of a model, as PNG; returns the gallery corners.
pub fn pictures(out: &Path, id: &str, rbm: &Rbm<f32>, seed: u64) -> Result<Pictures> {
    let w = rbm.weights();
    let k = w.ncols().min(100);
    let filters = w.t().slice(s![..k, ..]).mapv(f64::from);
    grid::write_grid(
        &out.join(format!("filters-{id}.png")),
        filters.view(),
        (28, 28),
        Scale::PerFilter,
        None,
    )?;
    let corner = |x: &Array2<f64>| x.slice(s![..x.nrows().min(16), ..]).to_owned();
    let start = Array2::<f32>::from_elem((100, rbm.n_visible()), 0.5);
    let mut r = onsager::rng::stream(seed, onsager::rng::Domain::Sample, 7);
    let start = start.mapv(|p| (onsager::rng::uniform::<f32>(&mut r) < p) as u8 as f32);
    let samples = rbm.gibbs(start.view(), 1000, seed)?;
    let probs = rbm.visible_probs(rbm.hidden_probs(samples.view())?.view())?;
    let probs = probs.mapv(f64::from);
    grid::write_grid(
        &out.join(format!("samples-{id}.png")),
        probs.view(),
        (28, 28),
        Scale::Unit,
        None,
    )?;
    Ok(Pictures {
        filters: grid::grid_image(corner(&filters).view(), (28, 28), Scale::PerFilter, 1)?,
        samples: grid::grid_image(corner(&probs).view(), (28, 28), Scale::Unit, 1)?,
    })
}
