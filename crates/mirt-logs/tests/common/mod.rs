//! Helpers shared by the integration tests.
#![allow(dead_code)]

use mirt_core::{Event, Problem};
use mirt_logs::{FileSummary, Item, LogReader};
use std::path::{Path, PathBuf};

/// The corpus folder (`MIRT_CORPUS`, or `../shared/corpus` beside the
/// workspace), or `None` with a note when it is absent.
pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("MIRT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: corpus not found at {}", dir.display());
        None
    }
}

/// Everything read from some files.
#[derive(Default)]
pub struct Read {
    pub events: Vec<Event>,
    pub problems: Vec<Problem>,
    pub summaries: Vec<FileSummary>,
}

impl Read {
    pub fn summary(&self) -> &FileSummary {
        &self.summaries[0]
    }
}

pub fn read_with(reader: &LogReader, files: &[PathBuf]) -> Read {
    let mut out = Read::default();
    reader.read_files(files, |item| match item {
        Item::Event(e) => out.events.push(*e),
        Item::Problem(p) => out.problems.push(p),
        Item::FileDone(s) => out.summaries.push(s),
    });
    out
}

pub fn read(path: &Path) -> Read {
    read_with(&LogReader::new(), &[path.to_path_buf()])
}
