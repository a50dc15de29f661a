//! Supervised training (docs/maths.md §10): SGD learns a separable problem, keeps the best
//! validation epoch, clips, stops a diverging run with the last good model, gives the same bits
//! for any thread count, and refuses bad settings and labels.

use std::ops::ControlFlow;

use ndarray::Array2;
use onsager::rng::{self, Domain};
use onsager_deep::{error_rate, fit, Activation, Error, Init, Labelled, Mlp, Sgd};

/// Three Gaussian blobs in 10 dimensions (centres ±1.5 apart, spread 0.6).
fn blobs(n: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
    let mut r = rng::stream(seed, Domain::Other, 0);
    let y: Vec<usize> = (0..n).map(|i| i % 3).collect();
    let x = Array2::from_shape_fn((n, 10), |(i, j)| {
        let centre = if j % 3 == y[i] { 1.5 } else { 0.0 };
        let u: f64 = (0..12).map(|_| rng::uniform::<f64>(&mut r)).sum::<f64>() - 6.0;
        (centre + 0.6 * u) as f32
    });
    (x, y)
}

fn net(act: Activation) -> Mlp<f32> {
    Mlp::random(&[10, 16, 3], act, Init::Glorot, 1).unwrap()
}

#[test]
fn sgd_learns_separable_blobs_and_keeps_the_best_epoch() {
    let (x, y) = blobs(600, 1);
    let (vx, vy) = blobs(300, 2);
    for act in [
        Activation::Logistic,
        Activation::ScaledTanh,
        Activation::Relu,
    ] {
        let mut m = net(act);
        let before = error_rate(
            &m,
            Labelled {
                x: vx.view(),
                y: &vy,
            },
        )
        .unwrap();
        let sgd = Sgd {
            epochs: 8,
            batch_size: 20,
            learning_rate: 0.1,
            decay: 0.9,
            ..Sgd::default()
        };
        let fitted = fit(
            &mut m,
            Labelled { x: x.view(), y: &y },
            Some(Labelled {
                x: vx.view(),
                y: &vy,
            }),
            None,
            &sgd,
            &mut |_, _| ControlFlow::Continue(()),
        )
        .unwrap();
        let after = error_rate(
            &m,
            Labelled {
                x: vx.view(),
                y: &vy,
            },
        )
        .unwrap();
        assert!(before > 0.3 && after < 0.05, "{act}: {before} → {after}");
        // The network holds the best epoch: its error is the history's lowest.
        let best = fitted
            .history
            .iter()
            .map(|r| r.validation_error.unwrap())
            .fold(f64::INFINITY, f64::min);
        assert_eq!(after, best, "{act}");
        assert_eq!(
            fitted.history[fitted.best_epoch - 1].validation_error,
            Some(best)
        );
        // Rates decay by 0.9 per epoch.
        assert!((fitted.history[2].learning_rate - 0.1 * 0.81).abs() < 1e-15);
    }
}

#[test]
fn a_clipped_step_moves_the_weights_at_most_rate_times_clip() {
    let (x, y) = blobs(20, 3);
    let mut m = net(Activation::Relu);
    let start = m.clone();
    let sgd = Sgd {
        epochs: 1,
        batch_size: 20,
        learning_rate: 1.0,
        momentum: 0.0,
        clip: Some(1e-3),
        ..Sgd::default()
    };
    fit(
        &mut m,
        Labelled { x: x.view(), y: &y },
        None,
        None,
        &sgd,
        &mut |_, _| ControlFlow::Continue(()),
    )
    .unwrap();
    let moved: f64 = m
        .layers()
        .iter()
        .zip(start.layers())
        .map(|(a, b)| {
            (&a.weights - &b.weights)
                .iter()
                .map(|d| (*d as f64).powi(2))
                .sum::<f64>()
                + (&a.bias - &b.bias)
                    .iter()
                    .map(|d| (*d as f64).powi(2))
                    .sum::<f64>()
        })
        .sum::<f64>()
        .sqrt();
    assert!(moved > 0.0 && moved <= 1e-3 * (1.0 + 1e-5), "moved {moved}");
}

#[test]
fn a_diverging_run_stops_with_the_last_good_model() {
    let (x, y) = blobs(200, 4);
    let mut m = net(Activation::Relu);
    let sgd = Sgd {
        epochs: 50,
        batch_size: 10,
        learning_rate: 1e4,
        momentum: 0.9,
        ..Sgd::default()
    };
    let e = fit(
        &mut m,
        Labelled { x: x.view(), y: &y },
        None,
        None,
        &sgd,
        &mut |_, _| ControlFlow::Continue(()),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Diverged { .. }), "{e}");
    assert!(e.to_string().contains("lower the learning rate"));
    assert!(m
        .layers()
        .iter()
        .all(|l| l.weights.iter().chain(&l.bias).all(|v| v.is_finite())));
}

/// A run that saturates at a huge but finite loss (scaled tanh, rate 10³, random labels) is
/// stopped by the ceiling `loss_limit · ln K` with the loss that broke it; without the ceiling
/// it runs on to the end at that loss; a ceiling below the first mini-batch's loss stops it there, with the
/// network as it started.
#[test]
fn the_loss_ceiling_stops_a_saturated_run() {
    // Labels at random: no network fits them, and at this rate the logits blow up.
    let (x, _) = blobs(200, 4);
    let mut r = rng::stream(9, Domain::Other, 0);
    let y: Vec<usize> = (0..200)
        .map(|_| (rng::uniform::<f64>(&mut r) * 3.0) as usize % 3)
        .collect();
    let go = |m: &mut Mlp<f32>, learning_rate, loss_limit| {
        let sgd = Sgd {
            epochs: 5,
            batch_size: 10,
            learning_rate,
            loss_limit,
            ..Sgd::default()
        };
        fit(
            m,
            Labelled { x: x.view(), y: &y },
            None,
            None,
            &sgd,
            &mut |_, _| ControlFlow::Continue(()),
        )
    };
    let ceiling = 50.0 * 3f64.ln();
    let mut free = net(Activation::ScaledTanh);
    let fitted = go(&mut free, 1e3, None).unwrap();
    let last = fitted.history.last().unwrap().train_loss;
    assert!(last.is_finite() && last > ceiling, "loss {last}");
    let mut guarded = net(Activation::ScaledTanh);
    match go(&mut guarded, 1e3, Some(50.0)) {
        Err(Error::Diverged { loss, .. }) => assert!(loss.is_finite() && loss > ceiling, "{loss}"),
        other => panic!("{other:?}"),
    }
    let start = net(Activation::ScaledTanh);
    let mut m = net(Activation::ScaledTanh);
    match go(&mut m, 0.1, Some(0.01)) {
        Err(Error::Diverged {
            epoch: 1,
            batch: 0,
            loss,
        }) => assert!(loss > 0.01 * 3f64.ln(), "{loss}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(m.layers(), start.layers());
}

#[test]
fn training_has_the_same_bits_for_any_thread_count() {
    let (x, y) = blobs(300, 5);
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let mut m =
                    Mlp::<f32>::random(&[10, 512, 256, 3], Activation::ScaledTanh, Init::Glorot, 2)
                        .unwrap();
                // Products large enough to be split into blocks (100 × 512 × 256).
                let sgd = Sgd {
                    epochs: 2,
                    batch_size: 100,
                    ..Sgd::default()
                };
                fit(
                    &mut m,
                    Labelled { x: x.view(), y: &y },
                    None,
                    None,
                    &sgd,
                    &mut |_, _| ControlFlow::Continue(()),
                )
                .unwrap();
                m
            })
    };
    assert_eq!(run(1), run(4));
}

#[test]
fn bad_settings_and_labels_are_refused() {
    let (x, y) = blobs(30, 6);
    let go = |sgd: Sgd, y: &[usize]| {
        let mut m = net(Activation::Relu);
        fit(
            &mut m,
            Labelled { x: x.view(), y },
            None,
            None,
            &sgd,
            &mut |_, _| ControlFlow::Continue(()),
        )
    };
    for (name, sgd) in [
        (
            "batch_size",
            Sgd {
                batch_size: 0,
                ..Sgd::default()
            },
        ),
        (
            "learning_rate",
            Sgd {
                learning_rate: -1.0,
                ..Sgd::default()
            },
        ),
        (
            "decay",
            Sgd {
                decay: 1.5,
                ..Sgd::default()
            },
        ),
        (
            "momentum",
            Sgd {
                momentum: 1.0,
                ..Sgd::default()
            },
        ),
        (
            "clip",
            Sgd {
                clip: Some(0.0),
                ..Sgd::default()
            },
        ),
        (
            "loss_limit",
            Sgd {
                loss_limit: Some(0.0),
                ..Sgd::default()
            },
        ),
    ] {
        match go(sgd, &y) {
            Err(Error::InvalidParam { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    let mut bad = y.clone();
    bad[7] = 3;
    assert!(matches!(
        go(Sgd::default(), &bad),
        Err(Error::Label {
            row: 7,
            label: 3,
            classes: 3
        })
    ));
    assert!(matches!(
        go(Sgd::default(), &y[..29]),
        Err(Error::Shape { .. })
    ));
}

/// A run stopped after two epochs, written to a network file, read back and continued by
/// `fit_from` ends with the same bits as one run of four epochs: network, velocity, best epoch
/// and history (wall times apart), with validation rows and distortions redrawn per epoch.
#[test]
fn a_stopped_run_continued_from_its_file_equals_one_run() {
    use onsager_deep::file::{self, DeepFile, Resume};
    use onsager_deep::{fit_from, Distorter, Distortion, FitState};
    // Blobs in 16 dimensions, read as 4 × 4 images for the distortions.
    let (x, y) = blobs(240, 7);
    let (vx, vy) = blobs(90, 8);
    let pad = |a: &Array2<f32>| {
        let mut p = Array2::<f32>::zeros((a.nrows(), 16));
        p.slice_mut(ndarray::s![.., ..10]).assign(a);
        p
    };
    let (x, vx) = (pad(&x), pad(&vx));
    let distorter = Distorter::new(Distortion::CIRESAN, (4, 4)).unwrap();
    let sgd = Sgd {
        epochs: 4,
        batch_size: 16,
        learning_rate: 0.05,
        decay: 0.8,
        clip: Some(5.0),
        seed: 3,
        ..Sgd::default()
    };
    let start = Mlp::<f32>::random(&[16, 12, 3], Activation::ScaledTanh, Init::Glorot, 4).unwrap();
    let run = |mlp: &mut Mlp<f32>, state: &mut FitState<f32>, stop_after: usize| {
        fit_from(
            mlp,
            Labelled { x: x.view(), y: &y },
            Some(Labelled {
                x: vx.view(),
                y: &vy,
            }),
            Some(&distorter),
            &sgd,
            state,
            &mut |_, s| {
                if s.epochs_done() == stop_after {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
        .unwrap()
    };
    let mut whole = start.clone();
    let mut whole_state = FitState::new(&whole);
    assert!(!run(&mut whole, &mut whole_state, 0));
    let mut part = start.clone();
    let mut part_state = FitState::new(&part);
    assert!(run(&mut part, &mut part_state, 2));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.safetensors");
    file::save(
        &path,
        &DeepFile {
            stack: None,
            mlp: Some(part_state.kept(&part)),
            extra: Default::default(),
            resume: Some(Resume {
                sgd: sgd.clone(),
                current: part.clone(),
                state: part_state.clone(),
            }),
        },
    )
    .unwrap();
    let loaded = file::load::<f32>(&path).unwrap();
    let resume = loaded.resume.expect("the file keeps the run");
    assert_eq!(resume.state, part_state);
    assert_eq!(resume.current, part);
    assert_eq!(resume.sgd, sgd);
    let (mut part, mut part_state) = (resume.current, resume.state);
    assert!(!run(&mut part, &mut part_state, 0));
    assert_eq!(part, whole);
    let no_seconds = |s: &FitState<f32>| {
        let mut s = s.clone();
        s.history.iter_mut().for_each(|r| r.seconds = 0.0);
        s
    };
    assert_eq!(no_seconds(&part_state), no_seconds(&whole_state));
    assert_eq!(whole_state.history.len(), 4);
    // The run learned, and the kept network is the best validated epoch's.
    let best = whole_state.best.as_ref().unwrap();
    assert!(best.validation_error < 0.2, "{:?}", whole_state.history);
    let kept = whole_state.kept(&whole);
    let e = error_rate(
        &kept,
        Labelled {
            x: vx.view(),
            y: &vy,
        },
    )
    .unwrap();
    assert_eq!(e, best.validation_error);
    // A state of another network is refused.
    let mut other =
        Mlp::<f32>::random(&[16, 5, 3], Activation::ScaledTanh, Init::Glorot, 4).unwrap();
    let e = fit_from(
        &mut other,
        Labelled { x: x.view(), y: &y },
        None,
        None,
        &sgd,
        &mut part_state,
        &mut |_, _| ControlFlow::Continue(()),
    )
    .unwrap_err();
    assert!(e.to_string().contains("velocity"), "{e}");
}

/// Settings stored before the loss ceiling existed (a checkpoint's `resume.sgd`) read back
/// with the default ceiling; `None` (no ceiling) round-trips as JSON `null`.
#[test]
fn stored_settings_without_a_loss_limit_get_the_default() {
    let old = r#"{"epochs":4,"batch_size":10,"learning_rate":0.1,"decay":1.0,
        "min_learning_rate":0.0,"momentum":0.9,"clip":null,"seed":3}"#;
    let sgd: Sgd = serde_json::from_str(old).unwrap();
    assert_eq!(sgd.loss_limit, Some(50.0));
    assert_eq!(sgd.epochs, 4);
    let off = Sgd {
        loss_limit: None,
        ..Sgd::default()
    };
    let text = serde_json::to_string(&off).unwrap();
    assert!(text.contains("\"loss_limit\":null"), "{text}");
    assert_eq!(serde_json::from_str::<Sgd>(&text).unwrap(), off);
}
