//! The Bernoulli–Bernoulli RBM: energies, conditionals, free energy, sampling (docs/maths.md §1).

mod conditionals;
mod energy;

pub(crate) use conditionals::sample_from;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand_distr::{Distribution, Normal};

use crate::rng::{self, Domain};
use crate::units::Visible;
use crate::{check, Error, Float, Result};

/// A binary restricted Boltzmann machine with visible units v ∈ {0,1}^nv and hidden units
/// h ∈ {0,1}^nh:
///
/// ```text
/// E(v, h) = −aᵀv − bᵀh − vᵀWh,      p(v, h) = exp(−β·E(v, h)) / Z          (docs/maths.md §1)
/// ```
///
/// with weights `W` (nv × nh), visible bias `a`, hidden bias `b` and inverse temperature β
/// (1 unless set). Every batched method takes samples as rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Rbm<T: Float = f32> {
    pub(crate) w: Array2<T>,
    pub(crate) a: Array1<T>,
    pub(crate) b: Array1<T>,
    pub(crate) beta: T,
    /// The visible units' type.
    pub(crate) visible: Visible,
}

impl<T: Float> Rbm<T> {
    /// A model with all parameters zero (every state equally likely).
    ///
    /// # Errors
    /// [`Error::InvalidParam`] if either layer has no units; [`Error::TooLarge`] if the
    /// weights cannot fit in memory.
    pub fn zeros(n_visible: usize, n_hidden: usize) -> Result<Self> {
        for (name, n) in [("n_visible", n_visible), ("n_hidden", n_hidden)] {
            if n == 0 {
                return Err(Error::InvalidParam {
                    name,
                    value: "0".into(),
                    reason: "a layer needs at least one unit",
                });
            }
        }
        crate::check::allocatable::<T>(
            "the weight matrix (visible × hidden)",
            n_visible,
            n_hidden,
            1,
        )?;
        Ok(Self {
            w: Array2::zeros((n_visible, n_hidden)),
            a: Array1::zeros(n_visible),
            b: Array1::zeros(n_hidden),
            beta: T::one(),
            visible: Visible::Bernoulli,
        })
    }

    /// A model with weights drawn from N(0, std²) (stream [`Domain::Init`] of `seed`) and
    /// zero biases.
    ///
    /// # Errors
    /// As [`Rbm::zeros`], and [`Error::InvalidParam`] for a negative or non-finite `std`.
    pub fn random(n_visible: usize, n_hidden: usize, std: T, seed: u64) -> Result<Self> {
        let mut rbm = Self::zeros(n_visible, n_hidden)?;
        let normal = Normal::new(0.0, std.f64()).map_err(|_| Error::InvalidParam {
            name: "init_std",
            value: std.to_string(),
            reason: "must be finite and non-negative",
        })?;
        let mut r = rng::stream(seed, Domain::Init, 0);
        rbm.w
            .iter_mut()
            .for_each(|w| *w = T::of(normal.sample(&mut r)));
        Ok(rbm)
    }

    /// A model from its parameters.
    ///
    /// # Shapes
    /// `weights` is (nv × nh), `visible_bias` nv, `hidden_bias` nh.
    ///
    /// # Errors
    /// [`Error::Shape`] if the shapes disagree, [`Error::Empty`] for an empty layer,
    /// [`Error::NonFinite`] for a NaN or infinite parameter.
    pub fn from_parts(
        weights: Array2<T>,
        visible_bias: Array1<T>,
        hidden_bias: Array1<T>,
    ) -> Result<Self> {
        let (nv, nh) = weights.dim();
        if nv == 0 || nh == 0 {
            return Err(Error::Empty { what: "weights" });
        }
        if visible_bias.len() != nv {
            return Err(Error::Shape {
                what: "visible bias",
                expected: format!("({nv},)"),
                got: format!("({},)", visible_bias.len()),
            });
        }
        if hidden_bias.len() != nh {
            return Err(Error::Shape {
                what: "hidden bias",
                expected: format!("({nh},)"),
                got: format!("({},)", hidden_bias.len()),
            });
        }
        check::finite2("weights", &weights.view())?;
        check::finite1("visible bias", &visible_bias.view())?;
        check::finite1("hidden bias", &hidden_bias.view())?;
        Ok(Self {
            w: weights,
            a: visible_bias,
            b: hidden_bias,
            beta: T::one(),
            visible: Visible::Bernoulli,
        })
    }

    /// The same model at inverse temperature β (every energy multiplied by β).
    ///
    /// # Errors
    /// [`Error::InvalidParam`] unless β is finite and positive.
    pub fn with_beta(mut self, beta: T) -> Result<Self> {
        if !(beta.is_finite() && beta > T::zero()) {
            return Err(Error::InvalidParam {
                name: "beta",
                value: beta.to_string(),
                reason: "must be finite and positive",
            });
        }
        self.beta = beta;
        Ok(self)
    }

    /// Number of visible units nv.
    pub fn n_visible(&self) -> usize {
        self.w.nrows()
    }

    /// Number of hidden units nh.
    pub fn n_hidden(&self) -> usize {
        self.w.ncols()
    }

    /// The largest field any unit can feel, β·max(maxᵢ |aᵢ| + Σⱼ |Wᵢⱼ|, maxⱼ |bⱼ| + Σᵢ |Wᵢⱼ|),
    /// in f64: the scale that decides whether a computation stays within the float type's
    /// range (errors about overflow quote it).
    pub fn max_field(&self) -> f64 {
        let abs = self.w.mapv(|w| w.f64().abs());
        let rows = abs.sum_axis(ndarray::Axis(1));
        let cols = abs.sum_axis(ndarray::Axis(0));
        let vis = rows
            .iter()
            .zip(&self.a)
            .map(|(s, a)| s + a.f64().abs())
            .fold(0.0, f64::max);
        let hid = cols
            .iter()
            .zip(&self.b)
            .map(|(s, b)| s + b.f64().abs())
            .fold(0.0, f64::max);
        self.beta.f64().abs() * vis.max(hid)
    }

    /// The weights W (nv × nh).
    pub fn weights(&self) -> ArrayView2<'_, T> {
        self.w.view()
    }

    /// The visible bias a (nv).
    pub fn visible_bias(&self) -> ArrayView1<'_, T> {
        self.a.view()
    }

    /// The hidden bias b (nh).
    pub fn hidden_bias(&self) -> ArrayView1<'_, T> {
        self.b.view()
    }

    /// The inverse temperature β.
    pub fn beta(&self) -> T {
        self.beta
    }

    /// The visible units' type.
    pub fn visible_units(&self) -> Visible {
        self.visible
    }

    /// Converts the parameters to another precision.
    pub fn cast<U: Float>(&self) -> Rbm<U> {
        let c = |x: &T| U::of(x.f64());
        Rbm {
            w: self.w.map(c),
            a: self.a.map(c),
            b: self.b.map(c),
            beta: U::of(self.beta.f64()),
            visible: self.visible,
        }
    }

    /// Column means of `data`, clipped to \[ε, 1 − ε\], mapped to log-odds: the usual visible
    /// bias initialisation (Hinton's guide §8), divided by β.
    pub(crate) fn log_odds_bias(data: ArrayView2<'_, T>, eps: f64, beta: T) -> Array1<T> {
        let n = data.nrows().max(1) as f64;
        column_sums(data).mapv(|s| {
            let p = (s / n).clamp(eps, 1.0 - eps);
            T::of((p / (1.0 - p)).ln() / beta.f64())
        })
    }
}

/// Column sums of `data` in f64, one row at a time (no copy of the data).
pub(crate) fn column_sums<T: Float>(data: ArrayView2<'_, T>) -> Array1<f64> {
    let mut sums = Array1::<f64>::zeros(data.ncols());
    for row in data.rows() {
        sums.zip_mut_with(&row, |s, &x| *s += x.f64());
    }
    sums
}
