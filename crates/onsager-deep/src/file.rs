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
//! | `mlp.K.weights`, `mlp.K.bias` | (in, out), (out,) | layer K of the network |
//!
//! Metadata: `format` = `onsager-deep`, `format_version` = `1`, `dtype`, `stack_layers`,
//! `stack.K.params` (the layer's `TrainConfig` as JSON), `stack.K.visible_units`,
//! `mlp_layers`, `mlp_activation`, and `extra.KEY` entries for applications.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use ndarray::{Array1, Array2};
use onsager::io::model::tensor::{decode, dtype_of, encode};
use onsager::{Float, Rbm, TrainConfig, Visible};
use safetensors::tensor::{SafeTensors, TensorView};

use crate::{Activation, Error, Layer, Mlp, Result, Stack};

/// What a network file holds.
#[derive(Clone, Debug, PartialEq)]
pub struct DeepFile<T: Float = f32> {
    /// A pretrained stack, if any.
    pub stack: Option<Stack<T>>,
    /// A supervised network, if any (a fine-tuned stack keeps its stack for its provenance).
    pub mlp: Option<Mlp<T>>,
    /// Application notes (`extra.KEY` metadata).
    pub extra: BTreeMap<String, String>,
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
        for (k, layer) in mlp.layers().iter().enumerate() {
            tensors.push((
                format!("mlp.{k}.weights"),
                layer.weights.shape().to_vec(),
                encode(layer.weights.iter().copied()),
            ));
            tensors.push((
                format!("mlp.{k}.bias"),
                vec![layer.bias.len()],
                encode(layer.bias.iter().copied()),
            ));
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
        let layers = (0..mlp_layers)
            .map(|k| {
                Ok(Layer {
                    weights: matrix(&format!("mlp.{k}.weights"))?,
                    bias: vector(&format!("mlp.{k}.bias"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Some(Mlp::from_layers(layers, activation).map_err(|e| bad(e.to_string()))?)
    };
    let extra = meta
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("extra.").map(|k| (k.to_string(), v.clone())))
        .collect();
    Ok(DeepFile { stack, mlp, extra })
}
