//! The supervised network: dense layers with one hidden activation and a softmax output, its
//! mean cross-entropy and back-propagation into preallocated buffers (docs/maths.md §10).
//! Every product goes through onsager's product layer (`onsager::linalg::gemm`), so results
//! have the same bits for any thread count.

use ndarray::{s, Array1, Array2, ArrayView2};
use onsager::linalg::gemm;
use onsager::rng::{self, Domain};
use onsager::Float;

use crate::{Activation, Error, Result};

/// One dense layer: z = a·W + b, W (inputs × outputs).
#[derive(Clone, Debug, PartialEq)]
pub struct Layer<T: Float = f32> {
    /// The weights, inputs × outputs.
    pub weights: Array2<T>,
    /// The bias, one per output.
    pub bias: Array1<T>,
}

/// How [`Mlp::random`] draws the weights (biases start at 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// U(−limit, limit) for every weight (Ciresan et al.: 0.05).
    Uniform {
        /// The half-width.
        limit: f64,
    },
    /// Glorot & Bengio's U(±√(6/(inputs + outputs))) per layer.
    Glorot,
}

/// `glorot`, or a positive half-width for [`Init::Uniform`] (`0.05`).
impl std::str::FromStr for Init {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("glorot") {
            return Ok(Init::Glorot);
        }
        match t.parse::<f64>() {
            Ok(limit) if limit.is_finite() && limit > 0.0 => Ok(Init::Uniform { limit }),
            _ => Err(Error::InvalidParam {
                name: "init",
                value: s.to_string(),
                reason: "expected glorot or a positive uniform half-width such as 0.05",
            }),
        }
    }
}

/// A multi-layer perceptron: hidden layers with `hidden` activation, then a softmax over the
/// classes.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp<T: Float = f32> {
    layers: Vec<Layer<T>>,
    hidden: Activation,
}

/// Buffers of one mini-batch's forward and backward pass (the activations and the deltas of
/// every layer), allocated once for at most `rows` rows.
#[derive(Clone, Debug)]
pub struct Workspace<T: Float = f32> {
    acts: Vec<Array2<T>>,
    deltas: Vec<Array2<T>>,
}

impl<T: Float> Workspace<T> {
    /// Buffers for `mlp` and mini-batches of at most `rows` rows.
    pub fn new(mlp: &Mlp<T>, rows: usize) -> Self {
        let outs = mlp.layers.iter().map(|l| l.weights.ncols());
        let acts: Vec<Array2<T>> = outs.map(|o| Array2::zeros((rows, o))).collect();
        Self {
            deltas: acts.clone(),
            acts,
        }
    }

    fn rows(&self) -> usize {
        self.acts.first().map_or(0, |a| a.nrows())
    }
}

impl<T: Float> Mlp<T> {
    /// A network with layer sizes `sizes` = [inputs, hidden…, classes], weights drawn by
    /// `init` from stream (seed, `Init`, 2⁴⁰ + layer) (kept apart from the RBMs' streams).
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for fewer than two sizes, a layer of no units, fewer than two
    /// classes, or a uniform limit that is not finite and positive.
    pub fn random(sizes: &[usize], hidden: Activation, init: Init, seed: u64) -> Result<Self> {
        let bad = |name, value: String, reason| Error::InvalidParam {
            name,
            value,
            reason,
        };
        if sizes.len() < 2 || sizes.contains(&0) {
            return Err(bad(
                "layer sizes",
                format!("{sizes:?}"),
                "need inputs and classes, every layer at least one unit",
            ));
        }
        if sizes[sizes.len() - 1] < 2 {
            return Err(bad(
                "classes",
                sizes[sizes.len() - 1].to_string(),
                "a softmax needs at least two classes",
            ));
        }
        if let Init::Uniform { limit } = init {
            if !(limit.is_finite() && limit > 0.0) {
                return Err(bad(
                    "init limit",
                    limit.to_string(),
                    "must be finite and positive",
                ));
            }
        }
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(l, io)| {
                let (i, o) = (io[0], io[1]);
                let limit = match init {
                    Init::Uniform { limit } => limit,
                    Init::Glorot => (6.0 / (i + o) as f64).sqrt(),
                };
                let mut r = rng::stream(seed, Domain::Init, (1 << 40) + l as u64);
                Layer {
                    weights: Array2::from_shape_fn((i, o), |_| {
                        T::of(limit * (2.0 * rng::uniform::<f64>(&mut r) - 1.0))
                    }),
                    bias: Array1::zeros(o),
                }
            })
            .collect();
        Ok(Self { layers, hidden })
    }

    /// A network from its layers (a pretrained stack's, for example).
    ///
    /// # Errors
    /// [`Error::Shape`] if a layer's inputs are not the previous layer's outputs or a bias
    /// has the wrong length; [`Error::InvalidParam`] for no layers or a last layer of fewer
    /// than two classes.
    pub fn from_layers(layers: Vec<Layer<T>>, hidden: Activation) -> Result<Self> {
        let Some(last) = layers.last() else {
            return Err(Error::InvalidParam {
                name: "layers",
                value: "0".into(),
                reason: "a network needs at least its output layer",
            });
        };
        if last.weights.ncols() < 2 {
            return Err(Error::InvalidParam {
                name: "classes",
                value: last.weights.ncols().to_string(),
                reason: "a softmax needs at least two classes",
            });
        }
        for (l, layer) in layers.iter().enumerate() {
            if layer.bias.len() != layer.weights.ncols() {
                return Err(Error::Shape {
                    what: "layer bias",
                    expected: format!("({},) in layer {l}", layer.weights.ncols()),
                    got: format!("({},)", layer.bias.len()),
                });
            }
            if l > 0 && layer.weights.nrows() != layers[l - 1].weights.ncols() {
                return Err(Error::Shape {
                    what: "layer weights",
                    expected: format!(
                        "{} inputs in layer {l} (the outputs of layer {})",
                        layers[l - 1].weights.ncols(),
                        l - 1
                    ),
                    got: format!("{} inputs", layer.weights.nrows()),
                });
            }
        }
        Ok(Self { layers, hidden })
    }

    /// The layers, input side first.
    pub fn layers(&self) -> &[Layer<T>] {
        &self.layers
    }

    /// The layers, to update in place (an optimiser's step).
    pub fn layers_mut(&mut self) -> &mut [Layer<T>] {
        &mut self.layers
    }

    /// The hidden layers' activation.
    pub fn hidden_activation(&self) -> Activation {
        self.hidden
    }

    /// Inputs.
    pub fn n_inputs(&self) -> usize {
        self.layers[0].weights.nrows()
    }

    /// Classes.
    pub fn n_classes(&self) -> usize {
        self.layers[self.layers.len() - 1].weights.ncols()
    }

    /// A gradient of zeros shaped like the network's layers.
    pub fn zeros_like(&self) -> Vec<Layer<T>> {
        self.layers
            .iter()
            .map(|l| Layer {
                weights: Array2::zeros(l.weights.dim()),
                bias: Array1::zeros(l.bias.len()),
            })
            .collect()
    }

    /// The class probabilities of each row of `x`.
    ///
    /// # Errors
    /// [`Error::Shape`] if `x` does not have [`Mlp::n_inputs`] columns.
    pub fn predict_proba(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>> {
        let mut ws = Workspace::new(self, x.nrows());
        self.forward(x, None, &mut ws)?;
        Ok(ws.acts.pop().expect("an output layer"))
    }

    /// The mean cross-entropy −(1/n) Σᵣ log p(yᵣ | xᵣ) of labelled rows.
    ///
    /// # Errors
    /// As [`Mlp::backprop`].
    pub fn loss(&self, x: ArrayView2<'_, T>, labels: &[usize]) -> Result<f64> {
        let mut ws = Workspace::new(self, x.nrows());
        self.forward(x, Some(labels), &mut ws)
    }

    /// The forward pass into `ws` (the softmax probabilities in the last buffer); with
    /// `labels`, returns the mean cross-entropy, computed from the logits in f64.
    fn forward(
        &self,
        x: ArrayView2<'_, T>,
        labels: Option<&[usize]>,
        ws: &mut Workspace<T>,
    ) -> Result<f64> {
        let n = x.nrows();
        self.check(x, labels, ws)?;
        let last = self.layers.len() - 1;
        let mut loss = 0.0;
        for (l, layer) in self.layers.iter().enumerate() {
            let (before, rest) = ws.acts.split_at_mut(l);
            let input = if l == 0 {
                x
            } else {
                before[l - 1].slice(s![..n, ..])
            };
            let mut out = rest[0].slice_mut(s![..n, ..]);
            gemm(out.view_mut(), false, input, layer.weights.view(), T::one());
            for mut row in out.rows_mut() {
                row.zip_mut_with(&layer.bias, |z, &b| *z += b);
            }
            if l < last {
                let act = self.hidden;
                // The first n rows of a standard buffer: one contiguous slice.
                act.apply_in_place(out.as_slice_mut().expect("rows of a standard buffer"));
                continue;
            }
            // Softmax, each row shifted by its largest logit; the label's log-probability
            // z_y − max − ln Σ e^{z − max} taken before the probabilities overwrite the logits.
            for (r, mut row) in out.rows_mut().into_iter().enumerate() {
                let max = row.iter().fold(f64::NEG_INFINITY, |m, z| m.max(z.f64()));
                let total: f64 = row.iter().map(|z| (z.f64() - max).exp()).sum();
                if let Some(y) = labels {
                    loss -= row[y[r]].f64() - max - total.ln();
                }
                row.mapv_inplace(|z| T::of((z.f64() - max).exp() / total));
            }
        }
        Ok(loss / n.max(1) as f64)
    }

    fn check(
        &self,
        x: ArrayView2<'_, T>,
        labels: Option<&[usize]>,
        ws: &Workspace<T>,
    ) -> Result<()> {
        if x.ncols() != self.n_inputs() {
            return Err(Error::Shape {
                what: "inputs",
                expected: format!("{} columns", self.n_inputs()),
                got: format!("{} columns", x.ncols()),
            });
        }
        if x.nrows() > ws.rows() {
            return Err(Error::Shape {
                what: "mini-batch",
                expected: format!("at most {} rows (the workspace's)", ws.rows()),
                got: format!("{} rows", x.nrows()),
            });
        }
        if let Some(y) = labels {
            if y.len() != x.nrows() {
                return Err(Error::Shape {
                    what: "labels",
                    expected: format!("{} (one per row)", x.nrows()),
                    got: y.len().to_string(),
                });
            }
            let classes = self.n_classes();
            if let Some((row, &label)) = y.iter().enumerate().find(|(_, &c)| c >= classes) {
                return Err(Error::Label {
                    row,
                    label,
                    classes,
                });
            }
        }
        Ok(())
    }

    /// The mean cross-entropy of a mini-batch and its gradient with respect to every weight
    /// and bias, written into `grad` (shaped as [`Mlp::zeros_like`]): δ_L = (p − onehot(y))/n,
    /// ∂W_l = a_{l−1}ᵀδ_l, ∂b_l = Σ_rows δ_l, δ_{l−1} = (δ_l W_lᵀ) ⊙ f'(a_{l−1}). Nothing is
    /// allocated.
    ///
    /// # Errors
    /// [`Error::Shape`] if `x` has the wrong width or more rows than `ws` holds, or the labels
    /// are not one per row; [`Error::Label`] naming the first label outside 0..classes.
    ///
    /// # Panics
    /// If `grad` is not shaped like the network (make it with [`Mlp::zeros_like`]).
    pub fn backprop(
        &self,
        x: ArrayView2<'_, T>,
        labels: &[usize],
        ws: &mut Workspace<T>,
        grad: &mut [Layer<T>],
    ) -> Result<f64> {
        assert_eq!(
            grad.len(),
            self.layers.len(),
            "gradient shaped like the network"
        );
        let loss = self.forward(x, Some(labels), ws)?;
        let n = x.nrows();
        let last = self.layers.len() - 1;
        let inv_n = T::of(1.0 / n.max(1) as f64);
        {
            let mut d = ws.deltas[last].slice_mut(s![..n, ..]);
            d.assign(&ws.acts[last].slice(s![..n, ..]));
            for (r, mut row) in d.rows_mut().into_iter().enumerate() {
                row[labels[r]] -= T::one();
                row.mapv_inplace(|v| v * inv_n);
            }
        }
        for l in (0..=last).rev() {
            let delta = ws.deltas[l].slice(s![..n, ..]);
            let input = if l == 0 {
                x
            } else {
                ws.acts[l - 1].slice(s![..n, ..])
            };
            gemm(
                grad[l].weights.view_mut(),
                false,
                input.t(),
                delta,
                T::one(),
            );
            grad[l].bias.fill(T::zero());
            for row in delta.rows() {
                grad[l].bias.zip_mut_with(&row, |g, &d| *g += d);
            }
            if l == 0 {
                break;
            }
            let (below, above) = ws.deltas.split_at_mut(l);
            let delta = above[0].slice(s![..n, ..]);
            let mut back = below[l - 1].slice_mut(s![..n, ..]);
            gemm(
                back.view_mut(),
                false,
                delta,
                self.layers[l].weights.t(),
                T::one(),
            );
            let act = self.hidden;
            back.zip_mut_with(&ws.acts[l - 1].slice(s![..n, ..]), |d, &y| {
                *d = T::of(d.f64() * act.derivative_at_output(y.f64()))
            });
        }
        Ok(loss)
    }
}
