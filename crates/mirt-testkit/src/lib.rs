//! Test support for mirt: an EVTX writer, so that tests can generate event
//! logs with chosen fields and the damaged variants of them that responders
//! meet, plus the project's generated fixtures and the location of the
//! real-world corpus.
//!
//! - [`EventSpec`] describes an event; [`EvtxWriter`] writes events as an
//!   EVTX file laid out as Windows does: a file header, 64 KiB chunks with
//!   correct CRC32s, records holding binary XML with one template per event
//!   shape stored once per chunk, and typed substitution values (numbers
//!   stay numbers, SIDs stay SIDs).
//! - [`Damage`] breaks one thing in a file (a checksum, a magic, a record,
//!   the end); [`damage`] also makes files that only look like event logs.
//! - [`layout`] finds chunks and records in a file's bytes.
//! - [`fixtures`] generates the committed files under `fixtures/evtx`.
//! - [`corpus`] finds the real-world corpus, or says that a test is skipped.
//!
//! ```
//! use mirt_testkit::{Damage, EventSpec, EvtxWriter, layout};
//!
//! let mut bytes = EvtxWriter::new()
//!     .push(
//!         EventSpec::new(4624)
//!             .channel("Security")
//!             .provider("Microsoft-Windows-Security-Auditing")
//!             .computer("WS01")
//!             .time("2024-03-01T10:00:00Z")
//!             .data("TargetUserName", "alice")
//!             .data_u32("LogonType", 3),
//!     )
//!     .push(EventSpec::new(4634).channel("Security"))
//!     .to_bytes()
//!     .unwrap();
//! assert_eq!(bytes.len(), 4096 + 65536);
//! assert_eq!(layout::records(&bytes).len(), 2);
//!
//! // A record whose size field is 0, the rest intact.
//! Damage::RecordZeroSize { record_id: 2 }.apply(&mut bytes);
//! assert_eq!(layout::records(&bytes).len(), 1);
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod binxml;
mod chunk;
pub mod corpus;
pub mod damage;
mod error;
pub mod fixtures;
pub mod layout;
mod spec;
mod value;
mod writer;
mod xml;

pub use binxml::Encoding;
pub use chunk::{CHUNK_HEADER_SIZE, CHUNK_MAGIC, CHUNK_SIZE, RECORD_HEADER_SIZE, RECORD_MAGIC};
pub use damage::Damage;
pub use error::{Error, Result};
pub use spec::EventSpec;
pub use value::{FieldValue, Guid, Sid, from_filetime, parse_filetime, to_filetime};
pub use writer::{EvtxWriter, FILE_HEADER_SIZE, FILE_MAGIC};
