//! The EMF gradient's outer products at fixed magnetisations (docs/maths.md §4): the factors
//! training feeds to its fused update pass (`train/update.rs`), and the readable
//! [`log_z_gradient`] that tests compare the pass against.

use ndarray::{Array2, ArrayView2, Zip};

use super::{standard_magnetisations, variances, Powers, Scratch};
use crate::{linalg, EmfOrder, Float, Rbm, Result};

/// Per-row weights c_α of the gradient's sums (docs/maths.md §3.4): row α's terms count c_α
/// times. `m_v` holds the visible magnetisations with each row already multiplied by its c_α.
pub(crate) struct RowWeights<'a, T> {
    /// c_α for each row.
    pub c: &'a [T],
    /// c_α·m_v,α.
    pub m_v: ArrayView2<'a, T>,
}

/// The three outer-product sums behind the EMF gradient (docs/maths.md §4), each scaled by
/// `scale`: `g1 = scale·β·m_vᵀm_h`, `g2 = scale·β²·q_vᵀq_h`, `g3 = scale·2β³·r_vᵀr_h`
/// (`None` above the order), each row's term multiplied by its weight when `weights` are
/// given (§3.4). Writes the variances q, r of both layers into `s` (the visible ones
/// weighted), which the factors then borrow. The caller combines the sums as
/// g1 + W⊙g2 + W²⊙g3.
pub(crate) fn gradient_factors<'a, T: Float>(
    rbm: &Rbm<T>,
    order: EmfOrder,
    m_v: ArrayView2<'a, T>,
    m_h: ArrayView2<'a, T>,
    s: &'a mut Scratch<T>,
    scale: T,
    weights: Option<RowWeights<'a, T>>,
) -> [Option<linalg::Outer<'a, T>>; 3] {
    let beta = rbm.beta;
    let rows = ndarray::s![..m_v.nrows(), ..];
    variances(m_v, &mut s.sv, order);
    variances(m_h, &mut s.sh, order);
    let mut left = m_v;
    if let Some(wt) = weights {
        let used = [order.has_second(), order.has_third()];
        for (x, _) in s.sv.iter_mut().zip(used).filter(|(_, u)| *u) {
            for (mut row, &c) in x.slice_mut(rows).rows_mut().into_iter().zip(wt.c) {
                row.map_inplace(|q| *q *= c);
            }
        }
        left = wt.m_v;
    }
    let s: &'a Scratch<T> = s;
    let outer = |k: usize, used: bool, scale: T| {
        used.then(|| linalg::Outer {
            left: s.sv[k].slice(rows),
            right: s.sh[k].slice(rows),
            scale,
        })
    };
    [
        Some(linalg::Outer {
            left,
            right: m_h,
            scale: scale * beta,
        }),
        outer(0, order.has_second(), scale * beta * beta),
        outer(
            1,
            order.has_third(),
            scale * T::of(2.0) * beta * beta * beta,
        ),
    ]
}
/// The EMF estimate of ∂ log Z / ∂W at fixed magnetisations, averaged over rows
/// (docs/maths.md §4): β m_v m_hᵀ + β² W ⊙ q_v q_hᵀ + 2β³ W² ⊙ r_v r_hᵀ (the later terms at orders
/// 2 and 3). Equals ∂(−Γ_k)/∂W at fixed m.
///
/// # Errors
/// Bad magnetisations: shape, non-finite, outside \[0, 1\].
pub fn log_z_gradient<T: Float>(
    rbm: &Rbm<T>,
    order: EmfOrder,
    m_v: ArrayView2<'_, T>,
    m_h: ArrayView2<'_, T>,
) -> Result<Array2<T>> {
    let (m_v, m_h) = standard_magnetisations(rbm, m_v, m_h)?;
    let (m_v, m_h) = (m_v.view(), m_h.view());
    let (nv, nh) = rbm.w.dim();
    let mut s = Scratch::new(m_v.nrows(), nv, nh);
    let mut g = [
        Array2::zeros((nv, nh)),
        Array2::zeros((nv, nh)),
        Array2::zeros((nv, nh)),
    ];
    let scale = T::one() / T::of(m_v.nrows() as f64);
    let factors = gradient_factors(rbm, order, m_v, m_h, &mut s, scale, None);
    for (g, f) in g.iter_mut().zip(&factors) {
        if let Some(f) = f {
            f.write(g.view_mut(), false);
        }
    }
    let [g1, g2, g3] = &g;
    let pw = Powers::new(rbm.w.view(), order);
    let mut out = g1.clone();
    if order.has_second() {
        Zip::from(&mut out)
            .and(&rbm.w)
            .and(g2)
            .for_each(|o, &w, &t| *o += w * t);
    }
    if order.has_third() {
        Zip::from(&mut out)
            .and(&pw.w2)
            .and(g3)
            .for_each(|o, &w2, &t| *o += w2 * t);
    }
    Ok(out)
}
