//! Solving the fixed-point equations of Γ_k (docs/maths.md §3): one damped sweep over a batch
//! of magnetisation rows, and the solver that sweeps to a tolerance: plain damped iteration,
//! per-row adaptive damping, or Anderson acceleration (`anderson.rs`).

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use super::anderson::Anderson;
use super::{check_magnetisations, kernels, variances, Powers, Scratch};
use crate::{linalg, par, EmfOrder, Error, Float, Rbm, Result, Solver};

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

/// Damped update of one layer from its fields (docs/maths.md §3, [`kernels::mean_field_update`]),
/// row i with damping `damping[i]`; raises `delta[i]` to the row's largest |Δm|.
fn update_layer<T: Float>(
    m: ArrayViewMut2<'_, T>,
    bias: &Array1<T>,
    beta: T,
    f: &[Array2<T>; 3],
    order: EmfOrder,
    damping: &[T],
    delta: &mut [f64],
) {
    let bias = bias.as_slice().expect("contiguous bias");
    par::rows_with(m, delta, |i, mrow, d| {
        let rows = [0, 1, 2].map(|k| par::row_slice(&f[k], i));
        let change = kernels::mean_field_update(mrow, bias, beta, order, rows, damping[i]).f64();
        *d = if change > *d || change.is_nan() {
            change
        } else {
            *d
        };
    });
}

/// One damped sweep of the fixed-point equations over a batch of magnetisation rows: the
/// visible layer first, then the hidden layer from the new visible values (docs/maths.md §3),
/// row i damped by `s.damping[i]`. Leaves each row's fixed-point residual
/// max |σ(field) − m| (its largest |Δm| over the damping) in `s.residual` and returns the
/// largest.
fn sweep<T: Float>(
    rbm: &Rbm<T>,
    pw: &Powers<T>,
    order: EmfOrder,
    mut m_v: ArrayViewMut2<'_, T>,
    mut m_h: ArrayViewMut2<'_, T>,
    s: &mut Scratch<T>,
) -> f64 {
    let n = m_v.nrows();
    debug_assert!(n <= s.rows());
    let (damping, delta) = (&s.damping[..n], &mut s.residual[..n]);
    delta.iter_mut().for_each(|d| *d = 0.0);
    variances(m_h.view(), &mut s.sh, order);
    fields(rbm, pw, order, m_h.view(), &s.sh, &mut s.fv, false);
    update_layer(
        m_v.view_mut(),
        &rbm.a,
        rbm.beta,
        &s.fv,
        order,
        damping,
        delta,
    );
    variances(m_v.view(), &mut s.sv, order);
    fields(rbm, pw, order, m_v.view(), &s.sv, &mut s.fh, true);
    update_layer(
        m_h.view_mut(),
        &rbm.b,
        rbm.beta,
        &s.fh,
        order,
        damping,
        delta,
    );
    let mut worst = 0.0f64;
    for (d, &damp) in delta.iter_mut().zip(damping) {
        *d /= damp.f64();
        worst = if *d > worst || d.is_nan() { *d } else { worst };
    }
    worst
}

/// Adaptive damping halves a row's damping when its residual grows by more than this factor
/// in one sweep (smaller bumps are part of normal convergence and are let through).
const GROWTH: f64 = 1.5;

/// How a solve of the fixed-point equations runs (docs/maths.md §3.2).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SolveSettings<T> {
    pub order: EmfOrder,
    /// The damping (plain and Anderson), or the lowest damping (adaptive).
    pub damping: T,
    /// The most sweeps (≥ 1).
    pub max_sweeps: usize,
    /// Stop once the residual is at most this; 0 runs every sweep.
    pub tolerance: f64,
    /// Per-row adaptive damping ([`Solver::Adaptive`]).
    pub adaptive: bool,
}

/// What a solve did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Solved {
    /// Sweeps carried out.
    pub sweeps: usize,
    /// The fixed-point residual of the last sweep, max over rows and units of |σ(field) − m|
    /// (the sweep's largest |Δm| divided by the damping).
    pub residual: f64,
}

/// Sweeps `(m_v, m_h)` towards a fixed point of Γ_k, in place: damped iteration, with per-row
/// adaptive damping when `set.adaptive` (each row starts undamped and halves its damping, down
/// to `set.damping`, whenever its residual grows by more than [`GROWTH`] in a sweep), accelerated by Anderson's method when
/// `accel` is given (its buffers hold at least as many rows). Stops at `max_sweeps` or once
/// the residual is at most the tolerance; the magnetisations left are those of the last
/// sweep, whose residual is returned.
pub(crate) fn solve<T: Float>(
    rbm: &Rbm<T>,
    pw: &Powers<T>,
    set: SolveSettings<T>,
    mut m_v: ArrayViewMut2<'_, T>,
    mut m_h: ArrayViewMut2<'_, T>,
    s: &mut Scratch<T>,
    mut accel: Option<&mut Anderson<T>>,
) -> Solved {
    let n = m_v.nrows();
    if let Some(a) = accel.as_deref_mut() {
        debug_assert!(n <= a.rows());
        a.reset();
    }
    let start = if set.adaptive { T::one() } else { set.damping };
    s.damping[..n].iter_mut().for_each(|d| *d = start);
    s.last[..n].iter_mut().for_each(|r| *r = f64::INFINITY);
    let mut sweeps = 0;
    loop {
        if let Some(a) = accel.as_deref_mut() {
            a.save(m_v.view_mut(), m_h.view_mut());
        }
        let residual = sweep(rbm, pw, set.order, m_v.view_mut(), m_h.view_mut(), s);
        sweeps += 1;
        if residual <= set.tolerance || sweeps >= set.max_sweeps {
            return Solved { sweeps, residual };
        }
        if set.adaptive {
            let half = T::of(0.5);
            for ((d, last), &r) in s.damping[..n]
                .iter_mut()
                .zip(&mut s.last[..n])
                .zip(&s.residual[..n])
            {
                if r > GROWTH * *last {
                    let lower = *d * half;
                    *d = if lower > set.damping {
                        lower
                    } else {
                        set.damping
                    };
                }
                *last = r;
            }
        }
        if let Some(a) = accel.as_deref_mut() {
            // Rows already within a tenth of the tolerance (in |Δm| terms) are left as swept.
            let settled = 0.1 * set.tolerance * set.damping.f64();
            a.step(m_v.view_mut(), m_h.view_mut(), settled);
        }
    }
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
    /// The fixed-point residual of the last sweep: the largest |σ(field) − m| over rows and
    /// units (the sweep's largest |Δm| divided by the damping).
    pub residual: f64,
    /// Whether the residual fell to the tolerance.
    pub converged: bool,
}

/// Solves the fixed-point equations of Γ_k (docs/maths.md §3) from `(m_v, m_h)` by `solver`
/// until the residual max |σ(field) − m| is at most `tol` or `max_iter` sweeps are done.
///
/// # Shapes
/// `m_v` is (n × nv), `m_h` is (n × nh); each row is an independent start.
///
/// # Errors
/// Bad magnetisations (shape, non-finite, outside \[0, 1\]) or parameters (damping outside
/// (0, 1], negative or NaN tolerance, Anderson depth 0); [`Error::Numerical`] if the
/// iteration overflows (weights beyond the float type's range for this order).
///
/// ```
/// use ndarray::Array2;
/// use onsager::{meanfield, EmfOrder, Rbm, Solver};
/// let rbm = Rbm::<f64>::random(4, 3, 0.1, 1).unwrap();
/// let fp = meanfield::fixed_point(&rbm, EmfOrder::Second, Array2::from_elem((1, 4), 0.5).view(),
///     Array2::from_elem((1, 3), 0.5).view(), 0.5, 500, 1e-12, Solver::Damped).unwrap();
/// assert!(fp.converged);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn fixed_point<T: Float>(
    rbm: &Rbm<T>,
    order: EmfOrder,
    m_v: ArrayView2<'_, T>,
    m_h: ArrayView2<'_, T>,
    damping: T,
    max_iter: usize,
    tol: f64,
    solver: Solver,
) -> Result<FixedPoint<T>> {
    if rbm.visible_units().is_real() {
        // The tilted-prior fixed point (docs/maths.md §4b), by damped iteration.
        check_damping_and_tol(damping, tol)?;
        return super::real::fixed_point(rbm, order, m_v, m_h, damping.f64(), max_iter, tol);
    }
    check_magnetisations(rbm, &m_v, &m_h)?;
    check_damping_and_tol(damping, tol)?;
    let (n, nv, nh) = (m_v.nrows(), rbm.n_visible(), rbm.n_hidden());
    let mut accel = match solver {
        Solver::Damped | Solver::Adaptive => None,
        Solver::Anderson { depth: 0 } => {
            return Err(Error::InvalidParam {
                name: "solver",
                value: solver.to_string(),
                reason: "Anderson acceleration needs a depth of at least 1",
            })
        }
        Solver::Anderson { depth } => Some(Anderson::new(n, nv, nh, depth)),
    };
    let (mut mv, mut mh) = (
        m_v.as_standard_layout().into_owned(),
        m_h.as_standard_layout().into_owned(),
    );
    if max_iter == 0 {
        return Ok(FixedPoint {
            m_v: mv,
            m_h: mh,
            iterations: 0,
            residual: f64::INFINITY,
            converged: false,
        });
    }
    let pw = Powers::new(rbm.w.view(), order);
    let mut s = Scratch::new(n, nv, nh);
    let set = SolveSettings {
        order,
        damping,
        max_sweeps: max_iter,
        tolerance: tol,
        adaptive: solver == Solver::Adaptive,
    };
    let done = solve(
        rbm,
        &pw,
        set,
        mv.view_mut(),
        mh.view_mut(),
        &mut s,
        accel.as_mut(),
    );
    if mv.iter().chain(mh.iter()).any(|m| !m.is_finite()) {
        return Err(Error::Numerical {
            what: "EMF fixed point",
            reason: format!(
                "the order-{} iteration left the range of {} (fields up to {:.3e}; its terms grow as the weights' power {}); use float64 or a lower order",
                order.as_u8(),
                T::DTYPE,
                rbm.max_field(),
                order.as_u8()
            ),
        });
    }
    Ok(FixedPoint {
        m_v: mv,
        m_h: mh,
        iterations: done.sweeps,
        converged: done.residual <= tol,
        residual: done.residual,
    })
}

/// Damping in (0, 1] and a non-negative tolerance.
fn check_damping_and_tol<T: Float>(damping: T, tol: f64) -> Result<()> {
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
    Ok(())
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
    let solver = Solver::Damped;
    Ok(fixed_point(
        rbm,
        order,
        start,
        m_h.view(),
        damping,
        max_sweeps,
        1e-6,
        solver,
    )?
    .m_v)
}
