//! Data sets: loading from files, the bundled MNIST sample, MNIST from a folder or a download,
//! and the preprocessing that turns raw values into the \[0, 1\] data an RBM takes.

use std::path::{Path, PathBuf};

use ndarray::Array1;
use sha2::Digest;

use crate::{io, Error, Result};

mod preprocess;
mod standardize;

pub use crate::io::Values;
pub use preprocess::{Preprocess, Scaling};
pub use standardize::Standardization;

/// The split of a data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// Training images.
    Train,
    /// Test images.
    Test,
}

/// A data set: raw values, optional labels, optional image shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// The values, one sample per row.
    pub values: Values,
    /// Class labels, one per row, if the source has them.
    pub labels: Option<Array1<u8>>,
    /// (rows, cols) of the images the columns form, if known.
    pub image_shape: Option<(usize, usize)>,
}

const SAMPLE_TRAIN_IMAGES: &[u8] = include_bytes!("../../data/mnist-sample-train-images.idx.gz");
const SAMPLE_TRAIN_LABELS: &[u8] = include_bytes!("../../data/mnist-sample-train-labels.idx.gz");
const SAMPLE_TEST_IMAGES: &[u8] = include_bytes!("../../data/mnist-sample-test-images.idx.gz");
const SAMPLE_TEST_LABELS: &[u8] = include_bytes!("../../data/mnist-sample-test-labels.idx.gz");

/// The four MNIST files: name and SHA-256 of the *decompressed* contents (mirrors recompress).
pub const MNIST_FILES: [(&str, &str); 4] = [
    (
        "train-images-idx3-ubyte.gz",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    (
        "train-labels-idx1-ubyte.gz",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    (
        "t10k-images-idx3-ubyte.gz",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    (
        "t10k-labels-idx1-ubyte.gz",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
];

/// Where `download_mnist` fetches from by default (a public mirror of the original files).
pub const MNIST_URL: &str = "https://ossci-datasets.s3.amazonaws.com/mnist/";

impl Dataset {
    /// Loads a file by its extension: `.npy`, `.csv`/`.txt`, or IDX (anything else, gzip or
    /// plain). For an IDX image file, labels are read from the matching `…labels-idx1…` file
    /// beside it when there is one.
    ///
    /// # Errors
    /// [`Error::Io`] and [`Error::Format`] from the readers, naming the file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        match io::extension(path).as_str() {
            "npy" => Ok(Self::unlabelled(io::npy::read(path)?)),
            "csv" | "txt" => Ok(Self::unlabelled(Values::F64(io::csv::read(path)?))),
            _ => {
                let images = io::idx::read_images(path)?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let label_path = path.with_file_name(name.replace("images-idx3", "labels-idx1"));
                let labels = if label_path != path && label_path.exists() {
                    Some(io::idx::read_labels(&label_path)?)
                } else {
                    None
                };
                let image_shape = (images.ncols() == 784).then_some((28, 28));
                Ok(Self {
                    values: Values::U8(images),
                    labels,
                    image_shape,
                })
            }
        }
    }

    fn unlabelled(values: Values) -> Self {
        Self {
            values,
            labels: None,
            image_shape: None,
        }
    }

    /// The MNIST sample compiled into the library: the first 5000 training or 1000 test
    /// images, thresholded at 128 (bytes 0 or 255), with labels. Works offline.
    pub fn bundled_mnist(split: Split) -> Self {
        let (img, lab, name) = match split {
            Split::Train => (
                SAMPLE_TRAIN_IMAGES,
                SAMPLE_TRAIN_LABELS,
                "bundled train sample",
            ),
            Split::Test => (
                SAMPLE_TEST_IMAGES,
                SAMPLE_TEST_LABELS,
                "bundled test sample",
            ),
        };
        let path = Path::new(name);
        let images = io::idx::gunzip_if_needed(path, img.to_vec())
            .and_then(|b| io::idx::images_from_bytes(path, &b))
            .expect("the bundled sample is valid");
        let labels = io::idx::gunzip_if_needed(path, lab.to_vec())
            .and_then(|b| io::idx::labels_from_bytes(path, &b))
            .expect("the bundled sample is valid");
        Self {
            values: Values::U8(images),
            labels: Some(labels),
            image_shape: Some((28, 28)),
        }
    }

    /// MNIST from a folder holding the four standard files (gzipped or not).
    ///
    /// # Errors
    /// [`Error::Io`] naming a missing file; [`Error::Format`] for a damaged one.
    pub fn mnist(dir: impl AsRef<Path>, split: Split) -> Result<Self> {
        let dir = dir.as_ref();
        let prefix = match split {
            Split::Train => "train",
            Split::Test => "t10k",
        };
        let pick = |kind: &str| {
            let gz = dir.join(format!("{prefix}-{kind}-ubyte.gz"));
            if gz.exists() {
                gz
            } else {
                dir.join(format!("{prefix}-{kind}-ubyte"))
            }
        };
        let images = io::idx::read_images(pick("images-idx3"))?;
        let labels = io::idx::read_labels(pick("labels-idx1"))?;
        Ok(Self {
            values: Values::U8(images),
            labels: Some(labels),
            image_shape: Some((28, 28)),
        })
    }

    /// The first `n` rows (all of them if there are fewer).
    pub fn head(&self, n: usize) -> Self {
        self.rows(0, n)
    }

    /// Rows `start..start + n` (clipped to the data).
    pub fn rows(&self, start: usize, n: usize) -> Self {
        let total = self.values.dim().0;
        let (s, e) = (start.min(total), (start + n).min(total));
        let r = ndarray::s![s..e, ..];
        let values = match &self.values {
            Values::U8(a) => Values::U8(a.slice(r).to_owned()),
            Values::F32(a) => Values::F32(a.slice(r).to_owned()),
            Values::F64(a) => Values::F64(a.slice(r).to_owned()),
        };
        Self {
            values,
            labels: self
                .labels
                .as_ref()
                .map(|l| l.slice(ndarray::s![s..e]).to_owned()),
            image_shape: self.image_shape,
        }
    }
}

/// The folder MNIST is cached in: `$ONSAGER_DATA/mnist` if set, else `mnist` in the platform's
/// cache folder (`$XDG_CACHE_HOME/onsager` or `~/.cache/onsager` on Linux).
pub fn mnist_cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("ONSAGER_DATA") {
        return PathBuf::from(d).join("mnist");
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("onsager").join("mnist")
}

/// Checks a downloaded or cached MNIST file against its known SHA-256 (of the decompressed
/// contents).
///
/// # Errors
/// [`Error::Io`] if it cannot be read; [`Error::Format`] on a checksum mismatch.
pub fn verify_mnist_file(path: &Path, sha256: &str) -> Result<()> {
    check_digest(path, io::idx::read_bytes(path)?, sha256)
}

fn check_digest(path: &Path, plain: Vec<u8>, sha256: &str) -> Result<()> {
    let got: String = sha2::Sha256::digest(&plain)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if got != sha256 {
        return Err(Error::Format {
            path: path.to_owned(),
            reason: format!(
                "checksum mismatch: SHA-256 of the contents is {got}, expected {sha256}"
            ),
        });
    }
    Ok(())
}

/// Makes sure the four MNIST files are in `dir`: files already there with the right checksum
/// are kept; the others are fetched from `base_url` (e.g. [`MNIST_URL`]), verified, and written
/// atomically. Returns `dir`.
///
/// # Errors
/// [`Error::Io`] for network or disk failures (naming the URL or file); [`Error::Format`] if a
/// fetched file fails its checksum (nothing is written then).
#[cfg(feature = "download")]
pub fn download_mnist(base_url: &str, dir: &Path) -> Result<PathBuf> {
    download_mnist_with(base_url, dir, DOWNLOAD_TIMEOUT, &mut ())
}

/// How long [`download_mnist`] waits to connect, and then for each response to start, before
/// giving up (a silent server would otherwise hang it); the whole body of a file gets ten
/// times as long.
#[cfg(feature = "download")]
pub const DOWNLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// [`download_mnist`] with a given `timeout` (see [`DOWNLOAD_TIMEOUT`]) and `progress`, told
/// the files done out of four (and able to stop between files).
///
/// # Errors
/// As [`download_mnist`]; [`Error::Io`] naming the URL and the timeout when a server is
/// silent; [`Error::Cancelled`] when `progress` stops it.
#[cfg(feature = "download")]
pub fn download_mnist_with(
    base_url: &str,
    dir: &Path,
    timeout: std::time::Duration,
    progress: &mut dyn crate::Progress,
) -> Result<PathBuf> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(timeout))
        .timeout_recv_response(Some(timeout))
        .timeout_recv_body(Some(timeout * 10))
        .build()
        .into();
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })?;
    for (done, (name, sha)) in MNIST_FILES.iter().enumerate() {
        if progress
            .advance(done as u64, MNIST_FILES.len() as u64)
            .is_break()
        {
            return Err(Error::Cancelled {
                what: "the MNIST download",
            });
        }
        let path = dir.join(name);
        if path.exists() && verify_mnist_file(&path, sha).is_ok() {
            continue;
        }
        let url = format!("{}/{name}", base_url.trim_end_matches('/'));
        let net = |e: String| Error::Io {
            path: PathBuf::from(&url),
            source: std::io::Error::other(e),
        };
        let mut resp = agent.get(&url).call().map_err(|e| match e {
            ureq::Error::Timeout(_) => net(format!(
                "no answer within {} s ({e})",
                timeout.as_secs_f64()
            )),
            e => net(e.to_string()),
        })?;
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .map_err(|e| net(e.to_string()))?;
        let _ = progress.advance(done as u64 + 1, MNIST_FILES.len() as u64);
        check_digest(
            Path::new(&url),
            io::idx::gunzip_if_needed(Path::new(&url), body.clone())?,
            sha,
        )?;
        io::write_atomic(&path, &body)?;
    }
    Ok(dir.to_owned())
}
