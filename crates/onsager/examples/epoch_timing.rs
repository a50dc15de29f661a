//! Times one epoch of each method on MNIST-shaped random binary data (60 000 × 784, 500 hidden,
//! batch 100, f32) and prints the matrix-product rate it implies.
//!
//! `cargo run --release -p onsager --example epoch_timing [rows]`
use ndarray::Array2;
use onsager::{EmfOrder, Method, TrainParams, Trainer};

fn main() -> Result<(), onsager::Error> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(60_000);
    let mut r = onsager::rng::stream(1, onsager::rng::Domain::Order, 0);
    let data = Array2::from_shape_fn((n, 784), |_| {
        (onsager::rng::uniform::<f32>(&mut r) < 0.13) as u8 as f32
    });
    let (nv, nh, b) = (784.0, 500.0, 100.0);
    let product = 2.0 * b * nv * nh; // FLOPs of one (b × nv)·(nv × nh) product
    for (name, method, products) in [
        ("CD-1", Method::Cd { k: 1 }, 5.0),
        ("PCD-1", Method::Pcd { k: 1, chains: 100 }, 6.0),
        (
            "EMF-1 x3",
            Method::emf(EmfOrder::First),
            2.0 + 2.0 * 3.0 + 1.0,
        ),
        (
            "EMF-2 x3",
            Method::emf(EmfOrder::Second),
            2.0 + 4.0 * 3.0 + 2.0,
        ),
        (
            "EMF-3 x3",
            Method::emf(EmfOrder::Third),
            2.0 + 6.0 * 3.0 + 3.0,
        ),
    ] {
        let p = TrainParams::builder()
            .n_hidden(500)
            .method(method)
            .batch_size(100)
            .epochs(1)
            .build()?;
        let mut t = Trainer::<f32>::new(p, 784)?;
        let start = std::time::Instant::now();
        t.fit(data.view(), &mut ())?;
        let secs = start.elapsed().as_secs_f64();
        let flops = products * product * (n as f64 / b);
        println!(
            "{name:9} {secs:7.3} s/epoch  {:6.1} GFLOP/s in products",
            flops / secs / 1e9
        );
    }
    Ok(())
}
