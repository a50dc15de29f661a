//! Files: data loaders and the model file.
//!
//! - [`idx`]: MNIST-style IDX files (gzip or plain).
//! - [`npy`]: NumPy `.npy` arrays (u8, f32, f64).
//! - [`csv`]: CSV of numbers with an optional header.
//! - [`model`]: the model file (safetensors with JSON metadata).
//! - [`output`]: where a file may be written, and the atomic write itself.
//!
//! Every write goes through [`write_atomic`]: a partial output never replaces a good one.

pub mod csv;
pub mod idx;
pub mod model;
pub mod npy;
pub mod output;
mod values;

pub use output::{check_output, write_atomic};
pub use values::Values;

use std::path::Path;

use crate::{Error, Result};

/// A file name's extension in lower case (`""` when it has none): how the loaders choose a
/// reader.
pub fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Reads a whole file.
///
/// # Errors
/// [`Error::Io`] naming `path` if it cannot be read.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}
