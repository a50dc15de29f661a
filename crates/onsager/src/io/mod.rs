//! Files: data loaders and the model file.
//!
//! - [`idx`]: MNIST-style IDX files (gzip or plain).
//! - [`npy`]: NumPy `.npy` arrays (u8, f32, f64).
//! - [`csv`]: CSV of numbers with an optional header.
//! - [`model`]: the model file (safetensors with JSON metadata).
//!
//! Every write goes through [`write_atomic`]: a partial output never replaces a good one.

pub mod csv;
pub mod idx;
pub mod model;
pub mod npy;
mod values;

pub use values::Values;

use std::io::Write;
use std::path::Path;

use crate::{Error, Result};

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

/// Writes `bytes` to `path` through a temporary file in the same folder, flushed to disk and
/// then renamed over `path`: readers see the old file or the new one, never a partial one.
///
/// # Errors
/// [`Error::Io`] naming `path` if the folder is not writable or the disk is full; the
/// temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a file path",
        ))
    })?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        std::fs::remove_file(&tmp).ok();
    }
    result.map_err(io)
}
