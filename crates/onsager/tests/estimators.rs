//! The estimators against exact values (docs/maths.md §6.2, §6.4, §6.5).

mod common;

use common::{random_rbm, scale_weights, BruteForce};
use ndarray::{s, Array2};
use onsager::estimate::ais::{Ais, AisSchedule, BaseModel};
use onsager::estimate::emf::EmfEstimator;
use onsager::estimate::exact::{self, Layer};
use onsager::estimate::pseudo;
use onsager::{EmfOrder, Error, Estimator, Method, Rbm, TrainParams};

fn mnist_binary(n: usize) -> Array2<f32> {
    // The first n ≤ 5000 images: the same from the shared files or the bundled sample.
    common::train_images()
        .slice(s![..n, ..])
        .mapv(|p| (p >= 128) as u8 as f32)
}

/// A 784 × 16 RBM trained briefly on MNIST with CD-1 (exact log Z enumerates 2^16 states).
fn mnist_model(nh: usize) -> (Rbm<f32>, Array2<f32>) {
    let data = mnist_binary(2000);
    let p = TrainParams::builder()
        .n_hidden(nh)
        .method(Method::Cd { k: 1 })
        .learning_rate(0.05)
        .batch_size(50)
        .epochs(5)
        .seed(1)
        .build()
        .unwrap();
    (p.fit(data.view()).unwrap(), data)
}

fn ais(runs: usize, temperatures: usize, seed: u64) -> Ais {
    Ais {
        runs,
        schedule: AisSchedule::Piecewise { temperatures },
        seed,
    }
}

#[test]
fn ais_brackets_exact_log_z_on_random_models_at_several_weight_scales() {
    for (k, w_std) in [0.05, 0.2, 0.5, 1.0].into_iter().enumerate() {
        let rbm = random_rbm::<f64>(20, 12, w_std, 0.5, 40 + k as u64);
        let exact = exact::log_partition(&rbm, Layer::Smaller).unwrap();
        let est = ais(100, 2000, k as u64)
            .log_partition(&rbm, &BaseModel::uniform(20))
            .unwrap();
        assert!(
            est.log_z_lower <= exact && exact <= est.log_z_upper,
            "w_std {w_std}: exact {exact} outside [{}, {}] (estimate {})",
            est.log_z_lower,
            est.log_z_upper,
            est.log_z
        );
        assert!(
            est.log_z_upper - est.log_z_lower < 0.5,
            "w_std {w_std}: bounds too wide"
        );
    }
}

#[test]
fn ais_brackets_exact_log_z_of_models_trained_on_mnist() {
    let (rbm, data) = mnist_model(16);
    let exact = exact::log_partition(&rbm, Layer::Smaller).unwrap();
    let base = BaseModel::from_data(data.view(), 1.0).unwrap();
    let est = ais(100, 3000, 7).log_partition(&rbm, &base).unwrap();
    assert!(
        est.log_z_lower <= exact && exact <= est.log_z_upper,
        "exact {exact} outside [{}, {}]",
        est.log_z_lower,
        est.log_z_upper
    );
    // The test log-likelihood bounds contain the exact figure.
    let test = mnist_binary(2500).slice(s![2000.., ..]).to_owned();
    let (ll, lo, hi) = est.mean_log_likelihood(&rbm, test.view()).unwrap();
    let exact_ll = exact::mean_log_likelihood(&rbm, test.view()).unwrap();
    assert!(
        lo <= exact_ll && exact_ll <= hi,
        "{exact_ll} outside [{lo}, {hi}] (estimate {ll})"
    );
}

#[test]
fn ais_error_shrinks_with_more_temperatures_and_runs() {
    let (rbm, data) = mnist_model(12);
    let exact = exact::log_partition(&rbm, Layer::Smaller).unwrap();
    let base = BaseModel::from_data(data.view(), 1.0).unwrap();
    let mean_abs_err = |runs, temps| {
        (0..3)
            .map(|seed| {
                (ais(runs, temps, seed)
                    .log_partition(&rbm, &base)
                    .unwrap()
                    .log_z
                    - exact)
                    .abs()
            })
            .sum::<f64>()
            / 3.0
    };
    let (few, many) = (mean_abs_err(100, 20), mean_abs_err(100, 2000));
    assert!(
        many < few / 4.0,
        "error with 20 temperatures {few}, with 2000 {many}"
    );
    // Bound width falls like 1/√M.
    let width = |runs| {
        let e = ais(runs, 200, 1).log_partition(&rbm, &base).unwrap();
        e.log_z_upper - e.log_z
    };
    let (w50, w800) = (width(50), width(800));
    assert!(
        w800 < w50 / 2.0,
        "±3σ half-width: 50 runs {w50}, 800 runs {w800}"
    );
}

#[test]
fn ais_schedules_are_well_formed() {
    let b = AisSchedule::default().betas().unwrap();
    assert_eq!(b.len(), 14_501);
    assert_eq!((b[0], b[500], b[4500], b[14_500]), (0.0, 0.5, 0.9, 1.0));
    assert!(
        (b[1] - 0.001).abs() < 1e-15
            && (b[501] - 0.5001).abs() < 1e-12
            && (b[4501] - 0.90001).abs() < 1e-12
    );
    assert!(b.windows(2).all(|w| w[1] > w[0]));
    let scaled = AisSchedule::Piecewise { temperatures: 1450 }
        .betas()
        .unwrap();
    assert_eq!((scaled.len(), scaled[50], scaled[450]), (1451, 0.5, 0.9));
    assert_eq!(
        AisSchedule::Linear { temperatures: 4 }.betas().unwrap(),
        vec![0.0, 0.25, 0.5, 0.75, 1.0]
    );
    assert!(AisSchedule::Custom(vec![0.0, 0.6, 0.5, 1.0])
        .betas()
        .is_err());
    assert!(AisSchedule::Custom(vec![0.0, 0.5]).betas().is_err());
    assert!(AisSchedule::Piecewise { temperatures: 2 }.betas().is_err());
    let rbm = Rbm::<f32>::zeros(5, 3).unwrap();
    let zero_runs = Ais {
        runs: 0,
        ..Ais::default()
    };
    assert!(matches!(
        zero_runs.log_partition(&rbm, &BaseModel::uniform(5)),
        Err(Error::InvalidParam { name: "runs", .. })
    ));
    assert!(matches!(
        Ais::default().log_partition(&rbm, &BaseModel::uniform(4)),
        Err(Error::Shape { .. })
    ));
    // A model equal to its base is estimated exactly: every weight is 1.
    let est = ais(10, 30, 0)
        .log_partition(&rbm, &BaseModel::uniform(5))
        .unwrap();
    assert!((est.log_z - 8.0 * std::f64::consts::LN_2).abs() < 1e-6);
    assert!(est.log_weights.iter().all(|w| w.abs() < 1e-6));
}

#[test]
fn emf_log_z_error_falls_with_order_at_small_weights_and_stays_finite_at_large() {
    let base = random_rbm::<f64>(10, 7, 1.0, 1.0, 50);
    let small = scale_weights(&base, 0.02); // small enough for the asymptotic ordering
    let exact = exact::log_partition(&small, Layer::Smaller).unwrap();
    let errs: Vec<f64> = [EmfOrder::First, EmfOrder::Second, EmfOrder::Third]
        .into_iter()
        .map(|order| {
            let e = EmfEstimator {
                order,
                tol: 1e-13,
                ..Default::default()
            };
            let z = e.log_partition(&small, None).unwrap();
            assert!(z.converged);
            (z.log_z - exact).abs()
        })
        .collect();
    assert!(
        errs[1] < errs[0] / 5.0 && errs[2] < errs[1] / 2.0,
        "errors by order {errs:?}"
    );

    for w_std in [5.0, 20.0, 50.0] {
        let big = scale_weights(&base, w_std);
        let exact = exact::log_partition(&big, Layer::Smaller).unwrap();
        for order in [EmfOrder::First, EmfOrder::Second, EmfOrder::Third] {
            let e = EmfEstimator {
                order,
                max_iter: 300,
                ..Default::default()
            };
            let data = Array2::from_shape_fn((5, 10), |(i, j)| ((i + j) % 2) as f64);
            let z = e.log_partition(&big, Some(data.view())).unwrap();
            assert!(
                z.log_z.is_finite() && z.gammas.iter().all(|g| g.is_finite()),
                "{w_std} {order:?}"
            );
            if order == EmfOrder::First {
                // Naive mean field is a variational lower bound on log Z, and at a saturated
                // fixed point it is within the entropy of all units of it.
                let slack = 17.0 * std::f64::consts::LN_2;
                assert!(
                    z.log_z <= exact + 1e-9 && z.log_z >= exact - slack,
                    "{w_std}: {} vs {exact}",
                    z.log_z
                );
            }
            let z32 = e
                .log_partition(&big.cast::<f32>(), Some(data.mapv(|x| x as f32).view()))
                .unwrap();
            assert!(z32.log_z.is_finite(), "f32 {w_std} {order:?}");
            let (ll, _) = e
                .log_likelihood(&big.cast::<f32>(), data.mapv(|x| x as f32).view())
                .unwrap();
            assert!(ll.iter().all(|l| l.is_finite()));
        }
    }
}

#[test]
fn emf_log_likelihood_tracks_exact_on_a_trained_model() {
    let (rbm, data) = mnist_model(16);
    let test = data.slice(s![..300, ..]);
    let exact = exact::mean_log_likelihood(&rbm, test).unwrap();
    for order in [EmfOrder::Second, EmfOrder::Third] {
        let (ll, z) = EmfEstimator {
            order,
            ..Default::default()
        }
        .log_likelihood(&rbm, test)
        .unwrap();
        let mean = ll.mean().unwrap();
        assert!(z.converged, "{order:?}: residual {}", z.residual);
        assert!(
            (mean - exact).abs() < 2.0,
            "{order:?}: EMF {mean} vs exact {exact}"
        );
    }
}

#[test]
fn pseudo_likelihood_equals_brute_force_with_the_same_flips() {
    let rbm = random_rbm::<f64>(6, 4, 1.0, 0.5, 60);
    let bf = BruteForce::new(&rbm);
    let log_z = bf.log_z();
    let log_p = |state: usize| -bf.free_energy(state) - log_z;
    let data = bf.vs.slice(s![..40, ..]).to_owned();
    let flips: Vec<usize> = (0..40).map(|i| (i * 5 + 3) % 6).collect();
    let pl = pseudo::pseudo_log_likelihood_with(&rbm, data.view(), &flips).unwrap();
    for i in 0..40 {
        let flipped = i ^ (1 << flips[i]); // state index with bit flips[i] toggled
        let (p, q) = (log_p(i).exp(), log_p(flipped).exp());
        let want = 6.0 * (p / (p + q)).ln();
        assert!((pl[i] - want).abs() < 1e-10, "row {i}: {} vs {want}", pl[i]);
    }
    // The seeded version is reproducible and uses in-range flips.
    let a = pseudo::pseudo_log_likelihood(&rbm, data.view(), 3).unwrap();
    assert_eq!(
        a,
        pseudo::pseudo_log_likelihood(&rbm, data.view(), 3).unwrap()
    );
    assert_ne!(
        a,
        pseudo::pseudo_log_likelihood(&rbm, data.view(), 4).unwrap()
    );
    assert!(matches!(
        pseudo::pseudo_log_likelihood_with(&rbm, data.view(), &flips[..3]),
        Err(Error::Shape { .. })
    ));
    let mut out_of_range = flips.clone();
    out_of_range[0] = 6;
    assert!(matches!(
        pseudo::pseudo_log_likelihood_with(&rbm, data.view(), &out_of_range),
        Err(Error::InvalidParam { .. })
    ));
}

#[test]
fn reconstruction_error_matches_a_direct_computation() {
    let rbm = random_rbm::<f64>(5, 3, 1.0, 0.5, 61);
    let data = Array2::from_shape_fn((7, 5), |(i, j)| ((i * 3 + j) % 4 == 0) as u8 as f64);
    let (w, a, b) = (rbm.weights(), rbm.visible_bias(), rbm.hidden_bias());
    let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
    let mut total = 0.0;
    for v in data.rows() {
        let h: Vec<f64> = (0..3)
            .map(|j| sig(b[j] + (0..5).map(|i| v[i] * w[[i, j]]).sum::<f64>()))
            .collect();
        for i in 0..5 {
            let r = sig(a[i] + (0..3).map(|j| w[[i, j]] * h[j]).sum::<f64>());
            total += (v[i] - r).powi(2);
        }
    }
    let want = total / 35.0;
    assert!((pseudo::reconstruction_error(&rbm, data.view()).unwrap() - want).abs() < 1e-12);
}

#[test]
fn estimators_respect_the_inverse_temperature() {
    let rbm = random_rbm::<f64>(12, 8, 0.6, 0.5, 70)
        .with_beta(0.7)
        .unwrap();
    let exact = exact::log_partition(&rbm, Layer::Smaller).unwrap();
    let bf = BruteForce::new(&rbm).log_z();
    assert!((exact - bf).abs() < 1e-10);
    let est = ais(100, 2000, 5)
        .log_partition(&rbm, &BaseModel::uniform(12))
        .unwrap();
    assert!(
        est.log_z_lower <= exact && exact <= est.log_z_upper,
        "{exact} vs {est:?}"
    );
    let small = scale_weights(&rbm, 0.05);
    let z = EmfEstimator {
        order: EmfOrder::Third,
        tol: 1e-13,
        ..Default::default()
    }
    .log_partition(&small, None)
    .unwrap();
    assert!((z.log_z - exact::log_partition(&small, Layer::Smaller).unwrap()).abs() < 1e-5);
}

/// AIS and enumeration report their progress up to the total and stop, with
/// `Error::Cancelled`, when the progress callback (or a cancelled flag) says so; the figures
/// they return when not stopped are those of the plain calls.
#[test]
fn long_estimates_report_progress_and_stop_when_asked() {
    use onsager::CancelFlag;
    use std::ops::ControlFlow;
    let rbm = Rbm::<f64>::random(12, 14, 0.5, 2).unwrap();
    let mut seen = Vec::new();
    let z = exact::log_partition_with(&rbm, Layer::Smaller, &mut |d, t| {
        seen.push((d, t));
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(z, exact::log_partition(&rbm, Layer::Smaller).unwrap());
    // 2^12 states in blocks of 1024: 4 blocks, reported once (a round is 64 blocks).
    assert_eq!(seen, vec![(4, 4)]);
    let a = ais(10, 1000, 1);
    let mut steps = Vec::new();
    let est = a
        .log_partition_with(&rbm, &BaseModel::uniform(12), &mut |d, t| {
            steps.push((d, t));
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(est, a.log_partition(&rbm, &BaseModel::uniform(12)).unwrap());
    assert_eq!(steps.len(), 1000 / 64 + 1);
    assert_eq!(steps.last(), Some(&(1000, 1000)));
    assert!(steps.windows(2).all(|w| w[0].0 < w[1].0));
    let cancelled = CancelFlag::new();
    cancelled.cancel();
    let mut flag = cancelled.clone();
    assert!(matches!(
        a.log_partition_with(&rbm, &BaseModel::uniform(12), &mut flag),
        Err(Error::Cancelled { what: "AIS" })
    ));
    assert!(matches!(
        exact::log_partition_with(&rbm, Layer::Smaller, &mut flag),
        Err(Error::Cancelled { .. })
    ));
}

/// `Estimator::auto` weighs the cost of enumeration against that of the AIS run it would
/// otherwise do: with the default AIS on 784 visible units it enumerates 21 hidden units and
/// anneals 22; with a 100-temperature AIS it anneals even 16.
#[test]
fn auto_chooses_the_estimator_by_cost() {
    let default = Ais::default();
    let pick = |nh: usize, a: &Ais| {
        let rbm = Rbm::<f32>::zeros(784, nh).unwrap();
        matches!(Estimator::auto(&rbm, a.clone()), Estimator::Exact)
    };
    assert!(pick(21, &default) && !pick(22, &default));
    assert!(pick(10, &default));
    let short = ais(100, 100, 0);
    assert!(!pick(16, &short) && pick(12, &short));
    assert!(!pick(500, &default));
}
