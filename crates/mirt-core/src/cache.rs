//! Where and how mirt keeps what it can rebuild: compiled YARA rules,
//! compiled Sigma rule sets. One folder per kind under a common root; one
//! file per entry, starting with a magic of its kind, written to a
//! temporary name and renamed into place, so a reader never sees half a
//! file. Files are not synced: a file lost or cut by a crash is only a
//! cache miss, found by its reader's checks.
//!
//! A folder does not grow without end: reading an entry marks it used (its
//! modification time, at most once a day), and writing one removes from
//! its folder the entries not used for [`UNUSED_FOR`] (rules that changed,
//! older builds of mirt) and temporary files a crash left behind.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

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
    let meta = file.metadata().ok();
    mark_used(&file, meta.as_ref());
    let len = meta.map_or(0, |m| m.len());
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

/// Entries not read or written for this long are removed when their
/// folder is next written to.
pub const UNUSED_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// Temporary files of a write that did not finish are removed after this.
const LEFT_BEHIND_FOR: Duration = Duration::from_secs(24 * 3600);

/// An entry read is marked used when its mark is older than this.
const MARK_EVERY: Duration = Duration::from_secs(24 * 3600);

/// Moves the modification time of an entry being read to now, if it is
/// more than a day old (so an entry in daily use is never removed, and is
/// written to at most once a day). Best effort: a read-only cache stays as
/// it is.
fn mark_used(file: &std::fs::File, meta: Option<&std::fs::Metadata>) {
    let now = SystemTime::now();
    let stale = meta
        .and_then(|m| m.modified().ok())
        .and_then(|t| now.duration_since(t).ok())
        .is_some_and(|age| age > MARK_EVERY);
    if stale {
        let _ = file.set_modified(now);
    }
}

/// What every mirt cache file starts with (each kind's magic continues it).
const MAGIC_PREFIX: &[u8; 4] = b"MIRT";

/// Removes from `dir` the cache files not used for `unused_for`, and
/// temporary files of unfinished writes (`.tmp*`) older than a day; returns
/// what it removed. Only files that start with mirt's cache magic are ever
/// removed, whatever else the folder holds (`--rule-cache` may name any
/// folder). Best effort: what cannot be listed or removed stays.
pub fn prune(dir: &Path, unused_for: Duration) -> Vec<PathBuf> {
    let now = SystemTime::now();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let limit = if entry.file_name().to_string_lossy().starts_with(".tmp") {
            LEFT_BEHIND_FOR
        } else {
            unused_for
        };
        let old = entry
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > limit);
        let path = entry.path();
        if old && is_cache_file(&path) && std::fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed
}

/// Whether the file at `path` starts with mirt's cache magic.
fn is_cache_file(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0; MAGIC_PREFIX.len()];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == MAGIC_PREFIX)
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
    prune(dir, UNUSED_FOR);
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
    fn unused_entries_and_left_over_temporary_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let age_with = |name: &str, days: u64, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let then = SystemTime::now() - Duration::from_secs(days * 24 * 3600);
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(then).unwrap();
            path
        };
        let age = |name: &str, days: u64| age_with(name, days, b"MIRTXXXXbody");
        let old = age("old.sigc", 40);
        let recent = age("recent.sigc", 10);
        let read_lately = age("used.sigc", 40);
        let tmp = age(".tmpAbc123", 2);
        let fresh_tmp = age(".tmpXyz789", 0);
        // Files that are not mirt's stay, however old.
        let other = age_with("notes.txt", 400, b"my notes");
        let tmp_other = age_with(".tmp-mine", 400, b"");
        // Reading marks an entry used.
        assert_eq!(&*read(&read_lately, b"MIRTXXXX").unwrap().unwrap(), b"body");
        write(dir.path(), "new.sigc", b"MIRTXXXX", &[b"body"]).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                ".tmp-mine",
                ".tmpXyz789",
                "new.sigc",
                "notes.txt",
                "recent.sigc",
                "used.sigc"
            ]
        );
        assert!(!old.exists() && !tmp.exists());
        assert!(recent.exists() && fresh_tmp.exists() && other.exists() && tmp_other.exists());
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
