//! Preprocessing: how raw values (bytes, counts, floats) become the data an RBM takes (\[0, 1\]
//! for binary and truncated units, standardised columns for Gaussian ones), and the [`Scaling`]
//! each run reports so no rescaling happens without a word.

use std::fmt;

use ndarray::Array2;

use super::{Dataset, Standardization, Values};
use crate::rng::{self, Domain};
use crate::{Error, Float, Result, Visible};

/// How raw values become RBM data in \[0, 1\].
///
/// Bytes holding only 0 and 1 are binary data and are taken as they are by every choice;
/// other bytes are divided by 255 (their type's range). What was applied is reported by
/// [`Dataset::scaling`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Preprocess {
    /// Bytes ÷255 (0/1 bytes as they are); floats as they are (any outside \[0, 1\] is an
    /// error suggesting [`Preprocess::Scale`]).
    Auto,
    /// Values as they are: any outside \[0, 1\] is an error naming its row and column.
    None,
    /// Bytes ÷255 (0/1 bytes as they are); other values mapped from the data's own range
    /// \[min(0, lowest), highest\] onto \[0, 1\] (an integer CSV of 0–255 pixels is ÷255).
    Scale,
    /// Values mapped from the given range \[low, high\] onto \[0, 1\]: (x − low) / (high − low);
    /// a value outside the range is an error.
    Range {
        /// The raw value that becomes 0.
        low: f64,
        /// The raw value that becomes 1.
        high: f64,
    },
    /// Scaled as by `Auto`, then values above `threshold` become 1, the rest 0.
    Binarize {
        /// The threshold on the scaled value, in \[0, 1) (MNIST's usual 0.5 keeps bytes ≥ 128;
        /// 0 keeps every non-zero value).
        threshold: f64,
    },
    /// Scaled as by `Auto`, then each value p becomes 1 with probability p (row i draws from
    /// stream i of `seed`).
    Stochastic {
        /// Seed of the draws.
        seed: u64,
    },
    /// Each column to z = (x − μⱼ) / sⱼ with this data's column means and (population)
    /// standard deviations, for Gaussian visible units; the map is reported in
    /// [`Scaling::columns`] so that a model file can store it and held-out data use it
    /// ([`Dataset::prepare_standardized`]).
    Standardize,
}

/// The map x ↦ (x − offset) / divisor a [`Preprocess`] applies to a data set, with the reason
/// it was chosen; its `Display` is the sentence the command line prints.
#[derive(Clone, Debug, PartialEq)]
pub struct Scaling {
    /// Subtracted from every raw value.
    pub offset: f64,
    /// Divides every raw value after the offset.
    pub divisor: f64,
    /// Why this map: "bytes", "binary bytes", "the data's range", "as given", ….
    pub basis: &'static str,
    /// The preprocessing it belongs to (for the thresholding or sampling after the map).
    pub how: Preprocess,
    /// A per-column map applied in place of `offset` and `divisor` (which are then 0 and 1):
    /// [`Preprocess::Standardize`]'s fitted map, or a model's stored one.
    pub columns: Option<Standardization>,
}

impl Scaling {
    fn identity(basis: &'static str, how: Preprocess) -> Self {
        Self {
            offset: 0.0,
            divisor: 1.0,
            basis,
            how,
            columns: None,
        }
    }

    /// The per-column map `columns`, reported as `basis`.
    fn standardizing(columns: Standardization, basis: &'static str, how: Preprocess) -> Self {
        Self {
            columns: Some(columns),
            ..Self::identity(basis, how)
        }
    }

    /// The prepared value of raw value `raw` in column `col` (before any thresholding).
    fn forward(&self, raw: f64, col: usize) -> f64 {
        match &self.columns {
            Some(s) => s.forward_one(raw, col),
            None => (raw - self.offset) / self.divisor,
        }
    }

    /// The raw value that the prepared value `x` of column `col` comes from.
    fn inverse(&self, x: f64, col: usize) -> f64 {
        match &self.columns {
            Some(s) => s.mean()[col] + x * s.std()[col],
            None => self.offset + x * self.divisor,
        }
    }
}

impl fmt::Display for Scaling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (o, d) = (self.offset, self.divisor);
        if let Some(s) = &self.columns {
            write!(
                f,
                "each of the {} columns as (value − its mean) ÷ its standard deviation ({})",
                s.len(),
                self.basis
            )?;
        } else if o == 0.0 && d == 1.0 {
            write!(f, "values as they are ({})", self.basis)?;
        } else if o == 0.0 {
            write!(f, "values ÷ {d} ({})", self.basis)?;
        } else {
            write!(f, "(values − {o}) ÷ {d} ({})", self.basis)?;
        }
        match self.how {
            Preprocess::Binarize { threshold } => write!(f, ", then 1 above {threshold}, else 0"),
            Preprocess::Stochastic { seed } => {
                write!(f, ", then 1 with that probability (seed {seed})")
            }
            _ => Ok(()),
        }
    }
}

/// The lowest and highest finite values (None when there are none).
fn finite_range(values: &Values) -> Option<(f64, f64)> {
    let fold = |acc: Option<(f64, f64)>, x: f64| match acc {
        _ if !x.is_finite() => acc,
        None => Some((x, x)),
        Some((lo, hi)) => Some((lo.min(x), hi.max(x))),
    };
    match values {
        Values::U8(a) => a.iter().map(|&x| x as f64).fold(None, fold),
        Values::F32(a) => a.iter().map(|&x| x as f64).fold(None, fold),
        Values::F64(a) => a.iter().copied().fold(None, fold),
    }
}

impl Dataset {
    /// The map `how` applies to these values (see [`Preprocess`]); what the command line
    /// prints before training.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for a threshold outside \[0, 1) or NaN, or a range that is not
    /// two finite values low < high.
    pub fn scaling(&self, how: Preprocess) -> Result<Scaling> {
        match how {
            Preprocess::Binarize { threshold } if !(0.0..1.0).contains(&threshold) => {
                return Err(Error::InvalidParam {
                    name: "threshold",
                    value: threshold.to_string(),
                    reason: "must lie in [0, 1): values above it become 1 (0 keeps every non-zero value)",
                });
            }
            Preprocess::Range { low, high }
                if !(low.is_finite() && high.is_finite() && low < high) =>
            {
                return Err(Error::InvalidParam {
                    name: "range",
                    value: format!("{low},{high}"),
                    reason: "must be two finite values, low < high",
                });
            }
            _ => {}
        }
        let is_bytes = matches!(self.values, Values::U8(_));
        Ok(match how {
            Preprocess::None => Scaling::identity("no preprocessing", how),
            Preprocess::Range { low, high } => Scaling {
                offset: low,
                divisor: high - low,
                basis: "the range given",
                how,
                columns: None,
            },
            Preprocess::Standardize => Scaling::standardizing(
                Standardization::fit(&self.values)?,
                "the means and standard deviations of this data",
                how,
            ),
            _ if is_bytes => match finite_range(&self.values) {
                Some((_, hi)) if hi <= 1.0 => Scaling::identity("bytes holding only 0 and 1", how),
                _ => Scaling {
                    offset: 0.0,
                    divisor: 255.0,
                    basis: "bytes",
                    how,
                    columns: None,
                },
            },
            Preprocess::Scale => match finite_range(&self.values) {
                Some((lo, hi)) if hi > lo.min(0.0) => Scaling {
                    offset: lo.min(0.0),
                    divisor: hi - lo.min(0.0),
                    basis: "the data's range",
                    how,
                    columns: None,
                },
                _ => Scaling::identity("the data's range is a single value", how),
            },
            _ => Scaling::identity("floats", how),
        })
    }

    /// The values turned into RBM data of type `T` by `how` (see [`Preprocess`] and
    /// [`Dataset::scaling`]).
    ///
    /// # Errors
    /// As [`Dataset::scaling`]; [`Error::Empty`] for no rows; [`Error::NonFinite`] or
    /// [`Error::OutOfRange`] naming the row and column (0-based) of the first value that is
    /// NaN, infinite, or (after scaling) outside \[0, 1\].
    pub fn prepare<T: Float>(&self, how: Preprocess) -> Result<Array2<T>> {
        Ok(self.prepare_scaled(how)?.0)
    }

    /// [`Dataset::prepare`], also returning the [`Scaling`] it applied (found once, as
    /// [`Dataset::scaling`] would find it), for the run's report.
    ///
    /// # Errors
    /// As [`Dataset::prepare`].
    pub fn prepare_scaled<T: Float>(&self, how: Preprocess) -> Result<(Array2<T>, Scaling)> {
        self.prepare_for(how, Visible::Bernoulli)
    }

    /// [`Dataset::prepare_scaled`] for visible units of type `visible`: the prepared values
    /// must lie in [`Visible::range`] rather than \[0, 1\] (any finite value for Gaussian
    /// units), so `Auto` and `None` take real-valued data as it is.
    ///
    /// # Errors
    /// As [`Dataset::prepare`], with the range of `visible`.
    pub fn prepare_for<T: Float>(
        &self,
        how: Preprocess,
        visible: Visible,
    ) -> Result<(Array2<T>, Scaling)> {
        let (n, d) = self.values.dim();
        if n == 0 || d == 0 {
            return Err(Error::Empty { what: "data" });
        }
        let map = self.scaling(how)?;
        Ok((self.apply(&map, visible)?, map))
    }

    /// The values standardised by a stored map (a model's, fitted on its training data by
    /// [`Preprocess::Standardize`]), for visible units of type `visible`.
    ///
    /// # Errors
    /// [`Error::Shape`] if the map has another number of columns; otherwise as
    /// [`Dataset::prepare_for`].
    pub fn prepare_standardized<T: Float>(
        &self,
        stored: &Standardization,
        visible: Visible,
    ) -> Result<(Array2<T>, Scaling)> {
        let (n, d) = self.values.dim();
        if n == 0 || d == 0 {
            return Err(Error::Empty { what: "data" });
        }
        stored.check_columns(d)?;
        let map = Scaling::standardizing(
            stored.clone(),
            "the means and standard deviations stored in the model",
            Preprocess::Standardize,
        );
        Ok((self.apply(&map, visible)?, map))
    }

    /// The values through `map`, checked against the range of `visible` units.
    fn apply<T: Float>(&self, map: &Scaling, visible: Visible) -> Result<Array2<T>> {
        let how = map.how;
        let (lo, hi) = visible.range();
        let (n, d) = self.values.dim();
        crate::check::allocatable::<T>("the prepared data (rows × columns)", n, d, 1)?;
        let mut out = Array2::<T>::zeros((n, d));
        for r in 0..n {
            let mut stream = match how {
                Preprocess::Stochastic { seed } => {
                    Some(rng::stream(seed, Domain::Sample, r as u64))
                }
                _ => None,
            };
            for c in 0..d {
                let raw = self.values.get(r, c);
                if !raw.is_finite() {
                    return Err(Error::NonFinite {
                        what: "data",
                        row: r,
                        col: c,
                        value: raw,
                    });
                }
                let x = map.forward(raw, c);
                if !(lo..=hi).contains(&x) {
                    return Err(Error::OutOfRange {
                        what: "data",
                        row: r,
                        col: c,
                        value: raw,
                        low: map.inverse(lo, c),
                        high: map.inverse(hi, c),
                    });
                }
                out[[r, c]] = T::of(match (how, &mut stream) {
                    (Preprocess::Binarize { threshold }, _) => (x > threshold) as u8 as f64,
                    (Preprocess::Stochastic { .. }, Some(s)) => {
                        (rng::uniform::<f64>(s) < x) as u8 as f64
                    }
                    _ => x,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn set(values: Values) -> Dataset {
        Dataset {
            values,
            labels: None,
            image_shape: None,
        }
    }

    #[test]
    fn each_choice_applies_and_reports_its_map() {
        // Binary bytes stay binary under every choice; other bytes are ÷255.
        let binary = set(Values::U8(array![[0, 1], [1, 0]]));
        for how in [
            Preprocess::Auto,
            Preprocess::Scale,
            Preprocess::Binarize { threshold: 0.5 },
        ] {
            let x: Array2<f64> = binary.prepare(how).unwrap();
            assert_eq!(x, array![[0.0, 1.0], [1.0, 0.0]], "{how:?}");
            assert!(binary
                .scaling(how)
                .unwrap()
                .to_string()
                .contains("only 0 and 1"));
        }
        let bytes = set(Values::U8(array![[0, 51], [255, 2]]));
        let x: Array2<f64> = bytes.prepare(Preprocess::Auto).unwrap();
        assert_eq!(x[[0, 1]], 0.2);
        assert_eq!(
            bytes.scaling(Preprocess::Auto).unwrap().to_string(),
            "values ÷ 255 (bytes)"
        );
        // Integer pixels in a float file: auto refuses, scale divides by the data's range.
        let counts = set(Values::F64(array![[0.0, 51.0], [255.0, 2.0]]));
        assert!(matches!(
            counts.prepare::<f64>(Preprocess::Auto),
            Err(Error::OutOfRange { row: 0, col: 1, .. })
        ));
        let x: Array2<f64> = counts.prepare(Preprocess::Scale).unwrap();
        assert_eq!(x[[0, 1]], 0.2);
        assert_eq!(
            counts.scaling(Preprocess::Scale).unwrap().to_string(),
            "values ÷ 255 (the data's range)"
        );
        let signed = set(Values::F64(array![[-1.0, 3.0]]));
        let x: Array2<f64> = signed.prepare(Preprocess::Scale).unwrap();
        assert_eq!(x, array![[0.0, 1.0]]);
        let ranged = Preprocess::Range {
            low: 0.0,
            high: 510.0,
        };
        let x: Array2<f64> = counts.prepare(ranged).unwrap();
        assert_eq!(x[[1, 0]], 0.5);
        let narrow = Preprocess::Range {
            low: 0.0,
            high: 100.0,
        };
        assert!(matches!(
            counts.prepare::<f64>(narrow),
            Err(Error::OutOfRange { row: 1, col: 0, .. })
        ));
        // Thresholds and ranges that cannot be meant are refused, not turned into zeros.
        for t in [1.0, 2.0, -0.1, f64::NAN] {
            let e = bytes.prepare::<f32>(Preprocess::Binarize { threshold: t });
            assert!(
                matches!(
                    e,
                    Err(Error::InvalidParam {
                        name: "threshold",
                        ..
                    })
                ),
                "{t}"
            );
        }
        for (low, high) in [(1.0, 1.0), (2.0, 1.0), (0.0, f64::INFINITY)] {
            let e = counts.prepare::<f32>(Preprocess::Range { low, high });
            assert!(matches!(e, Err(Error::InvalidParam { name: "range", .. })));
        }
    }

    #[test]
    fn real_valued_units_check_their_own_range() {
        let signed = set(Values::F64(array![[-1.5, 3.0], [0.25, 300.0]]));
        // Gaussian units take any finite value as it is.
        let (x, _) = signed
            .prepare_for::<f64>(Preprocess::Auto, Visible::Gaussian)
            .unwrap();
        assert_eq!(x, array![[-1.5, 3.0], [0.25, 300.0]]);
        // Truncated units on [-2, 10] refuse 300.0 (row 1, column 1) and name their interval;
        // through a map, the interval is given in raw values.
        let units = Visible::TruncatedGaussian {
            low: -2.0,
            high: 10.0,
        };
        assert!(matches!(
            signed.prepare_for::<f64>(Preprocess::None, units),
            Err(Error::OutOfRange { row: 1, col: 1, low, high, .. }) if low == -2.0 && high == 10.0
        ));
        let halved = Preprocess::Range {
            low: 0.0,
            high: 2.0,
        };
        assert!(matches!(
            signed.prepare_for::<f64>(halved, units),
            Err(Error::OutOfRange { row: 1, col: 1, low, high, .. }) if low == -4.0 && high == 20.0
        ));
        assert!(signed
            .prepare_for::<f64>(Preprocess::Auto, Visible::Bernoulli)
            .is_err());
    }
    #[test]
    fn standardising_fits_here_or_applies_a_stored_map() {
        let train = set(Values::U8(array![[0, 10], [255, 30]]));
        let (z, map) = train
            .prepare_for::<f64>(Preprocess::Standardize, Visible::Gaussian)
            .unwrap();
        assert_eq!(z, array![[-1.0, -1.0], [1.0, 1.0]]);
        let fitted = map.columns.clone().unwrap();
        assert_eq!(fitted.mean(), array![127.5, 20.0]);
        assert!(map.to_string().contains("each of the 2 columns"), "{map}");
        // Held-out rows take the training map, not their own moments.
        let test = set(Values::U8(array![[20, 20]]));
        let (z, stored) = test
            .prepare_standardized::<f32>(&fitted, Visible::Gaussian)
            .unwrap();
        assert_eq!(z, array![[(20.0 - 127.5) / 127.5, 0.0f32]]);
        assert!(stored.to_string().contains("stored in the model"));
        assert!(matches!(
            set(Values::U8(array![[1, 2, 3]]))
                .prepare_standardized::<f32>(&fitted, Visible::Gaussian),
            Err(Error::Shape { .. })
        ));
        // Truncated units on [0, 1] refuse the negative standardised value, naming the raw
        // interval that maps onto [0, 1] in that column (column 0: [127.5, 255]).
        assert!(matches!(
            test.prepare_standardized::<f64>(&fitted, Visible::TruncatedGaussian { low: 0.0, high: 1.0 }),
            Err(Error::OutOfRange { row: 0, col: 0, low, high, .. }) if low == 127.5 && high == 255.0
        ));
    }
}
