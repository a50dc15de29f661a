//! Extended mean-field training (docs/maths.md §3–§4): deterministic fixed-point iteration of
//! the magnetisations of Γ_k and the EMF gradient, no sampling.

use ndarray::{s, Array2, ArrayView2, ArrayViewMut2};

use super::phase::{foreign_chains, state_mismatch, Negative, NegativePhase, Positive};
use super::state::{Chains, TrainerState};
use crate::meanfield::{gradient_factors, sweep, Powers, Scratch};
use crate::{EmfOrder, Float, Persistence, Rbm, Result};

/// The EMF settings of [`crate::Method::Emf`], damping at the model's precision.
#[derive(Clone, Copy, Debug)]
pub(super) struct Settings<T> {
    pub order: EmfOrder,
    pub iterations: usize,
    pub damping: T,
    pub persistence: Persistence,
}

/// EMF-k: `iterations` damped sweeps per mini-batch from the data (EMF-CD) or from the
/// magnetisations carried over (EMF-PCD), then the gradient at the magnetisations reached.
#[derive(Debug)]
pub(super) struct Emf<T: Float> {
    settings: Settings<T>,
    rows: usize,
    /// Data-initialised magnetisations (batch rows × nv, × nh).
    neg_v: Array2<T>,
    neg_h: Array2<T>,
    /// W², W³, refreshed by the update pass.
    powers: Powers<T>,
    scratch: Scratch<T>,
}

impl<T: Float> Emf<T> {
    pub fn new(settings: Settings<T>, rows: usize, w: ArrayView2<'_, T>) -> Self {
        let (nv, nh) = w.dim();
        Self {
            settings,
            rows,
            neg_v: Array2::zeros((rows, nv)),
            neg_h: Array2::zeros((rows, nh)),
            powers: Powers::new(w, settings.order),
            scratch: Scratch::new(rows, nv, nh),
        }
    }
}

/// The carried magnetisations, when persistent.
fn carried<T: Float>(state: &mut TrainerState<T>) -> (ArrayViewMut2<'_, T>, ArrayViewMut2<'_, T>) {
    match &mut state.chains {
        Some(Chains::Magnetisations { m_v, m_h }) => (m_v.view_mut(), m_h.view_mut()),
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
        Chains::Magnetisations { m_v: v, m_h }
    }

    /// The sweeps; returns the last sweep's max |Δm|.
    fn run(
        &mut self,
        rbm: &Rbm<T>,
        pos: &Positive<'_, T>,
        state: &mut TrainerState<T>,
        persistent: bool,
    ) -> Option<f64> {
        let (mut m_v, mut m_h) = if persistent {
            carried(state)
        } else {
            let rows = s![..pos.v.nrows(), ..];
            self.neg_v.slice_mut(rows).assign(&pos.v);
            self.neg_h.slice_mut(rows).assign(&pos.h);
            (self.neg_v.slice_mut(rows), self.neg_h.slice_mut(rows))
        };
        let Settings {
            order,
            iterations,
            damping,
            ..
        } = self.settings;
        let mut residual = f64::NAN;
        for _ in 0..iterations {
            residual = sweep(
                rbm,
                &self.powers,
                order,
                damping,
                m_v.view_mut(),
                m_h.view_mut(),
                &mut self.scratch,
            );
        }
        Some(residual)
    }

    /// The EMF gradient's factors at the magnetisations (`meanfield::gradient_factors`).
    fn negative<'a>(
        &'a mut self,
        rbm: &Rbm<T>,
        chains: Option<&'a Chains<T>>,
        b: usize,
        persistent: bool,
    ) -> Negative<'a, T> {
        let (v, h) = match chains {
            Some(Chains::Magnetisations { m_v, m_h }) if persistent => (m_v.view(), m_h.view()),
            _ => {
                let rows = s![..b, ..];
                (self.neg_v.slice(rows), self.neg_h.slice(rows))
            }
        };
        let neg = -T::one() / T::of(v.nrows() as f64);
        let order = self.settings.order;
        Negative {
            v,
            h,
            bias_scale: neg * rbm.beta,
            w: gradient_factors(rbm, order, v, h, &mut self.scratch, neg),
            terms: order,
            powers: Some(&mut self.powers),
        }
    }

    fn check_state(&self, state: &TrainerState<T>, nv: usize, nh: usize) -> Result<()> {
        match &state.chains {
            None => Ok(()),
            Some(Chains::Magnetisations { m_v, m_h }) => {
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
