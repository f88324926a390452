//! Windows event logs (EVTX) to [`mirt_core::Event`]s.
//!
//! The `evtx` crate decodes the binary XML; this crate walks files and
//! folders, reads chunks in parallel while keeping record order, turns every
//! record into a normalised `Event`, and reports every chunk, record or file
//! it could not read as a [`mirt_core::Problem`], then goes on with the rest.
//!
//! ```no_run
//! use mirt_evtx::{EvtxReader, Item};
//!
//! let reader = EvtxReader::new();
//! let files = mirt_evtx::find_evtx_files(&["C:/Windows/System32/winevt/Logs".into()]);
//! reader.read_files(&files.files, |item| match item {
//!     Item::Event(event) => println!("{:?} {:?}", event.timestamp, event.event_id),
//!     Item::Problem(problem) => eprintln!("{problem}"),
//!     Item::FileDone(_) => {}
//! });
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod chunk;
mod discover;
mod error;
mod integrity;
mod json;
mod normalize;
mod reader;
mod sniff;

pub use discover::{Discovered, find_evtx_files};
pub use error::{Error, Result};
pub use normalize::{SyntaxError, normalize_record};
pub use reader::{EvtxReader, FileSummary, Item};
pub use sniff::{FileKind, sniff};
