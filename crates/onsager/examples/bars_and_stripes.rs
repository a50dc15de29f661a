//! Trains every method on 3×4 bars-and-stripes (12 visible units, 22 patterns, each repeated
//! 10 times) with 10 hidden units and prints the exact mean log-likelihood of the patterns for
//! three seeds. The optimum is −ln 22 ≈ −3.091 nats.
//!
//! `cargo run --release -p onsager --example bars_and_stripes [epochs [lr [momentum [iters]]]]`
//! (defaults 300, 0.1 decaying linearly to 0, 0.5, 3).

use ndarray::Array2;
use onsager::estimate::exact;
use onsager::{EmfOrder, Method, Persistence, TrainParams, Trainer};

/// Every distinct bars-and-stripes pattern on a `rows × cols` grid, one per row.
fn bars_and_stripes(rows: usize, cols: usize) -> Array2<f64> {
    let mut out = Vec::new();
    for mask in 0..1u32 << rows {
        out.push(
            (0..rows * cols)
                .map(|p| (mask >> (p / cols) & 1) as f64)
                .collect::<Vec<_>>(),
        );
    }
    for mask in 1..(1u32 << cols) - 1 {
        out.push(
            (0..rows * cols)
                .map(|p| (mask >> (p % cols) & 1) as f64)
                .collect(),
        );
    }
    Array2::from_shape_vec((out.len(), rows * cols), out.concat()).expect("shape")
}

fn main() -> Result<(), onsager::Error> {
    let arg = |i: usize, default: f64| {
        std::env::args()
            .nth(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let epochs = arg(1, 300.0) as usize;
    let lr = arg(2, 0.1);
    let momentum = arg(3, 0.5);
    let iterations = arg(4, 3.0) as usize;
    let patterns = bars_and_stripes(3, 4);
    let data = Array2::from_shape_fn((patterns.nrows() * 10, 12), |(i, j)| {
        patterns[[i % patterns.nrows(), j]]
    });
    println!(
        "{} patterns; optimum {:.3} nats",
        patterns.nrows(),
        -(patterns.nrows() as f64).ln()
    );
    // The starting point: zero weights, visible bias at the log-odds of the pixel means.
    let means = data.mean_axis(ndarray::Axis(0)).expect("non-empty");
    let start = onsager::Rbm::from_parts(
        Array2::zeros((12, 10)),
        means.mapv(|p: f64| (p / (1.0 - p)).ln()),
        ndarray::Array1::zeros(10),
    )?;
    println!(
        "start        {:8.3}",
        exact::mean_log_likelihood(&start, patterns.view())?
    );
    // The reference algorithm's EMF (damped sweeps, no re-seeding), and the library's defaults.
    let emf =
        |order, persistence| Method::emf_reference(order, persistence).with_sweeps(iterations, 0.0);
    let methods = [
        ("CD-1", Method::Cd { k: 1 }),
        ("PCD-1", Method::Pcd { k: 1, chains: 22 }),
        ("EMF-1 default", Method::emf(EmfOrder::First)),
        ("EMF-2 default", Method::emf(EmfOrder::Second)),
        ("EMF-3 default", Method::emf(EmfOrder::Third)),
        ("EMF-1 pers", emf(EmfOrder::First, Persistence::Persistent)),
        ("EMF-2 pers", emf(EmfOrder::Second, Persistence::Persistent)),
        ("EMF-3 pers", emf(EmfOrder::Third, Persistence::Persistent)),
        ("EMF-2 data", emf(EmfOrder::Second, Persistence::DataInit)),
        ("EMF-3 data", emf(EmfOrder::Third, Persistence::DataInit)),
    ];
    for (name, method) in methods {
        let mut row = Vec::new();
        for seed in 0..3 {
            let params = TrainParams::builder()
                .n_hidden(10)
                .method(method)
                .learning_rate(lr)
                .schedule(onsager::Schedule::Linear { final_rate: 0.0 })
                .batch_size(22)
                .momentum(momentum)
                .epochs(epochs)
                .init_std(0.1)
                .decay(onsager::Decay::None)
                .seed(seed)
                .build()?;
            let mut t = Trainer::<f64>::new(params, 12)?;
            t.fit(data.view(), &mut ())?;
            row.push(exact::mean_log_likelihood(t.model(), patterns.view())?);
        }
        println!(
            "{name:12} {}",
            row.iter().map(|x| format!("{x:8.3}")).collect::<String>()
        );
    }
    Ok(())
}
