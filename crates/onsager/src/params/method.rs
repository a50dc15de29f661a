//! The training method and its own settings: [`Method`], [`EmfOrder`], [`Persistence`]
//! (docs/maths.md §1, §3).
//!
//! Each parses from the text the command line and the Python package pass (`FromStr`) and
//! prints as people read it (`Display`):
//!
//! | type | text |
//! |---|---|
//! | [`Method`] | `cd`, `cd-K`, `pcd`, `pcd-K`, `emf`, `emf-ORDER` (the other settings at their defaults) |
//! | [`EmfOrder`] | `1`, `2`, `3` |
//! | [`Persistence`] | `data`, `persistent`, `from:N` (or a bare `N`) |
//!
//! The EMF solver and re-seeding settings are in `emf.rs`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::emf::{Reseed, Solver, Weighting};
use crate::{Error, Result};

/// How the negative ("model") term of the gradient, ∂ log Z, is approximated
/// (docs/maths.md §1). Each variant's training code is one file of `train/`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Method {
    /// Contrastive divergence: k steps of block Gibbs sampling from the data batch.
    Cd {
        /// Gibbs steps per mini-batch (≥ 1).
        k: usize,
    },
    /// Persistent CD: `chains` Gibbs chains carried across mini-batches, k steps each.
    Pcd {
        /// Gibbs steps per mini-batch (≥ 1).
        k: usize,
        /// Number of persistent chains (≥ 1), initialised from random training rows.
        chains: usize,
    },
    /// Extended mean field: deterministic fixed-point iteration of the magnetisations of Γ_k
    /// (docs/maths.md §3), gradient from docs/maths.md §4. No sampling.
    ///
    /// Fields added after the first release default, when a file lacks them, to the
    /// reference algorithm: no tolerance (every sweep runs), damped iteration, no re-seeding.
    Emf {
        /// Truncation order of the free energy.
        order: EmfOrder,
        /// The most fixed-point sweeps per mini-batch (≥ 1); all of them run when `tolerance`
        /// is 0.
        iterations: usize,
        /// Damping in (0, 1]: m ← damping·σ(field) + (1 − damping)·m.
        damping: f64,
        /// Where the magnetisations start at each mini-batch.
        persistence: Persistence,
        /// Stop sweeping once the fixed-point residual max |σ(field) − m| of every row is at
        /// most this (≥ 0; 0 runs all `iterations` sweeps, as the reference algorithm does).
        #[serde(default)]
        tolerance: f64,
        /// How the fixed point is solved.
        #[serde(default)]
        solver: Solver,
        /// Re-seeding of persistent rows from the data batch (ignored while data-initialised).
        #[serde(default)]
        reseed: Reseed,
        /// How the rows' fixed points are weighted in the gradient.
        #[serde(default)]
        weighting: Weighting,
    },
}

/// Fixed-point sweeps per mini-batch in the default EMF settings (docs/results.md gives the
/// evidence for every default below: persistent rows, re-seeded where they merge, 3 sweeps
/// with adaptive damping, which start undamped).
pub const EMF_ITERATIONS: usize = 3;
/// The default EMF damping (for the adaptive solver, the lowest a row falls to).
pub const EMF_DAMPING: f64 = 0.5;
/// The default fixed-point tolerance: 0, every sweep runs (3 sweeps never reach a useful
/// tolerance on MNIST-sized models; docs/results.md).
pub const EMF_TOLERANCE: f64 = 0.0;
/// The default fixed-point solver.
pub const EMF_SOLVER: Solver = Solver::Adaptive;
/// The default re-seeding of persistent rows: rows that have merged.
pub const EMF_RESEED: Reseed = Reseed {
    merged: true,
    fraction: 0.0,
};
/// The default start of the magnetisations.
pub const EMF_PERSISTENCE: Persistence = Persistence::Persistent;

/// The reference algorithm's settings (Gabrié et al. 2015): 3 damped sweeps, damping 0.5, no
/// tolerance, persistent rows never re-seeded; see [`Method::emf_reference`].
pub const REFERENCE_ITERATIONS: usize = 3;

impl Method {
    /// CD-k.
    pub fn cd(k: usize) -> Self {
        Method::Cd { k }
    }

    /// PCD-k with `chains` persistent chains.
    pub fn pcd(k: usize, chains: usize) -> Self {
        Method::Pcd { k, chains }
    }

    /// EMF at `order` with the default settings: [`EMF_PERSISTENCE`], at most
    /// [`EMF_ITERATIONS`] sweeps to [`EMF_TOLERANCE`] by [`EMF_SOLVER`], damping
    /// [`EMF_DAMPING`], re-seeding [`EMF_RESEED`].
    pub fn emf(order: EmfOrder) -> Self {
        Method::Emf {
            order,
            iterations: EMF_ITERATIONS,
            damping: EMF_DAMPING,
            persistence: EMF_PERSISTENCE,
            tolerance: EMF_TOLERANCE,
            solver: EMF_SOLVER,
            reseed: EMF_RESEED,
            weighting: Weighting::Uniform,
        }
    }

    /// EMF at `order` as the reference algorithm runs it: [`REFERENCE_ITERATIONS`] damped
    /// sweeps (damping 0.5) per mini-batch, no tolerance, `persistence` as given, no
    /// re-seeding.
    pub fn emf_reference(order: EmfOrder, persistence: Persistence) -> Self {
        Method::emf(order)
            .with_sweeps(REFERENCE_ITERATIONS, 0.0)
            .with_solver(Solver::Damped)
            .with_persistence(persistence)
            .with_reseed(Reseed::NONE)
    }

    /// EMF with `iterations` sweeps at most and the tolerance `tolerance`; other methods as
    /// they are.
    pub fn with_sweeps(mut self, iterations: usize, tolerance: f64) -> Self {
        if let Method::Emf {
            iterations: i,
            tolerance: t,
            ..
        } = &mut self
        {
            (*i, *t) = (iterations, tolerance);
        }
        self
    }

    /// EMF with the damping `damping`; other methods as they are.
    pub fn with_damping(mut self, damping: f64) -> Self {
        if let Method::Emf { damping: d, .. } = &mut self {
            *d = damping;
        }
        self
    }

    /// EMF with the solver `solver`; other methods as they are.
    pub fn with_solver(mut self, solver: Solver) -> Self {
        if let Method::Emf { solver: s, .. } = &mut self {
            *s = solver;
        }
        self
    }

    /// EMF with the start `persistence`; other methods as they are.
    pub fn with_persistence(mut self, persistence: Persistence) -> Self {
        if let Method::Emf { persistence: p, .. } = &mut self {
            *p = persistence;
        }
        self
    }

    /// EMF with the re-seeding `reseed`; other methods as they are.
    pub fn with_reseed(mut self, reseed: Reseed) -> Self {
        if let Method::Emf { reseed: r, .. } = &mut self {
            *r = reseed;
        }
        self
    }

    /// EMF with the weighting `weighting`; other methods as they are.
    pub fn with_weighting(mut self, weighting: Weighting) -> Self {
        if let Method::Emf { weighting: w, .. } = &mut self {
            *w = weighting;
        }
        self
    }

    /// The method's name as the options spell it: `cd`, `pcd` or `emf`.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Cd { .. } => "cd",
            Method::Pcd { .. } => "pcd",
            Method::Emf { .. } => "emf",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::Cd { k } => write!(f, "CD-{k}"),
            Method::Pcd { k, chains } => write!(f, "PCD-{k} ({chains} chains)"),
            Method::Emf {
                order,
                iterations,
                damping,
                persistence,
                tolerance,
                solver,
                reseed,
                weighting,
            } => {
                write!(f, "EMF-{order} ({persistence}")?;
                if persistence.persistent_at(usize::MAX) && reseed.is_active() {
                    write!(f, ", reseed {reseed}")?;
                }
                if *weighting != Weighting::Uniform {
                    write!(f, ", weighted by {weighting}")?;
                }
                if *tolerance > 0.0 {
                    write!(f, ", {solver} to {tolerance:e} in ≤ {iterations} sweeps")?;
                } else {
                    write!(f, ", {solver}, {iterations} sweeps")?;
                }
                write!(f, ", damping {damping})")
            }
        }
    }
}

/// `cd`, `cd-K`, `pcd`, `pcd-K`, `emf`, `emf-ORDER`, case-insensitive; PCD gets 100 chains
/// until the options set its own (see [`crate::TrainConfig::with_options`]).
impl FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidParam {
            name: "method",
            value: s.to_string(),
            reason: "expected cd, pcd or emf (optionally with -K steps or -ORDER)",
        };
        let lower = s.trim().to_ascii_lowercase();
        let (name, n) = match lower.split_once(['-', ':']) {
            Some((name, n)) => (name.to_string(), Some(n.to_string())),
            None => (lower, None),
        };
        let steps = |n: Option<String>| -> Result<usize> {
            n.map_or(Ok(1), |n| n.parse().map_err(|_| bad()))
        };
        match name.as_str() {
            "cd" => Ok(Method::cd(steps(n)?)),
            "pcd" => Ok(Method::pcd(steps(n)?, 100)),
            "emf" => Ok(Method::emf(match n {
                Some(n) => n.parse()?,
                None => EmfOrder::Second,
            })),
            _ => Err(bad()),
        }
    }
}

/// The order at which the Plefka expansion of the free energy is truncated (docs/maths.md §2).
/// The fixed-point kernels and the gradient dispatch on it; no buffer's emptiness stands in
/// for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

    /// Whether the order-2 (Onsager) terms are present: order ≥ 2.
    pub fn has_second(self) -> bool {
        self >= EmfOrder::Second
    }

    /// Whether the order-3 terms are present.
    pub fn has_third(self) -> bool {
        self == EmfOrder::Third
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

impl fmt::Display for EmfOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_u8())
    }
}

/// `1`, `2` or `3`.
impl FromStr for EmfOrder {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidParam {
            name: "order",
            value: s.to_string(),
            reason: "the EMF order must be 1, 2 or 3",
        };
        s.trim().parse::<u8>().map_err(|_| bad())?.try_into()
    }
}

/// Initialisation of the EMF magnetisations at each mini-batch (docs/maths.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Persistence {
    /// "EMF-CD": m_v = the data batch, m_h = P(h | batch), at every mini-batch.
    DataInit,
    /// "EMF-PCD": one magnetisation row per batch slot, carried from mini-batch to
    /// mini-batch, initialised from random training rows.
    Persistent,
    /// Data-initialised before epoch `epoch` (1-based), persistent from it on.
    PersistentFrom {
        /// The first persistent epoch (≥ 1; 1 is the same as `Persistent`).
        epoch: usize,
    },
}

impl Persistence {
    /// Whether epoch `epoch` (0-based) carries the magnetisations over.
    pub fn persistent_at(self, epoch: usize) -> bool {
        match self {
            Persistence::DataInit => false,
            Persistence::Persistent => true,
            Persistence::PersistentFrom { epoch: from } => epoch + 1 >= from,
        }
    }
}

impl fmt::Display for Persistence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Persistence::DataInit => write!(f, "data"),
            Persistence::Persistent => write!(f, "persistent"),
            Persistence::PersistentFrom { epoch } => write!(f, "from:{epoch}"),
        }
    }
}

/// `data`, `persistent`, `from:N` or a bare `N` (persistent from epoch N).
impl FromStr for Persistence {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        let epoch = t.strip_prefix("from:").unwrap_or(&t);
        match t.as_str() {
            "data" => Ok(Persistence::DataInit),
            "persistent" => Ok(Persistence::Persistent),
            _ => epoch
                .parse()
                .map(|epoch| Persistence::PersistentFrom { epoch })
                .map_err(|_| Error::InvalidParam {
                    name: "persistence",
                    value: s.to_string(),
                    reason: "expected data, persistent or from:N (persistent from epoch N)",
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse_from_their_names_and_print_readably() {
        assert_eq!("cd".parse::<Method>().unwrap(), Method::cd(1));
        assert_eq!("CD-5".parse::<Method>().unwrap(), Method::cd(5));
        assert_eq!("pcd-2".parse::<Method>().unwrap(), Method::pcd(2, 100));
        assert_eq!(
            "emf-3".parse::<Method>().unwrap(),
            Method::emf(EmfOrder::Third)
        );
        assert_eq!(
            "emf".parse::<Method>().unwrap(),
            Method::emf(EmfOrder::Second)
        );
        for bad in ["", "gibbs", "cd-x", "emf-4", "emf-0"] {
            assert!(bad.parse::<Method>().is_err(), "{bad}");
        }
        assert_eq!(
            Method::emf(EmfOrder::Third).to_string(),
            "EMF-3 (persistent, reseed merged, adaptive, 3 sweeps, damping 0.5)"
        );
        assert_eq!(
            Method::emf_reference(EmfOrder::Second, Persistence::DataInit).to_string(),
            "EMF-2 (data, damped, 3 sweeps, damping 0.5)"
        );
        assert_eq!(Method::pcd(1, 64).to_string(), "PCD-1 (64 chains)");
    }

    #[test]
    fn the_emf_setters_change_one_setting_and_leave_other_methods_alone() {
        let m = Method::emf(EmfOrder::First)
            .with_sweeps(7, 1e-4)
            .with_damping(0.25)
            .with_solver(Solver::Damped)
            .with_persistence(Persistence::DataInit)
            .with_reseed(Reseed::NONE)
            .with_weighting(Weighting::FreeEnergy);
        let want = Method::Emf {
            order: EmfOrder::First,
            iterations: 7,
            damping: 0.25,
            persistence: Persistence::DataInit,
            tolerance: 1e-4,
            solver: Solver::Damped,
            reseed: Reseed::NONE,
            weighting: Weighting::FreeEnergy,
        };
        assert_eq!(m, want);
        assert_eq!(
            Method::cd(2).with_sweeps(9, 0.1).with_reseed(EMF_RESEED),
            Method::cd(2)
        );
    }

    #[test]
    fn orders_and_persistence_round_trip_through_text() {
        for o in [EmfOrder::First, EmfOrder::Second, EmfOrder::Third] {
            assert_eq!(o.to_string().parse::<EmfOrder>().unwrap(), o);
        }
        assert!("0".parse::<EmfOrder>().is_err());
        for p in [
            Persistence::DataInit,
            Persistence::Persistent,
            Persistence::PersistentFrom { epoch: 5 },
        ] {
            assert_eq!(p.to_string().parse::<Persistence>().unwrap(), p);
        }
        assert_eq!(
            "7".parse::<Persistence>().unwrap(),
            Persistence::PersistentFrom { epoch: 7 }
        );
        assert!("sometimes".parse::<Persistence>().is_err());
        assert!(!Persistence::PersistentFrom { epoch: 3 }.persistent_at(1));
        assert!(Persistence::PersistentFrom { epoch: 3 }.persistent_at(2));
    }
}
