//! CSV files of numbers, one sample per line, with an optional header line.

use std::path::Path;

use ndarray::Array2;

use crate::{Error, Result};

/// Reads a CSV of numbers as f64. A first line in which no field is a number is taken as a
/// header; a first line mixing numbers and text is an error naming the field.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Format`] naming the file and line for a
/// ragged row, and the line and column for a field that is not a number.
pub fn read(path: impl AsRef<Path>) -> Result<Array2<f64>> {
    read_with_header(path).map(|(values, _)| values)
}

/// As [`read`], also returning the header's column names when the file has a header line.
///
/// # Errors
/// As [`read`].
pub fn read_with_header(path: impl AsRef<Path>) -> Result<(Array2<f64>, Option<Vec<String>>)> {
    let path = path.as_ref();
    let bad = |reason: String| Error::Format {
        path: path.to_owned(),
        reason,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| {
            let shown = e.to_string();
            match e.into_kind() {
                csv::ErrorKind::Io(source) => Error::Io {
                    path: path.to_owned(),
                    source,
                },
                _ => bad(shown),
            }
        })?;
    let mut values = Vec::new();
    let mut header = None;
    let mut ncols = None;
    let mut rows = 0;
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 1;
        let rec = rec.map_err(|e| match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => bad(format!(
                "line {line} has {len} fields, earlier lines have {expected_len}"
            )),
            _ => bad(format!("line {line}: {e}")),
        })?;
        let parsed: Vec<std::result::Result<f64, _>> = rec.iter().map(str::parse::<f64>).collect();
        // A header has no field that reads as a number; a first line with some numbers and
        // some text is a data row with a typo, reported below, not a header to drop.
        if i == 0 && parsed.iter().all(|p| p.is_err()) {
            ncols = Some(rec.len());
            header = Some(rec.iter().map(str::to_string).collect());
            continue;
        }
        match ncols {
            Some(n) if n != rec.len() => {
                return Err(bad(format!(
                    "line {line} has {} fields, earlier lines have {n}",
                    rec.len()
                )));
            }
            _ => ncols = Some(rec.len()),
        }
        for (col, p) in parsed.into_iter().enumerate() {
            let v = p.map_err(|_| {
                bad(format!(
                    "line {line}, column {}: `{}` is not a number",
                    col + 1,
                    &rec[col]
                ))
            })?;
            values.push(v);
        }
        rows += 1;
    }
    let ncols = ncols.unwrap_or(0);
    if rows == 0 {
        return Err(bad("no data rows".into()));
    }
    let values = Array2::from_shape_vec((rows, ncols), values).expect("rows × cols values");
    Ok((values, header))
}
