//! Finding log files under the paths a user gives.

use mirt_core::{Problem, ProblemKind};
use std::path::PathBuf;

/// Files found, and paths that could not be searched.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Regular files, in a stable order (sorted within each folder).
    pub files: Vec<PathBuf>,
    /// Paths that do not exist or could not be listed.
    pub problems: Vec<Problem>,
}

/// Every regular file under `paths`: files as given, folders searched
/// recursively (symbolic links are not followed). Whether a file is a text
/// log is decided when it is read.
pub fn find_log_files(paths: &[PathBuf]) -> Discovered {
    let mut found = Discovered::default();
    for path in paths {
        if path.is_file() {
            found.files.push(path.clone());
            continue;
        }
        if !path.exists() {
            found.problems.push(Problem::file(
                ProblemKind::Unreadable,
                path,
                "no such file or folder",
            ));
            continue;
        }
        for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
            match entry {
                Ok(e) if e.file_type().is_file() => found.files.push(e.into_path()),
                Ok(_) => {}
                Err(e) => {
                    let at = e.path().map(PathBuf::from).unwrap_or_else(|| path.clone());
                    found
                        .problems
                        .push(Problem::file(ProblemKind::Unreadable, at, e.to_string()));
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_folders_and_missing_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("b.log"), "x\n").unwrap();
        std::fs::write(dir.path().join("sub/a.log"), "y\n").unwrap();
        let found = find_log_files(&[dir.path().to_path_buf(), dir.path().join("missing")]);
        let names: Vec<_> = found
            .files
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().to_path_buf())
            .collect();
        assert_eq!(names, [PathBuf::from("b.log"), PathBuf::from("sub/a.log")]);
        assert_eq!(found.problems.len(), 1);
    }
}
