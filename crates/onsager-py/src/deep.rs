//! Supervised networks (the `onsager-deep` crate) for `onsager_rbm.DBNClassifier`: training
//! (optionally from an RBM stack pretrained in the same call, optionally continuing given
//! layers) and class probabilities, float64 arrays, with the GIL released.

use std::ops::ControlFlow;

use ndarray::Array2;
use numpy::{IntoPyArray, PyReadonlyArray1, PyReadonlyArray2};
use onsager::Method;
use onsager_deep::{fit, Activation, Init, Labelled, Layer, Mlp, Sgd, Stack};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

fn deep_err(e: onsager_deep::Error) -> PyErr {
    match e {
        onsager_deep::Error::Diverged { .. } => PyRuntimeError::new_err(e.to_string()),
        e => PyValueError::new_err(e.to_string()),
    }
}

fn network(
    coefs: Vec<PyReadonlyArray2<'_, f64>>,
    intercepts: Vec<PyReadonlyArray1<'_, f64>>,
    activation: &str,
) -> PyResult<Mlp<f64>> {
    let activation: Activation = activation.parse().map_err(deep_err)?;
    let layers = coefs
        .iter()
        .zip(&intercepts)
        .map(|(w, b)| Layer {
            weights: w.as_array().to_owned(),
            bias: b.as_array().to_owned(),
        })
        .collect();
    Mlp::from_layers(layers, activation).map_err(deep_err)
}

/// Trains a network on X (n × d) and class indices y (0..classes). `start` = (coefs,
/// intercepts) continues those layers (partial_fit); otherwise the layers are `sizes` (hidden
/// sizes), from a stack pretrained by `pretrain` (a method's text) or drawn by `init`
/// ('glorot' or a uniform half-width). Returns a dict: coefs, intercepts (lists of arrays),
/// loss_curve, validation_errors, best_epoch.
#[pyfunction]
#[pyo3(signature = (x, y, classes, hidden, activation, init, pretrain, pretrain_epochs, pretrain_lr, sgd, validation, start))]
#[allow(clippy::type_complexity)]
pub fn deep_fit<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    y: Vec<usize>,
    classes: usize,
    hidden: Vec<usize>,
    activation: &str,
    init: &str,
    pretrain: Option<&str>,
    pretrain_epochs: usize,
    pretrain_lr: f64,
    sgd: (usize, usize, f64, f64, f64, f64, Option<f64>, u64),
    validation: Option<(PyReadonlyArray2<'py, f64>, Vec<usize>)>,
    start: Option<(
        Vec<PyReadonlyArray2<'py, f64>>,
        Vec<PyReadonlyArray1<'py, f64>>,
    )>,
) -> PyResult<Bound<'py, PyDict>> {
    let (epochs, batch_size, learning_rate, decay, min_learning_rate, momentum, clip, seed) = sgd;
    let sgd = Sgd {
        epochs,
        batch_size,
        learning_rate,
        decay,
        min_learning_rate,
        momentum,
        clip,
        seed,
        ..Sgd::default()
    };
    let act: Activation = activation.parse().map_err(deep_err)?;
    let init: Init = init.parse().map_err(deep_err)?;
    let pretrain: Option<Method> = pretrain
        .map(|m| m.parse())
        .transpose()
        .map_err(|e: onsager::Error| PyValueError::new_err(e.to_string()))?;
    let started = match start {
        Some((c, b)) => Some(network(c, b, activation)?),
        None => None,
    };
    let x = x.as_array();
    let val = validation
        .as_ref()
        .map(|(v, vy)| (v.as_array(), vy.as_slice()));
    let (net, fitted) = py
        .detach(|| -> onsager_deep::Result<_> {
            let mut net = match (started, pretrain) {
                (Some(net), _) => net,
                (None, Some(method)) => {
                    let layers = Stack::<f64>::uniform_layers(
                        &hidden,
                        method,
                        pretrain_lr,
                        pretrain_epochs,
                        seed,
                    )?;
                    Stack::pretrain(x, &layers, &mut ())?.to_mlp(classes, init, seed)?
                }
                (None, None) => {
                    let mut sizes = vec![x.ncols()];
                    sizes.extend(&hidden);
                    sizes.push(classes);
                    Mlp::random(&sizes, act, init, seed)?
                }
            };
            let validation = val.map(|(vx, vy)| Labelled { x: vx, y: vy });
            let fitted = fit(
                &mut net,
                Labelled { x, y: &y },
                validation,
                None,
                &sgd,
                &mut |_, _| ControlFlow::Continue(()),
            )?;
            Ok((net, fitted))
        })
        .map_err(deep_err)?;
    let d = PyDict::new(py);
    let coefs: Vec<_> = net
        .layers()
        .iter()
        .map(|l| l.weights.clone().into_pyarray(py))
        .collect();
    let intercepts: Vec<_> = net
        .layers()
        .iter()
        .map(|l| l.bias.clone().into_pyarray(py))
        .collect();
    d.set_item("coefs", coefs)?;
    d.set_item("intercepts", intercepts)?;
    d.set_item(
        "loss_curve",
        fitted
            .history
            .iter()
            .map(|r| r.train_loss)
            .collect::<Vec<_>>(),
    )?;
    d.set_item(
        "validation_errors",
        fitted
            .history
            .iter()
            .filter_map(|r| r.validation_error)
            .collect::<Vec<_>>(),
    )?;
    d.set_item("best_epoch", fitted.best_epoch)?;
    Ok(d)
}

/// Class probabilities of X under the layers (coefs, intercepts) with `activation`.
#[pyfunction]
pub fn deep_predict_proba<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    coefs: Vec<PyReadonlyArray2<'py, f64>>,
    intercepts: Vec<PyReadonlyArray1<'py, f64>>,
    activation: &str,
) -> PyResult<Bound<'py, numpy::PyArray2<f64>>> {
    let net = network(coefs, intercepts, activation)?;
    let x = x.as_array();
    let p: Array2<f64> = py.detach(|| net.predict_proba(x)).map_err(deep_err)?;
    Ok(p.into_pyarray(py))
}
