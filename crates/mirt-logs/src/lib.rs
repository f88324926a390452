//! Text logs to [`mirt_core::Event`]s: syslog (RFC 3164 and 5424, rsyslog
//! variants), Linux auth logs with sshd/sudo/su fields, Apache and nginx
//! access and error logs, IIS W3C logs, the Windows Firewall log, CSV, JSON
//! Lines, PowerShell transcripts, and a generic reader for any other text.
//!
//! Plain files are memory-mapped, cut into chunks at record boundaries and
//! parsed in parallel on the rayon pool with `nom` parsers that borrow from
//! the map; compressed files (gzip, bzip2, xz, zstd) are decompressed as
//! streams and parsed the same way. The format is detected from the file's
//! name and first lines unless forced. Every record that cannot be read, or
//! only partly (invalid UTF-8, NUL bytes, over-long lines), is counted and
//! reported as a [`mirt_core::Problem`] with its line number; the rest of
//! the file is still read.
//!
//! ```no_run
//! use mirt_logs::{Item, LogReader};
//!
//! let files = mirt_logs::find_log_files(&["/var/log".into()]);
//! let mut reader = LogReader::new();
//! reader.year(Some(2024));
//! reader.read_files(&files.files, |item| match item {
//!     Item::Event(event) => println!("{:?} {:?}", event.timestamp, event.message),
//!     Item::Problem(problem) => eprintln!("{problem}"),
//!     Item::FileDone(summary) => eprintln!("{}: {} events", summary.path.display(), summary.events),
//! });
//! ```
#![deny(missing_docs)]
#![deny(unsafe_code)]

mod chunk;
mod discover;
mod error;
mod format;
mod frame;
mod input;
mod parse;
mod pipeline;
mod reader;
mod sniff;
mod stream;
mod summary;
mod timefmt;

pub use discover::{Discovered, find_log_files};
pub use error::{Error, Result};
pub use format::LogFormat;
pub use input::Compression;
pub use reader::LogReader;
pub use sniff::{Sniffed, sniff};
pub use summary::{FileSummary, Item};
