//! The gradient and the update of every parameter in one parallel pass over row blocks of W.
//! `gradient.rs` assembles what goes in; the readable form of the same gradient is
//! `meanfield::log_z_gradient`, and the test `one_update_equals_the_emf_gradient_formula`
//! pins the two together.
//!
//! Each block of rows computes its slice of every gradient sum (the positive and negative
//! statistics, and EMF's W⊙ and W²⊙ sums: sequential products over the block's rows), then
//! updates its rows of W, the momentum buffer and the cached powers of W while the gradient
//! block is still in cache; it also takes the column sums behind the bias gradients for its
//! visible units and for its share of the hidden units, and updates those biases. One
//! hand-off per mini-batch instead of one per product and pass, and the gradient is never read
//! back from memory. Blocks are fixed by the shapes, never by the thread count, so results are
//! the same bits with any number of threads.

use ndarray::{ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis};

use super::sgd::{sgd_row, Step};
use crate::linalg::Outer;
use crate::meanfield::kernels::powers_row;
use crate::{EmfOrder, Float};

/// Rows of W per block: about 1/16 of them, a multiple of 16, at least 16.
fn block_rows(nv: usize) -> usize {
    nv.div_ceil(16).max(16).next_multiple_of(16)
}

/// The inputs of one gradient (docs/maths.md §1, §4), assembled by `gradient.rs`.
pub(super) struct Gradient<'a, T> {
    /// Which of the sums g₁, g₂ are present: the EMF order whose gradient this is (CD, PCD:
    /// first order, g₀ only).
    pub terms: EmfOrder,
    /// W's gradient sums g₀, g₁, g₂ (multiplied by 1, W and W² in the step), each the sum of
    /// up to two outer products; a sum with none is unused (its buffer empty).
    pub w: [[Option<Outer<'a, T>>; 2]; 3],
    /// Two row sets (visible units) and their scales: the visible bias's gradient is
    /// Σ_k scale_k·Σ_i x_k\[i, j\].
    pub visible: [(ArrayView2<'a, T>, T); 2],
    /// Likewise for the hidden bias.
    pub hidden: [(ArrayView2<'a, T>, T); 2],
    /// Real-valued visible units: 1/σᵢ² per visible unit, which multiplies row i of W's
    /// gradient and the visible bias's gradient (∂(−E)/∂Wᵢⱼ = vᵢhⱼ/σᵢ², ∂(−E)/∂aᵢ =
    /// (vᵢ − aᵢ)/σᵢ², docs/maths.md §1b); empty for Bernoulli units.
    pub precision: &'a [T],
}

/// What one update writes: the parameters, the momentum buffer, and scratch.
pub(super) struct Targets<'a, T> {
    pub w: ArrayViewMut2<'a, T>,
    pub a: ArrayViewMut1<'a, T>,
    pub b: ArrayViewMut1<'a, T>,
    pub velocity: ArrayViewMut2<'a, T>,
    /// Gradient sums g₀, g₁, g₂ (g₁, g₂ 0 × 0 when unused; a used one must get a term).
    pub g: [ArrayViewMut2<'a, T>; 3],
    /// Cached W², W³ (0 × 0 when unused).
    pub powers: [ArrayViewMut2<'a, T>; 2],
    /// The cached diag(1/σ²)·W the hidden layer reads from real-valued visibles (0 × 0 for
    /// Bernoulli units), rewritten from the updated rows.
    pub w_hidden: ArrayViewMut2<'a, T>,
}

/// Updates `bias` (the units `first..first + bias.len()`) from the column sums of `sums`,
/// rows in order, 64 columns at a time in a stack buffer, each unit's sum multiplied by
/// `precision[unit]` where `precision` is not empty.
fn bias_step<T: Float>(
    bias: &mut [T],
    first: usize,
    sums: &[(ArrayView2<'_, T>, T); 2],
    precision: &[T],
    lr: T,
) {
    const C: usize = 64;
    for (c, bias) in bias.chunks_mut(C).enumerate() {
        let cols = first + c * C..first + c * C + bias.len();
        let mut acc = [T::zero(); C];
        for (x, scale) in sums {
            for row in x.rows() {
                let row = &row.to_slice().expect("rows of standard-layout buffers")[cols.clone()];
                for (a, &v) in acc.iter_mut().zip(row) {
                    *a += *scale * v;
                }
            }
        }
        if !precision.is_empty() {
            acc.iter_mut()
                .zip(&precision[cols.clone()])
                .for_each(|(a, &p)| *a *= p);
        }
        for (b, a) in bias.iter_mut().zip(acc) {
            *b += lr * a;
        }
    }
}

/// Splits off the first `at` rows; an empty (unused) buffer stays empty on both sides.
fn cut<'a, T>(m: ArrayViewMut2<'a, T>, at: usize) -> (ArrayViewMut2<'a, T>, ArrayViewMut2<'a, T>) {
    let at = if m.is_empty() { 0 } else { at };
    m.split_at(Axis(0), at)
}

/// Row `i` of a standard-layout block; the empty slice for an unused buffer.
fn row<'b, T>(m: &'b mut ArrayViewMut2<'_, T>, i: usize) -> &'b mut [T] {
    if m.is_empty() {
        return &mut [];
    }
    let c = m.ncols();
    let all = m
        .as_slice_mut()
        .expect("internal invariant: row blocks of standard-layout buffers");
    &mut all[i * c..(i + 1) * c]
}

impl<'a, T> Targets<'a, T> {
    /// Splits off the first `at` rows of W (with their visible biases) and the first
    /// `hidden_at` hidden biases.
    fn split(self, at: usize, hidden_at: usize) -> (Self, Self) {
        let (a1, a2) = self.a.split_at(Axis(0), at);
        let (b1, b2) = self.b.split_at(Axis(0), hidden_at);
        let (w1, w2) = cut(self.w, at);
        let (v1, v2) = cut(self.velocity, at);
        let [g0, g1, g2] = self.g;
        let ((g01, g02), (g11, g12), (g21, g22)) = (cut(g0, at), cut(g1, at), cut(g2, at));
        let [p2, p3] = self.powers;
        let ((p21, p22), (p31, p32)) = (cut(p2, at), cut(p3, at));
        let (h1, h2) = cut(self.w_hidden, at);
        (
            Self {
                w: w1,
                a: a1,
                b: b1,
                velocity: v1,
                g: [g01, g11, g21],
                powers: [p21, p31],
                w_hidden: h1,
            },
            Self {
                w: w2,
                a: a2,
                b: b2,
                velocity: v2,
                g: [g02, g12, g22],
                powers: [p22, p32],
                w_hidden: h2,
            },
        )
    }
}

/// Some rows of W (from `first_row`) and a share of the hidden units (from `first_hidden`),
/// with every buffer the update touches for them.
struct Block<'a, T> {
    first_row: usize,
    first_hidden: usize,
    t: Targets<'a, T>,
}

impl<T: Float> Block<'_, T> {
    fn split(self, at: usize, hidden_at: usize) -> (Self, Self) {
        let hidden_at = hidden_at.min(self.t.b.len());
        let (t1, t2) = self.t.split(at, hidden_at);
        (
            Self {
                first_row: self.first_row,
                first_hidden: self.first_hidden,
                t: t1,
            },
            Self {
                first_row: self.first_row + at,
                first_hidden: self.first_hidden + hidden_at,
                t: t2,
            },
        )
    }

    /// Splits into `blocks` blocks of `shape.width` rows and `shape.hidden_width` hidden units
    /// (the last ones shorter) and runs them with recursive `rayon::join`.
    fn run(self, blocks: usize, shape: &Shape<'_, '_, T>) {
        if blocks <= 1 {
            return self.leaf(shape);
        }
        let left = blocks / 2;
        let (a, b) = self.split(left * shape.width, left * shape.hidden_width);
        rayon::join(|| a.run(left, shape), || b.run(blocks - left, shape));
    }

    fn leaf(self, shape: &Shape<'_, '_, T>) {
        let (grad, step) = (shape.gradient, shape.step);
        let mut t = self.t;
        let a = t.a.as_slice_mut().expect("contiguous bias");
        bias_step(a, self.first_row, &grad.visible, grad.precision, step.lr);
        let b = t.b.as_slice_mut().expect("contiguous bias");
        bias_step(b, self.first_hidden, &grad.hidden, &[], step.lr);
        let rows = self.first_row..self.first_row + t.w.nrows();
        for (g, outers) in t.g.iter_mut().zip(&grad.w) {
            for (k, o) in outers.iter().flatten().enumerate() {
                o.write_rows(g.view_mut(), k > 0, rows.clone());
            }
        }
        let [g0, g1, g2] = &mut t.g;
        let [p2, p3] = &mut t.powers;
        for i in 0..t.w.nrows() {
            let precision = grad.precision.get(self.first_row + i).copied();
            if let Some(p) = precision {
                row(g0, i).iter_mut().for_each(|g| *g *= p);
            }
            let w = row(&mut t.w, i);
            let terms = grad.terms;
            sgd_row(
                w,
                row(&mut t.velocity, i),
                terms,
                [&*row(g0, i), &*row(g1, i), &*row(g2, i)],
                step,
            );
            powers_row(terms, w, row(p2, i), row(p3, i));
            if let Some(p) = precision {
                let w = &*w;
                row(&mut t.w_hidden, i)
                    .iter_mut()
                    .zip(w)
                    .for_each(|(x, &w)| *x = w * p);
            }
        }
    }
}

/// What every block shares: the split, the gradient's inputs and the step.
struct Shape<'g, 'a, T> {
    width: usize,
    hidden_width: usize,
    gradient: &'g Gradient<'a, T>,
    step: Step<T>,
}

/// Builds the gradient and applies one step: W and its momentum by `sgd::sgd_row` (the
/// cached powers of W refreshed), the biases by plain SGD at `step.lr`.
pub(super) fn apply<T: Float>(t: Targets<'_, T>, gradient: &Gradient<'_, T>, step: Step<T>) {
    let nv = t.w.nrows();
    let width = block_rows(nv);
    let blocks = nv.div_ceil(width).max(1);
    let shape = Shape {
        width,
        hidden_width: t.b.len().div_ceil(blocks),
        gradient,
        step,
    };
    let block = Block {
        first_row: 0,
        first_hidden: 0,
        t,
    };
    block.run(blocks, &shape);
}
