//! The RBM: energies, conditionals, free energy, sampling (docs/maths.md §1), for every visible
//! unit type (`units/`, docs/maths.md §1b).

mod conditionals;
mod energy;

pub(crate) use conditionals::sample_from;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand_distr::{Distribution, Normal};

use crate::rng::{self, Domain};
use crate::units::Visible;
use crate::{check, Error, Float, Result};

/// A restricted Boltzmann machine with binary hidden units h ∈ {0,1}^nh and visible units of
/// the type [`Rbm::visible_units`] (binary unless set by [`Rbm::with_visible`]):
///
/// ```text
/// Bernoulli:      E(v, h) = −aᵀv − bᵀh − vᵀWh                                (docs/maths.md §1)
/// (truncated) Gaussian: E(v, h) = Σᵢ (vᵢ − aᵢ)²/(2σᵢ²) − Σᵢⱼ vᵢWᵢⱼhⱼ/σᵢ² − bᵀh   (§1b)
/// p(v, h) = exp(−β·E(v, h)) / Z
/// ```
///
/// with weights `W` (nv × nh), visible bias `a`, hidden bias `b`, the visible units' standard
/// deviations σ (real-valued types) and inverse temperature β (1 unless set). Every batched
/// method takes samples as rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Rbm<T: Float = f32> {
    pub(crate) w: Array2<T>,
    pub(crate) a: Array1<T>,
    pub(crate) b: Array1<T>,
    pub(crate) beta: T,
    /// The visible units' type.
    pub(crate) visible: Visible,
    /// σ per visible unit (real-valued types; ones for Bernoulli units, where it means nothing).
    pub(crate) sigma: Array1<T>,
    /// The weights as the hidden layer reads them from real-valued visibles, diag(1/σ²)·W, so
    /// that P(h | v) is one product v·(W/σ²); 0 × 0 for Bernoulli units (which read W).
    /// Kept in step with `w` and `sigma` by [`Rbm::refresh_hidden_weights`].
    pub(crate) w_hidden: Array2<T>,
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
            sigma: Array1::ones(n_visible),
            w_hidden: Array2::zeros((0, 0)),
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
            sigma: Array1::ones(nv),
            w_hidden: Array2::zeros((0, 0)),
        })
    }

    /// The same model with visible units of type `visible` and, for the real-valued types,
    /// standard deviations `sigma` (one per visible unit; ignored for Bernoulli units).
    ///
    /// ```
    /// use ndarray::Array1;
    /// use onsager::{Rbm, Visible};
    /// let rbm = Rbm::<f64>::zeros(3, 2).unwrap()
    ///     .with_visible(Visible::Gaussian, Array1::from_elem(3, 0.5)).unwrap();
    /// assert_eq!(rbm.sigma().unwrap()[0], 0.5);
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for a truncated type whose interval is not low < high, or a σ
    /// that is not finite and positive; [`Error::Shape`] if `sigma` has the wrong length.
    pub fn with_visible(mut self, visible: Visible, sigma: Array1<T>) -> Result<Self> {
        visible.check()?;
        let nv = self.n_visible();
        if visible.is_real() {
            if sigma.len() != nv {
                return Err(Error::Shape {
                    what: "visible sigma",
                    expected: format!("({nv},)"),
                    got: format!("({},)", sigma.len()),
                });
            }
            if let Some(s) = sigma.iter().find(|s| !(s.is_finite() && **s > T::zero())) {
                return Err(Error::InvalidParam {
                    name: "sigma",
                    value: s.to_string(),
                    reason: "every visible unit's σ must be finite and positive",
                });
            }
            self.sigma = sigma;
        } else {
            self.sigma = Array1::ones(nv);
        }
        self.visible = visible;
        self.refresh_hidden_weights();
        Ok(self)
    }

    /// Refuses an operation written for Bernoulli visible units only, naming `what` and what to
    /// use `instead`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for real-valued visible units.
    pub(crate) fn require_bernoulli(
        &self,
        what: &'static str,
        instead: &'static str,
    ) -> Result<()> {
        if self.visible.is_real() {
            return Err(Error::Unsupported {
                what,
                model: format!("a model with {} visible units", self.visible),
                reason: instead,
            });
        }
        Ok(())
    }

    /// Recomputes [`Rbm::w_hidden`] = diag(1/σ²)·W after W or σ changed (real-valued units;
    /// a no-op for Bernoulli ones).
    pub(crate) fn refresh_hidden_weights(&mut self) {
        if !self.visible.is_real() {
            self.w_hidden = Array2::zeros((0, 0));
            return;
        }
        if self.w_hidden.dim() != self.w.dim() {
            self.w_hidden = Array2::zeros(self.w.dim());
        }
        let (w, sigma) = (self.w.view(), &self.sigma);
        crate::par::rows(self.w_hidden.view_mut(), |i, row| {
            let p = T::one() / (sigma[i] * sigma[i]);
            row.iter_mut().zip(w.row(i)).for_each(|(x, &w)| *x = w * p);
        });
    }

    /// The weights the hidden layer's field reads: W for Bernoulli visibles, diag(1/σ²)·W for
    /// real-valued ones (so the field is β(b + v·this)).
    pub(crate) fn hidden_weights(&self) -> ArrayView2<'_, T> {
        if self.visible.is_real() {
            self.w_hidden.view()
        } else {
            self.w.view()
        }
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

    /// The visible units' standard deviations σ (real-valued types; `None` for Bernoulli).
    pub fn sigma(&self) -> Option<ArrayView1<'_, T>> {
        self.visible.is_real().then(|| self.sigma.view())
    }

    /// Converts the parameters to another precision.
    pub fn cast<U: Float>(&self) -> Rbm<U> {
        let c = |x: &T| U::of(x.f64());
        let mut m = Rbm {
            w: self.w.map(c),
            a: self.a.map(c),
            b: self.b.map(c),
            beta: U::of(self.beta.f64()),
            visible: self.visible,
            sigma: self.sigma.map(c),
            w_hidden: Array2::zeros((0, 0)),
        };
        m.refresh_hidden_weights();
        m
    }

    /// The visible bias a model starts from, for data `data`: the clipped log-odds of the column
    /// means for Bernoulli units ([`Rbm::log_odds_bias`]), the column means themselves for
    /// real-valued ones (so that v | h = 0 is centred on the data).
    pub(crate) fn initial_visible_bias(&self, data: ArrayView2<'_, T>) -> Array1<T> {
        if self.visible.is_real() {
            let n = data.nrows().max(1) as f64;
            column_sums(data).mapv(|s| T::of(s / n))
        } else {
            Self::log_odds_bias(data, 1e-3, self.beta)
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
