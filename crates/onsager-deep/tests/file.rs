//! The network file: a stack and a network round-trip in either precision, and damaged or
//! foreign files are refused naming the file and the problem.

use ndarray::Array2;
use onsager::{Method, TrainParams, Visible};
use onsager_deep::file::{self, DeepFile};
use onsager_deep::{Activation, Init, Mlp, Stack};

fn stack() -> Stack<f32> {
    let mut r = onsager::rng::stream(1, onsager::rng::Domain::Other, 0);
    let x = Array2::from_shape_fn((60, 12), |_| onsager::rng::uniform::<f32>(&mut r));
    let layer = |hidden, visible| {
        TrainParams::builder()
            .n_hidden(hidden)
            .visible(visible)
            .method(Method::cd(1))
            .epochs(2)
            .batch_size(10)
            .build()
            .unwrap()
    };
    Stack::pretrain(
        x.view(),
        &[
            layer(6, Visible::TRUNCATED_UNIT),
            layer(4, Visible::Bernoulli),
        ],
        &mut (),
    )
    .unwrap()
}

#[test]
fn stacks_and_networks_round_trip_in_both_precisions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    let s = stack();
    let mlp = s.to_mlp(3, Init::Glorot, 2).unwrap();
    let f = DeepFile {
        stack: Some(s.clone()),
        mlp: Some(mlp.clone()),
        extra: [("note".to_string(), "x".to_string())].into(),
        resume: None,
    };
    file::save(&path, &f).unwrap();
    assert_eq!(file::load::<f32>(&path).unwrap(), f);
    let wide = file::load::<f64>(&path).unwrap();
    assert_eq!(
        wide.mlp.unwrap().layers()[0].weights[[3, 2]],
        mlp.layers()[0].weights[[3, 2]] as f64
    );
    assert_eq!(
        wide.stack.unwrap().rbms[0].visible_units(),
        Visible::TRUNCATED_UNIT
    );
    // A network alone, no stack.
    let plain = DeepFile {
        stack: None,
        mlp: Some(Mlp::<f64>::random(&[5, 3, 2], Activation::Relu, Init::Glorot, 0).unwrap()),
        extra: Default::default(),
        resume: None,
    };
    file::save(&path, &plain).unwrap();
    assert_eq!(file::load::<f64>(&path).unwrap(), plain);
    // Nothing but the file is left in the folder (written through a temporary name).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn damaged_and_foreign_files_are_refused_naming_the_file() {
    use safetensors::tensor::{SafeTensors, TensorView};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    let s = stack();
    let f = DeepFile {
        stack: Some(s.clone()),
        mlp: Some(s.to_mlp(3, Init::Glorot, 2).unwrap()),
        extra: Default::default(),
        resume: None,
    };
    file::save(&path, &f).unwrap();
    let good = std::fs::read(&path).unwrap();
    let rewrite = |drop: &str, edit: &dyn Fn(&mut std::collections::HashMap<String, String>)| {
        let st = SafeTensors::deserialize(&good).unwrap();
        let (_, header) = SafeTensors::read_metadata(&good).unwrap();
        let mut meta = header.metadata().clone().unwrap();
        edit(&mut meta);
        let views: Vec<(String, TensorView<'_>)> = st
            .tensors()
            .into_iter()
            .filter(|(n, _)| n != drop)
            .map(|(n, t)| {
                (
                    n,
                    TensorView::new(t.dtype(), t.shape().to_vec(), t.data()).unwrap(),
                )
            })
            .collect();
        let p = dir.path().join("bad.safetensors");
        std::fs::write(&p, safetensors::serialize(views, Some(meta)).unwrap()).unwrap();
        file::load::<f32>(&p).unwrap_err().to_string()
    };
    let e = rewrite("mlp.1.bias", &|_| {});
    assert!(
        e.contains("bad.safetensors") && e.contains("missing tensor `mlp.1.bias`"),
        "{e}"
    );
    let e = rewrite("", &|m| {
        m.insert("mlp_activation".into(), "softsign".into());
    });
    assert!(e.contains("mlp_activation"), "{e}");
    let e = rewrite("", &|m| {
        m.insert("stack_layers".into(), "two".into());
    });
    assert!(e.contains("not a whole number"), "{e}");
    let e = rewrite("", &|m| {
        m.insert("resume.sgd".into(), "{\"epochs\": 2}".into());
    });
    assert!(e.contains("metadata `resume.sgd` is not valid"), "{e}");
    let e = rewrite("", &|m| {
        m.insert("format".into(), "onsager-rbm".into());
    });
    assert!(e.contains("not an onsager network file"), "{e}");
    // An RBM model file is not a network file.
    let rbm = dir.path().join("rbm.safetensors");
    onsager::io::model::save(&rbm, &onsager::io::model::ModelFile::new(s.rbms[0].clone())).unwrap();
    assert!(file::load::<f32>(&rbm).is_err());
    assert!(file::load::<f32>(dir.path().join("absent.safetensors"))
        .unwrap_err()
        .to_string()
        .contains("absent.safetensors"));
}
