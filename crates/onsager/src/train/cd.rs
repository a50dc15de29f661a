//! Contrastive divergence, CD-k (emf-math §1): Gibbs chains start at the data batch.

use ndarray::{s, ArrayViewMut2};

use super::Workspace;
use crate::model::sample_from;
use crate::rng::StreamRng;
use crate::{Float, Rbm};

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

/// CD-k negative phase for the first `b` rows of the workspace batch; chain i uses `rngs[i]`.
/// Leaves v_k and P(h | v_k) in the first `b` rows of `neg_v` and `neg_h`.
pub(super) fn negative_phase<T: Float>(
    rbm: &Rbm<T>,
    k: usize,
    ws: &mut Workspace<T>,
    rngs: &mut [StreamRng],
    b: usize,
) {
    let rows = s![..b, ..];
    sample_from(ws.hp.slice(rows), ws.neg_h.slice_mut(rows), rngs);
    run_chains(
        rbm,
        k,
        ws.neg_v.slice_mut(rows),
        ws.neg_h.slice_mut(rows),
        rngs,
    );
}
