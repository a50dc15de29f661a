//! The model file: safetensors holding the parameters (and, in a checkpoint, the optimiser
//! state), with JSON metadata.
//!
//! # Layout
//! Tensors, all in the model's dtype (`F32` or `F64`), little-endian, C order:
//!
//! | name | shape | |
//! |---|---|---|
//! | `weights` | (nv, nh) | W |
//! | `visible_bias` | (nv,) | a |
//! | `hidden_bias` | (nh,) | b |
//! | `visible_sigma` | (nv,) | σ of real-valued visible units (absent for Bernoulli units) |
//! | `input.mean`, `input.std` | (nv,), (nv,) | always `F64`: the column means and standard deviations of standardised training data ([`crate::data::Standardization`], absent otherwise) |
//! | `state.velocity` | (nv, nh) | checkpoints: momentum buffer |
//! | `state.pcd.v` | (chains, nv) | checkpoints, PCD: chain states |
//! | `state.emf.m_v`, `state.emf.m_h` | (batch, nv), (batch, nh) | checkpoints, persistent EMF |
//!
//! Metadata (string → string): `format` = `onsager-rbm`, `format_version` = `1`,
//! `onsager_version`, `dtype`, `beta`, `visible_units` (`bernoulli`, `gaussian`, `truncated_gaussian`
//! or `truncated_gaussian:LOW:HIGH`, as [`crate::Visible`] writes it; absent in older files,
//! which hold Bernoulli models), `epochs_completed`, and as JSON `params` (the
//! hyperparameters), `history` (a list of [`EpochMetrics`]), `image_shape` (`[rows, cols]`) and,
//! in checkpoints, `state` (epochs, random-stream states).
//!
//! # From Python
//! ```python
//! from safetensors.numpy import load_file
//! from safetensors import safe_open
//! tensors = load_file("model.safetensors")          # {"weights": ndarray, ...}
//! meta = safe_open("model.safetensors", "np").metadata()
//! ```

mod read;
pub mod tensor;
mod write;

pub use read::{bytes_dtype, file_dtype, from_bytes, load};
pub use write::{save, to_bytes_file};

use serde::{Deserialize, Serialize};

use crate::rng::StreamRng;

use crate::data::Standardization;
use crate::{EpochMetrics, Float, Rbm, TrainConfig, TrainerState};

/// The format version this library writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Everything a model file holds.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelFile<T: Float> {
    /// The model.
    pub rbm: Rbm<T>,
    /// Hyperparameters it was trained with, if known.
    pub params: Option<TrainConfig>,
    /// Epochs trained.
    pub epochs_completed: usize,
    /// Metrics per epoch.
    pub history: Vec<EpochMetrics>,
    /// Shape of the images its visible units form, if they do (rows, cols).
    pub image_shape: Option<(usize, usize)>,
    /// Optimiser state, in checkpoints (see [`crate::Trainer::resume`]).
    pub state: Option<TrainerState<T>>,
    /// The standardisation its training data went through, in raw units (so held-out data
    /// takes the same map and samples map back), if it was standardised.
    pub input: Option<Standardization>,
    /// Application notes, stored as metadata entries `extra.KEY` (the CLI records its training
    /// data's fingerprint here).
    pub extra: std::collections::BTreeMap<String, String>,
}

impl<T: Float> ModelFile<T> {
    /// A file holding just `rbm`.
    pub fn new(rbm: Rbm<T>) -> Self {
        Self {
            rbm,
            params: None,
            epochs_completed: 0,
            history: Vec::new(),
            image_shape: None,
            state: None,
            input: None,
            extra: Default::default(),
        }
    }
}

/// Random-stream states and counters of a checkpoint (the `state` metadata entry).
#[derive(Serialize, Deserialize)]
pub(super) struct StateMeta {
    epoch: usize,
    bias_initialised: bool,
    order_rng: StreamRng,
    cd_rngs: Vec<StreamRng>,
    pcd_rngs: Option<Vec<StreamRng>>,
    /// Persistent EMF: the row the fraction re-seeding renews next (absent in older files: 0).
    #[serde(default)]
    emf_reseed_cursor: usize,
}

pub(super) use tensor::dtype_of;
