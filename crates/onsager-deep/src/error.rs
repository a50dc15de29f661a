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
    /// A class label outside 0..classes.
    #[error(
        "label {label} in row {row} (0-based) is not one of the {classes} classes 0..{classes}"
    )]
    Label {
        /// The row.
        row: usize,
        /// The label.
        label: usize,
        /// The number of classes.
        classes: usize,
    },
    /// Training met a loss or gradient that is not finite, or a loss above the guard's ceiling
    /// (`Sgd::loss_limit`).
    #[error("training diverged in epoch {epoch}, mini-batch {batch} (0-based): the loss is {loss}; the network keeps its best validated or last finished epoch (lower the learning rate or set a gradient clip)")]
    Diverged {
        /// The epoch, 1-based.
        epoch: usize,
        /// The mini-batch within it.
        batch: usize,
        /// The loss of that mini-batch.
        loss: f64,
    },
    /// An error of the RBM library (a stack layer's data or settings).
    #[error(transparent)]
    Rbm(#[from] onsager::Error),
    /// A network file that is not one, or is damaged, named with the problem.
    #[error("{}: {reason}", path.display())]
    Format {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
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
