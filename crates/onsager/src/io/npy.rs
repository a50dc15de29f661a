//! NumPy `.npy` files: 2-D arrays of u8, f32 or f64 in, any of them out.

use std::path::Path;

use ndarray::{Array2, ArrayView2};
use ndarray_npy::{ReadNpyExt, WritableElement, WriteNpyExt};

use super::Values;
use crate::{Error, Result};

/// Reads a 2-D `.npy` array of dtype u8, f32 or f64 (rows are samples).
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Format`] naming the file for another
/// dtype, another number of dimensions, or a damaged file.
pub fn read(path: impl AsRef<Path>) -> Result<Values> {
    let path = path.as_ref();
    let bytes = super::read_file(path)?;
    if let Ok(a) = Array2::<u8>::read_npy(&bytes[..]) {
        return Ok(Values::U8(a));
    }
    if let Ok(a) = Array2::<f32>::read_npy(&bytes[..]) {
        return Ok(Values::F32(a));
    }
    match Array2::<f64>::read_npy(&bytes[..]) {
        Ok(a) => Ok(Values::F64(a)),
        Err(e) => Err(Error::Format {
            path: path.to_owned(),
            reason: format!("not a 2-D .npy array of uint8, float32 or float64 ({e})"),
        }),
    }
}

/// Writes a 2-D array as `.npy`, atomically.
///
/// # Errors
/// [`Error::Io`] naming the path if it cannot be written.
pub fn write<A: WritableElement>(path: impl AsRef<Path>, a: ArrayView2<'_, A>) -> Result<()> {
    let path = path.as_ref();
    let mut buf = Vec::new();
    a.write_npy(&mut buf).map_err(|e| Error::Format {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    super::write_atomic(path, &buf)
}

/// Writes a float array as `.npy` in its own precision (float32 or float64), atomically.
///
/// # Errors
/// [`Error::Io`] naming the path if it cannot be written.
pub fn write_float<T: crate::Float>(path: impl AsRef<Path>, a: ArrayView2<'_, T>) -> Result<()> {
    if T::DTYPE == "float32" {
        write(path, a.mapv(|x| x.f64() as f32).view())
    } else {
        write(path, a.mapv(|x| x.f64()).view())
    }
}
