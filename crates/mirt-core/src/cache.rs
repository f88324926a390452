//! Where and how mirt keeps what it can rebuild: compiled YARA rules,
//! compiled Sigma rule sets. One folder per kind under a common root; one
//! file per entry, starting with a magic of its kind, written to a
//! temporary name and renamed into place, so a reader never sees half a
//! file. Files are not synced: a file lost or cut by a crash is only a
//! cache miss, found by its reader's checks.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The cache folder for `kind` (`yara`, `sigma`): `$MIRT_CACHE_DIR/<kind>`,
/// else the platform's user cache folder (`$XDG_CACHE_HOME/mirt/<kind>`,
/// `~/.cache/mirt/<kind>`, `%LOCALAPPDATA%\mirt\cache\<kind>`); `None`
/// when none of these is set.
pub fn cache_dir(kind: &str) -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = env("MIRT_CACHE_DIR") {
        return Some(dir.join(kind));
    }
    if cfg!(windows) {
        return env("LOCALAPPDATA").map(|d| d.join("mirt").join("cache").join(kind));
    }
    env("XDG_CACHE_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".cache")))
        .map(|d| d.join("mirt").join(kind))
}

/// The bytes after `magic` of the cache file at `path`: `Ok(None)` when
/// there is none, `Err` (in words, for a warning) when it cannot be read or
/// is not a cache file of this kind.
pub fn read(path: &Path, magic: &[u8]) -> Result<Option<Vec<u8>>, String> {
    use std::io::Read;
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cannot(e)),
    };
    // The magic is read on its own, so that the rest (megabytes for a
    // compiled rule set) is read into place rather than moved after it.
    let mut head = vec![0; magic.len()];
    match file.read_exact(&mut head) {
        Ok(()) if head == magic => {}
        Ok(()) => return Err(damaged(path, "bad magic")),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(damaged(path, "bad magic"));
        }
        Err(e) => return Err(cannot(e)),
    }
    let len = file.metadata().map_or(0, |m| m.len() as usize);
    let mut bytes = Vec::with_capacity(len.saturating_sub(magic.len()));
    file.read_to_end(&mut bytes).map_err(cannot)?;
    Ok(Some(bytes))
}

/// The warning for a cache file that is there but unusable.
pub fn damaged(path: &Path, why: &str) -> String {
    format!("ignoring damaged cache file {}: {why}", path.display())
}

/// Writes `magic` then `parts` as the cache file `name` in `dir`
/// (created if needed); the error is in words, for a warning.
pub fn write(dir: &Path, name: &str, magic: &[u8], parts: &[&[u8]]) -> Result<(), String> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        format!(
            "cannot write the rule cache in {}: {what}: {e}",
            dir.display()
        )
    };
    std::fs::create_dir_all(dir).map_err(|e| fail("create folder", &e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| fail("temp file", &e))?;
    let file = tmp.as_file_mut();
    std::iter::once(magic)
        .chain(parts.iter().copied())
        .try_for_each(|p| file.write_all(p))
        .map_err(|e| fail("write", &e))?;
    tmp.persist(dir.join(name))
        .map_err(|e| fail("rename", &e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_files_read_back_and_others_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.c");
        assert_eq!(read(&path, b"MAGIC").unwrap(), None);
        write(dir.path(), "x.c", b"MAGIC", &[b"ab", b"cd"]).unwrap();
        assert_eq!(read(&path, b"MAGIC").unwrap().unwrap(), b"abcd");
        let other = read(&path, b"OTHER").unwrap_err();
        assert!(
            other.contains("damaged") && other.contains("bad magic"),
            "{other}"
        );
        // Shorter than its magic, and only the magic.
        std::fs::write(&path, b"MAG").unwrap();
        assert!(read(&path, b"MAGIC").unwrap_err().contains("bad magic"));
        std::fs::write(&path, b"MAGIC").unwrap();
        assert_eq!(read(&path, b"MAGIC").unwrap().unwrap(), b"");
    }
}
