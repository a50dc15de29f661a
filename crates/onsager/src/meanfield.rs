//! The extended mean-field (Plefka / TAP) free energy Γ_k, its fixed points and its gradient
//! (emf-math §2–§4).
//!
//! With magnetisations m = (m_v, m_h), variances q = m − m² and r = q ⊙ (½ − m), and element-wise
//! powers W², W³ (all energies scaled by β):
//!
//! ```text
//! Γ₁(m) = −S(m) − β aᵀm_v − β bᵀm_h − β m_vᵀ W m_h                        (emf-math §2)
//! Γ₂(m) = Γ₁(m) − ½ β² Σ_ij W²_ij q_v,i q_h,j                              (the Onsager term)
//! Γ₃(m) = Γ₂(m) − ⅔ β³ Σ_ij W³_ij r_v,i r_h,j
//! ```
//!
//! and log Z ≈ −Γ_k(m*) at a stationary point m*. Every sum over units is a matrix product over
//! a batch of magnetisation rows.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Zip};
use serde::{Deserialize, Serialize};

use crate::kernels::{self, neg_entropy};
use crate::{check, linalg, par, Error, Float, Rbm, Result};

/// The order at which the Plefka expansion of the free energy is truncated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum EmfOrder {
    /// Naive mean field, Γ₁.
    First,
    /// TAP: Γ₂, with the Onsager reaction term.
    Second,
    /// Γ₃, with the third-order term.
    Third,
}

impl EmfOrder {
    /// 1, 2 or 3.
    pub fn as_u8(self) -> u8 {
        match self {
            EmfOrder::First => 1,
            EmfOrder::Second => 2,
            EmfOrder::Third => 3,
        }
    }
}

impl TryFrom<u8> for EmfOrder {
    type Error = Error;
    fn try_from(k: u8) -> Result<Self> {
        match k {
            1 => Ok(EmfOrder::First),
            2 => Ok(EmfOrder::Second),
            3 => Ok(EmfOrder::Third),
            _ => Err(Error::InvalidParam {
                name: "order",
                value: k.to_string(),
                reason: "the EMF order must be 1, 2 or 3",
            }),
        }
    }
}

impl From<EmfOrder> for u8 {
    fn from(k: EmfOrder) -> u8 {
        k.as_u8()
    }
}

/// W² and W³, element-wise, cached between weight updates (W³ only at order 3).
#[derive(Clone, Debug)]
pub(crate) struct Powers<T: Float> {
    pub(crate) w2: Array2<T>,
    pub(crate) w3: Array2<T>,
}

impl<T: Float> Powers<T> {
    pub(crate) fn new(w: ArrayView2<'_, T>, order: EmfOrder) -> Self {
        let (nv, nh) = w.dim();
        let shape = |used: bool| if used { (nv, nh) } else { (0, 0) };
        let mut p = Self {
            w2: Array2::zeros(shape(order != EmfOrder::First)),
            w3: Array2::zeros(shape(order == EmfOrder::Third)),
        };
        let w = w.as_standard_layout();
        let w = w.as_slice().expect("a standard-layout matrix");
        kernels::powers_row(
            w,
            p.w2.as_slice_mut().expect("a fresh array"),
            p.w3.as_slice_mut().expect("a fresh array"),
        );
        p
    }
}

/// Scratch for the fixed-point iteration and Γ of up to `rows` magnetisation rows.
#[derive(Clone, Debug)]
pub(crate) struct Scratch<T: Float> {
    /// Fields of the visible layer from W, W², W³ (rows × nv each).
    fv: [Array2<T>; 3],
    /// Fields of the hidden layer from W, W², W³ (rows × nh each).
    fh: [Array2<T>; 3],
    /// q and r of the visible layer (rows × nv each).
    sv: [Array2<T>; 2],
    /// q and r of the hidden layer (rows × nh each).
    sh: [Array2<T>; 2],
}

impl<T: Float> Scratch<T> {
    pub(crate) fn new(rows: usize, nv: usize, nh: usize) -> Self {
        let z = |c: usize| Array2::zeros((rows, c));
        Self {
            fv: [z(nv), z(nv), z(nv)],
            fh: [z(nh), z(nh), z(nh)],
            sv: [z(nv), z(nv)],
            sh: [z(nh), z(nh)],
        }
    }

    pub(crate) fn rows(&self) -> usize {
        self.fv[0].nrows()
    }
}

/// Writes q = m − m² and r = q(½ − m) of the first n rows of `m` into `s`.
fn variances<T: Float>(m: ArrayView2<'_, T>, s: &mut [Array2<T>; 2], order: EmfOrder) {
    if order == EmfOrder::First {
        return;
    }
    let n = m.nrows();
    let [q, r] = s;
    let q = q.slice_mut(ndarray::s![..n, ..]);
    let row = |i: usize| {
        m.row(i)
            .to_slice()
            .expect("magnetisations in standard layout")
    };
    if order == EmfOrder::Second {
        par::rows(q, |i, qrow| kernels::variances_row(row(i), qrow, &mut []));
    } else {
        let r = r.slice_mut(ndarray::s![..n, ..]);
        par::rows_pair(q, r, |i, qrow, rrow| {
            kernels::variances_row(row(i), qrow, rrow)
        });
    }
}

/// The three fields one layer receives from the other: `f[0] = β·x W`, `f[1] = β²·q_x W²`,
/// `f[2] = β³·r_x W³`, where W is taken as `w` (hidden side) or its transpose (visible side).
fn fields<T: Float>(
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
    if order != EmfOrder::First {
        linalg::gemm(
            f2.slice_mut(rows),
            false,
            s[0].slice(rows),
            pick(&pw.w2, to_hidden),
            beta * beta,
        );
    }
    if order == EmfOrder::Third {
        linalg::gemm(
            f3.slice_mut(rows),
            false,
            s[1].slice(rows),
            pick(&pw.w3, to_hidden),
            beta * beta * beta,
        );
    }
}

/// Damped update of one layer from its fields (emf-math §3, [`kernels::mean_field_update`]).
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
    let (used1, used2) = (order != EmfOrder::First, order == EmfOrder::Third);
    let empty = Array2::zeros((0, 0));
    let (f1, f2) = (
        if used1 { &f[1] } else { &empty },
        if used2 { &f[2] } else { &empty },
    );
    par::rows_max(m, |i, mrow| {
        let (g0, g1, g2) = (
            par::row_slice(&f[0], i),
            par::row_slice(f1, i),
            par::row_slice(f2, i),
        );
        kernels::mean_field_update(mrow, bias, beta, g0, g1, g2, damping).f64()
    })
}

/// One damped sweep of the fixed-point equations over a batch of magnetisation rows: the
/// visible layer first, then the hidden layer from the new visible values (emf-math §3).
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

/// Γ_k per magnetisation row into `out` (emf-math §2), accumulated in `f64`.
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
            if order != EmfOrder::First {
                g -= 0.5 * f[1][[i, j]].f64() * sh[0][[i, j]].f64();
            }
            if order == EmfOrder::Third {
                g -= 2.0 / 3.0 * f[2][[i, j]].f64() * sh[1][[i, j]].f64();
            }
        }
        g
    });
}

/// The three outer-product sums behind the EMF gradient (emf-math §4), each scaled by
/// `scale`: `g1 = scale·β·m_vᵀm_h`, `g2 = scale·β²·q_vᵀq_h`, `g3 = scale·2β³·r_vᵀr_h`
/// (`None` above the order). Writes the variances q, r of both layers into `s`, which the
/// factors then borrow. The caller combines the sums as g1 + W⊙g2 + W²⊙g3.
pub(crate) fn gradient_factors<'a, T: Float>(
    rbm: &Rbm<T>,
    order: EmfOrder,
    m_v: ArrayView2<'a, T>,
    m_h: ArrayView2<'a, T>,
    s: &'a mut Scratch<T>,
    scale: T,
) -> [Option<linalg::Outer<'a, T>>; 3] {
    let beta = rbm.beta;
    let rows = ndarray::s![..m_v.nrows(), ..];
    variances(m_v, &mut s.sv, order);
    variances(m_h, &mut s.sh, order);
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
            left: m_v,
            right: m_h,
            scale: scale * beta,
        }),
        outer(0, order != EmfOrder::First, scale * beta * beta),
        outer(
            1,
            order == EmfOrder::Third,
            scale * T::of(2.0) * beta * beta * beta,
        ),
    ]
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

fn check_magnetisations<T: Float>(
    rbm: &Rbm<T>,
    m_v: &ArrayView2<'_, T>,
    m_h: &ArrayView2<'_, T>,
) -> Result<()> {
    check::unit_data("visible magnetisations", m_v, rbm.n_visible())?;
    check::unit_data("hidden magnetisations", m_h, rbm.n_hidden())?;
    if m_v.nrows() != m_h.nrows() {
        return Err(Error::Shape {
            what: "hidden magnetisation rows",
            expected: m_v.nrows().to_string(),
            got: m_h.nrows().to_string(),
        });
    }
    Ok(())
}

/// Iterates the damped fixed-point equations of Γ_k (emf-math §3) from `(m_v, m_h)` until
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

/// Γ_k(m) for each magnetisation row (emf-math §2); −Γ_k at a fixed point approximates log Z.
///
/// # Errors
/// Bad magnetisations: shape, non-finite, outside \[0, 1\].
pub fn gamma<T: Float>(
    rbm: &Rbm<T>,
    order: EmfOrder,
    m_v: ArrayView2<'_, T>,
    m_h: ArrayView2<'_, T>,
) -> Result<Array1<f64>> {
    check_magnetisations(rbm, &m_v, &m_h)?;
    let (m_v, m_h) = (m_v.as_standard_layout(), m_h.as_standard_layout());
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

/// The EMF estimate of ∂ log Z / ∂W at fixed magnetisations, averaged over rows
/// (emf-math §4): β m_v m_hᵀ + β² W ⊙ q_v q_hᵀ + 2β³ W² ⊙ r_v r_hᵀ (the later terms at orders
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
    check_magnetisations(rbm, &m_v, &m_h)?;
    let (m_v, m_h) = (m_v.as_standard_layout(), m_h.as_standard_layout());
    let (m_v, m_h) = (m_v.view(), m_h.view());
    let (nv, nh) = rbm.w.dim();
    let mut s = Scratch::new(m_v.nrows(), nv, nh);
    let mut g = [
        Array2::zeros((nv, nh)),
        Array2::zeros((nv, nh)),
        Array2::zeros((nv, nh)),
    ];
    let scale = T::one() / T::of(m_v.nrows() as f64);
    let factors = gradient_factors(rbm, order, m_v, m_h, &mut s, scale);
    for (g, f) in g.iter_mut().zip(&factors) {
        if let Some(f) = f {
            f.write(g.view_mut(), false);
        }
    }
    let [g1, g2, g3] = &g;
    let pw = Powers::new(rbm.w.view(), order);
    let mut out = g1.clone();
    if order != EmfOrder::First {
        Zip::from(&mut out)
            .and(&rbm.w)
            .and(g2)
            .for_each(|o, &w, &t| *o += w * t);
    }
    if order == EmfOrder::Third {
        Zip::from(&mut out)
            .and(&pw.w2)
            .and(g3)
            .for_each(|o, &w2, &t| *o += w2 * t);
    }
    Ok(out)
}
