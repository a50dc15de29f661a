//! Likelihood estimators (docs/maths.md §5). Each returns its uncertainty where it has one.
//! Front ends choose one [`Estimator`] and call [`Estimator::log_likelihood`]; per-epoch
//! evaluation is [`Metrics`].
//!
//! | Module | Estimates | Cost |
//! |---|---|---|
//! | [`exact`] | log Z and log p(v) by enumerating the smaller layer | 2^min(nv, nh) states, ≤ 2^30 |
//! | [`ais`] | log Z by annealed importance sampling, with ±3σ bounds | 2 products per temperature |
//! | [`emf`] | log Z ≈ −Γ_k(m*), the lowest fixed point over several starts | a fixed-point solve |
//! | [`pseudo`] | scikit-learn's pseudo-likelihood; reconstruction error | 2 free energies |

pub mod ais;
pub mod emf;
mod estimator;
pub mod exact;
mod metrics;
pub mod pseudo;

pub use estimator::{Estimator, LogLikelihood};
pub use metrics::Metrics;
