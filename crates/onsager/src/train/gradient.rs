//! The gradient of one mini-batch, assembled from the positive rows and the method's negative
//! part (docs/maths.md §1, §4), and handed to the fused update pass beside it (`update.rs`):
//!
//! ```text
//! g_W = (β/b)·VᵀH − (f₀ + W⊙f₁ + W²⊙f₂) − decay,   g_a = (β/b)·Σ V − neg_a,   g_b likewise
//! v ← μv + lr·g_W;  W ← W + v;  a ← a + lr·g_a;  b ← b + lr·g_b
//! ```

use ndarray::{Array2, ArrayViewMut2};

use super::phase::{Negative, Positive};
use super::sgd::Step;
use super::sigma::RealUnits;
use super::update::{self, Gradient, Targets};
use crate::linalg::Outer;
use crate::{Float, Rbm, TrainParams};

/// An empty stand-in for a buffer the gradient does not use.
fn unused<'a, T>() -> ArrayViewMut2<'a, T> {
    ArrayViewMut2::from_shape((0, 0), &mut []).expect("the empty shape fits the empty slice")
}

/// One step of every parameter at learning rate `lr`: the data term of the `b` positive rows,
/// the negative part, decay and momentum, written into `rbm` and `velocity`; `sums` holds the
/// W-gradient sums g₀, g₁, g₂ (the unused ones 0 × 0). Real-valued visible units scale W's
/// and a's gradients by 1/σ² and, when σ is learned, step σ too (`sigma.rs`).
#[allow(clippy::too_many_arguments)]
pub(super) fn step<'a, T: Float>(
    params: &TrainParams,
    rbm: &mut Rbm<T>,
    velocity: &mut Array2<T>,
    sums: &mut [Array2<T>; 3],
    real: &'a mut RealUnits<T>,
    pos: Positive<'a, T>,
    neg: Negative<'a, T>,
    lr: T,
) {
    real.refresh_precision(rbm);
    if real.learns_sigma() {
        // The σ gradient under the weights the statistics were gathered with.
        real.clear();
        real.accumulate(rbm, pos.v, pos.h, 1.0);
        real.accumulate(rbm, neg.v, neg.h, -1.0);
        if let Some(t) = &neg.tap {
            real.accumulate_tap(rbm, t.c, t.pull, -1.0);
        }
    }
    let pos_scale = rbm.beta / T::of(pos.v.nrows() as f64);
    let (l1, l2) = params.decay.coefficients();
    let step = Step {
        lr,
        momentum: T::of(params.momentum),
        l1: T::of(l1),
        l2: T::of(l2),
    };
    let [g0, g1, g2] = sums;
    let powers = match neg.powers {
        Some(p) => [p.w2.view_mut(), p.w3.view_mut()],
        None => [unused(), unused()],
    };
    let targets = Targets {
        w: rbm.w.view_mut(),
        a: rbm.a.view_mut(),
        b: rbm.b.view_mut(),
        velocity: velocity.view_mut(),
        g: [g0.view_mut(), g1.view_mut(), g2.view_mut()],
        powers,
        w_hidden: rbm.w_hidden.view_mut(),
    };
    let positive = Outer {
        left: pos.v,
        right: pos.h,
        scale: pos_scale,
    };
    let [f0, f1, f2] = neg.w;
    let gradient = Gradient {
        terms: neg.terms,
        w: [[Some(positive), f0], [f1, None], [f2, None]],
        visible: [(pos.v, pos_scale), (neg.v, neg.bias_scale)],
        hidden: [(pos.h, pos_scale), (neg.h, neg.bias_scale)],
        precision: &real.precision,
    };
    update::apply(targets, &gradient, step);
    if let crate::Sigma::Learned { floor, .. } = params.sigma {
        if real.learns_sigma() {
            real.step(rbm, lr.f64(), floor);
        }
    }
}
