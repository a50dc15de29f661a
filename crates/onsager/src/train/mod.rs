//! Mini-batch training: the epoch loop and the [`Trainer`]. Where things are:
//!
//! | file | holds |
//! |---|---|
//! | `phase.rs` | the interface of a training method, and the one dispatch on [`Method`](crate::Method) |
//! | `cd.rs`, `pcd.rs`, `emf.rs` | each method: its buffers, chains, negative phase, gradient factors, resume checks |
//! | `state.rs` | [`TrainerState`]: what a checkpoint holds |
//! | `gradient.rs` | the gradient assembled from the positive rows and the negative part |
//! | `update.rs`, `sgd.rs` | the fused parallel update pass and its row kernel |
//!
//! One mini-batch of b rows does, with every buffer allocated once in a [`Trainer`]:
//!
//! 1. positive phase: H = P(h | V) of the batch V, and the data statistics
//!    g_W = (β/b)·VᵀH, g_a = β·mean(V), g_b = β·mean(H)  (docs/maths.md §1);
//! 2. negative phase by the method, subtracting its estimate of ∂ log Z;
//! 3. one fused pass over W: decay, momentum, update.

mod cd;
mod diversity;
mod emf;
mod gradient;
mod pcd;
mod phase;
mod sgd;
mod sigma;
mod state;
mod trainer;
mod update;

use std::ops::ControlFlow;
use std::time::Instant;

use ndarray::{s, Array2, ArrayView2};

use phase::{FixedPointStats, NegativePhase, Positive};
pub(crate) use state::Chains;
pub use state::TrainerState;
pub use trainer::Trainer;

use crate::monitor::{BatchProgress, EpochReport, Monitor};
use crate::rng::{self, Domain};
use crate::{par, EmfOrder, Error, Float, Method, Rbm, Result, TrainParams};

/// What a call to [`Trainer::fit`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct FitReport {
    /// Epochs completed in total (including those of earlier calls).
    pub epochs_completed: usize,
    /// Mini-batches done in this call.
    pub batches: usize,
    /// Whether the monitor stopped training before all epochs were done. A stop between
    /// mini-batches leaves the interrupted epoch uncounted.
    pub stopped: bool,
    /// Wall-clock seconds of this call.
    pub seconds: f64,
}

/// Buffers of the positive phase and the gradient, sized once from (batch, nv, nh); each method
/// keeps its own in its file.
#[derive(Clone, Debug)]
struct Workspace<T: Float> {
    batch: Array2<T>,
    hp: Array2<T>,
    /// The W-gradient sums g₀, g₁, g₂ (g₁, g₂ only for EMF orders 2 and 3; else 0 × 0).
    sums: [Array2<T>; 3],
    /// Real-valued visible units: precisions and the σ step's buffers (`sigma.rs`).
    real: sigma::RealUnits<T>,
}

impl<T: Float> Workspace<T> {
    /// Buffers for batches of `batch` rows and a gradient with the W terms `terms` (the
    /// method's [`NegativePhase::terms`]).
    fn new(params: &TrainParams, rbm: &Rbm<T>, terms: EmfOrder, chain_rows: usize) -> Self {
        let (bs, (nv, nh)) = (params.batch_size, rbm.w.dim());
        let sum = |used: bool| Array2::zeros(if used { (nv, nh) } else { (0, 0) });
        Self {
            batch: Array2::zeros((bs, nv)),
            hp: Array2::zeros((bs, nh)),
            sums: [sum(true), sum(terms.has_second()), sum(terms.has_third())],
            real: sigma::RealUnits::new(rbm, bs.max(chain_rows), params.sigma),
        }
    }
}

/// Which rows of the data a mini-batch takes.
#[derive(Clone, Copy)]
enum Rows<'a> {
    /// These rows, in this order (a shuffled epoch).
    Indexed(&'a [usize]),
    /// All of them, in order (a `partial_fit` chunk).
    All,
}

/// The model and everything needed to continue training it.
/// The EMF solves of one epoch, summed for its report.
#[derive(Clone, Copy, Debug, Default)]
struct FixedPointTally {
    batches: usize,
    sweeps: usize,
    residual: f64,
    distinct: usize,
    persistent: usize,
    reseeded: usize,
}

impl FixedPointTally {
    fn add(&mut self, s: FixedPointStats) {
        self.batches += 1;
        self.sweeps += s.sweeps;
        self.residual += s.residual;
        if let Some(d) = s.distinct {
            self.distinct += d;
            self.persistent += 1;
        }
        self.reseeded += s.reseeded;
    }

    /// `r` with the epoch's fixed-point figures filled in (none without EMF batches).
    fn report(&self, r: EpochReport) -> EpochReport {
        if self.batches == 0 {
            return r;
        }
        let per = |x: f64, n: usize| (n > 0).then(|| x / n as f64);
        EpochReport {
            fixed_point_residual: per(self.residual, self.batches),
            fixed_point_sweeps: per(self.sweeps as f64, self.batches),
            distinct_rows: per(self.distinct as f64, self.persistent),
            reseeded_rows: (self.persistent > 0).then_some(self.reseeded),
            ..r
        }
    }
}

/// The implementation of `params.method` for a model with weights `w` (the one dispatch on the
/// method in training).
fn for_method<T: Float>(params: &TrainParams, w: ArrayView2<'_, T>) -> Box<dyn NegativePhase<T>> {
    let (nv, nh) = w.dim();
    let rows = params.batch_size;
    match params.method {
        Method::Cd { k } => Box::new(cd::Cd::new(k, rows, nv, nh)),
        Method::Pcd { k, chains } => Box::new(pcd::Pcd::new(k, chains, nh)),
        Method::Emf {
            order,
            iterations,
            damping,
            persistence,
            tolerance,
            solver,
            reseed,
            weighting,
        } => Box::new(emf::Emf::new(
            emf::Settings {
                order,
                iterations,
                damping: T::of(damping),
                persistence,
                tolerance,
                solver,
                reseed,
                weighting,
            },
            rows,
            w,
            params.visible.is_real(),
        )),
    }
}

#[derive(Debug)]
struct Core<T: Float> {
    params: TrainParams,
    rbm: Rbm<T>,
    state: TrainerState<T>,
    ws: Workspace<T>,
    /// The method's negative phase (`cd.rs`, `pcd.rs` or `emf.rs`).
    phase: Box<dyn NegativePhase<T>>,
}

impl<T: Float> Core<T> {
    fn new(params: TrainParams, rbm: Rbm<T>, bias_initialised: bool) -> Self {
        let (nv, nh) = rbm.w.dim();
        let phase = for_method(&params, rbm.w.view());
        let state = TrainerState {
            epoch: 0,
            bias_initialised,
            velocity: Array2::zeros((nv, nh)),
            chains: None,
            cd_rngs: phase.streams(params.seed),
            order_rng: rng::stream(params.seed, Domain::Order, 0),
        };
        Self {
            ws: Workspace::new(&params, &rbm, phase.terms(), phase.chain_rows()),
            params,
            rbm,
            state,
            phase,
        }
    }

    /// Sets the visible bias from the data's log-odds, once.
    fn init_bias(&mut self, data: ArrayView2<'_, T>) {
        if !self.state.bias_initialised {
            self.rbm.a = self.rbm.initial_visible_bias(data);
            self.state.bias_initialised = true;
        }
    }

    /// Creates the persistent chains from random rows of `data` if they do not exist yet.
    fn ensure_chains(&mut self, data: ArrayView2<'_, T>) {
        if self.state.chains.is_some() {
            return;
        }
        let mut v = Array2::zeros((self.phase.chain_rows(), self.rbm.n_visible()));
        for mut row in v.rows_mut() {
            let i = rng::index(&mut self.state.order_rng, data.nrows());
            row.assign(&data.row(i));
        }
        self.state.chains = Some(self.phase.start_chains(&self.rbm, v, self.params.seed));
    }

    /// One mini-batch of the given rows of `data`: the positive phase H = P(h | V), the
    /// method's negative phase, then the gradient and the update (`gradient::step`). Returns
    /// the EMF fixed-point residual.
    fn train_batch(
        &mut self,
        data: ArrayView2<'_, T>,
        rows_of: Rows<'_>,
        lr: T,
    ) -> Option<FixedPointStats> {
        let b = match rows_of {
            Rows::Indexed(idx) => idx.len(),
            Rows::All => data.nrows(),
        };
        let rows = s![..b, ..];
        let ws = &mut self.ws;
        match rows_of {
            Rows::Indexed(idx) => par::rows(ws.batch.slice_mut(rows), |r, dst| {
                let src = data.row(idx[r]);
                match src.as_slice() {
                    Some(src) => dst.copy_from_slice(src),
                    None => dst.iter_mut().zip(src).for_each(|(d, &x)| *d = x),
                }
            }),
            Rows::All => ws.batch.slice_mut(rows).assign(&data),
        }
        self.rbm
            .hidden_probs_into(ws.batch.slice(rows), ws.hp.slice_mut(rows));
        let persistent = self.phase.persistent_at(self.state.epoch);
        if persistent {
            self.ensure_chains(data);
        }
        let Self {
            params,
            rbm,
            state,
            ws,
            phase,
        } = self;
        let pos = Positive {
            v: ws.batch.slice(rows),
            h: ws.hp.slice(rows),
        };
        let stats = phase.run(rbm, &pos, state, persistent);
        let neg = phase.negative(rbm, state.chains.as_ref(), b, persistent);
        gradient::step(
            params,
            rbm,
            &mut state.velocity,
            &mut ws.sums,
            &mut ws.real,
            pos,
            neg,
            lr,
        );
        stats
    }

    /// The epoch loop of [`Trainer::fit`], run inside the trainer's pool.
    fn fit(
        &mut self,
        data: ArrayView2<'_, T>,
        monitor: &mut (dyn Monitor<T> + Send),
    ) -> Result<FitReport> {
        let start = Instant::now();
        let nv = self.rbm.n_visible();
        self.rbm.visible.check_data("training data", &data, nv)?;
        self.init_bias(data);
        let n = data.nrows();
        let bs = self.params.batch_size;
        let epochs = self.params.epochs;
        let batches = n.div_ceil(bs);
        let mut order: Vec<usize> = (0..n).collect();
        let mut done = 0;
        let mut stopped = false;
        'epochs: while self.state.epoch < epochs {
            let epoch_start = Instant::now();
            let e = self.state.epoch;
            let lr = self.params.learning_rate_at(e);
            order.iter_mut().enumerate().for_each(|(i, o)| *o = i);
            if self.params.shuffle {
                rng::shuffle(&mut self.state.order_rng, &mut order);
            }
            let mut fp = FixedPointTally::default();
            for (bi, idx) in order.chunks(bs).enumerate() {
                let progress = BatchProgress {
                    epoch: e + 1,
                    epochs,
                    batch: bi,
                    batches,
                    samples: bi * bs,
                };
                if monitor.on_batch(&progress) == ControlFlow::Break(()) {
                    stopped = true;
                    break 'epochs;
                }
                if let Some(stats) = self.train_batch(data, Rows::Indexed(idx), T::of(lr)) {
                    fp.add(stats);
                }
                done += 1;
                // A learned σ that overflows would feed infinite widths to the next batch's
                // draws: stopped here (nv values), the rest at the epoch's end.
                if !self.rbm.sigma.iter().all(|s| s.is_finite()) {
                    return Err(Error::Diverged {
                        epoch: e + 1,
                        what: "visible sigma",
                    });
                }
            }
            let seconds = epoch_start.elapsed().as_secs_f64();
            self.state.epoch += 1;
            self.check_finite()?;
            let distance = match fp.batches {
                0 => None,
                _ => self.phase.fixed_point_distance(&self.rbm, &self.state),
            };
            let report = fp.report(EpochReport {
                epoch: e + 1,
                epochs,
                learning_rate: lr,
                batches,
                samples: n,
                seconds,
                fixed_point_distance: distance,
                ..EpochReport::default()
            });
            if monitor.on_epoch(&report, &self.rbm) == ControlFlow::Break(()) {
                stopped = self.state.epoch < epochs;
                break;
            }
        }
        Ok(FitReport {
            epochs_completed: self.state.epoch,
            batches: done,
            stopped,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    fn check_finite(&self) -> Result<()> {
        let epoch = self.state.epoch;
        let bad = |what| Err(Error::Diverged { epoch, what });
        if !self.rbm.w.iter().all(|x| x.is_finite()) {
            return bad("weights");
        }
        if !self.rbm.a.iter().all(|x| x.is_finite()) {
            return bad("visible bias");
        }
        if !self.rbm.b.iter().all(|x| x.is_finite()) {
            return bad("hidden bias");
        }
        if !self.rbm.sigma.iter().all(|x| x.is_finite()) {
            return bad("visible sigma");
        }
        Ok(())
    }
}
