//! The public [`Trainer`]: a model with its optimiser state and a thread pool, and the
//! checked ways to start, resume and run training.

use ndarray::{s, ArrayView2};

use super::{Core, FitReport, Rows, TrainerState};
use crate::monitor::Monitor;
use crate::{Error, Float, Rbm, Result, TrainParams};

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
    /// [`Error::InvalidParam`] for zero inputs; [`Error::TooLarge`] if the model or its
    /// training buffers cannot fit in memory or the thread pool cannot be created.
    pub fn new(params: TrainParams, n_visible: usize) -> Result<Self> {
        let sigma = ndarray::Array1::from_elem(n_visible, T::of(params.sigma.initial()));
        let rbm = Rbm::random(
            n_visible,
            params.n_hidden,
            T::of(params.init_std),
            params.seed,
        )?
        .with_beta(T::of(params.beta))?
        .with_visible(params.visible, sigma)?;
        Self::build(params, rbm, false)
    }

    /// A trainer that continues training an existing model (its biases and σ are kept).
    ///
    /// # Errors
    /// [`Error::Shape`] if the model's hidden layer differs from `params.n_hidden`;
    /// [`Error::InvalidParam`] (`visible`) if its visible units are not `params.visible`.
    pub fn with_model(params: TrainParams, rbm: Rbm<T>) -> Result<Self> {
        if rbm.n_hidden() != params.n_hidden {
            return Err(Error::Shape {
                what: "model hidden units",
                expected: params.n_hidden.to_string(),
                got: rbm.n_hidden().to_string(),
            });
        }
        if rbm.visible_units() != params.visible {
            return Err(Error::InvalidParam {
                name: "visible",
                value: params.visible.to_string(),
                reason: "the model's visible units are of another type (the model keeps its own)",
            });
        }
        let rbm = rbm.with_beta(T::of(params.beta))?;
        Self::build(params, rbm, true)
    }

    fn build(params: TrainParams, rbm: Rbm<T>, bias_initialised: bool) -> Result<Self> {
        // Refuse sizes that cannot fit before making them: momentum, gradient and workspace
        // beside the weights, and the mini-batch and chain buffers (both layers, a few each).
        let (nv, nh) = rbm.w.dim();
        crate::check::allocatable::<T>(
            "the training state (momentum and gradient, visible × hidden)",
            nv,
            nh,
            3,
        )?;
        let chains = match params.method {
            crate::Method::Pcd { chains, .. } => chains,
            _ => 0,
        };
        crate::check::allocatable::<T>(
            "the mini-batch and chain storage (rows × units)",
            params.batch_size.max(chains),
            nv.saturating_add(nh),
            8,
        )?;
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
        t.core.phase.check_state(&state, nv, nh)?;
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
        core.rbm
            .visible_units()
            .check_data("training batch", &batch, core.rbm.n_visible())?;
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
