//! MNIST-style IDX files, gzip-compressed or plain (detected from the first two bytes).
//!
//! An IDX file is a big-endian header — two zero bytes, a type code (0x08 for unsigned bytes),
//! the number of dimensions d — then d big-endian `u32` sizes, then the data in C order.

use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;
use ndarray::{Array1, Array2};

use crate::{Error, Result};

/// Reads the whole file, decompressing it if it starts with the gzip magic bytes.
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    gunzip_if_needed(path, super::read_file(path)?)
}

/// Decompresses `raw` if it starts with the gzip magic bytes (`path` names it in errors).
///
/// The stream is read only as far as an IDX file could reach: the header first, then at most
/// the bytes its sizes promise (8 per value, the widest IDX type) and one more, so a small
/// file whose header or stream claims gigabytes costs no more than its claim can be checked
/// against; [`parse_u8`] then compares the sizes exactly.
pub(crate) fn gunzip_if_needed(path: &Path, raw: Vec<u8>) -> Result<Vec<u8>> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    let corrupt = |e: std::io::Error| Error::Format {
        path: path.to_owned(),
        reason: format!("corrupt gzip stream: {e}"),
    };
    let mut gz = GzDecoder::new(&raw[..]);
    let mut out = Vec::new();
    (&mut gz).take(4).read_to_end(&mut out).map_err(corrupt)?;
    if out.len() < 4 || out[0] != 0 || out[1] != 0 {
        return Ok(out); // not IDX: parse_u8 names the problem
    }
    let d = out[3] as u64;
    (&mut gz)
        .take(4 * d)
        .read_to_end(&mut out)
        .map_err(corrupt)?;
    let promised = out[4..]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes(c.try_into().expect("4 bytes")) as u64)
        .try_fold(8u64, |acc, x| acc.checked_mul(x))
        .unwrap_or(u64::MAX - 1);
    gz.take(promised + 1)
        .read_to_end(&mut out)
        .map_err(corrupt)?;
    Ok(out)
}

/// Parses an unsigned-byte IDX array: returns its dimensions and data.
fn parse_u8(path: &Path, bytes: &[u8]) -> Result<(Vec<usize>, Vec<u8>)> {
    let bad = |reason: String| Error::Format {
        path: path.to_owned(),
        reason,
    };
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad("not an IDX file (bad magic number)".into()));
    }
    if bytes[2] != 0x08 {
        return Err(bad(format!(
            "IDX element type 0x{:02x} is not unsigned byte (0x08)",
            bytes[2]
        )));
    }
    let d = bytes[3] as usize;
    let header = 4 + 4 * d;
    if d == 0 || bytes.len() < header {
        return Err(bad("truncated IDX header".into()));
    }
    let dims: Vec<usize> = (0..d)
        .map(|k| {
            u32::from_be_bytes(bytes[4 + 4 * k..8 + 4 * k].try_into().expect("4 bytes")) as usize
        })
        .collect();
    let len = dims.iter().try_fold(1usize, |acc, &x| acc.checked_mul(x));
    match len {
        Some(n) if bytes.len() - header == n => Ok((dims, bytes[header..].to_vec())),
        Some(n) if bytes.len() - header > n => Err(bad(format!(
            "header promises {n} values ({dims:?}) but the file holds more"
        ))),
        Some(n) => Err(bad(format!(
            "header promises {n} values ({dims:?}) but the file holds {}",
            bytes.len() - header
        ))),
        None => Err(bad(format!("dimensions {dims:?} overflow"))),
    }
}

/// Reads an IDX image file (n × rows × cols, or any n × …) as an (n × features) byte matrix.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Format`] (naming the file) for a bad magic
/// number, a non-byte element type, or a size that disagrees with the header.
pub fn read_images(path: impl AsRef<Path>) -> Result<Array2<u8>> {
    let path = path.as_ref();
    images_from_bytes(path, &read_bytes(path)?)
}

/// Parses decompressed IDX image bytes (`path` names them in errors).
pub(crate) fn images_from_bytes(path: &Path, bytes: &[u8]) -> Result<Array2<u8>> {
    let (dims, data) = parse_u8(path, bytes)?;
    if dims.len() < 2 {
        return Err(Error::Format {
            path: path.to_owned(),
            reason: format!(
                "an image file has two or more dimensions (samples × …); this one has {dims:?}: \
                 is it a label file?"
            ),
        });
    }
    let n = dims[0];
    let features = dims[1..].iter().product::<usize>();
    Array2::from_shape_vec((n, features), data).map_err(|e| Error::Format {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// Reads an IDX label file (one dimension) as a byte vector.
///
/// # Errors
/// As [`read_images`], and [`Error::Format`] if the file has more than one dimension.
pub fn read_labels(path: impl AsRef<Path>) -> Result<Array1<u8>> {
    let path = path.as_ref();
    labels_from_bytes(path, &read_bytes(path)?)
}

/// Parses decompressed IDX label bytes (`path` names them in errors).
pub(crate) fn labels_from_bytes(path: &Path, bytes: &[u8]) -> Result<Array1<u8>> {
    let (dims, data) = parse_u8(path, bytes)?;
    if dims.len() != 1 {
        return Err(Error::Format {
            path: path.to_owned(),
            reason: format!("a label file has one dimension, this one has {dims:?}"),
        });
    }
    Ok(Array1::from_vec(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("onsager-idx-{}-{name}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn reads_plain_and_gzip_and_rejects_bad_files() {
        let mut img = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 3];
        img.extend([1, 2, 3, 4, 5, 6]);
        let p = write("plain", &img);
        let x = read_images(&p).unwrap();
        assert_eq!(x, ndarray::array![[1, 2, 3], [4, 5, 6]]);

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &img).unwrap();
        let pg = write("gz", &gz.finish().unwrap());
        assert_eq!(read_images(&pg).unwrap(), x);

        let lab = write("labels", &[0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]);
        assert_eq!(read_labels(&lab).unwrap(), ndarray::array![7, 8, 9]);
        assert!(read_labels(&p)
            .unwrap_err()
            .to_string()
            .contains("one dimension"));

        let short = write("short", &img[..img.len() - 1]);
        let e = read_images(&short).unwrap_err().to_string();
        assert!(
            e.contains("promises 6 values") && e.contains("holds 5"),
            "{e}"
        );
        let magic = write("magic", b"PK\x03\x04rest");
        assert!(read_images(&magic)
            .unwrap_err()
            .to_string()
            .contains("magic"));
        let float = write("float", &[0, 0, 0x0d, 1, 0, 0, 0, 0]);
        assert!(read_images(&float)
            .unwrap_err()
            .to_string()
            .contains("0x0d"));
        // A label file is not image data; a gzip stream that claims more than it holds, or
        // holds far more than its header claims, is refused without reading it all.
        assert!(read_images(&lab)
            .unwrap_err()
            .to_string()
            .contains("label file"));
        let mut big = vec![0, 0, 8, 2, 0x40, 0, 0, 0, 0, 0, 0, 16];
        big.extend([0u8; 64]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &big).unwrap();
        let claims = write("claims", &gz.finish().unwrap());
        let e = read_images(&claims).unwrap_err().to_string();
        assert!(
            e.contains("promises 17179869184 values") && e.contains("holds 64"),
            "{e}"
        );
        let mut bomb = vec![0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 4];
        bomb.extend(vec![0u8; 10 << 20]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut gz, &bomb).unwrap();
        let gz = gz.finish().unwrap();
        assert!(gz.len() < 100_000);
        let bomb = write("bomb", &gz);
        let e = read_images(&bomb).unwrap_err().to_string();
        assert!(
            e.contains("promises 4 values") && e.contains("holds more"),
            "{e}"
        );
        for f in [claims, bomb] {
            std::fs::remove_file(f).ok();
        }
        let missing = read_images("/nonexistent/onsager.idx").unwrap_err();
        assert!(matches!(missing, Error::Io { .. }));
        for f in [p, pg, lab, short, magic, float] {
            std::fs::remove_file(f).ok();
        }
    }
}
