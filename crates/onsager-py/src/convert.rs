//! Crossing between numpy and the library: the model tuple, data arrays in either dtype, and
//! the dispatch on the dtype they share.

use ndarray::Array1;
use numpy::{Element, IntoPyArray, PyReadonlyArray1, PyReadonlyArray2};
use onsager::{Float, Rbm, Visible};
use pyo3::prelude::*;

use crate::error::py_err;

/// A float type numpy and onsager both know.
pub trait Num: Float + Element {}
impl Num for f32 {}
impl Num for f64 {}

/// A model tuple `(components, intercept_visible, intercept_hidden, visible, sigma)`, in
/// either dtype: `visible` is the visible units' type as the library writes it
/// (`onsager::Visible`'s text) and `sigma` their standard deviations (ones for Bernoulli units).
#[derive(FromPyObject)]
pub enum ModelArgs<'py> {
    F32(
        PyReadonlyArray2<'py, f32>,
        PyReadonlyArray1<'py, f32>,
        PyReadonlyArray1<'py, f32>,
        String,
        PyReadonlyArray1<'py, f32>,
    ),
    F64(
        PyReadonlyArray2<'py, f64>,
        PyReadonlyArray1<'py, f64>,
        PyReadonlyArray1<'py, f64>,
        String,
        PyReadonlyArray1<'py, f64>,
    ),
}

/// A 2-D data array, in either dtype.
#[derive(FromPyObject)]
pub enum Data<'py> {
    F32(PyReadonlyArray2<'py, f32>),
    F64(PyReadonlyArray2<'py, f64>),
}

/// The library's model from the parts of a model tuple, checked (shapes, finite values, the
/// unit type's text, σ finite and positive).
pub fn rbm_of<T: Num>(
    c: &PyReadonlyArray2<'_, T>,
    a: &PyReadonlyArray1<'_, T>,
    b: &PyReadonlyArray1<'_, T>,
    visible: &str,
    sigma: &PyReadonlyArray1<'_, T>,
) -> PyResult<Rbm<T>> {
    let w = c.as_array().t().as_standard_layout().into_owned();
    let visible: Visible = visible.parse().map_err(py_err)?;
    Rbm::from_parts(w, a.as_array().to_owned(), b.as_array().to_owned())
        .and_then(|rbm| rbm.with_visible(visible, sigma.as_array().to_owned()))
        .map_err(py_err)
}

/// Calls `$f::<T>(py, rbm, data_view, ...)` for the dtype shared by the model and the data.
#[macro_export]
macro_rules! dispatch {
    ($py:expr, $model:expr, $data:expr, $f:ident $(, $arg:expr)*) => {
        match ($model, $data) {
            ($crate::convert::ModelArgs::F32(c, a, b, v, s), $crate::convert::Data::F32(x)) => {
                let rbm = $crate::convert::rbm_of(&c, &a, &b, &v, &s)?;
                $f::<f32>($py, &rbm, x.as_array() $(, $arg)*)
            }
            ($crate::convert::ModelArgs::F64(c, a, b, v, s), $crate::convert::Data::F64(x)) => {
                let rbm = $crate::convert::rbm_of(&c, &a, &b, &v, &s)?;
                $f::<f64>($py, &rbm, x.as_array() $(, $arg)*)
            }
            _ => Err(pyo3::exceptions::PyTypeError::new_err(
                "the model and the data must have the same dtype (float32 or float64)",
            )),
        }
    };
}

/// The model as the tuple (components, intercept_visible, intercept_hidden, visible, sigma):
/// numpy arrays, the unit type's text, and σ (ones for Bernoulli units).
pub fn model_tuple<'py, T: Num>(py: Python<'py>, rbm: &Rbm<T>) -> PyResult<Bound<'py, PyAny>> {
    let c = rbm.weights().t().as_standard_layout().into_owned();
    let a = rbm.visible_bias().to_owned();
    let b = rbm.hidden_bias().to_owned();
    let sigma = match rbm.sigma() {
        Some(s) => s.to_owned(),
        None => Array1::ones(rbm.n_visible()),
    };
    Ok((
        c.into_pyarray(py),
        a.into_pyarray(py),
        b.into_pyarray(py),
        rbm.visible_units().to_string(),
        sigma.into_pyarray(py),
    )
        .into_pyobject(py)?
        .into_any())
}

/// What the library makes of a visible unit type's text: (its canonical text, the interval
/// \[low, high\] its values lie in, ±∞ for Gaussian units, whether it is real-valued).
/// Python's range checks and messages read it, so the text is parsed in one place.
#[pyfunction]
pub fn visible_units(text: &str) -> PyResult<(String, f64, f64, bool)> {
    let v: Visible = text.parse().map_err(py_err)?;
    let (low, high) = v.range();
    Ok((v.to_string(), low, high, v.is_real()))
}

/// The address of the first element as Rust sees it: equal to numpy's `ctypes.data` when the
/// array crossed without a copy (the tests check this).
#[pyfunction]
pub fn data_address(x: Data<'_>) -> usize {
    match x {
        Data::F32(x) => x.as_array().as_ptr() as usize,
        Data::F64(x) => x.as_array().as_ptr() as usize,
    }
}
