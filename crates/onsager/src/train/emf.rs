//! Extended mean-field training (docs/maths.md §3–§4): deterministic fixed-point iteration of
//! the magnetisations of Γ_k and the EMF gradient, no sampling.

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Zip};

use super::diversity::Diversity;
use super::phase::{
    foreign_chains, state_mismatch, FixedPointStats, Negative, NegativePhase, Positive,
};
use super::state::{Chains, TrainerState};
use crate::linalg::Outer;
use crate::meanfield::anderson::Anderson;
use crate::meanfield::real::RealTap;
use crate::meanfield::{
    gamma_into, gradient_factors, solve, Powers, RowWeights, Scratch, SolveSettings,
};
use crate::{EmfOrder, Float, Persistence, Rbm, Reseed, Result, Solver, Weighting};

/// The EMF settings of [`crate::Method::Emf`], damping at the model's precision.
#[derive(Clone, Copy, Debug)]
pub(super) struct Settings<T> {
    pub order: EmfOrder,
    pub iterations: usize,
    pub damping: T,
    pub persistence: Persistence,
    pub tolerance: f64,
    pub solver: Solver,
    pub reseed: Reseed,
    pub weighting: Weighting,
}

/// The tolerance and sweep cap of the end-of-epoch measurement of the distance to the fixed
/// point ([`NegativePhase::fixed_point_distance`]).
const PROBE_TOLERANCE: f64 = 1e-5;
const PROBE_SWEEPS: usize = 200;

/// EMF-k: sweeps per mini-batch from the data (EMF-CD) or from the magnetisations carried over
/// (EMF-PCD, re-seeded as the settings say) until the tolerance or the sweep cap, then the
/// gradient at the magnetisations reached.
#[derive(Debug)]
pub(super) struct Emf<T: Float> {
    settings: Settings<T>,
    rows: usize,
    /// Data-initialised magnetisations (batch rows × nv, × nh).
    neg_v: Array2<T>,
    neg_h: Array2<T>,
    /// Rows the last mini-batch solved (for the end-of-epoch probe).
    last_rows: usize,
    last_persistent: bool,
    /// W², W³, refreshed by the update pass.
    powers: Powers<T>,
    scratch: Scratch<T>,
    /// Anderson history, when the solver accelerates.
    accel: Option<Anderson<T>>,
    diversity: Diversity,
    /// The end-of-epoch probe: a copy of the magnetisations, solved further.
    probe_v: Array2<T>,
    probe_h: Array2<T>,
    /// The free-energy weighting's buffers (empty unless weighted).
    weighting: Weights<T>,
    /// Real-valued visible units: the tilted-prior TAP iteration (docs/maths.md §4b) that
    /// replaces the binary solve.
    real: Option<RealTap<T>>,
}

/// The buffers of the free-energy weighting (docs/maths.md §3.4): Γ_k per row, the weights
/// c_α and the weighted rows c_α·m_v, c_α·m_h.
#[derive(Debug)]
struct Weights<T> {
    gammas: Vec<f64>,
    c: Vec<T>,
    v: Array2<T>,
    h: Array2<T>,
}

impl<T: Float> Weights<T> {
    /// Buffers for `rows` rows when `used`, empty ones otherwise.
    fn new(used: bool, rows: usize, nv: usize, nh: usize) -> Self {
        let rows = if used { rows } else { 0 };
        Self {
            gammas: vec![0.0; rows],
            c: vec![T::zero(); rows],
            v: Array2::zeros((rows, nv)),
            h: Array2::zeros((rows, nh)),
        }
    }

    /// The weights for the rows (m_v, m_h): c_α = n·e^{−Γ_α} / Σ_β e^{−Γ_β} over the distinct
    /// rows (a row that coincides with another gets 0), so that the gradient's mean over rows,
    /// (1/n) Σ_α c_α·(row α's terms), is the softmax-weighted sum. Writes c and the weighted
    /// rows.
    fn weigh(
        &mut self,
        rbm: &Rbm<T>,
        powers: &Powers<T>,
        order: EmfOrder,
        scratch: &mut Scratch<T>,
        diversity: &mut Diversity,
        m_v: ArrayView2<'_, T>,
        m_h: ArrayView2<'_, T>,
    ) {
        let n = m_v.nrows();
        let gammas = &mut self.gammas[..n];
        gamma_into(rbm, powers, order, m_v, m_h, scratch, gammas);
        diversity.find_merged(m_v, m_h);
        let lowest = (0..n)
            .filter(|&r| !diversity.is_merged(r))
            .map(|r| gammas[r])
            .fold(f64::INFINITY, f64::min);
        let mut total = 0.0;
        for (r, g) in gammas.iter_mut().enumerate() {
            // Γ is non-finite only on a diverged model; such a row gets no weight.
            *g = if diversity.is_merged(r) || !g.is_finite() {
                0.0
            } else {
                (lowest - *g).exp()
            };
            total += *g;
        }
        for r in 0..n {
            let c = if total > 0.0 {
                T::of(n as f64 * gammas[r] / total)
            } else {
                T::one()
            };
            self.c[r] = c;
            Zip::from(self.v.row_mut(r))
                .and(m_v.row(r))
                .for_each(|d, &x| *d = c * x);
            Zip::from(self.h.row_mut(r))
                .and(m_h.row(r))
                .for_each(|d, &x| *d = c * x);
        }
    }
}

impl<T: Float> Emf<T> {
    /// EMF on `rows` rows of a model with weights `w`; `real`: the visible units are
    /// real-valued (the tilted-prior TAP of `meanfield/real.rs`).
    pub fn new(settings: Settings<T>, rows: usize, w: ArrayView2<'_, T>, real: bool) -> Self {
        let (nv, nh) = w.dim();
        let weighted = settings.weighting == Weighting::FreeEnergy;
        let accel = match settings.solver {
            Solver::Damped | Solver::Adaptive => None,
            Solver::Anderson { depth } => Some(Anderson::new(rows, nv, nh, depth)),
        };
        Self {
            settings,
            rows,
            neg_v: Array2::zeros((rows, nv)),
            neg_h: Array2::zeros((rows, nh)),
            last_rows: 0,
            last_persistent: false,
            powers: Powers::new(w, settings.order),
            scratch: Scratch::new(rows, nv, nh),
            accel,
            diversity: Diversity::new(rows, nv, nh),
            probe_v: Array2::zeros((rows, nv)),
            probe_h: Array2::zeros((rows, nh)),
            weighting: Weights::new(weighted, rows, nv, nh),
            real: real.then(|| RealTap::new(rows, nv, nh)),
        }
    }
}

/// The real-valued TAP gradient's negative part at the means (v, h) of `rows` rows
/// (docs/maths.md §4b): f₀ = −(1/n)·v hᵀ (the update pass scales W's row i by 1/σᵢ²) and, at
/// order 2, f₁ = −(1/n)·(c/σ⁴) dᵀ, so the W-gradient's negative part is
/// (1/σ²)⊙(m μᵀ + W ⊙ (c/σ²) dᵀ).
fn real_negative<'a, T: Float>(
    tap: &'a mut RealTap<T>,
    powers: &'a mut Powers<T>,
    rbm: &Rbm<T>,
    order: EmfOrder,
    v: ArrayView2<'a, T>,
    h: ArrayView2<'a, T>,
    neg: T,
) -> Negative<'a, T> {
    let rows = tap.second_order_rows(rbm, order, h);
    let second = order.has_second();
    let f1 = second.then_some(Outer {
        left: rows.c_scaled,
        right: rows.d,
        scale: neg,
    });
    Negative {
        v,
        h,
        bias_scale: neg,
        w: [
            Some(Outer {
                left: v,
                right: h,
                scale: neg,
            }),
            f1,
            None,
        ],
        terms: order,
        powers: Some(powers),
        tap: Some(rows),
    }
}

/// The carried magnetisations and the re-seeding cursor, when persistent.
fn carried<T: Float>(
    state: &mut TrainerState<T>,
) -> (ArrayViewMut2<'_, T>, ArrayViewMut2<'_, T>, &mut usize) {
    match &mut state.chains {
        Some(Chains::Magnetisations {
            m_v,
            m_h,
            reseed_cursor,
        }) => (m_v.view_mut(), m_h.view_mut(), reseed_cursor),
        _ => unreachable!("persistent EMF runs after its magnetisations are started"),
    }
}

impl<T: Float> NegativePhase<T> for Emf<T> {
    fn persistent_at(&self, epoch: usize) -> bool {
        self.settings.persistence.persistent_at(epoch)
    }

    fn chain_rows(&self) -> usize {
        self.rows
    }

    fn terms(&self) -> EmfOrder {
        self.settings.order
    }

    /// m_v = the rows, m_h = P(h | rows).
    fn start_chains(&self, rbm: &Rbm<T>, v: Array2<T>, _: u64) -> Chains<T> {
        let mut m_h = Array2::zeros((v.nrows(), rbm.n_hidden()));
        rbm.hidden_probs_into(v.view(), m_h.view_mut());
        Chains::Magnetisations {
            m_v: v,
            m_h,
            reseed_cursor: 0,
        }
    }

    /// Re-seeding (persistent rows), then the solve.
    fn run(
        &mut self,
        rbm: &Rbm<T>,
        pos: &Positive<'_, T>,
        state: &mut TrainerState<T>,
        persistent: bool,
    ) -> Option<FixedPointStats> {
        let mut unused_cursor = 0;
        let (mut m_v, mut m_h, cursor) = if persistent {
            carried(state)
        } else {
            let rows = s![..pos.v.nrows(), ..];
            self.neg_v.slice_mut(rows).assign(&pos.v);
            self.neg_h.slice_mut(rows).assign(&pos.h);
            (
                self.neg_v.slice_mut(rows),
                self.neg_h.slice_mut(rows),
                &mut unused_cursor,
            )
        };
        let Settings {
            order,
            iterations,
            damping,
            tolerance,
            reseed,
            ..
        } = self.settings;
        let (mut distinct, mut reseeded) = (None, 0);
        if persistent {
            distinct = Some(self.diversity.find_merged(m_v.view(), m_h.view()));
            if reseed.is_active() {
                reseeded =
                    self.diversity
                        .reseed(reseed, m_v.view_mut(), m_h.view_mut(), pos, cursor);
            }
        }
        self.last_rows = m_v.nrows();
        self.last_persistent = persistent;
        if let Some(tap) = self.real.as_mut() {
            let done = tap.solve(rbm, order, m_v, m_h, damping.f64(), iterations, tolerance);
            return Some(FixedPointStats {
                sweeps: done.sweeps,
                residual: done.residual,
                distinct,
                reseeded,
            });
        }
        let set = SolveSettings {
            order,
            damping,
            max_sweeps: iterations,
            tolerance,
            adaptive: self.settings.solver == Solver::Adaptive,
        };
        let done = solve(
            rbm,
            &self.powers,
            set,
            m_v,
            m_h,
            &mut self.scratch,
            self.accel.as_mut(),
        );
        Some(FixedPointStats {
            sweeps: done.sweeps,
            residual: done.residual,
            distinct,
            reseeded,
        })
    }

    /// Copies the last mini-batch's magnetisations, solves them on by adaptive damping (down
    /// to the configured damping) to a residual of 10⁻⁵ (at most 200 sweeps) under the model
    /// as it now stands, and returns the mean over rows of max |m − m*|.
    fn fixed_point_distance(&mut self, rbm: &Rbm<T>, state: &TrainerState<T>) -> Option<f64> {
        let n = self.last_rows;
        if n == 0 {
            return None;
        }
        let rows = s![..n, ..];
        let (src_v, src_h) = match &state.chains {
            Some(Chains::Magnetisations { m_v, m_h, .. }) if self.last_persistent => {
                (m_v.slice(rows), m_h.slice(rows))
            }
            _ => (self.neg_v.slice(rows), self.neg_h.slice(rows)),
        };
        self.probe_v.slice_mut(rows).assign(&src_v);
        self.probe_h.slice_mut(rows).assign(&src_h);
        if let Some(tap) = self.real.as_mut() {
            tap.solve(
                rbm,
                self.settings.order,
                self.probe_v.slice_mut(rows),
                self.probe_h.slice_mut(rows),
                self.settings.damping.f64(),
                PROBE_SWEEPS,
                PROBE_TOLERANCE,
            );
        } else {
            let set = SolveSettings {
                order: self.settings.order,
                damping: self.settings.damping,
                max_sweeps: PROBE_SWEEPS,
                tolerance: PROBE_TOLERANCE,
                adaptive: true,
            };
            solve(
                rbm,
                &self.powers,
                set,
                self.probe_v.slice_mut(rows),
                self.probe_h.slice_mut(rows),
                &mut self.scratch,
                None,
            );
        }
        let mut total = 0.0;
        for r in 0..n {
            let worst = |a: ArrayView2<'_, T>, b: ArrayView2<'_, T>| {
                let mut w = 0.0f64;
                Zip::from(a.row(r))
                    .and(b.row(r))
                    .for_each(|x, y| w = w.max((x.f64() - y.f64()).abs()));
                w
            };
            total += worst(src_v, self.probe_v.view()).max(worst(src_h, self.probe_h.view()));
        }
        Some(total / n as f64)
    }

    /// The EMF gradient's factors at the magnetisations (`meanfield::gradient_factors`), each
    /// row weighted by e^{−Γ_k} when the settings say (docs/maths.md §3.4).
    fn negative<'a>(
        &'a mut self,
        rbm: &Rbm<T>,
        chains: Option<&'a Chains<T>>,
        b: usize,
        persistent: bool,
    ) -> Negative<'a, T> {
        let (v, h) = match chains {
            Some(Chains::Magnetisations { m_v, m_h, .. }) if persistent => (m_v.view(), m_h.view()),
            _ => {
                let rows = s![..b, ..];
                (self.neg_v.slice(rows), self.neg_h.slice(rows))
            }
        };
        let neg = -T::one() / T::of(v.nrows() as f64);
        let order = self.settings.order;
        let n = v.nrows();
        if let Some(tap) = self.real.as_mut() {
            return real_negative(tap, &mut self.powers, rbm, order, v, h, neg);
        }
        let (mut bias_v, mut bias_h, mut weights) = (v, h, None);
        if self.settings.weighting == Weighting::FreeEnergy {
            let wt = &mut self.weighting;
            wt.weigh(
                rbm,
                &self.powers,
                order,
                &mut self.scratch,
                &mut self.diversity,
                v,
                h,
            );
            let rows = s![..n, ..];
            bias_v = wt.v.slice(rows);
            bias_h = wt.h.slice(rows);
            weights = Some(RowWeights {
                c: &wt.c[..n],
                m_v: bias_v,
            });
        }
        Negative {
            v: bias_v,
            h: bias_h,
            bias_scale: neg * rbm.beta,
            w: gradient_factors(rbm, order, v, h, &mut self.scratch, neg, weights),
            terms: order,
            powers: Some(&mut self.powers),
            tap: None,
        }
    }

    fn check_state(&self, state: &TrainerState<T>, nv: usize, nh: usize) -> Result<()> {
        match &state.chains {
            None => Ok(()),
            Some(Chains::Magnetisations { m_v, m_h, .. }) => {
                if m_v.dim() != (self.rows, nv) || m_h.dim() != (self.rows, nh) {
                    return Err(state_mismatch(
                        "EMF chains",
                        format!("({}, {nv})", self.rows),
                        format!("{:?}", m_v.dim()),
                    ));
                }
                Ok(())
            }
            Some(_) => Err(foreign_chains("emf")),
        }
    }
}
