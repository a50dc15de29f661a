//! `onsager bench`: the standard performance case (docs/performance.md).

mod peak;

use std::time::Instant;

use anyhow::Result;
use clap::Args;
use ndarray::Array2;
use onsager::estimate::ais::{Ais, AisSchedule, BaseModel};
use onsager::estimate::pseudo;
use onsager::{EmfOrder, Float, Method, Persistence, Rbm, Sigma, TrainParams, Trainer, Visible};
use serde_json::json;

/// `onsager bench` options.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Training rows (MNIST-shaped random binary data, 13% ones).
    #[arg(long, default_value_t = 60_000)]
    pub rows: usize,
    /// Hidden units.
    #[arg(long, default_value_t = 500)]
    pub hidden: usize,
    /// AIS temperatures (0 skips AIS).
    #[arg(long, default_value_t = 14_500)]
    pub ais_temperatures: usize,
    /// Skip the 1-thread and f64 comparisons (so does `--only`).
    #[arg(long)]
    pub quick: bool,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Time every case this many times and report the fastest (a shared machine's
    /// interference only ever adds time).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,
    /// Time only the cases whose name contains this text (e.g. `truncated`); the product
    /// peaks are always measured.
    #[arg(long)]
    pub only: Option<String>,
}

/// The fastest of `n` timings of `f` (which returns its own seconds).
fn best(n: u32, mut f: impl FnMut() -> Result<f64>) -> Result<f64> {
    let mut t = f64::INFINITY;
    for _ in 0..n {
        t = t.min(f()?);
    }
    Ok(t)
}

/// Seconds `f` takes.
fn timed<R>(f: impl FnOnce() -> onsager::Result<R>) -> Result<f64> {
    let t = Instant::now();
    f()?;
    Ok(t.elapsed().as_secs_f64())
}

const NV: usize = 784;
const BATCH: usize = 100;

/// Matrix products (each 2·B·nv·nh FLOPs) per mini-batch of a method (docs/performance.md).
fn products(method: Method) -> f64 {
    match method {
        Method::Cd { k } => (2 * k + 3) as f64,
        Method::Pcd { k, .. } => (2 * k + 4) as f64,
        Method::Emf {
            order, iterations, ..
        } => {
            let o = order.as_u8() as usize;
            (2 + 2 * o * iterations + o) as f64
        }
    }
}

/// Extra matrix products per mini-batch of real-valued visible units: the learned σ's two
/// statistics (H·Wᵀ of each phase) and, for their TAP at order 2, the gradient's Σ J²d.
fn real_products(method: Method, sigma: Sigma) -> f64 {
    let learned = if sigma.is_learned() { 2.0 } else { 0.0 };
    match method {
        Method::Emf { order, .. } if order.has_second() => learned + 1.0,
        _ => learned,
    }
}

/// Seconds of one training epoch.
fn epoch<T: Float>(data: &Array2<T>, hidden: usize, method: Method, threads: usize) -> Result<f64> {
    epoch_of(
        data,
        hidden,
        method,
        threads,
        Visible::Bernoulli,
        Sigma::default(),
    )
}

/// Seconds of one training epoch of visible units `visible` with σ set by `sigma`.
fn epoch_of<T: Float>(
    data: &Array2<T>,
    hidden: usize,
    method: Method,
    threads: usize,
    visible: Visible,
    sigma: Sigma,
) -> Result<f64> {
    let p = TrainParams::builder()
        .n_hidden(hidden)
        .method(method)
        .visible(visible)
        .sigma(sigma)
        .batch_size(BATCH)
        .epochs(1)
        .threads(threads)
        .build()?;
    let mut t = Trainer::<T>::new(p, NV)?;
    let start = Instant::now();
    t.fit(data.view(), &mut ())?;
    Ok(start.elapsed().as_secs_f64())
}

/// Peak resident memory of this process in bytes (Linux; 0 elsewhere).
fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

struct Row {
    name: String,
    seconds: f64,
    gflop: f64,
    peak: f64,
}

/// Runs `onsager bench`.
pub fn run(a: BenchArgs) -> Result<()> {
    let threads = rayon::current_num_threads();
    let nh = a.hidden;
    let peak_small = peak::measure(BATCH, NV, nh, threads);
    let peak_large = peak::measure(1000, NV, nh, threads);
    if !a.json {
        println!("threads {threads}; product peak {peak_small:.1} GFLOP/s at {BATCH}x{NV}x{nh}, {peak_large:.1} at 1000x{NV}x{nh}; each case the fastest of {}", a.repeat);
    }
    let mut r = onsager::rng::stream(1, onsager::rng::Domain::Sample, 0);
    let data = Array2::from_shape_fn((a.rows, NV), |_| {
        (onsager::rng::uniform::<f32>(&mut r) < 0.13) as u8 as f32
    });
    let rss_data = peak_rss();
    let per_product = 2.0 * (BATCH * NV * nh) as f64 / 1e9;
    let batches = a.rows.div_ceil(BATCH) as f64;
    let methods = [
        ("CD-1", Method::Cd { k: 1 }),
        (
            "PCD-1",
            Method::Pcd {
                k: 1,
                chains: BATCH,
            },
        ),
        ("EMF-1", Method::emf(EmfOrder::First)),
        ("EMF-2", Method::emf(EmfOrder::Second)),
        ("EMF-3", Method::emf(EmfOrder::Third)),
    ];
    let report = |row: Row| {
        let rate = row.gflop / row.seconds;
        if a.json {
            println!(
                "{}",
                json!({"case": row.name, "seconds": row.seconds, "gflop": row.gflop, "gflops": rate,
                       "peak_gflops": row.peak, "time_over_ideal": row.seconds / (row.gflop / row.peak)})
            );
        } else {
            println!(
                "{:34} {:8.3} s {:9.1} GFLOP {:7.1} GFLOP/s  {:5.1}% of peak  time/ideal {:4.2}",
                row.name,
                row.seconds,
                row.gflop,
                rate,
                100.0 * rate / row.peak,
                row.seconds / (row.gflop / row.peak)
            );
        }
    };
    let epoch_gflop = |m: Method| products(m) * per_product * batches;
    let wanted = |name: &str| a.only.as_deref().is_none_or(|o| name.contains(o));
    // Warm-up (thread pools, first touch of memory), not timed.
    epoch(
        &data.slice(ndarray::s![..2000.min(a.rows), ..]).to_owned(),
        nh,
        methods[0].1,
        0,
    )?;
    let mut all_threads = Vec::with_capacity(methods.len());
    for (name, m) in methods {
        if !wanted(&format!("epoch {name}")) {
            all_threads.push(f64::NAN);
            continue;
        }
        let s = best(a.repeat, || epoch(&data, nh, m, 0))?;
        all_threads.push(s);
        report(Row {
            name: format!("epoch {name}"),
            seconds: s,
            gflop: epoch_gflop(m),
            peak: peak_small,
        });
    }
    // Peak memory of the training epochs (the standard case), beyond the data.
    let extra = peak_rss().saturating_sub(rss_data);
    // Real-valued visible units (docs/maths.md §1b, §4b) on the same rows (bits lie in [0, 1]
    // and in ℝ): their draws and tilted moments cost more per unit than a logistic.
    let learned = Sigma::Learned {
        init: 0.3,
        floor: 0.01,
    };
    let real_cases = [
        (
            "CD-1 gaussian",
            Method::Cd { k: 1 },
            Visible::Gaussian,
            Sigma::default(),
        ),
        (
            "PCD-1 truncated",
            Method::Pcd {
                k: 1,
                chains: BATCH,
            },
            Visible::TRUNCATED_UNIT,
            Sigma::Fixed { value: 0.3 },
        ),
        (
            "PCD-1 truncated, σ learned",
            Method::Pcd {
                k: 1,
                chains: BATCH,
            },
            Visible::TRUNCATED_UNIT,
            learned,
        ),
        (
            "EMF-2 gaussian (data)",
            Method::emf(EmfOrder::Second).with_persistence(Persistence::DataInit),
            Visible::Gaussian,
            Sigma::default(),
        ),
        (
            "EMF-2 truncated (data)",
            Method::emf(EmfOrder::Second).with_persistence(Persistence::DataInit),
            Visible::TRUNCATED_UNIT,
            Sigma::Fixed { value: 0.3 },
        ),
    ];
    for (name, m, visible, sigma) in real_cases {
        if !wanted(&format!("epoch {name}")) {
            continue;
        }
        let s = best(a.repeat, || epoch_of(&data, nh, m, 0, visible, sigma))?;
        report(Row {
            name: format!("epoch {name}"),
            seconds: s,
            gflop: (products(m) + real_products(m, sigma)) * per_product * batches,
            peak: peak_small,
        });
    }
    // A supervised network (onsager-deep, docs/maths.md §10): one SGD epoch of 784-800-10 with
    // scaled tanh units, plain and with the training images distorted first (§9; the
    // distortions' arithmetic is not counted). Products per row: forward Σ 2·in·out, the weight
    // gradients the same, the deltas the same but for the first layer's.
    let labels: Vec<usize> = (0..a.rows).map(|i| i % 10).collect();
    let sizes = [NV, 800, 10];
    let per_row: f64 = sizes
        .windows(2)
        .map(|w| 2.0 * (w[0] * w[1]) as f64)
        .sum::<f64>()
        * 3.0
        - 2.0 * (sizes[0] * sizes[1]) as f64;
    let distorter = onsager_deep::Distorter::new(onsager_deep::Distortion::CIRESAN, (28, 28))?;
    for (name, distort) in [
        ("MLP 784-800-10", false),
        ("MLP 784-800-10, distorted", true),
    ] {
        if !wanted(&format!("epoch {name}")) {
            continue;
        }
        let s = best(a.repeat, || {
            let mut net = onsager_deep::Mlp::<f32>::random(
                &sizes,
                onsager_deep::Activation::ScaledTanh,
                onsager_deep::Init::Glorot,
                0,
            )?;
            let sgd = onsager_deep::Sgd {
                epochs: 1,
                batch_size: BATCH,
                learning_rate: 0.01,
                ..onsager_deep::Sgd::default()
            };
            let fitted = onsager_deep::fit(
                &mut net,
                onsager_deep::Labelled {
                    x: data.view(),
                    y: &labels,
                },
                None,
                distort.then_some(&distorter),
                &sgd,
                &mut |_, _| std::ops::ControlFlow::Continue(()),
            )?;
            Ok(fitted.history[0].seconds)
        })?;
        report(Row {
            name: format!("epoch {name}"),
            seconds: s,
            gflop: per_row * a.rows as f64 / 1e9,
            peak: peak_small,
        });
    }
    // The distortions alone (what the distorted epoch adds when it cannot hide them); their
    // "GFLOP" are the smoothing products' (3 per image: 56×28×28 and twice 28×28×28, f64).
    let name = format!("distort {} images", a.rows);
    if wanted(&name) {
        let mut out = ndarray::Array2::<f32>::zeros(data.dim());
        let seconds = best(a.repeat, || {
            let t = Instant::now();
            distorter.batch_into(data.view(), 0, 1, 0, out.view_mut())?;
            Ok(t.elapsed().as_secs_f64())
        })?;
        report(Row {
            name,
            seconds,
            gflop: 2.0 * (2 * 28 * 28 * 28 + 28 * 28 * 28) as f64 * a.rows as f64 / 1e9,
            peak: peak_small,
        });
    }
    let rbm = Rbm::<f32>::random(NV, nh, 0.05, 1)?;
    let test = data.slice(ndarray::s![..10_000.min(a.rows), ..]).to_owned();
    let name = format!("transform {} rows", test.nrows());
    if wanted(&name) {
        let seconds = best(a.repeat, || timed(|| rbm.hidden_probs(test.view())))?;
        report(Row {
            name,
            seconds,
            gflop: 2.0 * (test.nrows() * NV * nh) as f64 / 1e9,
            peak: peak_large,
        });
    }
    let name = format!("pseudo-likelihood {} rows", test.nrows());
    if wanted(&name) {
        let seconds = best(a.repeat, || {
            timed(|| pseudo::pseudo_log_likelihood(&rbm, test.view(), 0))
        })?;
        report(Row {
            name,
            seconds,
            gflop: 4.0 * (test.nrows() * NV * nh) as f64 / 1e9,
            peak: peak_large,
        });
    }
    if a.ais_temperatures > 0 && wanted("AIS") {
        let ais = Ais {
            runs: 100,
            schedule: AisSchedule::Piecewise {
                temperatures: a.ais_temperatures,
            },
            seed: 0,
        };
        let base = BaseModel::uniform(NV);
        let mut temperatures = 0;
        let seconds = best(a.repeat, || {
            let t = Instant::now();
            temperatures = ais.log_partition(&rbm, &base)?.temperatures;
            Ok(t.elapsed().as_secs_f64())
        })?;
        report(Row {
            name: format!("AIS 100 runs x {temperatures} temperatures"),
            seconds,
            gflop: 4.0 * (100 * NV * nh) as f64 * temperatures as f64 / 1e9,
            peak: peak_small,
        });
    }
    if !a.quick && a.only.is_none() {
        let one = peak::measure(BATCH, NV, nh, 1);
        for i in [0, 3] {
            let (name, m) = methods[i];
            let s = best(a.repeat, || epoch(&data, nh, m, 1))?;
            let speedup = s / all_threads[i];
            if a.json {
                println!(
                    "{}",
                    json!({"case": format!("thread speed-up {name}"), "threads": threads, "speedup": speedup})
                );
            } else {
                println!(
                    "{:34} {speedup:.2}x faster with {threads} threads than with 1",
                    format!("thread speed-up, {name}")
                );
            }
            report(Row {
                name: format!("epoch {name}, 1 thread"),
                seconds: s,
                gflop: epoch_gflop(m),
                peak: one,
            });
        }
        let data64 = data.mapv(|x| x as f64);
        for (name, m) in [("CD-1", methods[0].1), ("EMF-2", methods[3].1)] {
            let s = best(a.repeat, || epoch(&data64, nh, m, 0))?;
            report(Row {
                name: format!("epoch {name}, f64"),
                seconds: s,
                gflop: epoch_gflop(m),
                peak: peak_small,
            });
        }
    }
    if a.json {
        println!(
            "{}",
            json!({"case": "memory", "data_bytes": data.len() * 4, "training_peak_rss_above_data_bytes": extra})
        );
    } else {
        println!(
            "memory: data {:.0} MB; peak resident memory of the training epochs beyond the data: {:.1} MB",
            (data.len() * 4) as f64 / 1e6,
            extra as f64 / 1e6
        );
    }
    Ok(())
}
