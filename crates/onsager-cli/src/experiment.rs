//! `onsager experiment mnist`: every training method on MNIST under one protocol, evaluated
//! by every estimator, with a results folder anyone can regenerate (docs/results.md).

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use image::RgbImage;
use ndarray::{s, Array1, Array2, ArrayView2};
use onsager::data::{Dataset, Preprocess, Split};
use onsager::estimate::ais::{Ais, AisSchedule, BaseModel};
use onsager::estimate::emf::EmfEstimator;
use onsager::estimate::pseudo;
use onsager::io::model::{self, ModelFile};
use onsager::{
    Decay, EmfOrder, EpochMetrics, EpochReport, Method, Monitor, Persistence, Rbm, Schedule,
    TrainParams, Trainer,
};
use serde_json::{json, Value};

use crate::pictures::{self, Scale};

/// `onsager experiment` options.
#[derive(Args, Debug)]
pub struct ExperimentArgs {
    #[command(subcommand)]
    pub what: Experiment,
}

/// The experiments.
#[derive(Subcommand, Debug)]
pub enum Experiment {
    /// CD-1, PCD-1 and EMF orders 1–3 (data-initialised and persistent) on MNIST: AIS and EMF
    /// test log-likelihoods, pseudo-likelihood, reconstruction error, logistic-regression
    /// accuracy on the hidden units, training time, per-epoch validation curves, pictures.
    Mnist(Box<MnistArgs>),
}

/// The methods of the comparison.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// CD-1.
    Cd1,
    /// PCD-1 with one chain per batch row.
    Pcd1,
    /// EMF order 1 (naive mean field), magnetisations from the data batch.
    Emf1Data,
    /// EMF order 1, persistent magnetisations.
    Emf1Persistent,
    /// EMF order 2 (TAP), from the data batch.
    Emf2Data,
    /// EMF order 2, persistent.
    Emf2Persistent,
    /// EMF order 3, from the data batch.
    Emf3Data,
    /// EMF order 3, persistent.
    Emf3Persistent,
}

const ALL: [Which; 8] = [
    Which::Cd1,
    Which::Pcd1,
    Which::Emf1Data,
    Which::Emf1Persistent,
    Which::Emf2Data,
    Which::Emf2Persistent,
    Which::Emf3Data,
    Which::Emf3Persistent,
];

impl Which {
    /// The name in tables and plots.
    fn label(self) -> &'static str {
        match self {
            Which::Cd1 => "CD-1",
            Which::Pcd1 => "PCD-1",
            Which::Emf1Data => "EMF-1 data",
            Which::Emf1Persistent => "EMF-1 persistent",
            Which::Emf2Data => "EMF-2 data",
            Which::Emf2Persistent => "EMF-2 persistent",
            Which::Emf3Data => "EMF-3 data",
            Which::Emf3Persistent => "EMF-3 persistent",
        }
    }

    /// The name in file names and JSON keys.
    fn id(self) -> String {
        self.to_possible_value()
            .expect("every method has a name")
            .get_name()
            .to_string()
    }

    fn method(self, batch: usize) -> Method {
        let emf = |order, persistence| Method::Emf {
            order,
            iterations: 3,
            damping: 0.5,
            persistence,
        };
        use Persistence::{DataInit, Persistent};
        match self {
            Which::Cd1 => Method::Cd { k: 1 },
            Which::Pcd1 => Method::Pcd {
                k: 1,
                chains: batch,
            },
            Which::Emf1Data => emf(EmfOrder::First, DataInit),
            Which::Emf1Persistent => emf(EmfOrder::First, Persistent),
            Which::Emf2Data => emf(EmfOrder::Second, DataInit),
            Which::Emf2Persistent => emf(EmfOrder::Second, Persistent),
            Which::Emf3Data => emf(EmfOrder::Third, DataInit),
            Which::Emf3Persistent => emf(EmfOrder::Third, Persistent),
        }
    }
}

/// How the grey levels become binary.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binarize {
    /// 1 where the grey level is above 0.5.
    Threshold,
    /// 1 with probability equal to the grey level, drawn once (seeded).
    Stochastic,
}

/// `onsager experiment mnist` options. Defaults are the published run (docs/results.md).
#[derive(Args, Debug)]
pub struct MnistArgs {
    /// Folder with the four standard MNIST files (default: the download cache, fetched on
    /// first use; see `onsager train --dataset mnist`).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Results folder (created; files in it are replaced).
    #[arg(short, long, default_value = "results/mnist")]
    pub out: PathBuf,
    /// The whole pipeline on a small subset, in about a minute: 5000 training, 500
    /// validation and 1000 test rows, 5 epochs, learning rate 0.05, 1000 AIS temperatures.
    #[arg(long)]
    pub quick: bool,
    /// Methods to run (repeat or separate by commas; default all eight).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub methods: Vec<Which>,
    /// Epochs, the same for every method.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Hidden units.
    #[arg(long, default_value_t = 500)]
    pub hidden: usize,
    /// Mini-batch size.
    #[arg(long, default_value_t = 100)]
    pub batch_size: usize,
    /// Learning rate of the first epoch, falling linearly to `--final-lr` (default 0.01;
    /// with `--quick` 0.05, so that its 250 updates learn visibly).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Learning rate of the last epoch (default a tenth of `--lr`).
    #[arg(long)]
    pub final_lr: Option<f64>,
    /// Momentum.
    #[arg(long, default_value_t = 0.5)]
    pub momentum: f64,
    /// L2 weight decay on the mean gradient.
    #[arg(long, default_value_t = 1e-4)]
    pub l2: f64,
    /// Binarisation of the grey levels.
    #[arg(long, value_enum, default_value_t = Binarize::Threshold)]
    pub binarize: Binarize,
    /// Training rows (the first N of the 60 000; default all but the validation slice).
    #[arg(long)]
    pub train_rows: Option<usize>,
    /// Validation rows, held out from the end of the 60 000 training images (default 10 000).
    #[arg(long)]
    pub validation_rows: Option<usize>,
    /// Test rows (the first N of the 10 000).
    #[arg(long)]
    pub test_rows: Option<usize>,
    /// AIS runs of the test estimate.
    #[arg(long, default_value_t = 100)]
    pub ais_runs: usize,
    /// AIS temperatures of the test estimate (default 14 500, Salakhutdinov & Murray's).
    #[arg(long)]
    pub ais_temperatures: Option<usize>,
    /// AIS temperatures of the per-epoch validation curves (100 runs).
    #[arg(long)]
    pub curve_temperatures: Option<usize>,
    /// Seed (weights, chains, shuffling, AIS, pseudo-likelihood flips, binarisation).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Training threads (0: all cores; the estimators always use all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// The settings a run used, after `--quick` and the defaults.
struct Settings {
    methods: Vec<Which>,
    epochs: usize,
    lr: f64,
    final_lr: f64,
    train_rows: usize,
    validation_rows: usize,
    test_rows: usize,
    ais_temperatures: usize,
    curve_temperatures: usize,
}

impl MnistArgs {
    fn settings(&self) -> Settings {
        let q = |quick: usize, full: usize| if self.quick { quick } else { full };
        let validation_rows = self.validation_rows.unwrap_or(q(500, 10_000));
        let lr = self.lr.unwrap_or(if self.quick { 0.05 } else { 0.01 });
        Settings {
            lr,
            final_lr: self.final_lr.unwrap_or(lr / 10.0),
            methods: if self.methods.is_empty() {
                ALL.to_vec()
            } else {
                self.methods.clone()
            },
            epochs: self.epochs.unwrap_or(q(5, 30)),
            train_rows: self.train_rows.unwrap_or(q(5000, 60_000 - validation_rows)),
            validation_rows,
            test_rows: self.test_rows.unwrap_or(q(1000, 10_000)),
            ais_temperatures: self.ais_temperatures.unwrap_or(q(1000, 14_500)),
            curve_temperatures: self.curve_temperatures.unwrap_or(q(200, 1000)),
        }
    }

    fn params(&self, st: &Settings, which: Which, epochs: usize) -> Result<TrainParams> {
        Ok(TrainParams::builder()
            .n_hidden(self.hidden)
            .method(which.method(self.batch_size))
            .learning_rate(st.lr)
            .schedule(Schedule::Linear {
                final_rate: st.final_lr,
            })
            .batch_size(self.batch_size)
            .momentum(self.momentum)
            .decay(Decay::L2 { lambda: self.l2 })
            .epochs(epochs)
            .seed(self.seed)
            .threads(self.threads)
            .build()?)
    }
}

/// The data of the experiment, binarised.
struct Data {
    train: Array2<f32>,
    train_labels: Array1<usize>,
    valid: Array2<f32>,
    test: Array2<f32>,
    test_labels: Array1<usize>,
}

fn load(a: &MnistArgs, st: &Settings) -> Result<Data> {
    let dir = match &a.data_dir {
        Some(d) => d.clone(),
        None => crate::args::mnist_dir()?,
    };
    let prep = |d: &Dataset, seed: u64| -> Result<Array2<f32>> {
        let how = match a.binarize {
            Binarize::Threshold => Preprocess::Binarize { threshold: 0.5 },
            Binarize::Stochastic => Preprocess::Stochastic { seed },
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

/// Sweep cap of the per-epoch EMF estimate (the test estimate keeps the default 2000).
const CURVE_EMF_SWEEPS: usize = 300;

/// Records the validation curves after every epoch (as the model's history) and prints a line
/// per epoch.
struct Curves<'a> {
    label: &'static str,
    valid: ArrayView2<'a, f32>,
    base: &'a BaseModel,
    ais: Ais,
    history: Vec<EpochMetrics>,
}

impl Monitor<f32> for Curves<'_> {
    fn on_epoch(&mut self, r: &EpochReport, model: &Rbm<f32>) -> ControlFlow<()> {
        let ais = self
            .ais
            .log_partition(model, self.base)
            .and_then(|z| z.mean_log_likelihood(model, self.valid))
            .map_or(f64::NAN, |(ll, _, _)| ll);
        let emf2 = EmfEstimator {
            max_iter: CURVE_EMF_SWEEPS,
            ..Default::default()
        }
        .log_likelihood(model, self.valid)
        .ok()
        .and_then(|(ll, _)| ll.mean())
        .unwrap_or(f64::NAN);
        eprintln!(
            "{:17} epoch {:3}/{}  {:6.2} s  validation log-likelihood: AIS {ais:8.2}, EMF-2 {emf2:8.2}",
            self.label, r.epoch, r.epochs, r.seconds
        );
        let finite = |x: f64| x.is_finite().then_some(x);
        self.history.push(EpochMetrics {
            ais_log_likelihood: finite(ais),
            emf_log_likelihood: finite(emf2),
            ..EpochMetrics::from_report(r)
        });
        ControlFlow::Continue(())
    }
}

/// The test figures of one model.
struct Figures {
    ais: (f64, f64, f64),
    log_z: f64,
    emf2: f64,
    emf3: f64,
    pseudo: f64,
    recon: f64,
    accuracy: f64,
}

fn mean_emf(order: EmfOrder, rbm: &Rbm<f32>, x: ArrayView2<'_, f32>) -> Result<f64> {
    let est = EmfEstimator {
        order,
        ..Default::default()
    };
    let (ll, _) = est.log_likelihood(rbm, x)?;
    Ok(ll.mean().unwrap_or(f64::NAN))
}

fn evaluate(rbm: &Rbm<f32>, d: &Data, ais: &Ais, base: &BaseModel, seed: u64) -> Result<Figures> {
    let z = ais.log_partition(rbm, base)?;
    let features = |x: &Array2<f32>| rbm.hidden_probs(x.view());
    Ok(Figures {
        ais: z.mean_log_likelihood(rbm, d.test.view())?,
        log_z: z.log_z,
        emf2: mean_emf(EmfOrder::Second, rbm, d.test.view())?,
        emf3: mean_emf(EmfOrder::Third, rbm, d.test.view())?,
        pseudo: pseudo::pseudo_log_likelihood(rbm, d.test.view(), seed)?
            .mean()
            .unwrap_or(f64::NAN),
        recon: pseudo::reconstruction_error(rbm, d.test.view())?,
        accuracy: classify(
            &features(&d.train)?,
            &d.train_labels,
            &features(&d.test)?,
            &d.test_labels,
        )?,
    })
}

/// Test accuracy of a multinomial logistic regression (linfa-logistic: L-BFGS, L2 penalty 1,
/// intercept, at most 100 iterations, gradient tolerance 1e-4) trained on `train` features.
fn classify(
    train: &Array2<f32>,
    train_labels: &Array1<usize>,
    test: &Array2<f32>,
    test_labels: &Array1<usize>,
) -> Result<f64> {
    use linfa::prelude::{Fit, Predict};
    // linfa speaks ndarray 0.16; the features cross as plain vectors.
    let to16 = |x: &Array2<f32>| {
        ndarray16::Array2::from_shape_vec(x.dim(), x.iter().map(|&v| v as f64).collect())
            .expect("the shape of the source")
    };
    let labels16 = |y: &Array1<usize>| ndarray16::Array1::from_vec(y.to_vec());
    let ds = linfa::Dataset::new(to16(train), labels16(train_labels));
    // linfa's defaults, spelled out so that the protocol does not move with them.
    let model = linfa_logistic::MultiLogisticRegression::default()
        .alpha(1.0)
        .with_intercept(true)
        .max_iterations(100)
        .gradient_tolerance(1e-4)
        .fit(&ds)
        .context("logistic regression")?;
    let predicted = model.predict(&to16(test));
    let right = predicted
        .iter()
        .zip(test_labels)
        .filter(|(p, y)| p == y)
        .count();
    Ok(right as f64 / test_labels.len().max(1) as f64)
}

fn figures_json(f: &Figures) -> Value {
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
fn table_row(label: &str, f: &Figures, seconds: Option<f64>) -> String {
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

/// Runs `onsager experiment`.
pub fn run(a: ExperimentArgs) -> Result<()> {
    match a.what {
        Experiment::Mnist(m) => mnist(&m),
    }
}

fn mnist(a: &MnistArgs) -> Result<()> {
    let started = Instant::now();
    let st = a.settings();
    let d = load(a, &st)?;
    let out = &a.out;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    eprintln!(
        "MNIST: {} training, {} validation, {} test rows; {} hidden units, {} epochs",
        d.train.nrows(),
        d.valid.nrows(),
        d.test.nrows(),
        a.hidden,
        st.epochs
    );
    let base = BaseModel::from_data(d.train.view(), 1.0)?;
    let ais = Ais {
        runs: a.ais_runs,
        schedule: AisSchedule::Piecewise {
            temperatures: st.ais_temperatures,
        },
        seed: a.seed,
    };
    let curve_ais = Ais {
        runs: 100,
        schedule: AisSchedule::Piecewise {
            temperatures: st.curve_temperatures,
        },
        seed: a.seed,
    };

    // The untrained model (initial weights, visible bias from the data) and raw pixels.
    let mut init = Trainer::<f32>::new(a.params(&st, Which::Cd1, 0)?, d.train.ncols())?;
    init.fit(d.train.view(), &mut ())?;
    let untrained = evaluate(init.model(), &d, &ais, &base, a.seed)?;
    let raw_accuracy = classify(&d.train, &d.train_labels, &d.test, &d.test_labels)?;
    eprintln!(
        "untrained: AIS test log-likelihood {:.2}; logistic regression on raw pixels {:.4}",
        untrained.ais.0, raw_accuracy
    );

    let mut rows = Vec::new();
    let mut methods_json = serde_json::Map::new();
    let mut curves = Vec::new();
    let mut gallery = Vec::new();
    for &which in &st.methods {
        let mut trainer = Trainer::<f32>::new(a.params(&st, which, st.epochs)?, d.train.ncols())?;
        let mut mon = Curves {
            label: which.label(),
            valid: d.valid.view(),
            base: &base,
            ais: curve_ais.clone(),
            history: Vec::new(),
        };
        trainer.fit(d.train.view(), &mut mon)?;
        let train_seconds: f64 = mon.history.iter().map(|p| p.seconds).sum();
        let rbm = trainer.model();
        let f = evaluate(rbm, &d, &ais, &base, a.seed)?;
        eprintln!(
            "{:17} test: AIS {:.2} [{:.2}, {:.2}], EMF-2 {:.2}, EMF-3 {:.2}, pseudo {:.2}, recon {:.4}, accuracy {:.4}, trained in {train_seconds:.1} s",
            which.label(), f.ais.0, f.ais.1, f.ais.2, f.emf2, f.emf3, f.pseudo, f.recon, f.accuracy
        );
        rows.push(table_row(which.label(), &f, Some(train_seconds)));
        let id = which.id();
        gallery.push((
            which.label().to_lowercase(),
            pictures(out, &id, rbm, a.seed)?,
        ));
        model::save(
            out.join(format!("{id}.safetensors")),
            &ModelFile {
                rbm: rbm.clone(),
                params: Some(trainer.params().clone().into_config()),
                epochs_completed: trainer.epochs_completed(),
                history: mon.history.clone(),
                image_shape: Some((28, 28)),
                state: None,
                extra: Default::default(),
            },
        )?;
        let mut m = figures_json(&f);
        m["label"] = json!(which.label());
        m["train_seconds"] = json!(train_seconds);
        m["validation_curve"] = serde_json::to_value(&mon.history)?;
        methods_json.insert(id, m);
        curves.push((which.label(), mon.history));
    }

    // Pictures of the curves, the JSON and the table.
    let series = |get: fn(&EpochMetrics) -> Option<f64>| {
        curves
            .iter()
            .map(|(label, pts)| {
                (
                    label.to_string(),
                    pts.iter()
                        .filter_map(|p| get(p).map(|y| (p.epoch as f64, y)))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>()
    };
    let panels = |get: fn(&Pictures) -> &RgbImage| {
        gallery
            .iter()
            .map(|(label, p)| (label.clone(), get(p).clone()))
            .collect::<Vec<_>>()
    };
    pictures::write_panels(&out.join("filters-all.png"), &panels(|p| &p.filters), 4)?;
    pictures::write_panels(&out.join("samples-all.png"), &panels(|p| &p.samples), 4)?;
    // A log-likelihood is at most 0, and an estimate far below the untrained model's is a
    // failed one: the charts show the window between (documented in docs/results.md).
    let limits = Some((untrained.ais.0 - 40.0, 0.0));
    pictures::line_chart(
        &out.join("log-likelihood-ais.png"),
        "validation log-likelihood (ais, nats) per epoch",
        &series(|p| p.ais_log_likelihood),
        limits,
    )?;
    pictures::line_chart(
        &out.join("log-likelihood-emf2.png"),
        "validation log-likelihood (emf-2, nats) per epoch",
        &series(|p| p.emf_log_likelihood),
        limits,
    )?;
    let settings = json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "quick": a.quick,
        "binarize": format!("{:?}", a.binarize).to_lowercase(),
        "train_rows": d.train.nrows(),
        "validation_rows": d.valid.nrows(),
        "test_rows": d.test.nrows(),
        "hidden": a.hidden,
        "epochs": st.epochs,
        "batch_size": a.batch_size,
        "learning_rate": st.lr,
        "final_learning_rate": st.final_lr,
        "momentum": a.momentum,
        "l2": a.l2,
        "emf_iterations": 3,
        "emf_damping": 0.5,
        "ais_runs": a.ais_runs,
        "ais_temperatures": st.ais_temperatures,
        "curve_ais_runs": 100,
        "curve_ais_temperatures": st.curve_temperatures,
        "curve_emf_max_sweeps": CURVE_EMF_SWEEPS,
        "seed": a.seed,
        "threads": rayon::current_num_threads(),
    });
    let all = json!({
        "settings": settings,
        "untrained": figures_json(&untrained),
        "raw_pixel_accuracy": raw_accuracy,
        "methods": methods_json,
        "seconds": started.elapsed().as_secs_f64(),
    });
    onsager::io::write_atomic(
        &out.join("results.json"),
        serde_json::to_string_pretty(&all)?.as_bytes(),
    )?;
    let mut md = String::new();
    md.push_str(
        "| Method | AIS test LL [±3σ] | EMF-2 LL | EMF-3 LL | pseudo-LL | recon. error | accuracy | train time (s) |\n",
    );
    md.push_str("|---|---|---|---|---|---|---|---|\n");
    for r in &rows {
        md.push_str(r);
        md.push('\n');
    }
    md.push_str(&table_row("untrained", &untrained, None));
    md.push('\n');
    md.push_str(&format!(
        "\nLog-likelihoods in nats per test image; ∞: the AIS weights spread too widely for an upper bound. Logistic regression on the raw pixels: accuracy {raw_accuracy:.4}.\n"
    ));
    onsager::io::write_atomic(&out.join("results.md"), md.as_bytes())?;
    println!("{md}");
    eprintln!(
        "wrote {} in {:.0} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A model's pictures: its first 100 filters and 100 samples, each drawn once in full and
/// once as a 4 × 4 corner for the side-by-side galleries.
struct Pictures {
    filters: RgbImage,
    samples: RgbImage,
}

/// Filters (the first 100 hidden units) and 100 samples (1000 Gibbs steps from uniform
/// noise, shown as P(v | h) of the last step) of a model, as PNG; returns the gallery corners.
fn pictures(out: &Path, id: &str, rbm: &Rbm<f32>, seed: u64) -> Result<Pictures> {
    let w = rbm.weights();
    let k = w.ncols().min(100);
    let filters = w.t().slice(s![..k, ..]).mapv(f64::from);
    pictures::write_grid(
        &out.join(format!("filters-{id}.png")),
        filters.view(),
        (28, 28),
        Scale::PerFilter,
    )?;
    let corner = |x: &Array2<f64>| x.slice(s![..x.nrows().min(16), ..]).to_owned();
    let start = Array2::<f32>::from_elem((100, rbm.n_visible()), 0.5);
    let mut r = onsager::rng::stream(seed, onsager::rng::Domain::Sample, 7);
    let start = start.mapv(|p| (onsager::rng::uniform::<f32>(&mut r) < p) as u8 as f32);
    let samples = rbm.gibbs(start.view(), 1000, seed)?;
    let probs = rbm.visible_probs(rbm.hidden_probs(samples.view())?.view())?;
    let probs = probs.mapv(f64::from);
    pictures::write_grid(
        &out.join(format!("samples-{id}.png")),
        probs.view(),
        (28, 28),
        Scale::Unit,
    )?;
    Ok(Pictures {
        filters: pictures::grid_image(corner(&filters).view(), (28, 28), Scale::PerFilter)?,
        samples: pictures::grid_image(corner(&probs).view(), (28, 28), Scale::Unit)?,
    })
}
