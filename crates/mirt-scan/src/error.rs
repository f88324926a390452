//! The one error type of this crate. Problems with single evidence files
//! are not errors: they are reported as [`mirt_core::Problem`]s and the
//! scan goes on.

use std::path::PathBuf;

/// A `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// What stops a scan from starting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A hash list could not be read.
    #[error("cannot read hash list {path}: {source}")]
    HashList {
        /// The list.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A worker thread could not be started.
    #[error("cannot start scan worker threads: {source}")]
    Threads {
        /// The cause.
        source: std::io::Error,
    },
}
