//! The chain-of-custody bundle: evidence sealed into a deterministic ZIP64
//! archive with a manifest of every file (original path, times, BLAKE3 and
//! SHA-256), a root hash signed with Ed25519, and an append-only custody
//! log whose entries are signed and hash-chained. Optionally encrypted with
//! age. This crate writes, verifies, shows, extracts and extends bundles
//! and manages the keys; the layout is specified in `FORMAT.md`.
//!
//! ```
//! use mirt_custody::{BundleWriter, CreateOptions, SigningKey, TrustStore, VerifyOptions};
//! use std::io::Cursor;
//! use std::path::Path;
//!
//! let key = SigningKey::from_seed([7; 32], "Erika Mustermann");
//! let mut bundle = BundleWriter::new(Vec::new(), Path::new("case.mirt.zip"), CreateOptions::default())?;
//! let entry = mirt_custody::source::entry_for(
//!     mirt_custody::EntryKind::File, Path::new("/evidence/auth.log"), None);
//! bundle.add_reader(entry, "evidence/1/auth.log", &b"Mar  1 10:00:00 sshd[1]: Accepted"[..])?;
//! let collection = mirt_custody::example_collection();
//! let (bytes, sealed) = bundle.finish(&collection, &key)?;
//!
//! let mut trust = TrustStore::new();
//! trust.add(key.public());
//! let opts = VerifyOptions { trust: &trust, custody_head: None };
//! let report = mirt_custody::verify(&mut Cursor::new(&bytes), &opts, &mut |_| {});
//! assert!(report.ok(), "{:?}", report.findings);
//! assert_eq!(report.root.as_deref(), Some(sealed.root.as_str()));
//! # Ok::<(), mirt_custody::Error>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod append;
mod bundle;
mod create;
pub mod custody;
mod error;
mod extract;
pub mod format;
pub mod keys;
mod output;
mod report;
mod scan;
pub mod source;
mod sparse;
mod spool;
mod verify;
pub mod walk;
pub mod zip;

pub use age::secrecy::SecretString;
pub use append::{Appended, append};
pub use bundle::{
    Identities, Opened, Summary, is_encrypted, load_identities, open, summary, verify_path,
};
pub use create::{BundleWriter, CreateOptions, Sealed, Totals};
pub use custody::{CustodyEntry, Event, NewEntry};
pub use error::{Error, Result};
pub use extract::{Extracted, extract, refusal};
pub use format::{Collection, EntryKind, ManifestEntry, Status, Tlp, Tool};
pub use keys::{KeyDir, KeyId, PublicKey, SigningKey, TrustStore};
pub use output::{
    AtomicFile, DirectFile, EncryptedSeal, HashingWriter, Sink, parse_recipient, sidecar_path,
};
pub use report::{Check, Finding};
pub use scan::member_reader as open_member;
pub use sparse::SparseFile;
pub use verify::{Report, VerifyOptions, verify};

/// Metadata members (manifest, custody log, ...) larger than this are not
/// read into memory.
pub(crate) const METADATA_LIMIT: u64 = 1 << 30;

/// A filled-in [`Collection`] with fixed times, for examples and tests.
pub fn example_collection() -> Collection {
    let t: jiff::Timestamp = "2024-03-01T10:00:00Z".parse().unwrap_or_default();
    Collection {
        format: format::FORMAT_LINE.into(),
        case_id: "CERT-2024-0042".into(),
        municipality: "Musterstadt".into(),
        hosts: vec!["RATHAUS-DC01".into()],
        examiner: "Erika Mustermann".into(),
        witness: Some("Max Mustermann".into()),
        place: Some("Rathaus Musterstadt, Serverraum".into()),
        purpose: Some("incident response".into()),
        started: t,
        ended: t,
        clock_source: "system clock, checked against DCF77".into(),
        tlp: Tlp::Amber,
        legal_basis: Some("example".into()),
        compression: zip::Method::Store,
        notes: None,
        tool: Tool {
            name: "mirt".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            binary_sha256: None,
            command_line: vec!["mirt".into(), "bundle".into(), "create".into()],
        },
    }
}
