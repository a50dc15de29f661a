//! The raw tensor encoding of the project's safetensors files (model files here, the deep
//! networks' files in `onsager-deep`): values of a [`Float`] as little-endian `F32` or `F64`,
//! and back, converting between the two.

use safetensors::tensor::Dtype;

use crate::Float;

/// The safetensors dtype of `T` (`F32` or `F64`).
pub fn dtype_of<T: Float>() -> Dtype {
    if T::DTYPE == "float32" {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

/// `xs` as little-endian bytes of [`dtype_of::<T>()`](dtype_of).
pub fn encode<T: Float>(xs: impl Iterator<Item = T>) -> Vec<u8> {
    let mut out = Vec::new();
    for x in xs {
        if T::DTYPE == "float32" {
            out.extend_from_slice(&(x.f64() as f32).to_le_bytes());
        } else {
            out.extend_from_slice(&x.f64().to_le_bytes());
        }
    }
    out
}

/// The values of a tensor's bytes `data` stored as `dtype`, converted to `T`; `None` for a
/// dtype other than `F32` and `F64`.
pub fn decode<T: Float>(dtype: Dtype, data: &[u8]) -> Option<Vec<T>> {
    match dtype {
        Dtype::F32 => Some(
            data.chunks_exact(4)
                .map(|c| T::of(f32::from_le_bytes(c.try_into().expect("4")) as f64))
                .collect(),
        ),
        Dtype::F64 => Some(
            data.chunks_exact(8)
                .map(|c| T::of(f64::from_le_bytes(c.try_into().expect("8"))))
                .collect(),
        ),
        _ => None,
    }
}
