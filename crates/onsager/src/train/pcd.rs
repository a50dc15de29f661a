//! Persistent contrastive divergence, PCD-k (docs/maths.md §1): chains carried across
//! mini-batches, started once from random training rows.

use ndarray::{Array2, ArrayView2};

use super::cd::run_chains;
use super::phase::{
    foreign_chains, state_mismatch, FixedPointStats, Negative, NegativePhase, Positive,
};
use super::state::{Chains, TrainerState};
use crate::rng::{self, Domain};
use crate::{Float, Rbm, Result};

/// PCD-k: `chains` persistent Gibbs chains, each on its own random stream.
#[derive(Debug)]
pub(super) struct Pcd<T: Float> {
    k: usize,
    chains: usize,
    /// P(h | v) of the chains after the last step (chains × nh).
    neg_h: Array2<T>,
}

impl<T: Float> Pcd<T> {
    pub fn new(k: usize, chains: usize, nh: usize) -> Self {
        Self {
            k,
            chains,
            neg_h: Array2::zeros((chains, nh)),
        }
    }
}

impl<T: Float> NegativePhase<T> for Pcd<T> {
    fn persistent_at(&self, _: usize) -> bool {
        true
    }

    fn chain_rows(&self) -> usize {
        self.chains
    }

    fn start_chains(&self, _: &Rbm<T>, v: Array2<T>, seed: u64) -> Chains<T> {
        Chains::Gibbs {
            rngs: rng::streams(seed, Domain::PcdChain, v.nrows()),
            v,
        }
    }

    /// h ~ P(h | chains), then k Gibbs steps of every chain (chain i on stream i).
    fn run(
        &mut self,
        rbm: &Rbm<T>,
        _: &Positive<'_, T>,
        state: &mut TrainerState<T>,
        _: bool,
    ) -> Option<FixedPointStats> {
        let Some(Chains::Gibbs { v, rngs }) = &mut state.chains else {
            unreachable!("PCD runs after its chains are started")
        };
        rbm.sample_hidden_into(v.view(), self.neg_h.view_mut(), rngs);
        run_chains(rbm, self.k, v.view_mut(), self.neg_h.view_mut(), rngs);
        None
    }

    fn negative<'a>(
        &'a mut self,
        rbm: &Rbm<T>,
        chains: Option<&'a Chains<T>>,
        _: usize,
        _: bool,
    ) -> Negative<'a, T> {
        let Some(Chains::Gibbs { v, .. }) = chains else {
            unreachable!("PCD runs after its chains are started")
        };
        let v: ArrayView2<'a, T> = v.view();
        Negative::sampled(v, self.neg_h.view(), rbm.beta)
    }

    fn check_state(&self, state: &TrainerState<T>, nv: usize, _: usize) -> Result<()> {
        match &state.chains {
            None => Ok(()),
            Some(Chains::Gibbs { v, rngs }) => {
                if v.dim() != (self.chains, nv) || rngs.len() != self.chains {
                    return Err(state_mismatch(
                        "PCD chains",
                        format!("({}, {nv})", self.chains),
                        format!("{:?}", v.dim()),
                    ));
                }
                Ok(())
            }
            Some(_) => Err(foreign_chains("pcd")),
        }
    }
}
