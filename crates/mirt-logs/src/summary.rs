//! What reading hands on: events, problems, and a summary per file.

use crate::format::LogFormat;
use crate::input::Compression;
use crate::pipeline::Counts;
use mirt_core::{Event, Problem};
use std::path::PathBuf;

/// What reading produces, in order: each file's events and problems, then
/// its summary.
#[derive(Debug)]
pub enum Item {
    /// A record, parsed.
    Event(Box<Event>),
    /// A record or file that could not be read (or only partly), with where and why.
    Problem(Problem),
    /// A file is done.
    FileDone(FileSummary),
}

/// What was read from one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FileSummary {
    /// The file.
    pub path: PathBuf,
    /// The format it was read as (`None` when it was not read).
    #[serde(serialize_with = "format_name")]
    pub format: Option<LogFormat>,
    /// Whether the format was detected (`false`: forced with `--input-format`).
    pub detected: bool,
    /// How it was compressed.
    pub compression: Option<Compression>,
    /// The encoding it was converted from (`utf-16le`, `utf-16be`); `None`
    /// for UTF-8.
    pub encoding: Option<&'static str>,
    /// Bytes of text read (after decompression).
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Records (a line, or a line with its continuation lines).
    pub records: u64,
    /// Records that became events.
    pub events: u64,
    /// Events that passed the filters and were handed on.
    pub emitted: u64,
    /// Records that hold no event by design (blank lines, comments, headers).
    pub skipped: u64,
    /// Records the format could not read.
    pub failed: u64,
    /// Records with invalid UTF-8, NUL bytes, or cut at the length limit
    /// (still read).
    pub damaged: u64,
    /// Problems listed for this file (the rest are only counted).
    pub problems_listed: u64,
    /// How years were found for year-less times, when the file had any.
    pub years: Option<String>,
    /// Whether nothing could be read from it.
    pub unreadable: bool,
}

fn format_name<S: serde::Serializer>(
    f: &Option<LogFormat>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match f {
        Some(f) => s.serialize_str(f.name()),
        None => s.serialize_none(),
    }
}

impl FileSummary {
    pub(crate) fn add_counts(&mut self, c: &Counts) {
        self.records += c.records;
        self.events += c.events;
        self.emitted += c.emitted;
        self.skipped += c.skipped;
        self.failed += c.failed;
        self.damaged += c.damaged;
    }
}
