//! Persistent contrastive divergence, PCD-k (emf-math §1): chains carried across mini-batches.

use ndarray::Array2;

use super::cd::run_chains;
use super::Workspace;
use crate::rng::StreamRng;
use crate::{Float, Rbm};

/// PCD-k negative phase: advances every persistent chain `v` by k Gibbs steps (chain i on
/// `rngs[i]`), leaving P(h | v) of the chains in `neg_h`.
pub(super) fn negative_phase<T: Float>(
    rbm: &Rbm<T>,
    k: usize,
    ws: &mut Workspace<T>,
    v: &mut Array2<T>,
    rngs: &mut [StreamRng],
) {
    rbm.sample_hidden_into(v.view(), ws.neg_h.view_mut(), rngs);
    run_chains(rbm, k, v.view_mut(), ws.neg_h.view_mut(), rngs);
}
