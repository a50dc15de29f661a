//! Row-parallel element-wise passes over fixed partitions.
//!
//! Each row is computed from its own inputs (and its own random stream), so the result never
//! depends on how rayon splits the rows between threads.

use ndarray::ArrayViewMut2;
use rayon::prelude::*;

/// Rows below this many elements per task are not worth a rayon hand-off.
const MIN_TASK_ELEMS: usize = 1 << 14;

fn min_rows(ncols: usize) -> usize {
    (MIN_TASK_ELEMS / ncols.max(1)).max(1)
}

fn rows_slice<'a, T>(buf: &'a mut ArrayViewMut2<'_, T>) -> (&'a mut [T], usize) {
    let ncols = buf.ncols();
    let slice = buf
        .as_slice_mut()
        .expect("internal invariant: row-parallel buffers are in standard layout");
    (slice, ncols)
}

/// Calls `f(row_index, row)` for every row of `buf`, in parallel.
///
/// # Panics
/// If `buf` is not in standard (C) layout: an internal invariant, buffers are allocated so.
pub fn rows<T: Send + Sync>(mut buf: ArrayViewMut2<'_, T>, f: impl Fn(usize, &mut [T]) + Sync) {
    let (slice, ncols) = rows_slice(&mut buf);
    if ncols == 0 {
        return;
    }
    slice
        .par_chunks_mut(ncols)
        .with_min_len(min_rows(ncols))
        .enumerate()
        .for_each(|(i, row)| f(i, row));
}

/// As [`rows`], with one mutable state (a random stream) per row: `states[i]` goes with row i.
///
/// # Panics
/// If `states` is shorter than the row count, or `buf` is not in standard layout.
pub fn rows_with<T: Send + Sync, S: Send>(
    mut buf: ArrayViewMut2<'_, T>,
    states: &mut [S],
    f: impl Fn(usize, &mut [T], &mut S) + Sync,
) {
    let nrows = buf.nrows();
    assert!(
        states.len() >= nrows,
        "internal invariant: one state per row"
    );
    let (slice, ncols) = rows_slice(&mut buf);
    if ncols == 0 {
        return;
    }
    slice
        .par_chunks_mut(ncols)
        .zip(states[..nrows].par_iter_mut())
        .with_min_len(min_rows(ncols))
        .enumerate()
        .for_each(|(i, (row, s))| f(i, row, s));
}

/// Writes `f(i)` to `out[i]` for every row i (in parallel); `ncols` sizes the tasks.
pub fn row_values(out: &mut [f64], ncols: usize, f: impl Fn(usize) -> f64 + Sync) {
    out.par_iter_mut()
        .with_min_len(min_rows(ncols))
        .enumerate()
        .for_each(|(i, o)| *o = f(i));
}

/// Calls `f(row_index, row_a, row_b)` for every row pair of two buffers with the same number
/// of rows, in parallel.
///
/// # Panics
/// If the row counts differ or a buffer is not in standard layout (internal invariants).
pub fn rows_pair<T: Send + Sync>(
    a: ArrayViewMut2<'_, T>,
    b: ArrayViewMut2<'_, T>,
    f: impl Fn(usize, &mut [T], &mut [T]) + Sync,
) {
    // A zero-sized state per row: the vector allocates nothing.
    let mut none = vec![(); a.nrows()];
    rows_pair_with(a, b, &mut none, |i, x, y, _| f(i, x, y));
}

/// As [`rows_pair`], with one mutable state per row pair: `states[i]` goes with row i.
///
/// # Panics
/// If the row counts differ, `states` is shorter, or a buffer is not in standard layout.
pub fn rows_pair_with<T: Send + Sync, S: Send>(
    mut a: ArrayViewMut2<'_, T>,
    mut b: ArrayViewMut2<'_, T>,
    states: &mut [S],
    f: impl Fn(usize, &mut [T], &mut [T], &mut S) + Sync,
) {
    let nrows = a.nrows();
    assert_eq!(nrows, b.nrows(), "internal invariant: paired buffers");
    assert!(
        states.len() >= nrows,
        "internal invariant: one state per row"
    );
    let (sa, ca) = rows_slice(&mut a);
    let (sb, cb) = rows_slice(&mut b);
    if ca == 0 || cb == 0 {
        return;
    }
    sa.par_chunks_mut(ca)
        .zip(sb.par_chunks_mut(cb))
        .zip(states[..nrows].par_iter_mut())
        .with_min_len(min_rows(ca + cb))
        .enumerate()
        .for_each(|(i, ((x, y), s))| f(i, x, y, s));
}

/// Row `i` of a standard-layout matrix as a slice; the empty slice for an empty matrix (an
/// unused buffer).
///
/// # Panics
/// If `a` is not empty and not in standard layout (an internal invariant).
pub fn row_slice<T>(a: &ndarray::Array2<T>, i: usize) -> &[T] {
    if a.is_empty() {
        return &[];
    }
    let c = a.ncols();
    &a.as_slice().expect("internal invariant: standard layout")[i * c..(i + 1) * c]
}
