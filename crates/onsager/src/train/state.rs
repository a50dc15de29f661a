//! What training carries between mini-batches besides the model: the optimiser's momentum, the
//! persistent chains of PCD and persistent EMF, the random streams and the epochs done. A
//! checkpoint stores exactly this (`io::model`), so a run resumes bit for bit.

use ndarray::{Array2, ArrayView2};

use crate::rng::StreamRng;
use crate::Float;

/// Persistent negative-phase state.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Chains<T: Float> {
    /// PCD: binary visible states of the chains and one random stream per chain.
    Gibbs { v: Array2<T>, rngs: Vec<StreamRng> },
    /// Persistent EMF: one magnetisation row per batch slot, and the row the fraction
    /// re-seeding renews next (`train/diversity.rs`).
    Magnetisations {
        m_v: Array2<T>,
        m_h: Array2<T>,
        reseed_cursor: usize,
    },
}

/// Everything that evolves during training besides the model's parameters: what a checkpoint
/// must hold so that training resumes exactly as if it had not stopped. Obtain it from
/// [`crate::Trainer::state`], restore it with [`crate::Trainer::resume`]; `onsager::io::model`
/// stores it.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainerState<T: Float> {
    /// Epochs completed.
    pub(crate) epoch: usize,
    /// Whether the visible bias has been set from data.
    pub(crate) bias_initialised: bool,
    /// Momentum buffer of W.
    pub(crate) velocity: Array2<T>,
    /// Persistent chains, once created.
    pub(crate) chains: Option<Chains<T>>,
    /// CD: one random stream per batch slot.
    pub(crate) cd_rngs: Vec<StreamRng>,
    /// Shuffling and chain starts.
    pub(crate) order_rng: StreamRng,
}

impl<T: Float> TrainerState<T> {
    /// Epochs completed.
    pub fn epochs_completed(&self) -> usize {
        self.epoch
    }

    /// PCD: the visible states of the persistent chains (chains × nv), once they exist.
    pub fn pcd_chains(&self) -> Option<ArrayView2<'_, T>> {
        match &self.chains {
            Some(Chains::Gibbs { v, .. }) => Some(v.view()),
            _ => None,
        }
    }
}
