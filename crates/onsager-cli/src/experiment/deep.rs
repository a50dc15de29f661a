//! `onsager experiment deep-mnist`: the "big, deep, simple" question (issue 14) on this
//! machine: plain MLPs with and without distortions (Simard et al. 2003; Ciresan et al. 2010)
//! and Hinton & Salakhutdinov's 784-500-500-2000-10 pretrained by PCD-1 and by EMF-2 against
//! a random start. Each row: the test error at the best validation epoch, the best test error,
//! epochs, wall time, parameters, learning curves and a confusion matrix. Resumes: a finished
//! row's JSON is kept on a rerun with the same settings.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use ndarray::{Array1, Array2};
use onsager::data::{Dataset, Preprocess, Split};
use onsager::{EmfOrder, Method};
use onsager_deep::file::{self, DeepFile};
use onsager_deep::{
    error_rate, fit, Activation, Distorter, Distortion, Init, Labelled, Mlp, Sgd, Stack,
};
use serde_json::{json, Value};

use crate::draw::chart::{self, Series};
use crate::draw::grid::{self, Scale};

/// `onsager experiment deep-mnist` options.
#[derive(Args, Debug)]
pub struct DeepArgs {
    /// Folder with the four standard MNIST files (default: the download cache).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Results folder (created; finished rows in it are kept and skipped).
    #[arg(short, long, default_value = "results/deep-mnist")]
    pub out: PathBuf,
    /// The pipeline on a subset in under a minute: 3000 training, 500 validation and 1000
    /// test rows, 5 epochs, 2 pretraining epochs per layer, every net a quarter as wide.
    #[arg(long)]
    pub quick: bool,
    /// Rows to run (default all).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub rows: Vec<DeepRow>,
    /// Supervised epochs of every row.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Pretraining epochs per RBM layer.
    #[arg(long)]
    pub pretrain_epochs: Option<usize>,
    /// Training rows (the first N of the 60 000).
    #[arg(long)]
    pub train_rows: Option<usize>,
    /// Validation rows, held out from the end of the 60 000 training images.
    #[arg(long)]
    pub validation_rows: Option<usize>,
    /// Test rows (the first N of the 10 000).
    #[arg(long)]
    pub test_rows: Option<usize>,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// The rows of the table.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeepRow {
    /// 784-800-10, scaled tanh, no distortions (Simard et al.: 1.6 %).
    Mlp800,
    /// 784-800-10 on distorted images (Simard et al.: 0.7 %).
    Mlp800Distorted,
    /// 784-1000-500-10 on distorted images (Ciresan et al. ID 1: 0.49 %).
    #[value(name = "mlp1000-500-distorted")]
    Mlp1000_500Distorted,
    /// Ciresan et al.'s deepest, 784-2500-2000-1500-1000-500-10, on distorted images (0.35 %):
    /// 12 million weights, the deepest net whose 30 epochs this 2-core machine affords in a
    /// session (about 10 minutes).
    #[value(name = "mlp2500-2000-1500-1000-500-distorted")]
    MlpDeepestDistorted,
    /// 784-500-500-2000-10 pretrained by PCD-1, fine-tuned (Hinton & Salakhutdinov: 1.2 %).
    DbnPcd1,
    /// The same stack pretrained by EMF-2.
    DbnEmf2,
    /// The same network from a random start.
    DbnRandom,
}

const ALL: [DeepRow; 7] = [
    DeepRow::Mlp800,
    DeepRow::Mlp800Distorted,
    DeepRow::Mlp1000_500Distorted,
    DeepRow::MlpDeepestDistorted,
    DeepRow::DbnPcd1,
    DeepRow::DbnEmf2,
    DeepRow::DbnRandom,
];

impl DeepRow {
    fn id(self) -> String {
        self.to_possible_value()
            .expect("no skipped rows")
            .get_name()
            .to_string()
    }

    fn hidden(self, quick: bool) -> Vec<usize> {
        let h = match self {
            DeepRow::Mlp800 | DeepRow::Mlp800Distorted => vec![800],
            DeepRow::Mlp1000_500Distorted => vec![1000, 500],
            DeepRow::MlpDeepestDistorted => vec![2500, 2000, 1500, 1000, 500],
            DeepRow::DbnPcd1 | DeepRow::DbnEmf2 | DeepRow::DbnRandom => vec![500, 500, 2000],
        };
        if quick {
            h.into_iter().map(|n| n / 4).collect()
        } else {
            h
        }
    }

    fn distorted(self) -> bool {
        matches!(
            self,
            DeepRow::Mlp800Distorted | DeepRow::Mlp1000_500Distorted | DeepRow::MlpDeepestDistorted
        )
    }

    fn pretrain(self) -> Option<Method> {
        match self {
            DeepRow::DbnPcd1 => Some(Method::pcd(1, 100)),
            DeepRow::DbnEmf2 => Some(Method::emf(EmfOrder::Second)),
            _ => None,
        }
    }

    fn is_dbn(self) -> bool {
        matches!(
            self,
            DeepRow::DbnPcd1 | DeepRow::DbnEmf2 | DeepRow::DbnRandom
        )
    }

    /// The SGD of the row: scaled-tanh MLPs as Ciresan et al. (rate decaying by 0.95 per
    /// epoch; 0.05, but 0.01 for the deepest, which at 0.05 saturated at chance in its first
    /// mini-batches: docs/results-deep.md), the logistic DBN rows with a constant rate 0.5 and
    /// momentum 0.5 (0.1 left the random start at chance and the pretrained one far behind in
    /// trials on the bundled sample).
    fn sgd(self, epochs: usize, seed: u64) -> Sgd {
        if self.is_dbn() {
            Sgd {
                epochs,
                batch_size: 100,
                learning_rate: 0.5,
                momentum: 0.5,
                seed,
                ..Sgd::default()
            }
        } else {
            Sgd {
                epochs,
                batch_size: 100,
                learning_rate: if self == DeepRow::MlpDeepestDistorted {
                    0.01
                } else {
                    0.05
                },
                decay: 0.95,
                min_learning_rate: 1e-4,
                momentum: 0.9,
                seed,
                ..Sgd::default()
            }
        }
    }
}

struct Data {
    train: Array2<f32>,
    train_y: Vec<usize>,
    valid: Array2<f32>,
    valid_y: Vec<usize>,
    test: Array2<f32>,
    test_y: Vec<usize>,
}

fn load(dir: &Path, train_rows: usize, validation_rows: usize, test_rows: usize) -> Result<Data> {
    let labels = |d: &Dataset| -> Vec<usize> {
        d.labels
            .as_ref()
            .map_or_else(Vec::new, |l| l.iter().map(|&v| v as usize).collect())
    };
    let all = Dataset::mnist(dir, Split::Train)?;
    let n = all.values.dim().0;
    if validation_rows >= n {
        bail!("--validation-rows {validation_rows} leaves no training rows (MNIST has {n})");
    }
    let train = all.rows(0, train_rows.min(n - validation_rows));
    let valid = all.rows(n - validation_rows, validation_rows);
    let test = Dataset::mnist(dir, Split::Test)?.head(test_rows);
    Ok(Data {
        train: train.prepare(Preprocess::Auto)?,
        train_y: labels(&train),
        valid: valid.prepare(Preprocess::Auto)?,
        valid_y: labels(&valid),
        test: test.prepare(Preprocess::Auto)?,
        test_y: labels(&test),
    })
}

/// Runs `onsager experiment deep-mnist`.
pub fn deep(a: &DeepArgs) -> Result<()> {
    let q = |quick: usize, full: usize| if a.quick { quick } else { full };
    let epochs = a.epochs.unwrap_or(q(5, 30));
    let pretrain_epochs = a.pretrain_epochs.unwrap_or(q(2, 10));
    let (train_rows, validation_rows, test_rows) = (
        a.train_rows.unwrap_or(q(3000, 50_000)),
        a.validation_rows.unwrap_or(q(500, 10_000)),
        a.test_rows.unwrap_or(q(1000, 10_000)),
    );
    let rows = if a.rows.is_empty() {
        ALL.to_vec()
    } else {
        a.rows.clone()
    };
    let dir = match &a.data_dir {
        Some(d) => d.clone(),
        None => crate::args::mnist_dir()?,
    };
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let settings = json!({
        "quick": a.quick, "epochs": epochs, "pretrain_epochs": pretrain_epochs,
        "train_rows": train_rows, "validation_rows": validation_rows, "test_rows": test_rows,
        "seed": a.seed,
    });
    let d = load(&dir, train_rows, validation_rows, test_rows)?;
    eprintln!(
        "deep MNIST: {} training, {} validation, {} test rows; {epochs} epochs",
        d.train.nrows(),
        d.valid.nrows(),
        d.test.nrows()
    );
    for &row in &rows {
        let path = a.out.join(format!("{}.json", row.id()));
        if let Ok(text) = std::fs::read_to_string(&path) {
            let v: Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", path.display()))?;
            if v["settings"] != settings {
                bail!(
                    "{} was run with other settings; remove it or choose another --out",
                    path.display()
                );
            }
            eprintln!("{:24} finished earlier: kept", row.id());
            continue;
        }
        let mut v = run_row(a, row, &d, epochs, pretrain_epochs)?;
        v["settings"] = settings.clone();
        onsager::io::write_atomic(&path, serde_json::to_string_pretty(&v)?.as_bytes())?;
    }
    let md = table(&a.out)?;
    onsager::io::write_atomic(&a.out.join("results.md"), md.as_bytes())?;
    println!("{md}");
    Ok(())
}

fn run_row(
    a: &DeepArgs,
    row: DeepRow,
    d: &Data,
    epochs: usize,
    pretrain_epochs: usize,
) -> Result<Value> {
    let started = Instant::now();
    let hidden = row.hidden(a.quick);
    let (mut net, stack) = match row.pretrain() {
        Some(method) => {
            let layers =
                Stack::<f32>::uniform_layers(&hidden, method, 0.05, pretrain_epochs, a.seed)?;
            let mut progress =
                crate::classify::Pretraining::new(&format!("{:24} ", row.id()), false);
            let stack = Stack::pretrain(d.train.view(), &layers, &mut progress)?;
            (stack.to_mlp(10, Init::Glorot, a.seed)?, Some(stack))
        }
        None => {
            let activation = if row.is_dbn() {
                Activation::Logistic
            } else {
                Activation::ScaledTanh
            };
            let mut sizes = vec![784];
            sizes.extend(&hidden);
            sizes.push(10);
            (Mlp::random(&sizes, activation, Init::Glorot, a.seed)?, None)
        }
    };
    let pretrain_seconds = started.elapsed().as_secs_f64();
    let distorter = row
        .distorted()
        .then(|| Distorter::new(Distortion::CIRESAN, (28, 28)))
        .transpose()?;
    let mut test_errors = Vec::new();
    let id = row.id();
    let fitted = fit(
        &mut net,
        Labelled {
            x: d.train.view(),
            y: &d.train_y,
        },
        Some(Labelled {
            x: d.valid.view(),
            y: &d.valid_y,
        }),
        distorter.as_ref(),
        &row.sgd(epochs, a.seed),
        &mut |r, m| {
            let t = error_rate(
                m,
                Labelled {
                    x: d.test.view(),
                    y: &d.test_y,
                },
            )
            .unwrap_or(f64::NAN);
            eprintln!(
                "{id:24} epoch {:3}/{epochs}  loss {:.4}  validation {:.4}  test {t:.4}  {:.1} s",
                r.epoch,
                r.train_loss,
                r.validation_error.unwrap_or(f64::NAN),
                r.seconds
            );
            test_errors.push(t);
            if crate::interrupt::flag().is_cancelled() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )?;
    if fitted.stopped {
        return Err(onsager::Error::Cancelled {
            what: "the row (rows finished before it are kept)",
        }
        .into());
    }
    let train_seconds: f64 = fitted.history.iter().map(|r| r.seconds).sum();
    let params: usize = net
        .layers()
        .iter()
        .map(|l| l.weights.len() + l.bias.len())
        .sum();
    let at_best = test_errors[fitted.best_epoch - 1];
    let best = test_errors.iter().cloned().fold(f64::INFINITY, f64::min);
    pictures(&a.out, &id, &net, d, &fitted.history, &test_errors)?;
    file::save(
        a.out.join(format!("{id}.safetensors")),
        &DeepFile {
            stack,
            mlp: Some(net),
            extra: Default::default(),
            resume: None,
        },
    )?;
    eprintln!(
        "{id:24} test error {at_best:.4} at the best validation epoch {}, best {best:.4}",
        fitted.best_epoch
    );
    Ok(json!({
        "row": id, "hidden": hidden, "distorted": row.distorted(),
        "pretrain": row.pretrain().map(|m| m.to_string()),
        "test_error_at_best_validation": at_best, "best_test_error": best,
        "best_epoch": fitted.best_epoch, "epochs": fitted.history.len(),
        "pretrain_seconds": pretrain_seconds, "train_seconds": train_seconds,
        "parameters": params, "threads": rayon::current_num_threads(),
        "history": fitted.history, "test_errors": test_errors,
    }))
}

/// `curves-ID.png` (validation and test error per epoch) and `confusion-ID.png` (the kept
/// network's test confusion matrix: row = true digit, column = predicted, brightness = the
/// row's fraction).
fn pictures(
    out: &Path,
    id: &str,
    net: &Mlp<f32>,
    d: &Data,
    history: &[onsager_deep::EpochRecord],
    test_errors: &[f64],
) -> Result<()> {
    let by_epoch = |ys: Vec<f64>| ys.into_iter().enumerate().map(|(e, y)| (e as f64 + 1.0, y));
    let series = [
        Series::plain(
            "validation",
            by_epoch(
                history
                    .iter()
                    .map(|r| r.validation_error.unwrap_or(f64::NAN))
                    .collect(),
            ),
        ),
        Series::plain("test", by_epoch(test_errors.to_vec())),
    ];
    chart::line_chart(
        &out.join(format!("curves-{id}.png")),
        (&format!("{id}: error per epoch"), "epoch", "error rate"),
        &series,
        None,
    )?;
    let p = net.predict_proba(d.test.view())?;
    let mut counts = Array2::<f64>::zeros((10, 10));
    for (row, &y) in p.rows().into_iter().zip(&d.test_y) {
        let guess = row
            .iter()
            .enumerate()
            .fold(
                (0, f32::NEG_INFINITY),
                |b, (c, &v)| if v > b.1 { (c, v) } else { b },
            )
            .0;
        counts[[y, guess]] += 1.0;
    }
    let totals: Array1<f64> = counts.sum_axis(ndarray::Axis(1)).mapv(|t| t.max(1.0));
    let fractions =
        Array2::from_shape_fn((1, 100), |(_, k)| counts[[k / 10, k % 10]] / totals[k / 10]);
    grid::write_grid(
        &out.join(format!("confusion-{id}.png")),
        fractions.view(),
        (10, 10),
        Scale::Unit,
        Some(24),
    )?;
    Ok(())
}

/// The table of every finished row in `out`.
fn table(out: &Path) -> Result<String> {
    let mut md = String::from(
        "| Row | hidden | test error at best validation epoch | best test error | epochs (best) | train time (s) | pretraining (s) | parameters |\n|---|---|---|---|---|---|---|---|\n",
    );
    for row in ALL {
        let Ok(text) = std::fs::read_to_string(out.join(format!("{}.json", row.id()))) else {
            continue;
        };
        let v: Value = serde_json::from_str(&text)?;
        let pct = |k: &str| {
            v[k].as_f64()
                .map_or("?".into(), |x| format!("{:.2} %", 100.0 * x))
        };
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} ({}) | {:.1} | {:.1} | {} |\n",
            row.id(),
            v["hidden"],
            pct("test_error_at_best_validation"),
            pct("best_test_error"),
            v["epochs"],
            v["best_epoch"],
            v["train_seconds"].as_f64().unwrap_or(f64::NAN),
            v["pretrain_seconds"].as_f64().unwrap_or(f64::NAN),
            v["parameters"]
        ));
    }
    Ok(md)
}
