//! YARA rules for mirt: loading rule files and folders (one namespace per
//! file), compiling them with YARA-X with the external variables that
//! signature-base uses (`filename`, `filepath`, `extension`, `filetype`,
//! `owner`), an on-disk cache of compiled rules, the project's embedded
//! default rules, and scanning bytes into typed matches.
//!
//! Reading files, hashing and walking folders are not here: see the
//! `mirt-scan` crate, which drives this one.
//!
//! ```
//! use mirt_yara::{compile, CompileOptions, FileContext, FileScanner, RuleSources};
//!
//! let mut sources = RuleSources::new();
//! sources.add_text("demo", "demo.yar", r#"
//!     rule dropper : demo {
//!         strings: $a = "evil.example"
//!         condition: $a and extension == ".exe"
//!     }"#);
//! let rules = compile(&sources, &CompileOptions::default())?;
//! let mut scanner = FileScanner::new(&rules);
//! let ctx = FileContext { filename: "x.exe", extension: ".exe", ..Default::default() };
//! let matches = scanner.scan(b"GET http://evil.example/", &ctx)?;
//! assert_eq!(matches[0].rule, "dropper");
//! assert_eq!(matches[0].strings[0].offsets, [11]);
//! # Ok::<(), mirt_yara::Error>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod cache;
mod compile;
mod error;
pub mod filetype;
mod scanner;
mod sources;

pub use cache::default_cache_dir;
pub use compile::{CompileOptions, CompiledRules, EXTERNALS, YARA_X_VERSION, compile};
pub use error::{Error, Result, RuleFileError};
pub use scanner::{FileContext, FileScanner, RuleMatch, StringMatch, escape};
pub use sources::{RuleSource, RuleSources, is_rule_file};
