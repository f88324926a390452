//! Finds the event logs under the paths a user names.

use mirt_core::{Problem, ProblemKind};
use std::path::{Path, PathBuf};

/// The files found, and the paths that could not be walked.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Files to read, in a stable order: as named, folders walked in name order.
    pub files: Vec<PathBuf>,
    /// Paths that do not exist or could not be walked.
    pub problems: Vec<Problem>,
}

/// Files named directly are taken whatever their name (so a renamed or
/// legacy log is still looked at and reported); folders are walked
/// recursively for `*.evtx` and `*.evt` (any case). Symbolic links are not
/// followed inside folders.
pub fn find_evtx_files(paths: &[PathBuf]) -> Discovered {
    let mut found = Discovered::default();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut found),
            Ok(_) => found.files.push(path.clone()),
            Err(e) => {
                found
                    .problems
                    .push(Problem::file(ProblemKind::Unreadable, path, e.to_string()))
            }
        }
    }
    found
}

fn walk(dir: &Path, found: &mut Discovered) {
    let walker = walkdir::WalkDir::new(dir).sort_by_file_name();
    for entry in walker {
        match entry {
            Ok(entry) if entry.file_type().is_file() && is_event_log_name(entry.path()) => {
                found.files.push(entry.into_path())
            }
            Ok(_) => {}
            Err(e) => {
                let path = e.path().unwrap_or(dir).to_path_buf();
                found
                    .problems
                    .push(Problem::file(ProblemKind::Unreadable, path, e.to_string()));
            }
        }
    }
}

fn is_event_log_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("evtx") || e.eq_ignore_ascii_case("evt"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_folders_for_event_logs_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for name in ["b.evtx", "sub/a.EVTX", "old.evt", "notes.txt"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let missing = dir.path().join("missing");
        let found = find_evtx_files(&[dir.path().to_path_buf(), missing.clone()]);
        let names: Vec<_> = found
            .files
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["b.evtx", "old.evt", "sub/a.EVTX"]);
        assert_eq!(found.problems.len(), 1);
        assert_eq!(found.problems[0].path, missing);
    }
}
