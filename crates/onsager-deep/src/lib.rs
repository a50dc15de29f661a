//! # onsager-deep
//!
//! Deep networks built on onsager's RBMs (issue 14), in a crate of its own so the RBM library
//! does not grow a network module. So far it holds RBM stacks, the supervised network (an MLP
//! with back-propagation and SGD) and the data augmentation of the
//! "big, deep, simple" reproduction (Ciresan et al. 2010): Simard et al.'s (2003) elastic
//! distortions with random rotation, shear and scaling, drawn per image and epoch from the
//! library's seeded streams, so a distorted epoch has the same bits for any thread count.
//!
//! ```
//! use ndarray::Array2;
//! use onsager_deep::{Distortion, Distorter};
//!
//! let images = Array2::<f32>::zeros((4, 28 * 28));
//! let distorter = Distorter::new(Distortion::CIRESAN, (28, 28)).unwrap();
//! let epoch_3 = distorter.batch(images.view(), 7, 3, 0).unwrap();
//! assert_eq!(epoch_3.dim(), (4, 784));
//! ```
//!
//! | file | holds |
//! |---|---|
//! | `distort.rs` | [`Distortion`] (the settings), [`Warp`] (one image's map, drawn or given) and [`Distorter`] (batches) |
//! | `activation.rs` | [`Activation`]: logistic, scaled tanh, ReLU, and their derivatives |
//! | `mlp.rs` | [`Mlp`]: dense layers and a softmax, the cross-entropy, back-propagation into a [`Workspace`] |
//! | `sgd.rs` | [`fit`]: SGD with momentum, decay, clipping, per-epoch distortions, best-epoch keeping, the divergence guard; [`fit_from`] and [`FitState`]: a run that stops and continues exactly |
//! | `stack.rs` | [`Stack`]: greedy layer-wise RBM pretraining with any of the library's methods, and the network it initialises |
//! | `file.rs` | the network file: a stack and/or a network in one safetensors file ([`file::DeepFile`]) |
//! | `error.rs` | [`Error`] |

mod activation;
mod distort;
mod error;
pub mod file;
mod mlp;
mod sgd;
mod stack;

pub use activation::{Activation, TANH_SCALE};
pub use distort::{Distorter, Distortion, Warp};
pub use error::{Error, Result};
pub use mlp::{Init, Layer, Mlp, Workspace};
pub use sgd::{
    error_rate, fit, fit_from, Best, EpochRecord, FitMonitor, FitState, Fitted, Labelled, Sgd,
};
pub use stack::{PretrainMonitor, Stack};
