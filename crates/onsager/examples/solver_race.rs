//! Sweeps and wall time each fixed-point solver needs to reach a tolerance on a trained model,
//! from data rows (docs/performance.md, "Fixed-point solvers"):
//!
//! ```bash
//! cargo run --release -p onsager --example solver_race -- MODEL.safetensors MNIST_DIR [ROWS]
//! ```
//!
//! For each solver and tolerance it prints the sweeps to reach the tolerance on every row
//! (or the cap), the seconds, and the mean over rows of −Γ₂ at the point reached.

use std::time::Instant;

use onsager::data::{Dataset, Preprocess, Split};
use onsager::{io, meanfield, EmfOrder, Solver};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: solver_race MODEL.safetensors MNIST_DIR [ROWS]".into());
    }
    let rbm = io::model::load::<f32>(&args[1])?.rbm;
    let rows: usize = args.get(3).map_or(Ok(100), |r| r.parse())?;
    let data = Dataset::mnist(&args[2], Split::Test)?
        .prepare::<f32>(Preprocess::Binarize { threshold: 0.5 })?;
    let v = data.slice(ndarray::s![..rows, ..]);
    let h = rbm.hidden_probs(v)?;
    println!("| solver | damping | tolerance | sweeps | converged | seconds | mean −Γ₂ |");
    println!("|---|---|---|---|---|---|---|");
    // TOLS=1e-2,1e-3 chooses the tolerances (default 1e-2, 1e-3, 1e-4).
    let tols: Vec<f64> = match std::env::var("TOLS") {
        Ok(t) => t
            .split(',')
            .map(|x| x.trim().parse::<f64>())
            .collect::<Result<_, _>>()?,
        Err(_) => vec![1e-2, 1e-3, 1e-4],
    };
    for tol in tols {
        for (solver, damping) in [
            (Solver::Damped, 0.5f32),
            (Solver::Damped, 1.0),
            (Solver::Adaptive, 0.5),
            (Solver::Anderson { depth: 2 }, 0.5),
            (Solver::Anderson { depth: 5 }, 0.5),
            (Solver::Anderson { depth: 5 }, 1.0),
        ] {
            let t = Instant::now();
            let fp = meanfield::fixed_point(
                &rbm,
                EmfOrder::Second,
                v,
                h.view(),
                damping,
                500,
                tol,
                solver,
            )?;
            let secs = t.elapsed().as_secs_f64();
            let g = meanfield::gamma(&rbm, EmfOrder::Second, fp.m_v.view(), fp.m_h.view())?;
            println!(
                "| {solver} | {damping} | {tol:e} | {} | {} | {secs:.3} | {:.3} |",
                fp.iterations,
                fp.converged,
                -g.mean().unwrap_or(f64::NAN)
            );
        }
    }
    Ok(())
}
