//! `onsager_rbm._core`: the Rust half of the Python package `onsager_rbm`.
//!
//! These functions are the package's private engine; the public API is the scikit-learn
//! estimators in `python/onsager_rbm`. Conventions:
//!
//! - A model crosses as a tuple `(components, intercept_visible, intercept_hidden)` in
//!   scikit-learn's orientation (components is nh × nv, that is Wᵀ), all of one dtype, float32
//!   or float64; data arrays come in the same dtype. Data is read in place (no copy) whatever
//!   its strides; the model, which is small, is copied into a Rust [`Rbm`] per call.
//! - Every computation runs with the GIL released.
//! - Library errors become `ValueError` (bad input or parameters), `OSError` (files) or
//!   `RuntimeError` (divergence, numerical failure).

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use ndarray::{Array2, ArrayView2};
use numpy::{Element, IntoPyArray, PyReadonlyArray1, PyReadonlyArray2};
use onsager::estimate::ais::{Ais, AisSchedule, BaseModel};
use onsager::estimate::emf::EmfEstimator;
use onsager::estimate::{exact, pseudo};
use onsager::io::model::{self, ModelFile};
use onsager::{
    meanfield, BatchProgress, CancelFlag, Decay, EmfOrder, EpochMetrics, EpochReport, Error, Float,
    Method, Metrics, Monitor, Persistence, Rbm, Schedule, TrainConfig, Trainer, TrainerState,
};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

/// How errors name the optimiser state an estimator carries between calls.
const CHECKPOINT: &str = "<estimator state>";

/// A float type numpy and onsager both know.
trait Num: Float + Element {}
impl Num for f32 {}
impl Num for f64 {}

/// The library's parameter names, as the Python estimators spell them.
fn python_name(name: &str) -> &str {
    match name {
        "n_hidden" => "n_components",
        "epochs" => "n_iter",
        "decay" => "weight_decay",
        "chains" => "n_chains",
        "schedule" => "learning_rate_schedule",
        "threads" => "n_threads",
        other => other,
    }
}

/// Maps a library error to the Python exception a scikit-learn user expects.
fn py_err(e: Error) -> PyErr {
    match &e {
        Error::InvalidParam {
            name,
            value,
            reason,
        } => PyValueError::new_err(format!(
            "invalid parameter {}={value}: {reason}",
            python_name(name)
        )),
        Error::Io { source, .. } => PyOSError::new_err(format!("{e}: {source}")),
        Error::Diverged { .. } | Error::Numerical { .. } => PyRuntimeError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// A model tuple, in either dtype.
#[derive(FromPyObject)]
enum ModelArgs<'py> {
    F32(
        PyReadonlyArray2<'py, f32>,
        PyReadonlyArray1<'py, f32>,
        PyReadonlyArray1<'py, f32>,
    ),
    F64(
        PyReadonlyArray2<'py, f64>,
        PyReadonlyArray1<'py, f64>,
        PyReadonlyArray1<'py, f64>,
    ),
}

/// A 2-D data array, in either dtype.
#[derive(FromPyObject)]
enum Data<'py> {
    F32(PyReadonlyArray2<'py, f32>),
    F64(PyReadonlyArray2<'py, f64>),
}

fn rbm_of<T: Num>(
    c: &PyReadonlyArray2<'_, T>,
    a: &PyReadonlyArray1<'_, T>,
    b: &PyReadonlyArray1<'_, T>,
) -> PyResult<Rbm<T>> {
    let w = c.as_array().t().as_standard_layout().into_owned();
    Rbm::from_parts(w, a.as_array().to_owned(), b.as_array().to_owned()).map_err(py_err)
}

/// Calls `$f::<T>(py, rbm, data_view, ...)` for the dtype shared by the model and the data.
macro_rules! dispatch {
    ($py:expr, $model:expr, $data:expr, $f:ident $(, $arg:expr)*) => {
        match ($model, $data) {
            (ModelArgs::F32(c, a, b), Data::F32(x)) => {
                let rbm = rbm_of(&c, &a, &b)?;
                $f::<f32>($py, &rbm, x.as_array() $(, $arg)*)
            }
            (ModelArgs::F64(c, a, b), Data::F64(x)) => {
                let rbm = rbm_of(&c, &a, &b)?;
                $f::<f64>($py, &rbm, x.as_array() $(, $arg)*)
            }
            _ => Err(PyTypeError::new_err(
                "the model and the data must have the same dtype (float32 or float64)",
            )),
        }
    };
}

/// Defines a pyfunction `$name(model, x, args...)` that computes `$body` (a library `Result`
/// of an array) with `$rbm: &Rbm<T>` and `$x: ArrayView2<T>` in the dtype the model and the
/// data share, with the GIL released, and returns the array to numpy.
macro_rules! array_fn {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) |$rbm:ident, $x:ident| $body:expr) => {
        $(#[$doc])*
        #[pyfunction]
        fn $name<'py>(
            py: Python<'py>,
            model: ModelArgs<'py>,
            x: Data<'py>,
            $($arg: $ty),*
        ) -> PyResult<Bound<'py, PyAny>> {
            fn typed<'py, T: Num>(
                py: Python<'py>,
                $rbm: &Rbm<T>,
                $x: ArrayView2<'_, T>,
                $($arg: $ty),*
            ) -> PyResult<Bound<'py, PyAny>> {
                let out = py.detach(|| $body).map_err(py_err)?;
                Ok(out.into_pyarray(py).into_any())
            }
            dispatch!(py, model, x, typed $(, $arg)*)
        }
    };
}

array_fn! {
    /// P(h = 1 | v) per row (n × nh).
    fn hidden_probs() |rbm, x| rbm.hidden_probs(x)
}

array_fn! {
    /// `steps` block-Gibbs steps v → h → v from each row, row i on random stream i of `seed`.
    fn gibbs(steps: usize, seed: u64) |rbm, x| rbm.gibbs(x, steps, seed)
}

array_fn! {
    /// The visible magnetisations of the EMF fixed point of `order` reached from each row
    /// (damping 0.5, at most `steps` sweeps).
    fn mean_field(order: u8, steps: usize) |rbm, x| {
        let order = EmfOrder::try_from(order)?;
        let mh = rbm.hidden_probs(x)?;
        meanfield::fixed_point(rbm, order, x, mh.view(), T::of(0.5), steps, 1e-6).map(|fp| fp.m_v)
    }
}

array_fn! {
    /// The clamped free energy F_c(v) per row (float64).
    fn free_energy() |rbm, x| rbm.free_energy(x)
}

array_fn! {
    /// scikit-learn's pseudo-likelihood per row, row i flipping column `flips[i]` (float64).
    fn pseudo_likelihood(flips: Vec<usize>) |rbm, x| {
        pseudo::pseudo_log_likelihood_with(rbm, x, &flips)
    }
}

/// Options of [`log_likelihood`] (a dict).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct LlOptions {
    estimator: String,
    n_runs: usize,
    n_temperatures: usize,
    order: u8,
    seed: u64,
}

fn log_likelihood_t<'py, T: Num>(
    py: Python<'py>,
    rbm: &Rbm<T>,
    x: ArrayView2<'_, T>,
    o: LlOptions,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let f = py.detach(|| rbm.free_energy(x)).map_err(py_err)?;
    let (log_z, lower, upper, converged) = match o.estimator.as_str() {
        "exact" => {
            let z = py
                .detach(|| exact::log_partition(rbm, exact::Layer::Smaller))
                .map_err(py_err)?;
            (z, z, z, true)
        }
        "ais" => {
            let ais = Ais {
                runs: o.n_runs,
                schedule: AisSchedule::Piecewise {
                    temperatures: o.n_temperatures,
                },
                seed: o.seed,
            };
            let e = py
                .detach(|| {
                    let base = BaseModel::from_data(x, 1.0)?;
                    ais.log_partition(rbm, &base)
                })
                .map_err(py_err)?;
            (e.log_z, e.log_z_lower, e.log_z_upper, true)
        }
        "emf" => {
            let est = EmfEstimator {
                order: EmfOrder::try_from(o.order).map_err(py_err)?,
                seed: o.seed,
                ..Default::default()
            };
            let z = py
                .detach(|| {
                    let starts = x.slice(ndarray::s![..x.nrows().min(100), ..]);
                    est.log_partition(rbm, Some(starts))
                })
                .map_err(py_err)?;
            (z.log_z, f64::NAN, f64::NAN, z.converged)
        }
        other => {
            return Err(PyValueError::new_err(format!(
                "estimator must be 'ais', 'exact' or 'emf', got {other:?}"
            )))
        }
    };
    d.set_item("per_row", f.mapv(|f| -f - log_z).into_pyarray(py))?;
    d.set_item("log_z", log_z)?;
    d.set_item("log_z_lower", lower)?;
    d.set_item("log_z_upper", upper)?;
    d.set_item("converged", converged)?;
    Ok(d)
}

/// log p(v) per row by the chosen estimator, with log Z and (AIS) its ±3σ bounds.
#[pyfunction]
fn log_likelihood<'py>(
    py: Python<'py>,
    model: ModelArgs<'py>,
    x: Data<'py>,
    options: LlOptions,
) -> PyResult<Bound<'py, PyDict>> {
    dispatch!(py, model, x, log_likelihood_t, options)
}

// ---------------------------------------------------------------------------------------------
// Training

/// Reads one entry of the estimator's parameter dict.
fn get<'py, V: FromPyObjectOwned<'py>>(spec: &Bound<'py, PyDict>, key: &str) -> PyResult<V> {
    let value = spec
        .get_item(key)?
        .ok_or_else(|| PyValueError::new_err(format!("missing parameter {key}")))?;
    value.extract::<V>().map_err(|_| {
        PyTypeError::new_err(format!(
            "parameter {key} has the wrong type: {}",
            value
                .repr()
                .map(|r| r.to_string())
                .unwrap_or_else(|_| "?".into())
        ))
    })
}

/// A count parameter: an integer ≥ `min`.
fn count(spec: &Bound<'_, PyDict>, key: &str, min: i64) -> PyResult<usize> {
    let v: i64 = get(spec, key)?;
    if v < min {
        return Err(PyValueError::new_err(format!(
            "invalid parameter {key}={v}: must be an integer >= {min}"
        )));
    }
    Ok(v as usize)
}

fn choice(spec: &Bound<'_, PyDict>, key: &str, allowed: &[&str]) -> PyResult<String> {
    let v: String = get(spec, key)?;
    if !allowed.contains(&v.as_str()) {
        let allowed: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
        return Err(PyValueError::new_err(format!(
            "invalid parameter {key}='{v}': must be one of {}",
            allowed.join(", ")
        )));
    }
    Ok(v)
}

/// The training configuration from the estimator's parameters (Python names).
fn config_of(spec: &Bound<'_, PyDict>) -> PyResult<TrainConfig> {
    let method = match choice(spec, "method", &["emf", "cd", "pcd"])?.as_str() {
        "cd" => Method::Cd {
            k: count(spec, "k", 1)?,
        },
        "pcd" => Method::Pcd {
            k: count(spec, "k", 1)?,
            chains: match get::<Option<i64>>(spec, "n_chains")? {
                None => count(spec, "batch_size", 1)?,
                Some(_) => count(spec, "n_chains", 1)?,
            },
        },
        _ => {
            let order: i64 = get(spec, "order")?;
            let order = u8::try_from(order)
                .ok()
                .and_then(|o| EmfOrder::try_from(o).ok())
                .ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "invalid parameter order={order}: must be 1, 2 or 3"
                    ))
                })?;
            let p = spec
                .get_item("persistence")?
                .ok_or_else(|| PyValueError::new_err("missing parameter persistence"))?;
            let persistence = if let Ok(s) = p.extract::<String>() {
                match s.as_str() {
                    "persistent" => Persistence::Persistent,
                    "data" => Persistence::DataInit,
                    _ => {
                        return Err(PyValueError::new_err(format!(
                            "invalid parameter persistence='{s}': must be 'persistent', 'data' \
                             or the epoch (an int >= 1) from which chains persist"
                        )))
                    }
                }
            } else {
                Persistence::PersistentFrom {
                    epoch: count(spec, "persistence", 1)?,
                }
            };
            Method::Emf {
                order,
                iterations: count(spec, "iterations", 1)?,
                damping: get(spec, "damping")?,
                persistence,
            }
        }
    };
    let schedule = match choice(
        spec,
        "learning_rate_schedule",
        &["constant", "linear", "exponential"],
    )?
    .as_str()
    {
        "linear" => Schedule::Linear {
            final_rate: get(spec, "final_learning_rate")?,
        },
        "exponential" => Schedule::Exponential {
            factor: get(spec, "learning_rate_decay")?,
        },
        _ => Schedule::Constant,
    };
    let lambda: f64 = get(spec, "weight_decay")?;
    let decay = match choice(spec, "decay_kind", &["l2", "l1", "none"])?.as_str() {
        "l1" => Decay::L1 { lambda },
        "l2" => Decay::L2 { lambda },
        _ => Decay::None,
    };
    let threads = match get::<Option<i64>>(spec, "n_threads")? {
        None => 0,
        Some(_) => count(spec, "n_threads", 1)?,
    };
    Ok(TrainConfig::default()
        .n_hidden(count(spec, "n_components", 1)?)
        .method(method)
        .learning_rate(get(spec, "learning_rate")?)
        .schedule(schedule)
        .batch_size(count(spec, "batch_size", 1)?)
        .epochs(count(spec, "n_iter", 0)?)
        .momentum(get(spec, "momentum")?)
        .decay(decay)
        .init_std(get(spec, "init_std")?)
        .shuffle(get(spec, "shuffle")?)
        .seed(get(spec, "seed")?)
        .threads(threads))
}

/// The estimator parameters (Python names) of a stored configuration: the inverse of
/// [`config_of`], for models trained by the command line.
fn spec_of<'py>(py: Python<'py>, c: &TrainConfig) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("n_components", c.n_hidden)?;
    match c.method {
        Method::Cd { k } => {
            d.set_item("method", "cd")?;
            d.set_item("k", k)?;
        }
        Method::Pcd { k, chains } => {
            d.set_item("method", "pcd")?;
            d.set_item("k", k)?;
            d.set_item("n_chains", chains)?;
        }
        Method::Emf {
            order,
            iterations,
            damping,
            persistence,
        } => {
            d.set_item("method", "emf")?;
            d.set_item("order", order.as_u8())?;
            d.set_item("iterations", iterations)?;
            d.set_item("damping", damping)?;
            match persistence {
                Persistence::Persistent => d.set_item("persistence", "persistent")?,
                Persistence::DataInit => d.set_item("persistence", "data")?,
                Persistence::PersistentFrom { epoch } => d.set_item("persistence", epoch)?,
            }
        }
    }
    d.set_item("learning_rate", c.learning_rate)?;
    match c.schedule {
        Schedule::Constant => d.set_item("learning_rate_schedule", "constant")?,
        Schedule::Linear { final_rate } => {
            d.set_item("learning_rate_schedule", "linear")?;
            d.set_item("final_learning_rate", final_rate)?;
        }
        Schedule::Exponential { factor } => {
            d.set_item("learning_rate_schedule", "exponential")?;
            d.set_item("learning_rate_decay", factor)?;
        }
    }
    match c.decay {
        Decay::None => d.set_item("decay_kind", "none")?,
        Decay::L1 { lambda } => {
            d.set_item("decay_kind", "l1")?;
            d.set_item("weight_decay", lambda)?;
        }
        Decay::L2 { lambda } => {
            d.set_item("decay_kind", "l2")?;
            d.set_item("weight_decay", lambda)?;
        }
    }
    d.set_item("batch_size", c.batch_size)?;
    d.set_item("n_iter", c.epochs)?;
    d.set_item("momentum", c.momentum)?;
    d.set_item("init_std", c.init_std)?;
    d.set_item("shuffle", c.shuffle)?;
    d.set_item("random_state", c.seed)?;
    Ok(d)
}

fn metrics_of(names: &[String]) -> PyResult<Metrics> {
    let mut m = Metrics::default();
    for n in names {
        match n.as_str() {
            "pseudo_likelihood" => m.pseudo_likelihood = true,
            "reconstruction_error" => m.reconstruction_error = true,
            "emf_log_likelihood" => m.emf_log_likelihood = true,
            other => {
                return Err(PyValueError::new_err(format!(
                    "invalid metric {other:?}: must be 'pseudo_likelihood', \
                     'reconstruction_error' or 'emf_log_likelihood'"
                )))
            }
        }
    }
    Ok(m)
}

/// Sends each epoch's metrics to the waiting Python thread; stops when cancelled.
struct PyMonitor<'a, T: Float> {
    tx: mpsc::Sender<EpochMetrics>,
    cancel: CancelFlag,
    metrics: Metrics,
    eval: Option<ArrayView2<'a, T>>,
    seed: u64,
}

impl<T: Float> Monitor<T> for PyMonitor<'_, T> {
    fn on_batch(&mut self, _: &BatchProgress) -> ControlFlow<()> {
        if self.cancel.is_cancelled() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn on_epoch(&mut self, r: &EpochReport, model: &Rbm<T>) -> ControlFlow<()> {
        let m = match self.eval {
            Some(v) if !self.metrics.is_empty() => self.metrics.evaluate(r, model, v, self.seed),
            _ => EpochMetrics::from_report(r),
        };
        // The receiver outlives training; a send cannot fail while it waits.
        let _ = self.tx.send(m);
        if self.cancel.is_cancelled() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

/// What one training call did, before it is turned into Python objects.
struct Trained<T: Float> {
    rbm: Rbm<T>,
    state: TrainerState<T>,
    config: TrainConfig,
    history: Vec<EpochMetrics>,
    h_samples: Option<Array2<T>>,
}

/// Runs training on a worker thread while this (Python's) thread forwards each epoch's metrics
/// to `on_epoch` and polls for signals: Ctrl-C (or an exception from `on_epoch`) cancels
/// training before its next mini-batch and is handed back as `interrupt`.
fn train_t<T: Num>(
    py: Python<'_>,
    x: ArrayView2<'_, T>,
    config: TrainConfig,
    init: Option<Rbm<T>>,
    checkpoint: Option<&[u8]>,
    partial: bool,
    eval: Option<ArrayView2<'_, T>>,
    metrics: Metrics,
    on_epoch: Option<Py<PyAny>>,
) -> PyResult<(Trained<T>, Option<PyErr>)> {
    let params = config.clone().build().map_err(py_err)?;
    let seed = params.seed;
    let mut trainer = match init {
        None => Trainer::<T>::new(params, x.ncols()).map_err(py_err)?,
        Some(rbm) => {
            let state = match checkpoint {
                Some(bytes) => {
                    model::from_bytes::<T>(Path::new(CHECKPOINT), bytes)
                        .map_err(py_err)?
                        .state
                }
                None => None,
            };
            match state {
                // The state fits unless parameters changed since (then momentum and chains
                // start afresh, as they would for a new method).
                Some(s) => Trainer::resume(params.clone(), rbm.clone(), s)
                    .or_else(|_| Trainer::with_model(params, rbm))
                    .map_err(py_err)?,
                None => Trainer::with_model(params, rbm).map_err(py_err)?,
            }
        }
    };
    let cancel = CancelFlag::new();
    let (tx, rx) = mpsc::channel();
    let mut history = Vec::new();
    let mut interrupt: Option<PyErr> = None;
    let (trainer_ref, history_ref, interrupt_ref) = (&mut trainer, &mut history, &mut interrupt);
    let (cancel_ref, on_epoch_ref) = (&cancel, &on_epoch);
    let result = py.detach(move || {
        std::thread::scope(|s| {
            let worker = {
                let cancel = cancel_ref.clone();
                let trainer = trainer_ref;
                s.spawn(move || {
                    if partial {
                        return trainer.partial_fit(x).map(|_| ());
                    }
                    let mut monitor = PyMonitor {
                        tx,
                        cancel,
                        metrics,
                        eval,
                        seed,
                    };
                    trainer.fit(x, &mut monitor).map(|_| ())
                })
            };
            loop {
                let message = rx.recv_timeout(Duration::from_millis(50));
                let finished = matches!(message, Err(mpsc::RecvTimeoutError::Disconnected));
                Python::attach(|py| {
                    if let Ok(m) = message {
                        if let Some(cb) = on_epoch_ref {
                            let json = serde_json::to_string(&m).expect("metrics serialise");
                            if let Err(e) = cb.call1(py, (json,)) {
                                interrupt_ref.get_or_insert(e);
                                cancel_ref.cancel();
                            }
                        }
                        history_ref.push(m);
                    }
                    if interrupt_ref.is_none() {
                        if let Err(e) = py.check_signals() {
                            *interrupt_ref = Some(e);
                            cancel_ref.cancel();
                        }
                    }
                });
                if finished {
                    break;
                }
            }
            worker.join()
        })
    });
    match result {
        Ok(r) => r.map_err(py_err)?,
        Err(_) => return Err(PyRuntimeError::new_err("the training thread panicked")),
    }
    let state = trainer.state();
    let h_samples = match state.pcd_chains() {
        Some(v) => Some(trainer.model().sample_hidden(v, seed).map_err(py_err)?),
        None => None,
    };
    Ok((
        Trained {
            rbm: trainer.into_model(),
            state,
            config,
            history,
            h_samples,
        },
        interrupt,
    ))
}

/// The model as (components, intercept_visible, intercept_hidden) numpy arrays.
fn model_tuple<'py, T: Num>(py: Python<'py>, rbm: &Rbm<T>) -> PyResult<Bound<'py, PyAny>> {
    let c = rbm.weights().t().as_standard_layout().into_owned();
    let a = rbm.visible_bias().to_owned();
    let b = rbm.hidden_bias().to_owned();
    Ok((c.into_pyarray(py), a.into_pyarray(py), b.into_pyarray(py))
        .into_pyobject(py)?
        .into_any())
}

fn trained_dict<'py, T: Num>(
    py: Python<'py>,
    t: Trained<T>,
    interrupt: Option<PyErr>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("model", model_tuple(py, &t.rbm)?)?;
    let mut file = ModelFile::new(t.rbm);
    file.epochs_completed = t.state.epochs_completed();
    file.params = Some(t.config);
    file.state = Some(t.state);
    let bytes = model::to_bytes_file(&file).map_err(py_err)?;
    d.set_item("checkpoint", PyBytes::new(py, &bytes))?;
    d.set_item("epochs_completed", file.epochs_completed)?;
    d.set_item(
        "history",
        serde_json::to_string(&t.history).expect("metrics serialise"),
    )?;
    d.set_item("h_samples", t.h_samples.map(|h| h.into_pyarray(py)))?;
    d.set_item("interrupt", interrupt.map(|e| e.into_value(py)))?;
    Ok(d)
}

/// Trains (`fit`, or one `partial_fit` call) and returns the new model, the optimiser state
/// (as model-file bytes), this call's per-epoch metrics (JSON) and the interrupt, if any.
#[pyfunction]
#[pyo3(signature = (x, spec, init=None, checkpoint=None, partial=false, eval_x=None, metrics=Vec::new(), on_epoch=None))]
fn train<'py>(
    py: Python<'py>,
    x: Data<'py>,
    spec: &Bound<'py, PyDict>,
    init: Option<ModelArgs<'py>>,
    checkpoint: Option<Vec<u8>>,
    partial: bool,
    eval_x: Option<Data<'py>>,
    metrics: Vec<String>,
    on_epoch: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let config = config_of(spec)?;
    let metrics = metrics_of(&metrics)?;
    let ck = checkpoint.as_deref();
    let dtype_err =
        || PyTypeError::new_err("the data, the model and the evaluation data must share a dtype");
    // One arm per dtype: the initial model and the evaluation data must match the data's.
    macro_rules! go {
        ($T:ty, $variant:ident, $x:expr) => {{
            let init = match init {
                None => None,
                Some(ModelArgs::$variant(c, a, b)) => Some(rbm_of(&c, &a, &b)?),
                Some(_) => return Err(dtype_err()),
            };
            let eval = match eval_x {
                None => None,
                Some(Data::$variant(e)) => Some(e),
                Some(_) => return Err(dtype_err()),
            };
            let (t, interrupt) = train_t::<$T>(
                py,
                $x.as_array(),
                config,
                init,
                ck,
                partial,
                eval.as_ref().map(|e| e.as_array()),
                metrics,
                on_epoch,
            )?;
            trained_dict(py, t, interrupt)
        }};
    }
    match x {
        Data::F32(x) => go!(f32, F32, x),
        Data::F64(x) => go!(f64, F64, x),
    }
}

// ---------------------------------------------------------------------------------------------
// Model files

fn save_t<T: Num>(
    path: &str,
    rbm: Rbm<T>,
    config: Option<TrainConfig>,
    history: Vec<EpochMetrics>,
    checkpoint: Option<&[u8]>,
    extra: BTreeMap<String, String>,
) -> PyResult<()> {
    let mut file = ModelFile::new(rbm);
    if let Some(bytes) = checkpoint {
        let stored = model::from_bytes::<T>(Path::new(CHECKPOINT), bytes).map_err(py_err)?;
        file.epochs_completed = stored.epochs_completed;
        // Keep the optimiser state only while it still matches the model's shape.
        if stored.rbm.weights().dim() == file.rbm.weights().dim() {
            file.state = stored.state;
        }
    } else {
        file.epochs_completed = history.len();
    }
    file.params = config;
    file.history = history;
    file.extra = extra;
    model::save(path, &file).map_err(py_err)
}

/// Writes a model file (atomically) that the command line reads.
#[pyfunction]
#[pyo3(signature = (path, model, spec=None, history="[]", checkpoint=None, extra=BTreeMap::new()))]
fn save<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
    model: ModelArgs<'py>,
    spec: Option<&Bound<'py, PyDict>>,
    history: &str,
    checkpoint: Option<Vec<u8>>,
    extra: BTreeMap<String, String>,
) -> PyResult<()> {
    let config = spec.map(config_of).transpose()?;
    let history: Vec<EpochMetrics> = serde_json::from_str(history)
        .map_err(|e| PyValueError::new_err(format!("history is not valid: {e}")))?;
    let path = path.to_string_lossy().into_owned();
    let ck = checkpoint.as_deref();
    match model {
        ModelArgs::F32(c, a, b) => {
            let rbm = rbm_of(&c, &a, &b)?;
            py.detach(|| save_t(&path, rbm, config, history, ck, extra))
        }
        ModelArgs::F64(c, a, b) => {
            let rbm = rbm_of(&c, &a, &b)?;
            py.detach(|| save_t(&path, rbm, config, history, ck, extra))
        }
    }
}

fn load_t<'py, T: Num>(py: Python<'py>, path: &Path, bytes: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    let file = model::from_bytes::<T>(path, bytes).map_err(py_err)?;
    let d = PyDict::new(py);
    d.set_item("model", model_tuple(py, &file.rbm)?)?;
    d.set_item(
        "spec",
        file.params.as_ref().map(|c| spec_of(py, c)).transpose()?,
    )?;
    d.set_item(
        "history",
        serde_json::to_string(&file.history).expect("metrics serialise"),
    )?;
    d.set_item("epochs_completed", file.epochs_completed)?;
    d.set_item("extra", file.extra.clone())?;
    d.set_item(
        "checkpoint",
        file.state.is_some().then(|| PyBytes::new(py, bytes)),
    )?;
    Ok(d)
}

/// Reads a model file written by the command line or by [`save`].
#[pyfunction]
fn load<'py>(py: Python<'py>, path: std::path::PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let bytes = onsager::io::read_file(&path).map_err(py_err)?;
    let dtype = model::bytes_dtype(&path, &bytes).map_err(py_err)?;
    if dtype == "float32" {
        load_t::<f32>(py, &path, &bytes)
    } else {
        load_t::<f64>(py, &path, &bytes)
    }
}

/// The address of the first element as Rust sees it: equal to numpy's `ctypes.data` when the
/// array crossed without a copy (the tests check this).
#[pyfunction]
fn data_address(x: Data<'_>) -> usize {
    match x {
        Data::F32(x) => x.as_array().as_ptr() as usize,
        Data::F64(x) => x.as_array().as_ptr() as usize,
    }
}

/// The Rust core of `onsager_rbm`.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(hidden_probs, m)?)?;
    m.add_function(wrap_pyfunction!(gibbs, m)?)?;
    m.add_function(wrap_pyfunction!(mean_field, m)?)?;
    m.add_function(wrap_pyfunction!(free_energy, m)?)?;
    m.add_function(wrap_pyfunction!(pseudo_likelihood, m)?)?;
    m.add_function(wrap_pyfunction!(log_likelihood, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(save, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(data_address, m)?)?;
    Ok(())
}
