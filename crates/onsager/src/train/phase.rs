//! The interface every training method implements — its buffers, its persistent state, its
//! negative phase, its gradient factors and its resume checks. Each method is one file:
//! `cd.rs`, `pcd.rs`, `emf.rs`; `train/mod.rs` picks one for a [`crate::Method`].

use std::fmt::Debug;

use ndarray::{Array2, ArrayView2};

use super::state::{Chains, TrainerState};
use crate::linalg::Outer;
use crate::meanfield::real::TapRows;
use crate::meanfield::Powers;
use crate::rng::StreamRng;
use crate::{EmfOrder, Error, Float, Rbm, Result};

/// The positive rows of a mini-batch: the data V and H = P(h | V), b rows each.
#[derive(Clone, Copy)]
pub(super) struct Positive<'a, T> {
    /// The batch V (b × nv).
    pub v: ArrayView2<'a, T>,
    /// P(h | V) (b × nh).
    pub h: ArrayView2<'a, T>,
}

/// What a negative phase contributes to the gradient (docs/maths.md §1, §4): the
/// estimate of ∂ log Z is −Σ of the W factors, combined as f₀ + W⊙f₁ + W²⊙f₂, and
/// `bias_scale`·column sums of `v` and `h` for the biases.
pub(super) struct Negative<'a, T: Float> {
    /// Negative visible rows (the chains' states or the magnetisations).
    pub v: ArrayView2<'a, T>,
    /// Negative hidden rows.
    pub h: ArrayView2<'a, T>,
    /// The factor of each bias's column sums: −β / rows.
    pub bias_scale: T,
    /// The W factors f₀, f₁, f₂ (`None` where the method has no such term).
    pub w: [Option<Outer<'a, T>>; 3],
    /// Which W factors are present, as the EMF order whose gradient this is (CD and PCD:
    /// first order, f₀ only).
    pub terms: EmfOrder,
    /// EMF: the cached W², W³ to refresh in the update pass.
    pub powers: Option<&'a mut Powers<T>>,
    /// Real-valued TAP: the variance rows behind the learned σ's gradient.
    pub tap: Option<TapRows<'a, T>>,
}

impl<'a, T: Float> Negative<'a, T> {
    /// The negative statistics of sampled chains: f₀ = −(β / rows)·v hᵀ.
    pub fn sampled(v: ArrayView2<'a, T>, h: ArrayView2<'a, T>, beta: T) -> Self {
        let scale = -T::one() / T::of(v.nrows() as f64) * beta;
        Self {
            v,
            h,
            bias_scale: scale,
            w: [
                Some(Outer {
                    left: v,
                    right: h,
                    scale,
                }),
                None,
                None,
            ],
            terms: EmfOrder::First,
            powers: None,
            tap: None,
        }
    }
}

/// One training method's negative phase and the state it needs.
pub(super) trait NegativePhase<T: Float>: Debug + Send {
    /// Whether epoch `epoch` (0-based) uses persistent chains.
    fn persistent_at(&self, epoch: usize) -> bool;

    /// Rows of persistent chains the method starts from training rows (0: none).
    fn chain_rows(&self) -> usize;

    /// The persistent state started from the training rows `v` (`chain_rows` of them).
    fn start_chains(&self, rbm: &Rbm<T>, v: Array2<T>, seed: u64) -> Chains<T>;

    /// Which W-dependent gradient terms the method's negative part has: the EMF order whose
    /// gradient it is (CD and PCD: first order, f₀ only). Sizes the gradient sums.
    fn terms(&self) -> EmfOrder {
        EmfOrder::First
    }

    /// Random streams the method keeps in [`TrainerState`] from the start (CD: one per row).
    fn streams(&self, seed: u64) -> Vec<StreamRng> {
        let _ = seed;
        Vec::new()
    }

    /// Runs the negative phase of one mini-batch, leaving its rows where
    /// [`NegativePhase::negative`] finds them. Returns what the EMF solve did (None for the
    /// sampling methods).
    fn run(
        &mut self,
        rbm: &Rbm<T>,
        pos: &Positive<'_, T>,
        state: &mut TrainerState<T>,
        persistent: bool,
    ) -> Option<FixedPointStats>;

    /// EMF: how far the last mini-batch's magnetisations lie from the fixed point they were
    /// heading for, under the model as it now stands (mean over rows of max |m − m*|). Called
    /// once per epoch, outside the epoch's timing.
    fn fixed_point_distance(&mut self, rbm: &Rbm<T>, state: &TrainerState<T>) -> Option<f64> {
        let _ = (rbm, state);
        None
    }

    /// The gradient's negative part from the rows the last [`NegativePhase::run`] of a batch
    /// of `b` rows left (in the method's buffers or the persistent `chains`).
    fn negative<'a>(
        &'a mut self,
        rbm: &Rbm<T>,
        chains: Option<&'a Chains<T>>,
        b: usize,
        persistent: bool,
    ) -> Negative<'a, T>;

    /// Checks that a restored state fits this method (chain shapes and stream counts).
    ///
    /// # Errors
    /// [`Error::Shape`] naming what does not fit.
    fn check_state(&self, state: &TrainerState<T>, nv: usize, nh: usize) -> Result<()>;
}

/// What the EMF negative phase did on one mini-batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct FixedPointStats {
    /// Sweeps carried out.
    pub sweeps: usize,
    /// The last sweep's fixed-point residual, max |σ(field) − m|.
    pub residual: f64,
    /// Persistent only: distinct rows on arrival, before re-seeding.
    pub distinct: Option<usize>,
    /// Rows re-seeded from the batch.
    pub reseeded: usize,
}

/// The shape error of a restored state.
pub(super) fn state_mismatch(what: &'static str, expected: String, got: String) -> Error {
    Error::Shape {
        what,
        expected,
        got,
    }
}

/// Refuses persistent chains of another method's kind.
pub(super) fn foreign_chains(method: &str) -> Error {
    state_mismatch(
        "persistent chains",
        format!("no chains or chains of {method}"),
        "other chains".into(),
    )
}
