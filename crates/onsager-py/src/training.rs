//! Training from Python: the configuration from named options, a worker thread that trains
//! while Python's thread forwards each epoch's metrics and polls for Ctrl-C, and the result
//! (model, optimiser state as model-file bytes, history).

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use ndarray::{Array2, ArrayView2};
use numpy::IntoPyArray;
use onsager::io::model::{self, ModelFile};
use onsager::{
    BatchProgress, CancelFlag, EpochMetrics, EpochReport, Float, Metrics, Monitor, Rbm,
    TrainConfig, Trainer, TrainerState,
};
use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::convert::{model_tuple, rbm_of, Data, ModelArgs, Num};
use crate::error::py_err;
use crate::CHECKPOINT;

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

/// The training configuration from named options (the library's keys, values as text): the
/// library's defaults with the options applied and checked.
pub fn config_of(options: &[(String, String)]) -> PyResult<TrainConfig> {
    let config = TrainConfig::default()
        .with_options(options)
        .map_err(py_err)?;
    config.check().map_err(py_err)?;
    Ok(config)
}

/// The library's default training configuration as named options (key, text) pairs: what the
/// Python estimators' constructor defaults must equal (a test checks them).
#[pyfunction]
pub fn default_options() -> Vec<(&'static str, String)> {
    TrainConfig::default().to_options()
}

/// Trains (`fit`, or one `partial_fit` call) and returns the new model, the optimiser state
/// (as model-file bytes), this call's per-epoch metrics (JSON) and the interrupt, if any.
#[pyfunction]
#[pyo3(signature = (x, options, init=None, checkpoint=None, partial=false, eval_x=None, metrics=Vec::new(), on_epoch=None))]
pub fn train<'py>(
    py: Python<'py>,
    x: Data<'py>,
    options: Vec<(String, String)>,
    init: Option<ModelArgs<'py>>,
    checkpoint: Option<Vec<u8>>,
    partial: bool,
    eval_x: Option<Data<'py>>,
    metrics: Vec<String>,
    on_epoch: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let config = config_of(&options)?;
    let metrics: Metrics = metrics.join(",").parse().map_err(py_err)?;
    let ck = checkpoint.as_deref();
    let dtype_err =
        || PyTypeError::new_err("the data, the model and the evaluation data must share a dtype");
    // One arm per dtype: the initial model and the evaluation data must match the data's.
    macro_rules! go {
        ($T:ty, $variant:ident, $x:expr) => {{
            let init = match init {
                None => None,
                Some(ModelArgs::$variant(c, a, b, v, s)) => Some(rbm_of(&c, &a, &b, &v, &s)?),
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
