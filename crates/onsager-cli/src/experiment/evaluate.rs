//! What the experiment measures: the per-epoch validation curves, every test figure of a
//! trained model (through the library's `Estimator`), and the classifier on the hidden units.

use std::ops::ControlFlow;

use anyhow::{Context, Result};
use ndarray::{Array1, Array2, ArrayView2};
use onsager::estimate::emf::EmfEstimator;
use onsager::estimate::pseudo;
use onsager::{EmfOrder, EpochMetrics, EpochReport, Estimator, Monitor, Rbm};

use super::data::Data;

/// Sweep cap of the per-epoch EMF estimate (the test estimate keeps the default 2000).
pub const CURVE_EMF_SWEEPS: usize = 300;

/// Records the validation curves after every epoch (as the model's history) and prints a line
/// per epoch.
pub struct Curves<'a> {
    pub label: &'static str,
    pub valid: ArrayView2<'a, f32>,
    /// The AIS estimator of the curve (100 runs, fewer temperatures than the test's).
    pub ais: Estimator,
    pub history: Vec<EpochMetrics>,
}

impl Monitor<f32> for Curves<'_> {
    fn on_batch(&mut self, _: &onsager::BatchProgress) -> ControlFlow<()> {
        // Ctrl-C stops the experiment between mini-batches (`run` then reports it).
        if crate::interrupt::flag().is_cancelled() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn on_epoch(&mut self, r: &EpochReport, model: &Rbm<f32>) -> ControlFlow<()> {
        let estimate = |est: &Estimator| {
            est.log_likelihood_with(model, self.valid, &mut crate::interrupt::flag())
                .ok()
        };
        let ais = estimate(&self.ais);
        let emf2 = estimate(&Estimator::Emf(EmfEstimator {
            max_iter: CURVE_EMF_SWEEPS,
            ..Default::default()
        }))
        .map_or(f64::NAN, |ll| ll.mean);
        let ais_mean = ais.as_ref().map_or(f64::NAN, |ll| ll.mean);
        let open = match &ais {
            Some(ll) if !ll.upper.is_some_and(f64::is_finite) => " (no upper bound)",
            _ => "",
        };
        eprintln!(
            "{:17} epoch {:3}/{}  {:6.2} s  validation log-likelihood: AIS {ais_mean:8.2}{open}, EMF-2 {emf2:8.2}",
            self.label, r.epoch, r.epochs, r.seconds
        );
        let finite = |x: f64| x.is_finite().then_some(x);
        let bound = |b: Option<f64>| b.and_then(finite);
        self.history.push(EpochMetrics {
            ais_log_likelihood: finite(ais_mean),
            ais_log_likelihood_lower: ais.as_ref().and_then(|ll| bound(ll.lower)),
            ais_log_likelihood_upper: ais.as_ref().and_then(|ll| bound(ll.upper)),
            emf_log_likelihood: finite(emf2),
            ..EpochMetrics::from_report(r)
        });
        ControlFlow::Continue(())
    }
}

/// The test figures of one model.
#[derive(Clone, Debug)]
pub struct Figures {
    pub ais: (f64, f64, f64),
    pub log_z: f64,
    pub emf2: f64,
    pub emf3: f64,
    pub pseudo: f64,
    pub recon: f64,
    pub accuracy: f64,
}

/// The mean EMF log-likelihood of `x` at `order`.
fn mean_emf(order: EmfOrder, rbm: &Rbm<f32>, x: ArrayView2<'_, f32>) -> Result<f64> {
    let est = Estimator::Emf(EmfEstimator {
        order,
        ..Default::default()
    });
    Ok(est.log_likelihood(rbm, x)?.mean)
}

/// Every test figure of `rbm`; `ais` is the test's AIS estimator.
pub fn evaluate(rbm: &Rbm<f32>, d: &Data, ais: &Estimator, seed: u64) -> Result<Figures> {
    let ll = ais.log_likelihood_with(
        rbm,
        d.test.view(),
        &mut crate::interrupt::progress("test AIS", false),
    )?;
    let features = |x: &Array2<f32>| rbm.hidden_probs(x.view());
    let bound = |b: Option<f64>| b.unwrap_or(f64::NAN);
    Ok(Figures {
        ais: (ll.mean, bound(ll.lower), bound(ll.upper)),
        log_z: ll.log_z,
        emf2: mean_emf(EmfOrder::Second, rbm, d.test.view())?,
        emf3: mean_emf(EmfOrder::Third, rbm, d.test.view())?,
        pseudo: pseudo::pseudo_log_likelihood(rbm, d.test.view(), seed)?
            .mean()
            .unwrap_or(f64::NAN),
        recon: pseudo::reconstruction_error(rbm, d.test.view())?,
        accuracy: classify(
            &features(&d.train)?,
            &d.train_labels,
            &features(&d.test)?,
            &d.test_labels,
        )?,
    })
}

/// Test accuracy of a multinomial logistic regression (linfa-logistic: L-BFGS, L2 penalty 1,
/// intercept, at most 100 iterations, gradient tolerance 1e-4) trained on `train` features.
pub fn classify(
    train: &Array2<f32>,
    train_labels: &Array1<usize>,
    test: &Array2<f32>,
    test_labels: &Array1<usize>,
) -> Result<f64> {
    use linfa::prelude::{Fit, Predict};
    // linfa speaks ndarray 0.16; the features cross as plain vectors.
    let to16 = |x: &Array2<f32>| {
        ndarray16::Array2::from_shape_vec(x.dim(), x.iter().map(|&v| v as f64).collect())
            .expect("the shape of the source")
    };
    let labels16 = |y: &Array1<usize>| ndarray16::Array1::from_vec(y.to_vec());
    let ds = linfa::Dataset::new(to16(train), labels16(train_labels));
    // linfa's defaults, spelled out so that the protocol does not move with them.
    let model = linfa_logistic::MultiLogisticRegression::default()
        .alpha(1.0)
        .with_intercept(true)
        .max_iterations(100)
        .gradient_tolerance(1e-4)
        .fit(&ds)
        .context("logistic regression")?;
    let predicted = model.predict(&to16(test));
    let right = predicted
        .iter()
        .zip(test_labels)
        .filter(|(p, y)| p == y)
        .count();
    Ok(right as f64 / test_labels.len().max(1) as f64)
}
