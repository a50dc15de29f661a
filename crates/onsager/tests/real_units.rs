//! Gaussian and truncated-Gaussian visible units (docs/maths.md §1b) against brute force: the
//! hidden layer enumerated, each visible unit's integral by quadrature, every quantity computed
//! from the energy written out here, not from the library's code.

mod common;

use ndarray::{array, Array1, Array2};
use onsager::estimate::exact::{self, Layer};
use onsager::rng::{self, Domain};
use onsager::{Error, Float, Method, Rbm, Sigma, TrainParams, Visible};

/// A small model with varied weights, biases and σ, at inverse temperature `beta`.
fn model<T: Float>(visible: Visible, beta: f64) -> Rbm<T> {
    let w = array![
        [0.8, -0.5, 0.3, 0.1],
        [-0.4, 0.9, -0.2, 0.6],
        [0.2, 0.3, -0.7, -0.3]
    ];
    let rbm = Rbm::from_parts(
        w.mapv(T::of),
        array![0.3, 0.7, -0.2].mapv(T::of),
        array![0.1, -0.3, 0.2, 0.4].mapv(T::of),
    )
    .unwrap()
    .with_beta(T::of(beta))
    .unwrap();
    rbm.with_visible(visible, array![0.6, 0.35, 1.1].mapv(T::of))
        .unwrap()
}

/// −βE(v, h) written from Cho et al.'s energy: β(−Σ (v − a)²/(2σ²) + Σ vᵢWᵢⱼhⱼ/σᵢ² + bᵀh).
fn neg_energy<T: Float>(rbm: &Rbm<T>, v: &[f64], h: &[f64]) -> f64 {
    let (w, a, b) = (rbm.weights(), rbm.visible_bias(), rbm.hidden_bias());
    let s = rbm.sigma().unwrap();
    let mut e = 0.0;
    for i in 0..v.len() {
        let var = s[i].f64() * s[i].f64();
        e -= (v[i] - a[i].f64()).powi(2) / (2.0 * var);
        for j in 0..h.len() {
            e += v[i] * w[[i, j]].f64() * h[j] / var;
        }
    }
    e += h.iter().zip(b).map(|(h, b)| h * b.f64()).sum::<f64>();
    rbm.beta().f64() * e
}

/// The interval a unit's integral runs over: the truncated type's own, or the Gaussian's cut
/// 12 conditional standard deviations around the conditional mean (what lies beyond is below
/// e^{−72}).
fn interval<T: Float>(rbm: &Rbm<T>, i: usize, h: &[f64]) -> (f64, f64) {
    match rbm.visible_units() {
        Visible::TruncatedGaussian { low, high } => (low, high),
        _ => {
            let field: f64 = (0..h.len())
                .map(|j| rbm.weights()[[i, j]].f64() * h[j])
                .sum();
            let mu = rbm.visible_bias()[i].f64() + field;
            let s = rbm.sigma().unwrap()[i].f64() / rbm.beta().f64().sqrt();
            (mu - 12.0 * s, mu + 12.0 * s)
        }
    }
}

/// ∫ g(x) dx over [lo, hi] by composite Simpson on 20 001 points.
fn simpson(lo: f64, hi: f64, g: impl Fn(f64) -> f64) -> f64 {
    let n = 20_000;
    let step = (hi - lo) / n as f64;
    let total: f64 = (0..=n)
        .map(|k| {
            let w = match k {
                0 => 1.0,
                k if k == n => 1.0,
                k if k % 2 == 1 => 4.0,
                _ => 2.0,
            };
            w * g(lo + k as f64 * step)
        })
        .sum();
    total * step / 3.0
}

fn hidden_states(nh: usize) -> Vec<Vec<f64>> {
    (0..1usize << nh)
        .map(|s| (0..nh).map(|j| ((s >> j) & 1) as f64).collect())
        .collect()
}

/// log Z = log Σ_h Π_i ∫ exp(−βE) dvᵢ: given h the energy separates over the visible units, so
/// each unit's integral is a one-dimensional quadrature of the energy's own terms.
fn brute_log_z<T: Float>(rbm: &Rbm<T>) -> f64 {
    let nv = rbm.n_visible();
    let terms: Vec<f64> = hidden_states(rbm.n_hidden())
        .iter()
        .map(|h| {
            let hidden: f64 = rbm.beta().f64()
                * h.iter()
                    .zip(rbm.hidden_bias())
                    .map(|(h, b)| h * b.f64())
                    .sum::<f64>();
            let units: f64 = (0..nv)
                .map(|i| {
                    let (lo, hi) = interval(rbm, i, h);
                    // Unit i's own terms of −βE, the others held at 0 (their terms cancel in
                    // the product over units).
                    let one = |x: f64| {
                        let mut v = vec![0.0; nv];
                        v[i] = x;
                        let mut v0 = vec![0.0; nv];
                        v0[i] = 0.0;
                        neg_energy(rbm, &v, h) - neg_energy(rbm, &v0, h) + unit_offset(rbm, i)
                    };
                    simpson(lo, hi, |x| one(x).exp()).ln()
                })
                .sum();
            hidden + units
        })
        .collect();
    let max = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln()
}

/// Unit i's term of −βE at vᵢ = 0: −βaᵢ²/(2σᵢ²) (subtracted with the state v = 0 above).
fn unit_offset<T: Float>(rbm: &Rbm<T>, i: usize) -> f64 {
    let (a, s) = (rbm.visible_bias()[i].f64(), rbm.sigma().unwrap()[i].f64());
    -rbm.beta().f64() * a * a / (2.0 * s * s)
}

/// Visible rows inside every unit type's range.
fn rows<T: Float>() -> Array2<T> {
    array![[0.1, 0.9, 0.5], [0.7, 0.2, 0.0], [1.0, 0.45, 0.33]].mapv(T::of)
}

fn check<T: Float>(visible: Visible, beta: f64, tol: f64) {
    let rbm = model::<T>(visible, beta);
    let hs = hidden_states(rbm.n_hidden());
    let h_arr = Array2::from_shape_fn((hs.len(), rbm.n_hidden()), |(r, j)| T::of(hs[r][j]));
    // E[v | h]: the quadrature mean of each unit's conditional density ∝ exp(−βE(v, h)).
    let mean = rbm.visible_probs(h_arr.view()).unwrap();
    for (r, h) in hs.iter().enumerate() {
        for i in 0..rbm.n_visible() {
            let (lo, hi) = interval(&rbm, i, h);
            let dens = |x: f64| {
                let mut v = vec![0.0; rbm.n_visible()];
                v[i] = x;
                neg_energy(&rbm, &v, h).exp()
            };
            let z = simpson(lo, hi, dens);
            let m = simpson(lo, hi, |x| x * dens(x)) / z;
            let got = mean[[r, i]].f64();
            assert!(
                (got - m).abs() < tol,
                "{visible} E[v{i} | h{r}] {got} vs {m}"
            );
        }
    }
    let v = rows::<T>();
    let vf: Vec<Vec<f64>> = v
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|x| x.f64()).collect())
        .collect();
    // P(h_j = 1 | v) and F_c(v) by enumerating h.
    let ph = rbm.hidden_probs(v.view()).unwrap();
    let fc = rbm.free_energy(v.view()).unwrap();
    for (r, vr) in vf.iter().enumerate() {
        let weights: Vec<f64> = hs.iter().map(|h| neg_energy(&rbm, vr, h).exp()).collect();
        let total: f64 = weights.iter().sum();
        for j in 0..rbm.n_hidden() {
            let on: f64 = hs
                .iter()
                .zip(&weights)
                .filter(|(h, _)| h[j] == 1.0)
                .map(|(_, w)| w)
                .sum();
            let got = ph[[r, j]].f64();
            assert!((got - on / total).abs() < tol, "{visible} P(h{j} | v{r})");
        }
        let want = -total.ln();
        assert!(
            (fc[r] - want).abs() < tol * (1.0 + want.abs()),
            "{visible} F_c(v{r}) {} vs {want}",
            fc[r]
        );
    }
    // log Z and log p(v), exact against quadrature.
    let log_z = exact::log_partition(&rbm, Layer::Smaller).unwrap();
    let want = brute_log_z(&rbm);
    assert!(
        (log_z - want).abs() < 1e-7 * (1.0 + want.abs()),
        "{visible} log Z {log_z} vs {want}"
    );
    let ll = exact::log_likelihood(&rbm, v.view()).unwrap();
    for r in 0..v.nrows() {
        assert!(
            (ll[r] - (-fc[r] - want)).abs() < tol * (1.0 + want.abs()),
            "{visible} log p(v{r})"
        );
    }
    // Real-valued states cannot be enumerated.
    assert!(matches!(
        exact::log_partition(&rbm, Layer::Visible),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn gaussian_units_match_brute_force_in_f64_and_f32() {
    check::<f64>(Visible::Gaussian, 1.0, 1e-9);
    check::<f64>(Visible::Gaussian, 0.7, 1e-9);
    check::<f32>(Visible::Gaussian, 1.0, 2e-5);
}

#[test]
fn truncated_units_match_brute_force_in_f64_and_f32() {
    check::<f64>(Visible::TRUNCATED_UNIT, 1.0, 1e-8);
    check::<f64>(
        Visible::TruncatedGaussian {
            low: -0.5,
            high: 1.5,
        },
        1.3,
        1e-8,
    );
    check::<f32>(Visible::TRUNCATED_UNIT, 1.0, 2e-5);
}

/// For one visible unit the log-density integrates to 1 over the line or the interval.
#[test]
fn the_log_density_of_one_unit_integrates_to_one() {
    for visible in [Visible::Gaussian, Visible::TRUNCATED_UNIT] {
        let rbm = Rbm::<f64>::from_parts(
            array![[1.2, -0.8, 0.5]],
            array![0.4],
            array![0.2, -0.1, 0.3],
        )
        .unwrap()
        .with_visible(visible, array![0.3])
        .unwrap();
        let (lo, hi) = match visible {
            Visible::Gaussian => (-6.0, 7.0),
            _ => (0.0, 1.0),
        };
        let xs = Array1::linspace(lo, hi, 20_001);
        let ll = exact::log_likelihood(&rbm, xs.view().insert_axis(ndarray::Axis(1))).unwrap();
        let step = (hi - lo) / 20_000.0;
        let total: f64 = ll
            .iter()
            .enumerate()
            .map(|(k, l)| {
                let w = if k == 0 || k == 20_000 {
                    1.0
                } else if k % 2 == 1 {
                    4.0
                } else {
                    2.0
                };
                w * l.exp()
            })
            .sum::<f64>()
            * step
            / 3.0;
        assert!((total - 1.0).abs() < 1e-8, "{visible}: ∫ p = {total}");
    }
}

/// Draws of v | h have the conditional's mean and variance, and stay in the interval.
#[test]
fn visible_draws_have_the_conditional_moments() {
    for visible in [Visible::Gaussian, Visible::TRUNCATED_UNIT] {
        let rbm = model::<f64>(visible, 1.0);
        let n = 20_000;
        let h = Array2::from_shape_fn((n, 4), |(_, j)| (j % 2) as f64);
        let draws = rbm.sample_visible(h.view(), 5).unwrap();
        let mean = rbm.visible_probs(h.slice(ndarray::s![..1, ..])).unwrap();
        for i in 0..3 {
            let col = draws.column(i);
            let m = col.mean().unwrap();
            let var = col.var(0.0);
            let want = mean[[0, i]];
            if visible == Visible::Gaussian {
                let s2 = rbm.sigma().unwrap()[i].powi(2);
                assert!(
                    (m - want).abs() < 5.0 * (s2 / n as f64).sqrt(),
                    "{visible} mean of v{i}"
                );
                assert!(
                    (var / s2 - 1.0).abs() < 5.0 * (2.0 / n as f64).sqrt(),
                    "{visible} var of v{i}"
                );
            } else {
                assert!(col.iter().all(|x| (0.0..=1.0).contains(x)));
                assert!(
                    (m - want).abs() < 5.0 * (var / n as f64).sqrt(),
                    "{visible} mean of v{i}"
                );
            }
        }
        // The same seed gives the same draws.
        assert_eq!(draws, rbm.sample_visible(h.view(), 5).unwrap());
    }
}

/// Data outside the truncated interval, or not finite for Gaussian units, is refused by name.
#[test]
fn data_outside_the_units_range_is_refused() {
    let tg = model::<f64>(Visible::TRUNCATED_UNIT, 1.0);
    let bad = array![[0.5, 1.2, 0.0]];
    match tg.free_energy(bad.view()) {
        Err(e @ Error::OutOfRange { row: 0, col: 1, .. }) => {
            assert!(e.to_string().contains("outside [0, 1]"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    let g = model::<f64>(Visible::Gaussian, 1.0);
    assert!(g.free_energy(array![[-40.0, 3.0, 7.5]].view()).is_ok());
    assert!(matches!(
        g.hidden_probs(array![[0.0, f64::NAN, 0.0]].view()),
        Err(Error::NonFinite { row: 0, col: 1, .. })
    ));
    assert!(Rbm::<f64>::zeros(3, 2)
        .unwrap()
        .with_visible(Visible::Gaussian, array![1.0, 0.0, 1.0])
        .is_err());
    // AIS of real-valued units anneals at β = 1 (docs/maths.md §5.1): another β is refused
    // by name.
    let ais = onsager::estimate::ais::Ais::default();
    let hot = model::<f64>(Visible::Gaussian, 0.5);
    assert!(matches!(
        ais.log_partition(&hot, &onsager::estimate::ais::BaseModel::uniform(3)),
        Err(Error::Unsupported { .. })
    ));
    // `auto` enumerates a real-valued model whenever it can, even where a (tiny) AIS run would
    // cost less (exact is exact); a binary model of that size goes to the cheaper AIS.
    let cheap = onsager::estimate::ais::Ais {
        runs: 2,
        schedule: onsager::estimate::ais::AisSchedule::Linear { temperatures: 3 },
        seed: 0,
    };
    let wide = Rbm::<f64>::zeros(30, 24).unwrap();
    let real = wide
        .clone()
        .with_visible(Visible::Gaussian, Array1::ones(30))
        .unwrap();
    assert!(matches!(
        onsager::Estimator::auto(&real, cheap.clone()),
        onsager::Estimator::Exact
    ));
    assert!(matches!(
        onsager::Estimator::auto(&wide, cheap),
        onsager::Estimator::Ais { .. }
    ));
}

/// Independent Gaussian columns N(μᵢ, sᵢ²): PCD with σ learned moves σ from 1 to the columns'
/// standard deviations and a to their means (the maximum-likelihood model has W ≈ 0), and the
/// exact log-density rises to within a little of the true one.
#[test]
fn pcd_with_learned_sigma_recovers_independent_gaussians() {
    let (mu, sd) = ([0.5, -1.0, 2.0], [0.4, 1.5, 0.8]);
    let mut r = rng::stream(11, Domain::Other, 0);
    let n = 2000;
    let data = Array2::from_shape_fn((n, 3), |(_, i)| {
        let z: f64 = rand_distr::Distribution::sample(&rand_distr::StandardNormal, &mut r);
        mu[i] + sd[i] * z
    });
    let params = TrainParams::builder()
        .n_hidden(2)
        .visible(Visible::Gaussian)
        .sigma(Sigma::Learned {
            init: 1.0,
            floor: 0.01,
        })
        .method(Method::pcd(1, 100))
        .learning_rate(0.02)
        .momentum(0.0)
        .epochs(40)
        .seed(3)
        .build()
        .unwrap();
    let rbm = params.fit(data.view()).unwrap();
    let sigma = rbm.sigma().unwrap();
    for i in 0..3 {
        assert!(
            (sigma[i] - sd[i]).abs() < 0.1 * sd[i],
            "σ{i} = {} vs {}",
            sigma[i],
            sd[i]
        );
    }
    let ll = exact::mean_log_likelihood(&rbm, data.view()).unwrap();
    // The true density's mean log-density: −Σ log(√(2πe)·sᵢ).
    let truth: f64 = -sd
        .iter()
        .map(|s| (s * (2.0 * std::f64::consts::PI * std::f64::consts::E).sqrt()).ln())
        .sum::<f64>();
    assert!((ll - truth).abs() < 0.05, "log-density {ll} vs {truth}");
}

/// CD-1 on grey-level bars in [0, 1] with truncated units raises the exact log-density well
/// above the starting model's, and every unit type's model file round-trips.
#[test]
fn truncated_cd_learns_and_real_models_round_trip_through_files() {
    let mut r = rng::stream(4, Domain::Other, 0);
    let n = 600;
    let data = Array2::from_shape_fn((n, 8), |(row, i)| {
        let on = (row % 2 == 0) == (i < 4);
        let base = if on { 0.8 } else { 0.15 };
        (base + 0.1 * (rng::uniform::<f64>(&mut r) - 0.5)).clamp(0.0, 1.0)
    });
    let params = TrainParams::builder()
        .n_hidden(3)
        .visible(Visible::TRUNCATED_UNIT)
        .sigma(Sigma::Fixed { value: 0.2 })
        .method(Method::Cd { k: 1 })
        .learning_rate(0.01)
        .batch_size(20)
        .epochs(0)
        .build()
        .unwrap();
    let start = params.fit(data.view()).unwrap();
    let trained = params
        .clone()
        .into_config()
        .epochs(30)
        .build()
        .unwrap()
        .fit(data.view())
        .unwrap();
    let before = exact::mean_log_likelihood(&start, data.view()).unwrap();
    let after = exact::mean_log_likelihood(&trained, data.view()).unwrap();
    assert!(after > before + 2.0, "log-density {before} → {after}");
    let dir = tempfile::tempdir().unwrap();
    for rbm in [
        trained.clone(),
        model::<f32>(Visible::Gaussian, 1.0).cast(),
        model(
            Visible::TruncatedGaussian {
                low: -1.0,
                high: 2.0,
            },
            0.5,
        ),
    ] {
        let path = dir.path().join("m.safetensors");
        onsager::io::model::save(&path, &onsager::io::model::ModelFile::new(rbm.clone())).unwrap();
        let back = onsager::io::model::load::<f64>(&path).unwrap();
        assert_eq!(back.rbm, rbm);
    }
}

/// A learned σ driven to overflow by a far too large learning rate ends the run with
/// `Error::Diverged` naming σ, never a hang or a crash in the truncated-normal draws (an
/// MNIST run at lr 0.01 once overflowed the stack there).
#[test]
fn a_diverging_learned_sigma_is_reported_not_a_crash() {
    let mut r = rng::stream(9, Domain::Other, 0);
    let data = Array2::from_shape_fn((200, 16), |(row, i)| {
        let on = (row % 2 == 0) == (i < 8);
        if on && rng::uniform::<f64>(&mut r) < 0.9 {
            1.0
        } else {
            0.0
        }
    });
    for method in [Method::Pcd { k: 1, chains: 20 }, Method::Cd { k: 1 }] {
        let fit = TrainParams::builder()
            .n_hidden(8)
            .visible(Visible::TRUNCATED_UNIT)
            .sigma(Sigma::Learned {
                init: 0.3,
                floor: 0.01,
            })
            .method(method)
            .learning_rate(1e3)
            .batch_size(20)
            .epochs(20)
            .build()
            .unwrap()
            .fit::<f32>(data.view());
        assert!(
            matches!(fit, Err(onsager::Error::Diverged { .. })),
            "{method:?}: {:?}",
            fit.map(|m| m.sigma().unwrap().to_owned())
        );
    }
}
