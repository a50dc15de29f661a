//! Drives the `onsager` binary end to end.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;

fn onsager(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("onsager")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = onsager(dir, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "onsager {args:?} failed: {err}");
    String::from_utf8(out.stdout).unwrap() + &err
}

/// Runs a command that must fail: non-zero exit, one `error:` line naming `needle`, no panic.
fn fails(dir: &Path, args: &[&str], needle: &str) {
    let out = onsager(dir, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "onsager {args:?} should fail");
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{args:?}: expected one line, got {err}");
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(needle),
        "{args:?}: {err}"
    );
    assert!(!err.contains("panicked") && !err.contains("backtrace"));
}

fn tensors(path: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut v: Vec<(String, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(n, t)| (n, t.data().to_vec()))
        .collect();
    v.sort();
    v
}

fn png_size(path: &Path) -> (u32, u32) {
    let img = image::ImageReader::open(path)
        .unwrap()
        .with_guessed_format()
        .unwrap()
        .decode()
        .unwrap();
    (img.width(), img.height())
}

const SMALL: &[&str] = &[
    "--hidden",
    "16",
    "--limit",
    "600",
    "--validation-size",
    "200",
    "--batch-size",
    "50",
    "--quiet",
];

fn with<A: AsRef<str>, B: AsRef<str>>(base: &[A], more: &[B]) -> Vec<String> {
    base.iter()
        .map(|s| s.as_ref().to_string())
        .chain(more.iter().map(|s| s.as_ref().to_string()))
        .collect()
}

fn run(dir: &Path, args: &[String]) -> String {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(dir, &refs)
}

#[test]
fn round_trip_on_the_bundled_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    run(
        d,
        &with(
            &["train"],
            &with(
                SMALL,
                &["--epochs", "2", "--log", "log.jsonl", "-o", "m.safetensors"],
            ),
        ),
    );
    let log = std::fs::read_to_string(d.join("log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 2);
    let rec: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert!(rec["pseudo_likelihood"].as_f64().unwrap().is_finite());
    assert!(rec["reconstruction_error"].as_f64().unwrap() > 0.0);

    let out = ok(
        d,
        &[
            "eval",
            "m.safetensors",
            "--estimator",
            "exact,ais,emf",
            "--ais-temperatures",
            "300",
            "--limit",
            "200",
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out[..out.rfind('}').unwrap() + 1]).unwrap();
    let exact = v["log_likelihood"]["exact"]["estimate"].as_f64().unwrap();
    let ais = &v["log_likelihood"]["ais"];
    assert!(exact < 0.0 && exact > -784.0 * 2f64.ln(), "{exact}");
    assert!(
        (ais["estimate"].as_f64().unwrap() - exact).abs() < 2.0,
        "{v}"
    );
    assert!(v["log_likelihood"]["emf2"]["estimate"]
        .as_f64()
        .unwrap()
        .is_finite());
    assert_eq!(v["rows"], 200);
    let table = ok(d, &["eval", "m.safetensors", "--limit", "100"]);
    assert!(
        table.contains("log-likelihood (exact)") && table.contains("pseudo-likelihood"),
        "{table}"
    );

    ok(
        d,
        &["transform", "m.safetensors", "--limit", "30", "-o", "h.npy"],
    );
    let h = onsager::io::npy::read(d.join("h.npy")).unwrap();
    assert_eq!(h.dim(), (30, 16));

    ok(
        d,
        &[
            "sample",
            "m.safetensors",
            "-n",
            "9",
            "--steps",
            "20",
            "--png",
            "s.png",
        ],
    );
    assert_eq!(
        onsager::io::npy::read(d.join("samples.npy")).unwrap().dim(),
        (9, 784)
    );
    // A 3×3 grid of 28×28 digits (88 px) is drawn 6× so that it is at least 480 px wide.
    assert_eq!(png_size(&d.join("s.png")), (6 * 88, 6 * 88));
    ok(
        d,
        &[
            "sample",
            "m.safetensors",
            "-n",
            "4",
            "--steps",
            "50",
            "--from",
            "data",
            "--emf",
            "3",
            "-o",
            "e.npy",
        ],
    );
    ok(
        d,
        &[
            "show",
            "filters",
            "m.safetensors",
            "-n",
            "16",
            "-o",
            "f.png",
            "--scale",
            "per-filter",
        ],
    );
    // 4×4 filters (117 px) at 5×, with the 36-pixel colour legend underneath.
    assert_eq!(png_size(&d.join("f.png")), (5 * 117, 5 * 117 + 36));
    ok(
        d,
        &[
            "show",
            "samples",
            "samples.npy",
            "-o",
            "s2.png",
            "--zoom",
            "1",
        ],
    );
    assert_eq!(png_size(&d.join("s2.png")), (3 * 29 + 1, 3 * 29 + 1));
    // Nothing to draw, or NaN to draw, is an error, not an empty or black picture.
    onsager::io::npy::write(
        d.join("none.npy"),
        ndarray::Array2::<f32>::zeros((0, 784)).view(),
    )
    .unwrap();
    fails(d, &["show", "samples", "none.npy", "-o", "n.png"], "0 rows");
    let mut nan = ndarray::Array2::<f32>::zeros((2, 784));
    nan[[1, 5]] = f32::NAN;
    onsager::io::npy::write(d.join("nan.npy"), nan.view()).unwrap();
    fails(
        d,
        &["show", "samples", "nan.npy", "-o", "n.png"],
        "row 2, column 6",
    );
    assert!(!d.join("n.png").exists());
    let c = ok(d, &["show", "curves", "log.jsonl", "-o", "c.png"]);
    assert!(c.contains("pseudo-likelihood (nats)"), "{c}");
    // One 260-pixel panel per quantity in the log: pseudo-likelihood, recon. error, rows/s.
    assert_eq!(png_size(&d.join("c.png")), (900, 3 * 260));
    let info = ok(d, &["info", "m.safetensors"]);
    assert!(
        info.contains("trained on      bundled mnist sample (train) (600 rows x 784)"),
        "{info}"
    );
    assert!(
        info.contains("784 visible x 16 hidden")
            && info.contains("epochs          2")
            && info.contains("28x28"),
        "{info}"
    );
    // A closed pipe ends the output quietly (no panic message).
    let piped = Command::new("sh")
        .current_dir(d)
        .arg("-c")
        .arg(format!(
            "{} info m.safetensors --json | true",
            Command::cargo_bin("onsager")
                .unwrap()
                .get_program()
                .to_string_lossy()
        ))
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&piped.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    let j: serde_json::Value = serde_json::from_str(
        &ok(d, &["info", "m.safetensors", "--json"])
            .split("\n}")
            .next()
            .map(|s| s.to_string() + "\n}")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(j["history"].as_array().unwrap().len(), 2);
}

#[test]
fn resume_and_checkpoints_continue_bit_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    for method in [
        &["--method", "pcd", "--chains", "25"][..],
        &["--method", "emf", "--order", "3"],
        &["--method", "cd", "--k", "2"],
    ] {
        let base = with(&with(SMALL, method), &["--metrics", "none"]);
        run(
            d,
            &with(
                &["train"],
                &with(&base, &["--epochs", "4", "-o", "whole.safetensors"]),
            ),
        );
        run(
            d,
            &with(
                &["train"],
                &with(&base, &["--epochs", "2", "-o", "part.safetensors"]),
            ),
        );
        ok(
            d,
            &[
                "train",
                "--resume",
                "part.safetensors",
                "--epochs",
                "4",
                "--limit",
                "600",
                "--validation-size",
                "200",
                "--quiet",
                "-o",
                "resumed.safetensors",
            ],
        );
        run(
            d,
            &with(
                &["train"],
                &with(
                    &base,
                    &[
                        "--epochs",
                        "4",
                        "--checkpoint-every",
                        "1",
                        "-o",
                        "ckpt.safetensors",
                    ],
                ),
            ),
        );
        let whole = tensors(&d.join("whole.safetensors"));
        assert!(
            whole == tensors(&d.join("resumed.safetensors")),
            "{method:?}: resumed differs"
        );
        assert!(
            whole == tensors(&d.join("ckpt.safetensors")),
            "{method:?}: checkpointed differs"
        );
    }
    fails(
        d,
        &["train", "--resume", "part.safetensors", "--lr", "0.1"],
        "--lr",
    );
    fails(
        d,
        &["train", "--resume", "part.safetensors", "--no-shuffle"],
        "--no-shuffle",
    );
}

#[test]
fn every_error_is_one_line_with_no_partial_output() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("ragged.csv"), "0,1,0\n1,0\n").unwrap();
    std::fs::write(d.join("text.csv"), "0,1\n1,zz\n").unwrap();
    std::fs::write(d.join("big.csv"), "0,1\n1,3\n").unwrap();
    std::fs::write(d.join("narrow.csv"), "0,1\n1,0\n").unwrap();
    std::fs::write(d.join("junk-images-idx3-ubyte"), b"PK\x03\x04 not idx").unwrap();
    onsager::io::npy::write(
        d.join("nan.npy"),
        ndarray::array![[0.5f32, f32::NAN]].view(),
    )
    .unwrap();
    // Bad training inputs and options: (file or option, what the message must name).
    for (args, needle) in [
        (&["missing.npy"][..], "missing.npy"),
        (&["ragged.csv"], "line 2 has 2 fields"),
        (&["text.csv"], "line 2, column 2"),
        // The value 3 on the second line: rows and columns count from 1, as CSV lines do.
        (&["big.csv"], "row 2, column 2 (counting from 1)"),
        (&["junk-images-idx3-ubyte"], "magic"),
        (&["nan.npy"], "non-finite"),
        (&["--hidden", "0"], "--hidden 0"),
        (&["--schedule", "cosine"], "--schedule"),
        (&["--order", "5"], "--order 5"),
        (&["--k", "2"], "--k 2: applies to cd and pcd only"),
        (&["--method", "cd", "--damping", "0.5"], "--damping"),
        (&["--method", "gibbs"], "--method gibbs"),
        (&["--metrics", "pl,speed"], "--metrics speed"),
    ] {
        let mut full = vec!["train"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["-o", "a.safetensors"]);
        fails(d, &full, needle);
    }
    fails(
        d,
        &[
            "train",
            "--epochs",
            "1",
            "--hidden",
            "4",
            "--limit",
            "50",
            "-o",
            "no/such/dir/a.safetensors",
            "--quiet",
        ],
        "no/such/dir",
    );
    assert!(!d.join("a.safetensors").exists());
    // A model, then a shape mismatch and damaged model files.
    ok(
        d,
        &[
            "train",
            "--epochs",
            "1",
            "--hidden",
            "4",
            "--limit",
            "100",
            "--quiet",
            "-o",
            "m.safetensors",
        ],
    );
    fails(
        d,
        &["eval", "m.safetensors", "narrow.csv"],
        "784 visible units",
    );
    let bytes = std::fs::read(d.join("m.safetensors")).unwrap();
    std::fs::write(d.join("cut.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    fails(d, &["eval", "cut.safetensors"], "cut.safetensors");
    fails(d, &["info", "big.csv"], "big.csv");
    fails(
        d,
        &["transform", "m.safetensors", "-o", "no/such/dir/h.npy"],
        "no/such/dir",
    );
    fails(
        d,
        &["show", "filters", "m.safetensors", "--shape", "5x5"],
        "5x5",
    );
    let names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.contains(".tmp-")),
        "temporary files left: {names:?}"
    );
}

/// Runs `onsager ARGS` in `dir` and sends it Ctrl-C once it has reported its first epoch
/// (progress goes to stderr as plain lines, not a terminal), so a test waits for training
/// itself rather than a fixed time. Returns the stderr after that line and the exit code.
fn interrupt_after_first_epoch(dir: &Path, args: &[&str]) -> (String, Option<i32>) {
    let mut child = Command::cargo_bin("onsager")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = stderr.read_line(&mut line).unwrap();
        assert!(n > 0, "{args:?} ended before its first epoch: {seen}");
        seen += &line;
        if line.contains("epoch 1/") {
            break;
        }
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    (rest, child.wait().unwrap().code())
}

#[test]
fn ctrl_c_stops_and_still_writes_a_valid_model() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (rest, code) = interrupt_after_first_epoch(
        d,
        &[
            "train",
            "--epochs",
            "100000",
            "--hidden",
            "32",
            "--metrics",
            "none",
            "-o",
            "m.safetensors",
        ],
    );
    // The stop lands between mini-batches: the message says which epoch it interrupted, how
    // far it was, and that a resume repeats it (or, at a boundary, continues exactly).
    assert!(
        rest.contains("interrupted in epoch 2 after") && rest.contains("--resume repeats epoch 2")
            || rest.contains("interrupted after 1 complete epochs"),
        "{rest}"
    );
    assert_eq!(code, Some(130));
    let info = ok(d, &["info", "m.safetensors", "--json"]);
    assert!(info.contains("\"n_hidden\": 32"), "{info}");
    ok(
        d,
        &[
            "eval",
            "m.safetensors",
            "--estimator",
            "emf",
            "--limit",
            "50",
        ],
    );
}

/// `classify fit --resume`: a run of 2 epochs continued to 4 writes the same network, velocity
/// and history as one run of 4 (distorted, with validation rows); Ctrl-C stops after an epoch
/// with exit 130 and a file that continues; options that the file fixes, a finished run and
/// other data are refused by name.
#[test]
fn classify_runs_resume_exactly_and_stop_on_ctrl_c() {
    use onsager_deep::file;
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let common = [
        "classify",
        "fit",
        "--hidden",
        "24",
        "--validation-size",
        "300",
        "--distort",
        "--decay",
        "0.9",
        "--seed",
        "5",
        "--quiet",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        common.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let run = |args: Vec<String>| ok(d, &args.iter().map(String::as_str).collect::<Vec<_>>());
    run(with(&["--epochs", "4", "-o", "whole.safetensors"]));
    run(with(&[
        "--epochs",
        "2",
        "-o",
        "half.safetensors",
        "--log",
        "half.jsonl",
    ]));
    let out = ok(
        d,
        &[
            "classify",
            "fit",
            "--resume",
            "half.safetensors",
            "--epochs",
            "4",
            "--quiet",
            "-o",
            "rest.safetensors",
            "--log",
            "rest.jsonl",
        ],
    );
    assert!(out.contains("of 4 kept"), "{out}");
    // The resumed run's log holds the whole run: the first run's lines, then its own.
    let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    let (half, rest) = (read("half.jsonl"), read("rest.jsonl"));
    let lines: Vec<serde_json::Value> = rest
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let epochs: Vec<_> = lines.iter().map(|l| l["epoch"].as_u64().unwrap()).collect();
    assert_eq!(epochs, [1, 2, 3, 4], "{rest}");
    assert!(
        lines.iter().all(|l| l["validation_error"].is_f64()),
        "{rest}"
    );
    assert!(
        rest.starts_with(&half) && half.lines().count() == 2,
        "{half} then {rest}"
    );
    let (whole, rest) = (
        file::load::<f32>(d.join("whole.safetensors")).unwrap(),
        file::load::<f32>(d.join("rest.safetensors")).unwrap(),
    );
    assert_eq!(whole.mlp, rest.mlp);
    let (mut w, mut r) = (whole.resume.unwrap(), rest.resume.unwrap());
    for s in [&mut w.state, &mut r.state] {
        s.history.iter_mut().for_each(|e| e.seconds = 0.0);
    }
    assert_eq!(w, r);
    assert_eq!(w.state.history.len(), 4);
    // What the file fixes cannot be given again; a finished run needs a higher total.
    let resume = [
        "classify",
        "fit",
        "--resume",
        "whole.safetensors",
        "-o",
        "x.safetensors",
    ];
    let mut lr = resume.to_vec();
    lr.extend(["--lr", "0.5"]);
    refused_by_parser(d, &lr, "--lr");
    fails(d, &resume, "give --epochs above 4");
    fails(
        d,
        &[
            "classify",
            "fit",
            "--resume",
            "whole.safetensors",
            "--epochs",
            "5",
            "--limit",
            "1500",
            "-o",
            "x.safetensors",
        ],
        "give the same data options",
    );
    assert!(!d.join("x.safetensors").exists());
    // Ctrl-C: the epoch in flight finishes, the file is written and continues.
    let (rest, code) = interrupt_after_first_epoch(
        d,
        &[
            "classify",
            "fit",
            "--hidden",
            "16",
            "--epochs",
            "100000",
            "--checkpoint-every",
            "1",
            "-o",
            "c.safetensors",
        ],
    );
    assert!(rest.contains("--resume continues exactly"), "{rest}");
    assert_eq!(code, Some(130));
    let done = file::load::<f32>(d.join("c.safetensors"))
        .unwrap()
        .resume
        .unwrap()
        .state
        .epochs_done();
    assert!(done >= 1);
    let more = (done + 1).to_string();
    let out = ok(
        d,
        &[
            "classify",
            "fit",
            "--resume",
            "c.safetensors",
            "--epochs",
            &more,
            "-o",
            "c.safetensors",
        ],
    );
    assert!(out.contains(&format!("of {more} kept")), "{out}");
    // Ctrl-C in the pretraining stops it within the layer and writes nothing.
    let (rest, code) = interrupt_after_first_epoch(
        d,
        &[
            "classify",
            "fit",
            "--hidden",
            "16",
            "--pretrain",
            "cd",
            "--pretrain-epochs",
            "100000",
            "-o",
            "p.safetensors",
        ],
    );
    assert!(
        rest.contains("interrupted: pretraining was interrupted"),
        "{rest}"
    );
    assert_eq!(code, Some(130));
    assert!(!d.join("p.safetensors").exists());
}

fn serve(dir: PathBuf, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
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
            let body = std::fs::read(dir.join(name)).unwrap_or_default();
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .unwrap();
            stream.write_all(&body).unwrap();
        }
    });
    format!("http://{addr}/")
}

#[test]
fn dataset_mnist_downloads_once_into_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    // ONSAGER_TEST_BUNDLED_ONLY tries the fresh-clone case where the files are present.
    let forced = std::env::var_os("ONSAGER_TEST_BUNDLED_ONLY").is_some();
    if forced || !shared.join("train-images-idx3-ubyte.gz").exists() {
        // The download is checked against MNIST's published digests, so it needs the real
        // files to serve; a fresh clone has none beside it.
        eprintln!(
            "SKIPPED dataset_mnist_downloads_once: no MNIST files at {}",
            shared.display()
        );
        return;
    }
    let url = serve(shared, 4);
    let run = |url: &str| {
        Command::cargo_bin("onsager")
            .unwrap()
            .current_dir(tmp.path())
            .env("ONSAGER_DATA", tmp.path().join("cache"))
            .env("ONSAGER_MNIST_URL", url)
            .args([
                "train",
                "--dataset",
                "mnist",
                "--limit",
                "300",
                "--epochs",
                "1",
                "--hidden",
                "8",
                "--quiet",
                "-o",
                "m.safetensors",
            ])
            .output()
            .unwrap()
    };
    let out = run(&url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_dir(tmp.path().join("cache/mnist"))
            .unwrap()
            .count(),
        4
    );
    // Cached: a dead URL is never contacted.
    let again = run("http://127.0.0.1:9/");
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

/// Runs a command that clap itself must refuse (exit 2, the message naming `needle`).
fn refused_by_parser(dir: &Path, args: &[&str], needle: &str) {
    let out = onsager(dir, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        err.contains(needle) && !err.contains("panicked"),
        "{args:?}: {err}"
    );
}

/// Issue 17's classes, each refused before any epoch with one line naming the problem, and
/// nothing at the output path replaced: sizes that cannot fit, a split of one row, outputs
/// that are directories, devices or the input itself, AIS settings, thresholds, shapes,
/// conflicting data options, a resume with nothing left to do. And the data scaling each run
/// applied is printed: 0/1 bytes stay binary, integer pixels need (and get) `scale`.
#[test]
fn bad_runs_are_refused_before_training_and_scaling_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("one.csv"), "0,1,0,1\n").unwrap();
    let tiny = ["--epochs", "1", "--limit", "60", "--quiet"];
    let train = |more: &[&str], out: &str| -> Vec<String> {
        let mut v: Vec<String> = vec!["train".into()];
        v.extend(more.iter().map(|s| s.to_string()));
        v.extend(tiny.iter().map(|s| s.to_string()));
        if !more.contains(&"--hidden") {
            v.extend(["--hidden".to_string(), "4".to_string()]);
        }
        v.extend(["-o".to_string(), out.to_string()]);
        v
    };
    for (more, out, needle) in [
        (
            &["one.csv", "--validation-split", "0.5"][..],
            "m.st",
            "at least 2 rows",
        ),
        (&[], ".", "it is a directory"),
        (&[], "missing/m.st", "does not exist"),
        (&["one.csv"], "one.csv", "it is the input one.csv"),
        (
            &["--ais", "--ais-temperatures", "1"],
            "m.st",
            "--ais-temperatures 1",
        ),
        (
            &["--preprocess", "binarize", "--threshold", "2"],
            "m.st",
            "--threshold 2",
        ),
        (
            &["--threshold", "0.3"],
            "m.st",
            "only to --preprocess binarize",
        ),
        (
            &["--preprocess", "range"],
            "m.st",
            "--range LOW,HIGH go together",
        ),
        (&["--hidden", "2000000000"], "m.st", "too large"),
        (
            &["--method", "pcd", "--chains", "1000000000"],
            "m.st",
            "too large",
        ),
    ] {
        fails(d, &as_str(&train(more, out)), needle);
    }
    #[cfg(unix)]
    fails(d, &as_str(&train(&[], "/dev/null")), "it is a device");
    assert!(!d.join("m.st").exists());
    assert_eq!(std::fs::read(d.join("one.csv")).unwrap(), b"0,1,0,1\n");
    for (args, needle) in [
        (
            &["train", "--shape", "4611686018427387908x4"][..],
            "do not fit",
        ),
        (&["train", "--data-dir", "."], "--dataset"),
        (
            &["train", "one.csv", "--dataset", "mnist"],
            "cannot be used with",
        ),
    ] {
        refused_by_parser(d, args, needle);
    }

    // A model written through a link lands in the link's target; the link stays a link.
    std::fs::write(d.join("real.st"), b"placeholder").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("real.st", d.join("link.st")).unwrap();
        ok(d, &as_str(&train(&[], "link.st")));
        let meta = std::fs::symlink_metadata(d.join("link.st")).unwrap();
        assert!(meta.file_type().is_symlink());
        assert_ne!(std::fs::read(d.join("real.st")).unwrap(), b"placeholder");
    }
    ok(d, &as_str(&train(&[], "m.st")));
    fails(
        d,
        &["train", "--resume", "m.st", "-o", "m2.st", "--epochs", "1"],
        "has done 1 epochs already",
    );
    fails(d, &["sample", "m.st", "-n", "100000000000"], "too large");
    fails(
        d,
        &["transform", "m.st", "-o", "m.st"],
        "it is the input m.st",
    );
    // Test-split features of the bundled sample (1000 rows); a file has one split.
    ok(d, &["transform", "m.st", "--split", "test", "-o", "t.npy"]);
    assert_eq!(
        onsager::io::npy::read(d.join("t.npy")).unwrap().dim(),
        (1000, 4)
    );
    fails(
        d,
        &["transform", "m.st", "one.csv", "--split", "test"],
        "a data file has one split",
    );

    // Scaling: 0/1 bytes are binary data, not intensities of 1/255.
    let bits = ndarray::Array2::from_shape_fn((40, 6), |(i, j)| ((i + j) % 2) as u8);
    onsager::io::npy::write(d.join("bits.npy"), bits.view()).unwrap();
    let said = ok(
        d,
        &[
            "train", "bits.npy", "--epochs", "1", "--hidden", "3", "-o", "b.st",
        ],
    );
    assert!(
        said.contains("values as they are (bytes holding only 0 and 1)"),
        "{said}"
    );
    fails(
        d,
        &["transform", "b.st", "bits.npy", "-o", "bits.npy"],
        "it is the input",
    );
    // Integer pixels 0-255 in a CSV: auto refuses with the way out, scale divides by 255.
    let pixels: String = (0..30)
        .map(|i| format!("{},{},{}\n", i * 8, 255 - i * 8, (i * 37) % 256))
        .collect();
    std::fs::write(d.join("pixels.csv"), pixels).unwrap();
    fails(
        d,
        &["train", "pixels.csv", "-o", "p.st"],
        "--preprocess scale",
    );
    let said = ok(
        d,
        &[
            "train",
            "pixels.csv",
            "--preprocess",
            "scale",
            "--epochs",
            "1",
            "--hidden",
            "2",
            "-o",
            "p.st",
        ],
    );
    assert!(said.contains("values ÷ 255 (the data's range)"), "{said}");
    let said = ok(
        d,
        &[
            "eval",
            "p.st",
            "pixels.csv",
            "--preprocess",
            "range",
            "--range",
            "0,510",
        ],
    );
    assert!(said.contains("values ÷ 510 (the range given)"), "{said}");
}

fn as_str(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Ctrl-C during a long AIS in `eval` stops it within a second or so, with exit 130 and one
/// line saying what was interrupted (it used to die by the default handler). The test waits
/// for the process to be running, not for a fixed amount of work.
#[test]
fn ctrl_c_stops_a_long_eval() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(
        d,
        &[
            "train", "--epochs", "1", "--hidden", "40", "--limit", "100", "--quiet", "-o", "m.st",
        ],
    );
    let mut child = Command::cargo_bin("onsager")
        .unwrap()
        .current_dir(d)
        .args([
            "eval",
            "m.st",
            "--estimator",
            "ais",
            "--ais-temperatures",
            "10000000",
            "--limit",
            "50",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "eval ended before the interrupt"
    );
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted: AIS was interrupted"), "{err}");
}

/// A server that accepts the connection and never answers: the download gives up after the
/// timeout (shortened here by ONSAGER_NET_TIMEOUT) with one line naming the URL, instead of
/// hanging.
#[test]
fn a_silent_server_times_out() {
    let tmp = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream); // accept, read nothing, answer nothing
        }
    });
    let out = Command::cargo_bin("onsager")
        .unwrap()
        .current_dir(tmp.path())
        .env("ONSAGER_DATA", tmp.path().join("cache"))
        .env("ONSAGER_MNIST_URL", format!("http://{addr}/"))
        .env("ONSAGER_NET_TIMEOUT", "0.5")
        .args(["train", "--dataset", "mnist", "--quiet", "-o", "m.st"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no answer within 0.5 s") && err.contains(&addr.to_string()),
        "{err}"
    );
}

/// `train --dtype f32` and `--dtype f64` with one seed give one model at two precisions
/// (docs/maths.md §7): the weights agree to rounding, for a sampled and a mean-field method.
#[test]
fn dtype_f32_and_f64_train_one_model_per_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // Small enough (100 rows, 8 hidden units, one epoch: about 10⁵ draws) that no draw falls
    // between the two precisions' probabilities (about one chance in 10⁷ each).
    let tiny = [
        "--hidden",
        "8",
        "--limit",
        "120",
        "--validation-size",
        "20",
        "--batch-size",
        "20",
        "--epochs",
        "1",
        "--quiet",
    ];
    for method in [&["--method", "pcd"][..], &["--method", "emf"]] {
        for dtype in ["f32", "f64"] {
            let out = format!("{dtype}.safetensors");
            run(
                d,
                &with(
                    &with(&["train"], &tiny),
                    &with(method, &["--dtype", dtype, "-o", &out]),
                ),
            );
        }
        let m32 = onsager::io::model::load::<f64>(d.join("f32.safetensors")).unwrap();
        let m64 = onsager::io::model::load::<f64>(d.join("f64.safetensors")).unwrap();
        let (w32, w64) = (m32.rbm.weights(), m64.rbm.weights());
        let scale = w64.iter().fold(0f64, |m, w| m.max(w.abs()));
        let diff = w32
            .iter()
            .zip(w64)
            .fold(0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(
            diff > 0.0 && diff < 1e-5 * scale,
            "{method:?}: {diff} of {scale}"
        );
    }
}

/// `onsager ridge`: a CSV with a header, the target by name, α by each selection, the JSON and
/// the three pictures; bad input refused in one line naming the problem.
#[test]
fn ridge_fits_selects_and_refuses_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // y = 1 + 2·a − b + noise-like wiggle, 40 rows, 3 features (c is irrelevant).
    let mut csv = String::from("a,b,c,y\n");
    for i in 0..40 {
        let (a, b, c) = (
            (i as f64 * 0.37).sin(),
            (i as f64 * 0.11).cos(),
            (i % 7) as f64,
        );
        let y = 1.0 + 2.0 * a - b + 0.01 * ((i * 13 % 5) as f64 - 2.0);
        csv += &format!("{a},{b},{c},{y}\n");
    }
    std::fs::write(d.join("data.csv"), csv).unwrap();
    std::fs::create_dir(d.join("plots")).unwrap();
    for select in ["gcv", "loo", "lcurve"] {
        ok(
            d,
            &[
                "ridge", "data.csv", "--target", "y", "--select", select, "--json", "fit.json",
                "--plots", "plots",
            ],
        );
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("fit.json")).unwrap()).unwrap();
        assert_eq!(v["samples"], 40);
        assert_eq!(v["features"], 3);
        assert_eq!(v["feature_columns"], serde_json::json!(["a", "b", "c"]));
        assert_eq!(v["path"].as_array().unwrap().len(), 100);
        let coef: Vec<f64> = v["coef"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_f64().unwrap())
            .collect();
        if select != "lcurve" {
            assert!(
                (coef[0] - 2.0).abs() < 0.05 && (coef[1] + 1.0).abs() < 0.05,
                "{coef:?}"
            );
            assert!((v["intercept"].as_f64().unwrap() - 1.0).abs() < 0.05, "{v}");
        }
        for png in ["lcurve.png", "criteria.png", "picard.png"] {
            assert_eq!(png_size(&d.join("plots").join(png)), (1000, 600));
        }
    }
    // One α: no selection; the target by number; a printed table without --json.
    let out = ok(
        d,
        &["ridge", "data.csv", "--target", "4", "--lambda", "1e-8"],
    );
    assert!(out.contains("tikhonov:0.00000001 (given)"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("a\t")), "{out}");
    // n = p with a tiny α: the danger-zone warning.
    let mut square = String::new();
    for i in 0..12u64 {
        let row: Vec<String> = (0..13u64)
            .map(|j| {
                format!(
                    "{}",
                    ((i * 31 + j * 17) % 11) as f64 / 11.0 + (i * j) as f64 * 0.01
                )
            })
            .collect();
        square += &(row.join(",") + "\n");
    }
    std::fs::write(d.join("square.csv"), square).unwrap();
    let out = ok(
        d,
        &["ridge", "square.csv", "--lambda", "1e-12", "--no-intercept"],
    );
    assert!(
        out.contains("warning: ridge in the danger zone: n/p = 1.000"),
        "{out}"
    );
    // Bad input.
    fails(
        d,
        &["ridge", "data.csv", "--target", "z"],
        "no column of that name (its columns: a, b, c, y)",
    );
    fails(d, &["ridge", "data.csv", "--target", "9"], "columns 1 to 4");
    fails(
        d,
        &["ridge", "data.csv", "--select", "aic"],
        "expected gcv, loo or lcurve",
    );
    fails(
        d,
        &["ridge", "data.csv", "--lambda", "1:0.1:5"],
        "0 < low ≤ high",
    );
    // An output that is the input, or a --plots that is no folder, is refused before any work.
    fails(d, &["ridge", "data.csv", "--json", "data.csv"], "data.csv");
    fails(
        d,
        &["ridge", "data.csv", "--plots", "fit.json"],
        "not a folder",
    );
    std::fs::write(d.join("nan.csv"), "a,y\n1,2\nnan,3\n4,5\n").unwrap();
    fails(
        d,
        &["ridge", "nan.csv"],
        "non-finite value NaN at row 2, column 1",
    );
    std::fs::write(d.join("flat.csv"), "a,y\n1,2\n3,2\n4,2\n").unwrap();
    fails(d, &["ridge", "flat.csv"], "the target is constant (2)");
    std::fs::write(d.join("empty.csv"), "a,y\n").unwrap();
    fails(d, &["ridge", "empty.csv"], "no data rows");
}

/// Real-valued visible units from the command line (docs/maths.md §1b): truncated-Gaussian
/// and Gaussian units train by cd and pcd with σ fixed or learned, `info` names the type and σ,
/// `eval` reports an exact log-density and no pseudo-likelihood, `sample` and `transform`
/// work, and what is written for binary units only is refused before any work.
#[test]
fn real_valued_units_train_evaluate_and_refuse_what_does_not_apply() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let small = [
        "--hidden",
        "8",
        "--limit",
        "300",
        "--validation-size",
        "100",
        "--epochs",
        "2",
        "--quiet",
    ];
    run(
        d,
        &with(
            &with(&["train"], &small),
            &[
                "--visible",
                "truncated-gaussian",
                "--sigma",
                "learned:0.3",
                "--method",
                "pcd",
                "--lr",
                "0.01",
                "--log",
                "log.jsonl",
                "-o",
                "tg.safetensors",
            ],
        ),
    );
    // The default metrics skip the pseudo-likelihood these units do not have.
    let log = std::fs::read_to_string(d.join("log.jsonl")).unwrap();
    let rec: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert!(rec["reconstruction_error"].as_f64().unwrap() > 0.0);
    assert!(rec.get("pseudo_likelihood").is_none(), "{rec}");
    let info = ok(d, &["info", "tg.safetensors"]);
    assert!(
        info.contains("visible units   truncated_gaussian"),
        "{info}"
    );
    assert!(info.contains("(learned:0.3:0.01)"), "{info}");
    let out = ok(d, &["eval", "tg.safetensors", "--limit", "50", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out[..out.rfind('}').unwrap() + 1]).unwrap();
    assert_eq!(v["visible_units"], "truncated_gaussian");
    assert!(v["pseudo_likelihood"].is_null());
    // auto enumerates the 2⁸ hidden states: a finite log-density.
    assert!(
        v["log_likelihood"]["exact"]["estimate"]
            .as_f64()
            .unwrap()
            .is_finite(),
        "{v}"
    );
    let table = ok(d, &["eval", "tg.safetensors", "--limit", "50"]);
    assert!(table.contains("log-density (exact)"), "{table}");
    ok(d, &["sample", "tg.safetensors", "-n", "4", "-o", "s.npy"]);
    ok(
        d,
        &[
            "transform",
            "tg.safetensors",
            "--limit",
            "20",
            "-o",
            "f.npy",
        ],
    );
    run(
        d,
        &with(
            &with(&["train"], &small),
            &[
                "--visible",
                "gaussian",
                "--method",
                "cd",
                "-o",
                "g.safetensors",
            ],
        ),
    );
    assert!(
        ok(d, &["info", "g.safetensors"]).contains("sigma           1.0000 to 1.0000 (fixed:1)")
    );
    // The real-valued TAP free energy (docs/maths.md §4b) trains at orders 1 and 2.
    run(
        d,
        &with(
            &with(&["train"], &small),
            &[
                "--visible",
                "gaussian",
                "--method",
                "emf",
                "--order",
                "2",
                "--persistence",
                "data",
                "-o",
                "emf.safetensors",
            ],
        ),
    );
    assert!(ok(d, &["info", "emf.safetensors"]).contains("gaussian"));
    fails(
        d,
        &[
            "train",
            "--visible",
            "gaussian",
            "--method",
            "emf",
            "--order",
            "3",
            "--epochs",
            "1",
            "-o",
            "x.safetensors",
        ],
        "written to order 2",
    );
    // AIS from a Gaussian base (docs/maths.md §5.1): per epoch in training and in eval, a
    // log-density with bounds.
    run(
        d,
        &with(
            &with(&["train"], &small),
            &[
                "--visible",
                "gaussian",
                "--method",
                "cd",
                "--ais",
                "--ais-runs",
                "16",
                "--ais-temperatures",
                "300",
                "-o",
                "ais.safetensors",
            ],
        ),
    );
    // The estimate after the last epoch is stored with the model's history.
    let info = ok(d, &["info", "ais.safetensors"]);
    assert!(info.contains("AIS-ll"), "{info}");
    let table = ok(
        d,
        &[
            "eval",
            "tg.safetensors",
            "--estimator",
            "ais,exact",
            "--ais-runs",
            "16",
            "--ais-temperatures",
            "300",
            "--limit",
            "10",
        ],
    );
    assert!(table.contains("log-density (AIS)"), "{table}");
    fails(
        d,
        &[
            "train",
            "--visible",
            "truncated-gaussian:1:0",
            "-o",
            "x.safetensors",
        ],
        "low < high",
    );
    assert!(!d.join("x.safetensors").exists());

    // Real-valued data as it is: Gaussian units take negative values from a CSV, and the
    // commands that read data check it against the model's range, not [0, 1].
    let rows: Vec<String> = (0..40)
        .map(|i| {
            let t = i as f64 * 0.37;
            format!("{:.4},{:.4},{:.4}", t.sin() * 2.0, -t.cos(), t % 3.0 - 1.5)
        })
        .collect();
    std::fs::write(d.join("real.csv"), rows.join("\n")).unwrap();
    let g = [
        "train",
        "real.csv",
        "--visible",
        "gaussian",
        "--method",
        "cd",
        "--hidden",
        "2",
        "--epochs",
        "1",
        "--quiet",
        "-o",
        "real.safetensors",
    ];
    ok(d, &g);
    let out = ok(d, &["eval", "real.safetensors", "real.csv", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out[..out.rfind('}').unwrap() + 1]).unwrap();
    assert!(
        v["log_likelihood"]["exact"]["estimate"]
            .as_f64()
            .unwrap()
            .is_finite(),
        "{v}"
    );
    ok(
        d,
        &[
            "transform",
            "real.safetensors",
            "real.csv",
            "-o",
            "real.npy",
        ],
    );
    // Truncated units on [0, 1] still refuse a negative value, naming it.
    fails(
        d,
        &[
            "train",
            "real.csv",
            "--visible",
            "truncated-gaussian",
            "--method",
            "cd",
            "-o",
            "x.safetensors",
        ],
        "outside [0, 1]",
    );
}

/// `--preprocess standardize`: training stores the training rows' column means and standard
/// deviations in the model; `eval`, `transform` and `sample` apply them (and say the
/// log-densities are of standardised rows, with the Jacobian to add), samples come back in
/// raw units, and a preprocessing that contradicts the stored map, or a standardisation the
/// model cannot supply, is refused.
#[test]
fn standardised_training_stores_its_map_and_later_commands_use_it() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(
        d,
        &[
            "train",
            "--visible",
            "gaussian",
            "--preprocess",
            "standardize",
            "--method",
            "cd",
            "--hidden",
            "8",
            "--limit",
            "300",
            "--validation-size",
            "100",
            "--epochs",
            "1",
            "--quiet",
            "-o",
            "z.safetensors",
        ],
    );
    let info = ok(d, &["info", "z.safetensors"]);
    assert!(info.contains("standardised    784 columns"), "{info}");
    let eval = ok(
        d,
        &[
            "eval",
            "z.safetensors",
            "--estimator",
            "exact",
            "--limit",
            "50",
        ],
    );
    assert!(
        eval.contains("stored in the model") && eval.contains("raw units"),
        "{eval}"
    );
    ok(
        d,
        &["transform", "z.safetensors", "--limit", "20", "-o", "f.npy"],
    );
    // Zero Gibbs steps from data rows: the starts mapped back are the raw test bytes.
    ok(
        d,
        &[
            "sample",
            "z.safetensors",
            "--from",
            "data",
            "--steps",
            "0",
            "-n",
            "4",
            "-o",
            "s.npy",
        ],
    );
    let back = match onsager::io::npy::read(d.join("s.npy")).unwrap() {
        onsager::data::Values::F32(a) => a,
        other => panic!("{other:?}"),
    };
    let raw = match onsager::data::Dataset::bundled_mnist(onsager::data::Split::Test).values {
        onsager::data::Values::U8(a) => a,
        other => panic!("{other:?}"),
    };
    for ((r, c), x) in back.indexed_iter() {
        assert!(
            (*x as f64 - raw[[r, c]] as f64).abs() < 1e-2,
            "{r},{c}: {x}"
        );
    }
    fails(
        d,
        &["eval", "z.safetensors", "--preprocess", "scale"],
        "trained on standardised data",
    );
    ok(
        d,
        &[
            "train",
            "--hidden",
            "4",
            "--limit",
            "100",
            "--epochs",
            "1",
            "--quiet",
            "-o",
            "b.safetensors",
        ],
    );
    fails(
        d,
        &["eval", "b.safetensors", "--preprocess", "standardize"],
        "stores no standardisation",
    );
}

/// `onsager show distortions` draws one digit and its deformations, and refuses settings and
/// rows that do not exist by name.
#[test]
fn show_distortions_draws_a_grid_and_refuses_bad_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let out = ok(
        d,
        &[
            "show",
            "distortions",
            "--index",
            "3",
            "-n",
            "9",
            "-o",
            "d.png",
        ],
    );
    assert!(
        out.contains("8 deformations") && out.contains("α 36"),
        "{out}"
    );
    let bytes = std::fs::read(d.join("d.png")).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    fails(
        d,
        &["show", "distortions", "--alpha=-1", "-o", "x.png"],
        "alpha = -1",
    );
    fails(
        d,
        &["show", "distortions", "--scale", "1.5", "-o", "x.png"],
        "scale = 1.5",
    );
    fails(
        d,
        &["show", "distortions", "--index", "99999", "-o", "x.png"],
        "--index 99999",
    );
    assert!(!d.join("x.png").exists());
}

/// `onsager classify`: `fit` trains a network (from a pretrained stack too) and reports the
/// test error, `eval` scores the saved file to the same figure, and what cannot work is
/// refused by name before any training.
#[test]
fn classify_fits_and_evaluates_networks_and_refuses_what_cannot_work() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let out = ok(
        d,
        &[
            "classify",
            "fit",
            "--hidden",
            "100",
            "--epochs",
            "3",
            "--validation-size",
            "500",
            "-o",
            "a.safetensors",
        ],
    );
    let error = |text: &str, word: &str| -> f64 {
        let at = text.find(word).unwrap_or_else(|| panic!("{text}"));
        text[at + word.len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let fitted = error(&out, "test error ");
    assert!(fitted < 0.25, "{out}");
    assert!(
        out.contains("validation error") && out.contains("kept"),
        "{out}"
    );
    let eval = ok(d, &["classify", "eval", "a.safetensors"]);
    assert_eq!(error(&eval, "error "), fitted, "{eval}");
    let out = ok(
        d,
        &[
            "classify",
            "fit",
            "--hidden",
            "50,30",
            "--pretrain",
            "cd",
            "--pretrain-epochs",
            "1",
            "--epochs",
            "1",
            "--distort",
            "-o",
            "b.safetensors",
        ],
    );
    assert!(error(&out, "test error ") < 0.9, "{out}");
    for line in [
        "pretraining layer 1/2: 50 hidden units by CD-1",
        "pretraining layer 2/2  epoch 1/1",
        "epoch 1/1  lr",
    ] {
        assert!(out.contains(line), "{line} in {out}");
    }
    fails(
        d,
        &[
            "classify",
            "fit",
            "--pretrain",
            "cd",
            "--activation",
            "relu",
            "-o",
            "x.safetensors",
        ],
        "must be logistic",
    );
    fails(
        d,
        &[
            "classify",
            "fit",
            "--activation",
            "softsign",
            "-o",
            "x.safetensors",
        ],
        "activation",
    );
    fails(
        d,
        &[
            "classify",
            "fit",
            "--validation-size",
            "99999",
            "-o",
            "x.safetensors",
        ],
        "leaves no training rows",
    );
    // A run diverging in its first epoch says so and writes nothing (no epoch to keep).
    fails(
        d,
        &[
            "classify",
            "fit",
            "--activation",
            "relu",
            "--lr",
            "1e20",
            "-o",
            "x.safetensors",
        ],
        "training diverged in epoch 1",
    );
    // The loss ceiling: checked by the library, `off` accepted, anything else refused.
    fails(
        d,
        &[
            "classify",
            "fit",
            "--loss-limit",
            "0",
            "-o",
            "x.safetensors",
        ],
        "loss_limit = 0: must be finite and positive",
    );
    refused_by_parser(
        d,
        &[
            "classify",
            "fit",
            "--loss-limit",
            "nope",
            "-o",
            "x.safetensors",
        ],
        "neither a number nor `off`",
    );
    ok(
        d,
        &[
            "classify",
            "fit",
            "--hidden",
            "20",
            "--epochs",
            "1",
            "--loss-limit",
            "off",
            "-o",
            "c.safetensors",
        ],
    );
    std::fs::write(d.join("x.csv"), "0,1\n1,0\n").unwrap();
    fails(
        d,
        &["classify", "fit", "x.csv", "-o", "x.safetensors"],
        "has no labels",
    );
    fails(d, &["classify", "eval", "x.csv"], "x.csv");
    assert!(!d.join("x.safetensors").exists());
}
