//! Inference and estimates on numpy arrays: conditionals, sampling, the EMF fixed point, free
//! energy, pseudo-likelihood and log-likelihood. Every call releases the GIL.

use ndarray::ArrayView2;
use numpy::IntoPyArray;
use onsager::estimate::ais::{Ais, AisSchedule};
use onsager::estimate::emf::EmfEstimator;
use onsager::estimate::pseudo;
use std::time::Duration;

use onsager::{meanfield, CancelFlag, EmfOrder, Estimator, Rbm};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{Data, ModelArgs, Num};
use crate::dispatch;
use crate::error::py_err;

/// Defines a pyfunction `$name(model, x, args...)` that computes `$body` (a library `Result`
/// of an array) with `$rbm: &Rbm<T>` and `$x: ArrayView2<T>` in the dtype the model and the
/// data share, with the GIL released, and returns the array to numpy.
macro_rules! array_fn {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) |$rbm:ident, $x:ident| $body:expr) => {
        $(#[$doc])*
        #[pyfunction]
        pub fn $name<'py>(
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
    /// (`onsager::meanfield::mean_field_samples`: at most `steps` sweeps).
    fn mean_field(order: u8, steps: usize) |rbm, x| {
        meanfield::mean_field_samples(rbm, EmfOrder::try_from(order)?, x, steps)
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
pub struct LlOptions {
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
    let estimator = match o.estimator.as_str() {
        "exact" => Estimator::Exact,
        "ais" => Estimator::Ais {
            ais: Ais {
                runs: o.n_runs,
                schedule: AisSchedule::Piecewise {
                    temperatures: o.n_temperatures,
                },
                seed: o.seed,
            },
            base: None,
        },
        "emf" => Estimator::Emf(EmfEstimator {
            order: EmfOrder::try_from(o.order).map_err(py_err)?,
            seed: o.seed,
            ..Default::default()
        }),
        other => {
            return Err(PyValueError::new_err(format!(
                "estimator must be 'ais', 'exact' or 'emf', got {other:?}"
            )))
        }
    };
    // The estimate runs on a worker thread; this one wakes every 50 ms to look for Ctrl-C
    // (KeyboardInterrupt), which stops AIS or enumeration within a round through the flag.
    let cancel = CancelFlag::new();
    let mut interrupt: Option<PyErr> = None;
    let (cancel_ref, interrupt_ref, est) = (&cancel, &mut interrupt, &estimator);
    let result = py.detach(move || {
        std::thread::scope(|s| {
            let worker = s.spawn(move || {
                let mut flag = cancel_ref.clone();
                est.log_likelihood_with(rbm, x, &mut flag)
            });
            while !worker.is_finished() {
                std::thread::sleep(Duration::from_millis(50));
                Python::attach(|py| {
                    if interrupt_ref.is_none() {
                        if let Err(e) = py.check_signals() {
                            *interrupt_ref = Some(e);
                            cancel_ref.cancel();
                        }
                    }
                });
            }
            worker.join()
        })
    });
    if let Some(e) = interrupt {
        return Err(e);
    }
    let ll = result
        .map_err(|_| PyRuntimeError::new_err("the estimating thread panicked"))?
        .map_err(py_err)?;
    let d = PyDict::new(py);
    d.set_item("per_row", ll.per_row.into_pyarray(py))?;
    d.set_item("mean", ll.mean)?;
    d.set_item("lower", ll.lower.unwrap_or(f64::NAN))?;
    d.set_item("upper", ll.upper.unwrap_or(f64::NAN))?;
    d.set_item("log_z", ll.log_z)?;
    d.set_item("converged", ll.converged)?;
    d.set_item("quantity", rbm.visible_units().log_likelihood_word())?;
    Ok(d)
}

/// log p(v) per row by the chosen estimator (the library's `Estimator`), with its mean, log Z
/// and (AIS) the ±3σ bounds of the mean.
#[pyfunction]
pub fn log_likelihood<'py>(
    py: Python<'py>,
    model: ModelArgs<'py>,
    x: Data<'py>,
    options: LlOptions,
) -> PyResult<Bound<'py, PyDict>> {
    dispatch!(py, model, x, log_likelihood_t, options)
}
