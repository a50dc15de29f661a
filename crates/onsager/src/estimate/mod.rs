//! Likelihood estimators (emf-math §5).
//!
//! - [`exact`]: log Z by enumerating the smaller layer (models with up to 30 units there).

pub mod exact;
