//! Sigma rules for mirt.
//!
//! This crate owns the Sigma specification 2.1: rule files are read into a
//! typed AST ([`Document`]), checked against the specification's JSON
//! schemas, mapped onto concrete event sources by data files ([`Mapping`]),
//! and compiled into a [`RuleSet`] whose matcher meets each event only with
//! the rules that can match it (index by channel and event id, one
//! Aho-Corasick scan per field, no allocation per event). Correlation rules
//! (all seven types) run over the matches in a [`CorrelationEngine`];
//! filters are merged into the rules they name.
//!
//! The input is any [`mirt_core::Event`]: what makes EVTX work is only the
//! Windows mapping file, so other log kinds need only their own mapping.
//!
//! ```
//! use mirt_core::{Event, Source, SourceKind, Value};
//! use mirt_sigma::{Mapping, RuleSetBuilder};
//!
//! let rule = r#"
//! title: Whoami
//! id: 7f3e1c2a-0000-4000-8000-000000000001
//! logsource: {product: windows, category: process_creation}
//! detection:
//!     selection:
//!         Image|endswith: '\whoami.exe'
//!     condition: selection
//! level: low
//! "#;
//! let set = RuleSetBuilder::new(Mapping::builtin()).add_text("whoami.yml", rule).build();
//! assert!(set.skipped().is_empty());
//!
//! let mut event = Event::new(Source::new(SourceKind::Evtx, "Sysmon.evtx", 0));
//! event.channel = Some("Microsoft-Windows-Sysmon/Operational".into());
//! event.event_id = Some(1);
//! event.fields.push("Image", Value::from(r"C:\Windows\System32\WHOAMI.EXE"));
//! let hits = set.scan(&event);
//! assert_eq!(set.rules()[hits[0].rule as usize].meta.title, "Whoami");
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod ast;
pub mod builtin;
pub mod cache;
mod compile;
pub mod condition;
mod correlation;
mod error;
pub mod mapping;
mod matcher;
pub mod modifier;
pub mod parse;
mod rules;
mod ruleset;
pub mod schema;
mod set;
pub mod value;
pub mod yaml;

pub use ast::Document;
pub use compile::Placeholders;
pub use correlation::{CorrelationEngine, CorrelationFinding, CorrelationInput, EventRef};
pub use error::{Error, Result};
pub use mapping::Mapping;
pub use matcher::{Explained, Hit, MatchedFields, Scratch};
pub use rules::Rules;
pub use ruleset::{RuleInfo, RuleKind, RuleSet, RuleSetBuilder, Skipped};
pub use set::RuleSetStats;
