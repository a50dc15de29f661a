//! `onsager info`: what a model file holds.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use onsager::io::model::{self, ModelFile};
use onsager::Float;
use serde_json::json;

/// `onsager info` options.
#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Model file.
    pub model: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `onsager info`.
pub fn info(a: InfoArgs) -> Result<()> {
    with_dtype!(&a.model, info_typed(&a))
}

fn info_typed<T: Float>(a: &InfoArgs) -> Result<()> {
    let dtype = T::DTYPE;
    let file: ModelFile<T> = model::load(&a.model)?;
    let rbm = &file.rbm;
    let w = rbm.weights();
    let max_abs = w.iter().fold(0.0f64, |m, x| m.max(x.f64().abs()));
    if a.json {
        let out = json!({
            "model": a.model, "dtype": dtype, "n_visible": rbm.n_visible(), "n_hidden": rbm.n_hidden(),
            "beta": rbm.beta().f64(), "visible_units": rbm.visible_units().to_string(),
            "sigma": rbm.sigma().map(|s| s.iter().map(|x| x.f64()).collect::<Vec<_>>()),
            "epochs_completed": file.epochs_completed, "params": file.params,
            "image_shape": file.image_shape, "has_training_state": file.state.is_some(), "extra": file.extra,
            "history": file.history, "format_version": model::FORMAT_VERSION,
            "standardization": file.input.as_ref().map(|m| json!({"mean": m.mean().to_vec(), "std": m.std().to_vec()})),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("file            {}", a.model.display());
    println!(
        "format          onsager-rbm v{} ({dtype})",
        model::FORMAT_VERSION
    );
    println!(
        "units           {} visible x {} hidden, beta {}",
        rbm.n_visible(),
        rbm.n_hidden(),
        rbm.beta()
    );
    println!("visible units   {}", rbm.visible_units());
    if let Some(sigma) = rbm.sigma() {
        let (lo, hi) = sigma.iter().fold((f64::INFINITY, 0f64), |(l, h), s| {
            (l.min(s.f64()), h.max(s.f64()))
        });
        let how = file
            .params
            .as_ref()
            .map_or(String::new(), |p| format!(" ({})", p.sigma));
        println!("sigma           {lo:.4} to {hi:.4}{how}");
    }
    if let Some(m) = &file.input {
        let (lo, hi) = m
            .std()
            .iter()
            .fold((f64::INFINITY, 0f64), |(l, h), &s| (l.min(s), h.max(s)));
        println!(
            "standardised    {} columns, std {lo:.4} to {hi:.4} (applied to data by eval, transform, sample)",
            m.len()
        );
    }
    if let Some((r, c)) = file.image_shape {
        println!("image shape     {r}x{c}");
    }
    println!("weights         max |W| {max_abs:.4}");
    println!("epochs          {}", file.epochs_completed);
    if let Some(p) = &file.params {
        println!("method          {}", p.method);
        println!(
            "training        lr {} ({}), batch {}, momentum {}, decay {}, seed {}",
            p.learning_rate, p.schedule, p.batch_size, p.momentum, p.decay, p.seed
        );
    }
    if let Some(d) = file
        .extra
        .get("training_data")
        .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
    {
        println!(
            "trained on      {} ({} rows x {})",
            d["name"].as_str().unwrap_or("?"),
            d["rows"],
            d["cols"]
        );
    }
    println!(
        "resumable       {}",
        if file.state.is_some() {
            "yes (optimiser state stored)"
        } else {
            "no"
        }
    );
    if let Some(last) = file.history.last() {
        let epochs = file.params.as_ref().map_or(last.epoch, |p| p.epochs);
        println!(
            "last epoch      {}",
            crate::train::monitor::describe(last, epochs)
        );
    }
    Ok(())
}
