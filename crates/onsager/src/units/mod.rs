//! The visible units' type: a property of the model ([`crate::Rbm::visible_units`]), not a
//! copy of it. Each type's conditional mean, draw and data check live in its own file;
//! Bernoulli units (`bernoulli.rs`) are the only type today. A new type adds a file and a
//! variant here; the model, the trainer and the estimators dispatch on the variant.
//! [`truncated_normal`] holds the stable moments the truncated-Gaussian type will need.

pub(crate) mod bernoulli;
pub mod truncated_normal;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The type of the visible units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visible {
    /// Binary units, v ∈ {0, 1}: P(v = 1 | h) = σ(β(a + W h)); data in \[0, 1\] are taken as
    /// probabilities.
    #[default]
    Bernoulli,
}

impl fmt::Display for Visible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Visible::Bernoulli => write!(f, "bernoulli"),
        }
    }
}

/// `bernoulli`.
impl FromStr for Visible {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bernoulli" => Ok(Visible::Bernoulli),
            _ => Err(Error::InvalidParam {
                name: "visible_units",
                value: s.to_string(),
                reason: "expected bernoulli",
            }),
        }
    }
}
