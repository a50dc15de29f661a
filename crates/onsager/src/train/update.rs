//! The W-gradient and the weight update in one parallel pass over row blocks of W.
//!
//! Each block of rows computes its slice of every gradient sum (the positive and negative
//! statistics, and EMF's W⊙ and W²⊙ sums: sequential products over the block's rows), then
//! updates its rows of W, the momentum buffer and the cached powers of W while the gradient
//! block is still in cache. One hand-off per mini-batch instead of one per product and pass,
//! and the gradient is never read back from memory. Blocks are fixed by the shapes, never by
//! the thread count, so results are the same bits with any number of threads.

use ndarray::{ArrayViewMut2, Axis};

use crate::kernels::{self, Step};
use crate::linalg::Outer;
use crate::Float;

/// Rows of W per block: about 1/16 of them, a multiple of 16, at least 16.
fn block_rows(nv: usize) -> usize {
    nv.div_ceil(16).max(16).next_multiple_of(16)
}

/// One term of the gradient: `g[slot] += outer`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Term<'a, T> {
    /// 0: the plain gradient; 1: the sum multiplied by W; 2: the sum multiplied by W².
    pub slot: usize,
    pub outer: Outer<'a, T>,
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

/// The same rows of every buffer the update touches.
struct Block<'a, T> {
    first_row: usize,
    w: ArrayViewMut2<'a, T>,
    velocity: ArrayViewMut2<'a, T>,
    /// Gradient sums g₀, g₁, g₂ (g₁, g₂ empty when unused).
    g: [ArrayViewMut2<'a, T>; 3],
    /// Cached W², W³ (empty when unused).
    powers: [ArrayViewMut2<'a, T>; 2],
}

impl<'a, T: Float> Block<'a, T> {
    fn split(self, at: usize) -> (Self, Self) {
        let (w1, w2) = cut(self.w, at);
        let (v1, v2) = cut(self.velocity, at);
        let [g0, g1, g2] = self.g;
        let ((g01, g02), (g11, g12), (g21, g22)) = (cut(g0, at), cut(g1, at), cut(g2, at));
        let [p2, p3] = self.powers;
        let ((p21, p22), (p31, p32)) = (cut(p2, at), cut(p3, at));
        (
            Self {
                first_row: self.first_row,
                w: w1,
                velocity: v1,
                g: [g01, g11, g21],
                powers: [p21, p31],
            },
            Self {
                first_row: self.first_row + at,
                w: w2,
                velocity: v2,
                g: [g02, g12, g22],
                powers: [p22, p32],
            },
        )
    }

    /// Splits into `blocks` blocks of `width` rows (the last one shorter) and runs them with
    /// recursive `rayon::join`.
    fn run(self, blocks: usize, width: usize, terms: &[Term<'_, T>], step: Step<T>) {
        if blocks <= 1 {
            return self.leaf(terms, step);
        }
        let left = blocks / 2;
        let (a, b) = self.split(left * width);
        rayon::join(
            || a.run(left, width, terms, step),
            || b.run(blocks - left, width, terms, step),
        );
    }

    fn leaf(mut self, terms: &[Term<'_, T>], step: Step<T>) {
        let rows = self.first_row..self.first_row + self.w.nrows();
        for (slot, g) in self.g.iter_mut().enumerate() {
            let mut accumulate = false;
            for t in terms.iter().filter(|t| t.slot == slot) {
                t.outer.write_rows(g.view_mut(), accumulate, rows.clone());
                accumulate = true;
            }
        }
        let [g0, g1, g2] = &mut self.g;
        let [p2, p3] = &mut self.powers;
        for i in 0..self.w.nrows() {
            let w = row(&mut self.w, i);
            kernels::sgd_row(
                w,
                row(&mut self.velocity, i),
                row(g0, i),
                row(g1, i),
                row(g2, i),
                step,
            );
            kernels::powers_row(w, row(p2, i), row(p3, i));
        }
    }
}

/// Builds the gradient from `terms` and applies one update (kernels::sgd_row) to `w` and
/// `velocity`, refreshing the cached powers of W. `g[k]` and `powers[k]` may be empty
/// (0 × 0) when unused; a used `g[k]` must receive at least one term.
pub(super) fn apply<T: Float>(
    w: ArrayViewMut2<'_, T>,
    velocity: ArrayViewMut2<'_, T>,
    g: [ArrayViewMut2<'_, T>; 3],
    powers: [ArrayViewMut2<'_, T>; 2],
    terms: &[Term<'_, T>],
    step: Step<T>,
) {
    let nv = w.nrows();
    let width = block_rows(nv);
    let block = Block {
        first_row: 0,
        w,
        velocity,
        g,
        powers,
    };
    block.run(nv.div_ceil(width).max(1), width, terms, step);
}
