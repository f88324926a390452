//! Errors of this crate. Most damage is not an error but a
//! [`mirt_core::Problem`] reported next to the events; these are the failures
//! that stop one operation.

use std::path::PathBuf;

/// A failure of one operation, naming the file and offset involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A rendered record was not the JSON shape expected.
    #[error("record {record_id}: rendered JSON not understood: {reason}")]
    Normalize {
        /// The record's id.
        record_id: u64,
        /// What was wrong.
        reason: String,
    },
}

/// This crate's result.
pub type Result<T> = std::result::Result<T, Error>;
