//! AIS of a 784 × 500 model with 100 runs × 14 500 temperatures (Salakhutdinov & Murray's
//! schedule): wall time and the rate of its matrix products, next to the machine's product
//! peak measured here at the same shapes.
//!
//! `cargo bench -p onsager --bench ais` (prints; no statistics, one AIS takes tens of seconds).

use std::time::Instant;

use onsager::estimate::ais::{Ais, BaseModel};
use onsager::{linalg, Rbm};

fn main() {
    let (nv, nh, runs) = (784, 500, 100);
    println!("threads: {}", rayon::current_num_threads());
    let p1 = linalg::measure_peak(runs, nv, nh, 0);
    let p2 = linalg::measure_peak(runs, nh, nv, 0);
    println!("peak: {p1:.1} GFLOP/s at {runs}x{nv}x{nh}, {p2:.1} GFLOP/s at {runs}x{nh}x{nv}");

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
