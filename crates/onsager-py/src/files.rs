//! Model files from Python: `save` (atomic, readable by the command line) beside `load`.

use numpy::IntoPyArray;
use std::collections::BTreeMap;
use std::path::Path;

use onsager::io::model::{self, ModelFile};
use onsager::{EpochMetrics, Rbm, TrainConfig};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::convert::{model_tuple, rbm_of, ModelArgs, Num};
use crate::error::py_err;
use crate::training::config_of;
use crate::CHECKPOINT;

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
#[pyo3(signature = (path, model, options=None, history="[]", checkpoint=None, extra=BTreeMap::new()))]
pub fn save<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
    model: ModelArgs<'py>,
    options: Option<Vec<(String, String)>>,
    history: &str,
    checkpoint: Option<Vec<u8>>,
    extra: BTreeMap<String, String>,
) -> PyResult<()> {
    let config = options.as_deref().map(config_of).transpose()?;
    let history: Vec<EpochMetrics> = serde_json::from_str(history)
        .map_err(|e| PyValueError::new_err(format!("history is not valid: {e}")))?;
    let path = path.to_string_lossy().into_owned();
    let ck = checkpoint.as_deref();
    match model {
        ModelArgs::F32(c, a, b, v, s) => {
            let rbm = rbm_of(&c, &a, &b, &v, &s)?;
            py.detach(|| save_t(&path, rbm, config, history, ck, extra))
        }
        ModelArgs::F64(c, a, b, v, s) => {
            let rbm = rbm_of(&c, &a, &b, &v, &s)?;
            py.detach(|| save_t(&path, rbm, config, history, ck, extra))
        }
    }
}

fn load_t<'py, T: Num>(py: Python<'py>, path: &Path, bytes: &[u8]) -> PyResult<Bound<'py, PyDict>> {
    let file = model::from_bytes::<T>(path, bytes).map_err(py_err)?;
    let d = PyDict::new(py);
    d.set_item("model", model_tuple(py, &file.rbm)?)?;
    d.set_item("options", file.params.as_ref().map(|c| c.to_options()))?;
    d.set_item(
        "history",
        serde_json::to_string(&file.history).expect("metrics serialise"),
    )?;
    d.set_item("epochs_completed", file.epochs_completed)?;
    d.set_item("extra", file.extra.clone())?;
    // The command line's standardisation of the training data (means, standard deviations).
    let input = file.input.as_ref().map(|m| {
        (
            m.mean().to_owned().into_pyarray(py),
            m.std().to_owned().into_pyarray(py),
        )
    });
    d.set_item("input", input)?;
    d.set_item(
        "checkpoint",
        file.state.is_some().then(|| PyBytes::new(py, bytes)),
    )?;
    Ok(d)
}

/// Reads a model file written by the command line or by [`save`].
#[pyfunction]
pub fn load<'py>(py: Python<'py>, path: std::path::PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let bytes = onsager::io::read_file(&path).map_err(py_err)?;
    let dtype = model::bytes_dtype(&path, &bytes).map_err(py_err)?;
    if dtype == "float32" {
        load_t::<f32>(py, &path, &bytes)
    } else {
        load_t::<f64>(py, &path, &bytes)
    }
}
