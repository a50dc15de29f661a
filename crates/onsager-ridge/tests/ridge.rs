//! The ridge path, its selection criteria and its diagnostics against direct definitions:
//! normal equations solved outright, refits without each row, finite differences, a problem
//! with a known corner, and closed forms against Monte Carlo.

use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2};
use onsager::rng::{self, Domain};
use onsager_ridge::theory::{closed_form, gaussian_design, monte_carlo};
use onsager_ridge::{
    discrete_curvature, log_grid, problems, tikhonov_curvature, DangerZone, Error, Filter,
    FilterKind, Problem, Selection,
};
use rand_distr::{Distribution, StandardNormal};

/// n independent N(0, 1) draws from `r`.
fn normals(n: usize, r: &mut rng::StreamRng) -> Array1<f64> {
    Array1::from_shape_simple_fn(n, || StandardNormal.sample(&mut *r))
}

/// Solves the symmetric positive definite system a·x = b by Gaussian elimination with
/// partial pivoting (the test's own oracle, independent of the SVD).
fn solve(mut a: Array2<f64>, mut b: Array1<f64>) -> Array1<f64> {
    let n = b.len();
    for c in 0..n {
        let piv = (c..n)
            .max_by(|&i, &j| a[[i, c]].abs().total_cmp(&a[[j, c]].abs()))
            .unwrap();
        for j in 0..n {
            a.swap([c, j], [piv, j]);
        }
        b.swap(c, piv);
        for r in c + 1..n {
            let m = a[[r, c]] / a[[c, c]];
            for j in c..n {
                a[[r, j]] -= m * a[[c, j]];
            }
            b[r] -= m * b[c];
        }
    }
    let mut x = Array1::zeros(n);
    for r in (0..n).rev() {
        let mut acc = b[r];
        for j in r + 1..n {
            acc -= a[[r, j]] * x[j];
        }
        x[r] = acc / a[[r, r]];
    }
    x
}

/// Ridge by its normal equations: (XcᵀXc + αI)w = Xcᵀyc on the centred data (with an
/// intercept), then b = ȳ − x̄ᵀw.
fn direct(
    x: ArrayView2<'_, f64>,
    y: ArrayView1<'_, f64>,
    alpha: f64,
    intercept: bool,
) -> (Array1<f64>, f64) {
    let (n, p) = x.dim();
    let (xm, ym) = if intercept {
        (x.mean_axis(ndarray::Axis(0)).unwrap(), y.mean().unwrap())
    } else {
        (Array1::zeros(p), 0.0)
    };
    let xc = Array2::from_shape_fn((n, p), |(i, j)| x[[i, j]] - xm[j]);
    let yc = y.mapv(|v| v - ym);
    let mut g = xc.t().dot(&xc);
    for j in 0..p {
        g[[j, j]] += alpha;
    }
    let w = solve(g, xc.t().dot(&yc));
    let b = ym - xm.dot(&w);
    (w, b)
}

fn random(n: usize, p: usize, seed: u64) -> (Array2<f64>, Array1<f64>) {
    let mut r = rng::stream(seed, Domain::Other, 0);
    let x = gaussian_design(n, p, &mut r);
    let w = Array1::from_shape_fn(p, |j| ((j % 5) as f64 - 2.0) * 0.5);
    let y = x.dot(&w) + normals(n, &mut r) * 0.3 + 1.5;
    (x, y)
}

fn rel(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    let d = a - b;
    d.dot(&d).sqrt() / b.dot(b).sqrt().max(1e-300)
}

#[test]
fn path_coefficients_equal_the_normal_equations() {
    // n > p, n = p, n < p, and a rank-deficient design (a repeated column).
    let mut cases = vec![random(40, 8, 1), random(12, 12, 2), random(9, 20, 3)];
    let (mut x, y) = random(30, 6, 4);
    let col = x.column(1).to_owned();
    x.column_mut(4).assign(&col);
    cases.push((x, y));
    for (k, (x, y)) in cases.iter().enumerate() {
        for intercept in [true, false] {
            let problem = Problem::new(x.view(), y.view(), intercept).unwrap();
            for alpha in [1e-3, 0.1, 1.0, 30.0] {
                let (w, b) = problem.coefficients(Filter::Tikhonov(alpha)).unwrap();
                let (w0, b0) = direct(x.view(), y.view(), alpha, intercept);
                assert!(
                    rel(&w, &w0) < 1e-10,
                    "case {k}, α {alpha}: {}",
                    rel(&w, &w0)
                );
                assert!(
                    (b - b0).abs() < 1e-10 * (1.0 + b0.abs()),
                    "case {k}: {b} vs {b0}"
                );
                // The norms the path reports are those of this solution.
                let pt = problem.point(Filter::Tikhonov(alpha)).unwrap();
                let r = y - &x.dot(&w) - b;
                assert!(
                    (pt.residual_norm - r.dot(&r).sqrt()).abs() < 1e-9 * (1.0 + pt.residual_norm)
                );
                assert!(
                    (pt.solution_norm - w.dot(&w).sqrt()).abs() < 1e-9 * (1.0 + pt.solution_norm)
                );
            }
        }
    }
    // The rank-deficient design has one direction fewer.
    let (x, y) = &cases[3];
    assert_eq!(Problem::new(x.view(), y.view(), false).unwrap().rank(), 5);
    assert!(Problem::new(x.view(), y.view(), false)
        .unwrap()
        .condition_number()
        .is_infinite());
}

#[test]
fn truncated_svd_keeps_k_directions_and_all_of_them_is_least_squares() {
    let (x, y) = random(25, 5, 5);
    let problem = Problem::new(x.view(), y.view(), true).unwrap();
    let (w_all, _) = problem.coefficients(Filter::Truncated(5)).unwrap();
    let (w_ols, _) = direct(x.view(), y.view(), 0.0, true);
    assert!(rel(&w_all, &w_ols) < 1e-10);
    let pt = problem.point(Filter::Truncated(2)).unwrap();
    assert_eq!(pt.dof, 2.0);
    let (w2, _) = problem.coefficients(Filter::Truncated(2)).unwrap();
    assert!((pt.solution_norm - w2.dot(&w2).sqrt()).abs() < 1e-12);
}

/// Leave-one-out by refitting without each row (with its own centring), and GCV from the hat
/// matrix built from the normal equations.
#[test]
fn gcv_and_loo_equal_their_brute_force_definitions() {
    for (x, y, intercept) in [
        (random(15, 4, 6).0, random(15, 4, 6).1, true),
        (random(10, 12, 7).0, random(10, 12, 7).1, true),
        (random(14, 3, 8).0, random(14, 3, 8).1, false),
    ] {
        let (n, _) = x.dim();
        let problem = Problem::new(x.view(), y.view(), intercept).unwrap();
        for alpha in [0.01, 0.5, 5.0] {
            let pt = problem.point(Filter::Tikhonov(alpha)).unwrap();
            let mut loo = 0.0;
            for i in 0..n {
                let keep: Vec<usize> = (0..n).filter(|&r| r != i).collect();
                let xs = x.select(ndarray::Axis(0), &keep);
                let ys = y.select(ndarray::Axis(0), &keep);
                let (w, b) = direct(xs.view(), ys.view(), alpha, intercept);
                let e = y[i] - x.row(i).dot(&w) - b;
                loo += e * e;
            }
            loo /= n as f64;
            assert!((pt.loo - loo).abs() < 1e-9 * loo, "LOO {} vs {loo}", pt.loo);
            // H column by column: the fit to each unit vector.
            let mut trace = 0.0;
            for i in 0..n {
                let mut e = Array1::zeros(n);
                e[i] = 1.0;
                let (w, b) = direct(x.view(), e.view(), alpha, intercept);
                trace += x.row(i).dot(&w) + b;
            }
            let (w, b) = direct(x.view(), y.view(), alpha, intercept);
            let r = &y - &x.dot(&w) - b;
            let gcv = n as f64 * r.dot(&r) / (n as f64 - trace).powi(2);
            assert!((pt.gcv - gcv).abs() < 1e-9 * gcv, "GCV {} vs {gcv}", pt.gcv);
            let dof = trace - f64::from(u8::from(intercept));
            assert!((pt.dof - dof).abs() < 1e-9, "dof {} vs {dof}", pt.dof);
        }
    }
}

#[test]
fn the_closed_form_curvature_is_the_curves_own() {
    // On a fine grid the Menger curvature of neighbouring points converges to the closed form.
    let (a, x) = problems::shaw(32);
    let mut r = rng::stream(9, Domain::Other, 0);
    let b = a.dot(&x) + normals(32, &mut r) * 1e-3;
    let problem = Problem::new(a.view(), b.view(), false).unwrap();
    let alphas = log_grid(1e-12, 1e1, 4001).unwrap();
    let exact = tikhonov_curvature(&problem, &alphas);
    let path = problem
        .path(
            &alphas
                .iter()
                .map(|&a| Filter::Tikhonov(a))
                .collect::<Vec<_>>(),
        )
        .unwrap();
    let discrete = discrete_curvature(&path);
    let peak = exact.iter().fold(0f64, |m, &k| m.max(k.abs()));
    for i in (50..3950).step_by(97) {
        assert!(
            (exact[i] - discrete[i]).abs() < 1e-2 * peak,
            "α {}: closed form {} vs three points {}",
            alphas[i],
            exact[i],
            discrete[i]
        );
    }
}

#[test]
fn the_l_curve_corner_of_shaw_lands_near_the_best_alpha() {
    let (a, x) = problems::shaw(64);
    let mut r = rng::stream(10, Domain::Other, 0);
    let clean = a.dot(&x);
    let noise = normals(64, &mut r);
    // Noise at 0.1 % of the data's norm.
    let scale = 1e-3 * clean.dot(&clean).sqrt() / noise.dot(&noise).sqrt();
    let b = &clean + &(noise * scale);
    let problem = Problem::new(a.view(), b.view(), false).unwrap();
    let alphas = log_grid(1e-14, 1e2, 161).unwrap();
    let corner = problem
        .select(FilterKind::Tikhonov, &alphas, Selection::LCurve)
        .unwrap();
    assert!(!corner.on_edge);
    let error = |alpha: f64| {
        let (w, _) = problem.coefficients(Filter::Tikhonov(alpha)).unwrap();
        rel(&w, &x)
    };
    let best = alphas
        .iter()
        .copied()
        .min_by(|&p, &q| error(p).total_cmp(&error(q)))
        .unwrap();
    let Filter::Tikhonov(chosen) = corner.filter else {
        unreachable!()
    };
    let factor = (chosen / best).max(best / chosen);
    eprintln!(
        "Shaw: corner α {chosen:e}, best α {best:e}, relative errors {} and {}",
        error(chosen),
        error(best)
    );
    assert!(
        factor < 30.0,
        "corner α {chosen:e} vs best {best:e} (error {} vs {})",
        error(chosen),
        error(best)
    );
    assert!(
        error(chosen) < 3.0 * error(best),
        "{} vs {}",
        error(chosen),
        error(best)
    );
    // The Picard plot: the coordinates level off at the noise while sᵢ keeps falling.
    let picard = problem.picard();
    let k = picard.ratios.len();
    assert!(
        picard.ratios[k - 1] > 100.0 * picard.ratios[2],
        "{:?}",
        picard.ratios
    );
}

#[test]
fn edges_of_the_grid_are_flagged() {
    let (x, y) = random(40, 5, 11);
    let problem = Problem::new(x.view(), y.view(), true).unwrap();
    // A grid of huge penalties only: GCV falls towards the small end, its edge.
    let big = log_grid(1e4, 1e6, 10).unwrap();
    let c = problem
        .select(FilterKind::Tikhonov, &big, Selection::Gcv)
        .unwrap();
    assert!(c.on_edge && c.index == 0, "{c:?}");
    let wide = log_grid(1e-6, 1e6, 60).unwrap();
    let c = problem
        .select(FilterKind::Tikhonov, &wide, Selection::Loo)
        .unwrap();
    assert!(!c.on_edge, "{:?}", c.filter);
    let t = problem
        .select(FilterKind::Truncated, &[], Selection::Gcv)
        .unwrap();
    assert_eq!(t.path.len(), 5);
}

#[test]
fn the_danger_zone_is_flagged_only_where_it_is() {
    let zone = DangerZone::default();
    let (x, y) = random(20, 20, 12);
    let p = Problem::new(x.view(), y.view(), false).unwrap();
    let s_min = *p.singular_values().iter().last().unwrap();
    let danger = zone.assess(&p, 1e-8).expect("n = p and a tiny α");
    assert!(danger.variance_factor > 1.0 / (s_min * s_min) * 0.9);
    assert!(danger.message().contains("danger zone"));
    assert!(
        zone.assess(&p, 10.0 * s_min * s_min).is_none(),
        "α above s²_min"
    );
    let (x, y) = random(200, 20, 13);
    let p = Problem::new(x.view(), y.view(), false).unwrap();
    assert!(zone.assess(&p, 1e-8).is_none(), "n = 10p");
}

#[test]
fn closed_form_errors_match_monte_carlo_away_from_the_pole() {
    let p = 20;
    let w = Array1::from_elem(p, 1.0 / (p as f64).sqrt()); // ‖w*‖ = 1
    let sigma = 0.5;
    for n in [6, 12, 30, 45] {
        let mc = monte_carlo(n, w.view(), sigma, 1e-9, 400, 7).unwrap();
        let cf = closed_form(n, p, sigma, 1.0).unwrap();
        for (name, got, want) in [
            ("bias²", mc.bias2, cf.bias2),
            ("variance", mc.variance, cf.variance),
            ("total", mc.total, cf.total()),
        ] {
            assert!(
                (got.mean - want).abs() < 4.0 * got.stderr + 1e-9,
                "n {n} {name}: Monte Carlo {} ± {} vs closed form {want}",
                got.mean,
                got.stderr
            );
        }
    }
    assert!(closed_form(20, 20, 1.0, 1.0).is_none());
    assert!(closed_form(21, 20, 1.0, 1.0).is_none());
}

#[test]
fn bad_input_gives_one_clear_error() {
    let (x, y) = random(10, 3, 14);
    let mut xn = x.clone();
    xn[[4, 2]] = f64::NAN;
    let e = Problem::new(xn.view(), y.view(), true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the design has a non-finite value NaN at row 5, column 3 (counting from 1)"
    );
    let mut yn = y.clone();
    yn[7] = f64::INFINITY;
    assert!(matches!(
        Problem::new(x.view(), yn.view(), true),
        Err(Error::NonFinite { row: 8, .. })
    ));
    let constant = Array1::from_elem(10, 2.5);
    assert!(Problem::new(x.view(), constant.view(), true)
        .unwrap_err()
        .to_string()
        .contains("constant (2.5)"));
    assert!(
        Problem::new(x.view(), constant.view(), false).is_ok(),
        "no intercept: 2.5 is data"
    );
    let empty = Array2::<f64>::zeros((0, 3));
    assert!(matches!(
        Problem::new(empty.view(), Array1::zeros(0).view(), true),
        Err(Error::Empty { .. })
    ));
    assert!(matches!(
        Problem::new(x.view(), y.slice(s![..9]), true),
        Err(Error::Rows {
            design: 10,
            target: 9
        })
    ));
    let p = Problem::new(x.view(), y.view(), true).unwrap();
    assert!(p.coefficients(Filter::Tikhonov(-1.0)).is_err());
    assert!(p.select(FilterKind::Tikhonov, &[], Selection::Gcv).is_err());
    assert!(p
        .select(FilterKind::Tikhonov, &[f64::NAN], Selection::Gcv)
        .is_err());
}
