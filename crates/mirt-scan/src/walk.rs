//! Listing the files under the given paths, in a fixed order, before
//! reading any: the list gives the progress total, and the order makes the
//! output the same from run to run.

use mirt_core::{Problem, ProblemKind};
use std::fs::Metadata;
use std::path::{Path, PathBuf};

/// A regular file to read.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its path.
    pub path: PathBuf,
    /// Its metadata as listed (before it was opened, so access times are
    /// those from before the scan).
    pub meta: Metadata,
}

/// The files found, and what was passed over.
#[derive(Debug, Default)]
pub struct Listing {
    /// Regular files, sorted by path within each given path.
    pub files: Vec<Entry>,
    /// Symlinks not followed, special files, unreadable folders.
    pub problems: Vec<Problem>,
    /// Symlinks passed over (not followed).
    pub symlinks: u64,
    /// FIFOs, sockets and devices passed over.
    pub special: u64,
}

impl Listing {
    /// Total size of the files, in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|e| e.meta.len()).sum()
    }
}

/// Lists the regular files under `paths` (files or folders, recursively).
/// Symlinks are followed only when `follow_symlinks` is set (with loop
/// detection); otherwise they are listed as skipped.
pub fn list_files(paths: &[PathBuf], follow_symlinks: bool) -> Listing {
    let mut out = Listing::default();
    for root in paths {
        let walker = walkdir::WalkDir::new(root)
            .follow_links(follow_symlinks)
            .follow_root_links(follow_symlinks)
            .sort_by_file_name();
        for item in walker {
            match item {
                Ok(entry) => add(&mut out, entry.path(), entry.metadata(), follow_symlinks),
                Err(e) => {
                    let path = e.path().unwrap_or(root).to_path_buf();
                    let reason = match e.loop_ancestor() {
                        Some(a) => format!("symlink loop back to {}", a.display()),
                        None => e.to_string(),
                    };
                    out.problems
                        .push(Problem::file(ProblemKind::Unreadable, path, reason));
                }
            }
        }
    }
    out
}

fn add(out: &mut Listing, path: &Path, meta: walkdir::Result<Metadata>, follow: bool) {
    let meta = match meta {
        Ok(m) => m,
        Err(e) => {
            out.problems
                .push(Problem::file(ProblemKind::Unreadable, path, e.to_string()));
            return;
        }
    };
    let ft = meta.file_type();
    if ft.is_file() {
        out.files.push(Entry {
            path: path.to_path_buf(),
            meta,
        });
    } else if ft.is_symlink() {
        out.symlinks += 1;
        let target = std::fs::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_else(|_| "?".to_string());
        let why = if follow {
            format!("dangling symlink to {target}")
        } else {
            format!("symlink to {target} not followed (use --follow-symlinks)")
        };
        out.problems
            .push(Problem::file(ProblemKind::Skipped, path, why));
    } else if !ft.is_dir() {
        out.special += 1;
        out.problems.push(Problem::file(
            ProblemKind::Skipped,
            path,
            format!("special file ({}) not read", special_kind(&meta)),
        ));
    }
}

#[cfg(unix)]
fn special_kind(meta: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let ft = meta.file_type();
    if ft.is_fifo() {
        "fifo"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_char_device() {
        "character device"
    } else {
        "unknown type"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &Metadata) -> &'static str {
    "not a regular file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_sorted_and_symlinks_skipped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        std::fs::write(dir.path().join("d/b"), b"b").unwrap();
        std::fs::write(dir.path().join("a"), b"a").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("a"), dir.path().join("link")).unwrap();
        let l = list_files(&[dir.path().to_path_buf()], false);
        let names: Vec<_> = l
            .files
            .iter()
            .map(|e| e.path.strip_prefix(dir.path()).unwrap().to_path_buf())
            .collect();
        assert_eq!(names, [PathBuf::from("a"), PathBuf::from("d/b")]);
        #[cfg(unix)]
        {
            assert_eq!(l.symlinks, 1);
            assert!(l.problems[0].reason.contains("not followed"));
            let followed = list_files(&[dir.path().to_path_buf()], true);
            assert_eq!(followed.files.len(), 3);
        }
    }

    #[cfg(unix)]
    #[test]
    fn fifos_are_special_files() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let ok = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !ok.is_ok_and(|s| s.success()) {
            return;
        }
        let l = list_files(&[dir.path().to_path_buf()], false);
        assert_eq!(l.special, 1);
        assert!(l.problems[0].reason.contains("fifo"), "{:?}", l.problems);
    }
}
