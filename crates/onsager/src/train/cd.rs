//! Contrastive divergence, CD-k (docs/maths.md §1): Gibbs chains start at the data batch.

use ndarray::{s, Array2, ArrayViewMut2};

use super::phase::{
    foreign_chains, state_mismatch, FixedPointStats, Negative, NegativePhase, Positive,
};
use super::state::{Chains, TrainerState};
use crate::model::sample_from;
use crate::rng::{self, Domain, StreamRng};
use crate::{Float, Rbm, Result};

/// Runs k block-Gibbs steps from binary hidden states `h`: v ~ P(v|h), then h ~ P(h|v), and
/// at the last step P(h|v) instead of a sample. Leaves the binary v_k in `v` and P(h | v_k) in
/// `h` — the final statistic uses probabilities for h. Logistic and draw are fused per layer.
pub(super) fn run_chains<T: Float>(
    rbm: &Rbm<T>,
    k: usize,
    mut v: ArrayViewMut2<'_, T>,
    mut h: ArrayViewMut2<'_, T>,
    rngs: &mut [StreamRng],
) {
    for step in 0..k {
        rbm.sample_visible_into(h.view(), v.view_mut(), rngs);
        if step + 1 < k {
            rbm.sample_hidden_into(v.view(), h.view_mut(), rngs);
        } else {
            rbm.hidden_probs_into(v.view(), h.view_mut());
        }
    }
}

/// CD-k: k Gibbs steps from each batch row, on one random stream per batch slot.
#[derive(Debug)]
pub(super) struct Cd<T: Float> {
    k: usize,
    rows: usize,
    /// v_k and P(h | v_k) of the chains (batch rows × nv, × nh).
    neg_v: Array2<T>,
    neg_h: Array2<T>,
}

impl<T: Float> Cd<T> {
    pub fn new(k: usize, rows: usize, nv: usize, nh: usize) -> Self {
        Self {
            k,
            rows,
            neg_v: Array2::zeros((rows, nv)),
            neg_h: Array2::zeros((rows, nh)),
        }
    }
}

impl<T: Float> NegativePhase<T> for Cd<T> {
    fn persistent_at(&self, _: usize) -> bool {
        false
    }

    fn chain_rows(&self) -> usize {
        0
    }

    fn start_chains(&self, _: &Rbm<T>, _: Array2<T>, _: u64) -> Chains<T> {
        unreachable!("CD keeps no persistent chains")
    }

    fn streams(&self, seed: u64) -> Vec<StreamRng> {
        rng::streams(seed, Domain::CdChain, self.rows)
    }

    /// h₀ ~ P(h | batch), then k Gibbs steps; chain i uses stream i.
    fn run(
        &mut self,
        rbm: &Rbm<T>,
        pos: &Positive<'_, T>,
        state: &mut TrainerState<T>,
        _: bool,
    ) -> Option<FixedPointStats> {
        let rows = s![..pos.v.nrows(), ..];
        let rngs = &mut state.cd_rngs;
        sample_from(pos.h, self.neg_h.slice_mut(rows), rngs);
        run_chains(
            rbm,
            self.k,
            self.neg_v.slice_mut(rows),
            self.neg_h.slice_mut(rows),
            rngs,
        );
        None
    }

    fn negative<'a>(
        &'a mut self,
        rbm: &Rbm<T>,
        _: Option<&'a Chains<T>>,
        b: usize,
        _: bool,
    ) -> Negative<'a, T> {
        let rows = s![..b, ..];
        Negative::sampled(self.neg_v.slice(rows), self.neg_h.slice(rows), rbm.beta)
    }

    fn check_state(&self, state: &TrainerState<T>, _: usize, _: usize) -> Result<()> {
        if state.chains.is_some() {
            return Err(foreign_chains("cd"));
        }
        if state.cd_rngs.len() != self.rows {
            return Err(state_mismatch(
                "CD streams",
                self.rows.to_string(),
                state.cd_rngs.len().to_string(),
            ));
        }
        Ok(())
    }
}
