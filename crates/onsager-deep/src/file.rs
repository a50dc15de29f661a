//! The network file: one safetensors file holding a stack (its RBMs in order, each with the
//! settings it was trained with) and/or a supervised network, written atomically.
//!
//! # Layout
//! Tensors in the file's dtype (`F32` or `F64`), little-endian, C order:
//!
//! | name | shape | |
//! |---|---|---|
//! | `stack.K.weights` | (nv, nh) | RBM K's W |
//! | `stack.K.visible_bias`, `stack.K.hidden_bias` | (nv,), (nh,) | a, b |
//! | `stack.K.visible_sigma` | (nv,) | σ of real-valued visible units (absent for Bernoulli) |
//! | `mlp.K.weights`, `mlp.K.bias` | (in, out), (out,) | layer K of the network (the one to keep) |
//! | `resume.velocity.K.weights`, `.bias` | as `mlp.K` | the momentum velocity of a run to continue |
//! | `resume.current.K.weights`, `.bias` | as `mlp.K` | its last epoch's network, when that is not the kept one |
//! | `resume.best.K.weights`, `.bias` | as `mlp.K` | its best validated network, when that is not the kept one |
//!
//! Metadata: `format` = `onsager-deep`, `format_version` = `1`, `dtype`, `stack_layers`,
//! `stack.K.params` (the layer's `TrainConfig` as JSON), `stack.K.visible_units`,
//! `mlp_layers`, `mlp_activation`, and `extra.KEY` entries for applications. A file that can
//! continue training ([`Resume`]) also has `resume.sgd` (the [`Sgd`] settings as JSON),
//! `resume.history` (the [`crate::EpochRecord`]s as JSON), `resume.best` (`{"epoch",
//! "validation_error"}` as JSON, absent before a validated epoch), and `resume.current` and
//! `resume.best_layers`, each `mlp` (the same as the kept network, not stored twice) or
//! `tensors`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use ndarray::{Array1, Array2};
use onsager::io::model::tensor::{decode, dtype_of, encode};
use onsager::{Float, Rbm, TrainConfig, Visible};
use safetensors::tensor::{SafeTensors, TensorView};

use crate::{Activation, Best, Error, FitState, Layer, Mlp, Result, Sgd, Stack};

/// What a network file holds.
#[derive(Clone, Debug, PartialEq)]
pub struct DeepFile<T: Float = f32> {
    /// A pretrained stack, if any.
    pub stack: Option<Stack<T>>,
    /// A supervised network, if any (a fine-tuned stack keeps its stack for its provenance).
    pub mlp: Option<Mlp<T>>,
    /// Application notes (`extra.KEY` metadata).
    pub extra: BTreeMap<String, String>,
    /// What continues the run that trained `mlp`, if the file keeps it.
    pub resume: Option<Resume<T>>,
}

/// A training run to continue with [`crate::fit_from`]: its settings, its last epoch's network
/// and its state.
#[derive(Clone, Debug, PartialEq)]
pub struct Resume<T: Float = f32> {
    /// The settings the run trains with (`epochs` its total so far).
    pub sgd: Sgd,
    /// The network after the last finished epoch (the kept one is [`DeepFile::mlp`]).
    pub current: Mlp<T>,
    /// The momentum, history and best epoch.
    pub state: FitState<T>,
}

/// The metadata `resume.best`: the best validated epoch without its layers.
#[derive(serde::Serialize, serde::Deserialize)]
struct BestMark {
    epoch: usize,
    validation_error: f64,
}

/// Appends the tensors `PREFIX.K.weights` and `PREFIX.K.bias` of `layers`.
fn push_layers<T: Float>(
    tensors: &mut Vec<(String, Vec<usize>, Vec<u8>)>,
    prefix: &str,
    layers: &[Layer<T>],
) {
    for (k, layer) in layers.iter().enumerate() {
        tensors.push((
            format!("{prefix}.{k}.weights"),
            layer.weights.shape().to_vec(),
            encode(layer.weights.iter().copied()),
        ));
        tensors.push((
            format!("{prefix}.{k}.bias"),
            vec![layer.bias.len()],
            encode(layer.bias.iter().copied()),
        ));
    }
}

fn format_error(path: &Path, reason: String) -> Error {
    Error::Format {
        path: path.to_owned(),
        reason,
    }
}

/// Writes `file` to `path` atomically (a temporary name, then a rename).
///
/// # Errors
/// [`Error::Rbm`] wrapping the library's I/O error naming the path.
pub fn save<T: Float>(path: impl AsRef<Path>, file: &DeepFile<T>) -> Result<()> {
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let mut meta = HashMap::from([
        ("format".to_string(), "onsager-deep".to_string()),
        ("format_version".into(), "1".into()),
        ("dtype".into(), T::DTYPE.into()),
    ]);
    if let Some(stack) = &file.stack {
        meta.insert("stack_layers".into(), stack.rbms.len().to_string());
        for (k, (rbm, params)) in stack.rbms.iter().zip(&stack.params).enumerate() {
            let w = rbm.weights();
            tensors.push((
                format!("stack.{k}.weights"),
                w.shape().to_vec(),
                encode(w.iter().copied()),
            ));
            for (name, v) in [
                ("visible_bias", rbm.visible_bias()),
                ("hidden_bias", rbm.hidden_bias()),
            ] {
                tensors.push((
                    format!("stack.{k}.{name}"),
                    vec![v.len()],
                    encode(v.iter().copied()),
                ));
            }
            if let Some(sigma) = rbm.sigma() {
                tensors.push((
                    format!("stack.{k}.visible_sigma"),
                    vec![sigma.len()],
                    encode(sigma.iter().copied()),
                ));
            }
            meta.insert(
                format!("stack.{k}.params"),
                serde_json::to_string(&params.clone().into_config()).expect("plain data"),
            );
            meta.insert(
                format!("stack.{k}.visible_units"),
                rbm.visible_units().to_string(),
            );
        }
    }
    if let Some(mlp) = &file.mlp {
        meta.insert("mlp_layers".into(), mlp.layers().len().to_string());
        meta.insert("mlp_activation".into(), mlp.hidden_activation().to_string());
        push_layers(&mut tensors, "mlp", mlp.layers());
    }
    if let Some(r) = &file.resume {
        let kept = file.mlp.as_ref().map(Mlp::layers);
        meta.insert(
            "resume.sgd".into(),
            serde_json::to_string(&r.sgd).expect("plain data"),
        );
        meta.insert(
            "resume.history".into(),
            serde_json::to_string(&r.state.history).expect("plain data"),
        );
        push_layers(&mut tensors, "resume.velocity", &r.state.velocity);
        // Layers equal to the kept network's are stored once, as `mlp`.
        let mut group = |key: &str, prefix: &str, layers: &[Layer<T>]| {
            let stored = if kept == Some(layers) {
                "mlp"
            } else {
                push_layers(&mut tensors, prefix, layers);
                "tensors"
            };
            meta.insert(key.into(), stored.into());
        };
        group("resume.current", "resume.current", r.current.layers());
        if let Some(b) = &r.state.best {
            group("resume.best_layers", "resume.best", &b.layers);
            let mark = BestMark {
                epoch: b.epoch,
                validation_error: b.validation_error,
            };
            meta.insert(
                "resume.best".into(),
                serde_json::to_string(&mark).expect("plain data"),
            );
        }
    }
    for (k, v) in &file.extra {
        meta.insert(format!("extra.{k}"), v.clone());
    }
    let dtype = dtype_of::<T>();
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, shape, data)| {
            (
                n.clone(),
                TensorView::new(dtype, shape.clone(), data).expect("sizes match"),
            )
        })
        .collect();
    let out = safetensors::tensor::serialize(views, Some(meta))
        .map_err(|e| format_error(path.as_ref(), e.to_string()))?;
    Ok(onsager::io::write_atomic(path.as_ref(), &out)?)
}

/// Reads a network file, converting its tensors to `T` if it stores the other precision.
///
/// # Errors
/// [`Error::Rbm`] if the file cannot be read; [`Error::Format`] naming the file for a foreign
/// or damaged file: missing or misshapen tensors, non-finite values, metadata that does not
/// parse, layers that do not chain.
pub fn load<T: Float>(path: impl AsRef<Path>) -> Result<DeepFile<T>> {
    let path = path.as_ref();
    let raw = onsager::io::read_file(path)?;
    let bad = |reason: String| format_error(path, reason);
    let (_, header) = SafeTensors::read_metadata(&raw)
        .map_err(|e| bad(format!("not a readable safetensors file ({e})")))?;
    let meta = header.metadata().clone().unwrap_or_default();
    if meta.get("format").map(String::as_str) != Some("onsager-deep") {
        return Err(bad(
            "not an onsager network file (no `format: onsager-deep` metadata)".into(),
        ));
    }
    if meta.get("format_version").map(String::as_str) != Some("1") {
        return Err(bad(format!(
            "format version {:?} is not supported (this build reads 1)",
            meta.get("format_version")
        )));
    }
    let st = SafeTensors::deserialize(&raw)
        .map_err(|e| bad(format!("not a readable safetensors file ({e})")))?;
    let count = |key: &str| -> Result<usize> {
        match meta.get(key) {
            None => Ok(0),
            Some(v) => v
                .parse()
                .map_err(|_| bad(format!("metadata `{key}` = `{v}` is not a whole number"))),
        }
    };
    let tensor = |name: &str| -> Result<(Vec<usize>, Vec<T>)> {
        let t = st
            .tensor(name)
            .map_err(|_| bad(format!("missing tensor `{name}`")))?;
        let values: Vec<T> = decode(t.dtype(), t.data())
            .ok_or_else(|| bad(format!("tensor `{name}` has dtype {:?}", t.dtype())))?;
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(bad(format!(
                "tensor `{name}` holds a non-finite value at flat index {i}"
            )));
        }
        Ok((t.shape().to_vec(), values))
    };
    let matrix = |name: &str| -> Result<Array2<T>> {
        match tensor(name)? {
            (shape, v) if shape.len() == 2 => {
                Ok(Array2::from_shape_vec((shape[0], shape[1]), v).expect("shape"))
            }
            (shape, _) => Err(bad(format!(
                "tensor `{name}` has shape {shape:?}, expected 2 dimensions"
            ))),
        }
    };
    let vector = |name: &str| -> Result<Array1<T>> {
        match tensor(name)? {
            (shape, v) if shape.len() == 1 => Ok(Array1::from(v)),
            (shape, _) => Err(bad(format!(
                "tensor `{name}` has shape {shape:?}, expected 1 dimension"
            ))),
        }
    };
    let layers = |prefix: &str, count: usize| -> Result<Vec<Layer<T>>> {
        (0..count)
            .map(|k| {
                Ok(Layer {
                    weights: matrix(&format!("{prefix}.{k}.weights"))?,
                    bias: vector(&format!("{prefix}.{k}.bias"))?,
                })
            })
            .collect()
    };
    let stack_layers = count("stack_layers")?;
    let stack = if stack_layers == 0 {
        None
    } else {
        let mut rbms = Vec::new();
        let mut params = Vec::new();
        for k in 0..stack_layers {
            let key = format!("stack.{k}.params");
            let config: TrainConfig = serde_json::from_str(
                meta.get(&key)
                    .ok_or_else(|| bad(format!("missing metadata `{key}`")))?,
            )
            .map_err(|e| bad(format!("metadata `{key}` is not valid: {e}")))?;
            params.push(
                config
                    .build()
                    .map_err(|e| bad(format!("metadata `{key}`: {e}")))?,
            );
            let units_key = format!("stack.{k}.visible_units");
            let visible: Visible = match meta.get(&units_key) {
                Some(v) => v.parse().map_err(|_| {
                    bad(format!("unknown visible unit type `{v}` in `{units_key}`"))
                })?,
                None => Visible::Bernoulli,
            };
            let w = matrix(&format!("stack.{k}.weights"))?;
            let sigma = if visible.is_real() {
                vector(&format!("stack.{k}.visible_sigma"))?
            } else {
                Array1::ones(w.nrows())
            };
            let rbm = Rbm::from_parts(
                w,
                vector(&format!("stack.{k}.visible_bias"))?,
                vector(&format!("stack.{k}.hidden_bias"))?,
            )
            .and_then(|r| r.with_visible(visible, sigma))
            .map_err(|e| bad(format!("stack layer {k}: {e}")))?;
            if let Some(prev) = rbms.last() {
                let prev: &Rbm<T> = prev;
                if prev.n_hidden() != rbm.n_visible() {
                    return Err(bad(format!(
                        "stack layer {k} has {} visible units but layer {} has {} hidden units",
                        rbm.n_visible(),
                        k - 1,
                        prev.n_hidden()
                    )));
                }
            }
            rbms.push(rbm);
        }
        Some(Stack { rbms, params })
    };
    let mlp_layers = count("mlp_layers")?;
    let mlp = if mlp_layers == 0 {
        None
    } else {
        let activation: Activation = meta
            .get("mlp_activation")
            .ok_or_else(|| bad("missing metadata `mlp_activation`".into()))?
            .parse()
            .map_err(|e| bad(format!("metadata `mlp_activation`: {e}")))?;
        let layers = layers("mlp", mlp_layers)?;
        Some(Mlp::from_layers(layers, activation).map_err(|e| bad(e.to_string()))?)
    };
    let resume = match meta.get("resume.sgd") {
        None => None,
        Some(sgd) => {
            let kept = mlp
                .as_ref()
                .ok_or_else(|| bad("`resume.sgd` without a network (`mlp_layers`)".into()))?;
            let text = |key: &str| -> Result<&String> {
                meta.get(key)
                    .ok_or_else(|| bad(format!("missing metadata `{key}`")))
            };
            let invalid = |key: &str, e: serde_json::Error| {
                bad(format!("metadata `{key}` is not valid: {e}"))
            };
            let sgd: Sgd = serde_json::from_str(sgd).map_err(|e| invalid("resume.sgd", e))?;
            let history = serde_json::from_str(text("resume.history")?)
                .map_err(|e| invalid("resume.history", e))?;
            let group = |key: &str, prefix: &str| -> Result<Vec<Layer<T>>> {
                match meta.get(key).map(String::as_str) {
                    Some("mlp") => Ok(kept.layers().to_vec()),
                    Some("tensors") => layers(prefix, mlp_layers),
                    other => Err(bad(format!(
                        "metadata `{key}` is {other:?}, expected `mlp` or `tensors`"
                    ))),
                }
            };
            let current = Mlp::from_layers(
                group("resume.current", "resume.current")?,
                kept.hidden_activation(),
            )
            .map_err(|e| bad(format!("resume.current: {e}")))?;
            let best = match meta.get("resume.best") {
                None => None,
                Some(_) => {
                    let mark: BestMark = serde_json::from_str(text("resume.best")?)
                        .map_err(|e| invalid("resume.best", e))?;
                    Some(Best {
                        epoch: mark.epoch,
                        validation_error: mark.validation_error,
                        layers: group("resume.best_layers", "resume.best")?,
                    })
                }
            };
            let state = FitState {
                history,
                velocity: layers("resume.velocity", mlp_layers)?,
                best,
            };
            Some(Resume {
                sgd,
                current,
                state,
            })
        }
    };
    let extra = meta
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("extra.").map(|k| (k.to_string(), v.clone())))
        .collect();
    Ok(DeepFile {
        stack,
        mlp,
        extra,
        resume,
    })
}
