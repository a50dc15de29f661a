//! # onsager
//!
//! Restricted Boltzmann Machines (binary visible and hidden units) trained by contrastive
//! divergence (CD-k), persistent CD (PCD-k), or the extended mean-field (EMF) free energy of
//! Thouless, Anderson and Palmer — the "Onsager correction" — at orders 1, 2 and 3, which needs
//! no sampling at all.
//!
//! ## The model
//! [`Rbm`] holds W (nv × nh), the visible bias a and the hidden bias b, with
//! E(v, h) = −aᵀv − bᵀh − vᵀWh and an inverse temperature β. It gives P(h|v), P(v|h), block
//! Gibbs sampling, the clamped free energy F_c(v) and the energy, all batched (rows are samples).
//!
//! ## Training
//! Hyperparameters are a [`TrainConfig`] (defaults in [`TrainConfig::default`]; named options
//! as text through [`TrainConfig::with_options`], the parser every front end shares) checked
//! into [`TrainParams`]; a [`Trainer`] owns the
//! model and all optimiser state and trains with [`Trainer::fit`] (whole data set, with a
//! [`Monitor`] for progress and cancellation) or [`Trainer::partial_fit`] (streaming). The
//! gradient is the mean over the mini-batch of the data term minus the method's estimate of
//! ∂ log Z:
//!
//! | [`Method`] (file) | ∂ log Z from | matrix products per mini-batch |
//! |---|---|---|
//! | `Cd { k }` (`train/cd.rs`) | k Gibbs steps from the batch | 2k + 3 |
//! | `Pcd { k, chains }` (`train/pcd.rs`) | k Gibbs steps of persistent chains | 2k + 4 |
//! | `Emf { order, .. }` (`train/emf.rs`) | the stationary point of Γ_order | 2 + 2·order·sweeps + order (sweeps ≤ `iterations`, fewer once the tolerance is met) |
//!
//! ```
//! use ndarray::Array2;
//! use onsager::{EmfOrder, Method, TrainParams};
//! // 4×4 bars: each row is one bar pattern.
//! let data = Array2::from_shape_fn((8, 16), |(i, j)| {
//!     if i < 4 { (j / 4 == i) as u8 as f32 } else { (j % 4 == i - 4) as u8 as f32 }
//! });
//! let params = TrainParams::builder()
//!     .n_hidden(8)
//!     .method(Method::emf(EmfOrder::Third))
//!     .learning_rate(0.05)
//!     .batch_size(4)
//!     .epochs(5)
//!     .build()?;
//! let rbm = params.fit(data.view())?;
//! let features = rbm.hidden_probs(data.view())?; // (8 × 8) P(h | v)
//! assert_eq!(features.dim(), (8, 8));
//! # Ok::<(), onsager::Error>(())
//! ```
//!
//! ## Estimating the likelihood
//! [`estimate`] holds exact log Z (small models), annealed importance sampling with ±3σ
//! bounds, the EMF estimate −Γ_k(m*), scikit-learn's pseudo-likelihood and the reconstruction
//! error.
//!
//! ## Data and files
//! [`data::Dataset`] loads `.npy`, CSV and IDX files, the MNIST sample compiled into the
//! library, or MNIST itself (a verified, cached download), and turns raw values into \[0, 1\]
//! data. [`io::model`] reads and writes the model file (safetensors with JSON metadata; with
//! the optimiser state, a run resumes exactly). Every write is atomic.
//!
//! ## Determinism
//! Every random draw comes from a stream named by (seed, purpose, chain or row), and every
//! parallel loop is split over independent rows or output blocks, so the same seed gives
//! bit-identical results with any number of threads.
//!
//! ## The mathematics
//! Every equation the code implements is derived in the repository's `docs/maths.md`, with its
//! conventions and the tests that pin it; items cite it by section: the model and the learning
//! rule (§1), the EMF free energy Γ_k (§2), its fixed point (§3) and gradient (§4) in
//! [`meanfield`], the estimators (§5) in [`estimate`].
//!
//! ## Where things are
//! | module | holds |
//! |---|---|
//! | `params/` | [`TrainConfig`], [`TrainParams`], [`Method`], [`EmfOrder`], [`Persistence`], the EMF [`Solver`] and [`Reseed`] (`emf.rs`), [`Schedule`], [`Decay`], the named-option parser |
//! | `model/` | [`Rbm`]: conditionals, sampling, free energy |
//! | [`units`] | the visible unit types: one file each for the conditional, the draw and the integral over v |
//! | `train/` | the [`Trainer`]; one file per method (`cd.rs`, `pcd.rs`, `emf.rs`) behind `phase.rs`; persistent-row re-seeding in `diversity.rs`; `gradient.rs` → `update.rs` → `sgd.rs` |
//! | [`meanfield`] | Γ_k, its fixed point, its gradient, their row kernels |
//! | [`estimate`] | the [`Estimator`] entry point; exact, AIS, EMF, pseudo-likelihood; per-epoch [`Metrics`] |
//! | [`data`], [`io`] | data sets and preprocessing; file readers, the model file, atomic writes |
//! | [`linalg`], [`kernels`], [`rng`] | the product layer over faer, scalar kernels, seeded streams |
//!
//! Three flags followed from the command line to the maths:
//!
//! - `onsager train --order 3`: the CLI hands `("order", "3")` to
//!   [`TrainConfig::with_options`] (`params/options.rs`), which parses an [`EmfOrder`]
//!   (`params/method.rs`) into [`Method::Emf`]; `train/phase.rs::for_method` builds the EMF
//!   phase (`train/emf.rs`), which re-seeds persistent rows (`train/diversity.rs`, maths §3.3)
//!   and solves by `meanfield::solve` (`meanfield/fixed_point.rs`, maths §3.1–§3.2) with the
//!   row kernel `meanfield/kernels.rs::mean_field_update`, and whose
//!   gradient factors come from `meanfield/gradient.rs` (maths §4) into `train/gradient.rs`.
//! - `--lr 0.01`: `("learning_rate", "0.01")` → [`TrainConfig::learning_rate`], checked by
//!   [`TrainConfig::build`]; each epoch's rate is [`TrainParams::learning_rate_at`]
//!   ([`Schedule::rate`], `params/schedule.rs`), which `train/mod.rs` passes to
//!   `train/gradient.rs::step` and on to the fused update `train/update.rs` and its row kernel
//!   `train/sgd.rs::sgd_row` (maths §1, update convention).
//! - `onsager eval --estimator ais`: the CLI builds an [`Estimator::Ais`] and calls
//!   [`Estimator::log_likelihood`] (`estimate/estimator.rs`), which runs
//!   [`estimate::ais::Ais::log_partition`] (`estimate/ais/mod.rs`, maths §5) with its kernels in
//!   `estimate/ais/kernels.rs`, then subtracts log Z from −F_c ([`Rbm::free_energy`]).
//!
//! ## Visible unit types
//! The hidden units are binary; the visible units are Bernoulli (data in \[0, 1\] taken as
//! probabilities), Gaussian or truncated Gaussian on an interval ([`Visible`], `units/`,
//! maths §1b), with σ per unit fixed or learned ([`Sigma`]). Real-valued units train by CD-k
//! and PCD-k and are evaluated exactly (small hidden layers); EMF training, AIS and the EMF
//! estimator are written for Bernoulli units so far and refuse real-valued models with
//! [`Error::Unsupported`].

mod check;
pub mod data;
mod error;
pub mod estimate;
mod float;
pub mod io;
pub mod kernels;
pub mod linalg;
pub mod meanfield;
mod model;
pub mod monitor;
mod par;
mod params;
pub mod rng;
pub mod special;
mod train;
pub mod units;

pub use check::allocatable;
pub use error::{Error, Result};
pub use estimate::{Estimator, LogLikelihood, Metrics};
pub use float::Float;
pub use model::Rbm;
pub use monitor::{BatchProgress, CancelFlag, EpochMetrics, EpochReport, Monitor, Progress};
/// The array crate of the public API, re-exported so a user needs no second dependency.
pub use ndarray;
pub use params::{
    Decay, EmfOrder, Method, Persistence, Reseed, Schedule, Sigma, Solver, TrainConfig,
    TrainParams, Weighting, ANDERSON_DEPTH, EMF_DAMPING, EMF_ITERATIONS, EMF_PERSISTENCE,
    EMF_RESEED, EMF_SOLVER, EMF_TOLERANCE, OPTION_KEYS, REFERENCE_ITERATIONS, SIGMA_FLOOR,
};
pub use train::{FitReport, Trainer, TrainerState};
pub use units::Visible;

#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
