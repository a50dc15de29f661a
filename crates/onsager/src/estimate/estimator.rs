//! The one entry point to the log-likelihood estimators: an [`Estimator`] chosen once (by the
//! command line's `--estimator`, the Python `log_likelihood(estimator=...)`, the experiment)
//! and its [`Estimator::log_likelihood`], which every front end calls (docs/maths.md §5).

use ndarray::{Array1, ArrayView2};

use super::ais::{Ais, BaseModel};
use super::emf::EmfEstimator;
use super::exact::{self, Layer};
use crate::{Float, Progress, Rbm, Result};

/// How log Z, and with it log p(v), is estimated.
#[derive(Clone, Debug, PartialEq)]
pub enum Estimator {
    /// Enumeration of the smaller layer ([`exact`]); at most [`exact::MAX_UNITS`] units.
    Exact,
    /// Annealed importance sampling ([`super::ais`]) with ±3σ bounds, from `base` (`None`:
    /// the base rate of the rows being evaluated).
    Ais {
        /// Runs, temperatures and seed.
        ais: Ais,
        /// The base-rate model to anneal from.
        base: Option<BaseModel>,
    },
    /// The extended mean-field estimate −Γ_k(m*) ([`super::emf`]); no error bars.
    Emf(EmfEstimator),
}

/// A log-likelihood estimate: per row, its mean and, where the estimator has them, bounds.
/// Log-likelihoods are in nats; for binary data they are log-probabilities.
#[derive(Clone, Debug, PartialEq)]
pub struct LogLikelihood {
    /// log p(v) of each row.
    pub per_row: Array1<f64>,
    /// The mean over rows.
    pub mean: f64,
    /// Lower bound of the mean (AIS: −3σ of Ẑ; exact: the mean itself; EMF: none).
    pub lower: Option<f64>,
    /// Upper bound of the mean (AIS: +3σ of Ẑ, +∞ when the weights spread too widely for
    /// one; exact: the mean itself; EMF: none).
    pub upper: Option<f64>,
    /// The estimate of log Z.
    pub log_z: f64,
    /// Whether the estimator reached its own criterion (EMF: every fixed point within its
    /// tolerance; AIS: a finite −3σ bound on Ẑ, i.e. the runs' weights did not spread too
    /// widely to bound it, and log Ẑ not below max −F(v) of the rows, the bound every log Z
    /// obeys — an estimate below it is raised to it, so no row gets a positive
    /// log-probability; exact: always).
    pub converged: bool,
    /// EMF: the largest |Δm| of the last fixed-point sweep.
    pub residual: Option<f64>,
}

impl Estimator {
    /// Exact where enumerating the smaller layer costs no more than the AIS run `ais` would
    /// ([`exact::cost`] against [`Estimator::ais_cost`], both in multiply-adds), else `ais` with
    /// the base rate of the evaluated rows. With the default AIS (100 × 14 500) and 784
    /// visible units the line falls at 21 hidden units; a shorter AIS run moves it down.
    pub fn auto<T: Float>(rbm: &Rbm<T>, ais: Ais) -> Self {
        let (nv, nh) = (rbm.n_visible(), rbm.n_hidden());
        // Real-valued visible units: only the hidden layer can be enumerated.
        let layer = if rbm.visible_units().is_real() {
            Layer::Hidden
        } else {
            Layer::Smaller
        };
        match exact::cost(nv, nh, layer) {
            // A real-valued model is enumerated whenever it can be, whatever the cost (its
            // AIS anneals from a Gaussian base, a longer way than a base rate's).
            Some(_) if layer == Layer::Hidden && rbm.visible_units().is_real() => Estimator::Exact,
            Some(c) if c <= Self::ais_cost(&ais, nv, nh) => Estimator::Exact,
            _ => Estimator::Ais { ais, base: None },
        }
    }

    /// The work of the AIS run `ais` on an (nv × nh) model, in multiply-adds (a logistic or
    /// softplus counted as 20): per run and temperature, two products (2·nv·nh) and the
    /// unit-wise kernels (20·(nv + 2·nh)).
    pub fn ais_cost(ais: &Ais, n_visible: usize, n_hidden: usize) -> f64 {
        let k = ais.schedule.betas().map(|b| b.len() - 1).unwrap_or(0) as f64;
        let (nv, nh) = (n_visible as f64, n_hidden as f64);
        ais.runs as f64 * k * (2.0 * nv * nh + 20.0 * (nv + 2.0 * nh))
    }

    /// A short name: `exact`, `ais` or `emf-K`.
    pub fn name(&self) -> String {
        match self {
            Estimator::Exact => "exact".into(),
            Estimator::Ais { .. } => "ais".into(),
            Estimator::Emf(e) => format!("emf-{}", e.order),
        }
    }

    /// log p(v) = −F_c(v) − log Z of each row of `x` with this estimate of log Z.
    ///
    /// ```
    /// use onsager::estimate::{Estimator, emf::EmfEstimator};
    /// let rbm = onsager::Rbm::<f64>::random(6, 4, 0.1, 1).unwrap();
    /// let x = ndarray::Array2::from_shape_fn((5, 6), |(i, j)| ((i + j) % 2) as f64);
    /// let exact = Estimator::Exact.log_likelihood(&rbm, x.view()).unwrap();
    /// let emf = Estimator::Emf(EmfEstimator::default()).log_likelihood(&rbm, x.view()).unwrap();
    /// assert_eq!(exact.lower, Some(exact.mean));
    /// assert!((exact.mean - emf.mean).abs() < 1e-3);
    /// ```
    ///
    /// # Shapes
    /// `x` is (n × nv).
    ///
    /// # Errors
    /// Bad data (shape, empty, non-finite, outside \[0, 1\]); the estimator's own errors (a
    /// layer too large to enumerate, bad AIS settings, no finite EMF fixed point).
    pub fn log_likelihood<T: Float>(
        &self,
        rbm: &Rbm<T>,
        x: ArrayView2<'_, T>,
    ) -> Result<LogLikelihood> {
        self.log_likelihood_with(rbm, x, &mut ())
    }

    /// [`Estimator::log_likelihood`], reporting the progress of AIS and of exact enumeration
    /// to `progress` and stopping when it says so (the EMF estimate is quick and does not
    /// report).
    ///
    /// # Errors
    /// As [`Estimator::log_likelihood`]; [`crate::Error::Cancelled`] when `progress` stops it.
    pub fn log_likelihood_with<T: Float>(
        &self,
        rbm: &Rbm<T>,
        x: ArrayView2<'_, T>,
        progress: &mut dyn Progress,
    ) -> Result<LogLikelihood> {
        match self {
            Estimator::Exact => {
                rbm.visible_units()
                    .check_data("data", &x, rbm.n_visible())?;
                let log_z = exact::log_partition_with(rbm, Layer::Smaller, progress)?;
                let per_row = exact::log_likelihood_given(rbm, x, log_z)?;
                let mean = per_row.mean().expect("checked non-empty");
                Ok(LogLikelihood {
                    per_row,
                    mean,
                    lower: Some(mean),
                    upper: Some(mean),
                    log_z,
                    converged: true,
                    residual: None,
                })
            }
            Estimator::Ais { ais, base } => {
                let f = rbm.free_energy(x)?;
                let z = match base {
                    Some(base) => ais.log_partition_with(rbm, base, progress)?,
                    None => ais.log_partition_with(
                        rbm,
                        &BaseModel::for_data(x, rbm.visible_units())?,
                        progress,
                    )?,
                };
                // A finite lower bound on Ẑ is part of a reliable estimate; an estimate the
                // rows' own bound had to raise is not one (`AisEstimate::floored_by`).
                let bounded = z.log_z_lower.is_finite();
                // A density may exceed 1: the rows bound log Z only for binary units.
                let (z, raised) = if rbm.visible_units().is_real() {
                    (z, false)
                } else {
                    z.floored_by(&f)
                };
                let (mean, lower, upper) = z.mean_log_likelihood_of(&f);
                Ok(LogLikelihood {
                    per_row: f.mapv(|f| -f - z.log_z),
                    mean,
                    lower: Some(lower),
                    upper: Some(upper),
                    log_z: z.log_z,
                    converged: bounded && !raised,
                    residual: None,
                })
            }
            Estimator::Emf(est) => {
                let (per_row, z) = est.log_likelihood(rbm, x)?;
                Ok(LogLikelihood {
                    mean: per_row.mean().expect("checked non-empty"),
                    per_row,
                    lower: None,
                    upper: None,
                    log_z: z.log_z,
                    converged: z.converged,
                    residual: Some(z.residual),
                })
            }
        }
    }
}
