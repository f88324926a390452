//! What the scan says about each file: one [`FileRecord`] per file or zip
//! member.

use crate::hashlist::HashHit;
use jiff::Timestamp;
use mirt_hash::Digests;
use mirt_yara::RuleMatch;
use serde::Serialize;
use std::fs::Metadata;

/// Whether and how a file was scanned with YARA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    /// Scanned with the rules.
    Scanned,
    /// Hashed only: no rules were loaded.
    HashOnly,
    /// Not scanned: its hash is in a known-good list.
    KnownGood,
    /// Not scanned: larger than the maximum scan size (still hashed).
    TooLarge,
    /// The scan was stopped by the per-file timeout.
    Timeout,
    /// The scan failed (see `reason`).
    Error,
    /// The file could not be read: neither hashed nor scanned.
    Unreadable,
    /// A zip member not read because an archive limit was reached.
    ArchiveLimit,
}

impl ScanStatus {
    /// The snake_case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanStatus::Scanned => "scanned",
            ScanStatus::HashOnly => "hash_only",
            ScanStatus::KnownGood => "known_good",
            ScanStatus::TooLarge => "too_large",
            ScanStatus::Timeout => "timeout",
            ScanStatus::Error => "error",
            ScanStatus::Unreadable => "unreadable",
            ScanStatus::ArchiveLimit => "archive_limit",
        }
    }
}

/// One file, or one member of a zip archive (`archive.zip!dir/member`).
#[derive(Debug, Clone, Serialize)]
pub struct FileRecord {
    /// The path; zip members as `archive.zip!member/path`.
    pub path: String,
    /// Size in bytes (uncompressed, for zip members).
    pub size: u64,
    /// Last modification time, UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified: Option<Timestamp>,
    /// Last access time as listed before reading, UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accessed: Option<Timestamp>,
    /// Inode change time (Unix), UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<Timestamp>,
    /// Creation (birth) time where the file system keeps it, UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// The owning account, where known.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub owner: String,
    /// The type by content (`EXE`, `ELF`, `ZIP`, `PHP`...), empty if unknown.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub filetype: &'static str,
    /// The digests; absent when the bytes could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashes: Option<Digests>,
    /// Whether and how it was scanned.
    pub scan: ScanStatus,
    /// Why it was not scanned, or how the scan failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The YARA rules that matched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<RuleMatch>,
    /// Entries of `--bad-hashes` lists that match.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bad_hashes: Vec<HashHit>,
    /// Entries of `--known-good` lists that match.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub known_good: Vec<HashHit>,
}

impl FileRecord {
    /// A record for `path` with nothing known yet.
    pub fn new(path: String) -> Self {
        FileRecord {
            path,
            size: 0,
            modified: None,
            accessed: None,
            changed: None,
            created: None,
            owner: String::new(),
            filetype: "",
            hashes: None,
            scan: ScanStatus::HashOnly,
            reason: None,
            matches: Vec::new(),
            bad_hashes: Vec::new(),
            known_good: Vec::new(),
        }
    }

    /// Sets size and times from file metadata.
    pub fn with_metadata(mut self, meta: &Metadata) -> Self {
        let ts = |t: std::io::Result<std::time::SystemTime>| {
            t.ok().and_then(|t| Timestamp::try_from(t).ok())
        };
        self.size = meta.len();
        self.modified = ts(meta.modified());
        self.accessed = ts(meta.accessed());
        self.created = ts(meta.created());
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            self.changed =
                Timestamp::new(meta.ctime(), meta.ctime_nsec().clamp(0, 999_999_999) as i32).ok();
        }
        self
    }

    /// Whether a rule or a bad hash matched: what `--matches-only` keeps.
    pub fn is_finding(&self) -> bool {
        !self.matches.is_empty() || !self.bad_hashes.is_empty()
    }
}
