//! The supervised network (docs/maths.md §10): back-propagation equals finite differences of
//! the cross-entropy for every activation, the softmax and loss have their closed forms, the
//! gradient has the same bits for any thread count, and bad input is refused by name.

use ndarray::{Array1, Array2};
use onsager::rng::{self, Domain};
use onsager_deep::{Activation, Error, Init, Layer, Mlp, Workspace};

fn batch(n: usize, d: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
    let mut r = rng::stream(seed, Domain::Other, 0);
    let x = Array2::from_shape_fn((n, d), |_| 2.0 * rng::uniform::<f64>(&mut r) - 1.0);
    let y = (0..n).map(|i| (i * 7 + 1) % 3).collect();
    (x, y)
}

#[test]
fn backprop_equals_finite_differences_for_every_activation() {
    let (x, y) = batch(6, 5, 1);
    for act in [
        Activation::Logistic,
        Activation::ScaledTanh,
        Activation::Relu,
    ] {
        let mut net =
            Mlp::<f64>::random(&[5, 4, 4, 3], act, Init::Uniform { limit: 0.8 }, 3).unwrap();
        // Biases away from 0 so the ReLU units sit off their kink.
        for (l, layer) in net.layers_mut().iter_mut().enumerate() {
            layer
                .bias
                .iter_mut()
                .enumerate()
                .for_each(|(j, b)| *b = 0.1 * (j as f64 + 1.0) - 0.05 * l as f64);
        }
        let mut ws = Workspace::new(&net, 6);
        let mut grad = net.zeros_like();
        let loss = net.backprop(x.view(), &y, &mut ws, &mut grad).unwrap();
        assert!((loss - net.loss(x.view(), &y).unwrap()).abs() < 1e-15);
        let h = 1e-6;
        let mut worst: f64 = 0.0;
        for l in 0..net.layers().len() {
            let (rows, cols) = net.layers()[l].weights.dim();
            for (i, j) in (0..rows).flat_map(|i| (0..cols).map(move |j| (i, j))) {
                let at = |delta: f64| {
                    let mut m = net.clone();
                    m.layers_mut()[l].weights[[i, j]] += delta;
                    m.loss(x.view(), &y).unwrap()
                };
                let fd = (at(h) - at(-h)) / (2.0 * h);
                worst = worst.max((fd - grad[l].weights[[i, j]]).abs());
            }
            for j in 0..cols {
                let at = |delta: f64| {
                    let mut m = net.clone();
                    m.layers_mut()[l].bias[j] += delta;
                    m.loss(x.view(), &y).unwrap()
                };
                let fd = (at(h) - at(-h)) / (2.0 * h);
                worst = worst.max((fd - grad[l].bias[j]).abs());
            }
        }
        assert!(worst < 1e-8, "{act}: largest gradient error {worst}");
    }
}

#[test]
fn softmax_and_loss_have_their_closed_forms() {
    // Zero weights: every class equally likely, loss ln 3.
    let zero = Mlp::<f64>::from_layers(
        vec![Layer {
            weights: Array2::zeros((4, 3)),
            bias: Array1::zeros(3),
        }],
        Activation::Logistic,
    )
    .unwrap();
    let (x, y) = batch(5, 4, 2);
    assert!((zero.loss(x.view(), &y).unwrap() - 3f64.ln()).abs() < 1e-15);
    // Biases only: p = softmax(b) for every row, and a logit of 1000 does not overflow.
    let biased = Mlp::<f64>::from_layers(
        vec![Layer {
            weights: Array2::zeros((4, 3)),
            bias: ndarray::array![1000.0, 999.0, 0.0],
        }],
        Activation::Relu,
    )
    .unwrap();
    let p = biased.predict_proba(x.view()).unwrap();
    let e = 1.0 / (1.0 + (-1.0f64).exp());
    assert!((p[[0, 0]] - e).abs() < 1e-15 && p[[3, 2]] < 1e-300);
    let loss = biased.loss(x.view(), &[2, 2, 2, 2, 2]).unwrap();
    assert!(
        (loss - (1000.0 + (1.0 + (-1.0f64).exp()).ln())).abs() < 1e-9,
        "{loss}"
    );
}

#[test]
fn gradients_have_the_same_bits_for_any_thread_count() {
    let (x, y) = batch(200, 64, 3);
    let net =
        Mlp::<f32>::random(&[64, 300, 200, 3], Activation::ScaledTanh, Init::Glorot, 4).unwrap();
    let x = x.mapv(|v| v as f32);
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let mut ws = Workspace::new(&net, 200);
                let mut grad = net.zeros_like();
                let loss = net.backprop(x.view(), &y, &mut ws, &mut grad).unwrap();
                (loss, grad)
            })
    };
    let (l1, g1) = run(1);
    let (l4, g4) = run(4);
    assert_eq!(l1.to_bits(), l4.to_bits());
    assert_eq!(g1, g4);
}

#[test]
fn bad_input_is_refused_by_name() {
    let net = Mlp::<f64>::random(&[4, 3, 2], Activation::Logistic, Init::Glorot, 0).unwrap();
    let (x, _) = batch(3, 4, 4);
    let mut ws = Workspace::new(&net, 3);
    let mut grad = net.zeros_like();
    match net.backprop(x.view(), &[0, 5, 1], &mut ws, &mut grad) {
        Err(Error::Label {
            row: 1,
            label: 5,
            classes: 2,
        }) => {}
        other => panic!("{other:?}"),
    }
    let e = net.loss(x.view(), &[0, 1]).unwrap_err().to_string();
    assert!(e.contains("labels") && e.contains("one per row"), "{e}");
    let (wide, _) = batch(3, 5, 4);
    assert!(net
        .loss(wide.view(), &[0, 1, 0])
        .unwrap_err()
        .to_string()
        .contains("4 columns"));
    let (many, _) = batch(4, 4, 4);
    assert!(net
        .backprop(many.view(), &[0, 1, 0, 1], &mut ws, &mut grad)
        .is_err());
    for sizes in [&[4][..], &[4, 0, 2], &[4, 3, 1]] {
        assert!(
            Mlp::<f64>::random(sizes, Activation::Relu, Init::Glorot, 0).is_err(),
            "{sizes:?}"
        );
    }
    assert!(
        Mlp::<f64>::random(&[4, 2], Activation::Relu, Init::Uniform { limit: -1.0 }, 0).is_err()
    );
    assert_eq!("Glorot".parse::<Init>().unwrap(), Init::Glorot);
    assert_eq!(
        "0.05".parse::<Init>().unwrap(),
        Init::Uniform { limit: 0.05 }
    );
    for bad in ["-1", "0", "wide", "inf"] {
        assert!(bad.parse::<Init>().is_err(), "{bad}");
    }
    let mismatched = vec![
        Layer {
            weights: Array2::<f64>::zeros((4, 3)),
            bias: Array1::zeros(3),
        },
        Layer {
            weights: Array2::zeros((2, 2)),
            bias: Array1::zeros(2),
        },
    ];
    let e = Mlp::from_layers(mismatched, Activation::Relu)
        .unwrap_err()
        .to_string();
    assert!(e.contains("layer 1"), "{e}");
}
