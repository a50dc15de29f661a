//! Files: the model file round trip and exact resume, data loaders, preprocessing, the bundled
//! sample and the MNIST download.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use ndarray::{array, Array2};
use onsager::data::{self, Dataset, Preprocess, Split, Values};
use onsager::io::model::{self, ModelFile};
use onsager::{EmfOrder, EpochMetrics, Error, Method, Persistence, TrainParams, Trainer};

fn sample(n: usize) -> Array2<f32> {
    Dataset::bundled_mnist(Split::Train)
        .head(n)
        .prepare(Preprocess::Auto)
        .unwrap()
}

#[test]
fn checkpoint_save_load_resume_is_bit_identical_for_every_method() {
    let data = sample(300);
    let dir = tempfile::tempdir().unwrap();
    for method in [
        Method::Cd { k: 1 },
        Method::Pcd { k: 2, chains: 30 },
        Method::emf(EmfOrder::Third),
        Method::Emf {
            order: EmfOrder::Second,
            iterations: 2,
            damping: 0.5,
            persistence: Persistence::PersistentFrom { epoch: 2 },
            tolerance: 0.0,
            solver: onsager::Solver::Anderson { depth: 2 },
            reseed: onsager::Reseed {
                merged: true,
                fraction: 0.2,
            },
            weighting: onsager::Weighting::FreeEnergy,
        },
    ] {
        let params = TrainParams::builder()
            .n_hidden(20)
            .method(method)
            .batch_size(50)
            .epochs(4)
            .momentum(0.5)
            .build()
            .unwrap();
        let whole = params.fit(data.view()).unwrap();

        let mut t = Trainer::new(params.clone(), 784).unwrap();
        t.fit(data.view(), &mut common::StopAtEpoch(2)).unwrap();
        let path = dir.path().join("ckpt.safetensors");
        let mut file = ModelFile::new(t.model().clone());
        file.params = Some(params.clone().into_config());
        file.epochs_completed = t.epochs_completed();
        file.state = Some(t.state());
        file.history = vec![EpochMetrics {
            epoch: 1,
            learning_rate: 0.005,
            pseudo_likelihood: Some(-90.5),
            ..Default::default()
        }];
        file.image_shape = Some((28, 28));
        file.extra.insert("note".into(), "kept".into());
        model::save(&path, &file).unwrap();

        let back: ModelFile<f32> = model::load(&path).unwrap();
        assert_eq!(back, file, "{method:?}: round trip");
        let params_back = back.params.unwrap().build().unwrap();
        let mut resumed = Trainer::resume(params_back, back.rbm, back.state.unwrap()).unwrap();
        resumed.fit(data.view(), &mut ()).unwrap();
        assert!(
            *resumed.model() == whole,
            "{method:?}: resumed run differs from the uninterrupted one"
        );
    }
}

#[test]
fn model_files_convert_precision_and_refuse_damaged_or_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    let rbm = common::random_rbm::<f64>(6, 4, 1.0, 1.0, 80)
        .with_beta(0.5)
        .unwrap();
    let path = dir.path().join("m.safetensors");
    model::save(&path, &ModelFile::new(rbm.clone())).unwrap();
    assert_eq!(model::file_dtype(&path).unwrap(), "float64");
    let as32: ModelFile<f32> = model::load(&path).unwrap();
    assert_eq!(as32.rbm, rbm.cast::<f32>());
    assert_eq!(model::load::<f64>(&path).unwrap().rbm, rbm);

    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    let e = model::load::<f32>(&cut).unwrap_err().to_string();
    assert!(
        e.contains("cut.safetensors") && e.contains("safetensors"),
        "{e}"
    );

    let foreign = dir.path().join("foreign.safetensors");
    let t = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![1], &[0, 0, 0, 0])
        .unwrap();
    std::fs::write(
        &foreign,
        safetensors::serialize(vec![("x", t)], None).unwrap(),
    )
    .unwrap();
    assert!(model::load::<f32>(&foreign)
        .unwrap_err()
        .to_string()
        .contains("not an onsager model file"));

    let junk = dir.path().join("junk.safetensors");
    std::fs::write(&junk, b"hello world, not a model").unwrap();
    assert!(matches!(
        model::load::<f32>(&junk),
        Err(Error::Format { .. })
    ));
    assert!(matches!(
        model::load::<f32>(dir.path().join("missing")),
        Err(Error::Io { .. })
    ));

    // An unwritable destination is an error and leaves nothing behind.
    let e = model::save(
        dir.path().join("no/such/dir/m.safetensors"),
        &ModelFile::new(rbm),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Io { .. }));
}

#[test]
fn npy_and_csv_load_and_bad_values_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let u8s = array![[0u8, 255, 128], [7, 0, 1]];
    let p = dir.path().join("x.npy");
    onsager::io::npy::write(&p, u8s.view()).unwrap();
    let d = Dataset::load(&p).unwrap();
    assert_eq!(d.values, Values::U8(u8s.clone()));
    let x: Array2<f64> = d.prepare(Preprocess::Auto).unwrap();
    assert!((x[[0, 2]] - 128.0 / 255.0).abs() < 1e-12);
    let b: Array2<f64> = d.prepare(Preprocess::Binarize { threshold: 0.5 }).unwrap();
    assert_eq!(b, array![[0.0, 1.0, 1.0], [0.0, 0.0, 0.0]]);
    match d.prepare::<f32>(Preprocess::None) {
        Err(Error::OutOfRange { row: 0, col: 1, .. }) => {}
        other => panic!("{other:?}"),
    }
    let s1: Array2<f32> = d.prepare(Preprocess::Stochastic { seed: 1 }).unwrap();
    assert_eq!(
        s1,
        d.prepare::<f32>(Preprocess::Stochastic { seed: 1 })
            .unwrap()
    );
    assert_eq!((s1[[0, 0]], s1[[0, 1]]), (0.0, 1.0));

    let f = dir.path().join("f.npy");
    onsager::io::npy::write(&f, array![[0.5f32, f32::NAN]].view()).unwrap();
    assert!(matches!(
        Dataset::load(&f).unwrap().prepare::<f32>(Preprocess::Auto),
        Err(Error::NonFinite { row: 0, col: 1, .. })
    ));

    let csv = dir.path().join("d.csv");
    std::fs::write(&csv, "a,b,c\n0,0.5,1\n1,0.25,0\n").unwrap();
    let c = Dataset::load(&csv).unwrap();
    assert_eq!(
        c.values,
        Values::F64(array![[0.0, 0.5, 1.0], [1.0, 0.25, 0.0]])
    );
    std::fs::write(&csv, "0,0.5,1\n1,0.25\n").unwrap();
    let e = Dataset::load(&csv).unwrap_err().to_string();
    assert!(e.contains("d.csv") && e.contains("line 2"), "{e}");
    std::fs::write(&csv, "0,0.5,1\n1,x,0\n").unwrap();
    let e = Dataset::load(&csv).unwrap_err().to_string();
    assert!(e.contains("line 2, column 2") && e.contains("`x`"), "{e}");
    // A first line mixing numbers and text is a data row with a typo, not a header to drop.
    std::fs::write(&csv, "0,x,1\n1,0.25,0\n").unwrap();
    let e = Dataset::load(&csv).unwrap_err().to_string();
    assert!(e.contains("line 1, column 2") && e.contains("`x`"), "{e}");
    std::fs::write(&csv, "0,1.5\n").unwrap();
    assert!(matches!(
        Dataset::load(&csv)
            .unwrap()
            .prepare::<f32>(Preprocess::Auto),
        Err(Error::OutOfRange { row: 0, col: 1, .. })
    ));
    let bad_npy = dir.path().join("bad.npy");
    std::fs::write(&bad_npy, b"\x93NUMPY garbage").unwrap();
    assert!(Dataset::load(&bad_npy)
        .unwrap_err()
        .to_string()
        .contains("bad.npy"));
}

#[test]
fn bundled_sample_and_mnist_folder_agree() {
    let s = Dataset::bundled_mnist(Split::Train);
    assert_eq!(s.values.dim(), (5000, 784));
    assert_eq!(s.labels.as_ref().unwrap().len(), 5000);
    let t = Dataset::bundled_mnist(Split::Test);
    assert_eq!(t.values.dim(), (1000, 784));
    let Some(dir) = common::shared_mnist() else {
        return common::skip_without_mnist(
            "bundled_sample_and_mnist_folder_agree (the folder half)",
        );
    };
    let full = Dataset::mnist(&dir, Split::Train).unwrap().head(5000);
    assert_eq!(full.labels, s.labels);
    let binarised: Array2<f32> = full
        .prepare(Preprocess::Binarize {
            threshold: 127.5 / 255.0,
        })
        .unwrap();
    assert_eq!(binarised, s.prepare::<f32>(Preprocess::Auto).unwrap());
    // Loading an IDX image file picks up its labels beside it.
    let d = Dataset::load(dir.join("t10k-images-idx3-ubyte.gz")).unwrap();
    assert_eq!(
        (d.values.dim(), d.labels.unwrap().len(), d.image_shape),
        ((10_000, 784), 10_000, Some((28, 28)))
    );
}

/// A minimal HTTP/1.1 file server on loopback for `requests` requests; `corrupt` flips a byte.
fn serve(dir: std::path::PathBuf, requests: usize, corrupt: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            reader.read_line(&mut line).unwrap();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap() <= 2 {
                    break;
                }
            }
            let name = line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_string();
            match std::fs::read(dir.join(&name)) {
                Ok(mut body) => {
                    if corrupt {
                        let k = body.len() / 2;
                        body[k] ^= 1;
                    }
                    write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .unwrap();
                    stream.write_all(&body).unwrap();
                }
                Err(_) => write!(
                    stream,
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                .unwrap(),
            }
        }
    });
    format!("http://{addr}/")
}

#[test]
fn mnist_download_verifies_checksums_and_caches() {
    // The download is checked against MNIST's published digests: it needs the real files.
    let Some(dir) = common::shared_mnist() else {
        return common::skip_without_mnist("mnist_download_verifies_checksums_and_caches");
    };
    let cache = tempfile::tempdir().unwrap();
    let url = serve(dir.clone(), 4, false);
    let dir = data::download_mnist(&url, cache.path()).unwrap();
    for (name, sha) in data::MNIST_FILES {
        data::verify_mnist_file(&dir.join(name), sha).unwrap();
    }
    assert_eq!(
        Dataset::mnist(&dir, Split::Test).unwrap().values.dim(),
        (10_000, 784)
    );
    // Second call: everything cached, no request made (the server would refuse a fifth).
    data::download_mnist("http://127.0.0.1:9/", cache.path()).unwrap();

    // A corrupted transfer fails its checksum and writes nothing.
    let other = tempfile::tempdir().unwrap();
    let url = serve(dir, 1, true);
    let e = data::download_mnist(&url, other.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("checksum") || e.contains("gzip"), "{e}");
    assert_eq!(std::fs::read_dir(other.path()).unwrap().count(), 0);
}

/// The model file's bytes with its metadata edited by `edit` (tensors unchanged).
fn with_metadata(
    bytes: &[u8],
    edit: impl FnOnce(&mut std::collections::HashMap<String, String>),
) -> Vec<u8> {
    use safetensors::tensor::{SafeTensors, TensorView};
    let (_, header) = SafeTensors::read_metadata(bytes).unwrap();
    let mut meta = header.metadata().clone().unwrap();
    edit(&mut meta);
    let st = SafeTensors::deserialize(bytes).unwrap();
    let views: Vec<(String, TensorView<'_>)> = st
        .tensors()
        .into_iter()
        .map(|(name, t)| {
            let view = TensorView::new(t.dtype(), t.shape().to_vec(), t.data()).unwrap();
            (name, view)
        })
        .collect();
    safetensors::serialize(views, Some(meta)).unwrap()
}

#[test]
fn the_visible_unit_type_is_recorded_and_older_files_load_as_bernoulli() {
    let rbm = onsager::Rbm::<f32>::random(6, 3, 0.1, 1).unwrap();
    let bytes = model::to_bytes_file(&ModelFile::new(rbm.clone())).unwrap();
    let path = std::path::Path::new("m.safetensors");
    let back = model::from_bytes::<f32>(path, &bytes).unwrap();
    assert_eq!(back.rbm.visible_units(), onsager::Visible::Bernoulli);
    assert_eq!(back.rbm, rbm);
    let old = with_metadata(&bytes, |m| {
        assert_eq!(m.remove("visible_units").as_deref(), Some("bernoulli"));
    });
    assert_eq!(model::from_bytes::<f32>(path, &old).unwrap().rbm, rbm);
    let future = with_metadata(&bytes, |m| {
        m.insert("visible_units".into(), "poisson".into());
    });
    let err = model::from_bytes::<f32>(path, &future)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("m.safetensors") && err.contains("unknown visible unit type `poisson`"),
        "{err}"
    );
    // A real-valued type needs its σ: a binary file relabelled Gaussian is refused.
    let relabelled = with_metadata(&bytes, |m| {
        m.insert("visible_units".into(), "gaussian".into());
    });
    let err = model::from_bytes::<f32>(path, &relabelled)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("m.safetensors") && err.contains("missing tensor `visible_sigma`"),
        "{err}"
    );
}

/// Metadata that does not parse, or contradicts the tensors, is refused with the entry named,
/// never read as a default: the format version, the epochs, β, the hidden units the
/// parameters claim, the image shape, the dtype, the checkpoint's epoch, and magnetisations
/// outside [0, 1] (each edit made to a good checkpoint that loads).
#[test]
fn tampered_metadata_is_refused_naming_the_entry() {
    let data = sample(100);
    let params = TrainParams::builder()
        .n_hidden(4)
        .method(Method::emf(EmfOrder::Second))
        .batch_size(50)
        .epochs(1)
        .build()
        .unwrap();
    let mut t = Trainer::new(params.clone(), 784).unwrap();
    t.fit(data.view(), &mut ()).unwrap();
    let mut file = ModelFile::new(t.model().clone());
    file.params = Some(params.into_config());
    file.epochs_completed = t.epochs_completed();
    file.state = Some(t.state());
    file.image_shape = Some((28, 28));
    let bytes = model::to_bytes_file(&file).unwrap();
    let path = std::path::Path::new("m.safetensors");
    assert_eq!(model::from_bytes::<f32>(path, &bytes).unwrap(), file);
    let cases: [(&str, &str, &str); 9] = [
        (
            "format_version",
            "abc",
            "`format_version` = `abc` is not a whole number",
        ),
        ("format_version", "7", "format version 7 is not supported"),
        (
            "epochs_completed",
            "-1",
            "`epochs_completed` = `-1` is not a whole number",
        ),
        (
            "epochs_completed",
            "3",
            "state is at epoch 1 but `epochs_completed` = 3",
        ),
        ("beta", "one", "`beta` = `one` is not a number"),
        ("beta", "0", "beta"),
        (
            "image_shape",
            "[4, 4]",
            "`image_shape` = 4×4 does not hold the 784",
        ),
        (
            "dtype",
            "float64",
            "`dtype` = `float64` but the tensors are float32",
        ),
        ("visible_units", "poisson", "unknown visible unit type"),
    ];
    for (key, value, want) in cases {
        let edited = with_metadata(&bytes, |m| {
            m.insert(key.into(), value.into());
        });
        let e = model::from_bytes::<f32>(path, &edited)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("m.safetensors") && e.contains(want),
            "{key}={value}: {e}"
        );
    }
    let edited = with_metadata(&bytes, |m| {
        let p = m["params"].replace("\"n_hidden\":4", "\"n_hidden\":8");
        assert_ne!(p, m["params"]);
        m.insert("params".into(), p);
    });
    let e = model::from_bytes::<f32>(path, &edited)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("n_hidden = 8") && e.contains("4 hidden units"),
        "{e}"
    );

    // A magnetisation of 7.0 in the persistent EMF state.
    use safetensors::tensor::{SafeTensors, TensorView};
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let seven = 7.0f32.to_le_bytes();
    let mut m_v = st.tensor("state.emf.m_v").unwrap().data().to_vec();
    m_v[..4].copy_from_slice(&seven);
    let views: Vec<(String, TensorView<'_>)> = st
        .tensors()
        .into_iter()
        .map(|(name, t)| {
            let data = if name == "state.emf.m_v" {
                &m_v[..]
            } else {
                t.data()
            };
            (
                name,
                TensorView::new(t.dtype(), t.shape().to_vec(), data).unwrap(),
            )
        })
        .collect();
    let tampered = safetensors::serialize(views, header.metadata().clone()).unwrap();
    let e = model::from_bytes::<f32>(path, &tampered)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("tensor `state.emf.m_v`: value 7")
            && e.contains("row 1, column 1 (counting from 1) is outside [0, 1]"),
        "{e}"
    );
}

/// A standardised model's file keeps the training map in f64 whatever the model's precision,
/// so held-out data takes the training means and samples map back to raw units; a file whose
/// stored deviations are not positive is refused.
#[test]
fn a_stored_standardisation_round_trips_in_both_precisions() {
    let raw = Dataset {
        values: Values::U8(array![[0, 10, 7], [255, 30, 7], [51, 20, 7]]),
        labels: None,
        image_shape: None,
    };
    let (_, map) = raw
        .prepare_for::<f32>(Preprocess::Standardize, onsager::Visible::Gaussian)
        .unwrap();
    let stored = map.columns.unwrap();
    // The constant column keeps s = 1 (it becomes zeros).
    assert_eq!(stored.std()[2], 1.0);
    let rbm = onsager::Rbm::<f32>::random(3, 2, 0.1, 1)
        .unwrap()
        .with_visible(onsager::Visible::Gaussian, ndarray::Array1::ones(3))
        .unwrap();
    let mut file = ModelFile::new(rbm);
    file.input = Some(stored.clone());
    let bytes = model::to_bytes_file(&file).unwrap();
    let path = std::path::Path::new("z.safetensors");
    let f32_back = model::from_bytes::<f32>(path, &bytes).unwrap();
    let f64_back = model::from_bytes::<f64>(path, &bytes).unwrap();
    assert_eq!(f32_back.input.as_ref(), Some(&stored));
    assert_eq!(f64_back.input.as_ref(), Some(&stored));
    // The mean of column 1 is 20 exactly: no rounding through f32.
    assert_eq!(stored.mean()[1], 20.0);
    let z = array![[0.5f64, -1.0, 0.0]];
    let x = stored.inverse(z.view()).unwrap();
    let again = stored.forward(x.view()).unwrap();
    assert!((&again - &z).iter().all(|e| e.abs() < 1e-12), "{again}");
    // Files without one (every older file) load with none.
    let plain = model::to_bytes_file(&ModelFile::new(file.rbm.clone())).unwrap();
    assert!(model::from_bytes::<f32>(path, &plain)
        .unwrap()
        .input
        .is_none());
    // A damaged map is refused naming the file.
    use safetensors::tensor::{SafeTensors, TensorView};
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let zeros = [0u8; 24];
    let views: Vec<(String, TensorView<'_>)> = st
        .tensors()
        .into_iter()
        .map(|(name, t)| {
            let data = if name == "input.std" {
                &zeros[..]
            } else {
                t.data()
            };
            (
                name,
                TensorView::new(t.dtype(), t.shape().to_vec(), data).unwrap(),
            )
        })
        .collect();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let damaged = safetensors::serialize(views, header.metadata().clone()).unwrap();
    let err = model::from_bytes::<f32>(path, &damaged)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("z.safetensors") && err.contains("standard deviation"),
        "{err}"
    );
}
