//! What could not be read or analysed, and why. Nothing is dropped silently:
//! every stage reports its skipped records, files and rules as `Problem`s.

use serde::Serialize;
use std::fmt;
use std::path::PathBuf;

/// The class of a problem, for counting and filtering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// The file could not be opened or read.
    Unreadable,
    /// The file is not in a format this stage reads.
    NotThisFormat,
    /// The file is in a known format this version does not support (e.g. legacy `.evt`).
    Unsupported,
    /// The file ends early.
    Truncated,
    /// A block (EVTX chunk) is damaged: bad magic, bad checksum.
    DamagedBlock,
    /// A single record or line could not be parsed.
    DamagedRecord,
    /// The input was read, but a part of it was cut or decoded lossily.
    Lossy,
    /// A file was skipped on purpose (size limit, type, policy), with the reason.
    Skipped,
    /// A rule could not be loaded or compiled.
    Rule,
}

impl ProblemKind {
    /// The snake_case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Unreadable => "unreadable",
            ProblemKind::NotThisFormat => "not_this_format",
            ProblemKind::Unsupported => "unsupported",
            ProblemKind::Truncated => "truncated",
            ProblemKind::DamagedBlock => "damaged_block",
            ProblemKind::DamagedRecord => "damaged_record",
            ProblemKind::Lossy => "lossy",
            ProblemKind::Skipped => "skipped",
            ProblemKind::Rule => "rule",
        }
    }
}

/// Something that was not read or not analysed, with where and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// The class of problem.
    pub kind: ProblemKind,
    /// The file concerned.
    pub path: PathBuf,
    /// Byte offset in the file, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// EVTX chunk number, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk: Option<u64>,
    /// EVTX record id, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<u64>,
    /// Line number (text logs, rule files), where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// What went wrong, in words.
    pub reason: String,
}

impl Problem {
    /// A problem with a whole file.
    pub fn file(kind: ProblemKind, path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Problem {
            kind,
            path: path.into(),
            offset: None,
            chunk: None,
            record_id: None,
            line: None,
            reason: reason.into(),
        }
    }

    /// Sets the byte offset.
    pub fn at(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(chunk) = self.chunk {
            write!(f, ": chunk {chunk}")?;
        }
        if let Some(record) = self.record_id {
            write!(f, ": record {record}")?;
        }
        if let Some(line) = self.line {
            write!(f, ": line {line}")?;
        }
        if let Some(offset) = self.offset {
            write!(f, ": offset {offset:#x}")?;
        }
        write!(f, ": {}: {}", self.kind.as_str(), self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_and_place() {
        let mut p = Problem::file(ProblemKind::DamagedBlock, "x.evtx", "bad checksum").at(0x11000);
        p.chunk = Some(1);
        assert_eq!(
            p.to_string(),
            "x.evtx: chunk 1: offset 0x11000: damaged_block: bad checksum"
        );
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains(r#""kind":"damaged_block""#), "{json}");
        assert!(!json.contains("record_id"), "{json}");
    }
}
