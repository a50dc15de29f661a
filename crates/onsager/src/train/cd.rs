//! Contrastive divergence, CD-k (emf-math §1): Gibbs chains start at the data batch.

use ndarray::{s, ArrayViewMut2};

use super::{add_column_sums, Workspace};
use crate::model::sample_from;
use crate::rng::StreamRng;
use crate::{linalg, Float, Rbm};

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

/// Subtracts the model statistics of `c` chain rows from the gradient:
/// g_W −= (β/c)·VᵀH, g_a −= β·mean(V), g_b −= β·mean(H).
pub(super) fn subtract_chain_stats<T: Float>(
    rbm: &Rbm<T>,
    g: ArrayViewMut2<'_, T>,
    ws_ga: ndarray::ArrayViewMut1<'_, T>,
    ws_gb: ndarray::ArrayViewMut1<'_, T>,
    v: ndarray::ArrayView2<'_, T>,
    h: ndarray::ArrayView2<'_, T>,
) {
    let scale = -rbm.beta / T::of(v.nrows() as f64);
    linalg::gemm(g, true, v.t(), h, scale);
    add_column_sums(ws_ga, v, scale);
    add_column_sums(ws_gb, h, scale);
}

/// CD-k negative phase for the first `b` rows of the workspace batch; chain i uses `rngs[i]`.
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
    subtract_chain_stats(
        rbm,
        ws.g[0].view_mut(),
        ws.ga.view_mut(),
        ws.gb.view_mut(),
        ws.neg_v.slice(rows),
        ws.neg_h.slice(rows),
    );
}
