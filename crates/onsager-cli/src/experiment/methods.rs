//! The methods the MNIST comparison trains.

use clap::ValueEnum;
use onsager::{EmfOrder, Method, Persistence, Reseed, Weighting};

/// The methods of the comparison.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// CD-1.
    Cd1,
    /// PCD-1 with one chain per batch row.
    Pcd1,
    /// EMF order 1 (naive mean field), magnetisations from the data batch.
    Emf1Data,
    /// EMF order 1, persistent magnetisations.
    Emf1Persistent,
    /// EMF order 2 (TAP), from the data batch.
    Emf2Data,
    /// EMF order 2, persistent.
    Emf2Persistent,
    /// EMF order 3, from the data batch.
    Emf3Data,
    /// EMF order 3, persistent.
    Emf3Persistent,
    /// EMF order 1 with the library's default settings (persistent, re-seeded where rows
    /// merge, 3 adaptive sweeps).
    Emf1,
    /// EMF order 2 with the library's defaults.
    Emf2,
    /// EMF order 3 with the library's defaults.
    Emf3,
    /// EMF order 2, the defaults but solved to a residual of 10⁻³ in at most 10 sweeps.
    Emf2Converged,
    /// EMF order 2 from the data batch, solved as `emf2-converged`.
    Emf2DataConverged,
    /// EMF order 2 persistent, solved as `emf2-converged`, never re-seeded.
    Emf2PersistentConverged,
    /// EMF order 2 persistent, the reference's 3 damped sweeps, re-seeded where rows merge.
    Emf2PersistentReseeded,
    /// EMF order 2 with the library's defaults, the distinct fixed points weighted by e^{−Γ}
    /// in the gradient instead of each row counting equally.
    Emf2Weighted,
}

/// The sweep cap and tolerance of the `…-converged` rows: 10 sweeps reach the residual 10⁻³ on
/// small models, and are as many as a run of every row can afford at 500 hidden units.
const CONVERGED_SWEEPS: usize = 10;
const CONVERGED_TOLERANCE: f64 = 1e-3;

/// The methods a run trains unless told otherwise: the reference algorithm's six EMF rows,
/// CD-1, PCD-1, and the library's EMF defaults with their ablations.
pub const ALL: [Which; 16] = [
    Which::Cd1,
    Which::Pcd1,
    Which::Emf1Data,
    Which::Emf1Persistent,
    Which::Emf2Data,
    Which::Emf2Persistent,
    Which::Emf3Data,
    Which::Emf3Persistent,
    Which::Emf1,
    Which::Emf2,
    Which::Emf3,
    Which::Emf2Converged,
    Which::Emf2DataConverged,
    Which::Emf2PersistentConverged,
    Which::Emf2PersistentReseeded,
    Which::Emf2Weighted,
];

impl Which {
    /// The name in tables and plots.
    pub fn label(self) -> &'static str {
        match self {
            Which::Cd1 => "CD-1",
            Which::Pcd1 => "PCD-1",
            Which::Emf1Data => "EMF-1 data",
            Which::Emf1Persistent => "EMF-1 persistent",
            Which::Emf2Data => "EMF-2 data",
            Which::Emf2Persistent => "EMF-2 persistent",
            Which::Emf3Data => "EMF-3 data",
            Which::Emf3Persistent => "EMF-3 persistent",
            Which::Emf1 => "EMF-1 default",
            Which::Emf2 => "EMF-2 default",
            Which::Emf3 => "EMF-3 default",
            Which::Emf2Converged => "EMF-2 default, ≤ 10 sweeps to 1e-3",
            Which::Emf2DataConverged => "EMF-2 data, ≤ 10 sweeps to 1e-3",
            Which::Emf2PersistentConverged => "EMF-2 pers. not reseeded, ≤ 10 sweeps to 1e-3",
            Which::Emf2PersistentReseeded => "EMF-2 pers. reseeded, 3 damped sweeps",
            Which::Emf2Weighted => "EMF-2 default, weighted by e^-Γ",
        }
    }

    /// The name in file names and JSON keys.
    pub fn id(self) -> String {
        self.to_possible_value()
            .expect("every method has a name")
            .get_name()
            .to_string()
    }

    /// Whether this is one of the EMF rows.
    pub fn is_emf(self) -> bool {
        !matches!(self, Which::Cd1 | Which::Pcd1)
    }

    /// The training method: the `…-data` and `…-persistent` EMF rows with the reference
    /// algorithm's settings, the others from the library's defaults. `persistent` is where the
    /// persistent rows' magnetisations start being carried.
    pub fn method(self, batch: usize, persistent: Persistence) -> Method {
        let reference = |order| Method::emf_reference(order, persistent);
        let default = |order| Method::emf(order).with_persistence(persistent);
        let converged = |order| default(order).with_sweeps(CONVERGED_SWEEPS, CONVERGED_TOLERANCE);
        let data = Persistence::DataInit;
        match self {
            Which::Cd1 => Method::Cd { k: 1 },
            Which::Pcd1 => Method::Pcd {
                k: 1,
                chains: batch,
            },
            Which::Emf1Data => reference(EmfOrder::First).with_persistence(data),
            Which::Emf1Persistent => reference(EmfOrder::First),
            Which::Emf2Data => reference(EmfOrder::Second).with_persistence(data),
            Which::Emf2Persistent => reference(EmfOrder::Second),
            Which::Emf3Data => reference(EmfOrder::Third).with_persistence(data),
            Which::Emf3Persistent => reference(EmfOrder::Third),
            Which::Emf1 => default(EmfOrder::First),
            Which::Emf2 => default(EmfOrder::Second),
            Which::Emf3 => default(EmfOrder::Third),
            Which::Emf2Converged => converged(EmfOrder::Second),
            Which::Emf2DataConverged => converged(EmfOrder::Second).with_persistence(data),
            Which::Emf2PersistentConverged => converged(EmfOrder::Second).with_reseed(Reseed::NONE),
            Which::Emf2PersistentReseeded => {
                reference(EmfOrder::Second).with_reseed(onsager::EMF_RESEED)
            }
            Which::Emf2Weighted => default(EmfOrder::Second).with_weighting(Weighting::FreeEnergy),
        }
    }
}
