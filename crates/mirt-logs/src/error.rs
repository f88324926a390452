//! Errors of this crate. A line that cannot be parsed is not an error but a
//! [`mirt_core::Problem`] reported next to the events; these are the failures
//! that stop one operation on one file.

use std::path::PathBuf;

/// A failure of one operation, naming the file (and offset) involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened, mapped or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A compressed file could not be decompressed.
    #[error("{}: {compression} stream damaged at decompressed offset {offset}: {reason}", path.display())]
    Decompress {
        /// The file.
        path: PathBuf,
        /// `gzip`, `bzip2`, `xz` or `zstd`.
        compression: &'static str,
        /// How far the stream could be read.
        offset: u64,
        /// What the decompressor said.
        reason: String,
    },
    /// An input format name given by the user is not known.
    #[error("unknown input format {name:?}; known: {known}")]
    UnknownFormat {
        /// What was asked for.
        name: String,
        /// The names that are accepted.
        known: String,
    },
    /// A time zone given by the user is not known.
    #[error(
        "unknown time zone {name:?}: use an IANA name (Europe/Berlin), UTC, or an offset (+01:00)"
    )]
    UnknownTimeZone {
        /// What was asked for.
        name: String,
    },
}

/// This crate's result.
pub type Result<T> = std::result::Result<T, Error>;
