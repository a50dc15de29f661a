//! Input validation shared by every entry point.

use ndarray::{ArrayView1, ArrayView2};

use crate::{Error, Float, Result};

/// Checks that `x` has `ncols` columns, at least one row, and only finite values in \[0, 1\].
pub fn unit_data<T: Float>(what: &'static str, x: &ArrayView2<'_, T>, ncols: usize) -> Result<()> {
    columns(what, x, ncols)?;
    if x.nrows() == 0 {
        return Err(Error::Empty { what });
    }
    for ((row, col), &v) in x.indexed_iter() {
        if !v.is_finite() {
            return Err(Error::NonFinite {
                what,
                row,
                col,
                value: v.f64(),
            });
        }
        if v < T::zero() || v > T::one() {
            return Err(Error::OutOfRange {
                what,
                row,
                col,
                value: v.f64(),
            });
        }
    }
    Ok(())
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
