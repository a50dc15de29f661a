//! RBM stacks (docs/maths.md §10): a stack's network reproduces the RBMs' P(h|v) layer by
//! layer, and pretraining a 2-layer stack on the bundled MNIST sample, then fine-tuning, beats
//! the same network from a random start after the same epochs on the bundled test digits.

use std::ops::ControlFlow;

use ndarray::{Array1, Array2};
use onsager::data::{Dataset, Preprocess, Split};
use onsager::{EmfOrder, EpochReport, Method, Monitor, Rbm, TrainParams};
use onsager_deep::{error_rate, fit, Activation, Init, Labelled, Mlp, PretrainMonitor, Sgd, Stack};

fn digits(split: Split) -> (Array2<f32>, Vec<usize>) {
    let d = Dataset::bundled_mnist(split);
    let x = d.prepare(Preprocess::Auto).unwrap();
    let y = d.labels.unwrap().iter().map(|&l| l as usize).collect();
    (x, y)
}

fn layer(hidden: usize, method: Method) -> TrainParams {
    TrainParams::builder()
        .n_hidden(hidden)
        .method(method)
        .learning_rate(0.05)
        .epochs(5)
        .batch_size(50)
        .seed(3)
        .build()
        .unwrap()
}

/// Records what pretraining reports, and stops it in layer `stop_in` after its first epoch.
#[derive(Default)]
struct Record {
    seen: Vec<String>,
    stop_in: Option<usize>,
}

impl Monitor<f32> for Record {
    fn on_epoch(&mut self, r: &EpochReport, _: &Rbm<f32>) -> ControlFlow<()> {
        self.seen.push(format!("epoch {}/{}", r.epoch, r.epochs));
        let layer = self.seen.iter().filter(|s| s.starts_with("layer")).count() - 1;
        if self.stop_in == Some(layer) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

impl PretrainMonitor<f32> for Record {
    fn on_layer(&mut self, layer: usize, layers: usize, params: &TrainParams) {
        self.seen
            .push(format!("layer {layer}/{layers} {}", params.n_hidden));
    }
}

#[test]
fn a_stack_initialises_the_network_with_its_conditionals() {
    let (x, _) = digits(Split::Train);
    let x = x.slice(ndarray::s![..500, ..]).to_owned();
    let mut record = Record::default();
    let layers = [
        layer(30, Method::cd(1)),
        layer(20, Method::emf(EmfOrder::Second)),
    ];
    let stack = Stack::pretrain(x.view(), &layers, &mut record).unwrap();
    let epochs = |layer: &str| {
        std::iter::once(layer.to_string()).chain((1..=5).map(|e| format!("epoch {e}/5")))
    };
    let expected: Vec<String> = epochs("layer 0/2 30")
        .chain(epochs("layer 1/2 20"))
        .collect();
    assert_eq!(record.seen, expected);
    // Each layer is the model its settings train on the layer below's P(h|v).
    assert_eq!(stack.rbms[0], layers[0].fit(x.view()).unwrap());
    let net = stack.to_mlp(10, Init::Glorot, 0).unwrap();
    assert_eq!(net.layers().len(), 3);
    // The first two layers are the RBMs' σ(vW + b): the stack's P(h|v) chain.
    let h1 = stack.rbms[0].hidden_probs(x.view()).unwrap();
    let h2 = stack.rbms[1].hidden_probs(h1.view()).unwrap();
    let trunk = Mlp::from_layers(
        vec![
            net.layers()[0].clone(),
            net.layers()[1].clone(),
            onsager_deep::Layer {
                weights: Array2::eye(20),
                bias: Array1::zeros(20),
            },
        ],
        Activation::Logistic,
    )
    .unwrap();
    // With an identity head, softmax(h2) is what the trunk returns.
    let p = trunk.predict_proba(x.view()).unwrap();
    for r in 0..5 {
        let total: f32 = h2.row(r).iter().map(|v| v.exp()).sum();
        for j in 0..20 {
            assert!((p[[r, j]] - h2[[r, j]].exp() / total).abs() < 1e-5);
        }
    }
}

#[test]
fn a_monitor_that_stops_a_layer_stops_the_pretraining() {
    let (x, _) = digits(Split::Train);
    let x = x.slice(ndarray::s![..200, ..]).to_owned();
    let layers = [layer(12, Method::cd(1)), layer(8, Method::cd(1))];
    let mut record = Record {
        stop_in: Some(1),
        ..Record::default()
    };
    let e = Stack::pretrain(x.view(), &layers, &mut record).unwrap_err();
    assert!(
        matches!(
            e,
            onsager_deep::Error::Rbm(onsager::Error::Cancelled {
                what: "pretraining"
            })
        ),
        "{e}"
    );
    // The first layer ran its five epochs, the second stopped after its first.
    assert_eq!(record.seen.len(), 1 + 5 + 1 + 1, "{:?}", record.seen);
}

#[test]
fn pretraining_beats_a_random_start_after_the_same_epochs() {
    let (x, y) = digits(Split::Train);
    let (tx, ty) = digits(Split::Test);
    let stack = Stack::pretrain(
        x.view(),
        &[layer(200, Method::cd(1)), layer(100, Method::cd(1))],
        &mut (),
    )
    .unwrap();
    let sgd = Sgd {
        epochs: 3,
        batch_size: 50,
        learning_rate: 0.1,
        momentum: 0.5,
        ..Sgd::default()
    };
    let tune = |mut net: Mlp<f32>| {
        fit(
            &mut net,
            Labelled { x: x.view(), y: &y },
            None,
            None,
            &sgd,
            &mut |_, _| ControlFlow::Continue(()),
        )
        .unwrap();
        error_rate(
            &net,
            Labelled {
                x: tx.view(),
                y: &ty,
            },
        )
        .unwrap()
    };
    let pretrained = tune(stack.to_mlp(10, Init::Glorot, 1).unwrap());
    let random =
        tune(Mlp::random(&[784, 200, 100, 10], Activation::Logistic, Init::Glorot, 1).unwrap());
    eprintln!("test error: pretrained {pretrained:.4}, random start {random:.4}");
    assert!(
        pretrained + 0.05 < random,
        "pretrained {pretrained} vs random {random}"
    );
}
