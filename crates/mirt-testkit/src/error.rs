//! Errors of this crate: a record the writer cannot lay out, a value it
//! cannot encode, a file it cannot write.

use std::path::PathBuf;

/// A failure of the writer, naming the record or file involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A record is larger than the space a chunk has for records.
    #[error("record {record_id}: {size} bytes do not fit in a 64 KiB chunk (at most {max} bytes)")]
    RecordTooLarge {
        /// The record's id.
        record_id: u64,
        /// Its encoded size.
        size: usize,
        /// The most a chunk holds.
        max: usize,
    },
    /// A value or name is longer than BinXML can say (sizes are 16-bit).
    #[error("record {record_id}: {what} is {len} bytes long, more than BinXML's 65535")]
    ValueTooLong {
        /// The record's id.
        record_id: u64,
        /// Which value or name.
        what: String,
        /// Its encoded length.
        len: usize,
    },
    /// A text could not be read as the value asked for (SID, GUID, time).
    #[error("cannot read {input:?} as a {what}")]
    Parse {
        /// The kind of value expected.
        what: &'static str,
        /// The text given.
        input: String,
    },
    /// A file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// This crate's result.
pub type Result<T> = std::result::Result<T, Error>;
