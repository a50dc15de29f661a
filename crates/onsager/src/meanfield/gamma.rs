//! The EMF free energy Γ_k per magnetisation row (docs/maths.md §2).

use ndarray::{Array1, ArrayView2};

use super::{fixed_point::fields, standard_magnetisations, variances, Powers, Scratch};
use crate::kernels::neg_entropy;
use crate::{par, EmfOrder, Float, Rbm, Result};

/// Γ_k per magnetisation row into `out` (docs/maths.md §2), accumulated in `f64`.
pub(crate) fn gamma_into<T: Float>(
    rbm: &Rbm<T>,
    pw: &Powers<T>,
    order: EmfOrder,
    m_v: ArrayView2<'_, T>,
    m_h: ArrayView2<'_, T>,
    s: &mut Scratch<T>,
    out: &mut [f64],
) {
    // Variances of both layers; then the hidden fields of the visible magnetisations, whose
    // row-wise dot products with m_h, q_h and r_h are the coupling terms.
    variances(m_v, &mut s.sv, order);
    variances(m_h, &mut s.sh, order);
    fields(rbm, pw, order, m_v, &s.sv, &mut s.fh, true);
    let beta = rbm.beta.f64();
    let (a, b, f, sh) = (&rbm.a, &rbm.b, &s.fh, &s.sh);
    par::row_values(out, rbm.n_visible() + rbm.n_hidden(), |i| {
        let mut g = 0.0;
        for (&m, &ai) in m_v.row(i).iter().zip(a) {
            g += neg_entropy(m.f64()) - beta * ai.f64() * m.f64();
        }
        for (j, (&m, &bj)) in m_h.row(i).iter().zip(b).enumerate() {
            g += neg_entropy(m.f64()) - beta * bj.f64() * m.f64();
            g -= f[0][[i, j]].f64() * m.f64();
            if order.has_second() {
                g -= 0.5 * f[1][[i, j]].f64() * sh[0][[i, j]].f64();
            }
            if order.has_third() {
                g -= 2.0 / 3.0 * f[2][[i, j]].f64() * sh[1][[i, j]].f64();
            }
        }
        g
    });
}

/// Γ_k(m) for each magnetisation row (docs/maths.md §2); −Γ_k at a fixed point approximates log Z.
///
/// # Errors
/// Bad magnetisations: shape, non-finite, outside \[0, 1\].
pub fn gamma<T: Float>(
    rbm: &Rbm<T>,
    order: EmfOrder,
    m_v: ArrayView2<'_, T>,
    m_h: ArrayView2<'_, T>,
) -> Result<Array1<f64>> {
    if rbm.visible_units().is_real() {
        return super::real::gamma(rbm, order, m_v, m_h);
    }
    let (m_v, m_h) = standard_magnetisations(rbm, m_v, m_h)?;
    let (m_v, m_h) = (m_v.view(), m_h.view());
    let pw = Powers::new(rbm.w.view(), order);
    let mut s = Scratch::new(m_v.nrows(), rbm.n_visible(), rbm.n_hidden());
    let mut out = Array1::zeros(m_v.nrows());
    gamma_into(
        rbm,
        &pw,
        order,
        m_v,
        m_h,
        &mut s,
        out.as_slice_mut().expect("fresh"),
    );
    Ok(out)
}
