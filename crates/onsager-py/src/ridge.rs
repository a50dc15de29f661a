//! Ridge regression by one SVD (the `onsager-ridge` crate) for `onsager_rbm.TikhonovRidgeCV`:
//! the path over a grid, the choice, the coefficients and the diagnostics in one call, with the
//! GIL released.

use numpy::{IntoPyArray, PyReadonlyArray1, PyReadonlyArray2};
use onsager_ridge::{DangerZone, Filter, FilterKind, Problem, Selection};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// A ridge error as the ValueError scikit-learn users expect (every ridge error is bad input
/// or a bad setting).
fn ridge_err(e: onsager_ridge::Error) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// Fits X (n × p, float64) to y: the path over `alphas` (Tikhonov; empty: the default grid,
/// `onsager_ridge::default_alphas`) or k = rank … 1 (`filter`
/// 'tsvd'), the choice by `selection` ('gcv', 'loo', 'lcurve'), its coefficients and intercept,
/// the criterion curves, the Picard plot and the danger-zone assessment (`band`). Returns a
/// dict of arrays and numbers.
#[pyfunction]
#[pyo3(signature = (x, y, alphas, selection, filter, fit_intercept, band))]
pub fn ridge_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray1<'py, f64>,
    alphas: Vec<f64>,
    selection: &str,
    filter: &str,
    fit_intercept: bool,
    band: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let selection: Selection = selection.parse().map_err(ridge_err)?;
    let kind: FilterKind = filter.parse().map_err(ridge_err)?;
    let zone = DangerZone { band };
    zone.check().map_err(ridge_err)?;
    let (x, y) = (x.as_array(), y.as_array());
    let (problem, choice, (coef, intercept)) = py
        .detach(|| {
            let problem = Problem::new(x, y, fit_intercept)?;
            let grid = if alphas.is_empty() {
                onsager_ridge::default_alphas(&problem)
            } else {
                alphas
            };
            let choice = problem.select(kind, &grid, selection)?;
            let fit = problem.coefficients(choice.filter)?;
            Ok((problem, choice, fit))
        })
        .map_err(ridge_err)?;
    let d = PyDict::new(py);
    let column = |get: &dyn Fn(&onsager_ridge::PathPoint) -> f64| -> Vec<f64> {
        choice.path.iter().map(get).collect()
    };
    d.set_item("coef", coef.into_pyarray(py))?;
    d.set_item("intercept", intercept)?;
    d.set_item("alpha", choice.filter.parameter())?;
    d.set_item("index", choice.index)?;
    d.set_item("on_edge", choice.on_edge)?;
    d.set_item("path_alphas", column(&|p| p.filter.parameter()))?;
    d.set_item("residual_norms", column(&|p| p.residual_norm))?;
    d.set_item("solution_norms", column(&|p| p.solution_norm))?;
    d.set_item("dof", column(&|p| p.dof))?;
    d.set_item("gcv", column(&|p| p.gcv))?;
    d.set_item("loo", column(&|p| p.loo))?;
    d.set_item("criterion", choice.criterion.clone())?;
    let picard = problem.picard();
    d.set_item("singular_values", picard.singular_values)?;
    d.set_item("coordinates", picard.coordinates)?;
    d.set_item("picard_ratios", picard.ratios)?;
    d.set_item("rank", problem.rank())?;
    d.set_item("condition_number", problem.condition_number())?;
    let danger = match choice.filter {
        Filter::Tikhonov(a) => zone.assess(&problem, a).map(|d| d.message()),
        Filter::Truncated(_) => None,
    };
    d.set_item("danger", danger)?;
    Ok(d)
}

/// A matrix and a vector, as numpy arrays.
type MatrixAndVector<'py> = (
    Bound<'py, numpy::PyArray2<f64>>,
    Bound<'py, numpy::PyArray1<f64>>,
);

/// Shaw's test problem of size `n` (`onsager_ridge::problems::shaw`): (A, x).
#[pyfunction]
pub fn ridge_shaw<'py>(py: Python<'py>, n: usize) -> PyResult<MatrixAndVector<'py>> {
    if n == 0 {
        return Err(PyValueError::new_err("shaw: n must be at least 1"));
    }
    let (a, x) = onsager_ridge::problems::shaw(n);
    Ok((a.into_pyarray(py), x.into_pyarray(py)))
}

/// The closed-form expected error (bias², variance) of minimum-norm least squares on an
/// isotropic Gaussian design (`onsager_ridge::theory::closed_form`), or None next to the pole.
#[pyfunction]
pub fn ridge_closed_form(n: usize, p: usize, sigma: f64, w_norm2: f64) -> Option<(f64, f64)> {
    onsager_ridge::theory::closed_form(n, p, sigma, w_norm2).map(|e| (e.bias2, e.variance))
}
