//! The clamped free energy F_c(v) and the energy E(v, h) (docs/maths.md §1, §1b), for every
//! visible unit type.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2};

use super::Rbm;
use crate::{check, kernels, linalg, par, Error, Float, Result};

impl<T: Float> Rbm<T> {
    /// The free energy with v clamped, per row, times β (docs/maths.md §1, §1b), so that
    /// log p(v) = −F_c(v) − log Z (a log-density for real-valued units):
    ///
    /// ```text
    /// Bernoulli:   F_c(v) = −β aᵀv − Σ_j softplus(β(b_j + (vᵀW)_j))
    /// real-valued: F_c(v) = β Σᵢ (vᵢ − aᵢ)²/(2σᵢ²) − Σ_j softplus(β(b_j + Σᵢ vᵢWᵢⱼ/σᵢ²))
    /// ```
    ///
    /// # Errors
    /// As [`Rbm::hidden_probs`].
    pub fn free_energy(&self, v: ArrayView2<'_, T>) -> Result<Array1<f64>> {
        self.visible
            .check_data("visible data", &v, self.n_visible())?;
        let mut tmp = Array2::zeros((v.nrows(), self.n_hidden()));
        let mut out = Array1::zeros(v.nrows());
        self.free_energy_into(v, tmp.view_mut(), out.as_slice_mut().expect("fresh array"));
        Ok(out)
    }

    /// The energy β·E(v, h) per row pair: −β(aᵀv + bᵀh + vᵀWh) for Bernoulli units,
    /// β(Σᵢ (vᵢ − aᵢ)²/(2σᵢ²) − bᵀh − Σᵢⱼ vᵢWᵢⱼhⱼ/σᵢ²) for real-valued ones.
    ///
    /// # Shapes
    /// `v` is (n × nv), `h` is (n × nh).
    ///
    /// # Errors
    /// As [`Rbm::hidden_probs`] for either input, and [`Error::Shape`] if the row counts differ.
    pub fn energy(&self, v: ArrayView2<'_, T>, h: ArrayView2<'_, T>) -> Result<Array1<f64>> {
        self.visible
            .check_data("visible data", &v, self.n_visible())?;
        check::unit_data("hidden data", &h, self.n_hidden())?;
        if v.nrows() != h.nrows() {
            return Err(Error::Shape {
                what: "hidden data rows",
                expected: v.nrows().to_string(),
                got: h.nrows().to_string(),
            });
        }
        let mut vw = Array2::zeros((v.nrows(), self.n_hidden()));
        linalg::gemm(vw.view_mut(), false, v, self.hidden_weights(), T::one());
        let beta = self.beta.f64();
        let e = (0..v.nrows())
            .map(|i| {
                let dot = |x: ArrayView1<T>, y: ArrayView1<T>| {
                    x.iter().zip(y).map(|(p, q)| p.f64() * q.f64()).sum::<f64>()
                };
                let hidden = dot(h.row(i), self.b.view()) + dot(h.row(i), vw.row(i));
                beta * (self.visible_term(v.row(i)) - hidden)
            })
            .collect();
        Ok(e)
    }

    /// F_c of each row of `v` into `out`, using `tmp` (n × nh) as scratch.
    pub(crate) fn free_energy_into(
        &self,
        v: ArrayView2<'_, T>,
        tmp: ArrayViewMut2<'_, T>,
        out: &mut [f64],
    ) {
        let mut tmp = tmp;
        linalg::gemm(tmp.view_mut(), false, v, self.hidden_weights(), self.beta);
        let (b, beta) = (self.b.as_slice().expect("contiguous"), self.beta);
        let tmp = tmp.view();
        par::row_values(out, self.n_hidden() + self.n_visible(), |i| {
            let row = tmp.row(i);
            let hid = kernels::softplus_shift_sum(row.as_slice().expect("contiguous"), b, beta);
            beta.f64() * self.visible_term(v.row(i)) - hid.f64()
        });
    }

    /// The visible units' own energy, in f64: −aᵀv for Bernoulli units,
    /// Σᵢ (vᵢ − aᵢ)²/(2σᵢ²) for real-valued ones.
    fn visible_term(&self, v: ArrayView1<'_, T>) -> f64 {
        let units = v.iter().zip(&self.a);
        if self.visible.is_real() {
            units
                .zip(&self.sigma)
                .map(|((x, a), s)| {
                    let (d, s) = (x.f64() - a.f64(), s.f64());
                    d * d / (2.0 * s * s)
                })
                .sum()
        } else {
            -units.map(|(x, a)| x.f64() * a.f64()).sum::<f64>()
        }
    }
}
