//! `onsager experiment mnist`: every training method on MNIST under one protocol, evaluated
//! by every estimator, with a results folder anyone can regenerate (docs/results.md). The
//! methods are in `methods.rs`, the data in `data.rs`, the measurements in `evaluate.rs`,
//! the outputs in `report.rs`; the run is here.

mod data;
mod deep;
mod evaluate;
mod grey;
mod methods;
mod report;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use onsager::estimate::ais::{Ais, AisSchedule, BaseModel};
use onsager::io::model::{self, ModelFile};
use onsager::{Decay, EpochMetrics, Estimator, Persistence, Schedule, TrainParams, Trainer};
use serde_json::json;

use crate::draw::chart::{self, Point, Series};
use crate::draw::grid;
use data::{load, Binarize};
use evaluate::{classify, evaluate, Curves, Figures, CURVE_EMF_SWEEPS};
use image::RgbImage;
use methods::{Which, ALL};
use report::{figures_json, pictures, table_row, Pictures};

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
    /// Grey-level MNIST with real-valued visible units: PCD-1 and TAP-2 with truncated-Gaussian
    /// units on [0, 1], Gaussian units on standardised pixels; AIS test log-density with
    /// bounds, logistic regression on P(h|v), training time, filters, samples. Resumes.
    Grey(Box<grey::GreyArgs>),
    /// "Deep, big, simple" on MNIST: MLPs with and without elastic distortions, and a
    /// 784-500-500-2000-10 network pretrained by PCD-1 or EMF-2 against a random start; test
    /// error at the best validation epoch, curves, confusion matrices. Resumes.
    DeepMnist(Box<deep::DeepArgs>),
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
    /// The epoch (1-based) from which the persistent EMF rows carry their magnetisations over;
    /// before it they start from the data (the reference protocol uses 5).
    #[arg(long, default_value_t = 1)]
    pub persistent_from: usize,
    /// Also train PCD-1 for as long as each EMF row took (its epochs scaled by the time
    /// ratio, the same schedule over them) and report it in a second, equal-time table.
    #[arg(long)]
    pub equal_time: bool,
}

/// The settings a run used, after `--quick` and the defaults.
pub struct Settings {
    pub methods: Vec<Which>,
    pub epochs: usize,
    pub lr: f64,
    pub final_lr: f64,
    pub train_rows: usize,
    pub validation_rows: usize,
    pub test_rows: usize,
    pub ais_temperatures: usize,
    pub curve_temperatures: usize,
}

impl MnistArgs {
    /// Where the persistent EMF rows' magnetisations are carried over.
    fn persistent(&self) -> Persistence {
        match self.persistent_from {
            0 | 1 => Persistence::Persistent,
            epoch => Persistence::PersistentFrom { epoch },
        }
    }

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
            .method(which.method(self.batch_size, self.persistent()))
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

/// Runs `onsager experiment`.
pub fn run(a: ExperimentArgs) -> Result<()> {
    crate::interrupt::flag(); // Ctrl-C from here on stops the experiment cleanly (exit 130)
    match a.what {
        Experiment::Mnist(m) => mnist(&m),
        Experiment::Grey(g) => grey::grey(&g),
        Experiment::DeepMnist(d) => deep::deep(&d),
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
    let ais_with = |runs, temperatures| Estimator::Ais {
        ais: Ais {
            runs,
            schedule: AisSchedule::Piecewise { temperatures },
            seed: a.seed,
        },
        base: Some(base.clone()),
    };
    let ais = ais_with(a.ais_runs, st.ais_temperatures);
    let curve_ais = ais_with(100, st.curve_temperatures);

    // The untrained model (initial weights, visible bias from the data) and raw pixels.
    let mut init = Trainer::<f32>::new(a.params(&st, Which::Cd1, 0)?, d.train.ncols())?;
    init.fit(d.train.view(), &mut ())?;
    let untrained = evaluate(init.model(), &d, &ais, a.seed)?;
    let raw_accuracy = classify(&d.train, &d.train_labels, &d.test, &d.test_labels)?;
    eprintln!(
        "untrained: AIS test log-likelihood {:.2}; logistic regression on raw pixels {:.4}",
        untrained.ais.0, raw_accuracy
    );

    let mut rows = Vec::new();
    // (method, test AIS, training seconds) of every row, for the equal-time table.
    let mut trained: Vec<(Which, f64, f64)> = Vec::new();
    let mut methods_json = serde_json::Map::new();
    let mut curves = Vec::new();
    let mut gallery = Vec::new();
    for &which in &st.methods {
        let mut trainer = Trainer::<f32>::new(a.params(&st, which, st.epochs)?, d.train.ncols())?;
        let mut mon = Curves {
            label: which.label(),
            valid: d.valid.view(),
            ais: curve_ais.clone(),
            history: Vec::new(),
        };
        trainer.fit(d.train.view(), &mut mon)?;
        if crate::interrupt::flag().is_cancelled() {
            return Err(onsager::Error::Cancelled {
                what: "the experiment (results.md and results.json are written only at the end)",
            }
            .into());
        }
        let train_seconds: f64 = mon.history.iter().map(|p| p.seconds).sum();
        let rbm = trainer.model();
        let f = evaluate(rbm, &d, &ais, a.seed)?;
        eprintln!(
            "{:17} test: AIS {:.2} [{:.2}, {:.2}], EMF-2 {:.2}, EMF-3 {:.2}, pseudo {:.2}, recon {:.4}, accuracy {:.4}, trained in {train_seconds:.1} s",
            which.label(), f.ais.0, f.ais.1, f.ais.2, f.emf2, f.emf3, f.pseudo, f.recon, f.accuracy
        );
        rows.push(table_row(which.label(), &f, Some(train_seconds)));
        trained.push((which, f.ais.0, train_seconds));
        let id = which.id();
        gallery.push((which.label().to_string(), pictures(out, &id, rbm, a.seed)?));
        model::save(
            out.join(format!("{id}.safetensors")),
            &ModelFile {
                rbm: rbm.clone(),
                params: Some(trainer.params().clone().into_config()),
                epochs_completed: trainer.epochs_completed(),
                history: mon.history.clone(),
                image_shape: Some((28, 28)),
                state: None,
                input: None,
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

    let equal_time = if a.equal_time {
        equal_time_rows(a, &st, &d, &ais, &trained)?
    } else {
        Vec::new()
    };

    // Pictures of the curves, the JSON and the table. An AIS point keeps its bounds (a band,
    // or an open upper bound drawn as such); the EMF estimate has none.
    let ais_point = |x: f64, p: &EpochMetrics| {
        let (lower, upper) = (p.ais_log_likelihood_lower, p.ais_log_likelihood_upper);
        p.ais_log_likelihood.map(|y| match (lower, upper) {
            // Histories that recorded no bounds (older files) have no error bar.
            (None, None) => Point::plain(x, y),
            _ => Point::bounded(x, y, lower, upper),
        })
    };
    let by_epoch = |point: &dyn Fn(f64, &EpochMetrics) -> Option<Point>| {
        curves
            .iter()
            .map(|(label, pts)| Series {
                name: label.to_string(),
                points: pts
                    .iter()
                    .filter_map(|p| point(p.epoch as f64, p))
                    .collect(),
            })
            .collect::<Vec<_>>()
    };
    // The same curves against the training time spent so far.
    let by_time = curves
        .iter()
        .map(|(label, pts)| {
            let mut t = 0.0;
            let points = pts
                .iter()
                .filter_map(|p| {
                    t += p.seconds;
                    ais_point(t, p)
                })
                .collect();
            Series {
                name: label.to_string(),
                points,
            }
        })
        .collect::<Vec<_>>();
    let panels = |get: fn(&Pictures) -> &RgbImage| {
        gallery
            .iter()
            .map(|(label, p)| (label.clone(), get(p).clone()))
            .collect::<Vec<_>>()
    };
    grid::write_panels(&out.join("filters-all.png"), &panels(|p| &p.filters), 4)?;
    grid::write_panels(&out.join("samples-all.png"), &panels(|p| &p.samples), 4)?;
    // A log-likelihood is at most 0, and an estimate far below the untrained model's is a
    // failed one: the charts show the window between (documented in docs/results.md).
    let limits = Some((untrained.ais.0 - 40.0, 0.0));
    chart::line_chart(
        &out.join("log-likelihood-ais.png"),
        (
            "Validation log-likelihood by AIS",
            "epoch",
            "log-likelihood (nats per image)",
        ),
        &by_epoch(&ais_point),
        limits,
    )?;
    chart::line_chart(
        &out.join("log-likelihood-ais-time.png"),
        (
            "Validation log-likelihood by AIS against training time",
            "training time (s)",
            "log-likelihood (nats per image)",
        ),
        &by_time,
        limits,
    )?;
    chart::line_chart(
        &out.join("log-likelihood-emf2.png"),
        (
            "Validation log-likelihood by EMF-2",
            "epoch",
            "log-likelihood (nats per image)",
        ),
        &by_epoch(&|x, p| p.emf_log_likelihood.map(|y| Point::plain(x, y))),
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
        "emf_default": onsager::Method::emf(onsager::EmfOrder::Second).to_string(),
        "emf_reference": onsager::Method::emf_reference(onsager::EmfOrder::Second, a.persistent()).to_string(),
        "persistent_from": a.persistent_from,
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
        "equal_time": equal_time.iter().map(|r| r.json()).collect::<Vec<_>>(),
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
    if !equal_time.is_empty() {
        md.push_str(&equal_time_table(&equal_time));
    }
    onsager::io::write_atomic(&out.join("results.md"), md.as_bytes())?;
    println!("{md}");
    eprintln!(
        "wrote {} in {:.0} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One EMF row against PCD-1 given the same training time.
struct EqualTime {
    label: &'static str,
    ais: f64,
    seconds: f64,
    /// PCD-1's epochs, training seconds and test figures, or None where the EMF row loses to
    /// PCD-1 at equal epochs already by more than [`EQUAL_TIME_MARGIN`] (not run).
    pcd: Option<(usize, f64, Figures)>,
}

/// EMF rows further than this (nats) below PCD-1 at equal epochs are not given an equal-time
/// PCD-1 run: more epochs only widen their gap.
const EQUAL_TIME_MARGIN: f64 = 5.0;

impl EqualTime {
    fn json(&self) -> serde_json::Value {
        let mut v = json!({
            "label": self.label,
            "emf_ais_log_likelihood": self.ais,
            "emf_train_seconds": self.seconds,
        });
        if let Some((epochs, secs, f)) = &self.pcd {
            v["pcd_epochs"] = json!(epochs);
            v["pcd_train_seconds"] = json!(secs);
            v["pcd"] = figures_json(f);
        }
        v
    }
}

/// PCD-1 trained, for each EMF row, for its epochs times the ratio of the EMF row's training
/// time to PCD-1's (the same linear schedule over those epochs), and tested as the rows are.
/// Epochs are rounded to a multiple of 5 and runs of the same length are shared.
fn equal_time_rows(
    a: &MnistArgs,
    st: &Settings,
    d: &data::Data,
    ais: &Estimator,
    trained: &[(Which, f64, f64)],
) -> Result<Vec<EqualTime>> {
    let Some(&(_, pcd_ais, pcd_seconds)) = trained.iter().find(|(w, ..)| *w == Which::Pcd1) else {
        anyhow::bail!("--equal-time needs pcd1 among --methods (its time sets the scale)");
    };
    let mut runs: Vec<(usize, f64, Figures)> = Vec::new();
    let mut out = Vec::new();
    for &(which, emf_ais, seconds) in trained.iter().filter(|(w, ..)| w.is_emf()) {
        let pcd = if emf_ais < pcd_ais - EQUAL_TIME_MARGIN {
            None
        } else {
            // Rounded to whole multiples of 5 epochs, so that rows of nearly the same time
            // share one PCD-1 run (the table gives the times both took).
            let ratio = st.epochs as f64 * seconds / pcd_seconds;
            let epochs = (((ratio / 5.0).round() as usize) * 5).max(st.epochs);
            if !runs.iter().any(|(e, ..)| *e == epochs) {
                let mut trainer =
                    Trainer::<f32>::new(a.params(st, Which::Pcd1, epochs)?, d.train.ncols())?;
                let report = trainer.fit(d.train.view(), &mut ())?;
                let f = evaluate(trainer.model(), d, ais, a.seed)?;
                eprintln!(
                    "PCD-1, {epochs} epochs (the time of {}): AIS {:.2}, trained in {:.1} s",
                    which.label(),
                    f.ais.0,
                    report.seconds
                );
                runs.push((epochs, report.seconds, f));
            }
            let (e, secs, f) = runs.iter().find(|(e, ..)| *e == epochs).expect("just run");
            Some((*e, *secs, f.clone()))
        };
        out.push(EqualTime {
            label: which.label(),
            ais: emf_ais,
            seconds,
            pcd,
        });
    }
    Ok(out)
}

/// The equal-time table of results.md.
fn equal_time_table(rows: &[EqualTime]) -> String {
    let mut md = String::from(
        "\n### At equal training time\n\n| EMF row | its AIS test LL | its time (s) | PCD-1 epochs in that time | PCD-1 time (s) | PCD-1 AIS test LL [±3σ] | EMF − PCD-1 |\n|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        match &r.pcd {
            Some((epochs, secs, f)) => {
                let upper = if f.ais.2.is_finite() {
                    format!("{:.2}", f.ais.2)
                } else {
                    "∞".into()
                };
                md.push_str(&format!(
                    "| {} | {:.2} | {:.1} | {epochs} | {secs:.1} | {:.2} [{:.2}, {upper}] | {:+.2} |\n",
                    r.label, r.ais, r.seconds, f.ais.0, f.ais.1, r.ais - f.ais.0
                ));
            }
            None => md.push_str(&format!(
                "| {} | {:.2} | {:.1} | – | – | not run: more than {EQUAL_TIME_MARGIN} nats behind PCD-1 at equal epochs | – |\n",
                r.label, r.ais, r.seconds
            )),
        }
    }
    md
}
