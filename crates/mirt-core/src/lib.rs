//! Shared types of mirt: every parser produces [`Event`]s, every stage
//! reports what it could not read as [`Problem`]s, and every finding carries
//! a [`Severity`].
//!
//! ```
//! use mirt_core::{Event, Source, SourceKind, Value};
//!
//! let mut event = Event::new(Source::new(SourceKind::Evtx, "Security.evtx", 4096));
//! event.event_id = Some(4624);
//! event.fields.push("TargetUserName", Value::from("alice"));
//! assert_eq!(event.get("TargetUserName").as_deref().and_then(Value::as_str), Some("alice"));
//! assert_eq!(event.get("EventID").and_then(|v| v.as_u64()), Some(4624));
//! ```
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod cache;
mod civil;
mod event;
mod fields;
mod filter;
pub mod json;
mod problem;
mod severity;
pub mod time;
mod value;

pub use compact_str::CompactString;
pub use event::{Event, Raw, Source, SourceKind};
pub use fields::Fields;
pub use filter::EventFilter;
pub use problem::{Problem, ProblemKind};
pub use severity::{ParseSeverityError, Severity};
pub use time::Timestamp;
pub use value::Value;
