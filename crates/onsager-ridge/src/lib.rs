//! # onsager-ridge
//!
//! Tikhonov (ridge) regression from one thin SVD of the centred design, and the ways it fails
//! when the number of features is close to the number of samples (docs/maths.md §8, the study in docs/ridge.md). It is the
//! regularisation study that sits beside onsager's RBM work, in a crate of its own so the RBM
//! library does not grow a regression module; it uses the RBM library's product layer
//! (`onsager::linalg`) and streams (`onsager::rng`).
//!
//! ```
//! use ndarray::array;
//! use onsager_ridge::{FilterKind, Problem, Selection};
//!
//! let x = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]];
//! let y = array![1.0, 2.0, 3.1, 4.0];
//! let problem = Problem::new(x.view(), y.view(), true).unwrap();
//! let alphas = onsager_ridge::log_grid(1e-6, 1e2, 50).unwrap();
//! let choice = problem.select(FilterKind::Tikhonov, &alphas, Selection::Gcv).unwrap();
//! let (w, intercept) = problem.coefficients(choice.filter).unwrap();
//! assert_eq!(w.len(), 2);
//! assert!(intercept.is_finite());
//! ```
//!
//! | file | holds |
//! |---|---|
//! | `problem.rs` | [`Problem`]: centring, the thin SVD (faer), β = Uᵀy |
//! | `filter.rs` | [`Filter`]: Tikhonov and truncated-SVD filter factors |
//! | `path.rs` | coefficients, norms, degrees of freedom, GCV and leave-one-out per filter ([`PathPoint`]) |
//! | `select.rs` | [`Selection`]: the GCV and LOO minima, the L-curve's corner (curvature in closed form) |
//! | `diagnostics.rs` | the discrete [`Picard`] plot and the [`DangerZone`] warning |
//! | `theory.rs` | closed-form estimation error on Gaussian designs and its Monte Carlo check |
//! | `problems.rs` | test problems with a known answer ([`problems::shaw`]) |

mod diagnostics;
mod error;
mod filter;
mod path;
mod problem;
pub mod problems;
mod select;
pub mod theory;

pub use diagnostics::{Danger, DangerZone, Picard};
pub use error::{Error, Result};
pub use filter::{Filter, FilterKind};
pub use path::{default_alphas, log_grid, PathPoint};
pub use problem::Problem;
pub use select::{discrete_curvature, menger_curvature, tikhonov_curvature, Choice, Selection};
