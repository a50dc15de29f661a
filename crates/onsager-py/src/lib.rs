//! `onsager_rbm._core`: the Rust half of the Python package `onsager_rbm`.
//!
//! These functions are the package's private engine; the public API is the scikit-learn
//! estimators in `python/onsager_rbm`. Conventions:
//!
//! - A model crosses as a tuple `(components, intercept_visible, intercept_hidden, visible,
//!   sigma)` in scikit-learn's orientation (components is nh × nv, that is Wᵀ), the arrays all
//!   of one dtype, float32 or float64, `visible` the unit type's text and `sigma` the visible
//!   standard deviations (ones for Bernoulli units); data arrays come in the same dtype. Data is read in place (no copy) whatever
//!   its strides; the model, which is small, is copied into a Rust `onsager::Rbm` per call.
//! - Every computation runs with the GIL released.
//! - Library errors become `ValueError` (bad input or parameters), `OSError` (files) or
//!   `RuntimeError` (divergence, numerical failure).

mod convert;
mod deep;
mod error;
mod files;
mod inference;
mod ridge;
mod training;

use pyo3::prelude::*;

/// How errors name the optimiser state an estimator carries between calls.
const CHECKPOINT: &str = "<estimator state>";

/// The Rust core of `onsager_rbm`.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(inference::hidden_probs, m)?)?;
    m.add_function(wrap_pyfunction!(inference::gibbs, m)?)?;
    m.add_function(wrap_pyfunction!(inference::mean_field, m)?)?;
    m.add_function(wrap_pyfunction!(inference::free_energy, m)?)?;
    m.add_function(wrap_pyfunction!(inference::pseudo_likelihood, m)?)?;
    m.add_function(wrap_pyfunction!(inference::log_likelihood, m)?)?;
    m.add_function(wrap_pyfunction!(training::train, m)?)?;
    m.add_function(wrap_pyfunction!(training::default_options, m)?)?;
    m.add_function(wrap_pyfunction!(files::save, m)?)?;
    m.add_function(wrap_pyfunction!(files::load, m)?)?;
    m.add_function(wrap_pyfunction!(convert::data_address, m)?)?;
    m.add_function(wrap_pyfunction!(convert::visible_units, m)?)?;
    m.add_function(wrap_pyfunction!(deep::deep_fit, m)?)?;
    m.add_function(wrap_pyfunction!(deep::deep_predict_proba, m)?)?;
    m.add_function(wrap_pyfunction!(ridge::ridge_fit, m)?)?;
    m.add_function(wrap_pyfunction!(ridge::ridge_shaw, m)?)?;
    m.add_function(wrap_pyfunction!(ridge::ridge_closed_form, m)?)?;
    Ok(())
}
