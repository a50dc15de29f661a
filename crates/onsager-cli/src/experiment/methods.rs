//! The methods the MNIST comparison trains.

use clap::ValueEnum;
use onsager::{EmfOrder, Method, Persistence};

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
}

pub const ALL: [Which; 8] = [
    Which::Cd1,
    Which::Pcd1,
    Which::Emf1Data,
    Which::Emf1Persistent,
    Which::Emf2Data,
    Which::Emf2Persistent,
    Which::Emf3Data,
    Which::Emf3Persistent,
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
        }
    }

    /// The name in file names and JSON keys.
    pub fn id(self) -> String {
        self.to_possible_value()
            .expect("every method has a name")
            .get_name()
            .to_string()
    }

    /// The training method, the EMF variants with the library's usual settings.
    pub fn method(self, batch: usize) -> Method {
        let emf = |order, persistence| Method::Emf {
            order,
            iterations: onsager::EMF_ITERATIONS,
            damping: onsager::EMF_DAMPING,
            persistence,
        };
        use Persistence::{DataInit, Persistent};
        match self {
            Which::Cd1 => Method::Cd { k: 1 },
            Which::Pcd1 => Method::Pcd {
                k: 1,
                chains: batch,
            },
            Which::Emf1Data => emf(EmfOrder::First, DataInit),
            Which::Emf1Persistent => emf(EmfOrder::First, Persistent),
            Which::Emf2Data => emf(EmfOrder::Second, DataInit),
            Which::Emf2Persistent => emf(EmfOrder::Second, Persistent),
            Which::Emf3Data => emf(EmfOrder::Third, DataInit),
            Which::Emf3Persistent => emf(EmfOrder::Third, Persistent),
        }
    }
}
