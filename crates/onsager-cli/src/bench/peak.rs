//! The machine's matrix-product peak, measured in the same run as the figures it judges.

use onsager::linalg;

/// The rate of f32 products (m × k)·(k × n) on this machine, in GFLOP/s: the best of 5
/// timings of 20 products on a pool of `threads` threads (0: rayon's default).
///
/// # Panics
/// If a thread pool cannot be created.
pub fn measure(m: usize, k: usize, n: usize, threads: usize) -> f64 {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    let a = ndarray::Array2::from_shape_fn((m, k), |(i, j)| ((i + j) % 2) as f32);
    let b = ndarray::Array2::from_shape_fn((k, n), |(i, j)| ((i * 3 + j) % 7) as f32 * 0.01);
    let mut c = ndarray::Array2::<f32>::zeros((m, n));
    let reps = 20;
    let mut best = f64::INFINITY;
    pool.install(|| {
        for _ in 0..5 {
            let t = std::time::Instant::now();
            for _ in 0..reps {
                linalg::gemm(c.view_mut(), false, a.view(), b.view(), 1.0);
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
    });
    2.0 * (m * k * n * reps) as f64 / best / 1e9
}
