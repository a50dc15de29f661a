//! RBM stacks (deep belief networks): greedy layer-wise pretraining, each layer any method the
//! library trains (CD-k, PCD-k, EMF orders 1–3), the next layer trained on P(h|v) of the one
//! below (Hinton, Osindero & Teh 2006), and the network a stack initialises (docs/maths.md §10).

use ndarray::{Array1, Array2, ArrayView2};
use onsager::{Float, Method, Monitor, Rbm, TrainParams, Trainer};

use crate::{Activation, Init, Layer, Mlp, Result};

/// What [`Stack::pretrain`] reports: the start of each layer, then that layer's mini-batches
/// and epochs through the RBM library's [`Monitor`], which may stop the pretraining (the
/// command line's progress bar and Ctrl-C; `()` is silent).
pub trait PretrainMonitor<T: Float>: Monitor<T> + Send {
    /// Called before layer `layer` (0-based) of `layers` starts training with `params`.
    fn on_layer(&mut self, layer: usize, layers: usize, params: &TrainParams) {
        let _ = (layer, layers, params);
    }
}

/// The silent monitor.
impl<T: Float> PretrainMonitor<T> for () {}

/// Trained RBMs, input side first, each with the settings it was trained with.
#[derive(Clone, Debug, PartialEq)]
pub struct Stack<T: Float = f32> {
    /// The layers' models.
    pub rbms: Vec<Rbm<T>>,
    /// Their training settings.
    pub params: Vec<TrainParams>,
}

impl<T: Float> Stack<T> {
    /// The settings of a stack whose layers have `hidden` units each, all trained by `method`
    /// at `learning_rate` for `epochs` epochs from `seed` (the library's other defaults).
    ///
    /// # Errors
    /// [`crate::Error::Rbm`] for settings the library refuses.
    pub fn uniform_layers(
        hidden: &[usize],
        method: Method,
        learning_rate: f64,
        epochs: usize,
        seed: u64,
    ) -> Result<Vec<TrainParams>> {
        Ok(hidden
            .iter()
            .map(|&h| {
                TrainParams::builder()
                    .n_hidden(h)
                    .method(method)
                    .learning_rate(learning_rate)
                    .epochs(epochs)
                    .seed(seed)
                    .build()
            })
            .collect::<onsager::Result<Vec<_>>>()?)
    }

    /// Trains layer k on P(h|v) of layer k − 1 (layer 0 on `data`) with `layers[k]`, reporting
    /// to `monitor`.
    ///
    /// # Errors
    /// The library's errors for the data or a layer's settings ([`crate::Error::Rbm`]), and
    /// its [`onsager::Error::Cancelled`] when `monitor` stops a layer before its last epoch.
    pub fn pretrain<M: PretrainMonitor<T>>(
        data: ArrayView2<'_, T>,
        layers: &[TrainParams],
        monitor: &mut M,
    ) -> Result<Self> {
        let mut rbms = Vec::with_capacity(layers.len());
        let mut input: Option<Array2<T>> = None;
        for (k, params) in layers.iter().enumerate() {
            monitor.on_layer(k, layers.len(), params);
            let x = input.as_ref().map_or(data, |a| a.view());
            let mut trainer = Trainer::new(params.clone(), x.ncols())?;
            trainer.fit(x, monitor)?;
            if trainer.epochs_completed() < params.epochs {
                return Err(onsager::Error::Cancelled {
                    what: "pretraining",
                }
                .into());
            }
            let rbm = trainer.into_model();
            if k + 1 < layers.len() {
                input = Some(rbm.hidden_probs(x)?);
            }
            rbms.push(rbm);
        }
        Ok(Self {
            rbms,
            params: layers.to_vec(),
        })
    }

    /// The network this stack initialises: every RBM's W and hidden bias b as a logistic
    /// layer (the RBM's P(h|v) = σ(vW + b) is that layer's output), then a softmax over
    /// `classes` initialised by `init` from `seed`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParam`] for fewer than two classes or an empty stack.
    pub fn to_mlp(&self, classes: usize, init: Init, seed: u64) -> Result<Mlp<T>> {
        let Some(top) = self.rbms.last().map(|r| r.n_hidden()) else {
            return Err(crate::Error::InvalidParam {
                name: "stack",
                value: "0 layers".into(),
                reason: "a network needs at least one pretrained layer",
            });
        };
        let head = Mlp::<T>::random(&[top, classes], Activation::Logistic, init, seed)?;
        let mut layers: Vec<Layer<T>> = self
            .rbms
            .iter()
            .map(|r| Layer {
                weights: r.weights().to_owned(),
                bias: Array1::from_iter(r.hidden_bias().iter().copied()),
            })
            .collect();
        layers.extend(head.layers().iter().cloned());
        Mlp::from_layers(layers, Activation::Logistic)
    }
}
