//! A mutation fuzzer over every reader of untrusted bytes: `.npy`, IDX (plain and gzip), CSV
//! and the model file (both float types). Each case takes a valid file, applies up to eight
//! random edits (bit flips, bytes set, runs inserted or deleted, truncation, 32-bit words with
//! sizes that overflow, tokens that matter to a header), and reads the result: the reader must
//! return a value or an error, never panic, abort or allocate what the file cannot back.
//!
//! In the test suite each reader gets a few hundred cases from a fixed seed (seconds). For a
//! longer run, set a time budget per reader (fresh seeds each round, progress printed):
//!
//! ```text
//! ONSAGER_FUZZ_SECONDS=600 cargo test --release -p onsager --test fuzz -- --nocapture
//! ```
//!
//! docs/testing.md records the last long run.

use std::path::Path;
use std::time::{Duration, Instant};

use ndarray::Array2;
use onsager::data::{Dataset, Preprocess};
use onsager::io::model::{self, ModelFile};
use onsager::{EmfOrder, Method, TrainParams, Trainer};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// One edit of a file's bytes; positions are taken modulo the length.
#[derive(Clone, Debug)]
enum Edit {
    Flip {
        at: usize,
        bit: u8,
    },
    Set {
        at: usize,
        byte: u8,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Delete {
        at: usize,
        len: usize,
    },
    Truncate {
        at: usize,
    },
    Word {
        at: usize,
        value: u32,
        big_endian: bool,
    },
    Token {
        at: usize,
        token: &'static str,
    },
}

/// 32-bit values that are sizes or counts at the edge of overflow.
const WORDS: [u32; 10] = [
    0,
    1,
    784,
    60_000,
    0xFFFF,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
    0x0000_0803,
    0x0010_0000,
];

/// Text that matters to an npy header, a CSV line or JSON metadata.
const TOKENS: [&str; 16] = [
    "(",
    ")",
    ",",
    "\n",
    "'",
    "\"",
    "{",
    "}",
    "[",
    "]",
    "9999999999999999999",
    "-1",
    "nan",
    "'<f8'",
    "True",
    "1e308",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Edit::Flip { at, bit }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Set { at, byte }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Edit::Insert { at, bytes }),
        (any::<usize>(), 1usize..64).prop_map(|(at, len)| Edit::Delete { at, len }),
        any::<usize>().prop_map(|at| Edit::Truncate { at }),
        (
            any::<usize>(),
            prop::sample::select(&WORDS[..]),
            any::<bool>()
        )
            .prop_map(|(at, value, big_endian)| Edit::Word {
                at,
                value,
                big_endian
            }),
        (any::<usize>(), prop::sample::select(&TOKENS[..]))
            .prop_map(|(at, token)| Edit::Token { at, token }),
    ]
}

fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for e in edits {
        let n = b.len().max(1);
        match e {
            Edit::Flip { at, bit } if !b.is_empty() => b[at % n] ^= 1 << bit,
            Edit::Set { at, byte } if !b.is_empty() => b[at % n] = *byte,
            Edit::Insert { at, bytes } => {
                let at = at % (b.len() + 1);
                b.splice(at..at, bytes.iter().copied());
            }
            Edit::Delete { at, len } if !b.is_empty() => {
                let at = at % n;
                b.drain(at..(at + len).min(b.len()));
            }
            Edit::Truncate { at } => b.truncate(at % (b.len() + 1)),
            Edit::Word {
                at,
                value,
                big_endian,
            } if b.len() >= 4 => {
                let at = at % (b.len() - 3);
                let w = if *big_endian {
                    value.to_be_bytes()
                } else {
                    value.to_le_bytes()
                };
                b[at..at + 4].copy_from_slice(&w);
            }
            Edit::Token { at, token } => {
                let at = at % (b.len() + 1);
                b.splice(at..at, token.bytes());
            }
            _ => {}
        }
    }
    b
}

/// The valid files each reader starts from.
struct Seeds {
    npy: Vec<Vec<u8>>,
    idx: Vec<Vec<u8>>,
    csv: Vec<Vec<u8>>,
    model: Vec<Vec<u8>>,
}

fn seeds(dir: &Path) -> Seeds {
    let bits = Array2::from_shape_fn((12, 16), |(i, j)| ((i * 3 + j) % 4 == 0) as u8 as f32);
    let read = |p: &Path| std::fs::read(p).unwrap();
    let mut npy = Vec::new();
    for (name, write) in [
        (
            "u8.npy",
            &(|p: &Path| onsager::io::npy::write(p, bits.mapv(|x| x as u8 * 255).view()))
                as &dyn Fn(&Path) -> onsager::Result<()>,
        ),
        ("f32.npy", &|p: &Path| {
            onsager::io::npy::write(p, bits.view())
        }),
        ("f64.npy", &|p: &Path| {
            onsager::io::npy::write(p, bits.mapv(f64::from).view())
        }),
    ] {
        let p = dir.join(name);
        write(&p).unwrap();
        npy.push(read(&p));
    }
    // IDX images (3-D) and labels (1-D), plain and gzip.
    let mut images = vec![0, 0, 8, 3, 0, 0, 0, 12, 0, 0, 0, 4, 0, 0, 0, 4];
    images.extend((0..12 * 16).map(|i| (i * 37 % 256) as u8));
    let mut labels = vec![0, 0, 8, 1, 0, 0, 0, 12];
    labels.extend((0..12).map(|i| i as u8 % 10));
    let gz = |b: &[u8]| {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    };
    let idx = vec![gz(&images), images.clone(), gz(&labels), labels];
    let csv = vec![
        b"a,b,c,d\n0,1,0.5,1\n1,0,0.25,0\n0,0,1,1\n".to_vec(),
        b"0,255,12\n3,4,5\n".to_vec(),
    ];
    // Model files: a fresh f32 model, and an f64 one with a checkpoint (persistent EMF state).
    let data = Array2::from_shape_fn((40, 16), |(i, j)| ((i + j) % 3 == 0) as u8 as f64);
    let params = TrainParams::builder()
        .n_hidden(3)
        .method(Method::emf(EmfOrder::Second))
        .batch_size(20)
        .epochs(1)
        .build()
        .unwrap();
    let mut t = Trainer::<f64>::new(params.clone(), 16).unwrap();
    t.fit(data.view(), &mut ()).unwrap();
    let mut with_state = ModelFile::new(t.model().clone());
    with_state.params = Some(params.into_config());
    with_state.epochs_completed = 1;
    with_state.state = Some(t.state());
    with_state.image_shape = Some((4, 4));
    let plain = ModelFile::new(onsager::Rbm::<f32>::random(16, 3, 0.1, 1).unwrap());
    let model = vec![
        model::to_bytes_file(&plain).unwrap(),
        model::to_bytes_file(&with_state).unwrap(),
    ];
    Seeds {
        npy,
        idx,
        csv,
        model,
    }
}

/// Runs `read` on mutations of `seeds`: `cases` from a fixed seed, or, with
/// `ONSAGER_FUZZ_SECONDS` set, rounds of fresh seeds until that many seconds have passed.
fn fuzz(name: &str, seeds: &[Vec<u8>], cases: u32, read: impl Fn(&[u8])) {
    let budget = std::env::var("ONSAGER_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs);
    let strategy = (0..seeds.len(), prop::collection::vec(edit(), 1..8));
    let start = Instant::now();
    let (mut round, mut total) = (0u64, 0u64);
    loop {
        let config = Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        };
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&round.to_le_bytes());
        key[8..8 + name.len().min(24)].copy_from_slice(&name.as_bytes()[..name.len().min(24)]);
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &key);
        let mut runner = TestRunner::new_with_rng(config, rng);
        let outcome = runner.run(&strategy, |(i, edits)| {
            let bytes = apply(&seeds[i], &edits);
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(&bytes)))
                .map_err(|_| TestCaseError::fail(format!("{name}: panic on {edits:?}")))
        });
        if let Err(e) = outcome {
            panic!("{name}: {e}");
        }
        total += u64::from(cases);
        round += 1;
        match budget {
            Some(b) if start.elapsed() < b => {}
            _ => break,
        }
    }
    if budget.is_some() {
        println!(
            "{name}: {total} mutated files in {:.0} s, 0 crashes",
            start.elapsed().as_secs_f64()
        );
    }
}

/// Loads `bytes` as a data file named `name` and prepares it, as `onsager train FILE` does.
fn load_data(dir: &Path, name: &str, bytes: &[u8]) {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    if let Ok(d) = Dataset::load(&p) {
        let _ = d.prepare::<f32>(Preprocess::Auto);
        let _ = d.prepare::<f64>(Preprocess::Scale);
    }
}

#[test]
fn npy_reader_survives_mutation() {
    let dir = tempfile::tempdir().unwrap();
    let s = seeds(dir.path());
    fuzz("npy", &s.npy, 2000, |b| load_data(dir.path(), "x.npy", b));
}

#[test]
fn idx_reader_survives_mutation() {
    let dir = tempfile::tempdir().unwrap();
    let s = seeds(dir.path());
    fuzz("idx", &s.idx, 2000, |b| {
        load_data(dir.path(), "x-images-idx3-ubyte", b);
        let p = dir.path().join("y-labels-idx1-ubyte");
        std::fs::write(&p, b).unwrap();
        let _ = onsager::io::idx::read_labels(&p);
    });
}

#[test]
fn csv_reader_survives_mutation() {
    let dir = tempfile::tempdir().unwrap();
    let s = seeds(dir.path());
    fuzz("csv", &s.csv, 2000, |b| load_data(dir.path(), "x.csv", b));
}

#[test]
fn model_reader_survives_mutation() {
    let dir = tempfile::tempdir().unwrap();
    let s = seeds(dir.path());
    let path = Path::new("m.safetensors");
    fuzz("model", &s.model, 2000, |b| {
        let _ = model::bytes_dtype(path, b);
        let _ = model::from_bytes::<f32>(path, b);
        let _ = model::from_bytes::<f64>(path, b);
    });
}
