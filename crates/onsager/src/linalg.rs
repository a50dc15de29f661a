//! Matrix products: the only module that touches faer.
//!
//! ndarray views (any strides, transposed views included) are handed to faer's matmul without
//! copies. faer splits the work over output blocks, so results do not depend on the thread count.

use faer::{Accum, MatMut, MatRef, Par};
use ndarray::{ArrayView2, ArrayViewMut2};

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

/// `dst ← alpha·a·b` (or `dst ← dst + alpha·a·b` with `accumulate`), multithreaded on the
/// current rayon pool.
///
/// # Panics
/// If the shapes do not chain (an internal invariant: callers size their buffers).
pub fn gemm<T: Float>(
    mut dst: ArrayViewMut2<'_, T>,
    accumulate: bool,
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    alpha: T,
) {
    assert_eq!(dst.nrows(), a.nrows(), "gemm: rows of dst and a");
    assert_eq!(dst.ncols(), b.ncols(), "gemm: cols of dst and b");
    assert_eq!(a.ncols(), b.nrows(), "gemm: inner dimensions");
    let accum = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    let par = match rayon::current_num_threads() {
        1 => Par::Seq,
        n => Par::rayon(n),
    };
    faer::linalg::matmul::matmul(
        mat_mut(&mut dst),
        accum,
        mat_ref(&a),
        mat_ref(&b),
        alpha,
        par,
    );
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
}
