//! AIS of a 784 × 500 model with 100 runs × 14 500 temperatures (Salakhutdinov & Murray's
//! schedule): wall time and the rate of its matrix products, next to the machine's product
//! peak measured here at the same shapes.
//!
//! `cargo bench -p onsager --bench ais` (prints; no statistics, one AIS takes tens of seconds).

use std::time::Instant;

use ndarray::Array2;
use onsager::estimate::ais::{Ais, BaseModel};
use onsager::{linalg, Rbm};

/// GFLOP/s of `(m × k)·(k × n)` products, best of 5 timings of `reps` products.
fn peak(m: usize, k: usize, n: usize, transposed_b: bool) -> f64 {
    let a = Array2::from_shape_fn((m, k), |(i, j)| ((i + j) % 2) as f32);
    let b = Array2::from_shape_fn(if transposed_b { (n, k) } else { (k, n) }, |(i, j)| {
        ((i * 3 + j) % 7) as f32 * 0.01
    });
    let mut c = Array2::<f32>::zeros((m, n));
    let reps = 50;
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..reps {
            let bv = if transposed_b { b.t() } else { b.view() };
            linalg::gemm(c.view_mut(), false, a.view(), bv, 1.0);
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    2.0 * (m * k * n * reps) as f64 / best / 1e9
}

fn main() {
    let (nv, nh, runs) = (784, 500, 100);
    println!("threads: {}", rayon::current_num_threads());
    let p1 = peak(runs, nv, nh, false);
    let p2 = peak(runs, nh, nv, true);
    println!("peak: {p1:.1} GFLOP/s at {runs}x{nv}x{nh} (V·W), {p2:.1} GFLOP/s at {runs}x{nh}x{nv} (H·Wᵀ)");

    let rbm = Rbm::<f32>::random(nv, nh, 0.05, 1).unwrap();
    let base = BaseModel::uniform(nv);
    let ais = Ais::default();
    let t = Instant::now();
    let est = ais.log_partition(&rbm, &base).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let flops = 2.0 * 2.0 * (runs * nv * nh) as f64 * est.temperatures as f64;
    let rate = flops / secs / 1e9;
    println!(
        "AIS {nv}x{nh}, {runs} runs x {} temperatures: {secs:.2} s, {:.0} GFLOP in products, {rate:.1} GFLOP/s = {:.0}% of peak",
        est.temperatures,
        flops / 1e9,
        100.0 * rate / (0.5 * (p1 + p2))
    );
    println!(
        "log Z = {:.3} [{:.3}, {:.3}]",
        est.log_z, est.log_z_lower, est.log_z_upper
    );
}
