//! The crate's one error type.

/// What can go wrong in `onsager-deep`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting outside its range, named with the value and the reason.
    #[error("{name} = {value}: {reason}")]
    InvalidParam {
        /// The setting.
        name: &'static str,
        /// Its value, formatted.
        value: String,
        /// What it must be.
        reason: &'static str,
    },
    /// Arrays whose shapes disagree.
    #[error("{what}: expected {expected}, got {got}")]
    Shape {
        /// Which array.
        what: &'static str,
        /// The expected shape, formatted.
        expected: String,
        /// The shape that came, formatted.
        got: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
