//! Mini-batch training: the loop, its state and its workspace. Each method's negative phase
//! lives in its own file (`cd`, `pcd`, `emf`).
//!
//! One mini-batch of b rows does, with every buffer allocated once in a [`Trainer`]:
//!
//! 1. positive phase: H = P(h | V) of the batch V, and the data statistics
//!    g_W = (β/b)·VᵀH, g_a = β·mean(V), g_b = β·mean(H)  (emf-math §1);
//! 2. negative phase by the method, subtracting its estimate of ∂ log Z;
//! 3. one fused pass over W: decay, momentum, update.

mod cd;
mod emf;
mod pcd;
mod update;

use std::ops::ControlFlow;
use std::time::Instant;

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2};

use crate::kernels;
use crate::meanfield::{self, Powers, Scratch};
use crate::monitor::{BatchProgress, EpochReport, Monitor};
use crate::rng::{self, Domain, StreamRng};
use crate::{
    check, linalg, par, Decay, EmfOrder, Error, Float, Method, Persistence, Rbm, Result,
    TrainParams,
};

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

/// Persistent negative-phase state.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Chains<T: Float> {
    /// PCD: binary visible states of the chains and one random stream per chain.
    Gibbs { v: Array2<T>, rngs: Vec<StreamRng> },
    /// Persistent EMF: one magnetisation row per batch slot.
    Magnetisations { m_v: Array2<T>, m_h: Array2<T> },
}

/// Everything that evolves during training besides the model's parameters: what a checkpoint
/// must hold so that training resumes exactly as if it had not stopped. Obtain it from
/// [`Trainer::state`], restore it with [`Trainer::resume`]; `onsager::io::model` stores it.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainerState<T: Float> {
    /// Epochs completed.
    pub(crate) epoch: usize,
    /// Whether the visible bias has been set from data.
    pub(crate) bias_initialised: bool,
    /// Momentum buffer of W.
    pub(crate) velocity: Array2<T>,
    /// Persistent chains, once created.
    pub(crate) chains: Option<Chains<T>>,
    /// CD: one random stream per batch slot.
    pub(crate) cd_rngs: Vec<StreamRng>,
    /// Shuffling and chain starts.
    pub(crate) order_rng: StreamRng,
}

impl<T: Float> TrainerState<T> {
    /// Epochs completed.
    pub fn epochs_completed(&self) -> usize {
        self.epoch
    }

    /// PCD: the visible states of the persistent chains (chains × nv), once they exist.
    pub fn pcd_chains(&self) -> Option<ArrayView2<'_, T>> {
        match &self.chains {
            Some(Chains::Gibbs { v, .. }) => Some(v.view()),
            _ => None,
        }
    }
}

/// Buffers sized once from (batch, chains, nv, nh).
#[derive(Clone, Debug)]
struct Workspace<T: Float> {
    batch: Array2<T>,
    hp: Array2<T>,
    neg_v: Array2<T>,
    neg_h: Array2<T>,
    /// g[0]: the W-gradient being built; g[1], g[2]: EMF order-2 and order-3 sums.
    g: [Array2<T>; 3],
    /// EMF: cached W², W³ and fixed-point scratch.
    powers: Option<Powers<T>>,
    scratch: Option<Scratch<T>>,
}

impl<T: Float> Workspace<T> {
    fn new(params: &TrainParams, nv: usize, nh: usize, w: ArrayView2<'_, T>) -> Self {
        let bs = params.batch_size;
        let z = |r: usize, c: usize| Array2::zeros((r, c));
        let (neg_v_rows, neg_h_rows) = match params.method {
            Method::Cd { .. } => (bs, bs),
            Method::Pcd { chains, .. } => (0, chains),
            Method::Emf { .. } => (bs, bs),
        };
        let (powers, scratch, g1, g2) = match params.method {
            Method::Emf { order, .. } => (
                Some(Powers::new(w, order)),
                Some(Scratch::new(bs, nv, nh)),
                order != EmfOrder::First,
                order == EmfOrder::Third,
            ),
            _ => (None, None, false, false),
        };
        let g = |used: bool| if used { z(nv, nh) } else { z(0, 0) };
        Self {
            batch: z(bs, nv),
            hp: z(bs, nh),
            neg_v: z(neg_v_rows, nv),
            neg_h: z(neg_h_rows, nh),
            g: [z(nv, nh), g(g1), g(g2)],
            powers,
            scratch,
        }
    }
}

/// An empty stand-in for a buffer a method does not use.
fn unused<'a, T>() -> ArrayViewMut2<'a, T> {
    ArrayViewMut2::from_shape((0, 0), &mut []).expect("the empty shape fits the empty slice")
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
#[derive(Debug)]
struct Core<T: Float> {
    params: TrainParams,
    rbm: Rbm<T>,
    state: TrainerState<T>,
    ws: Workspace<T>,
}

impl<T: Float> Core<T> {
    fn new(params: TrainParams, rbm: Rbm<T>, bias_initialised: bool) -> Self {
        let (nv, nh) = rbm.w.dim();
        let ws = Workspace::new(&params, nv, nh, rbm.w.view());
        let state = TrainerState {
            epoch: 0,
            bias_initialised,
            velocity: Array2::zeros((nv, nh)),
            chains: None,
            cd_rngs: match params.method {
                Method::Cd { .. } => rng::streams(params.seed, Domain::CdChain, params.batch_size),
                _ => Vec::new(),
            },
            order_rng: rng::stream(params.seed, Domain::Order, 0),
        };
        Self {
            params,
            rbm,
            state,
            ws,
        }
    }

    /// Sets the visible bias from the data's log-odds, once.
    fn init_bias(&mut self, data: ArrayView2<'_, T>) {
        if !self.state.bias_initialised {
            self.rbm.a = Rbm::log_odds_bias(data, 1e-3, self.rbm.beta);
            self.state.bias_initialised = true;
        }
    }

    /// Whether epoch `epoch` (0-based) uses persistent chains.
    fn persistent_now(&self, epoch: usize) -> bool {
        match self.params.method {
            Method::Cd { .. } => false,
            Method::Pcd { .. } => true,
            Method::Emf { persistence, .. } => match persistence {
                Persistence::DataInit => false,
                Persistence::Persistent => true,
                Persistence::PersistentFrom { epoch: from } => epoch + 1 >= from,
            },
        }
    }

    /// Creates the persistent chains from random rows of `data` if they do not exist yet.
    fn ensure_chains(&mut self, data: ArrayView2<'_, T>) {
        if self.state.chains.is_some() {
            return;
        }
        let (nv, nh) = self.rbm.w.dim();
        let rows = match self.params.method {
            Method::Pcd { chains, .. } => chains,
            _ => self.params.batch_size,
        };
        let mut v = Array2::zeros((rows, nv));
        for mut row in v.rows_mut() {
            let i = rng::index(&mut self.state.order_rng, data.nrows());
            row.assign(&data.row(i));
        }
        self.state.chains = Some(match self.params.method {
            Method::Pcd { .. } => Chains::Gibbs {
                v,
                rngs: rng::streams(self.params.seed, Domain::PcdChain, rows),
            },
            _ => {
                let mut m_h = Array2::zeros((rows, nh));
                self.rbm.hidden_probs_into(v.view(), m_h.view_mut());
                Chains::Magnetisations { m_v: v, m_h }
            }
        });
    }

    /// One mini-batch of the given rows of `data`. Returns the EMF fixed-point residual.
    fn train_batch(&mut self, data: ArrayView2<'_, T>, rows_of: Rows<'_>, lr: T) -> Option<f64> {
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
        // Positive phase: H = P(h | V).
        self.rbm
            .hidden_probs_into(ws.batch.slice(rows), ws.hp.slice_mut(rows));
        // Negative phase: leaves its rows where `apply_update` looks for them.
        let persistent = self.persistent_now(self.state.epoch);
        if persistent {
            self.ensure_chains(data);
        }
        let residual = match self.params.method {
            Method::Cd { k } => {
                cd::negative_phase(&self.rbm, k, &mut self.ws, &mut self.state.cd_rngs, b);
                None
            }
            Method::Pcd { k, .. } => {
                let Some(Chains::Gibbs { v, rngs }) = &mut self.state.chains else {
                    unreachable!("PCD chains are Gibbs chains")
                };
                pcd::negative_phase(&self.rbm, k, &mut self.ws, v, rngs);
                None
            }
            Method::Emf {
                order,
                iterations,
                damping,
                ..
            } => {
                let chains = match &mut self.state.chains {
                    Some(Chains::Magnetisations { m_v, m_h }) if persistent => Some((m_v, m_h)),
                    _ => None,
                };
                let step = emf::Step {
                    order,
                    iterations,
                    damping: T::of(damping),
                };
                Some(emf::negative_phase(
                    &self.rbm,
                    &step,
                    &mut self.ws,
                    chains,
                    b,
                ))
            }
        };
        self.apply_update(b, persistent, lr);
        residual
    }

    /// The gradient (emf-math §1, §4) and the update, from the positive rows of the batch and
    /// the negative rows the method left, in one pass ([`update::apply`]): W's gradient terms
    /// and the fused step g = g₀ + W⊙g₁ + W²⊙g₂ − decay; v ← μv + lr·g; W ← W + v; the biases
    /// by plain SGD on their column sums.
    fn apply_update(&mut self, b: usize, persistent: bool, lr: T) {
        let Self {
            params,
            rbm,
            state,
            ws,
        } = self;
        let beta = rbm.beta;
        let rows = s![..b, ..];
        let (batch, hp) = (ws.batch.slice(rows), ws.hp.slice(rows));
        let (neg_v, neg_h) = match &state.chains {
            Some(Chains::Gibbs { v, .. }) => (v.view(), ws.neg_h.view()),
            Some(Chains::Magnetisations { m_v, m_h }) if persistent => (m_v.view(), m_h.view()),
            _ => (ws.neg_v.slice(rows), ws.neg_h.slice(rows)),
        };
        let pos = beta / T::of(b as f64);
        let neg = -T::one() / T::of(neg_v.nrows() as f64);
        let factors = match params.method {
            Method::Emf { order, .. } => {
                let scratch = ws.scratch.as_mut().expect("EMF workspace has scratch");
                meanfield::gradient_factors(rbm, order, neg_v, neg_h, scratch, neg)
            }
            _ => [
                Some(linalg::Outer {
                    left: neg_v,
                    right: neg_h,
                    scale: neg * beta,
                }),
                None,
                None,
            ],
        };
        let (decay_l1, decay_l2) = match params.decay {
            Decay::None => (T::zero(), T::zero()),
            Decay::L1 { lambda } => (T::of(lambda), T::zero()),
            Decay::L2 { lambda } => (T::zero(), T::of(lambda)),
        };
        let step = kernels::Step {
            lr,
            momentum: T::of(params.momentum),
            l1: decay_l1,
            l2: decay_l2,
        };
        let [g0, g1, g2] = &mut ws.g;
        let powers = match &mut ws.powers {
            Some(p) => [p.w2.view_mut(), p.w3.view_mut()],
            None => [unused(), unused()],
        };
        let targets = update::Targets {
            w: rbm.w.view_mut(),
            a: rbm.a.view_mut(),
            b: rbm.b.view_mut(),
            velocity: state.velocity.view_mut(),
            g: [g0.view_mut(), g1.view_mut(), g2.view_mut()],
            powers,
        };
        let [f0, f1, f2] = factors;
        let positive = linalg::Outer {
            left: batch,
            right: hp,
            scale: pos,
        };
        let gradient = update::Gradient {
            w: [[Some(positive), f0], [f1, None], [f2, None]],
            visible: [(batch, pos), (neg_v, neg * beta)],
            hidden: [(hp, pos), (neg_h, neg * beta)],
        };
        update::apply(targets, &gradient, step);
    }

    /// The epoch loop of [`Trainer::fit`], run inside the trainer's pool.
    fn fit(
        &mut self,
        data: ArrayView2<'_, T>,
        monitor: &mut (dyn Monitor<T> + Send),
    ) -> Result<FitReport> {
        let start = Instant::now();
        let nv = self.rbm.n_visible();
        check::unit_data("training data", &data, nv)?;
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
            let (mut residual_sum, mut residuals) = (0.0, 0usize);
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
                let r = self.train_batch(data, Rows::Indexed(idx), T::of(lr));
                if let Some(r) = r {
                    residual_sum += r;
                    residuals += 1;
                }
                done += 1;
            }
            self.state.epoch += 1;
            self.check_finite()?;
            let report = EpochReport {
                epoch: e + 1,
                epochs,
                learning_rate: lr,
                batches,
                samples: n,
                seconds: epoch_start.elapsed().as_secs_f64(),
                fixed_point_residual: (residuals > 0).then(|| residual_sum / residuals as f64),
            };
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
        Ok(())
    }
}

/// Trains an [`Rbm`] with the method and hyperparameters of a [`TrainParams`].
///
/// A trainer owns the model, the optimiser state (momentum, persistent chains, random streams,
/// epochs done) and a workspace allocated once, so consecutive mini-batches allocate nothing.
///
/// ```
/// use ndarray::Array2;
/// use onsager::{Method, TrainParams, Trainer};
/// let data = Array2::from_shape_fn((40, 6), |(i, j)| ((i + j) % 2) as f64);
/// let params = TrainParams::builder().n_hidden(4).batch_size(10).epochs(3)
///     .method(Method::Cd { k: 1 }).build().unwrap();
/// let mut trainer = Trainer::<f64>::new(params, 6).unwrap();
/// let report = trainer.fit(data.view(), &mut ()).unwrap();
/// assert_eq!(report.epochs_completed, 3);
/// assert_eq!(trainer.model().n_hidden(), 4);
/// ```
#[derive(Debug)]
pub struct Trainer<T: Float = f32> {
    core: Core<T>,
    /// The trainer's own pool: each call runs inside one `install`, so work enters the pool
    /// once per call rather than once per parallel loop (which would allocate).
    pool: rayon::ThreadPool,
}

impl<T: Float> Trainer<T> {
    /// A trainer for a fresh model with `n_visible` inputs: weights N(0, init_std²) from the
    /// seed, hidden bias 0, visible bias set to the clipped log-odds of the data means (clipped
    /// to \[0.001, 0.999\]) at the first `fit` or `partial_fit`.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for zero inputs; [`Error::TooLarge`] if the thread pool cannot
    /// be created.
    pub fn new(params: TrainParams, n_visible: usize) -> Result<Self> {
        let rbm = Rbm::random(
            n_visible,
            params.n_hidden,
            T::of(params.init_std),
            params.seed,
        )?
        .with_beta(T::of(params.beta))?;
        Self::build(params, rbm, false)
    }

    /// A trainer that continues training an existing model (its biases are kept).
    ///
    /// # Errors
    /// [`Error::Shape`] if the model's hidden layer differs from `params.n_hidden`.
    pub fn with_model(params: TrainParams, rbm: Rbm<T>) -> Result<Self> {
        if rbm.n_hidden() != params.n_hidden {
            return Err(Error::Shape {
                what: "model hidden units",
                expected: params.n_hidden.to_string(),
                got: rbm.n_hidden().to_string(),
            });
        }
        let rbm = rbm.with_beta(T::of(params.beta))?;
        Self::build(params, rbm, true)
    }

    fn build(params: TrainParams, rbm: Rbm<T>, bias_initialised: bool) -> Result<Self> {
        let threads = match params.threads {
            0 => rayon::current_num_threads(),
            n => n,
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::TooLarge {
                what: "thread pool",
                reason: e.to_string(),
            })?;
        Ok(Self {
            core: Core::new(params, rbm, bias_initialised),
            pool,
        })
    }

    /// The model as it stands.
    pub fn model(&self) -> &Rbm<T> {
        &self.core.rbm
    }

    /// The model, consuming the trainer.
    pub fn into_model(self) -> Rbm<T> {
        self.core.rbm
    }

    /// The hyperparameters.
    pub fn params(&self) -> &TrainParams {
        &self.core.params
    }

    /// Epochs completed so far.
    pub fn epochs_completed(&self) -> usize {
        self.core.state.epoch
    }

    /// A copy of the optimiser state (momentum, chains, random streams, epochs done), to store
    /// with the model in a checkpoint.
    pub fn state(&self) -> TrainerState<T> {
        self.core.state.clone()
    }

    /// A trainer that continues exactly where the one that produced `rbm` and `state` stood:
    /// calling [`Trainer::fit`] on the same data gives the same bits as an uninterrupted run,
    /// when the state was taken at an epoch boundary.
    ///
    /// # Errors
    /// [`Error::Shape`] if the model, the state and the parameters disagree (hidden units,
    /// chain counts, method).
    pub fn resume(params: TrainParams, rbm: Rbm<T>, state: TrainerState<T>) -> Result<Self> {
        let mut t = Self::with_model(params, rbm)?;
        let (nv, nh) = t.core.rbm.w.dim();
        let shape_err = |what: &'static str, expected: String, got: String| Error::Shape {
            what,
            expected,
            got,
        };
        if state.velocity.dim() != (nv, nh) {
            return Err(shape_err(
                "momentum state",
                format!("{:?}", (nv, nh)),
                format!("{:?}", state.velocity.dim()),
            ));
        }
        let method = t.core.params.method;
        match (&state.chains, method) {
            (None, _) => {}
            (Some(Chains::Gibbs { v, rngs }), Method::Pcd { chains, .. }) => {
                if v.dim() != (chains, nv) || rngs.len() != chains {
                    return Err(shape_err(
                        "PCD chains",
                        format!("({chains}, {nv})"),
                        format!("{:?}", v.dim()),
                    ));
                }
            }
            (Some(Chains::Magnetisations { m_v, m_h }), Method::Emf { .. }) => {
                let rows = t.core.params.batch_size;
                if m_v.dim() != (rows, nv) || m_h.dim() != (rows, nh) {
                    return Err(shape_err(
                        "EMF chains",
                        format!("({rows}, {nv})"),
                        format!("{:?}", m_v.dim()),
                    ));
                }
            }
            _ => {
                return Err(shape_err(
                    "persistent chains",
                    format!("chains of {method:?}"),
                    "other chains".into(),
                ))
            }
        }
        if matches!(method, Method::Cd { .. }) && state.cd_rngs.len() != t.core.params.batch_size {
            return Err(shape_err(
                "CD streams",
                t.core.params.batch_size.to_string(),
                state.cd_rngs.len().to_string(),
            ));
        }
        t.core.state = state;
        Ok(t)
    }

    /// Trains on `data` until `params.epochs` epochs are completed in total, one mini-batch at a
    /// time, reporting to `monitor` (which may stop it between mini-batches).
    ///
    /// Each epoch reshuffles the rows (if `shuffle`) with the trainer's own random stream, so a
    /// trainer restored with the same state continues exactly as an uninterrupted one.
    ///
    /// # Shapes
    /// `data` is (n × nv), rows are samples.
    ///
    /// # Errors
    /// Bad data ([`Error::Shape`], [`Error::Empty`], [`Error::NonFinite`],
    /// [`Error::OutOfRange`]); [`Error::Diverged`] if a parameter becomes non-finite.
    pub fn fit(
        &mut self,
        data: ArrayView2<'_, T>,
        monitor: &mut (dyn Monitor<T> + Send),
    ) -> Result<FitReport> {
        let Self { core, pool } = self;
        pool.install(|| core.fit(data, monitor))
    }

    /// One update from `batch` (split into chunks of `batch_size` rows if larger), at the
    /// learning rate of the current epoch, for streaming use. The first call sets the visible
    /// bias from this batch; persistent chains start from its rows. Epochs are not advanced.
    ///
    /// # Errors
    /// As [`Trainer::fit`].
    pub fn partial_fit(&mut self, batch: ArrayView2<'_, T>) -> Result<()> {
        let Self { core, pool } = self;
        check::unit_data("training batch", &batch, core.rbm.n_visible())?;
        core.init_bias(batch);
        let lr = T::of(core.params.learning_rate_at(core.state.epoch));
        let bs = core.params.batch_size;
        pool.install(|| {
            for start in (0..batch.nrows()).step_by(bs) {
                let chunk = batch.slice(s![start..(start + bs).min(batch.nrows()), ..]);
                core.train_batch(chunk, Rows::All, lr);
            }
        });
        core.check_finite()
    }
}

impl TrainParams {
    /// Trains a fresh model on `data` with these parameters (see [`Trainer::fit`]).
    ///
    /// # Errors
    /// As [`Trainer::fit`].
    pub fn fit<T: Float>(&self, data: ArrayView2<'_, T>) -> Result<Rbm<T>> {
        let mut t = Trainer::new(self.clone(), data.ncols())?;
        t.fit(data, &mut ())?;
        Ok(t.into_model())
    }
}
