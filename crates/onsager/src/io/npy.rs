//! NumPy `.npy` files: 2-D arrays of u8, f32 or f64 in, any of them out.

use std::path::Path;

use ndarray::{Array2, ArrayView2};
use ndarray_npy::{WritableElement, WriteNpyExt};

use super::Values;
use crate::{Error, Result};

/// Reads a 2-D `.npy` array of dtype u8, f32 or f64 (rows are samples), C order. The header's
/// shape is checked against the file's length before anything is allocated.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Format`] naming the file for another
/// dtype, another number of dimensions, Fortran order, a damaged header, or a shape that
/// disagrees with the bytes the file holds.
pub fn read(path: impl AsRef<Path>) -> Result<Values> {
    let path = path.as_ref();
    from_bytes(path, &super::read_file(path)?)
}

/// Parses the bytes of a `.npy` file (`path` names them in errors).
pub(crate) fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Values> {
    let h = header(bytes).map_err(|reason| Error::Format {
        path: path.to_owned(),
        reason,
    })?;
    let shape = (h.shape[0], h.shape[1]);
    let body = &bytes[h.data..];
    Ok(match h.item {
        1 => Values::U8(shaped(shape, body.to_vec())),
        4 => Values::F32(shaped(
            shape,
            body.chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect(),
        )),
        _ => Values::F64(shaped(
            shape,
            body.chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect(),
        )),
    })
}

/// The array of `v`, whose length the header check has matched to rows × cols.
fn shaped<A>(shape: (usize, usize), v: Vec<A>) -> Array2<A> {
    Array2::from_shape_vec(shape, v).expect("the header check matched the length")
}

/// What a `.npy` header says: the byte size of one element (1: uint8, 4: float32, 8:
/// float64) and the shape.
struct Header {
    item: usize,
    shape: Vec<usize>,
    /// Where the data starts.
    data: usize,
}

/// Parses and checks a `.npy` header (format versions 1–3) without allocating for the data:
/// the shape it claims must match the bytes the file holds, so a header that lies is an error,
/// never an allocation of the size it claims.
fn header(bytes: &[u8]) -> std::result::Result<Header, String> {
    let magic = b"\x93NUMPY";
    if bytes.len() < 10 || &bytes[..6] != magic {
        return Err("not a .npy file (bad magic string)".into());
    }
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10usize),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize,
            12,
        ),
        v => return Err(format!("unsupported .npy format version {v}")),
    };
    let data = start
        .checked_add(len)
        .filter(|&d| d <= bytes.len())
        .ok_or("truncated .npy header")?;
    let text =
        std::str::from_utf8(&bytes[start..data]).map_err(|_| "the .npy header is not text")?;
    let field = |key: &str| -> std::result::Result<&str, String> {
        let at = text
            .find(&format!("'{key}'"))
            .ok_or_else(|| format!("the .npy header has no '{key}'"))?;
        let rest = text[at + key.len() + 2..].trim_start();
        rest.strip_prefix(':')
            .map(str::trim_start)
            .ok_or_else(|| format!("the .npy header's '{key}' has no value"))
    };
    let descr = field("descr")?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split('\'').next())
        .ok_or("the .npy header's 'descr' is not a string")?
        .to_string();
    if field("fortran_order")?.starts_with("True") {
        return Err("Fortran-ordered .npy arrays are not supported (save with C order)".into());
    }
    let shape = field("shape")?;
    let inner = shape
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or("the .npy header's 'shape' is not a tuple")?;
    let shape: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| format!("the .npy header's shape ({inner}) is not a tuple of sizes"))?;
    let item: usize = match descr.as_str() {
        "|u1" | "u1" | "<u1" | ">u1" | "|b1" => 1,
        "<f4" => 4,
        "<f8" => 8,
        d => {
            return Err(format!(
                "dtype {d} is not supported (uint8, bool, little-endian float32 or float64)"
            ))
        }
    };
    if shape.len() != 2 {
        return Err(format!(
            "a data file holds a 2-D array (samples × features); this one has shape {shape:?}"
        ));
    }
    let held = bytes.len() - data;
    match shape
        .iter()
        .try_fold(item, |acc, &x| acc.checked_mul(x))
    {
        Some(n) if n == held => Ok(Header {
            item,
            shape,
            data,
        }),
        Some(n) => Err(format!(
            "the header promises shape {shape:?} ({n} bytes of {descr}) but the file holds {held} bytes"
        )),
        None => Err(format!("the header's shape {shape:?} overflows")),
    }
}

/// Writes a 2-D array as `.npy`, atomically.
///
/// # Errors
/// [`Error::Io`] naming the path if it cannot be written.
pub fn write<A: WritableElement>(path: impl AsRef<Path>, a: ArrayView2<'_, A>) -> Result<()> {
    let path = path.as_ref();
    let mut buf = Vec::new();
    a.write_npy(&mut buf).map_err(|e| Error::Format {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    super::write_atomic(path, &buf)
}

/// Writes a float array as `.npy` in its own precision (float32 or float64), atomically.
///
/// # Errors
/// [`Error::Io`] naming the path if it cannot be written.
pub fn write_float<T: crate::Float>(path: impl AsRef<Path>, a: ArrayView2<'_, T>) -> Result<()> {
    if T::DTYPE == "float32" {
        write(path, a.mapv(|x| x.f64() as f32).view())
    } else {
        write(path, a.mapv(|x| x.f64()).view())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version-1 `.npy` file with the header dictionary `dict` and `data` bytes after it.
    fn npy(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut h = dict.to_string();
        while !(10 + h.len() + 1).is_multiple_of(64) {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend((h.len() as u16).to_le_bytes());
        b.extend(h.as_bytes());
        b.extend(data);
        b
    }

    fn error(bytes: &[u8]) -> String {
        from_bytes(Path::new("x.npy"), bytes)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn headers_are_checked_against_the_file_before_allocating() {
        let f = |descr: &str, shape: &str| {
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}")
        };
        let ok = from_bytes(
            Path::new("x.npy"),
            &npy(&f("|u1", "(2, 3)"), &[1, 2, 3, 4, 5, 6]),
        );
        assert_eq!(
            ok.unwrap(),
            Values::U8(ndarray::array![[1, 2, 3], [4, 5, 6]])
        );
        let floats: Vec<u8> = [0.5f64, -1.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let ok = from_bytes(Path::new("x.npy"), &npy(&f("<f8", "(1, 2)"), &floats));
        assert_eq!(ok.unwrap(), Values::F64(ndarray::array![[0.5, -1.0]]));
        // 2⁴⁰ × 16 float32 values claimed by a 128-byte file: an error, not an abort.
        let e = error(&npy(&f("<f4", "(1099511627776, 16)"), &[0; 64]));
        assert!(
            e.contains("promises shape [1099511627776, 16]") && e.contains("holds 64"),
            "{e}"
        );
        let e = error(&npy(&f("<f4", "(18446744073709551615, 16)"), &[]));
        assert!(e.contains("overflows"), "{e}");
        assert!(error(&npy(&f("<i8", "(1, 1)"), &[0; 8])).contains("dtype <i8"));
        assert!(error(&npy(&f(">f4", "(1, 1)"), &[0; 4])).contains("dtype >f4"));
        assert!(error(&npy(&f("<f4", "(4,)"), &[0; 16])).contains("2-D"));
        assert!(error(&npy(&f("<f4", "(1, -2)"), &[])).contains("not a tuple of sizes"));
        let fortran = "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }";
        assert!(error(&npy(fortran, &[0; 4])).contains("Fortran"));
        assert!(error(&npy(&f("|u1", "(2, 2)"), &[0; 3])).contains("holds 3 bytes"));
        assert!(error(b"\x93NUMPY\x01\x00\xff\x00{").contains("truncated"));
        assert!(error(b"PK\x03\x04 not npy").contains("magic"));
        assert!(error(b"\x93NUMPY\x09\x00\x00\x00").contains("version 9"));
    }

    #[test]
    fn what_write_writes_reads_back() {
        let dir = std::env::temp_dir().join(format!("onsager-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = ndarray::array![[0.25f32, 1.0, 0.0], [0.5, 0.75, 1.0]];
        let p = dir.join("a.npy");
        write(&p, a.view()).unwrap();
        assert_eq!(read(&p).unwrap(), Values::F32(a));
        std::fs::remove_dir_all(dir).ok();
    }
}
