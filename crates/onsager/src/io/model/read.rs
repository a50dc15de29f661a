//! Reading the model file: the header, the tensors in either precision, the metadata, the
//! optimiser state; every problem named with the file.

use std::path::Path;

use ndarray::{Array1, Array2};
use safetensors::tensor::{Dtype, SafeTensors};

use super::{dtype_of, ModelFile, StateMeta, FORMAT_VERSION};
use crate::data::Standardization;
use crate::train::Chains;
use crate::{Error, Float, Rbm, Result, TrainConfig, TrainerState, Visible};

/// The dtype a model file stores (`"float32"` or `"float64"`), read from its header only.
///
/// # Errors
/// As [`load`] for unreadable or foreign files.
pub fn file_dtype(path: impl AsRef<Path>) -> Result<&'static str> {
    let path = path.as_ref();
    let bytes = crate::io::read_file(path)?;
    bytes_dtype(path, &bytes)
}

/// The dtype of a model file in memory (see [`file_dtype`]); `path` names it in errors.
///
/// # Errors
/// As [`file_dtype`].
pub fn bytes_dtype(path: &Path, bytes: &[u8]) -> Result<&'static str> {
    let st = parse(path, bytes)?;
    match st.tensor("weights") {
        Ok(w) => dtype_name(path, w.dtype()),
        Err(_) => Err(bad(
            path,
            "no `weights` tensor: not an onsager model file".into(),
        )),
    }
}

/// The name a model file gives the dtype of its weights (`"float32"` or `"float64"`).
fn dtype_name(path: &Path, d: Dtype) -> Result<&'static str> {
    match d {
        Dtype::F32 => Ok("float32"),
        Dtype::F64 => Ok("float64"),
        d => Err(bad(
            path,
            format!("weights have dtype {d:?}; only F32 and F64 are supported"),
        )),
    }
}

fn bad(path: &Path, reason: String) -> Error {
    Error::Format {
        path: path.to_owned(),
        reason,
    }
}

fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Result<SafeTensors<'a>> {
    SafeTensors::deserialize(bytes)
        .map_err(|e| bad(path, format!("not a readable safetensors file ({e})")))
}

/// Reads a tensor of `T` (converting between F32 and F64 as needed), checking its shape.
fn tensor<T: Float>(
    path: &Path,
    st: &SafeTensors<'_>,
    name: &str,
    shape: &[usize],
) -> Result<Vec<T>> {
    let t = st
        .tensor(name)
        .map_err(|_| bad(path, format!("missing tensor `{name}`")))?;
    if t.shape() != shape {
        return Err(bad(
            path,
            format!(
                "tensor `{name}` has shape {:?}, expected {shape:?}",
                t.shape()
            ),
        ));
    }
    let values: Vec<T> = super::tensor::decode(t.dtype(), t.data()).ok_or_else(|| {
        bad(
            path,
            format!(
                "tensor `{name}` has dtype {:?}; only F32 and F64 are supported",
                t.dtype()
            ),
        )
    })?;
    if let Some(i) = values.iter().position(|x| !x.is_finite()) {
        return Err(bad(
            path,
            format!("tensor `{name}` holds a non-finite value at flat index {i}"),
        ));
    }
    Ok(values)
}

fn matrix<T: Float>(
    path: &Path,
    st: &SafeTensors<'_>,
    name: &str,
    r: usize,
    c: usize,
) -> Result<Array2<T>> {
    Ok(Array2::from_shape_vec((r, c), tensor(path, st, name, &[r, c])?).expect("checked shape"))
}

/// Reads a model file, converting its parameters to `T` if it stores the other precision.
/// The optimiser state is read only when the file's dtype is `T`'s (a checkpoint resumes in
/// the precision it was written in).
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Format`] naming the file for a truncated
/// or foreign file, a missing or misshapen tensor, a non-finite value, an unknown format
/// version, or metadata that does not parse or contradicts the tensors (hidden units, image
/// shape, dtype, the checkpoint's epoch, magnetisations or chain states outside \[0, 1\]).
pub fn load<T: Float>(path: impl AsRef<Path>) -> Result<ModelFile<T>> {
    let path = path.as_ref();
    let bytes = crate::io::read_file(path)?;
    from_bytes(path, &bytes)
}

/// Reads a model file from memory (the bytes [`to_bytes_file`](super::to_bytes_file) gives), as [`load`] does;
/// `path` names where the bytes came from in errors.
///
/// # Errors
/// As [`load`].
pub fn from_bytes<T: Float>(path: &Path, bytes: &[u8]) -> Result<ModelFile<T>> {
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| bad(path, format!("not a readable safetensors file ({e})")))?;
    let meta = header.metadata().clone().unwrap_or_default();
    match meta.get("format").map(String::as_str) {
        Some("onsager-rbm") => {}
        _ => {
            return Err(bad(
                path,
                "not an onsager model file (no `format: onsager-rbm` metadata)".into(),
            ))
        }
    }
    // A metadata entry that is present must read as what it claims to be.
    let number = |key: &str| -> Result<Option<u64>> {
        match meta.get(key) {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| {
                bad(
                    path,
                    format!("metadata `{key}` = `{v}` is not a whole number ≥ 0"),
                )
            }),
        }
    };
    let version = number("format_version")?.unwrap_or(0);
    if version != u64::from(FORMAT_VERSION) {
        return Err(bad(
            path,
            format!(
                "format version {version} is not supported (this build reads {FORMAT_VERSION})"
            ),
        ));
    }
    let st = parse(path, bytes)?;
    let w_info = st
        .tensor("weights")
        .map_err(|_| bad(path, "missing tensor `weights`".into()))?;
    let (nv, nh) = match w_info.shape() {
        [r, c] => (*r, *c),
        s => {
            return Err(bad(
                path,
                format!("tensor `weights` has shape {s:?}, expected 2 dimensions"),
            ))
        }
    };
    let same_dtype = w_info.dtype() == dtype_of::<T>();
    let stored = dtype_name(path, w_info.dtype())?;
    if let Some(d) = meta.get("dtype") {
        if d != stored {
            return Err(bad(
                path,
                format!("metadata `dtype` = `{d}` but the tensors are {stored}"),
            ));
        }
    }
    let w = matrix(path, &st, "weights", nv, nh)?;
    let a = Array1::from(tensor(path, &st, "visible_bias", &[nv])?);
    let b = Array1::from(tensor(path, &st, "hidden_bias", &[nh])?);
    let beta: f64 = match meta.get("beta") {
        None => 1.0,
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| bad(path, format!("metadata `beta` = `{v}` is not a number")))?,
    };
    // Files written before unit types were recorded hold Bernoulli models.
    let visible: Visible = match meta.get("visible_units") {
        Some(v) => v
            .parse()
            .map_err(|_| bad(path, format!("unknown visible unit type `{v}`")))?,
        None => Visible::Bernoulli,
    };
    // Real-valued units carry their σ; Bernoulli files have none.
    let sigma = if visible.is_real() {
        Array1::from(tensor(path, &st, "visible_sigma", &[nv])?)
    } else {
        Array1::ones(nv)
    };
    let rbm = Rbm::from_parts(w, a, b)
        .and_then(|r| r.with_beta(T::of(beta)))
        .and_then(|r| r.with_visible(visible, sigma))
        .map_err(|e| bad(path, e.to_string()))?;
    let json_err = |what: &str, e: serde_json::Error| {
        bad(path, format!("metadata `{what}` is not valid: {e}"))
    };
    let params = match meta.get("params") {
        Some(p) => Some(serde_json::from_str::<TrainConfig>(p).map_err(|e| json_err("params", e))?),
        None => None,
    };
    if let Some(p) = &params {
        if p.n_hidden != nh {
            return Err(bad(
                path,
                format!(
                    "metadata `params` says n_hidden = {} but the tensors have {nh} hidden units",
                    p.n_hidden
                ),
            ));
        }
    }
    let history = match meta.get("history") {
        Some(h) => serde_json::from_str(h).map_err(|e| json_err("history", e))?,
        None => Vec::new(),
    };
    let image_shape = match meta.get("image_shape") {
        Some(s) => {
            let v: [usize; 2] = serde_json::from_str(s).map_err(|e| json_err("image_shape", e))?;
            if v[0].checked_mul(v[1]) != Some(nv) {
                return Err(bad(
                    path,
                    format!(
                        "metadata `image_shape` = {}×{} does not hold the {nv} visible units",
                        v[0], v[1]
                    ),
                ));
            }
            Some((v[0], v[1]))
        }
        None => None,
    };
    let epochs_completed = number("epochs_completed")?.unwrap_or(0) as usize;
    let state = match meta.get("state") {
        Some(s) if same_dtype => {
            let sm: StateMeta = serde_json::from_str(s).map_err(|e| json_err("state", e))?;
            if sm.epoch != epochs_completed {
                return Err(bad(
                    path,
                    format!(
                        "the checkpoint's state is at epoch {} but `epochs_completed` = {epochs_completed}",
                        sm.epoch
                    ),
                ));
            }
            let velocity = matrix(path, &st, "state.velocity", nv, nh)?;
            // Chain states and magnetisations are probabilities (the library's own check).
            let unit = |name: &'static str, x: &Array2<T>| {
                crate::check::unit_data(name, &x.view(), x.ncols())
                    .map_err(|e| bad(path, format!("tensor `{name}`: {e}")))
            };
            let chains = if let Some(rngs) = sm.pcd_rngs {
                let c = rngs.len();
                let v = matrix(path, &st, "state.pcd.v", c, nv)?;
                // Gibbs chains hold visible states of the model's own type.
                visible
                    .check_data("state.pcd.v", &v.view(), nv)
                    .map_err(|e| bad(path, format!("tensor `state.pcd.v`: {e}")))?;
                Some(Chains::Gibbs { v, rngs })
            } else if let Ok(t) = st.tensor("state.emf.m_v") {
                let rows = t.shape().first().copied().unwrap_or(0);
                let m_v = matrix(path, &st, "state.emf.m_v", rows, nv)?;
                let m_h = matrix(path, &st, "state.emf.m_h", rows, nh)?;
                // Visible magnetisations are means of the model's own units.
                visible
                    .check_data("state.emf.m_v", &m_v.view(), nv)
                    .map_err(|e| bad(path, format!("tensor `state.emf.m_v`: {e}")))?;
                unit("state.emf.m_h", &m_h)?;
                Some(Chains::Magnetisations {
                    m_v,
                    m_h,
                    reseed_cursor: sm.emf_reseed_cursor,
                })
            } else {
                None
            };
            Some(TrainerState {
                epoch: sm.epoch,
                bias_initialised: sm.bias_initialised,
                velocity,
                chains,
                cd_rngs: sm.cd_rngs,
                order_rng: sm.order_rng,
            })
        }
        _ => None,
    };
    let input = match st.tensor("input.mean") {
        Ok(_) => Some(
            Standardization::from_parts(
                Array1::from(tensor::<f64>(path, &st, "input.mean", &[nv])?),
                Array1::from(tensor::<f64>(path, &st, "input.std", &[nv])?),
            )
            .map_err(|e| bad(path, format!("stored standardisation: {e}")))?,
        ),
        Err(_) => None,
    };
    let extra = meta
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("extra.").map(|k| (k.to_string(), v.clone())))
        .collect();
    Ok(ModelFile {
        rbm,
        params,
        epochs_completed,
        history,
        image_shape,
        state,
        input,
        extra,
    })
}
