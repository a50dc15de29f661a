//! The conditionals P(h|v), P(v|h), block Gibbs sampling and their buffer-writing forms for
//! the trainers and estimators (docs/maths.md §1). The visible layer's mean and draw come from
//! its unit type (`units/`).

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use super::Rbm;
use crate::rng::{self, Domain, StreamRng};
use crate::units::{bernoulli, gaussian, truncated_gaussian, Visible};
use crate::{check, linalg, par, Float, Result};

/// Which layer a conditional is computed for.
#[derive(Clone, Copy, Debug)]
enum Side {
    Hidden,
    Visible,
}

impl<T: Float> Rbm<T> {
    /// P(h = 1 | v) = σ(β(b + vW)) for each row of `v` (σ(β(b + Σᵢ vᵢWᵢⱼ/σᵢ²)) for real-valued
    /// visible units).
    ///
    /// # Shapes
    /// `v` is (n × nv); the result (n × nh).
    ///
    /// # Errors
    /// [`Error::Shape`](crate::Error::Shape), [`Error::Empty`](crate::Error::Empty), [`Error::NonFinite`](crate::Error::NonFinite) or [`Error::OutOfRange`](crate::Error::OutOfRange) for
    /// bad input: values must be finite and lie in the units' range (\[0, 1\] for Bernoulli
    /// units, [`Visible::range`]).
    ///
    /// ```
    /// use ndarray::array;
    /// let rbm = onsager::Rbm::<f64>::zeros(2, 3).unwrap();
    /// let p = rbm.hidden_probs(array![[1.0, 0.0]].view()).unwrap();
    /// assert_eq!(p, array![[0.5, 0.5, 0.5]]);
    /// ```
    pub fn hidden_probs(&self, v: ArrayView2<'_, T>) -> Result<Array2<T>> {
        self.visible
            .check_data("visible data", &v, self.n_visible())?;
        let mut out = Array2::zeros((v.nrows(), self.n_hidden()));
        self.hidden_probs_into(v, out.view_mut());
        Ok(out)
    }

    /// The conditional mean E\[v | h\] for each row of `h`: P(v = 1 | h) = σ(β(a + W h)) for
    /// Bernoulli units, a + W h for Gaussian ones, the mean of N(a + W h, σ²/β) on the interval
    /// for truncated ones.
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

    /// A sample of v ~ P(v | h) per row (binary for Bernoulli units, real for the others);
    /// row i uses random stream i of `seed`.
    ///
    /// # Errors
    /// As [`Rbm::visible_probs`].
    pub fn sample_visible(&self, h: ArrayView2<'_, T>, seed: u64) -> Result<Array2<T>> {
        check::unit_data("hidden data", &h, self.n_hidden())?;
        let mut out = Array2::zeros((h.nrows(), self.n_visible()));
        let mut rngs = rng::streams(seed, Domain::Sample, h.nrows());
        self.sample_visible_into(h, out.view_mut(), &mut rngs);
        Ok(out)
    }

    /// `steps` steps of block Gibbs sampling from each row of `v` (h ~ P(h|v), then
    /// v ~ P(v|h)); returns the sampled visible states. Row i uses random stream i of `seed`.
    ///
    /// # Errors
    /// As [`Rbm::hidden_probs`].
    pub fn gibbs(&self, v: ArrayView2<'_, T>, steps: usize, seed: u64) -> Result<Array2<T>> {
        self.visible
            .check_data("visible data", &v, self.n_visible())?;
        let n = v.nrows();
        let mut rngs = rng::streams(seed, Domain::Sample, n);
        let mut vis = v.to_owned();
        let mut hid = Array2::zeros((n, self.n_hidden()));
        for _ in 0..steps {
            self.gibbs_step_into(vis.view_mut(), hid.view_mut(), &mut rngs);
        }
        Ok(vis)
    }

    // ----- buffer-writing kernels used by the trainers and estimators (no allocation) -----

    /// The hidden layer: `out ← σ(β(b + x·W))` (W/σ² for real-valued visibles, `x` visible);
    /// the visible layer: `out ← E[v | h]` from the field β(x·Wᵀ) by the unit type's kernel
    /// (`x` hidden). With `rngs`, a draw of each value in the same pass (row i draws from
    /// `rngs[i]`).
    fn conditional_into(
        &self,
        side: Side,
        x: ArrayView2<'_, T>,
        mut out: ArrayViewMut2<'_, T>,
        rngs: Option<&mut [StreamRng]>,
    ) {
        let (w, bias) = match side {
            Side::Hidden => (self.hidden_weights(), &self.b),
            Side::Visible => (self.w.t(), &self.a),
        };
        linalg::gemm(out.view_mut(), false, x, w, self.beta);
        let (bias, beta) = (bias.as_slice().expect("contiguous"), self.beta);
        let sigma = self.sigma.as_slice().expect("contiguous");
        // Hidden units are Bernoulli; the visible layer's kernel is its unit type's.
        let kernel = |row: &mut [T], r: Option<&mut StreamRng>| match (side, self.visible) {
            (Side::Hidden, _) | (Side::Visible, Visible::Bernoulli) => {
                bernoulli::conditional_row(row, bias, beta, r)
            }
            (Side::Visible, Visible::Gaussian) => {
                gaussian::conditional_row(row, bias, sigma, beta, r)
            }
            (Side::Visible, Visible::TruncatedGaussian { low, high }) => {
                truncated_gaussian::conditional_row(row, bias, sigma, beta, (low, high), r)
            }
        };
        match rngs {
            None => par::rows(out, |_, row| kernel(row, None)),
            Some(rngs) => par::rows_with(out, rngs, |_, row, r| kernel(row, Some(r))),
        }
    }

    /// `out ← σ(β(b + vW))`.
    pub(crate) fn hidden_probs_into(&self, v: ArrayView2<'_, T>, out: ArrayViewMut2<'_, T>) {
        self.conditional_into(Side::Hidden, v, out, None);
    }

    /// `out ← E[v | h]` (σ(β(a + hWᵀ)) for Bernoulli units).
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

    /// `out ← a sample of P(v|h)`, the conditional and the draw in one pass per row.
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
fn sample_in_place<T: Float>(buf: ArrayViewMut2<'_, T>, rngs: &mut [StreamRng]) {
    par::rows_with(buf, rngs, |_, row, r| rng::bernoulli_in_place(row, r));
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

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
