//! Training hyperparameters: a plain, serialisable [`TrainConfig`] with consuming setters, and
//! the checked [`TrainParams`] that [`TrainConfig::build`] returns (linfa's pattern). The
//! defaults live in one place, [`TrainConfig::default`]; the method's own settings are in
//! `method.rs`, the optimiser's over time in `schedule.rs`, and the parser of named options
//! that the command line and the Python package share in `options.rs`.
//!
//! # Scales
//! The learning rate multiplies the **mean** gradient over a mini-batch, and the weight-decay
//! coefficient λ is added to that mean gradient (−λW for L2, −λ·sign(W) for L1). Reference
//! EMF code divides its decay by the batch size before use, so its "decay 0.01 with batch 100"
//! is λ = 1e-4 here.

mod emf;
mod method;
mod options;
mod schedule;
mod sigma;

use std::ops::Deref;

use serde::{Deserialize, Serialize};

pub use emf::{Reseed, Solver, Weighting, ANDERSON_DEPTH};
pub use method::{
    EmfOrder, Method, Persistence, EMF_DAMPING, EMF_ITERATIONS, EMF_PERSISTENCE, EMF_RESEED,
    EMF_SOLVER, EMF_TOLERANCE, REFERENCE_ITERATIONS,
};
pub use options::OPTION_KEYS;
pub use schedule::{Decay, Schedule};
pub use sigma::{Sigma, SIGMA_FLOOR};

use crate::{Error, Result, Visible};

/// Unchecked training hyperparameters, with consuming setters; [`TrainConfig::build`] checks
/// them. Defaults (see [`TrainConfig::default`]) are a sound starting point for MNIST-sized data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Number of hidden units (default 256).
    pub n_hidden: usize,
    /// The training method (default: [`Method::emf`] at order 2).
    pub method: Method,
    /// Initial learning rate on the mean gradient (default 0.005).
    pub learning_rate: f64,
    /// Learning-rate schedule over epochs (default constant).
    pub schedule: Schedule,
    /// Mini-batch size (default 100); the last batch of an epoch may be smaller.
    pub batch_size: usize,
    /// Epochs `fit` trains for in total (default 20); 0 only initialises the model (the visible
    /// bias from the data), as scikit-learn's `n_iter=0` does.
    pub epochs: usize,
    /// Classical momentum on W, in \[0, 1) (default 0.5).
    pub momentum: f64,
    /// Weight decay (default L2 with λ = 1e-4).
    pub decay: Decay,
    /// Standard deviation of the initial weights (default 0.01).
    pub init_std: f64,
    /// Reshuffle the rows every epoch (default true).
    pub shuffle: bool,
    /// Seed of every random stream (default 0).
    pub seed: u64,
    /// Inverse temperature β of the model (default 1).
    pub beta: f64,
    /// Worker threads; 0 uses rayon's global pool (all cores). Results do not depend on it.
    pub threads: usize,
    /// The visible units' type of a fresh model (default Bernoulli; a model given to
    /// [`crate::Trainer::with_model`] keeps its own, which must agree).
    pub visible: Visible,
    /// σ of real-valued visible units: fixed or learned (default fixed at 1).
    pub sigma: Sigma,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            n_hidden: 256,
            method: Method::emf(EmfOrder::Second),
            learning_rate: 0.005,
            schedule: Schedule::Constant,
            batch_size: 100,
            epochs: 20,
            momentum: 0.5,
            decay: Decay::L2 { lambda: 1e-4 },
            init_std: 0.01,
            shuffle: true,
            seed: 0,
            beta: 1.0,
            threads: 0,
            visible: Visible::Bernoulli,
            sigma: Sigma::default(),
        }
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty),* $(,)?) => {
        $( $(#[$doc])* pub fn $name(mut self, $name: $ty) -> Self { self.$name = $name; self } )*
    };
}

impl TrainConfig {
    setters! {
        /// Sets the number of hidden units.
        n_hidden: usize,
        /// Sets the training method.
        method: Method,
        /// Sets the initial learning rate.
        learning_rate: f64,
        /// Sets the learning-rate schedule.
        schedule: Schedule,
        /// Sets the mini-batch size.
        batch_size: usize,
        /// Sets the number of epochs.
        epochs: usize,
        /// Sets the momentum on W.
        momentum: f64,
        /// Sets the weight decay.
        decay: Decay,
        /// Sets the standard deviation of the initial weights.
        init_std: f64,
        /// Turns per-epoch shuffling on or off.
        shuffle: bool,
        /// Sets the seed.
        seed: u64,
        /// Sets the inverse temperature β.
        beta: f64,
        /// Sets the number of worker threads (0 = all).
        threads: usize,
        /// Sets the visible units' type.
        visible: Visible,
        /// Sets how σ of real-valued visible units is set.
        sigma: Sigma,
    }

    /// Checks every rule and returns the checked parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming the first parameter that breaks its rule.
    pub fn build(self) -> Result<TrainParams> {
        self.check()?;
        Ok(TrainParams(self))
    }

    /// Checks every rule (see [`TrainConfig::build`]).
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming the first parameter that breaks its rule.
    pub fn check(&self) -> Result<()> {
        fn bad(name: &'static str, value: impl ToString, reason: &'static str) -> Result<()> {
            Err(Error::InvalidParam {
                name,
                value: value.to_string(),
                reason,
            })
        }
        if self.n_hidden == 0 {
            return bad("n_hidden", 0, "needs at least one hidden unit");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(
                "learning_rate",
                self.learning_rate,
                "must be finite and positive",
            );
        }
        if self.batch_size == 0 {
            return bad("batch_size", 0, "must be at least 1");
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return bad("momentum", self.momentum, "must lie in [0, 1)");
        }
        if !(self.init_std.is_finite() && self.init_std >= 0.0) {
            return bad("init_std", self.init_std, "must be finite and non-negative");
        }
        if !(self.beta.is_finite() && self.beta > 0.0) {
            return bad("beta", self.beta, "must be finite and positive");
        }
        self.visible.check()?;
        self.sigma.check()?;
        if let (
            true,
            Method::Emf {
                order,
                solver,
                weighting,
                ..
            },
        ) = (self.visible.is_real(), self.method)
        {
            // The real-valued TAP (docs/maths.md §4b): orders 1-2, damped iteration, at β = 1.
            if order == EmfOrder::Third {
                return bad(
                    "order",
                    3,
                    "the TAP free energy of real-valued visible units is written to order 2",
                );
            }
            if matches!(solver, Solver::Anderson { .. }) {
                return bad(
                    "solver",
                    solver,
                    "Anderson acceleration is written for binary units; real-valued units use damped or adaptive (both run damped iteration)",
                );
            }
            if weighting == Weighting::FreeEnergy {
                return bad(
                    "weighting",
                    "free-energy",
                    "the free-energy weighting is written for binary units",
                );
            }
            if self.beta != 1.0 {
                return bad(
                    "beta",
                    self.beta,
                    "EMF training of real-valued units runs at β = 1",
                );
            }
        }
        match self.decay {
            Decay::L1 { lambda } | Decay::L2 { lambda }
                if !(lambda.is_finite() && lambda >= 0.0) =>
            {
                return bad(
                    "decay",
                    lambda,
                    "the coefficient must be finite and non-negative",
                );
            }
            _ => {}
        }
        match self.schedule {
            Schedule::Linear { final_rate } if !(final_rate.is_finite() && final_rate >= 0.0) => {
                return bad(
                    "schedule",
                    final_rate,
                    "the final rate must be finite and non-negative",
                );
            }
            Schedule::Exponential { factor } if !(factor > 0.0 && factor <= 1.0) => {
                return bad("schedule", factor, "the factor must lie in (0, 1]");
            }
            _ => {}
        }
        match self.method {
            Method::Cd { k } | Method::Pcd { k, .. } if k == 0 => {
                bad("k", 0, "needs at least one Gibbs step")
            }
            Method::Pcd { chains: 0, .. } => bad("chains", 0, "needs at least one chain"),
            Method::Emf { iterations: 0, .. } => bad("iterations", 0, "needs at least one sweep"),
            Method::Emf { damping, .. } if !(damping > 0.0 && damping <= 1.0) => {
                bad("damping", damping, "must lie in (0, 1]")
            }
            Method::Emf {
                persistence: Persistence::PersistentFrom { epoch: 0 },
                ..
            } => bad("persistence", 0, "epochs are numbered from 1"),
            Method::Emf { tolerance, .. } if !(tolerance.is_finite() && tolerance >= 0.0) => {
                bad("tolerance", tolerance, "must be finite and non-negative")
            }
            Method::Emf {
                solver: Solver::Anderson { depth: 0 },
                ..
            } => bad(
                "solver",
                0,
                "Anderson acceleration needs a depth of at least 1",
            ),
            Method::Emf { reseed, .. } if !(0.0..=1.0).contains(&reseed.fraction) => {
                bad("reseed", reseed.fraction, "the fraction must lie in [0, 1]")
            }
            _ => Ok(()),
        }
    }
}

/// Checked training hyperparameters: every rule of [`TrainConfig::build`] holds.
/// Read the values through `Deref` to [`TrainConfig`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrainParams(TrainConfig);

impl TrainParams {
    /// The default configuration, to adjust with its setters and then [`TrainConfig::build`].
    ///
    /// ```
    /// use onsager::{Method, TrainParams};
    /// let p = TrainParams::builder().n_hidden(16).method(Method::Cd { k: 1 }).build().unwrap();
    /// assert_eq!(p.n_hidden, 16);
    /// assert!(TrainParams::builder().batch_size(0).build().is_err());
    /// ```
    pub fn builder() -> TrainConfig {
        TrainConfig::default()
    }

    /// The configuration back, to change and check again.
    pub fn into_config(self) -> TrainConfig {
        self.0
    }

    /// The learning rate of epoch `epoch` (0-based) under the schedule.
    pub fn learning_rate_at(&self, epoch: usize) -> f64 {
        self.0
            .schedule
            .rate(self.0.learning_rate, epoch, self.0.epochs)
    }
}

impl Deref for TrainParams {
    type Target = TrainConfig;
    fn deref(&self) -> &TrainConfig {
        &self.0
    }
}

impl<'de> Deserialize<'de> for TrainParams {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        TrainConfig::deserialize(d)?
            .build()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_round_trip_through_json_and_deserialising_checks_them() {
        let p = TrainParams::builder()
            .method(Method::Emf {
                order: EmfOrder::Third,
                iterations: 5,
                damping: 0.3,
                persistence: Persistence::PersistentFrom { epoch: 4 },
                tolerance: 1e-4,
                solver: Solver::Anderson { depth: 2 },
                reseed: Reseed {
                    merged: true,
                    fraction: 0.5,
                },
                weighting: Weighting::FreeEnergy,
            })
            .decay(Decay::L1 { lambda: 0.01 })
            .build()
            .unwrap();
        let json = serde_json::to_string(&p).unwrap();
        let back: TrainParams = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        let bad = json.replace("\"batch_size\":100", "\"batch_size\":0");
        let err = serde_json::from_str::<TrainParams>(&bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("batch_size"), "{err}");
    }

    /// A method written before the tolerance, solver and re-seeding existed reads back as the
    /// reference algorithm it ran.
    #[test]
    fn emf_settings_missing_from_old_files_are_the_reference_ones() {
        let old = r#"{"kind":"emf","order":2,"iterations":3,"damping":0.5,"persistence":{"kind":"persistent"}}"#;
        let m: Method = serde_json::from_str(old).unwrap();
        assert_eq!(
            m,
            Method::emf_reference(EmfOrder::Second, Persistence::Persistent)
        );
    }
}
