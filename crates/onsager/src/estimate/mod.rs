//! Likelihood estimators (emf-math §5). Each returns its uncertainty where it has one.
//!
//! | Module | Estimates | Cost |
//! |---|---|---|
//! | [`exact`] | log Z and log p(v) by enumerating the smaller layer | 2^min(nv, nh) states, ≤ 2^30 |
//! | [`ais`] | log Z by annealed importance sampling, with ±3σ bounds | 2 products per temperature |
//! | [`emf`] | log Z ≈ −Γ_k(m*), the lowest fixed point over several starts | a fixed-point solve |
//! | [`pseudo`] | scikit-learn's pseudo-likelihood; reconstruction error | 2 free energies |

pub mod ais;
pub mod emf;
pub mod exact;
pub mod pseudo;
