//! `onsager eval`, `transform`, `sample` and `info`.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use ndarray::Array2;
use onsager::data::Split;
use onsager::estimate::ais::{Ais, AisSchedule, BaseModel};
use onsager::estimate::emf::EmfEstimator;
use onsager::estimate::exact::{self, Layer};
use onsager::estimate::pseudo;
use onsager::io::model::{self, ModelFile};
use onsager::{meanfield, EmfOrder, Float};
use serde_json::json;

use crate::args::{parse_shape, DataArgs};
use crate::pictures;

/// Runs `$body` with `T` set to the model file's dtype.
macro_rules! with_dtype {
    ($path:expr, $f:ident($($arg:expr),*)) => {
        match model::file_dtype($path)? {
            "float64" => $f::<f64>($($arg),*),
            _ => $f::<f32>($($arg),*),
        }
    };
}

/// Log-likelihood estimators.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum Estimator {
    /// Exact when the smaller layer has at most 24 units, else AIS.
    Auto,
    /// Enumeration of the smaller layer (at most 30 units).
    Exact,
    /// Annealed importance sampling, with ±3σ bounds.
    Ais,
    /// The extended mean-field estimate −Γ(m*) at `--order`.
    Emf,
}

/// `onsager eval` options.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Model file.
    pub model: PathBuf,
    /// Data (default: the test split of the bundled sample or of `--dataset`).
    #[command(flatten)]
    pub data: DataArgs,
    /// Log-likelihood estimators (repeat or separate by commas).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "auto")]
    pub estimator: Vec<Estimator>,
    /// EMF order of `--estimator emf`.
    #[arg(long, default_value_t = 2)]
    pub order: u8,
    /// AIS runs.
    #[arg(long, default_value_t = 100)]
    pub ais_runs: usize,
    /// AIS temperatures (Salakhutdinov & Murray's spacing).
    #[arg(long, default_value_t = 14_500)]
    pub ais_temperatures: usize,
    /// Seed (AIS runs, pseudo-likelihood flips, stochastic binarisation).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `onsager eval`.
pub fn eval(a: EvalArgs) -> Result<()> {
    with_dtype!(&a.model, eval_typed(&a))
}

fn eval_typed<T: Float>(a: &EvalArgs) -> Result<()> {
    let file: ModelFile<T> = model::load(&a.model)?;
    let rbm = &file.rbm;
    let data = a.data.load::<T>(Split::Test, a.seed)?;
    let x = data.x.view();
    if x.ncols() != rbm.n_visible() {
        bail!(
            "the model has {} visible units but {} has {} columns",
            rbm.n_visible(),
            data.name,
            x.ncols()
        );
    }
    let mut ll = serde_json::Map::new();
    let mut lines = Vec::new();
    for est in &a.estimator {
        let smaller = rbm.n_visible().min(rbm.n_hidden());
        let est = match est {
            Estimator::Auto if smaller <= 24 => Estimator::Exact,
            Estimator::Auto => Estimator::Ais,
            e => *e,
        };
        match est {
            Estimator::Exact => {
                let log_z = exact::log_partition(rbm, Layer::Smaller)?;
                let mean = exact::mean_log_likelihood(rbm, x)?;
                lines.push(format!(
                    "log-likelihood (exact)      {mean:10.3} nats/row   log Z {log_z:.3}"
                ));
                ll.insert("exact".into(), json!({"estimate": mean, "log_z": log_z}));
            }
            Estimator::Ais => {
                let base = BaseModel::from_data(x, 1.0)?;
                let ais = Ais {
                    runs: a.ais_runs,
                    schedule: AisSchedule::Piecewise {
                        temperatures: a.ais_temperatures,
                    },
                    seed: a.seed,
                };
                let e = ais.log_partition(rbm, &base)?;
                let (mean, lo, hi) = e.mean_log_likelihood(rbm, x)?;
                lines.push(format!(
                    "log-likelihood (AIS)        {mean:10.3} nats/row   [{lo:.3}, {hi:.3}] (±3σ)   log Z {:.3}",
                    e.log_z
                ));
                ll.insert(
                    "ais".into(),
                    json!({"estimate": mean, "lower": lo, "upper": hi, "log_z": e.log_z,
                           "log_z_lower": e.log_z_lower, "log_z_upper": e.log_z_upper,
                           "runs": a.ais_runs, "temperatures": e.temperatures}),
                );
            }
            Estimator::Emf => {
                let order = EmfOrder::try_from(a.order)?;
                let (per_row, z) = EmfEstimator {
                    order,
                    ..Default::default()
                }
                .log_likelihood(rbm, x)?;
                let mean = per_row.mean().expect("rows");
                let note = if z.converged {
                    ""
                } else {
                    "  (fixed point not converged)"
                };
                lines.push(format!(
                    "log-likelihood (EMF-{})      {mean:10.3} nats/row   log Z {:.3}{note}",
                    a.order, z.log_z
                ));
                ll.insert(
                    format!("emf{}", a.order),
                    json!({"estimate": mean, "log_z": z.log_z, "converged": z.converged, "residual": z.residual}),
                );
            }
            Estimator::Auto => unreachable!("resolved above"),
        }
    }
    let pl = pseudo::pseudo_log_likelihood(rbm, x, a.seed)?
        .mean()
        .expect("rows");
    let recon = pseudo::reconstruction_error(rbm, x)?;
    if a.json {
        let out = json!({
            "model": a.model, "data": data.name, "rows": x.nrows(),
            "log_likelihood": ll, "pseudo_likelihood": pl, "reconstruction_error": recon,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "data                        {} ({} rows x {})",
            data.name,
            x.nrows(),
            x.ncols()
        );
        println!(
            "model                       {} ({} x {}, {})",
            a.model.display(),
            rbm.n_visible(),
            rbm.n_hidden(),
            T::DTYPE
        );
        for l in lines {
            println!("{l}");
        }
        println!("pseudo-likelihood           {pl:10.3} nats/row");
        println!("reconstruction error        {recon:10.5} per unit");
    }
    Ok(())
}

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
    let file: ModelFile<T> = model::load(&a.model)?;
    let rbm = &file.rbm;
    let nv = rbm.n_visible();
    if a.n == 0 {
        bail!("--n must be at least 1");
    }
    let start: Array2<T> = match a.from {
        Start::Noise => {
            let mut r = onsager::rng::stream(a.seed, onsager::rng::Domain::Sample, u64::MAX);
            Array2::from_shape_fn((a.n, nv), |_| {
                T::of((onsager::rng::uniform::<f64>(&mut r) < 0.5) as u8 as f64)
            })
        }
        Start::Data => {
            let d = a.data.load::<T>(Split::Test, a.seed)?;
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
            let mh = rbm.hidden_probs(start.view())?;
            let fp = meanfield::fixed_point(
                rbm,
                EmfOrder::try_from(order)?,
                start.view(),
                mh.view(),
                T::of(0.5),
                a.steps,
                1e-6,
            )?;
            fp.m_v
        }
        None => rbm.gibbs(start.view(), a.steps, a.seed)?,
    };
    if let Some(png) = &a.png {
        let shape = a.shape.or(file.image_shape).ok_or_else(|| {
            anyhow::anyhow!("--png needs --shape (the model stores no image shape)")
        })?;
        pictures::write_grid(
            png,
            samples.mapv(|x| x.f64()).view(),
            shape,
            pictures::Scale::Unit,
        )?;
    }
    onsager::io::npy::write_float(&a.out, samples.view())?;
    eprintln!("wrote {} ({} samples)", a.out.display(), a.n);
    Ok(())
}

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
            "beta": rbm.beta().f64(), "epochs_completed": file.epochs_completed, "params": file.params,
            "image_shape": file.image_shape, "has_training_state": file.state.is_some(), "extra": file.extra,
            "history": file.history, "format_version": model::FORMAT_VERSION,
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
    if let Some((r, c)) = file.image_shape {
        println!("image shape     {r}x{c}");
    }
    println!("weights         max |W| {max_abs:.4}");
    println!("epochs          {}", file.epochs_completed);
    if let Some(p) = &file.params {
        println!("method          {:?}", p.method);
        println!(
            "training        lr {} ({:?}), batch {}, momentum {}, decay {:?}, seed {}",
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
        println!("last epoch      {}", serde_json::to_string(last)?);
    }
    Ok(())
}
