//! Writing the model file: tensors and metadata, atomically.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::TensorView;
use serde::Serialize;

use super::{dtype_of, ModelFile, StateMeta, FORMAT_VERSION};
use crate::train::Chains;
use crate::{Error, Float, Result};

use super::tensor::encode as to_bytes;

/// Serialises a model file to bytes.
///
/// # Errors
/// [`Error::Format`] if serialisation fails (it does not for valid models).
pub fn to_bytes_file<T: Float>(m: &ModelFile<T>) -> Result<Vec<u8>> {
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = vec![
        (
            "weights".into(),
            m.rbm.w.shape().to_vec(),
            to_bytes(m.rbm.w.iter().copied()),
        ),
        (
            "visible_bias".into(),
            vec![m.rbm.a.len()],
            to_bytes(m.rbm.a.iter().copied()),
        ),
        (
            "hidden_bias".into(),
            vec![m.rbm.b.len()],
            to_bytes(m.rbm.b.iter().copied()),
        ),
    ];
    if let Some(sigma) = m.rbm.sigma() {
        tensors.push((
            "visible_sigma".into(),
            vec![sigma.len()],
            to_bytes(sigma.iter().copied()),
        ));
    }
    // A standardisation is in raw units, kept in f64 whatever the model's precision.
    let mut f64_tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    if let Some(s) = &m.input {
        for (name, v) in [("input.mean", s.mean()), ("input.std", s.std())] {
            f64_tensors.push((
                name.into(),
                vec![v.len()],
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ));
        }
    }
    let mut meta = HashMap::from([
        ("format".to_string(), "onsager-rbm".to_string()),
        ("format_version".into(), FORMAT_VERSION.to_string()),
        ("onsager_version".into(), env!("CARGO_PKG_VERSION").into()),
        ("dtype".into(), T::DTYPE.into()),
        ("beta".into(), m.rbm.beta.f64().to_string()),
        ("visible_units".into(), m.rbm.visible.to_string()),
        ("epochs_completed".into(), m.epochs_completed.to_string()),
        ("history".into(), json(&m.history)),
    ]);
    if let Some(p) = &m.params {
        meta.insert("params".into(), json(p));
    }
    if let Some((r, c)) = m.image_shape {
        meta.insert("image_shape".into(), format!("[{r},{c}]"));
    }
    for (k, v) in &m.extra {
        meta.insert(format!("extra.{k}"), v.clone());
    }
    if let Some(st) = &m.state {
        tensors.push((
            "state.velocity".into(),
            st.velocity.shape().to_vec(),
            to_bytes(st.velocity.iter().copied()),
        ));
        let mut pcd_rngs = None;
        let mut emf_reseed_cursor = 0;
        match &st.chains {
            Some(Chains::Gibbs { v, rngs }) => {
                tensors.push((
                    "state.pcd.v".into(),
                    v.shape().to_vec(),
                    to_bytes(v.iter().copied()),
                ));
                pcd_rngs = Some(rngs.clone());
            }
            Some(Chains::Magnetisations {
                m_v,
                m_h,
                reseed_cursor,
            }) => {
                emf_reseed_cursor = *reseed_cursor;
                tensors.push((
                    "state.emf.m_v".into(),
                    m_v.shape().to_vec(),
                    to_bytes(m_v.iter().copied()),
                ));
                tensors.push((
                    "state.emf.m_h".into(),
                    m_h.shape().to_vec(),
                    to_bytes(m_h.iter().copied()),
                ));
            }
            None => {}
        }
        let sm = StateMeta {
            epoch: st.epoch,
            bias_initialised: st.bias_initialised,
            order_rng: st.order_rng.clone(),
            cd_rngs: st.cd_rngs.clone(),
            pcd_rngs,
            emf_reseed_cursor,
        };
        meta.insert("state".into(), json(&sm));
    }
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, shape, data)| {
            (
                n.clone(),
                TensorView::new(dtype_of::<T>(), shape.clone(), data).expect("sizes match"),
            )
        })
        .chain(f64_tensors.iter().map(|(n, shape, data)| {
            (
                n.clone(),
                TensorView::new(safetensors::Dtype::F64, shape.clone(), data).expect("sizes match"),
            )
        }))
        .collect();
    safetensors::tensor::serialize(views, Some(meta)).map_err(|e| Error::Format {
        path: "<memory>".into(),
        reason: e.to_string(),
    })
}

/// JSON of plain data (hyperparameters, metrics, stream states).
fn json<S: Serialize>(v: &S) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

/// Writes `m` to `path` atomically (a temporary file in the same folder, then a rename), so a
/// failed or interrupted write never replaces a good file.
///
/// # Errors
/// [`Error::Io`] naming the path if it cannot be written.
pub fn save<T: Float>(path: impl AsRef<Path>, m: &ModelFile<T>) -> Result<()> {
    crate::io::write_atomic(path.as_ref(), &to_bytes_file(m)?)
}
