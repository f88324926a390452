//! Reading what the writer wrote, with the project's own reader.

#![allow(dead_code)]

use mirt_core::{Event, Problem};
use mirt_evtx::{EvtxReader, FileSummary, Item};
use std::path::Path;

/// Everything a reader got from one file.
#[derive(Debug, Default)]
pub struct Read {
    pub events: Vec<Event>,
    pub problems: Vec<Problem>,
    pub summary: Option<FileSummary>,
}

impl Read {
    pub fn record_ids(&self) -> Vec<u64> {
        self.events.iter().filter_map(|e| e.record_id).collect()
    }

    pub fn problem_kinds(&self) -> Vec<mirt_core::ProblemKind> {
        self.problems.iter().map(|p| p.kind).collect()
    }
}

/// Reads `path` with `threads` workers (1: on this thread).
pub fn read_path(path: &Path, threads: usize) -> Read {
    let mut reader = EvtxReader::new();
    reader.threads(threads);
    let mut out = Read::default();
    reader.read_files(&[path.to_path_buf()], |item| match item {
        Item::Event(e) => out.events.push(*e),
        Item::Problem(p) => out.problems.push(p),
        Item::FileDone(s) => out.summary = Some(s),
    });
    out
}

/// Writes `bytes` to a temporary file named `name` and reads it.
pub fn read_bytes(bytes: &[u8], name: &str) -> Read {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("the file is written");
    read_path(&path, 1)
}
