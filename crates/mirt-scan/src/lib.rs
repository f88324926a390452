//! Scanning evidence: list the files under the given paths, read each one
//! once (memory-mapped when large), hash it (BLAKE3 and SHA-256 always,
//! MD5 and SHA-1 on request) and scan the same bytes with YARA-X, open zip
//! archives and treat their members as files (`archive.zip!member`), and
//! look the digests up in known-bad and known-good hash lists. Files that
//! are skipped or unreadable are reported, with the reason.
//!
//! ```
//! use mirt_scan::{Engine, Output, ScanOptions, list_files};
//! use mirt_yara::{CompileOptions, RuleSources, compile};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("note.txt"), "pay to evil.example")?;
//! let mut sources = RuleSources::new();
//! sources.add_text("demo", "demo.yar", r#"rule evil { strings: $a = "evil.example" condition: $a }"#);
//! let rules = compile(&sources, &CompileOptions::default())?;
//!
//! let listing = list_files(&[dir.path().to_path_buf()], false);
//! let engine = Engine::new(ScanOptions::default(), Some(&rules));
//! let mut hits = Vec::new();
//! engine.run(&listing.files, |o| o, |o| {
//!     if let Output::Record(r) = o {
//!         hits.extend(r.matches.iter().map(|m| m.rule.clone()));
//!     }
//! })?;
//! assert_eq!(hits, ["evil"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod engine;
mod error;
mod hashlist;
mod owner;
mod record;
mod walk;
mod zipwalk;

pub use engine::{Engine, Output, ScanOptions};
pub use error::{Error, Result};
pub use hashlist::{HashHit, HashList};
pub use owner::owner_name;
pub use record::{FileRecord, ScanStatus};
pub use walk::{Entry, Listing, list_files};
