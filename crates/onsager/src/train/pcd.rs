//! Persistent contrastive divergence, PCD-k (emf-math §1): chains carried across mini-batches.

use ndarray::Array2;

use super::cd::{run_chains, subtract_chain_stats};
use super::Workspace;
use crate::rng::StreamRng;
use crate::{Float, Rbm};

/// PCD-k negative phase: advances every persistent chain `v` by k Gibbs steps (chain i on
/// `rngs[i]`) and subtracts the chains' statistics from the gradient.
pub(super) fn negative_phase<T: Float>(
    rbm: &Rbm<T>,
    k: usize,
    ws: &mut Workspace<T>,
    v: &mut Array2<T>,
    rngs: &mut [StreamRng],
) {
    rbm.sample_hidden_into(v.view(), ws.neg_h.view_mut(), rngs);
    run_chains(rbm, k, v.view_mut(), ws.neg_h.view_mut(), rngs);
    subtract_chain_stats(
        rbm,
        ws.g[0].view_mut(),
        ws.ga.view_mut(),
        ws.gb.view_mut(),
        v.view(),
        ws.neg_h.view(),
    );
}
