//! Supervised training of an [`Mlp`]: mini-batch SGD with momentum, a per-epoch exponential
//! learning-rate decay, optional gradient-norm clipping, distortions of the training images
//! redrawn every epoch, best-epoch keeping on validation rows and a divergence guard
//! (docs/maths.md §10).

use std::ops::ControlFlow;
use std::time::Instant;

use ndarray::{s, Array2, ArrayView2, Axis};
use onsager::rng::{self, Domain};
use onsager::Float;
use serde::{Deserialize, Serialize};

use crate::{Distorter, Error, Layer, Mlp, Result, Workspace};

/// The settings of [`fit`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sgd {
    /// Passes over the training rows.
    pub epochs: usize,
    /// Rows per mini-batch.
    pub batch_size: usize,
    /// The first epoch's learning rate η₀.
    pub learning_rate: f64,
    /// Epoch e uses η₀·decayᵉ, never below `min_learning_rate` (1: constant).
    pub decay: f64,
    /// The floor of the decayed rate (Ciresan et al.: 10⁻⁶ from 10⁻³).
    pub min_learning_rate: f64,
    /// Momentum μ: v ← μv − η·g, θ ← θ + v.
    pub momentum: f64,
    /// Scale the mini-batch gradient down to this Euclidean norm when it is longer.
    pub clip: Option<f64>,
    /// Seed of the shuffling (stream (seed, `Order`, epoch)) and the distortions.
    pub seed: u64,
}

impl Default for Sgd {
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: 100,
            learning_rate: 0.1,
            decay: 1.0,
            min_learning_rate: 0.0,
            momentum: 0.9,
            clip: None,
            seed: 0,
        }
    }
}

impl Sgd {
    /// The learning rate of epoch `e` (0-based).
    pub fn rate(&self, e: usize) -> f64 {
        (self.learning_rate * self.decay.powi(e as i32)).max(self.min_learning_rate)
    }

    fn check(&self) -> Result<()> {
        let bad = |name, value: String, reason| {
            Err(Error::InvalidParam {
                name,
                value,
                reason,
            })
        };
        if self.batch_size == 0 {
            return bad("batch_size", "0".into(), "must be at least 1");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(
                "learning_rate",
                self.learning_rate.to_string(),
                "must be finite and positive",
            );
        }
        if !(self.decay.is_finite() && self.decay > 0.0 && self.decay <= 1.0) {
            return bad("decay", self.decay.to_string(), "must lie in (0, 1]");
        }
        if !(self.min_learning_rate.is_finite() && self.min_learning_rate >= 0.0) {
            return bad(
                "min_learning_rate",
                self.min_learning_rate.to_string(),
                "must be finite and at least 0",
            );
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return bad("momentum", self.momentum.to_string(), "must lie in [0, 1)");
        }
        if let Some(c) = self.clip {
            if !(c.is_finite() && c > 0.0) {
                return bad("clip", c.to_string(), "must be finite and positive");
            }
        }
        Ok(())
    }
}

/// One epoch's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// The epoch, 1-based.
    pub epoch: usize,
    /// Its learning rate.
    pub learning_rate: f64,
    /// The mean cross-entropy over its mini-batches (of the distorted rows when distorting).
    pub train_loss: f64,
    /// The error rate on the validation rows after the epoch, if there are any.
    pub validation_error: Option<f64>,
    /// Wall-clock seconds of the epoch (distortions included, evaluation not).
    pub seconds: f64,
}

/// What [`fit`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct Fitted {
    /// Every epoch run.
    pub history: Vec<EpochRecord>,
    /// The epoch (1-based) whose model the network holds now: the lowest validation error, or
    /// the last epoch without validation rows.
    pub best_epoch: usize,
    /// Whether the monitor stopped the run early.
    pub stopped: bool,
}

/// Labelled rows.
#[derive(Clone, Copy, Debug)]
pub struct Labelled<'a, T> {
    /// One row per example.
    pub x: ArrayView2<'a, T>,
    /// One class per row.
    pub y: &'a [usize],
}

/// The fraction of `data`'s rows whose most probable class is not their label.
///
/// # Errors
/// As [`Mlp::loss`].
pub fn error_rate<T: Float>(mlp: &Mlp<T>, data: Labelled<'_, T>) -> Result<f64> {
    let chunk = 1000;
    let mut wrong = 0usize;
    for start in (0..data.x.nrows()).step_by(chunk) {
        let end = (start + chunk).min(data.x.nrows());
        let p = mlp.predict_proba(data.x.slice(s![start..end, ..]))?;
        for (row, &y) in p.axis_iter(Axis(0)).zip(&data.y[start..end]) {
            let best = row
                .iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |b, (c, v)| {
                    if v.f64() > b.1 {
                        (c, v.f64())
                    } else {
                        b
                    }
                })
                .0;
            wrong += (best != y) as usize;
        }
    }
    Ok(wrong as f64 / data.x.nrows().max(1) as f64)
}

/// Trains `mlp` on `train` by [`Sgd`], distorting the training images anew every epoch when
/// `distorter` is given (image i of epoch e from its stream, docs/maths.md §9). After every
/// epoch `monitor` sees the record and the network as it stands, and may stop the run. With `validation` rows, the network
/// ends holding the epoch of lowest validation error.
///
/// # Errors
/// [`Error::InvalidParam`] for bad settings; [`Error::Shape`] and [`Error::Label`] for bad
/// rows or labels; [`Error::Diverged`] when a mini-batch's loss or gradient is not finite
/// (the network then holds the last epoch that finished finite, or its best).
pub fn fit<T: Float>(
    mlp: &mut Mlp<T>,
    train: Labelled<'_, T>,
    validation: Option<Labelled<'_, T>>,
    distorter: Option<&Distorter>,
    sgd: &Sgd,
    monitor: &mut dyn FnMut(&EpochRecord, &Mlp<T>) -> ControlFlow<()>,
) -> Result<Fitted> {
    sgd.check()?;
    let n = train.x.nrows();
    if n == 0 {
        return Err(Error::InvalidParam {
            name: "training rows",
            value: "0".into(),
            reason: "need at least one labelled row",
        });
    }
    // The widths and labels are checked once here (each batch would find the same).
    if train.x.ncols() != mlp.n_inputs() {
        return Err(Error::Shape {
            what: "inputs",
            expected: format!("{} columns", mlp.n_inputs()),
            got: format!("{} columns", train.x.ncols()),
        });
    }
    if train.y.len() != n {
        return Err(Error::Shape {
            what: "labels",
            expected: format!("{n} (one per row)"),
            got: train.y.len().to_string(),
        });
    }
    if let Some((row, &label)) = train
        .y
        .iter()
        .enumerate()
        .find(|(_, &c)| c >= mlp.n_classes())
    {
        return Err(Error::Label {
            row,
            label,
            classes: mlp.n_classes(),
        });
    }
    let bs = sgd.batch_size.min(n);
    let d = train.x.ncols();
    let mut ws = Workspace::new(mlp, bs);
    let mut grad = mlp.zeros_like();
    let mut velocity = mlp.zeros_like();
    let mut xb = Array2::<T>::zeros((bs, d));
    let mut yb = vec![0usize; bs];
    let mut distorted = distorter.map(|_| Array2::<T>::zeros((n, d)));
    let mut order: Vec<usize> = (0..n).collect();
    let mut history = Vec::new();
    let mut best: Option<(f64, usize, Vec<Layer<T>>)> = None;
    let mut last_good = mlp.layers().to_vec();
    let mut stopped = false;
    for e in 0..sgd.epochs {
        let started = Instant::now();
        let lr = sgd.rate(e);
        let source = match (distorter, distorted.as_mut()) {
            (Some(dist), Some(buf)) => {
                dist.batch_into(train.x, sgd.seed, e as u64, 0, buf.view_mut())?;
                buf.view()
            }
            _ => train.x,
        };
        order.iter_mut().enumerate().for_each(|(i, o)| *o = i);
        let mut r = rng::stream(sgd.seed, Domain::Order, e as u64);
        rng::shuffle(&mut r, &mut order);
        let mut loss_sum = 0.0;
        let mut batches = 0usize;
        for idx in order.chunks(bs) {
            let m = idx.len();
            for (k, &i) in idx.iter().enumerate() {
                xb.row_mut(k).assign(&source.row(i));
                yb[k] = train.y[i];
            }
            let loss = mlp.backprop(xb.slice(s![..m, ..]), &yb[..m], &mut ws, &mut grad)?;
            // The norm only for a clip (a pass over every parameter). Without one, a gradient
            // that is not finite makes the next mini-batch's loss NaN, and the epoch's end
            // checks the parameters for the last one.
            let norm = match sgd.clip {
                Some(_) => grad
                    .iter()
                    .map(|g| {
                        g.weights.iter().map(|v| v.f64() * v.f64()).sum::<f64>()
                            + g.bias.iter().map(|v| v.f64() * v.f64()).sum::<f64>()
                    })
                    .sum::<f64>()
                    .sqrt(),
                None => 0.0,
            };
            if !(loss.is_finite() && norm.is_finite()) {
                restore(mlp, &last_good, &best);
                return Err(Error::Diverged {
                    epoch: e + 1,
                    batch: batches,
                    loss,
                });
            }
            let scale = match sgd.clip {
                Some(c) if norm > c => c / norm,
                _ => 1.0,
            };
            let (mu, step) = (T::of(sgd.momentum), T::of(lr * scale));
            for ((layer, g), v) in mlp.layers_mut().iter_mut().zip(&grad).zip(&mut velocity) {
                ndarray::Zip::from(&mut layer.weights)
                    .and(&mut v.weights)
                    .and(&g.weights)
                    .for_each(|w, v, &g| {
                        *v = mu * *v - step * g;
                        *w += *v;
                    });
                ndarray::Zip::from(&mut layer.bias)
                    .and(&mut v.bias)
                    .and(&g.bias)
                    .for_each(|b, v, &g| {
                        *v = mu * *v - step * g;
                        *b += *v;
                    });
            }
            loss_sum += loss;
            batches += 1;
        }
        let seconds = started.elapsed().as_secs_f64();
        let finite = mlp
            .layers()
            .iter()
            .all(|l| l.weights.iter().chain(&l.bias).all(|v| v.is_finite()));
        if !finite {
            restore(mlp, &last_good, &best);
            return Err(Error::Diverged {
                epoch: e + 1,
                batch: batches.saturating_sub(1),
                loss: f64::NAN,
            });
        }
        last_good.clone_from_slice(mlp.layers());
        let validation_error = validation.map(|v| error_rate(mlp, v)).transpose()?;
        if let Some(err) = validation_error {
            if best.as_ref().is_none_or(|b| err < b.0) {
                best = Some((err, e + 1, mlp.layers().to_vec()));
            }
        }
        let record = EpochRecord {
            epoch: e + 1,
            learning_rate: lr,
            train_loss: loss_sum / batches.max(1) as f64,
            validation_error,
            seconds,
        };
        let flow = monitor(&record, mlp);
        history.push(record);
        if flow.is_break() {
            stopped = true;
            break;
        }
    }
    let best_epoch = match best {
        Some((_, epoch, layers)) => {
            mlp.layers_mut().clone_from_slice(&layers);
            epoch
        }
        None => history.len(),
    };
    Ok(Fitted {
        history,
        best_epoch,
        stopped,
    })
}

/// Puts back the best validated epoch's layers, or else the last finished epoch's.
fn restore<T: Float>(
    mlp: &mut Mlp<T>,
    last_good: &[Layer<T>],
    best: &Option<(f64, usize, Vec<Layer<T>>)>,
) {
    match best {
        Some((_, _, layers)) => mlp.layers_mut().clone_from_slice(layers),
        None => mlp.layers_mut().clone_from_slice(last_good),
    }
}
