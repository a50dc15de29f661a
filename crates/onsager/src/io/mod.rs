//! Data files.
//!
//! - [`idx`]: MNIST-style IDX files (gzip or plain).

pub mod idx;
