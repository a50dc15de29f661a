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
    /// The divergence guard's ceiling on a mini-batch's mean cross-entropy, in units of ln K
    /// (K classes; ln K is the loss of the uniform guess): a loss above `loss_limit · ln K`
    /// counts as divergence. The default 50 means the right class gets under K⁻⁵⁰ of the
    /// probability in that mini-batch, which no healthy run reaches (a logistic net from a
    /// random start at rate 0.5 spiked to 11·ln K in its second mini-batch and recovered; a
    /// net saturated at chance goes past it: docs/maths.md §10). `None` leaves only the check
    /// for a loss that is not finite. Files written before the ceiling existed continue with
    /// the default.
    #[serde(default = "default_loss_limit")]
    pub loss_limit: Option<f64>,
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
            loss_limit: default_loss_limit(),
        }
    }
}

fn default_loss_limit() -> Option<f64> {
    Some(50.0)
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
        if let Some(l) = self.loss_limit {
            if !(l.is_finite() && l > 0.0) {
                return bad("loss_limit", l.to_string(), "must be finite and positive");
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

/// The epoch of lowest validation error so far, and its network's layers.
#[derive(Clone, Debug, PartialEq)]
pub struct Best<T: Float = f32> {
    /// The epoch, 1-based.
    pub epoch: usize,
    /// Its validation error rate.
    pub validation_error: f64,
    /// The network after it.
    pub layers: Vec<Layer<T>>,
}

/// Where a run of [`fit_from`] stands after its last finished epoch, besides the network's
/// current parameters: what a checkpoint must hold so that training continues exactly as if it
/// had not stopped (epoch e's order and distortions come from streams of (seed, e), its rate
/// from [`Sgd::rate`], so nothing else carries over).
#[derive(Clone, Debug, PartialEq)]
pub struct FitState<T: Float = f32> {
    /// The finished epochs' records; their count is the next epoch's 0-based index.
    pub history: Vec<EpochRecord>,
    /// The momentum velocity v of every layer.
    pub velocity: Vec<Layer<T>>,
    /// The best validated epoch, once there is one.
    pub best: Option<Best<T>>,
}

impl<T: Float> FitState<T> {
    /// The state before the first epoch of training `mlp`: no history, zero velocity.
    pub fn new(mlp: &Mlp<T>) -> Self {
        Self {
            history: Vec::new(),
            velocity: mlp.zeros_like(),
            best: None,
        }
    }

    /// The epochs finished.
    pub fn epochs_done(&self) -> usize {
        self.history.len()
    }

    /// The epoch (1-based) of the network to keep: the best validated one, else the last.
    pub fn kept_epoch(&self) -> usize {
        self.best.as_ref().map_or(self.history.len(), |b| b.epoch)
    }

    /// The network to keep from a run whose current network is `current`: the best validated
    /// epoch's layers, or `current` itself without validation rows.
    pub fn kept(&self, current: &Mlp<T>) -> Mlp<T> {
        let mut kept = current.clone();
        if let Some(b) = &self.best {
            kept.layers_mut().clone_from_slice(&b.layers);
        }
        kept
    }

    /// Checks that the state belongs to a network shaped as `mlp`.
    fn check(&self, mlp: &Mlp<T>) -> Result<()> {
        let shapes = |layers: &[Layer<T>]| -> Vec<(usize, usize)> {
            layers.iter().map(|l| l.weights.dim()).collect()
        };
        let want = shapes(mlp.layers());
        let best = self.best.as_ref().map(|b| &b.layers[..]);
        for (what, layers) in [
            ("velocity", Some(&self.velocity[..])),
            ("best layers", best),
        ] {
            let Some(layers) = layers else { continue };
            let biases_match = layers
                .iter()
                .zip(mlp.layers())
                .all(|(a, b)| a.bias.len() == b.bias.len());
            if shapes(layers) != want || !biases_match {
                return Err(Error::Shape {
                    what,
                    expected: format!("layers {want:?}"),
                    got: format!("layers {:?}", shapes(layers)),
                });
            }
        }
        Ok(())
    }
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
/// epoch `monitor` sees the record and the network as it stands, and may stop the run. With
/// `validation` rows, the network ends holding the epoch of lowest validation error. A run
/// that must be able to stop and continue calls [`fit_from`] instead.
///
/// # Errors
/// [`Error::InvalidParam`] for bad settings; [`Error::Shape`] and [`Error::Label`] for bad
/// rows or labels; [`Error::Diverged`] when a mini-batch's loss or gradient is not finite, or
/// its loss exceeds [`Sgd::loss_limit`] · ln K (the network then holds the last epoch that
/// finished within bounds, or its best).
pub fn fit<T: Float>(
    mlp: &mut Mlp<T>,
    train: Labelled<'_, T>,
    validation: Option<Labelled<'_, T>>,
    distorter: Option<&Distorter>,
    sgd: &Sgd,
    monitor: &mut dyn FnMut(&EpochRecord, &Mlp<T>) -> ControlFlow<()>,
) -> Result<Fitted> {
    let mut state = FitState::new(mlp);
    let run = fit_from(
        mlp,
        train,
        validation,
        distorter,
        sgd,
        &mut state,
        &mut |m, s| monitor(s.history.last().expect("after an epoch"), m),
    );
    if let Some(b) = &state.best {
        mlp.layers_mut().clone_from_slice(&b.layers);
    }
    let stopped = run?;
    Ok(Fitted {
        best_epoch: state.kept_epoch(),
        history: state.history,
        stopped,
    })
}

/// What [`fit_from`] calls after every epoch with the network and the state: `Break` stops.
pub type FitMonitor<'a, T> = dyn FnMut(&Mlp<T>, &FitState<T>) -> ControlFlow<()> + 'a;

/// Runs the epochs `state.epochs_done()..sgd.epochs` of [`fit`] on `mlp` (the network as the
/// last finished epoch left it) and `state`, which it advances; after every epoch `monitor`
/// sees the network and the state (a checkpoint of both continues the run bit for bit), and may
/// stop the run. `mlp` ends holding the *last* epoch's network; [`FitState::kept`] gives the
/// one to keep. Returns whether the monitor stopped the run.
///
/// # Errors
/// As [`fit`], and [`Error::Shape`] for a state of another network. After
/// [`Error::Diverged`], `mlp` and `state` stand as the last finished epoch left them.
pub fn fit_from<T: Float>(
    mlp: &mut Mlp<T>,
    train: Labelled<'_, T>,
    validation: Option<Labelled<'_, T>>,
    distorter: Option<&Distorter>,
    sgd: &Sgd,
    state: &mut FitState<T>,
    monitor: &mut FitMonitor<'_, T>,
) -> Result<bool> {
    sgd.check()?;
    state.check(mlp)?;
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
    let mut pass = Pass {
        ws: Workspace::new(mlp, bs),
        grad: mlp.zeros_like(),
        xb: Array2::<T>::zeros((bs, d)),
        yb: vec![0usize; bs],
        order: (0..n).collect(),
    };
    // The images of every epoch are drawn at its start, rows in parallel. (Drawing the next
    // epoch's beside the training, as a job on the same pool, was measured no faster on two
    // cores, which the training already keeps busy: docs/performance.md.)
    let mut images = distorter.map(|_| Array2::<T>::zeros((n, d)));
    // The last finished epoch's network and velocity, put back after a divergence.
    let mut last_good = mlp.layers().to_vec();
    let mut last_velocity = state.velocity.clone();
    for e in state.epochs_done()..sgd.epochs {
        let started = Instant::now();
        let lr = sgd.rate(e);
        let source = match (distorter, images.as_mut()) {
            (Some(dist), Some(buf)) => {
                dist.batch_into(train.x, sgd.seed, e as u64, 0, buf.view_mut())?;
                buf.view()
            }
            _ => train.x,
        };
        let sweep = pass.run(mlp, &mut state.velocity, source, train.y, sgd, e, lr)?;
        let diverged = |mlp: &mut Mlp<T>, state: &mut FitState<T>, batch, loss| {
            mlp.layers_mut().clone_from_slice(&last_good);
            state.velocity.clone_from_slice(&last_velocity);
            Error::Diverged {
                epoch: e + 1,
                batch,
                loss,
            }
        };
        if let Some(loss) = sweep.diverged {
            return Err(diverged(mlp, state, sweep.batches, loss));
        }
        let seconds = started.elapsed().as_secs_f64();
        let finite = mlp
            .layers()
            .iter()
            .all(|l| l.weights.iter().chain(&l.bias).all(|v| v.is_finite()));
        if !finite {
            let last = sweep.batches.saturating_sub(1);
            return Err(diverged(mlp, state, last, f64::NAN));
        }
        last_good.clone_from_slice(mlp.layers());
        last_velocity.clone_from_slice(&state.velocity);
        let validation_error = validation.map(|v| error_rate(mlp, v)).transpose()?;
        if let Some(err) = validation_error {
            if state.best.as_ref().is_none_or(|b| err < b.validation_error) {
                state.best = Some(Best {
                    epoch: e + 1,
                    validation_error: err,
                    layers: mlp.layers().to_vec(),
                });
            }
        }
        state.history.push(EpochRecord {
            epoch: e + 1,
            learning_rate: lr,
            train_loss: sweep.loss_sum / sweep.batches.max(1) as f64,
            validation_error,
            seconds,
        });
        if monitor(mlp, state).is_break() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The buffers of one pass over the training rows in mini-batches, made once per run.
struct Pass<T: Float> {
    ws: Workspace<T>,
    grad: Vec<Layer<T>>,
    xb: Array2<T>,
    yb: Vec<usize>,
    order: Vec<usize>,
}

/// What a pass did: the summed mini-batch losses and the mini-batches finished, and the
/// loss of the one that was not finite, if any (the pass stops there).
struct Sweep {
    loss_sum: f64,
    batches: usize,
    diverged: Option<f64>,
}

impl<T: Float> Pass<T> {
    /// Epoch `e` at rate `lr`: the rows of `x` in the order of stream (seed, `Order`, e), one
    /// momentum step per mini-batch on `mlp` and `velocity`.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &mut self,
        mlp: &mut Mlp<T>,
        velocity: &mut [Layer<T>],
        x: ArrayView2<'_, T>,
        y: &[usize],
        sgd: &Sgd,
        e: usize,
        lr: f64,
    ) -> Result<Sweep> {
        let bs = self.xb.nrows();
        let limit = sgd
            .loss_limit
            .map_or(f64::INFINITY, |l| l * (mlp.n_classes().max(2) as f64).ln());
        self.order.iter_mut().enumerate().for_each(|(i, o)| *o = i);
        let mut r = rng::stream(sgd.seed, Domain::Order, e as u64);
        rng::shuffle(&mut r, &mut self.order);
        let mut sweep = Sweep {
            loss_sum: 0.0,
            batches: 0,
            diverged: None,
        };
        for idx in self.order.chunks(bs) {
            let m = idx.len();
            for (k, &i) in idx.iter().enumerate() {
                self.xb.row_mut(k).assign(&x.row(i));
                self.yb[k] = y[i];
            }
            let loss = mlp.backprop(
                self.xb.slice(s![..m, ..]),
                &self.yb[..m],
                &mut self.ws,
                &mut self.grad,
            )?;
            // The norm only for a clip (a pass over every parameter). Without one, a gradient
            // that is not finite makes the next mini-batch's loss NaN, and the epoch's end
            // checks the parameters for the last one.
            let norm = match sgd.clip {
                Some(_) => self
                    .grad
                    .iter()
                    .map(|g| {
                        g.weights.iter().map(|v| v.f64() * v.f64()).sum::<f64>()
                            + g.bias.iter().map(|v| v.f64() * v.f64()).sum::<f64>()
                    })
                    .sum::<f64>()
                    .sqrt(),
                None => 0.0,
            };
            if !(loss.is_finite() && norm.is_finite() && loss <= limit) {
                sweep.diverged = Some(loss);
                return Ok(sweep);
            }
            let scale = match sgd.clip {
                Some(c) if norm > c => c / norm,
                _ => 1.0,
            };
            let (mu, step) = (T::of(sgd.momentum), T::of(lr * scale));
            for ((layer, g), v) in mlp
                .layers_mut()
                .iter_mut()
                .zip(&self.grad)
                .zip(velocity.iter_mut())
            {
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
            sweep.loss_sum += loss;
            sweep.batches += 1;
        }
        Ok(sweep)
    }
}
