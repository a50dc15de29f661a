//! Raw values as the readers return them, before any preprocessing (`data::Preprocess`).

use ndarray::Array2;

/// Raw values as a file stores them.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// Bytes (IDX files, uint8 .npy), 0–255.
    U8(Array2<u8>),
    /// float32 values.
    F32(Array2<f32>),
    /// float64 values (also CSV).
    F64(Array2<f64>),
}

impl Values {
    /// (rows, columns).
    pub fn dim(&self) -> (usize, usize) {
        match self {
            Values::U8(a) => a.dim(),
            Values::F32(a) => a.dim(),
            Values::F64(a) => a.dim(),
        }
    }

    pub(crate) fn get(&self, r: usize, c: usize) -> f64 {
        match self {
            Values::U8(a) => a[[r, c]] as f64,
            Values::F32(a) => a[[r, c]] as f64,
            Values::F64(a) => a[[r, c]],
        }
    }
}
