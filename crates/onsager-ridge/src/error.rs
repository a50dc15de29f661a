//! The crate's one error type.

/// Everything that can go wrong in a ridge fit, each naming the problem.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum Error {
    /// The design or the target has no rows, or the design no columns.
    #[error("{what} is empty: {reason}")]
    Empty {
        /// The input.
        what: &'static str,
        /// Which dimension is zero.
        reason: String,
    },
    /// A value is NaN or infinite.
    #[error("{what} has a non-finite value {value} at row {row}{column} (counting from 1)")]
    NonFinite {
        /// The input.
        what: &'static str,
        /// Its row, from 1.
        row: usize,
        /// ", column C" for a matrix, empty for a vector.
        column: String,
        /// The value.
        value: f64,
    },
    /// The design and the target disagree in their rows.
    #[error("the design has {design} rows but the target has {target}")]
    Rows {
        /// Rows of the design.
        design: usize,
        /// Rows of the target.
        target: usize,
    },
    /// The target does not vary, so there is nothing to fit (with an intercept).
    #[error("the target is constant ({value}): there is nothing to regress")]
    ConstantTarget {
        /// Its value.
        value: f64,
    },
    /// A setting is out of range.
    #[error("{name} = {value}: {reason}")]
    InvalidParam {
        /// The setting.
        name: &'static str,
        /// Its value, as text.
        value: String,
        /// What it must be.
        reason: &'static str,
    },
    /// The SVD did not converge (faer).
    #[error("the singular value decomposition did not converge")]
    Svd,
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
