//! The TAP free energy of real-valued visible units (docs/maths.md §4b; Tramel, Gabrié, Manoel,
//! Caltagirone & Krzakala 2018): each visible unit's prior tilted by a linear and a quadratic
//! term, its fixed point, −Γ and the gradient's factors, for Gaussian and truncated-Gaussian
//! units at order 1 (naive mean field) and 2 (the Onsager correction).
//!
//! With J = diag(1/σ²)·W (the couplings the hidden layer reads), visible means m and variances
//! c, hidden means μ and variances d = μ(1 − μ), and the tilted prior of unit i
//!
//! ```text
//! Zᵢ(A, B) = ∫ exp(−(x − aᵢ)²/(2σᵢ²) + B x + A x²) dx      (over ℝ, or [low, high])
//! ```
//!
//! the fixed point is (order 2; order 1 drops every J² term)
//!
//! ```text
//! Aᵢ = ½ Σⱼ J²ᵢⱼ dⱼ,   Bᵢ = Σⱼ Jᵢⱼ μⱼ − 2Aᵢ mᵢ,   mᵢ = ∂_B log Zᵢ,   cᵢ = ∂_A log Zᵢ − mᵢ²
//! μⱼ = σ(bⱼ + Σᵢ Jᵢⱼ mᵢ + (½ − μⱼ) Σᵢ J²ᵢⱼ cᵢ)
//! −Γ = Σᵢ [log Zᵢ − Bᵢ mᵢ − Aᵢ (cᵢ + mᵢ²)] + Σⱼ [H(μⱼ) + bⱼ μⱼ] + mᵀJμ + ½ Σᵢⱼ J²ᵢⱼ cᵢ dⱼ
//! ```
//!
//! and log Z ≈ −Γ at the fixed point. The tilted precision is 1/σᵢ² − 2Aᵢ; it is kept at or
//! above 1/(10σᵢ²) (the tilted variance at most ten times the prior's), so a step whose
//! Onsager term would make a Gaussian unit's integral diverge (σ²ΣJ²d ≥ 1) never gives a NaN:
//! the units held at that bound are counted ([`RealTap::capped`]) and reported.

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2};

use multiversion::multiversion;

use super::kernels::mean_field_update;
use crate::units::truncated_normal::{mean_var_block, moments, BLOCK};
use crate::{linalg, par, EmfOrder, Error, Float, Rbm, Result, Visible};

/// The tilted variance is at most this many times the prior's σ² (docs/maths.md §4b).
pub const MAX_VARIANCE_RATIO: f64 = 10.0;

/// log Zᵢ(A, B), the tilted mean and variance of one unit, and whether A was held at the bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Tilted {
    pub log_z: f64,
    pub mean: f64,
    pub var: f64,
    /// The A actually used (A itself unless held at the bound).
    pub a_used: f64,
    pub capped: bool,
}

/// The tilted precision λ = 1/σ² − 2A of a unit of prior precision `p` = 1/σ², held at
/// 1/(10σ²) or above, and whether it was held (docs/maths.md §4b).
#[inline(always)]
fn tilted_precision(p: f64, big_a: f64) -> (f64, bool) {
    let floor = p / MAX_VARIANCE_RATIO;
    let raw = p - 2.0 * big_a;
    let held = raw.is_nan() || raw < floor;
    (if held { floor } else { raw }, held)
}

/// The tilted prior of a unit with bias `a` and standard deviation `sigma` on `range`:
/// exp(−(x − a)²/(2σ²) + B x + A x²) = exp(−λ(x − μ̃)²/2 + λμ̃²/2 − a²/(2σ²)) with precision
/// λ = 1/σ² − 2A and mean μ̃ = (a/σ² + B)/λ; a truncated unit's integral and moments come from
/// the stable truncated-normal moments.
pub(crate) fn tilted(a: f64, sigma: f64, big_a: f64, big_b: f64, range: (f64, f64)) -> Tilted {
    let p = 1.0 / (sigma * sigma);
    let (lambda, capped) = tilted_precision(p, big_a);
    let mu = (a * p + big_b) / lambda;
    let s = lambda.sqrt().recip();
    let base = 0.5 * lambda * mu * mu - 0.5 * a * a * p;
    let (log_z, mean, var) = if range.0.is_finite() {
        match moments(mu, s, range.0, range.1) {
            Ok(m) => (base + m.log_z, m.mean, m.var),
            // Only a non-finite field (diverged weights) lands here: the nearest end.
            Err(_) => (f64::NAN, mu.clamp(range.0, range.1), 0.0),
        }
    } else {
        (
            base + (s * (2.0 * std::f64::consts::PI).sqrt()).ln(),
            mu,
            s * s,
        )
    };
    Tilted {
        log_z,
        mean,
        var,
        a_used: 0.5 * (p - lambda),
        capped,
    }
}

/// Binary entropy H(μ) = −μ ln μ − (1 − μ) ln(1 − μ), 0 at the ends.
fn entropy(m: f64) -> f64 {
    let t = |x: f64| if x > 0.0 { -x * x.ln() } else { 0.0 };
    t(m) + t(1.0 - m)
}

/// The buffers of the real-valued TAP iteration for up to `rows` rows: J², the fields, the
/// visible variances c of the last visible update and the hidden variances d.
#[derive(Clone, Debug)]
pub(crate) struct RealTap<T: Float> {
    /// J² = (W/σ²)², element-wise (nv × nh; 0 × 0 at order 1).
    j2: Array2<T>,
    /// μJᵀ and dJ²ᵀ (rows × nv).
    fv: [Array2<T>; 2],
    /// mJ and cJ² (rows × nh).
    fh: [Array2<T>; 2],
    /// The visible variances c (rows × nv), and c/σ⁴ for the gradient.
    c: Array2<T>,
    c_scaled: Array2<T>,
    /// The hidden variances d = μ(1 − μ) (rows × nh).
    d: Array2<T>,
    /// Per row: the last sweep's residual and units held at the variance bound.
    rows: Vec<RowState>,
}

/// What one sweep did to one row.
#[derive(Clone, Copy, Debug, Default)]
struct RowState {
    /// The largest |target − m| over the row's units, visible and hidden (NaN if any was).
    residual: f64,
    /// Visible units whose tilted variance was held at the bound.
    capped: usize,
}

impl RowState {
    fn note(&mut self, change: f64) {
        let c = change.abs();
        if c > self.residual || c.is_nan() {
            self.residual = c;
        }
    }
}

/// A visible layer's prior: biases, standard deviations and the units' interval (±∞ for
/// Gaussian units).
#[derive(Clone, Copy)]
struct Prior<'a, T> {
    a: &'a [T],
    sigma: &'a [T],
    range: (f64, f64),
}

/// One damped visible update of a row, in blocks of [`BLOCK`] units: each unit's tilted prior
/// from its fields (`fields` = [μJᵀ, Σ J²d]; A = ½ Σ J²d at order 2, else 0; B = μJᵀ − 2A·m),
/// precision λ = 1/σ² − 2A held at 1/(10σ²) or above, mean μ̃ = (a/σ² + B)/λ; the tilted mean
/// and variance are μ̃ and 1/λ for Gaussian units, the truncated normal's on the interval
/// otherwise ([`mean_var_block`], vectorised). Then a Newton step on m = f_a(A, B(m)): B falls
/// by 2A per unit of m and f_a rises by c per unit of B, so the step is (f_a − m)/(1 + 2Ac);
/// for Gaussian units it lands on the fixed point m = a + σ²·(Jμ)ᵢ at once (docs/maths.md
/// §4b). `m` takes the damped step, `c` the variance. The row's residual and capped units are
/// returned. The ragged tail runs as one padded block.
#[multiversion(targets = "simd")]
fn visible_row<T: Float>(
    m: &mut [T],
    c: &mut [T],
    [f, f2]: [&[T]; 2],
    prior: Prior<'_, T>,
    second: bool,
    damping: f64,
) -> RowState {
    let truncated = prior.range.0.is_finite();
    let mut st = RowState::default();
    let mut worst = [0.0f64; BLOCK];
    let mut capped = [0usize; BLOCK];
    // A block's inputs in f64; the ragged tail's missing lanes padded with a unit that is
    // held at no bound (σ = 1, A = 0) and never written back.
    let load = |dst: &mut [f64; BLOCK], src: &[T], start: usize, pad: f64| {
        if start + BLOCK <= src.len() {
            for (d, s) in dst.iter_mut().zip(&src[start..start + BLOCK]) {
                *d = s.f64();
            }
        } else {
            dst.fill(pad);
            for (d, s) in dst.iter_mut().zip(&src[start..]) {
                *d = s.f64();
            }
        }
    };
    let (mut old, mut big_a, mut mu, mut sd) =
        ([0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK]);
    let (mut sig, mut bias, mut field) = ([0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK]);
    let (mut mean, mut var) = ([0.0; BLOCK], [0.0; BLOCK]);
    for start in (0..m.len()).step_by(BLOCK) {
        let len = BLOCK.min(m.len() - start);
        load(&mut sig, prior.sigma, start, 1.0);
        load(&mut bias, prior.a, start, 0.0);
        load(&mut old, m, start, 0.0);
        load(&mut field, f, start, 0.0);
        if second {
            load(&mut big_a, f2, start, 0.0);
        }
        for k in 0..BLOCK {
            let p = 1.0 / (sig[k] * sig[k]);
            big_a[k] = if second { 0.5 * big_a[k] } else { 0.0 };
            let big_b = field[k] - 2.0 * big_a[k] * old[k];
            let (lambda, held) = tilted_precision(p, big_a[k]);
            capped[k] += held as usize;
            let inv = 1.0 / lambda;
            mu[k] = (bias[k] * p + big_b) * inv;
            // Gaussian units: the tilted moments are (μ̃, 1/λ) themselves.
            (mean[k], var[k]) = (mu[k], inv);
            sd[k] = inv.sqrt();
        }
        if truncated {
            mean_var_block(&mu, &sd, prior.range, &mut mean, &mut var);
        }
        for k in 0..BLOCK {
            let change = mean[k] - old[k];
            // Only live lanes count (a padded lane's mean need not be its 0).
            let d = if k < len { change.abs() } else { 0.0 };
            worst[k] = if d > worst[k] || d.is_nan() {
                d
            } else {
                worst[k]
            };
            let step = change / (1.0 + 2.0 * big_a[k] * var[k]);
            mean[k] = old[k] + damping * step;
        }
        for k in 0..len {
            m[start + k] = T::of(mean[k]);
            c[start + k] = T::of(var[k]);
        }
    }
    for w in worst {
        st.note(w);
    }
    st.capped = capped.iter().sum();
    st
}

/// The checks every entry point makes: real-valued units, β = 1, an order the expansion has.
pub(crate) fn check_real<T: Float>(rbm: &Rbm<T>, order: EmfOrder) -> Result<()> {
    let unsupported = |what, reason| Error::Unsupported {
        what,
        model: format!("a model with {} visible units", rbm.visible_units()),
        reason,
    };
    if !rbm.visible_units().is_real() {
        return Err(unsupported(
            "the real-valued TAP free energy",
            "binary units have their own EMF free energy",
        ));
    }
    if order == EmfOrder::Third {
        return Err(unsupported(
            "EMF order 3",
            "the real-valued TAP expansion is written to order 2; use order 1 or 2",
        ));
    }
    if rbm.beta != T::one() {
        return Err(unsupported(
            "the real-valued TAP free energy at β ≠ 1",
            "use β = 1",
        ));
    }
    Ok(())
}

impl<T: Float> RealTap<T> {
    /// Buffers for `rows` rows of a model with `nv` visible and `nh` hidden units.
    pub(crate) fn new(rows: usize, nv: usize, nh: usize) -> Self {
        let z = |c: usize| Array2::zeros((rows, c));
        Self {
            j2: Array2::zeros((nv, nh)),
            fv: [z(nv), z(nv)],
            fh: [z(nh), z(nh)],
            c: z(nv),
            c_scaled: z(nv),
            d: z(nh),
            rows: vec![RowState::default(); rows],
        }
    }

    /// Recomputes J² from the model (once per weight update).
    pub(crate) fn refresh(&mut self, rbm: &Rbm<T>) {
        let j = rbm.hidden_weights();
        ndarray::Zip::from(&mut self.j2)
            .and(&j)
            .for_each(|x, &w| *x = w * w);
    }

    /// (Visible, hidden, biases, σ, interval) as the kernels read them.
    fn parts(rbm: &Rbm<T>) -> (&[T], &[T], &[T], (f64, f64)) {
        let a = rbm.a.as_slice().expect("contiguous bias");
        let b = rbm.b.as_slice().expect("contiguous bias");
        let sigma = rbm.sigma.as_slice().expect("contiguous σ");
        let range = match rbm.visible_units() {
            Visible::TruncatedGaussian { low, high } => (low, high),
            _ => (f64::NEG_INFINITY, f64::INFINITY),
        };
        (a, b, sigma, range)
    }

    /// d = μ(1 − μ), μJᵀ and dJ²ᵀ of the first n rows of `m_h`.
    fn visible_fields(&mut self, rbm: &Rbm<T>, order: EmfOrder, m_h: ArrayView2<'_, T>) {
        let n = m_h.nrows();
        let rows = s![..n, ..];
        linalg::gemm(
            self.fv[0].slice_mut(rows),
            false,
            m_h,
            rbm.hidden_weights().t(),
            T::one(),
        );
        if order.has_second() {
            self.pull(order, m_h);
        }
    }

    /// d = μ(1 − μ) of the first n rows of `m_h` and the Onsager pull on the visible layer,
    /// Σⱼ J²ᵢⱼ dⱼ, into `fv[1]` (zero at order 1, which has no such term).
    fn pull(&mut self, order: EmfOrder, m_h: ArrayView2<'_, T>) {
        let rows = s![..m_h.nrows(), ..];
        ndarray::Zip::from(self.d.slice_mut(rows))
            .and(m_h)
            .for_each(|d, &m| *d = m * (T::one() - m));
        if order.has_second() {
            linalg::gemm(
                self.fv[1].slice_mut(rows),
                false,
                self.d.slice(rows),
                self.j2.t(),
                T::one(),
            );
        } else {
            self.fv[1].slice_mut(rows).fill(T::zero());
        }
    }

    /// mJ and cJ² of the first n rows.
    fn hidden_fields(&mut self, rbm: &Rbm<T>, order: EmfOrder, m_v: ArrayView2<'_, T>) {
        let rows = s![..m_v.nrows(), ..];
        linalg::gemm(
            self.fh[0].slice_mut(rows),
            false,
            m_v,
            rbm.hidden_weights(),
            T::one(),
        );
        if order.has_second() {
            linalg::gemm(
                self.fh[1].slice_mut(rows),
                false,
                self.c.slice(rows),
                self.j2.view(),
                T::one(),
            );
        }
    }

    /// One damped sweep, visible layer first (its means from the tilted priors, its
    /// variances c set), then the hidden layer from the new visible values; returns the
    /// largest residual max |target − m| over the rows (each row's in [`RealTap::residuals`]).
    pub(crate) fn sweep(
        &mut self,
        rbm: &Rbm<T>,
        order: EmfOrder,
        mut m_v: ArrayViewMut2<'_, T>,
        mut m_h: ArrayViewMut2<'_, T>,
        damping: f64,
    ) -> f64 {
        let n = m_v.nrows();
        let (a, b, sigma, range) = Self::parts(rbm);
        self.visible_fields(rbm, order, m_h.view());
        let second = order.has_second();
        let fv = &self.fv;
        let c = self.c.slice_mut(s![..n, ..]);
        par::rows_pair_with(
            m_v.view_mut(),
            c,
            &mut self.rows[..n],
            |r, mrow, crow, st| {
                let fields = [par::row_slice(&fv[0], r), par::row_slice(&fv[1], r)];
                let prior = Prior { a, sigma, range };
                *st = visible_row(mrow, crow, fields, prior, second, damping);
            },
        );
        self.hidden_fields(rbm, order, m_v.view());
        let fh = &self.fh;
        let step = T::of(damping);
        par::rows_with(m_h.view_mut(), &mut self.rows[..n], |r, hrow, st| {
            let (f, f2) = (par::row_slice(&fh[0], r), par::row_slice(&fh[1], r));
            // μ ← damping·σ(b + mJ + (½ − μ)·cJ²) + (1 − damping)·μ: the binary layer's
            // update at β = 1 (its Onsager term the same), vectorised; it returns the damped
            // change, the residual is the undamped one.
            let moved = mean_field_update(hrow, b, T::one(), order, [f, f2, f2], step).f64();
            st.note(if damping > 0.0 {
                moved / damping
            } else {
                moved
            });
        });
        self.rows[..n].iter().fold(0.0, |w: f64, st| {
            if st.residual > w || st.residual.is_nan() {
                st.residual
            } else {
                w
            }
        })
    }

    /// Units held at the variance bound in the last sweep, summed over its rows.
    pub(crate) fn capped(&self, rows: usize) -> usize {
        self.rows[..rows].iter().map(|st| st.capped).sum()
    }
}

/// How one real-valued solve ran.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RealSolved {
    pub sweeps: usize,
    pub residual: f64,
    /// Units held at the variance bound in the last sweep, over all rows.
    pub capped: usize,
}

impl<T: Float> RealTap<T> {
    /// Sweeps (after refreshing J²) until the residual is at most `tolerance` or
    /// `max_sweeps` (≥ 1) are done.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn solve(
        &mut self,
        rbm: &Rbm<T>,
        order: EmfOrder,
        mut m_v: ArrayViewMut2<'_, T>,
        mut m_h: ArrayViewMut2<'_, T>,
        damping: f64,
        max_sweeps: usize,
        tolerance: f64,
    ) -> RealSolved {
        self.refresh(rbm);
        let mut done = RealSolved {
            sweeps: 0,
            residual: f64::INFINITY,
            capped: 0,
        };
        while done.sweeps < max_sweeps.max(1) {
            done.residual = self.sweep(rbm, order, m_v.view_mut(), m_h.view_mut(), damping);
            done.sweeps += 1;
            if done.residual.is_nan() || (tolerance > 0.0 && done.residual <= tolerance) {
                break;
            }
        }
        done.capped = self.capped(m_v.nrows());
        done
    }

    /// −Γ of each row of (m_v, m_h) (J² current): the tilted priors' A, B from the row's
    /// hidden means and its visible means, the visible term at the tilted moments (equal to
    /// m_v at a fixed point), the hidden entropy and bias, the coupling mᵀJμ and, at order 2,
    /// ½ Σ J² c d. Writes it into `out[..rows]`.
    pub(crate) fn neg_gamma_into(
        &mut self,
        rbm: &Rbm<T>,
        order: EmfOrder,
        m_v: ArrayView2<'_, T>,
        m_h: ArrayView2<'_, T>,
        out: &mut [f64],
    ) {
        let n = m_v.nrows();
        let (a, b, sigma, range) = Self::parts(rbm);
        self.visible_fields(rbm, order, m_h);
        let second = order.has_second();
        let [f0, f1] = &mut self.fv;
        let rows = s![..n, ..];
        // fv[0] ← the tilted means m̃, fv[1] ← the tilted variances c̃, out ← the visible term.
        par::rows_pair_with(
            f0.slice_mut(rows),
            f1.slice_mut(rows),
            &mut out[..n],
            |r, fa, fb, o| {
                let mrow = m_v.row(r);
                let mut total = 0.0;
                for i in 0..fa.len() {
                    let big_a = if second { 0.5 * fb[i].f64() } else { 0.0 };
                    let big_b = fa[i].f64() - 2.0 * big_a * mrow[i].f64();
                    let t = tilted(a[i].f64(), sigma[i].f64(), big_a, big_b, range);
                    total += t.log_z - big_b * t.mean - t.a_used * (t.var + t.mean * t.mean);
                    fa[i] = T::of(t.mean);
                    fb[i] = T::of(t.var);
                }
                *o = total;
            },
        );
        let j = rbm.hidden_weights();
        linalg::gemm(
            self.fh[0].slice_mut(rows),
            false,
            self.fv[0].slice(rows),
            j,
            T::one(),
        );
        if second {
            linalg::gemm(
                self.fh[1].slice_mut(rows),
                false,
                self.fv[1].slice(rows),
                self.j2.view(),
                T::one(),
            );
        }
        for (r, o) in out[..n].iter_mut().enumerate() {
            let (f, f2) = (
                par::row_slice(&self.fh[0], r),
                par::row_slice(&self.fh[1], r),
            );
            let mut total = 0.0;
            for (jj, &mu) in m_h.row(r).iter().enumerate() {
                let mu = mu.f64();
                total += entropy(mu) + b[jj].f64() * mu + f[jj].f64() * mu;
                if second {
                    total += 0.5 * f2[jj].f64() * mu * (1.0 - mu);
                }
            }
            *o += total;
        }
    }

    /// The gradient's variance rows after a solve of `rows` rows (docs/maths.md §4b): c/σ⁴
    /// (rows × nv, c from the last visible update), d = μ(1 − μ) of `m_h` (rows × nh), and,
    /// for the learned σ's Onsager term, c itself and Σⱼ J²ᵢⱼ dⱼ (rows × nv). The
    /// W-gradient's negative part is (1/σ²)·(m μᵀ + W ⊙ (c/σ²) dᵀ), the update pass applying
    /// the row precision to the first term.
    pub(crate) fn second_order_rows(
        &mut self,
        rbm: &Rbm<T>,
        order: EmfOrder,
        m_h: ArrayView2<'_, T>,
    ) -> TapRows<'_, T> {
        let rows = s![..m_h.nrows(), ..];
        self.pull(order, m_h);
        let sigma = &rbm.sigma;
        ndarray::Zip::from(self.c_scaled.slice_mut(rows).rows_mut())
            .and(self.c.slice(rows).rows())
            .for_each(|mut out, c| {
                ndarray::Zip::from(&mut out)
                    .and(&c)
                    .and(sigma)
                    .for_each(|o, &c, &s| *o = c / (s * s * s * s));
            });
        TapRows {
            c_scaled: self.c_scaled.slice(rows),
            d: self.d.slice(rows),
            c: self.c.slice(rows),
            pull: self.fv[1].slice(rows),
        }
    }
}

/// The variance rows of the real-valued TAP gradient ([`RealTap::second_order_rows`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TapRows<'a, T> {
    /// c/σ⁴ per visible unit.
    pub c_scaled: ArrayView2<'a, T>,
    /// μ(1 − μ) per hidden unit.
    pub d: ArrayView2<'a, T>,
    /// The visible variances c.
    pub c: ArrayView2<'a, T>,
    /// Σⱼ J²ᵢⱼ dⱼ per visible unit (0 at order 1).
    pub pull: ArrayView2<'a, T>,
}

/// [`crate::meanfield::fixed_point`] for real-valued visible units: `m_v` (n × nv) are visible
/// means in the units' range, `m_h` hidden means in \[0, 1\]; the damped iteration of the
/// tilted-prior fixed point (every solver runs it; Anderson acceleration is for binary units).
#[allow(clippy::too_many_arguments)]
pub(crate) fn fixed_point<T: Float>(
    rbm: &Rbm<T>,
    order: EmfOrder,
    m_v: ArrayView2<'_, T>,
    m_h: ArrayView2<'_, T>,
    damping: f64,
    max_iter: usize,
    tol: f64,
) -> Result<super::FixedPoint<T>> {
    check_real(rbm, order)?;
    super::check_rows(rbm, &m_v, &m_h)?;
    let mut mv = m_v.as_standard_layout().into_owned();
    let mut mh = m_h.as_standard_layout().into_owned();
    if max_iter == 0 {
        return Ok(super::FixedPoint {
            m_v: mv,
            m_h: mh,
            iterations: 0,
            residual: f64::INFINITY,
            converged: false,
        });
    }
    let mut tap = RealTap::new(mv.nrows(), rbm.n_visible(), rbm.n_hidden());
    let done = tap.solve(
        rbm,
        order,
        mv.view_mut(),
        mh.view_mut(),
        damping,
        max_iter,
        tol,
    );
    if mv.iter().chain(mh.iter()).any(|m| !m.is_finite()) {
        return Err(Error::Numerical {
            what: "real-valued TAP fixed point",
            reason: format!(
                "the iteration left the range of {} (fields up to {:.3e})",
                T::DTYPE,
                rbm.max_field()
            ),
        });
    }
    Ok(super::FixedPoint {
        m_v: mv,
        m_h: mh,
        iterations: done.sweeps,
        converged: done.residual <= tol,
        residual: done.residual,
    })
}

/// −Γ per row for real-valued units (see [`RealTap::neg_gamma_into`]), as Γ.
pub(crate) fn gamma<T: Float>(
    rbm: &Rbm<T>,
    order: EmfOrder,
    m_v: ArrayView2<'_, T>,
    m_h: ArrayView2<'_, T>,
) -> Result<ndarray::Array1<f64>> {
    check_real(rbm, order)?;
    super::check_rows(rbm, &m_v, &m_h)?;
    let (mv, mh) = (m_v.as_standard_layout(), m_h.as_standard_layout());
    let mut tap = RealTap::new(mv.nrows(), rbm.n_visible(), rbm.n_hidden());
    tap.refresh(rbm);
    let mut out = vec![0.0; mv.nrows()];
    tap.neg_gamma_into(rbm, order, mv.view(), mh.view(), &mut out);
    Ok(out.into_iter().map(|x| -x).collect())
}
