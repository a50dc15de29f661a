//! The regularisation path from one SVD (docs/maths.md §8.2–§8.3): for each filter, the
//! coefficients, the intercept, the residual and solution norms, the effective degrees of
//! freedom, GCV and exact leave-one-out, in O(k·(n + p)) per filter (k the rank), products
//! through the project's product layer (`onsager::linalg`).

use ndarray::{Array1, Array2, ArrayView1, Axis};

use crate::{Filter, Problem, Result};

/// What one filter gives on a problem.
#[derive(Clone, Debug, PartialEq)]
pub struct PathPoint {
    /// The filter.
    pub filter: Filter,
    /// ‖y − Xw − intercept‖, the residual norm.
    pub residual_norm: f64,
    /// ‖w‖, the solution norm (the intercept not included).
    pub solution_norm: f64,
    /// Σᵢ fᵢ, the effective degrees of freedom of w (the intercept adds 1 more).
    pub dof: f64,
    /// G = n‖(I − H)y‖² / tr(I − H)², with tr(I − H) = n − Σfᵢ − (1 with an intercept); ∞ where the fit
    /// interpolates (tr(I − H) = 0).
    pub gcv: f64,
    /// Exact leave-one-out mean squared error, (1/n) Σᵢ (rᵢ / (1 − Hᵢᵢ))²; ∞ where a row's
    /// leverage is 1.
    pub loo: f64,
}

/// Scratch for one path: the squared left singular vectors (for the leverages) and n- and
/// k-sized buffers, allocated once per path.
struct Scratch {
    u2: Array2<f64>,
    weighted: Array1<f64>,
    fitted: Array1<f64>,
    leverage: Array1<f64>,
}

impl Problem {
    /// The filter factors fᵢ of `filter`.
    pub fn factors(&self, filter: Filter) -> Array1<f64> {
        Array1::from_iter(self.s.iter().enumerate().map(|(i, &s)| filter.factor(i, s)))
    }

    /// The coefficients w = Σᵢ fᵢ (uᵢᵀy/sᵢ) vᵢ and the intercept ȳ − x̄ᵀw of `filter`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParam`] for a bad filter setting.
    pub fn coefficients(&self, filter: Filter) -> Result<(Array1<f64>, f64)> {
        filter.check()?;
        let c = Array1::from_iter(
            self.s
                .iter()
                .zip(&self.beta)
                .enumerate()
                .map(|(i, (&s, &b))| filter.factor(i, s) * b / s),
        );
        let mut w = Array1::zeros(self.p);
        onsager::linalg::gemm(
            w.view_mut().insert_axis(Axis(1)),
            false,
            self.v.view(),
            c.view().insert_axis(Axis(1)),
            1.0,
        );
        let intercept = if self.fit_intercept {
            self.y_mean - self.x_mean.dot(&w)
        } else {
            0.0
        };
        Ok((w, intercept))
    }

    /// ‖r‖ and ‖w‖ of the filter factors `f`: ‖r‖² = Σ (1 − fᵢ)²βᵢ² + ‖y outside range X‖²,
    /// ‖w‖² = Σ fᵢ²βᵢ²/sᵢ².
    pub(crate) fn norms(&self, f: ArrayView1<'_, f64>) -> (f64, f64) {
        let (mut r2, mut w2) = (self.outside, 0.0);
        for ((&fi, &b), &s) in f.iter().zip(&self.beta).zip(&self.s) {
            r2 += (1.0 - fi) * (1.0 - fi) * b * b;
            w2 += fi * fi * b * b / (s * s);
        }
        (r2.sqrt(), w2.sqrt())
    }

    fn scratch(&self) -> Scratch {
        Scratch {
            u2: self.u.mapv(|x| x * x),
            weighted: Array1::zeros(self.rank()),
            fitted: Array1::zeros(self.n),
            leverage: Array1::zeros(self.n),
        }
    }

    /// The path point of `filter`, with `scratch` from [`Problem::scratch`].
    fn point_with(&self, filter: Filter, sc: &mut Scratch) -> PathPoint {
        let f = self.factors(filter);
        let (residual_norm, solution_norm) = self.norms(f.view());
        let dof: f64 = f.sum();
        let n = self.n as f64;
        let intercept = f64::from(u8::from(self.fit_intercept));
        let trace = n - dof - intercept;
        let gcv = if trace > 1e-12 * n {
            n * residual_norm * residual_norm / (trace * trace)
        } else {
            f64::INFINITY
        };
        // Residuals r = y − U(f∘β) and leverages Hᵢᵢ = [1/n] + Σₖ Uᵢₖ² fₖ.
        sc.weighted.assign(&(&f * &self.beta));
        onsager::linalg::gemm(
            sc.fitted.view_mut().insert_axis(Axis(1)),
            false,
            self.u.view(),
            sc.weighted.view().insert_axis(Axis(1)),
            1.0,
        );
        onsager::linalg::gemm(
            sc.leverage.view_mut().insert_axis(Axis(1)),
            false,
            sc.u2.view(),
            f.view().insert_axis(Axis(1)),
            1.0,
        );
        let mut loo = 0.0;
        for ((&y, &fit), &h) in self.y.iter().zip(&sc.fitted).zip(&sc.leverage) {
            let h = h + intercept / n;
            let denom = 1.0 - h;
            if denom <= 1e-12 {
                loo = f64::INFINITY;
                break;
            }
            let e = (y - fit) / denom;
            loo += e * e;
        }
        PathPoint {
            filter,
            residual_norm,
            solution_norm,
            dof,
            gcv,
            loo: loo / n,
        }
    }

    /// The path point of one filter.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParam`] for a bad filter setting.
    pub fn point(&self, filter: Filter) -> Result<PathPoint> {
        filter.check()?;
        Ok(self.point_with(filter, &mut self.scratch()))
    }

    /// The path over `filters`, in their order.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParam`] for a bad filter setting (checked before any work).
    pub fn path(&self, filters: &[Filter]) -> Result<Vec<PathPoint>> {
        filters.iter().try_for_each(Filter::check)?;
        let mut sc = self.scratch();
        Ok(filters
            .iter()
            .map(|&f| self.point_with(f, &mut sc))
            .collect())
    }
}

/// `n` values of α spaced evenly in log between `low` and `high` (both > 0), ascending.
///
/// # Errors
/// [`crate::Error::InvalidParam`] unless 0 < low ≤ high are finite and n ≥ 1.
pub fn log_grid(low: f64, high: f64, n: usize) -> Result<Vec<f64>> {
    if !(low > 0.0 && high >= low && high.is_finite()) || n == 0 {
        return Err(crate::Error::InvalidParam {
            name: "alpha grid",
            value: format!("{low}..{high} in {n} steps"),
            reason: "needs 0 < low ≤ high, finite, and at least one step",
        });
    }
    if n == 1 {
        return Ok(vec![low]);
    }
    let (a, b) = (low.ln(), high.ln());
    Ok((0..n)
        .map(|i| (a + (b - a) * i as f64 / (n - 1) as f64).exp())
        .collect())
}

/// The default α grid of a problem: 100 values from 10⁻¹⁰·s₁² to 10·s₁² (every filter
/// factor from 1 − 10⁻¹⁰ to below 0.1 on the largest direction).
pub fn default_alphas(problem: &Problem) -> Vec<f64> {
    let s1 = problem
        .s
        .first()
        .copied()
        .unwrap_or(1.0)
        .max(f64::MIN_POSITIVE);
    log_grid(1e-10 * s1 * s1, 10.0 * s1 * s1, 100).expect("a valid grid")
}
