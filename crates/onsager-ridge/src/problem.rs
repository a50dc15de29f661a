//! A regression problem decomposed once: the centred design's thin SVD and the target's
//! coordinates in its left singular vectors (docs/maths.md §8.1). Everything else (the path,
//! the selection criteria, the diagnostics) reads these.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use crate::{Error, Result};

/// X = U S Vᵀ of the (centred) design, the target's coordinates β = Uᵀy and what lies outside
/// the range of X, for one target.
#[derive(Clone, Debug)]
pub struct Problem {
    /// Rows n of the design.
    pub(crate) n: usize,
    /// Columns p of the design.
    pub(crate) p: usize,
    /// Whether the columns and the target were centred (an unpenalised intercept).
    pub(crate) fit_intercept: bool,
    /// Column means of X (zeros without an intercept).
    pub(crate) x_mean: Array1<f64>,
    /// Mean of y (0 without an intercept).
    pub(crate) y_mean: f64,
    /// Left singular vectors, n × k (k the numerical rank).
    pub(crate) u: Array2<f64>,
    /// Singular values s₁ ≥ … ≥ s_k > 0.
    pub(crate) s: Array1<f64>,
    /// Right singular vectors, p × k.
    pub(crate) v: Array2<f64>,
    /// β = Uᵀy (of the centred target), k.
    pub(crate) beta: Array1<f64>,
    /// The centred target.
    pub(crate) y: Array1<f64>,
    /// ‖y‖² − ‖β‖²: the squared norm of the target outside the range of X (≥ 0).
    pub(crate) outside: f64,
    /// Singular values the tolerance discarded (numerically zero), for the Picard plot.
    pub(crate) dropped: Vec<f64>,
}

/// Checks that every value is finite, naming the first that is not.
fn check_finite_matrix(what: &'static str, x: &ArrayView2<'_, f64>) -> Result<()> {
    match x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        Some(((i, j), &value)) => Err(Error::NonFinite {
            what,
            row: i + 1,
            column: format!(", column {}", j + 1),
            value,
        }),
        None => Ok(()),
    }
}

fn check_finite_vector(what: &'static str, y: &ArrayView1<'_, f64>) -> Result<()> {
    match y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((i, &value)) => Err(Error::NonFinite {
            what,
            row: i + 1,
            column: String::new(),
            value,
        }),
        None => Ok(()),
    }
}

/// β = Uᵀy and ‖y‖² − ‖β‖² (the target's squared norm outside the range of U, ≥ 0).
fn project(u: &Array2<f64>, y: &Array1<f64>) -> (Array1<f64>, f64) {
    let mut beta = Array1::zeros(u.ncols());
    onsager::linalg::gemm(
        beta.view_mut().insert_axis(Axis(1)),
        false,
        u.t(),
        y.view().insert_axis(Axis(1)),
        1.0,
    );
    let outside = (y.dot(y) - beta.dot(&beta)).max(0.0);
    (beta, outside)
}

impl Problem {
    /// Decomposes the design `x` (n × p) for the target `y` (n): with `fit_intercept`, the
    /// columns of x and y are centred first (the intercept is then ȳ − x̄ᵀw, unpenalised).
    /// Singular values below max(n, p)·ε·s₁ count as zero (the design's numerical rank k);
    /// n < p, n = p, n > p and rank-deficient designs are all fine.
    ///
    /// # Errors
    /// [`Error::Empty`] for no rows or no columns, [`Error::Rows`] when x and y disagree,
    /// [`Error::NonFinite`] naming the first NaN or infinity, [`Error::ConstantTarget`] for a
    /// target that does not vary (with an intercept) or is all zero, [`Error::Svd`] if the
    /// SVD fails.
    pub fn new(
        x: ArrayView2<'_, f64>,
        y: ArrayView1<'_, f64>,
        fit_intercept: bool,
    ) -> Result<Self> {
        let (n, p) = x.dim();
        if n == 0 || p == 0 {
            return Err(Error::Empty {
                what: "the design",
                reason: format!("{n} rows × {p} columns"),
            });
        }
        if y.len() != n {
            return Err(Error::Rows {
                design: n,
                target: y.len(),
            });
        }
        check_finite_matrix("the design", &x)?;
        check_finite_vector("the target", &y)?;
        let (x_mean, y_mean) = if fit_intercept {
            (
                x.mean_axis(Axis(0)).expect("n > 0"),
                y.mean().expect("n > 0"),
            )
        } else {
            (Array1::zeros(p), 0.0)
        };
        let yc = y.mapv(|v| v - y_mean);
        if yc.iter().all(|&v| v == 0.0) {
            return Err(Error::ConstantTarget { value: y[0] });
        }
        let xc = faer::Mat::from_fn(n, p, |i, j| x[[i, j]] - x_mean[j]);
        let svd = xc.thin_svd().map_err(|_| Error::Svd)?;
        let s_all: Vec<f64> = (0..n.min(p)).map(|i| svd.S().column_vector()[i]).collect();
        let tol = n.max(p) as f64 * f64::EPSILON * s_all.first().copied().unwrap_or(0.0);
        let k = s_all.iter().take_while(|&&s| s > tol).count();
        let u = Array2::from_shape_fn((n, k), |(i, j)| svd.U()[(i, j)]);
        let v = Array2::from_shape_fn((p, k), |(i, j)| svd.V()[(i, j)]);
        let s = Array1::from(s_all[..k].to_vec());
        let (beta, outside) = project(&u, &yc);
        Ok(Self {
            n,
            p,
            fit_intercept,
            x_mean,
            y_mean,
            u,
            s,
            v,
            beta,
            y: yc,
            outside,
            dropped: s_all[k..].to_vec(),
        })
    }

    /// The same design with another target (n values): the SVD is kept, only β = Uᵀy and
    /// what lies outside the range are recomputed.
    ///
    /// # Errors
    /// [`Error::Rows`], [`Error::NonFinite`] or [`Error::ConstantTarget`] for the target.
    pub fn with_target(&self, y: ArrayView1<'_, f64>) -> Result<Self> {
        if y.len() != self.n {
            return Err(Error::Rows {
                design: self.n,
                target: y.len(),
            });
        }
        check_finite_vector("the target", &y)?;
        let y_mean = if self.fit_intercept {
            y.mean().expect("n > 0")
        } else {
            0.0
        };
        let yc = y.mapv(|v| v - y_mean);
        if yc.iter().all(|&v| v == 0.0) {
            return Err(Error::ConstantTarget { value: y[0] });
        }
        let (beta, outside) = project(&self.u, &yc);
        Ok(Self {
            outside,
            beta,
            y: yc,
            y_mean,
            ..self.clone()
        })
    }

    /// Rows n.
    pub fn n_samples(&self) -> usize {
        self.n
    }

    /// Columns p.
    pub fn n_features(&self) -> usize {
        self.p
    }

    /// The numerical rank k of the (centred) design.
    pub fn rank(&self) -> usize {
        self.s.len()
    }

    /// The nonzero singular values s₁ ≥ … ≥ s_k.
    pub fn singular_values(&self) -> ArrayView1<'_, f64> {
        self.s.view()
    }

    /// The target's coordinates uᵢᵀy in the left singular vectors (the Picard plot's middle
    /// column).
    pub fn coordinates(&self) -> ArrayView1<'_, f64> {
        self.beta.view()
    }

    /// The condition number s₁/s_k of the design as fitted (∞ when it is rank-deficient:
    /// fewer nonzero singular values than min(n, p), or min(n − 1, p) with an intercept).
    pub fn condition_number(&self) -> f64 {
        let full = if self.fit_intercept {
            (self.n - 1).min(self.p)
        } else {
            self.n.min(self.p)
        };
        if self.rank() < full || self.rank() == 0 {
            f64::INFINITY
        } else {
            self.s[0] / self.s[self.rank() - 1]
        }
    }

    /// Whether an intercept was fitted.
    pub fn fits_intercept(&self) -> bool {
        self.fit_intercept
    }
}
