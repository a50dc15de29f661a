//! `onsager experiment mnist --quick`: the whole pipeline on a subset of the shared MNIST
//! files writes every output, well formed, and the trained models beat the untrained one.
//! Runs where the MNIST files are found beside the checkout (`../shared/data/mnist`, as on
//! CI); elsewhere it says it skipped.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// The PNG signature and the IHDR width and height.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

/// The rows the test runs: the samplers, the reference algorithm's persistent EMF-2, the
/// library's EMF defaults at orders 1 and 2, and a data-initialised solve to a tolerance.
const IDS: [&str; 6] = [
    "cd1",
    "pcd1",
    "emf2-persistent",
    "emf1",
    "emf2",
    "emf2-data-converged",
];

#[test]
fn quick_mnist_experiment_writes_every_output_and_learns() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("results");
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    // ONSAGER_TEST_BUNDLED_ONLY tries the fresh-clone case where the files are present.
    let forced = std::env::var_os("ONSAGER_TEST_BUNDLED_ONLY").is_some();
    if forced || !shared.join("train-images-idx3-ubyte.gz").exists() {
        // A fresh clone has no full MNIST beside it; the quick experiment needs 6500 images.
        eprintln!(
            "SKIPPED quick_mnist_experiment: no MNIST files at {}",
            shared.display()
        );
        return;
    }
    let run = Command::cargo_bin("onsager")
        .unwrap()
        .args([
            "experiment",
            "mnist",
            "--quick",
            "--equal-time",
            "--methods",
        ])
        .arg(IDS.join(","))
        .arg("--data-dir")
        .arg(&shared)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let settings = &json["settings"];
    assert_eq!(settings["train_rows"], 5000);
    assert_eq!(settings["test_rows"], 1000);
    assert_eq!(settings["epochs"], 5);
    let untrained = json["untrained"]["ais_log_likelihood"].as_f64().unwrap();
    let untrained_pseudo = json["untrained"]["pseudo_log_likelihood"].as_f64().unwrap();
    // Binarised MNIST under the data's base rates scores about −200 nats.
    assert!(
        (-215.0..-185.0).contains(&untrained),
        "untrained {untrained}"
    );
    let raw = json["raw_pixel_accuracy"].as_f64().unwrap();
    assert!(raw > 0.8, "raw-pixel accuracy {raw}");

    let methods = json["methods"].as_object().unwrap();
    let ids = IDS;
    assert_eq!(methods.len(), ids.len());
    let table = std::fs::read_to_string(out.join("results.md")).unwrap();
    for id in ids {
        let m = &methods[id];
        let label = m["label"].as_str().unwrap();
        let num = |k: &str| {
            m[k].as_f64()
                .unwrap_or_else(|| panic!("{id}: {k} is {}", m[k]))
        };
        for k in [
            "ais_log_likelihood",
            "ais_log_likelihood_lower",
            "emf2_log_likelihood",
            "emf3_log_likelihood",
            "pseudo_log_likelihood",
        ] {
            assert!(num(k).is_finite() && num(k) < 0.0, "{id}: {k} = {}", num(k));
        }
        // Every trained model beats the untrained one by a wide margin in pseudo-likelihood,
        // and every method that trains stably under the shared schedule also in AIS
        // log-likelihood. The reference algorithm's persistent EMF-2 does not (docs/results.md).
        let pseudo = num("pseudo_log_likelihood");
        assert!(pseudo > untrained_pseudo + 20.0, "{id}: pseudo {pseudo}");
        let ll = num("ais_log_likelihood");
        if id != "emf2-persistent" {
            assert!(ll > untrained + 20.0, "{id}: {ll} vs untrained {untrained}");
        }
        // The ±3σ bounds bracket the estimate; the upper one is null when unbounded.
        assert!(num("ais_log_likelihood_lower") <= ll);
        assert!(m["ais_log_likelihood_upper"]
            .as_f64()
            .is_none_or(|u| u >= ll));
        let recon = num("reconstruction_error");
        assert!(
            recon > 0.0 && recon < 0.08,
            "{id}: reconstruction error {recon}"
        );
        let acc = num("accuracy");
        assert!(acc > 0.85 && acc <= 1.0, "{id}: accuracy {acc}");
        assert!(num("train_seconds") > 0.0);
        // One validation point per epoch, each with an AIS figure.
        let curve = m["validation_curve"].as_array().unwrap();
        assert_eq!(curve.len(), 5, "{id}");
        for (e, p) in curve.iter().enumerate() {
            assert_eq!(p["epoch"], e + 1);
            assert!(p["ais_log_likelihood"].as_f64().unwrap().is_finite());
        }
        assert!(
            table
                .lines()
                .any(|l| l.starts_with(&format!("| {label} |"))),
            "{label} missing from the table:\n{table}"
        );
        // 100 images of 28×28 in a 10×10 grid (291 px) drawn at twice the size, the filters
        // with a colour legend (36 px) underneath.
        assert_eq!(png_size(&out.join(format!("filters-{id}.png"))), (582, 618));
        assert_eq!(png_size(&out.join(format!("samples-{id}.png"))), (582, 582));
        assert!(out.join(format!("{id}.safetensors")).exists());
    }
    assert!(table.contains("| untrained |"));
    for chart in [
        "log-likelihood-ais.png",
        "log-likelihood-ais-time.png",
        "log-likelihood-emf2.png",
    ] {
        assert_eq!(png_size(&out.join(chart)), (1000, 600));
    }
    // The equal-time table: one entry per EMF row; PCD-1 given each row's time (at least its
    // 5 epochs) wherever the row is within 5 nats of it at equal epochs.
    let equal = json["equal_time"].as_array().unwrap();
    assert_eq!(equal.len(), 4);
    let pcd = methods["pcd1"]["ais_log_likelihood"].as_f64().unwrap();
    for e in equal {
        let emf = e["emf_ais_log_likelihood"].as_f64().unwrap();
        assert_eq!(e["pcd_epochs"].is_null(), emf < pcd - 5.0, "{e}");
        if let Some(epochs) = e["pcd_epochs"].as_u64() {
            assert!(epochs >= 5, "{e}");
            assert!(e["pcd"]["ais_log_likelihood"].as_f64().unwrap() < 0.0);
        }
    }
    assert!(table.contains("### At equal training time"));
    // Galleries: six 4 × 4 panels (117 pixels square), four to a row, each under its label,
    // wrapped to the panel's width: 18 pixels a line, as many lines as the longest title needs
    // (two for the six quick rows' titles).
    for gallery in ["filters-all.png", "samples-all.png"] {
        let (w, h) = png_size(&out.join(gallery));
        assert_eq!(w, 588);
        let label = (h - 24) / 2 - 117 - 24;
        assert!(
            (h - 24) % 2 == 0 && label % 18 == 0 && (18..=54).contains(&label),
            "{h}"
        );
    }
}

/// `onsager experiment grey` on a tiny subset: every row writes its JSON, model and pictures,
/// the table holds each row with its bounds, a rerun keeps the finished rows instead of
/// training them again, and a rerun with other settings is refused rather than mixed in.
#[test]
fn grey_experiment_writes_rows_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("grey");
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    let forced = std::env::var_os("ONSAGER_TEST_BUNDLED_ONLY").is_some();
    if forced || !shared.join("train-images-idx3-ubyte.gz").exists() {
        eprintln!(
            "SKIPPED grey_experiment: no MNIST files at {}",
            shared.display()
        );
        return;
    }
    let run = |epochs: &str| {
        Command::cargo_bin("onsager")
            .unwrap()
            .args([
                "experiment",
                "grey",
                "--train-rows",
                "400",
                "--test-rows",
                "100",
                "--epochs",
                epochs,
                "--hidden",
                "8",
                "--ais-runs",
                "8",
                "--ais-temperatures",
                "100",
                "--rows",
                "pcd1-truncated,tap2-gaussian",
            ])
            .arg("--data-dir")
            .arg(&shared)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap()
    };
    let first = run("2");
    let err = String::from_utf8_lossy(&first.stderr).to_string();
    assert!(first.status.success(), "{err}");
    for id in ["pcd1-truncated", "tap2-gaussian"] {
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join(format!("{id}.json"))).unwrap())
                .unwrap();
        assert!(v["log_density"].as_f64().unwrap().is_finite(), "{v}");
        assert!(v["lower"].as_f64().unwrap() <= v["log_density"].as_f64().unwrap());
        let acc = v["accuracy"].as_f64().unwrap();
        assert!((0.1..=1.0).contains(&acc), "{id}: accuracy {acc}");
        assert!(png_size(&out.join(format!("samples-{id}.png"))).0 > 0);
        assert!(png_size(&out.join(format!("filters-{id}.png"))).0 > 0);
        assert!(out.join(format!("{id}.safetensors")).exists());
    }
    // The Gaussian row's density is of standardised pixels; the [0, 1]-pixel figure differs
    // by the Jacobian, the truncated row's not at all.
    let g: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("tap2-gaussian.json")).unwrap())
            .unwrap();
    assert_ne!(g["log_density"], g["log_density_unit_pixels"]);
    let table = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(
        table.contains("PCD-1, truncated, σ learned") && table.contains("TAP-2, Gaussian"),
        "{table}"
    );
    let again = run("2");
    let err = String::from_utf8_lossy(&again.stderr).to_string();
    assert!(
        again.status.success() && err.matches("finished earlier").count() == 2,
        "{err}"
    );
    let other = run("3");
    let err = String::from_utf8_lossy(&other.stderr).to_string();
    assert!(
        !other.status.success() && err.contains("other settings"),
        "{err}"
    );
}

/// `onsager experiment deep-mnist --quick` on two rows: each writes its JSON (the test error at
/// the best validation epoch among the per-epoch test errors), curves, confusion matrix and
/// network; the table holds both; a rerun keeps them.
#[test]
fn deep_mnist_quick_writes_rows_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("deep");
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    let forced = std::env::var_os("ONSAGER_TEST_BUNDLED_ONLY").is_some();
    if forced || !shared.join("train-images-idx3-ubyte.gz").exists() {
        eprintln!("SKIPPED deep_mnist: no MNIST files at {}", shared.display());
        return;
    }
    let run = || {
        Command::cargo_bin("onsager")
            .unwrap()
            .args([
                "experiment",
                "deep-mnist",
                "--quick",
                "--rows",
                "mlp800,dbn-pcd1",
            ])
            .arg("--data-dir")
            .arg(&shared)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap()
    };
    let first = run();
    let err = String::from_utf8_lossy(&first.stderr).to_string();
    assert!(first.status.success(), "{err}");
    for id in ["mlp800", "dbn-pcd1"] {
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join(format!("{id}.json"))).unwrap())
                .unwrap();
        let errors: Vec<f64> = v["test_errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_f64().unwrap())
            .collect();
        let best = v["best_epoch"].as_u64().unwrap() as usize;
        assert_eq!(
            v["test_error_at_best_validation"].as_f64().unwrap(),
            errors[best - 1]
        );
        assert!(errors.iter().all(|e| (0.0..=1.0).contains(e)), "{v}");
        assert!(png_size(&out.join(format!("curves-{id}.png"))).0 > 0);
        assert_eq!(
            png_size(&out.join(format!("confusion-{id}.png"))),
            (24 * 11 + 24, 24 * 11 + 24)
        );
        assert!(out.join(format!("{id}.safetensors")).exists());
    }
    // The small MLP learns on 3000 rows in 5 epochs.
    let mlp: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("mlp800.json")).unwrap()).unwrap();
    assert!(mlp["best_test_error"].as_f64().unwrap() < 0.25, "{mlp}");
    let table = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(
        table.contains("| mlp800 |") && table.contains("| dbn-pcd1 |"),
        "{table}"
    );
    let again = run();
    let err = String::from_utf8_lossy(&again.stderr).to_string();
    assert!(
        again.status.success() && err.matches("finished earlier").count() == 2,
        "{err}"
    );
}
