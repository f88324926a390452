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
/// is not a cache file of this kind. Large files are mapped (see
/// [`CacheBytes`]).
pub fn read(path: &Path, magic: &[u8]) -> Result<Option<CacheBytes>, String> {
    use std::io::Read;
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cannot(e)),
    };
    let len = file.metadata().map_or(0, |m| m.len());
    if cfg!(unix) && len >= MAP_FROM {
        let map = map(&file).map_err(cannot)?;
        if !map.starts_with(magic) {
            return Err(damaged(path, "bad magic"));
        }
        return Ok(Some(CacheBytes {
            inner: Inner::Mapped(map),
            start: magic.len(),
        }));
    }
    // The magic is read on its own, so that the rest is read into place
    // rather than moved after it.
    let mut head = vec![0; magic.len()];
    match file.read_exact(&mut head) {
        Ok(()) if head == magic => {}
        Ok(()) => return Err(damaged(path, "bad magic")),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(damaged(path, "bad magic"));
        }
        Err(e) => return Err(cannot(e)),
    }
    let mut bytes = Vec::with_capacity((len as usize).saturating_sub(magic.len()));
    file.read_to_end(&mut bytes).map_err(cannot)?;
    Ok(Some(CacheBytes {
        inner: Inner::Read(bytes),
        start: 0,
    }))
}

#[allow(unsafe_code)]
fn map(file: &std::fs::File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the map is read-only and private to this process. Cache
    // files are written under a temporary name and renamed into place,
    // never changed where they are, so the mapped file stays as it was.
    // (Another program writing into it would change what is read, which
    // every reader checks against the file's digest and decodes checked;
    // cutting it would fault the process, the documented cost of mapping.)
    unsafe { memmap2::MmapOptions::new().populate().map(file) }
}

/// Files this large and larger are mapped rather than read (on Unix):
/// a compiled rule set runs to megabytes, and reading it means a copy into
/// fresh memory, page by page. On Windows a mapped file cannot be replaced
/// while mapped, and a hunt rewrites a cache file it has read.
const MAP_FROM: u64 = 256 * 1024;

/// The bytes of a cache file after its magic, mapped or read.
pub struct CacheBytes {
    inner: Inner,
    /// Where the bytes after the magic start in `inner`.
    start: usize,
}

enum Inner {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for CacheBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.inner {
            Inner::Mapped(map) => &map[self.start..],
            Inner::Read(bytes) => &bytes[self.start..],
        }
    }
}

impl std::fmt::Debug for CacheBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self.inner {
            Inner::Mapped(_) => "mapped",
            Inner::Read(_) => "read",
        };
        write!(f, "CacheBytes({} bytes, {how})", self.len())
    }
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
        assert!(read(&path, b"MAGIC").unwrap().is_none());
        write(dir.path(), "x.c", b"MAGIC", &[b"ab", b"cd"]).unwrap();
        assert_eq!(&*read(&path, b"MAGIC").unwrap().unwrap(), b"abcd");
        let other = read(&path, b"OTHER").unwrap_err();
        assert!(
            other.contains("damaged") && other.contains("bad magic"),
            "{other}"
        );
        // Shorter than its magic, and only the magic.
        std::fs::write(&path, b"MAG").unwrap();
        assert!(read(&path, b"MAGIC").unwrap_err().contains("bad magic"));
        std::fs::write(&path, b"MAGIC").unwrap();
        assert_eq!(&*read(&path, b"MAGIC").unwrap().unwrap(), b"");
    }

    #[test]
    fn large_files_read_back_the_same_mapped() {
        let dir = tempfile::tempdir().unwrap();
        let body: Vec<u8> = (0..MAP_FROM as usize + 3)
            .map(|i| (i % 251) as u8)
            .collect();
        write(dir.path(), "big.c", b"MAGIC", &[&body[..10], &body[10..]]).unwrap();
        let read_back = read(&dir.path().join("big.c"), b"MAGIC").unwrap().unwrap();
        assert_eq!(&*read_back, &body[..]);
        if cfg!(unix) {
            assert!(format!("{read_back:?}").contains("mapped"));
        }
        let other = read(&dir.path().join("big.c"), b"OTHER").unwrap_err();
        assert!(other.contains("bad magic"), "{other}");
    }
}
