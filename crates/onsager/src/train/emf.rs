//! Extended mean-field training (emf-math §3–§4): deterministic fixed-point iteration of the
//! magnetisations of Γ_k and the EMF gradient, no sampling.

use ndarray::{s, Array2};

use super::Workspace;
use crate::meanfield::sweep;
use crate::{EmfOrder, Float, Rbm};

/// The settings of one EMF negative phase.
pub(super) struct Step<T> {
    pub order: EmfOrder,
    pub iterations: usize,
    pub damping: T,
}

/// EMF negative phase. With `chains` (persistent EMF) the carried magnetisations are iterated;
/// otherwise m_v starts at the first `b` batch rows and m_h at P(h | batch), in the first `b`
/// rows of `neg_v` and `neg_h`. The trainer then takes the gradient at the magnetisations
/// (`meanfield::gradient_factors`, emf-math §4). Returns the last sweep's max |Δm|.
pub(super) fn negative_phase<T: Float>(
    rbm: &Rbm<T>,
    step: &Step<T>,
    ws: &mut Workspace<T>,
    chains: Option<(&mut Array2<T>, &mut Array2<T>)>,
    b: usize,
) -> f64 {
    let rows = s![..b, ..];
    let (mut m_v, mut m_h) = match chains {
        Some((m_v, m_h)) => (m_v.view_mut(), m_h.view_mut()),
        None => {
            ws.neg_v.slice_mut(rows).assign(&ws.batch.slice(rows));
            ws.neg_h.slice_mut(rows).assign(&ws.hp.slice(rows));
            (ws.neg_v.slice_mut(rows), ws.neg_h.slice_mut(rows))
        }
    };
    let powers = ws.powers.as_ref().expect("EMF workspace has powers");
    let scratch = ws.scratch.as_mut().expect("EMF workspace has scratch");
    let mut residual = f64::NAN;
    for _ in 0..step.iterations {
        residual = sweep(
            rbm,
            powers,
            step.order,
            step.damping,
            m_v.view_mut(),
            m_h.view_mut(),
            scratch,
        );
    }
    residual
}
