//! Library errors as the Python exceptions a scikit-learn user expects, parameters named as the
//! estimators spell them.

use onsager::Error;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::PyErr;

/// The library's parameter names, as the Python estimators spell them.
pub fn python_name(name: &str) -> &str {
    match name {
        "n_hidden" => "n_components",
        "epochs" => "n_iter",
        "decay" => "weight_decay",
        "chains" => "n_chains",
        "schedule" => "learning_rate_schedule",
        "seed" => "random_state",
        "threads" => "n_threads",
        "visible_units" => "visible",
        other => other,
    }
}

/// Maps a library error to the Python exception a scikit-learn user expects.
pub fn py_err(e: Error) -> PyErr {
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
        Error::Output { .. } => PyOSError::new_err(e.to_string()),
        Error::Diverged { .. } | Error::Numerical { .. } => PyRuntimeError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}
