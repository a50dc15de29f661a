//! Solving the fixed-point equations of Γ_k (docs/maths.md §3): one damped sweep over a batch
//! of magnetisation rows, and the solver that sweeps to a tolerance.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use super::{check_magnetisations, kernels, variances, Powers, Scratch};
use crate::{linalg, par, EmfOrder, Error, Float, Rbm, Result};

/// The three fields one layer receives from the other: `f[0] = β·x W`, `f[1] = β²·q_x W²`,
/// `f[2] = β³·r_x W³`, where W is taken as `w` (hidden side) or its transpose (visible side).
pub(super) fn fields<T: Float>(
    rbm: &Rbm<T>,
    pw: &Powers<T>,
    order: EmfOrder,
    x: ArrayView2<'_, T>,
    s: &[Array2<T>; 2],
    f: &mut [Array2<T>; 3],
    to_hidden: bool,
) {
    let n = x.nrows();
    let beta = rbm.beta;
    fn pick<T: Float>(m: &Array2<T>, to_hidden: bool) -> ArrayView2<'_, T> {
        if to_hidden {
            m.view()
        } else {
            m.t()
        }
    }
    let [f1, f2, f3] = f;
    let rows = ndarray::s![..n, ..];
    linalg::gemm(f1.slice_mut(rows), false, x, pick(&rbm.w, to_hidden), beta);
    if order.has_second() {
        linalg::gemm(
            f2.slice_mut(rows),
            false,
            s[0].slice(rows),
            pick(&pw.w2, to_hidden),
            beta * beta,
        );
    }
    if order.has_third() {
        linalg::gemm(
            f3.slice_mut(rows),
            false,
            s[1].slice(rows),
            pick(&pw.w3, to_hidden),
            beta * beta * beta,
        );
    }
}

/// Damped update of one layer from its fields (docs/maths.md §3, [`kernels::mean_field_update`]).
/// Returns max |Δm|.
fn update_layer<T: Float>(
    m: ArrayViewMut2<'_, T>,
    bias: &Array1<T>,
    beta: T,
    f: &[Array2<T>; 3],
    order: EmfOrder,
    damping: T,
) -> f64 {
    let bias = bias.as_slice().expect("contiguous bias");
    par::rows_max(m, |i, mrow| {
        let rows = [0, 1, 2].map(|k| par::row_slice(&f[k], i));
        kernels::mean_field_update(mrow, bias, beta, order, rows, damping).f64()
    })
}

/// One damped sweep of the fixed-point equations over a batch of magnetisation rows: the
/// visible layer first, then the hidden layer from the new visible values (docs/maths.md §3).
/// Returns the largest change of any magnetisation.
pub(crate) fn sweep<T: Float>(
    rbm: &Rbm<T>,
    pw: &Powers<T>,
    order: EmfOrder,
    damping: T,
    mut m_v: ArrayViewMut2<'_, T>,
    mut m_h: ArrayViewMut2<'_, T>,
    s: &mut Scratch<T>,
) -> f64 {
    let n = m_v.nrows();
    debug_assert!(n <= s.rows());
    variances(m_h.view(), &mut s.sh, order);
    fields(rbm, pw, order, m_h.view(), &s.sh, &mut s.fv, false);
    let dv = update_layer(m_v.view_mut(), &rbm.a, rbm.beta, &s.fv, order, damping);
    variances(m_v.view(), &mut s.sv, order);
    fields(rbm, pw, order, m_v.view(), &s.sv, &mut s.fh, true);
    let dh = update_layer(m_h.view_mut(), &rbm.b, rbm.beta, &s.fh, order, damping);
    dv.max(dh)
}
/// The outcome of iterating the fixed-point equations.
#[derive(Clone, Debug)]
pub struct FixedPoint<T: Float> {
    /// Visible magnetisations m_v (n × nv).
    pub m_v: Array2<T>,
    /// Hidden magnetisations m_h (n × nh).
    pub m_h: Array2<T>,
    /// Sweeps carried out.
    pub iterations: usize,
    /// The largest |Δm| in the last sweep.
    pub residual: f64,
    /// Whether the residual fell below the tolerance.
    pub converged: bool,
}

/// Iterates the damped fixed-point equations of Γ_k (docs/maths.md §3) from `(m_v, m_h)` until
/// the largest change falls below `tol` or `max_iter` sweeps are done.
///
/// # Shapes
/// `m_v` is (n × nv), `m_h` is (n × nh); each row is an independent start.
///
/// # Errors
/// Bad magnetisations (shape, non-finite, outside \[0, 1\]) or parameters (damping outside
/// (0, 1], negative or NaN tolerance).
///
/// ```
/// use ndarray::Array2;
/// use onsager::{meanfield, EmfOrder, Rbm};
/// let rbm = Rbm::<f64>::random(4, 3, 0.1, 1).unwrap();
/// let fp = meanfield::fixed_point(&rbm, EmfOrder::Second, Array2::from_elem((1, 4), 0.5).view(),
///     Array2::from_elem((1, 3), 0.5).view(), 0.5, 500, 1e-12).unwrap();
/// assert!(fp.converged);
/// ```
pub fn fixed_point<T: Float>(
    rbm: &Rbm<T>,
    order: EmfOrder,
    m_v: ArrayView2<'_, T>,
    m_h: ArrayView2<'_, T>,
    damping: T,
    max_iter: usize,
    tol: f64,
) -> Result<FixedPoint<T>> {
    check_magnetisations(rbm, &m_v, &m_h)?;
    if !(damping > T::zero() && damping <= T::one()) {
        return Err(Error::InvalidParam {
            name: "damping",
            value: damping.to_string(),
            reason: "must lie in (0, 1]",
        });
    }
    if tol.is_nan() || tol < 0.0 {
        return Err(Error::InvalidParam {
            name: "tol",
            value: tol.to_string(),
            reason: "must be non-negative",
        });
    }
    let pw = Powers::new(rbm.w.view(), order);
    let mut s = Scratch::new(m_v.nrows(), rbm.n_visible(), rbm.n_hidden());
    let (mut mv, mut mh) = (m_v.to_owned(), m_h.to_owned());
    let mut residual = f64::INFINITY;
    let mut iterations = 0;
    while iterations < max_iter && (residual.is_nan() || residual > tol) {
        residual = sweep(
            rbm,
            &pw,
            order,
            damping,
            mv.view_mut(),
            mh.view_mut(),
            &mut s,
        );
        iterations += 1;
    }
    Ok(FixedPoint {
        m_v: mv,
        m_h: mh,
        iterations,
        converged: residual <= tol,
        residual,
    })
}

/// The visible magnetisations of the EMF fixed point reached from each row of `start`
/// (m_v = the row, m_h = P(h | row)), with the default damping, within `max_sweeps` sweeps of
/// a tolerance of 10⁻⁶: the mean-field "samples" of `onsager sample --emf` and of the Python
/// `sample(mean_field_order=...)`.
///
/// # Errors
/// As [`fixed_point`], for `start`.
pub fn mean_field_samples<T: Float>(
    rbm: &Rbm<T>,
    order: EmfOrder,
    start: ArrayView2<'_, T>,
    max_sweeps: usize,
) -> Result<Array2<T>> {
    let m_h = rbm.hidden_probs(start)?;
    let damping = T::of(crate::EMF_DAMPING);
    Ok(fixed_point(rbm, order, start, m_h.view(), damping, max_sweeps, 1e-6)?.m_v)
}
