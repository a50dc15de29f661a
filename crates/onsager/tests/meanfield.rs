//! Self-checks of the EMF free energy (docs/maths.md §6.2, §6.3): stationarity of the fixed point,
//! the gradient against finite differences, and the O(ε^{k+1}) error of −Γ_k(m*) against
//! exact log Z.

mod common;

use common::{random_rbm, scale_weights};
use ndarray::{Array2, ArrayView2};
use onsager::estimate::exact::{self, Layer};
use onsager::meanfield::{self, FixedPoint};
use onsager::{EmfOrder, Rbm, Solver};

const ORDERS: [EmfOrder; 3] = [EmfOrder::First, EmfOrder::Second, EmfOrder::Third];

fn converge(rbm: &Rbm<f64>, order: EmfOrder, rows: usize) -> FixedPoint<f64> {
    let mv = Array2::from_shape_fn((rows, rbm.n_visible()), |(r, i)| {
        0.2 + 0.6 * (((r * 7 + i * 3) % 10) as f64 / 10.0)
    });
    let mh = Array2::from_shape_fn((rows, rbm.n_hidden()), |(r, j)| {
        0.3 + 0.4 * (((r * 5 + j) % 10) as f64 / 10.0)
    });
    let fp = meanfield::fixed_point(
        rbm,
        order,
        mv.view(),
        mh.view(),
        0.5,
        20_000,
        1e-14,
        Solver::Damped,
    )
    .unwrap();
    assert!(fp.converged, "{order:?}: residual {}", fp.residual);
    fp
}

fn gamma1(rbm: &Rbm<f64>, order: EmfOrder, mv: ArrayView2<f64>, mh: ArrayView2<f64>) -> f64 {
    meanfield::gamma(rbm, order, mv, mh).unwrap()[0]
}

#[test]
fn fixed_point_is_stationary_for_every_order() {
    let rbm = random_rbm::<f64>(6, 5, 0.4, 0.7, 21)
        .with_beta(0.9)
        .unwrap();
    for order in ORDERS {
        let fp = converge(&rbm, order, 1);
        let h = 1e-6;
        let mut worst: f64 = 0.0;
        for layer in 0..2 {
            let n = if layer == 0 { 6 } else { 5 };
            for k in 0..n {
                let (mut mvp, mut mhp) = (fp.m_v.clone(), fp.m_h.clone());
                let (mut mvm, mut mhm) = (fp.m_v.clone(), fp.m_h.clone());
                if layer == 0 {
                    mvp[[0, k]] += h;
                    mvm[[0, k]] -= h;
                } else {
                    mhp[[0, k]] += h;
                    mhm[[0, k]] -= h;
                }
                let d = (gamma1(&rbm, order, mvp.view(), mhp.view())
                    - gamma1(&rbm, order, mvm.view(), mhm.view()))
                    / (2.0 * h);
                worst = worst.max(d.abs());
            }
        }
        assert!(worst < 1e-7, "{order:?}: max |dΓ/dm| = {worst}");
        // And a point that is not a fixed point is not stationary (the check can fail).
        let mut off = fp.m_v.clone();
        off[[0, 0]] = 0.5 * (off[[0, 0]] + 0.5) + 0.1;
        let mut p = off.clone();
        p[[0, 0]] += h;
        let d = (gamma1(&rbm, order, p.view(), fp.m_h.view())
            - gamma1(&rbm, order, off.view(), fp.m_h.view()))
            / h;
        assert!(
            d.abs() > 1e-3,
            "{order:?}: perturbed point looks stationary"
        );
    }
}

#[test]
fn emf_gradient_equals_finite_difference_of_minus_gamma() {
    let rbm = random_rbm::<f64>(5, 4, 0.8, 0.5, 22)
        .with_beta(0.8)
        .unwrap();
    // Three arbitrary magnetisation rows (not a fixed point: the identity holds at fixed m).
    let mv = Array2::from_shape_fn((3, 5), |(r, i)| {
        0.1 + 0.8 * (((r * 3 + i * 7) % 11) as f64 / 11.0)
    });
    let mh = Array2::from_shape_fn((3, 4), |(r, j)| {
        0.15 + 0.7 * (((r * 5 + j * 2) % 9) as f64 / 9.0)
    });
    for order in ORDERS {
        let g = meanfield::log_z_gradient(&rbm, order, mv.view(), mh.view()).unwrap();
        let mean_neg_gamma = |m: &Rbm<f64>| {
            -meanfield::gamma(m, order, mv.view(), mh.view())
                .unwrap()
                .mean()
                .unwrap()
        };
        let h = 1e-6;
        for i in 0..5 {
            for j in 0..4 {
                let bump = |d: f64| {
                    let mut w = rbm.weights().to_owned();
                    w[[i, j]] += d;
                    Rbm::from_parts(
                        w,
                        rbm.visible_bias().to_owned(),
                        rbm.hidden_bias().to_owned(),
                    )
                    .unwrap()
                    .with_beta(0.8)
                    .unwrap()
                };
                let fd = (mean_neg_gamma(&bump(h)) - mean_neg_gamma(&bump(-h))) / (2.0 * h);
                assert!(
                    (g[[i, j]] - fd).abs() < 1e-7,
                    "{order:?} W[{i},{j}]: {} vs {fd}",
                    g[[i, j]]
                );
            }
        }
    }
}

#[test]
fn minus_gamma_approaches_log_z_with_error_of_order_k_plus_one() {
    let base = random_rbm::<f64>(8, 6, 1.0, 1.0, 23);
    // Small enough that the next order dominates the error (at ε = 0.2 the ε³ and ε⁴ terms
    // of order 2 can cancel).
    let eps = [0.05, 0.025, 0.0125];
    for (k, order) in ORDERS.into_iter().enumerate() {
        let errs: Vec<f64> = eps
            .iter()
            .map(|&e| {
                let rbm = scale_weights(&base, e);
                let log_z = exact::log_partition(&rbm, Layer::Smaller).unwrap();
                let fp = converge(&rbm, order, 1);
                let g = meanfield::gamma(&rbm, order, fp.m_v.view(), fp.m_h.view()).unwrap()[0];
                (log_z + g).abs()
            })
            .collect();
        // Least-squares slope of log err against log ε.
        let xs: Vec<f64> = eps.iter().map(|e| e.ln()).collect();
        let ys: Vec<f64> = errs.iter().map(|e| e.ln()).collect();
        let (mx, my) = (xs.iter().sum::<f64>() / 3.0, ys.iter().sum::<f64>() / 3.0);
        let slope = xs
            .iter()
            .zip(&ys)
            .map(|(x, y)| (x - mx) * (y - my))
            .sum::<f64>()
            / xs.iter().map(|x| (x - mx).powi(2)).sum::<f64>();
        let want = (k + 2) as f64;
        assert!(
            (slope - want).abs() < 0.35,
            "{order:?}: errors {errs:?}, slope {slope}, want {want}"
        );
    }
}

#[test]
fn third_order_coefficient_is_two_thirds() {
    // (log Z − (−Γ₂(m*))) / Σ W³ r_v r_h → 2/3 as ε → 0 (docs/maths.md §2).
    let base = random_rbm::<f64>(7, 5, 1.0, 1.0, 24);
    let rbm = scale_weights(&base, 0.01);
    let log_z = exact::log_partition(&rbm, Layer::Smaller).unwrap();
    let fp = converge(&rbm, EmfOrder::Second, 1);
    let g2 = meanfield::gamma(&rbm, EmfOrder::Second, fp.m_v.view(), fp.m_h.view()).unwrap()[0];
    let r = |m: f64| (m - m * m) * (0.5 - m);
    let w = rbm.weights();
    let mut s3 = 0.0;
    for i in 0..7 {
        for j in 0..5 {
            s3 += w[[i, j]].powi(3) * r(fp.m_v[[0, i]]) * r(fp.m_h[[0, j]]);
        }
    }
    let ratio = (log_z + g2) / s3;
    assert!((ratio - 2.0 / 3.0).abs() < 0.05, "ratio {ratio}");
}

#[test]
fn gamma_stays_finite_at_large_weights() {
    for order in ORDERS {
        let rbm = random_rbm::<f64>(10, 8, 50.0, 5.0, 25);
        let fp = converge_loose(&rbm, order);
        let g = meanfield::gamma(&rbm, order, fp.m_v.view(), fp.m_h.view()).unwrap();
        assert!(g.iter().all(|x| x.is_finite()), "{order:?}: {g:?}");
        let rbm32 = rbm.cast::<f32>();
        let fp32 = meanfield::fixed_point(
            &rbm32,
            order,
            fp.m_v.mapv(|x| x as f32).view(),
            fp.m_h.mapv(|x| x as f32).view(),
            0.5,
            50,
            1e-6,
            Solver::Damped,
        )
        .unwrap();
        let g32 = meanfield::gamma(&rbm32, order, fp32.m_v.view(), fp32.m_h.view()).unwrap();
        assert!(g32.iter().all(|x| x.is_finite()), "{order:?} f32: {g32:?}");
    }
}

fn converge_loose(rbm: &Rbm<f64>, order: EmfOrder) -> FixedPoint<f64> {
    let mv = Array2::from_elem((4, rbm.n_visible()), 0.5);
    let mh = Array2::from_elem((4, rbm.n_hidden()), 0.5);
    meanfield::fixed_point(
        rbm,
        order,
        mv.view(),
        mh.view(),
        0.5,
        200,
        1e-9,
        Solver::Damped,
    )
    .unwrap()
}

#[test]
fn emf_gradient_at_the_fixed_point_approaches_the_exact_model_expectation() {
    // d log Z / dW = β⟨v hᵀ⟩ under the model, by enumeration; the EMF estimate at m* errs by
    // O(ε^k) (the derivative of an O(ε^{k+1}) error in log Z).
    let base = random_rbm::<f64>(6, 5, 1.0, 1.0, 26);
    let error = |order, eps: f64| {
        let rbm = scale_weights(&base, eps);
        let bf = common::BruteForce::new(&rbm);
        let log_z = bf.log_z();
        let mut exact = Array2::<f64>::zeros((6, 5));
        for (vi, v) in bf.vs.rows().into_iter().enumerate() {
            for (hi, h) in bf.hs.rows().into_iter().enumerate() {
                let p = (bf.neg_e[[vi, hi]] - log_z).exp();
                for i in 0..6 {
                    for j in 0..5 {
                        exact[[i, j]] += p * v[i] * h[j];
                    }
                }
            }
        }
        let fp = converge(&rbm, order, 1);
        let g = meanfield::log_z_gradient(&rbm, order, fp.m_v.view(), fp.m_h.view()).unwrap();
        (&g - &exact).iter().fold(0.0f64, |m, d| m.max(d.abs()))
    };
    for (k, order) in ORDERS.into_iter().enumerate() {
        let (e1, e2) = (error(order, 0.1), error(order, 0.05));
        let slope = (e1 / e2).log2();
        let want = (k + 1) as f64;
        assert!(
            (slope - want).abs() < 0.4,
            "{order:?}: errors {e1:e} {e2:e}, slope {slope}"
        );
    }
    assert!(error(EmfOrder::Third, 0.1) < error(EmfOrder::Second, 0.1));
    assert!(error(EmfOrder::Second, 0.1) < error(EmfOrder::First, 0.1));
}

/// The negative phase's solvers on a small model with exact log Z (docs/maths.md §3.2): at a
/// stated tolerance every solver stops with the residual max |σ(field) − m| at most that
/// tolerance, its point lies within a few tolerances of the exact stationary point m*
/// (where ∂Γ₂/∂m = 0 to 10⁻⁹), −Γ₂ there is within the tolerance of −Γ₂(m*), and the
/// accelerated and adaptive solvers reach the same fixed point as damped iteration. −Γ₂(m*)
/// itself lies within 0.05 of the exact log Z at these weak couplings.
#[test]
fn every_solver_reaches_the_damped_fixed_point_within_its_tolerance() {
    let rbm = random_rbm::<f64>(10, 7, 0.5, 0.5, 31);
    let order = EmfOrder::Second;
    let star = converge(&rbm, order, 4);
    let g_star = meanfield::gamma(&rbm, order, star.m_v.view(), star.m_h.view()).unwrap();
    // m* is stationary: central differences of Γ₂ in every magnetisation of row 0.
    let h = 1e-6;
    for k in 0..17 {
        let (mut p, mut m) = (
            (star.m_v.clone(), star.m_h.clone()),
            (star.m_v.clone(), star.m_h.clone()),
        );
        if k < 10 {
            p.0[[0, k]] += h;
            m.0[[0, k]] -= h;
        } else {
            p.1[[0, k - 10]] += h;
            m.1[[0, k - 10]] -= h;
        }
        let d = (gamma1(&rbm, order, p.0.view(), p.1.view())
            - gamma1(&rbm, order, m.0.view(), m.1.view()))
            / (2.0 * h);
        assert!(d.abs() < 1e-7, "dΓ/dm[{k}] = {d} at m*");
    }
    let exact_log_z = exact::log_partition(&rbm, Layer::Hidden).unwrap();
    assert!(
        (-g_star[0] - exact_log_z).abs() < 0.05,
        "−Γ₂(m*) {} vs exact log Z {exact_log_z}",
        -g_star[0]
    );
    // The same starts as `converge`.
    let mv = Array2::from_shape_fn((4, 10), |(r, i)| {
        0.2 + 0.6 * (((r * 7 + i * 3) % 10) as f64 / 10.0)
    });
    let mh = Array2::from_shape_fn((4, 7), |(r, j)| {
        0.3 + 0.4 * (((r * 5 + j) % 10) as f64 / 10.0)
    });
    for solver in [
        Solver::Damped,
        Solver::Adaptive,
        Solver::Anderson { depth: 1 },
        Solver::Anderson { depth: 4 },
    ] {
        let mut sweeps = Vec::new();
        for tol in [1e-3, 1e-6, 1e-10] {
            let fp =
                meanfield::fixed_point(&rbm, order, mv.view(), mh.view(), 0.5, 10_000, tol, solver)
                    .unwrap();
            assert!(
                fp.converged && fp.residual <= tol,
                "{solver} {tol}: {}",
                fp.residual
            );
            let dist = (&fp.m_v - &star.m_v)
                .iter()
                .chain((&fp.m_h - &star.m_h).iter())
                .fold(0.0f64, |a, d| a.max(d.abs()));
            assert!(dist < 10.0 * tol, "{solver} {tol}: max |m − m*| = {dist}");
            let g = meanfield::gamma(&rbm, order, fp.m_v.view(), fp.m_h.view()).unwrap();
            for (a, b) in g.iter().zip(&g_star) {
                assert!((a - b).abs() <= tol, "{solver} {tol}: Γ₂ {a} vs {b}");
            }
            sweeps.push(fp.iterations);
        }
        println!("{solver}: sweeps to 1e-3, 1e-6, 1e-10: {sweeps:?}");
    }
    // Undamped rows (adaptive) converge in fewer sweeps than damping 0.5 here.
    let count = |solver| {
        meanfield::fixed_point(
            &rbm,
            order,
            mv.view(),
            mh.view(),
            0.5,
            10_000,
            1e-10,
            solver,
        )
        .unwrap()
        .iterations
    };
    assert!(count(Solver::Adaptive) < count(Solver::Damped));
}
