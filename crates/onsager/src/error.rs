//! The library's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in `onsager`.
///
/// Every variant names what was wrong and, where there is one, the value that came. Nothing in
/// the library panics on user input: bad input comes back as one of these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A hyperparameter is outside its valid range.
    #[error("invalid parameter `{name}` = {value}: {reason}")]
    InvalidParam {
        /// The parameter's name, as the builder method spells it.
        name: &'static str,
        /// The value that was given, formatted.
        value: String,
        /// What the parameter must satisfy.
        reason: &'static str,
    },
    /// An array has the wrong shape.
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    Shape {
        /// Which array.
        what: &'static str,
        /// The expected shape, formatted.
        expected: String,
        /// The shape that came, formatted.
        got: String,
    },
    /// An input has no rows (or no columns).
    #[error("{what} is empty")]
    Empty {
        /// Which input.
        what: &'static str,
    },
    /// A value is NaN or infinite.
    #[error("non-finite value {value} in {what} at row {}, column {} (counting from 1)", row + 1, col + 1)]
    NonFinite {
        /// Which array.
        what: &'static str,
        /// Row of the first offending value (0-based).
        row: usize,
        /// Column of the first offending value (0-based).
        col: usize,
        /// The value.
        value: f64,
    },
    /// A value lies outside the range the model accepts (\[0, 1\] for Bernoulli units, the
    /// interval of truncated-Gaussian ones).
    #[error("value {value} in {what} at row {}, column {} (counting from 1) is outside [{low}, {high}]", row + 1, col + 1)]
    OutOfRange {
        /// Which array.
        what: &'static str,
        /// Row of the first offending value (0-based).
        row: usize,
        /// Column of the first offending value (0-based).
        col: usize,
        /// The value.
        value: f64,
        /// The lowest value accepted.
        low: f64,
        /// The highest value accepted.
        high: f64,
    },
    /// An operation is not available for this kind of model (for example an estimator not yet
    /// written for real-valued visible units).
    #[error("{what} is not available for {model}: {reason}")]
    Unsupported {
        /// The operation.
        what: &'static str,
        /// The model it was asked of (its unit type).
        model: String,
        /// What to use instead.
        reason: &'static str,
    },
    /// A computation is too large to carry out (for example exact enumeration of 2^40 states).
    #[error("{what} is too large: {reason}")]
    TooLarge {
        /// What was asked for.
        what: &'static str,
        /// Why it cannot be done.
        reason: String,
    },
    /// A file could not be read or written. The message names the file; the operating
    /// system's reason is the error's `source()` (print the chain to see both).
    #[error("cannot read or write {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An output path cannot or must not be written (a directory, FIFO or device, a missing
    /// folder, or one of the inputs).
    #[error("cannot write {path}: {reason}")]
    Output {
        /// The output path as given.
        path: PathBuf,
        /// Why it is refused.
        reason: String,
    },
    /// A file's contents are not in the expected format.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A computation produced no finite result (for example every EMF start diverged).
    #[error("{what}: {reason}")]
    Numerical {
        /// What was being computed.
        what: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// A long computation was stopped through its [`crate::Progress`] (Ctrl-C).
    #[error("{what} was interrupted")]
    Cancelled {
        /// What was stopped.
        what: &'static str,
    },
    /// Training diverged: a parameter became NaN or infinite.
    #[error(
        "training diverged at epoch {epoch}: {what} became non-finite (lower the learning rate)"
    )]
    Diverged {
        /// Epoch (1-based) in which it happened.
        epoch: usize,
        /// Which parameter.
        what: &'static str,
    },
}

/// `Result` with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
