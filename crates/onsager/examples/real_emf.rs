//! The table of docs/maths.md §4b: the exact log-density of the training rows (nats per row)
//! after CD-1 and after EMF-1/EMF-2 started from the data or persistent (3 sweeps, and EMF-2
//! with 50 sweeps to 10⁻⁷), for Gaussian and
//! truncated-Gaussian visible units with σ fixed and learned, on two 6-D clusters (400 rows,
//! 4 hidden, 30 epochs, lr 0.02, batch 20, seed 2; the data of `tests/real_tap.rs`).
//!
//! Run: `cargo run --release -p onsager --example real_emf` (a few seconds).

use ndarray::Array2;
use onsager::estimate::exact;
use onsager::rng::{self, Domain};
use onsager::{EmfOrder, Method, Persistence, Sigma, TrainParams, Visible};

fn clusters(truncated: bool) -> Array2<f64> {
    let mut r = rng::stream(5, Domain::Other, 0);
    Array2::from_shape_fn((400, 6), |(row, i)| {
        let centre = if (row % 2 == 0) == (i < 3) { 1.0 } else { -1.0 };
        let x = centre + (rng::uniform::<f64>(&mut r) - 0.5) * 0.8;
        if truncated {
            1.0 / (1.0 + (-1.5 * x).exp())
        } else {
            x
        }
    })
}

fn main() -> onsager::Result<()> {
    let learned = |init| Sigma::Learned { init, floor: 0.05 };
    let cases = [
        (
            "Gaussian, fixed 1",
            Visible::Gaussian,
            Sigma::Fixed { value: 1.0 },
        ),
        ("Gaussian, learned", Visible::Gaussian, learned(1.0)),
        (
            "truncated [0, 1], fixed 0.3",
            Visible::TRUNCATED_UNIT,
            Sigma::Fixed { value: 0.3 },
        ),
        (
            "truncated [0, 1], learned from 0.3",
            Visible::TRUNCATED_UNIT,
            learned(0.3),
        ),
    ];
    println!("| units, σ | untrained | CD-1 | EMF-1 data | EMF-2 data | EMF-1 persistent | EMF-2 persistent | EMF-2 persistent, 50 sweeps |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, visible, sigma) in cases {
        let data = clusters(visible != Visible::Gaussian);
        let ll = |method: Method, epochs: usize| -> onsager::Result<f64> {
            let rbm = TrainParams::builder()
                .n_hidden(4)
                .visible(visible)
                .sigma(sigma)
                .method(method)
                .learning_rate(0.02)
                .batch_size(20)
                .epochs(epochs)
                .seed(2)
                .build()?
                .fit(data.view())?;
            exact::mean_log_likelihood(&rbm, data.view())
        };
        let emf = |order, p| Method::emf(order).with_persistence(p);
        let row = [
            ll(Method::Cd { k: 1 }, 0)?,
            ll(Method::Cd { k: 1 }, 30)?,
            ll(emf(EmfOrder::First, Persistence::DataInit), 30)?,
            ll(emf(EmfOrder::Second, Persistence::DataInit), 30)?,
            ll(emf(EmfOrder::First, Persistence::Persistent), 30)?,
            ll(emf(EmfOrder::Second, Persistence::Persistent), 30)?,
            ll(
                emf(EmfOrder::Second, Persistence::Persistent).with_sweeps(50, 1e-7),
                30,
            )?,
        ];
        let cells: Vec<String> = row
            .iter()
            .map(|x| format!("{x:.2}").replace('-', "−"))
            .collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
    Ok(())
}
