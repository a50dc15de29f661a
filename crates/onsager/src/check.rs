//! Input validation shared by every entry point.

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;

use crate::{Error, Float, Result};

/// Checks that `x` has `ncols` columns, at least one row, and only finite values in \[0, 1\].
pub fn unit_data<T: Float>(what: &'static str, x: &ArrayView2<'_, T>, ncols: usize) -> Result<()> {
    in_range(what, x, ncols, 0.0, 1.0)
}

/// Checks that `x` has `ncols` columns, at least one row, and only finite values in
/// \[`low`, `high`\] (either end may be infinite).
pub fn in_range<T: Float>(
    what: &'static str,
    x: &ArrayView2<'_, T>,
    ncols: usize,
    low: f64,
    high: f64,
) -> Result<()> {
    columns(what, x, ncols)?;
    if x.nrows() == 0 {
        return Err(Error::Empty { what });
    }
    // Fast path: a branch-free test per row (vectorised; NaN and ±∞ fail both comparisons),
    // rows in parallel; the first failing row, if any, is then searched for the details.
    // Finite bounds at T's precision; an infinite one is the largest finite T, so ±∞ and NaN
    // still fail.
    let big = T::max_value().f64();
    let bound = |b: f64| T::of(b.clamp(-big, big));
    let (zero, one) = (bound(low), bound(high));
    let row_ok = |i: usize| {
        let row = x.row(i);
        match row.as_slice() {
            Some(r) => r.iter().fold(true, |ok, &v| ok & (v >= zero) & (v <= one)),
            None => row.iter().all(|&v| v >= zero && v <= one),
        }
    };
    let min_rows = (1 << 14) / ncols.max(1) + 1;
    let Some(first_bad) = (0..x.nrows())
        .into_par_iter()
        .with_min_len(min_rows)
        .find_first(|&i| !row_ok(i))
    else {
        return Ok(());
    };
    let row = first_bad;
    for (col, &v) in x.row(row).indexed_iter() {
        if !v.is_finite() {
            return Err(Error::NonFinite {
                what,
                row,
                col,
                value: v.f64(),
            });
        }
        if v < zero || v > one {
            return Err(Error::OutOfRange {
                what,
                row,
                col,
                value: v.f64(),
                low,
                high,
            });
        }
    }
    unreachable!("row {row} failed the range test, so one of its values is out of range")
}

/// Checks that `x` has `ncols` columns.
pub fn columns<T>(what: &'static str, x: &ArrayView2<'_, T>, ncols: usize) -> Result<()> {
    if x.ncols() != ncols {
        return Err(Error::Shape {
            what,
            expected: format!("(n, {ncols})"),
            got: format!("{:?}", x.dim()),
        });
    }
    Ok(())
}

/// Checks that every value of a matrix is finite.
pub fn finite2<T: Float>(what: &'static str, x: &ArrayView2<'_, T>) -> Result<()> {
    match x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        Some(((row, col), v)) => Err(Error::NonFinite {
            what,
            row,
            col,
            value: v.f64(),
        }),
        None => Ok(()),
    }
}

/// Checks that every value of a vector is finite (reported as row 0).
pub fn finite1<T: Float>(what: &'static str, x: &ArrayView1<'_, T>) -> Result<()> {
    match x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        Some((col, v)) => Err(Error::NonFinite {
            what,
            row: 0,
            col,
            value: v.f64(),
        }),
        None => Ok(()),
    }
}

/// Checks that `copies` arrays of `rows × cols` values of `T` fit in memory before they are
/// made: the sizes must not overflow and the allocator must grant the bytes (asked for once,
/// then released at once, so nothing is touched). A size that cannot fit is refused here
/// instead of aborting the process in the allocator.
///
/// # Errors
/// [`Error::TooLarge`] naming `what` and the bytes it would need.
pub fn allocatable<T>(what: &'static str, rows: usize, cols: usize, copies: usize) -> Result<()> {
    let bytes = rows
        .checked_mul(cols)
        .and_then(|n| n.checked_mul(copies))
        .and_then(|n| n.checked_mul(std::mem::size_of::<T>()));
    let too_large = |need: String| Error::TooLarge {
        what,
        reason: format!(
            "{rows} × {cols} values{} need {need}, more than this machine can allocate",
            if copies > 1 {
                format!(" (× {copies} buffers)")
            } else {
                String::new()
            }
        ),
    };
    let Some(bytes) = bytes.filter(|&b| b <= isize::MAX as usize) else {
        return Err(too_large("more bytes than the address space holds".into()));
    };
    if Vec::<u8>::new().try_reserve_exact(bytes).is_err() {
        return Err(too_large(format!(
            "{:.1} GiB",
            bytes as f64 / (1u64 << 30) as f64
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn unit_data_reports_the_first_bad_value_in_row_order() {
        // Enough rows for the parallel scan to split; bad values in several places.
        let mut x = Array2::<f32>::from_elem((5000, 40), 0.5);
        assert!(unit_data("x", &x.view(), 40).is_ok());
        x[[4000, 3]] = -0.1;
        x[[3001, 39]] = f32::INFINITY;
        x[[3001, 7]] = 1.5;
        match unit_data("x", &x.view(), 40) {
            Err(Error::OutOfRange {
                row: 3001,
                col: 7,
                value,
                ..
            }) => assert_eq!(value, 1.5),
            other => panic!("{other:?}"),
        }
        x[[3001, 7]] = 0.0;
        assert!(matches!(
            unit_data("x", &x.view(), 40),
            Err(Error::NonFinite {
                row: 3001,
                col: 39,
                ..
            })
        ));
        x[[3001, 39]] = 1.0;
        assert!(matches!(
            unit_data("x", &x.view(), 40),
            Err(Error::OutOfRange {
                row: 4000,
                col: 3,
                ..
            })
        ));
        // A transposed view (rows not contiguous) takes the other path: the same answer.
        let xt = x.t().to_owned();
        assert!(matches!(
            unit_data("x", &xt.t(), 40),
            Err(Error::OutOfRange {
                row: 4000,
                col: 3,
                ..
            })
        ));
        x[[4000, 3]] = f32::NAN;
        assert!(matches!(
            unit_data("x", &x.view(), 40),
            Err(Error::NonFinite {
                row: 4000,
                col: 3,
                ..
            })
        ));
    }
}
