//! The extended mean-field (Plefka / TAP) free energy Γ_k, its fixed points and its gradient
//! (docs/maths.md §2–§4). Where things are: Γ in `gamma.rs`, the fixed-point sweep and
//! solver in `fixed_point.rs`, its Anderson acceleration in `anderson.rs`, the gradient's outer products in `gradient.rs`, the row kernels
//! in `kernels.rs`, the TAP free energy of real-valued visible units in `real.rs` (docs/maths.md
//! §4b); the cached powers of W and the scratch buffers they share are here.
//!
//! With magnetisations m = (m_v, m_h), variances q = m − m² and r = q ⊙ (½ − m), and element-wise
//! powers W², W³ (all energies scaled by β):
//!
//! ```text
//! Γ₁(m) = −S(m) − β aᵀm_v − β bᵀm_h − β m_vᵀ W m_h                        (maths §2)
//! Γ₂(m) = Γ₁(m) − ½ β² Σ_ij W²_ij q_v,i q_h,j                              (the Onsager term)
//! Γ₃(m) = Γ₂(m) − ⅔ β³ Σ_ij W³_ij r_v,i r_h,j
//! ```
//!
//! and log Z ≈ −Γ_k(m*) at a stationary point m*. Setting ∂Γ_k/∂m = 0 gives the fixed-point
//! equations (maths §3), iterated visible layer first, then hidden, with damping:
//!
//! ```text
//! m_v ← σ(β a + β W m_h + β² (W² q_h) ⊙ (½ − m_v) + β³ (W³ r_h) ⊙ (⅓ − 2 q_v))
//! m_h ← σ(β b + β Wᵀm_v + β² (W²ᵀq_v) ⊙ (½ − m_h) + β³ (W³ᵀr_v) ⊙ (⅓ − 2 q_h))
//! ```
//!
//! (the β² term from order 2, the β³ term at order 3). At the fixed point the gradient of
//! −Γ_k in W is β m_v m_hᵀ + β² W ⊙ q_v q_hᵀ + 2β³ W² ⊙ r_v r_hᵀ (maths §4): [`log_z_gradient`]
//! computes it directly; training builds the same sums inside its fused update pass
//! (`train/update.rs`). Every sum over units is a matrix product over a batch of
//! magnetisation rows.

pub(crate) mod anderson;
mod fixed_point;
mod gamma;
mod gradient;
pub(crate) mod kernels;
pub(crate) mod real;

use ndarray::{Array2, ArrayView2};

use crate::{check, par, EmfOrder, Error, Float, Rbm, Result};

pub use fixed_point::{fixed_point, mean_field_samples, FixedPoint};
pub(crate) use fixed_point::{solve, SolveSettings};
pub use gamma::gamma;
pub(crate) use gamma::gamma_into;
pub use gradient::log_z_gradient;
pub(crate) use gradient::{gradient_factors, RowWeights};

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
            w2: Array2::zeros(shape(order.has_second())),
            w3: Array2::zeros(shape(order.has_third())),
        };
        let w = w.as_standard_layout();
        let w = w.as_slice().expect("a standard-layout matrix");
        kernels::powers_row(
            order,
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
    /// Per row: the damping of the next sweep, the last sweep's residual, the one before.
    damping: Vec<T>,
    residual: Vec<f64>,
    last: Vec<f64>,
}

impl<T: Float> Scratch<T> {
    pub(crate) fn new(rows: usize, nv: usize, nh: usize) -> Self {
        let z = |c: usize| Array2::zeros((rows, c));
        Self {
            fv: [z(nv), z(nv), z(nv)],
            fh: [z(nh), z(nh), z(nh)],
            sv: [z(nv), z(nv)],
            sh: [z(nh), z(nh)],
            damping: vec![T::one(); rows],
            residual: vec![0.0; rows],
            last: vec![0.0; rows],
        }
    }

    pub(crate) fn rows(&self) -> usize {
        self.fv[0].nrows()
    }
}
/// Writes q = m − m² and r = q(½ − m) of the first n rows of `m` into `s`.
pub(crate) fn variances<T: Float>(m: ArrayView2<'_, T>, s: &mut [Array2<T>; 2], order: EmfOrder) {
    let n = m.nrows();
    let [q, r] = s;
    let q = q.slice_mut(ndarray::s![..n, ..]);
    let row = |i: usize| {
        m.row(i)
            .to_slice()
            .expect("magnetisations in standard layout")
    };
    match order {
        EmfOrder::First => {}
        EmfOrder::Second => par::rows(q, |i, qrow| {
            kernels::variances_row(order, row(i), qrow, &mut [])
        }),
        EmfOrder::Third => {
            let r = r.slice_mut(ndarray::s![..n, ..]);
            par::rows_pair(q, r, |i, qrow, rrow| {
                kernels::variances_row(order, row(i), qrow, rrow)
            });
        }
    }
}

pub(crate) fn check_magnetisations<T: Float>(
    rbm: &Rbm<T>,
    m_v: &ArrayView2<'_, T>,
    m_h: &ArrayView2<'_, T>,
) -> Result<()> {
    rbm.require_bernoulli(
        "the binary EMF free energy",
        "real-valued units have their own TAP free energy (meanfield::fixed_point and meanfield::gamma, docs/maths.md §4b)",
    )?;
    check_rows(rbm, m_v, m_h)
}

/// Visible magnetisations in the units' range (\[0, 1\] for binary units), hidden ones in
/// \[0, 1\], as many rows of each, the model's widths.
pub(crate) fn check_rows<T: Float>(
    rbm: &Rbm<T>,
    m_v: &ArrayView2<'_, T>,
    m_h: &ArrayView2<'_, T>,
) -> Result<()> {
    rbm.visible_units()
        .check_data("visible magnetisations", m_v, rbm.n_visible())?;
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

/// Magnetisations as the public functions take them: checked (as [`check_magnetisations`])
/// and in standard layout (views when they already are).
pub(crate) type Rows<'a, T> = ndarray::CowArray<'a, T, ndarray::Ix2>;

/// Checks `m_v`, `m_h` and returns them in standard layout.
pub(crate) fn standard_magnetisations<'a, T: Float>(
    rbm: &Rbm<T>,
    m_v: ArrayView2<'a, T>,
    m_h: ArrayView2<'a, T>,
) -> Result<(Rows<'a, T>, Rows<'a, T>)> {
    check_magnetisations(rbm, &m_v, &m_h)?;
    let standard = |m: ArrayView2<'a, T>| -> Rows<'a, T> {
        if m.is_standard_layout() {
            m.into()
        } else {
            m.as_standard_layout().into_owned().into()
        }
    };
    Ok((standard(m_v), standard(m_h)))
}
