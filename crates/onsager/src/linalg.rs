//! Matrix products: the only module that touches faer.
//!
//! ndarray views (any strides, transposed views included) are handed to faer's matmul without
//! copies.
//!
//! Parallelism: the output is cut into a fixed set of blocks that depends only on the shapes
//! (never on the thread count); each block is one sequential faer product over the full inner
//! dimension, and the blocks are spread over the current rayon pool by recursive `join`. So
//! every output element is computed by the same kernel in the same order with 1 or 16 threads
//! (bit-identical results), and nothing is allocated per call (faer's own parallel path
//! allocates packing buffers each time).

use faer::{Accum, MatMut, MatRef, Par};
use ndarray::{ArrayView2, ArrayViewMut2, Axis};

use crate::Float;

fn mat_ref<'a, T: Float>(a: &ArrayView2<'a, T>) -> MatRef<'a, T> {
    let (r, c) = a.dim();
    let s = a.strides();
    // SAFETY: the pointer, dimensions and element strides come from a live ndarray view of the
    // same lifetime, which guarantees every addressed element is in bounds.
    unsafe { MatRef::from_raw_parts(a.as_ptr(), r, c, s[0], s[1]) }
}

fn mat_mut<'a, T: Float>(a: &mut ArrayViewMut2<'a, T>) -> MatMut<'a, T> {
    let (r, c) = a.dim();
    let s = a.strides();
    let (s0, s1) = (s[0], s[1]);
    // SAFETY: as above; the view is borrowed mutably for the whole product, and ndarray views
    // never alias their own elements mutably.
    unsafe { MatMut::from_raw_parts_mut(a.as_mut_ptr(), r, c, s0, s1) }
}

/// Products with fewer multiply-adds than this run as one block.
const MIN_SPLIT_WORK: usize = 1 << 18;
/// At most this many blocks per product, each at least `MIN_BLOCK` wide.
const MAX_BLOCKS: usize = 16;
const MIN_BLOCK: usize = 32;

/// Panics unless `dst ← a·b` chains.
fn check_shapes<T>(dst: &ArrayViewMut2<'_, T>, a: &ArrayView2<'_, T>, b: &ArrayView2<'_, T>) {
    assert_eq!(dst.nrows(), a.nrows(), "gemm: rows of dst and a");
    assert_eq!(dst.ncols(), b.ncols(), "gemm: cols of dst and b");
    assert_eq!(a.ncols(), b.nrows(), "gemm: inner dimensions");
}

/// `dst ← alpha·a·b` (or `dst ← dst + alpha·a·b` with `accumulate`), on the current rayon pool.
///
/// # Panics
/// If the shapes do not chain (an internal invariant: callers size their buffers).
pub fn gemm<T: Float>(
    dst: ArrayViewMut2<'_, T>,
    accumulate: bool,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    alpha: T,
) {
    check_shapes(&dst, &a, &b);
    let (m, n, k) = (dst.nrows(), dst.ncols(), a.ncols());
    let split_rows = m >= n;
    let d = m.max(n);
    let (blocks, width) = if m * n * k < MIN_SPLIT_WORK || d < 2 * MIN_BLOCK {
        (1, d)
    } else {
        let width = d.div_ceil(MAX_BLOCKS).max(MIN_BLOCK).next_multiple_of(16);
        (d.div_ceil(width), width)
    };
    let job = Job {
        accumulate,
        alpha,
        width,
        split_rows,
    };
    job.run(dst, a, b, blocks);
}

/// As [`gemm`], on the calling thread only: one sequential faer product. For callers that
/// split the work themselves (the trainer's fused gradient-and-update pass).
///
/// # Panics
/// If the shapes do not chain.
pub fn gemm_seq<T: Float>(
    mut dst: ArrayViewMut2<'_, T>,
    accumulate: bool,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    alpha: T,
) {
    check_shapes(&dst, &a, &b);
    let accum = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    faer::linalg::matmul::matmul(
        mat_mut(&mut dst),
        accum,
        mat_ref(&a),
        mat_ref(&b),
        alpha,
        Par::Seq,
    );
}

/// The outer-product sum `scale · leftᵀ·right` of two row-aligned matrices (n × p and n × q):
/// one term of a weight gradient, e.g. β/n · VᵀH.
#[derive(Clone, Copy, Debug)]
pub struct Outer<'a, T> {
    /// The n × p factor whose columns index the output's rows.
    pub left: ArrayView2<'a, T>,
    /// The n × q factor whose columns index the output's columns.
    pub right: ArrayView2<'a, T>,
    /// The factor applied to the sum.
    pub scale: T,
}

impl<T: Float> Outer<'_, T> {
    /// `dst ← scale·leftᵀ·right` (or `dst += …` with `accumulate`), on the current pool.
    pub fn write(&self, dst: ArrayViewMut2<'_, T>, accumulate: bool) {
        gemm(dst, accumulate, self.left.t(), self.right, self.scale);
    }

    /// Rows `rows` of the product into `dst` (`rows.len()` × q), sequentially.
    pub fn write_rows(
        &self,
        dst: ArrayViewMut2<'_, T>,
        accumulate: bool,
        rows: std::ops::Range<usize>,
    ) {
        let left = self.left.slice(ndarray::s![.., rows]);
        gemm_seq(dst, accumulate, left.t(), self.right, self.scale);
    }
}

struct Job<T> {
    accumulate: bool,
    alpha: T,
    width: usize,
    split_rows: bool,
}

impl<T: Float> Job<T> {
    /// Computes `blocks` consecutive blocks of the output, halving the range recursively.
    fn run(
        &self,
        dst: ArrayViewMut2<'_, T>,
        a: ArrayView2<'_, T>,
        b: ArrayView2<'_, T>,
        blocks: usize,
    ) {
        if blocks <= 1 {
            gemm_seq(dst, self.accumulate, a, b, self.alpha);
            return;
        }
        let left = blocks / 2;
        let at = left * self.width;
        if self.split_rows {
            let (d1, d2) = dst.split_at(Axis(0), at);
            let (a1, a2) = a.split_at(Axis(0), at);
            rayon::join(
                || self.run(d1, a1, b, left),
                || self.run(d2, a2, b, blocks - left),
            );
        } else {
            let (d1, d2) = dst.split_at(Axis(1), at);
            let (b1, b2) = b.split_at(Axis(1), at);
            rayon::join(
                || self.run(d1, a, b1, left),
                || self.run(d2, a, b2, blocks - left),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    #[test]
    fn gemm_matches_ndarray_dot_with_transposes() {
        let a = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let b = array![[1.0, 0.5], [-1.0, 2.0], [0.0, 3.0]];
        let mut c = Array2::<f64>::zeros((2, 2));
        gemm(c.view_mut(), false, a.view(), b.view(), 2.0);
        assert_eq!(c, a.dot(&b) * 2.0);
        gemm(c.view_mut(), true, a.view(), b.view(), 1.0);
        assert_eq!(c, a.dot(&b) * 3.0);
        // Transposed operands and a transposed destination.
        let mut ct = Array2::<f64>::zeros((2, 2));
        gemm(ct.view_mut().reversed_axes(), false, b.t(), a.t(), 1.0);
        assert_eq!(ct, a.dot(&b)); // ctᵀ ← (ab)ᵀ
        let mut g = Array2::<f32>::zeros((3, 3));
        let a32 = a.mapv(|x| x as f32);
        gemm(g.view_mut(), false, a32.t(), a32.view(), 1.0);
        assert_eq!(g, a32.t().dot(&a32));
    }

    #[test]
    fn blocked_products_match_and_do_not_depend_on_the_thread_count() {
        // Shapes that split by rows and by columns, with a ragged last block.
        for (m, k, n) in [
            (100, 784, 500),
            (784, 100, 500),
            (100, 500, 784),
            (37, 300, 1000),
        ] {
            let a =
                Array2::from_shape_fn((m, k), |(i, j)| ((i * 7 + j * 3) % 11) as f32 / 11.0 - 0.4);
            let b =
                Array2::from_shape_fn((k, n), |(i, j)| ((i * 5 + j * 2) % 13) as f32 / 13.0 - 0.5);
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let mut c = Array2::<f32>::zeros((m, n));
                pool.install(|| gemm(c.view_mut(), false, a.view(), b.view(), 1.0));
                c
            };
            let (one, two) = (run(1), run(2));
            assert!(one == two, "{m}x{k}x{n}: 1 vs 2 threads differ");
            let want = a.dot(&b);
            let err = (&one - &want).iter().fold(0f32, |e, d| e.max(d.abs()));
            assert!(err < 1e-3, "{m}x{k}x{n}: max error {err}");
        }
    }
}
