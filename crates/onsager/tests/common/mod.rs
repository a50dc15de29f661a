//! Shared test helpers: random models and brute-force oracles over every (v, h).
#![allow(dead_code)]

use ndarray::{Array1, Array2};
use onsager::{Float, Rbm};
use rand::RngExt;
use rand_distr::StandardNormal;

/// A model with W ~ N(0, w_std²), a, b ~ N(0, bias_std²), from `seed`.
pub fn random_rbm<T: Float>(nv: usize, nh: usize, w_std: f64, bias_std: f64, seed: u64) -> Rbm<T> {
    let mut r = onsager::rng::stream(seed, onsager::rng::Domain::Other, 999);
    let mut n = |s: f64| T::of(s * r.sample::<f64, _>(StandardNormal));
    let w = Array2::from_shape_fn((nv, nh), |_| n(w_std));
    let a = Array1::from_shape_fn(nv, |_| n(bias_std));
    let b = Array1::from_shape_fn(nh, |_| n(bias_std));
    Rbm::from_parts(w, a, b).unwrap()
}

/// The same parameters scaled: W → εW (biases kept).
pub fn scale_weights<T: Float>(rbm: &Rbm<T>, eps: f64) -> Rbm<T> {
    Rbm::from_parts(
        rbm.weights().mapv(|w| T::of(w.f64() * eps)),
        rbm.visible_bias().to_owned(),
        rbm.hidden_bias().to_owned(),
    )
    .unwrap()
    .with_beta(rbm.beta())
    .unwrap()
}

/// All 2^n binary vectors as rows, bit j of row s being unit j.
pub fn all_states(n: usize) -> Array2<f64> {
    Array2::from_shape_fn((1 << n, n), |(s, j)| (s >> j & 1) as f64)
}

/// −β·E(v, h) computed directly from the definition, in f64.
pub fn neg_energy<T: Float>(rbm: &Rbm<T>, v: &[f64], h: &[f64]) -> f64 {
    let (w, a, b) = (rbm.weights(), rbm.visible_bias(), rbm.hidden_bias());
    let mut e = 0.0;
    for i in 0..v.len() {
        e += a[i].f64() * v[i];
        for j in 0..h.len() {
            e += v[i] * w[[i, j]].f64() * h[j];
        }
    }
    for j in 0..h.len() {
        e += b[j].f64() * h[j];
    }
    rbm.beta().f64() * e
}

/// Brute-force oracle: the table of −βE over every (v, h).
pub struct BruteForce {
    pub vs: Array2<f64>,
    pub hs: Array2<f64>,
    /// neg_e[[v, h]] = −βE(v, h).
    pub neg_e: Array2<f64>,
}

impl BruteForce {
    pub fn new<T: Float>(rbm: &Rbm<T>) -> Self {
        let vs = all_states(rbm.n_visible());
        let hs = all_states(rbm.n_hidden());
        let neg_e = Array2::from_shape_fn((vs.nrows(), hs.nrows()), |(i, j)| {
            neg_energy(
                rbm,
                vs.row(i).as_slice().unwrap(),
                hs.row(j).as_slice().unwrap(),
            )
        });
        Self { vs, hs, neg_e }
    }

    fn lse(xs: impl Iterator<Item = f64>) -> f64 {
        let xs: Vec<f64> = xs.collect();
        let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
    }

    pub fn log_z(&self) -> f64 {
        Self::lse(self.neg_e.iter().copied())
    }

    /// F_c(v) = −log Σ_h exp(−βE(v, h)) for visible state index `vi`.
    pub fn free_energy(&self, vi: usize) -> f64 {
        -Self::lse(self.neg_e.row(vi).iter().copied())
    }

    /// P(h_j = 1 | v) for visible state index `vi`.
    pub fn p_h_given_v(&self, vi: usize, j: usize) -> f64 {
        let num = Self::lse(
            (0..self.hs.nrows())
                .filter(|&s| self.hs[[s, j]] == 1.0)
                .map(|s| self.neg_e[[vi, s]]),
        );
        (num + self.free_energy(vi)).exp()
    }

    /// P(v_i = 1 | h) for hidden state index `hi`.
    pub fn p_v_given_h(&self, hi: usize, i: usize) -> f64 {
        let all = Self::lse(self.neg_e.column(hi).iter().copied());
        let num = Self::lse(
            (0..self.vs.nrows())
                .filter(|&s| self.vs[[s, i]] == 1.0)
                .map(|s| self.neg_e[[s, hi]]),
        );
        (num - all).exp()
    }
}

/// The shared MNIST folder (`../shared/data/mnist` beside the project root).
pub fn mnist_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist")
}

/// The folder with the four standard MNIST files beside the checkout, where they are (as on CI);
/// `None` on a fresh clone, or when `ONSAGER_TEST_BUNDLED_ONLY` is set to try that case. Tests
/// that need the full files skip then, saying so; the others use the bundled sample.
pub fn shared_mnist() -> Option<std::path::PathBuf> {
    let dir = mnist_dir();
    let there = dir.join("train-images-idx3-ubyte.gz").exists();
    (there && std::env::var_os("ONSAGER_TEST_BUNDLED_ONLY").is_none()).then_some(dir)
}

/// Says that a test needing the full MNIST files did not run.
#[allow(dead_code)] // each test binary uses its own subset of the helpers
pub fn skip_without_mnist(test: &str) {
    eprintln!(
        "SKIPPED {test}: no MNIST files at {} (a fresh clone runs it on CI)",
        mnist_dir().display()
    );
}

/// MNIST training images as bytes: all 60 000 from the shared files, else the 5000 of the
/// bundled sample (the first 5000, thresholded at 128 to 0 or 255).
#[allow(dead_code)]
pub fn train_images() -> ndarray::Array2<u8> {
    match shared_mnist() {
        Some(d) => onsager::io::idx::read_images(d.join("train-images-idx3-ubyte.gz"))
            .expect("the shared MNIST files"),
        None => match onsager::data::Dataset::bundled_mnist(onsager::data::Split::Train).values {
            onsager::data::Values::U8(a) => a,
            _ => unreachable!("the bundled sample is bytes"),
        },
    }
}

/// `n` binarised (≥ 128) 4×4 patches from the central 20×20 of random images among all 60 000
/// MNIST training images: a 16-pixel data set with real structure on which exact likelihoods are
/// cheap. `None` without the shared files: the training tests' thresholds were set on these
/// patches, and patches drawn from the bundled 5000 images alone fail two of them (EMF-1 gains
/// 0.08 nats there where the test asks for 2), so those tests skip rather than pass on other data.
pub fn mnist_patches(n: usize, seed: u64) -> Option<Array2<f64>> {
    shared_mnist()?;
    let imgs = train_images();
    let mut r = onsager::rng::stream(seed, onsager::rng::Domain::Order, 77);
    let mut out = Array2::zeros((n, 16));
    for mut row in out.rows_mut() {
        let i = onsager::rng::index(&mut r, imgs.nrows());
        let (y, x) = (
            4 + onsager::rng::index(&mut r, 17),
            4 + onsager::rng::index(&mut r, 17),
        );
        for p in 0..16 {
            row[p] = (imgs[[i, (y + p / 4) * 28 + x + p % 4]] >= 128) as u8 as f64;
        }
    }
    Some(out)
}

/// The model at the start of training: zero weights, visible bias at the clipped log-odds of
/// the data means (as the trainer initialises it), zero hidden bias.
pub fn start_model(data: &Array2<f64>, nh: usize) -> Rbm<f64> {
    let means = data.mean_axis(ndarray::Axis(0)).unwrap();
    let a = means.mapv(|p| {
        let p = p.clamp(1e-3, 1.0 - 1e-3);
        (p / (1.0 - p)).ln()
    });
    Rbm::from_parts(Array2::zeros((data.ncols(), nh)), a, Array1::zeros(nh)).unwrap()
}

/// A monitor that stops training after the given epoch (1-based).
pub struct StopAtEpoch(pub usize);

impl<T: Float> onsager::Monitor<T> for StopAtEpoch {
    fn on_epoch(&mut self, r: &onsager::EpochReport, _: &Rbm<T>) -> std::ops::ControlFlow<()> {
        if r.epoch == self.0 {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    }
}
