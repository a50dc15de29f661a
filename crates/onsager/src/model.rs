//! The Bernoulli–Bernoulli RBM: energies, conditionals, free energy, sampling (emf-math §1).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2};
use rand_distr::{Distribution, Normal};

use crate::rng::{self, Domain, StreamRng};
use crate::{check, kernels, linalg, par, Error, Float, Result};

/// Which layer a conditional is computed for.
#[derive(Clone, Copy, Debug)]
enum Side {
    Hidden,
    Visible,
}

/// A binary restricted Boltzmann machine with visible units v ∈ {0,1}^nv and hidden units
/// h ∈ {0,1}^nh:
///
/// ```text
/// E(v, h) = −aᵀv − bᵀh − vᵀWh,      p(v, h) = exp(−β·E(v, h)) / Z          (emf-math §1)
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
}

impl<T: Float> Rbm<T> {
    /// A model with all parameters zero (every state equally likely).
    ///
    /// # Errors
    /// [`Error::InvalidParam`] if either layer has no units.
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
        Ok(Self {
            w: Array2::zeros((n_visible, n_hidden)),
            a: Array1::zeros(n_visible),
            b: Array1::zeros(n_hidden),
            beta: T::one(),
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

    /// Converts the parameters to another precision.
    pub fn cast<U: Float>(&self) -> Rbm<U> {
        let c = |x: &T| U::of(x.f64());
        Rbm {
            w: self.w.map(c),
            a: self.a.map(c),
            b: self.b.map(c),
            beta: U::of(self.beta.f64()),
        }
    }

    /// P(h = 1 | v) = σ(β(b + vW)) for each row of `v`.
    ///
    /// # Shapes
    /// `v` is (n × nv); the result (n × nh).
    ///
    /// # Errors
    /// [`Error::Shape`], [`Error::Empty`], [`Error::NonFinite`] or [`Error::OutOfRange`] for
    /// bad input: values must be finite and lie in \[0, 1\].
    ///
    /// ```
    /// use ndarray::array;
    /// let rbm = onsager::Rbm::<f64>::zeros(2, 3).unwrap();
    /// let p = rbm.hidden_probs(array![[1.0, 0.0]].view()).unwrap();
    /// assert_eq!(p, array![[0.5, 0.5, 0.5]]);
    /// ```
    pub fn hidden_probs(&self, v: ArrayView2<'_, T>) -> Result<Array2<T>> {
        check::unit_data("visible data", &v, self.n_visible())?;
        let mut out = Array2::zeros((v.nrows(), self.n_hidden()));
        self.hidden_probs_into(v, out.view_mut());
        Ok(out)
    }

    /// P(v = 1 | h) = σ(β(a + W h)) for each row of `h`.
    ///
    /// # Shapes
    /// `h` is (n × nh); the result (n × nv).
    ///
    /// # Errors
    /// As [`Rbm::hidden_probs`], for `h`.
    pub fn visible_probs(&self, h: ArrayView2<'_, T>) -> Result<Array2<T>> {
        check::unit_data("hidden data", &h, self.n_hidden())?;
        let mut out = Array2::zeros((h.nrows(), self.n_visible()));
        self.visible_probs_into(h, out.view_mut());
        Ok(out)
    }

    /// A binary sample of h ~ P(h | v) per row; row i uses random stream i of `seed`.
    ///
    /// # Errors
    /// As [`Rbm::hidden_probs`].
    pub fn sample_hidden(&self, v: ArrayView2<'_, T>, seed: u64) -> Result<Array2<T>> {
        let mut p = self.hidden_probs(v)?;
        let mut rngs = rng::streams(seed, Domain::Sample, p.nrows());
        sample_in_place(p.view_mut(), &mut rngs);
        Ok(p)
    }

    /// A binary sample of v ~ P(v | h) per row; row i uses random stream i of `seed`.
    ///
    /// # Errors
    /// As [`Rbm::visible_probs`].
    pub fn sample_visible(&self, h: ArrayView2<'_, T>, seed: u64) -> Result<Array2<T>> {
        let mut p = self.visible_probs(h)?;
        let mut rngs = rng::streams(seed, Domain::Sample, p.nrows());
        sample_in_place(p.view_mut(), &mut rngs);
        Ok(p)
    }

    /// `steps` steps of block Gibbs sampling from each row of `v` (h ~ P(h|v), then
    /// v ~ P(v|h)); returns the binary visible states. Row i uses random stream i of `seed`.
    ///
    /// # Errors
    /// As [`Rbm::hidden_probs`].
    pub fn gibbs(&self, v: ArrayView2<'_, T>, steps: usize, seed: u64) -> Result<Array2<T>> {
        check::unit_data("visible data", &v, self.n_visible())?;
        let n = v.nrows();
        let mut rngs = rng::streams(seed, Domain::Sample, n);
        let mut vis = v.to_owned();
        let mut hid = Array2::zeros((n, self.n_hidden()));
        for _ in 0..steps {
            self.gibbs_step_into(vis.view_mut(), hid.view_mut(), &mut rngs);
        }
        Ok(vis)
    }

    /// The free energy with v clamped, per row (emf-math §1):
    /// F_c(v) = −β aᵀv − Σ_j softplus(β(b_j + (vᵀW)_j)), so that log p(v) = −F_c(v) − log Z.
    ///
    /// # Errors
    /// As [`Rbm::hidden_probs`].
    pub fn free_energy(&self, v: ArrayView2<'_, T>) -> Result<Array1<f64>> {
        check::unit_data("visible data", &v, self.n_visible())?;
        let mut tmp = Array2::zeros((v.nrows(), self.n_hidden()));
        let mut out = Array1::zeros(v.nrows());
        self.free_energy_into(v, tmp.view_mut(), out.as_slice_mut().expect("fresh array"));
        Ok(out)
    }

    /// The energy β·E(v, h) = −β(aᵀv + bᵀh + vᵀWh) per row pair.
    ///
    /// # Shapes
    /// `v` is (n × nv), `h` is (n × nh).
    ///
    /// # Errors
    /// As [`Rbm::hidden_probs`] for either input, and [`Error::Shape`] if the row counts differ.
    pub fn energy(&self, v: ArrayView2<'_, T>, h: ArrayView2<'_, T>) -> Result<Array1<f64>> {
        check::unit_data("visible data", &v, self.n_visible())?;
        check::unit_data("hidden data", &h, self.n_hidden())?;
        if v.nrows() != h.nrows() {
            return Err(Error::Shape {
                what: "hidden data rows",
                expected: v.nrows().to_string(),
                got: h.nrows().to_string(),
            });
        }
        let mut vw = Array2::zeros((v.nrows(), self.n_hidden()));
        linalg::gemm(vw.view_mut(), false, v, self.w.view(), T::one());
        let beta = self.beta.f64();
        let e = (0..v.nrows())
            .map(|i| {
                let dot = |x: ArrayView1<T>, y: ArrayView1<T>| {
                    x.iter().zip(y).map(|(p, q)| p.f64() * q.f64()).sum::<f64>()
                };
                -beta
                    * (dot(v.row(i), self.a.view())
                        + dot(h.row(i), self.b.view())
                        + dot(h.row(i), vw.row(i)))
            })
            .collect();
        Ok(e)
    }

    // ----- buffer-writing kernels used by the trainers and estimators (no allocation) -----

    /// `out ← σ(β(bias + x·W))` for the hidden layer (`x` visible) or σ(β(bias + x·Wᵀ)) for the
    /// visible layer (`x` hidden), then, with `rngs`, a Bernoulli draw of each value in the same
    /// pass (row i draws from `rngs[i]`).
    fn conditional_into(
        &self,
        side: Side,
        x: ArrayView2<'_, T>,
        mut out: ArrayViewMut2<'_, T>,
        rngs: Option<&mut [StreamRng]>,
    ) {
        let (w, bias) = match side {
            Side::Hidden => (self.w.view(), &self.b),
            Side::Visible => (self.w.t(), &self.a),
        };
        linalg::gemm(out.view_mut(), false, x, w, self.beta);
        let (bias, beta) = (bias.as_slice().expect("contiguous"), self.beta);
        match rngs {
            None => par::rows(out, |_, row| kernels::sigmoid_shift(row, bias, beta)),
            Some(rngs) => par::rows_with(out, rngs, |_, row, r| {
                kernels::sigmoid_shift(row, bias, beta);
                rng::bernoulli_in_place(row, r);
            }),
        }
    }

    /// `out ← σ(β(b + vW))`.
    pub(crate) fn hidden_probs_into(&self, v: ArrayView2<'_, T>, out: ArrayViewMut2<'_, T>) {
        self.conditional_into(Side::Hidden, v, out, None);
    }

    /// `out ← σ(β(a + hWᵀ))`.
    pub(crate) fn visible_probs_into(&self, h: ArrayView2<'_, T>, out: ArrayViewMut2<'_, T>) {
        self.conditional_into(Side::Visible, h, out, None);
    }

    /// `out ← a sample of P(h|v)`, the logistic and the draw in one pass per row.
    pub(crate) fn sample_hidden_into(
        &self,
        v: ArrayView2<'_, T>,
        out: ArrayViewMut2<'_, T>,
        rngs: &mut [StreamRng],
    ) {
        self.conditional_into(Side::Hidden, v, out, Some(rngs));
    }

    /// `out ← a sample of P(v|h)`, the logistic and the draw in one pass per row.
    pub(crate) fn sample_visible_into(
        &self,
        h: ArrayView2<'_, T>,
        out: ArrayViewMut2<'_, T>,
        rngs: &mut [StreamRng],
    ) {
        self.conditional_into(Side::Visible, h, out, Some(rngs));
    }

    /// One Gibbs step in place: `hid ← sample P(h|vis)`, `vis ← sample P(v|hid)`.
    pub(crate) fn gibbs_step_into(
        &self,
        vis: ArrayViewMut2<'_, T>,
        mut hid: ArrayViewMut2<'_, T>,
        rngs: &mut [StreamRng],
    ) {
        self.sample_hidden_into(vis.view(), hid.view_mut(), rngs);
        self.sample_visible_into(hid.view(), vis, rngs);
    }

    /// F_c of each row of `v` into `out`, using `tmp` (n × nh) as scratch.
    pub(crate) fn free_energy_into(
        &self,
        v: ArrayView2<'_, T>,
        tmp: ArrayViewMut2<'_, T>,
        out: &mut [f64],
    ) {
        let mut tmp = tmp;
        linalg::gemm(tmp.view_mut(), false, v, self.w.view(), self.beta);
        let (a, b, beta) = (&self.a, self.b.as_slice().expect("contiguous"), self.beta);
        let tmp = tmp.view();
        par::row_values(out, self.n_hidden() + self.n_visible(), |i| {
            let vis: f64 = v
                .row(i)
                .iter()
                .zip(a)
                .map(|(x, ai)| x.f64() * ai.f64())
                .sum();
            let row = tmp.row(i);
            let hid = kernels::softplus_shift_sum(row.as_slice().expect("contiguous"), b, beta);
            -beta.f64() * vis - hid.f64()
        });
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

/// `dst ← a Bernoulli draw of each probability in `src`` in one pass; row i draws from
/// `rngs[i]`.
pub(crate) fn sample_from<T: Float>(
    src: ArrayView2<'_, T>,
    dst: ArrayViewMut2<'_, T>,
    rngs: &mut [StreamRng],
) {
    par::rows_with(dst, rngs, |i, row, r| {
        row.copy_from_slice(src.row(i).to_slice().expect("standard layout"));
        rng::bernoulli_in_place(row, r);
    });
}

/// Replaces each probability p in `buf` by a Bernoulli(p) draw (0 or 1); row i draws from
/// `rngs[i]`.
pub(crate) fn sample_in_place<T: Float>(buf: ArrayViewMut2<'_, T>, rngs: &mut [StreamRng]) {
    par::rows_with(buf, rngs, |_, row, r| rng::bernoulli_in_place(row, r));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_sampling_passes_equal_the_separate_ones() {
        let mut rbm = Rbm::<f32>::random(50, 30, 0.5, 1).unwrap();
        rbm.a = Array1::from_shape_fn(50, |i| (i as f32 - 25.0) / 10.0);
        rbm.b = Array1::from_shape_fn(30, |j| (j as f32 - 15.0) / 10.0);
        let mut u = rng::stream(9, Domain::Sample, 0);
        let h0 = Array2::from_shape_fn((10, 30), |_| rng::uniform::<f32>(&mut u));
        let (mut ra, mut rb) = (
            rng::streams(4, Domain::CdChain, 10),
            rng::streams(4, Domain::CdChain, 10),
        );
        // Separate passes.
        let mut h1 = h0.clone();
        sample_in_place(h1.view_mut(), &mut ra);
        let mut v1 = Array2::zeros((10, 50));
        rbm.visible_probs_into(h1.view(), v1.view_mut());
        sample_in_place(v1.view_mut(), &mut ra);
        // Fused.
        let mut h2 = Array2::zeros((10, 30));
        sample_from(h0.view(), h2.view_mut(), &mut rb);
        let mut v2 = Array2::zeros((10, 50));
        rbm.sample_visible_into(h2.view(), v2.view_mut(), &mut rb);
        assert_eq!(h1, h2);
        assert_eq!(v1, v2);
        assert_eq!(ra, rb);
    }
}
