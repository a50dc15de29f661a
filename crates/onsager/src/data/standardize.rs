//! Standardisation: each column's z = (x − μⱼ) / sⱼ with the training data's column means and
//! standard deviations, stored in the model file so that held-out data, transforms and samples
//! use the training map (docs/maths.md §1b, "Standardised data").

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use super::Values;
use crate::{Error, Float, Result};

/// Column means μ and standard deviations s of raw values: z = (x − μ) / s forward, x = μ + s·z
/// back. Fitted by [`Standardization::fit`] (population standard deviation, as scikit-learn's
/// `StandardScaler`); a column with no spread (all its values equal, such as MNIST's border
/// pixels) keeps s = 1, so it becomes zeros rather than a division by zero.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardization {
    mean: Array1<f64>,
    std: Array1<f64>,
}

impl Standardization {
    /// The column means and standard deviations of `values` (two passes, in f64).
    ///
    /// # Errors
    /// [`Error::Empty`] for no rows or columns; [`Error::NonFinite`] naming the row and column
    /// (0-based) of the first NaN or infinite value.
    pub fn fit(values: &Values) -> Result<Self> {
        let (n, d) = values.dim();
        if n == 0 || d == 0 {
            return Err(Error::Empty { what: "data" });
        }
        let mut mean = Array1::<f64>::zeros(d);
        for r in 0..n {
            for (c, m) in mean.iter_mut().enumerate() {
                let x = values.get(r, c);
                if !x.is_finite() {
                    return Err(Error::NonFinite {
                        what: "data",
                        row: r,
                        col: c,
                        value: x,
                    });
                }
                *m += x;
            }
        }
        mean /= n as f64;
        let mut var = Array1::<f64>::zeros(d);
        for r in 0..n {
            for c in 0..d {
                let e = values.get(r, c) - mean[c];
                var[c] += e * e;
            }
        }
        let std = var.mapv(|v| {
            let s = (v / n as f64).sqrt();
            // No spread relative to the values' size: keep the column's scale.
            if s > 0.0 && s.is_finite() {
                s
            } else {
                1.0
            }
        });
        Ok(Self { mean, std })
    }

    /// A map from stored means and standard deviations (a model file's).
    ///
    /// # Errors
    /// [`Error::Shape`] if the lengths differ; [`Error::Empty`] for none; [`Error::InvalidParam`]
    /// for a non-finite mean or a standard deviation that is not finite and positive.
    pub fn from_parts(mean: Array1<f64>, std: Array1<f64>) -> Result<Self> {
        if mean.is_empty() {
            return Err(Error::Empty {
                what: "standardisation means",
            });
        }
        if mean.len() != std.len() {
            return Err(Error::Shape {
                what: "standardisation standard deviations",
                expected: format!("({},)", mean.len()),
                got: format!("({},)", std.len()),
            });
        }
        if let Some(m) = mean.iter().find(|m| !m.is_finite()) {
            return Err(Error::InvalidParam {
                name: "standardisation mean",
                value: m.to_string(),
                reason: "every column's mean must be finite",
            });
        }
        if let Some(s) = std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::InvalidParam {
                name: "standardisation std",
                value: s.to_string(),
                reason: "every column's standard deviation must be finite and positive",
            });
        }
        Ok(Self { mean, std })
    }

    /// The column means μ, in raw units.
    pub fn mean(&self) -> ArrayView1<'_, f64> {
        self.mean.view()
    }

    /// The column standard deviations s, in raw units.
    pub fn std(&self) -> ArrayView1<'_, f64> {
        self.std.view()
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.mean.len()
    }

    /// Whether there are no columns (never true for a fitted or checked map).
    pub fn is_empty(&self) -> bool {
        self.mean.is_empty()
    }

    /// log |dz/dx| = −Σⱼ ln sⱼ: what turns a log-density of standardised rows into one of
    /// the raw rows, log p(x) = log p(z) − Σⱼ ln sⱼ (the change of variables z = (x − μ)/s).
    pub fn log_jacobian(&self) -> f64 {
        -self.std.iter().map(|s| s.ln()).sum::<f64>()
    }

    /// z = (x − μⱼ) / sⱼ of a raw value x of column j.
    pub(crate) fn forward_one(&self, x: f64, j: usize) -> f64 {
        (x - self.mean[j]) / self.std[j]
    }

    /// The standardised rows z = (x − μ) / s of raw rows `x`.
    ///
    /// # Errors
    /// [`Error::Shape`] if `x` does not have [`Standardization::len`] columns.
    pub fn forward<T: Float>(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>> {
        self.check_columns(x.ncols())?;
        Ok(Array2::from_shape_fn(x.dim(), |(r, c)| {
            T::of(self.forward_one(x[[r, c]].f64(), c))
        }))
    }

    /// Raw rows x = μ + s·z of standardised rows `z` (samples or reconstructions of a model
    /// trained on standardised data, in the data's own units).
    ///
    /// # Errors
    /// [`Error::Shape`] if `z` does not have [`Standardization::len`] columns.
    pub fn inverse<T: Float>(&self, z: ArrayView2<'_, T>) -> Result<Array2<T>> {
        self.check_columns(z.ncols())?;
        Ok(Array2::from_shape_fn(z.dim(), |(r, c)| {
            T::of(self.mean[c] + self.std[c] * z[[r, c]].f64())
        }))
    }

    /// Refuses data whose column count is not the map's.
    pub(crate) fn check_columns(&self, cols: usize) -> Result<()> {
        if cols != self.len() {
            return Err(Error::Shape {
                what: "data (the standardisation's columns)",
                expected: format!("{} columns", self.len()),
                got: format!("{cols} columns"),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn fits_population_moments_and_maps_both_ways() {
        // Column 0: 1, 3 → mean 2, std 1; column 1: 0, 0 → no spread, std kept at 1;
        // column 2: bytes 0, 255 → mean 127.5, std 127.5.
        let v = Values::F64(array![[1.0, 0.0, 0.0], [3.0, 0.0, 255.0]]);
        let s = Standardization::fit(&v).unwrap();
        assert_eq!(s.mean(), array![2.0, 0.0, 127.5]);
        assert_eq!(s.std(), array![1.0, 1.0, 127.5]);
        assert_eq!(s.log_jacobian(), -(127.5f64).ln());
        let x = array![[1.0f32, 0.0, 0.0], [3.0, 0.0, 255.0]];
        let z = s.forward(x.view()).unwrap();
        assert_eq!(z, array![[-1.0f32, 0.0, -1.0], [1.0, 0.0, 1.0]]);
        assert_eq!(s.inverse(z.view()).unwrap(), x);
        // Wrong widths and bad values are refused by name.
        assert!(matches!(
            s.forward(array![[1.0f64, 2.0]].view()),
            Err(Error::Shape { .. })
        ));
        assert!(matches!(
            Standardization::fit(&Values::F64(array![[1.0, f64::NAN]])),
            Err(Error::NonFinite { row: 0, col: 1, .. })
        ));
        assert!(Standardization::from_parts(array![0.0], array![0.0]).is_err());
        assert!(Standardization::from_parts(array![0.0, 1.0], array![1.0]).is_err());
        assert!(Standardization::from_parts(array![f64::NAN], array![1.0]).is_err());
        assert_eq!(
            Standardization::from_parts(array![2.0, 0.0, 127.5], array![1.0, 1.0, 127.5]).unwrap(),
            s
        );
    }
}
