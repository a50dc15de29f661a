//! Test problems with a known answer (docs/maths.md §8.7): Shaw's one-dimensional image
//! restoration, a discretised Fredholm integral equation of the first kind whose L-curve has a
//! clear corner (as in Hansen's Regularization Tools, written here from its definition).

use ndarray::{Array1, Array2};

/// Shaw's problem of size n: the kernel
///
/// ```text
/// K(s, t) = (cos s + cos t)² (sin u / u)²,  u = π(sin s + sin t),  s, t ∈ [−π/2, π/2]
/// ```
///
/// by the midpoint rule (A_ij = h K(s_i, t_j), h = π/n, s_i = t_i = −π/2 + (i − ½)h) and the
/// true solution x(t) = 2e^{−6(t − 0.8)²} + e^{−2(t + 0.5)²}. Returns (A, x).
pub fn shaw(n: usize) -> (Array2<f64>, Array1<f64>) {
    let h = std::f64::consts::PI / n as f64;
    let grid: Vec<f64> = (0..n)
        .map(|i| -std::f64::consts::FRAC_PI_2 + (i as f64 + 0.5) * h)
        .collect();
    let kernel = |s: f64, t: f64| {
        let u = std::f64::consts::PI * (s.sin() + t.sin());
        let sinc = if u.abs() < 1e-12 { 1.0 } else { u.sin() / u };
        (s.cos() + t.cos()).powi(2) * sinc * sinc
    };
    let a = Array2::from_shape_fn((n, n), |(i, j)| h * kernel(grid[i], grid[j]));
    let x = Array1::from_iter(grid.iter().map(|&t| {
        2.0 * (-6.0 * (t - 0.8) * (t - 0.8)).exp() + (-2.0 * (t + 0.5) * (t + 0.5)).exp()
    }));
    (a, x)
}
