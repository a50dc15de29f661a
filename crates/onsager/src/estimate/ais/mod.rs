//! Annealed importance sampling of log Z (Salakhutdinov & Murray 2008; docs/maths.md §5).
//!
//! From a base-rate model A (W = 0, b = 0, visible bias a_A) to the model B through inverse
//! temperatures 0 = β₀ < … < β_K = 1, with the hidden units summed out:
//!
//! ```text
//! log p*_β(v) = (1 − β)·a_Aᵀv + β·aᵀv + Σ_j softplus(β(b_j + (vᵀW)_j))
//! log w      += log p*_{β_k}(v) − log p*_{β_{k−1}}(v),   then one Gibbs transition at β_k
//! log Z_B    ≈ log Z_A + log mean exp(log w),            log Z_A = Σ_i softplus(a_A,i) + nh·log 2
//! ```
//!
//! Real-valued visible units anneal from a Gaussian base instead (`real.rs`).
//!
//! All M runs advance together as one (M × nv) batch: each temperature costs two matrix
//! products (V·W and H·Wᵀ) and one fused element-wise pass per layer. Run m draws from its own
//! random stream, and log-weights accumulate in `f64`.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

mod kernels;
mod real;

use crate::kernels::{dot, softplus};
use crate::rng::{self, Domain, StreamRng};
use crate::{check, linalg, par, Error, Float, Rbm, Result, Visible};

/// The inverse temperatures of an AIS run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AisSchedule {
    /// Salakhutdinov & Murray's spacing scaled to `temperatures` intervals: the same share of
    /// intervals in each segment as their schedule (steps of 1/1000 to 0.5, 1/10 000 to 0.9,
    /// 1/100 000 to 1.0: 500, 4000 and 10 000 of 14 500). `temperatures = 14_500` is their
    /// schedule exactly.
    Piecewise {
        /// Number of intervals K (≥ 3).
        temperatures: usize,
    },
    /// K equal steps from 0 to 1.
    Linear {
        /// Number of intervals K (≥ 1).
        temperatures: usize,
    },
    /// Explicit β₀ = 0 < β₁ < … < β_K = 1.
    Custom(Vec<f64>),
}

impl Default for AisSchedule {
    fn default() -> Self {
        AisSchedule::Piecewise {
            temperatures: 14_500,
        }
    }
}

impl AisSchedule {
    /// The inverse temperatures β₀ = 0, …, β_K = 1.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for too few temperatures or a custom list that does not rise
    /// strictly from 0 to 1.
    pub fn betas(&self) -> Result<Vec<f64>> {
        let bad = |value: String, reason| Error::InvalidParam {
            name: "schedule",
            value,
            reason,
        };
        match self {
            AisSchedule::Linear { temperatures: k } => {
                if *k == 0 {
                    return Err(bad("0".into(), "needs at least one interval"));
                }
                Ok((0..=*k).map(|i| i as f64 / *k as f64).collect())
            }
            AisSchedule::Piecewise { temperatures: k } => {
                if *k < 3 {
                    return Err(bad(k.to_string(), "needs at least 3 intervals"));
                }
                let n1 = (*k as f64 * 500.0 / 14_500.0).round().max(1.0) as usize;
                let n2 = (*k as f64 * 4_000.0 / 14_500.0).round().max(1.0) as usize;
                let n3 = k.saturating_sub(n1 + n2).max(1);
                let mut b = Vec::with_capacity(n1 + n2 + n3 + 1);
                let mut seg = |from: f64, to: f64, n: usize| {
                    for i in 0..n {
                        b.push(from + (to - from) * i as f64 / n as f64);
                    }
                };
                seg(0.0, 0.5, n1);
                seg(0.5, 0.9, n2);
                seg(0.9, 1.0, n3);
                b.push(1.0);
                Ok(b)
            }
            AisSchedule::Custom(b) => {
                let ok = b.len() >= 2
                    && b[0] == 0.0
                    && *b.last().expect("len ≥ 2") == 1.0
                    && b.windows(2).all(|w| w[1] > w[0]);
                if ok {
                    Ok(b.clone())
                } else {
                    Err(bad(
                        format!("{} values", b.len()),
                        "must rise strictly from 0 to 1",
                    ))
                }
            }
        }
    }
}

/// The base model A: independent visible units, no couplings — binary units with bias a_A,
/// or (real-valued units, [`BaseModel::for_data`]) Gaussian units N(μ_A, s_A²), truncated to
/// the units' interval where they are (docs/maths.md §5.1).
#[derive(Clone, Debug, PartialEq)]
pub struct BaseModel {
    visible_bias: Array1<f64>,
    gaussian: Option<real::GaussianBase>,
}

impl BaseModel {
    /// The base rate of `data`: a_A,i = log-odds of p_i = (Σ_n v_ni + α) / (N + 2α), the pixel
    /// means smoothed by α pseudo-counts per outcome (α = 1 is Laplace's rule).
    ///
    /// # Errors
    /// Bad data (shape, empty, non-finite, outside \[0, 1\]) or α not finite and positive.
    pub fn from_data<T: Float>(data: ArrayView2<'_, T>, alpha: f64) -> Result<Self> {
        check::unit_data("base-rate data", &data, data.ncols())?;
        if !(alpha.is_finite() && alpha > 0.0) {
            return Err(Error::InvalidParam {
                name: "alpha",
                value: alpha.to_string(),
                reason: "must be finite and positive",
            });
        }
        let n = data.nrows() as f64;
        let visible_bias = crate::model::column_sums(data).mapv(|c| {
            let p = (c + alpha) / (n + 2.0 * alpha);
            (p / (1.0 - p)).ln()
        });
        Ok(Self {
            visible_bias,
            gaussian: None,
        })
    }

    /// The base model fitted to `data` for visible units of type `visible`: the base rate
    /// ([`BaseModel::from_data`], α = 1) for binary units; for real-valued ones, Gaussian
    /// units with the columns' means and standard deviations (floored at 10⁻³ of the
    /// interval's width, or of 1), truncated to the interval for truncated units.
    ///
    /// # Errors
    /// Bad data for the units (shape, empty, non-finite, outside their range).
    pub fn for_data<T: Float>(data: ArrayView2<'_, T>, visible: Visible) -> Result<Self> {
        if !visible.is_real() {
            return Self::from_data(data, 1.0);
        }
        Ok(Self {
            visible_bias: Array1::zeros(data.ncols()),
            gaussian: Some(real::GaussianBase::from_data(data, visible)?),
        })
    }

    /// The uniform base model (a_A = 0). For a real-valued model, AIS anneals from the
    /// model's own visible prior N(a, σ²) instead.
    pub fn uniform(n_visible: usize) -> Self {
        Self {
            visible_bias: Array1::zeros(n_visible),
            gaussian: None,
        }
    }

    /// a_A.
    pub fn visible_bias(&self) -> ArrayView1<'_, f64> {
        self.visible_bias.view()
    }

    /// log Z_A = Σ_i softplus(a_A,i) + nh·log 2 for a model with `n_hidden` hidden units
    /// (a Gaussian base: Σᵢ log ∫ exp(−(x − μ_A,ᵢ)²/(2s_A,ᵢ²)) dx + nh·log 2).
    pub fn log_partition(&self, n_hidden: usize) -> f64 {
        if let Some(g) = &self.gaussian {
            return g.log_partition(n_hidden);
        }
        self.visible_bias.iter().map(|&a| softplus(a)).sum::<f64>()
            + n_hidden as f64 * std::f64::consts::LN_2
    }
}

/// Settings of an AIS run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ais {
    /// Independent runs M (default 100), advanced together as one batch.
    pub runs: usize,
    /// Inverse temperatures (default: Salakhutdinov & Murray's 14 500).
    pub schedule: AisSchedule,
    /// Seed of the runs' random streams (default 0).
    pub seed: u64,
}

impl Default for Ais {
    fn default() -> Self {
        Self {
            runs: 100,
            schedule: AisSchedule::default(),
            seed: 0,
        }
    }
}

/// An AIS estimate of log Z with S&M's ±3σ bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct AisEstimate {
    /// log Ẑ = log Z_A + log mean(w).
    pub log_z: f64,
    /// log(mean(w) − 3·sd(w)/√M) + log Z_A; −∞ when the bound crosses zero or M = 1.
    pub log_z_lower: f64,
    /// log(mean(w) + 3·sd(w)/√M) + log Z_A; +∞ for M = 1 (one run measures no spread).
    pub log_z_upper: f64,
    /// log Z_A of the base model.
    pub log_z_base: f64,
    /// The final log-weight of each run.
    pub log_weights: Vec<f64>,
    /// Number of intervals K.
    pub temperatures: usize,
}

impl AisEstimate {
    fn from_log_weights(log_weights: Vec<f64>, log_z_base: f64, temperatures: usize) -> Self {
        let m = log_weights.len() as f64;
        let max = log_weights
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        // Work with w / max(w) to stay in range.
        let scaled: Vec<f64> = log_weights.iter().map(|l| (l - max).exp()).collect();
        let mean = scaled.iter().sum::<f64>() / m;
        let var = scaled.iter().map(|w| (w - mean).powi(2)).sum::<f64>() / (m - 1.0).max(1.0);
        // One run has no spread to measure: its interval is unknown, not zero-width.
        let half = if log_weights.len() < 2 {
            f64::INFINITY
        } else {
            3.0 * (var / m).sqrt()
        };
        let lower = if mean - half > 0.0 {
            (mean - half).ln() + max + log_z_base
        } else {
            f64::NEG_INFINITY
        };
        Self {
            log_z: mean.ln() + max + log_z_base,
            log_z_lower: lower,
            log_z_upper: (mean + half).ln() + max + log_z_base,
            log_z_base,
            log_weights,
            temperatures,
        }
    }

    /// This estimate floored by what the rows' free energies prove: Z ≥ e^{−F(v)} for every
    /// v, so log Z ≥ max_v −F(v). An estimate below that (the annealing fell short: too few
    /// temperatures for the weights) would give a row a positive log-probability; log Ẑ and
    /// both bounds are raised to at least the floor. Returns whether log Ẑ itself was below it.
    pub fn floored_by(mut self, free_energy: &Array1<f64>) -> (Self, bool) {
        let floor = free_energy
            .iter()
            .map(|f| -f)
            .fold(f64::NEG_INFINITY, f64::max);
        let raised = self.log_z < floor;
        for z in [
            &mut self.log_z,
            &mut self.log_z_lower,
            &mut self.log_z_upper,
        ] {
            *z = z.max(floor);
        }
        (self, raised)
    }

    /// The mean log-likelihood of `data` under the model, with the bounds that the log Z
    /// bounds imply: (estimate, lower, upper) = mean(−F_c(v)) − (log Ẑ, upper, lower), the
    /// estimate first [floored by](AisEstimate::floored_by) the rows (binary units only), so
    /// no row gets a positive log-probability.
    ///
    /// # Errors
    /// Bad data (shape, empty, non-finite, outside \[0, 1\]).
    pub fn mean_log_likelihood<T: Float>(
        &self,
        rbm: &Rbm<T>,
        data: ArrayView2<'_, T>,
    ) -> Result<(f64, f64, f64)> {
        let f = rbm.free_energy(data)?;
        if rbm.visible_units().is_real() {
            // Densities may exceed 1: the rows give no floor on log Z.
            return Ok(self.mean_log_likelihood_of(&f));
        }
        Ok(self.clone().floored_by(&f).0.mean_log_likelihood_of(&f))
    }

    /// (estimate, lower, upper) of the mean log-likelihood from the rows' free energies.
    pub(crate) fn mean_log_likelihood_of(&self, free_energy: &Array1<f64>) -> (f64, f64, f64) {
        let mean_neg_f = -free_energy.mean().expect("non-empty data");
        (
            mean_neg_f - self.log_z,
            mean_neg_f - self.log_z_upper,
            mean_neg_f - self.log_z_lower,
        )
    }
}

/// Per-run state: its random stream, log-weight, and aᵀv, a_Aᵀv of its current visible state.
struct Run {
    rng: StreamRng,
    log_w: f64,
    av: f64,
    base_av: f64,
}

impl Ais {
    /// Checks the settings without running anything (a front end calls it before training
    /// so that a bad schedule is reported at once, not after the last epoch).
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for zero runs or a bad schedule.
    pub fn validate(&self) -> Result<()> {
        if self.runs == 0 {
            return Err(Error::InvalidParam {
                name: "runs",
                value: "0".into(),
                reason: "needs at least one run",
            });
        }
        self.schedule.betas().map(drop)
    }

    /// Estimates log Z of `rbm` by annealing from `base`.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for zero runs or a bad schedule; [`Error::Shape`] if the base
    /// model has a different number of visible units; [`Error::Numerical`] if a run's weight
    /// is not finite (a model beyond the float type's range).
    ///
    /// ```
    /// use onsager::estimate::ais::{Ais, AisSchedule, BaseModel};
    /// let rbm = onsager::Rbm::<f64>::random(6, 4, 0.5, 1).unwrap();
    /// let ais = Ais { runs: 50, schedule: AisSchedule::Linear { temperatures: 500 }, seed: 3 };
    /// let est = ais.log_partition(&rbm, &BaseModel::uniform(6)).unwrap();
    /// let exact = onsager::estimate::exact::log_partition(&rbm, onsager::estimate::exact::Layer::Smaller).unwrap();
    /// assert!(est.log_z_lower <= exact && exact <= est.log_z_upper);
    /// ```
    pub fn log_partition<T: Float>(&self, rbm: &Rbm<T>, base: &BaseModel) -> Result<AisEstimate> {
        self.log_partition_with(rbm, base, &mut ())
    }

    /// [`Ais::log_partition`], reporting the temperatures done to `progress` every 64 steps
    /// (and stopping when it says so).
    ///
    /// # Errors
    /// As [`Ais::log_partition`]; [`Error::Cancelled`] when `progress` stops it.
    pub fn log_partition_with<T: Float>(
        &self,
        rbm: &Rbm<T>,
        base: &BaseModel,
        progress: &mut dyn crate::Progress,
    ) -> Result<AisEstimate> {
        self.validate()?;
        if rbm.visible_units().is_real() {
            return real::log_partition(self, rbm, base, progress);
        }
        if base.gaussian.is_some() {
            return Err(Error::InvalidParam {
                name: "base",
                value: "a Gaussian base model".into(),
                reason: "binary units anneal from a base rate (BaseModel::from_data)",
            });
        }
        if base.visible_bias.len() != rbm.n_visible() {
            return Err(Error::Shape {
                what: "base model visible bias",
                expected: format!("({},)", rbm.n_visible()),
                got: format!("({},)", base.visible_bias.len()),
            });
        }
        let betas = self.schedule.betas()?;
        // Fold the model's own inverse temperature into its parameters.
        let s = rbm.beta;
        let (w, a, b) = (
            rbm.w.mapv(|x| x * s),
            rbm.a.mapv(|x| x * s),
            rbm.b.mapv(|x| x * s),
        );
        let base_a: Array1<T> = base.visible_bias.mapv(T::of);
        let (m, nv, nh) = (self.runs, rbm.n_visible(), rbm.n_hidden());

        let mut runs: Vec<Run> = (0..m)
            .map(|i| Run {
                rng: rng::stream(self.seed, Domain::AisRun, i as u64),
                log_w: 0.0,
                av: 0.0,
                base_av: 0.0,
            })
            .collect();
        let mut v = Array2::<T>::zeros((m, nv));
        let mut x = Array2::<T>::zeros((m, nh));

        // v ~ base model; record aᵀv and a_Aᵀv.
        let (a_s, base_s, b_s) = (
            a.as_slice().expect("contiguous"),
            base_a.as_slice().expect("contiguous"),
            b.as_slice().expect("contiguous"),
        );
        let sample_visible = |v: &mut Array2<T>, runs: &mut [Run], beta: f64| {
            par::rows_with(v.view_mut(), runs, |_, row, run| {
                kernels::sigmoid_mix(row, a_s, base_s, T::of(beta));
                rng::bernoulli_in_place(row, &mut run.rng);
                run.av = dot(row, a_s).f64();
                run.base_av = dot(row, base_s).f64();
            });
        };
        // From the base model, the "field" of the visible layer is zero before the first step.
        sample_visible(&mut v, &mut runs, 0.0);

        for k in 1..betas.len() {
            let (bk, bp) = (betas[k], betas[k - 1]);
            let (tp, dt) = (T::of(bp), T::of(bk - bp));
            let last = k + 1 == betas.len();
            linalg::gemm(x.view_mut(), false, v.view(), w.view(), T::one());
            // Weight increment at the current v, then h ~ P(h | v) at β_k (in place).
            par::rows_with(x.view_mut(), &mut runs, |_, row, run| {
                let hidden = kernels::ais_hidden_step(row, b_s, tp, dt);
                run.log_w += (bk - bp) * (run.av - run.base_av) + hidden.f64();
                if !last {
                    rng::bernoulli_in_place(row, &mut run.rng);
                }
            });
            if !last {
                // v ~ P(v | h) at β_k: field (1 − β)a_A + β(a + W h).
                linalg::gemm(v.view_mut(), false, x.view(), w.t(), T::one());
                sample_visible(&mut v, &mut runs, bk);
            }
            if (k % 64 == 0 || last)
                && progress
                    .advance(k as u64, (betas.len() - 1) as u64)
                    .is_break()
            {
                return Err(Error::Cancelled { what: "AIS" });
            }
        }
        let log_weights: Vec<f64> = runs.iter().map(|r| r.log_w).collect();
        estimate(rbm, log_weights, base.log_partition(nh), betas.len() - 1)
    }
}

/// The estimate from the runs' final log-weights, refusing a non-finite one (a model beyond
/// the float type's range) by name; shared by binary and real-valued AIS.
fn estimate<T: Float>(
    rbm: &Rbm<T>,
    log_weights: Vec<f64>,
    log_z_base: f64,
    temperatures: usize,
) -> Result<AisEstimate> {
    if let Some(bad) = log_weights.iter().find(|l| !l.is_finite()) {
        return Err(Error::Numerical {
            what: "AIS",
            reason: format!(
                "a run's log-weight is {bad} in {} (fields up to {:.3e}); use float64, or check the model",
                T::DTYPE,
                rbm.max_field()
            ),
        });
    }
    Ok(AisEstimate::from_log_weights(
        log_weights,
        log_z_base,
        temperatures,
    ))
}
