//! The quick way to a cached rule set: an index from the status of the
//! rule files (size, modification and change times, device and inode) to
//! the key of their content. With it, a hunt whose rules did not change
//! finds its compiled set without reading the rule files: for SigmaHQ's
//! Windows set that is 2,400 files and 4 MB, about 25 ms of CPU of the
//! 60 ms a cached load took.
//!
//! Like git's index, this trusts that a write to a file moves its change
//! time (ctime), which no tool sets back. A file written in the same clock
//! tick as the index could keep its times ("racy" in git's words), so an
//! index entry is written only when every file's times are at least
//! [`SETTLED`] old (which covers the 2-second times of FAT file systems).
//! Where a file's status cannot be read, or on systems without change
//! times (Windows), the rule files are read and hashed as before.

use super::config_hasher;
use crate::ruleset::RuleSetBuilder;
use std::path::Path;
use std::time::{Duration, SystemTime};

const MAGIC: &[u8; 8] = b"MIRTSGMI";

/// How old the files' times must be for an index entry to be written.
pub(crate) const SETTLED: Duration = Duration::from_secs(5);

/// The status key of a set of sources, and whether it may be written.
pub(crate) struct StatusKey {
    pub key: String,
    /// Every file's times are at least [`SETTLED`] old.
    pub settled: bool,
}

/// One source as the builder holds it.
pub(crate) enum SourceRef<'a> {
    /// A file, by its status (taken already, or to take).
    File(&'a Path, Option<&'a std::fs::Metadata>),
    /// Text given in memory, or why a folder entry could not be listed.
    Text(&'a Path, &'a str),
}

/// The status key of `sources` for the options of `b`; `None` when some
/// file's status cannot be read (or this system has no change times).
pub(crate) fn status_key<'a>(
    b: &RuleSetBuilder,
    sources: impl Iterator<Item = SourceRef<'a>>,
) -> Option<StatusKey> {
    // The library's own tests write rule files and build at once.
    let age = if cfg!(test) { Duration::ZERO } else { SETTLED };
    status_key_aged(b, sources, age)
}

/// [`status_key`], settled when every file is at least `age` old.
fn status_key_aged<'a>(
    b: &RuleSetBuilder,
    sources: impl Iterator<Item = SourceRef<'a>>,
    age: Duration,
) -> Option<StatusKey> {
    let mut h = config_hasher(b);
    h.update(b"status index\0");
    let oldest_allowed = SystemTime::now().checked_sub(age)?;
    let mut settled = true;
    for source in sources {
        match source {
            SourceRef::File(path, taken) => {
                let s = status(path, taken)?;
                super::field(&mut h, path.as_os_str().as_encoded_bytes());
                h.update(b"S");
                for n in s.numbers {
                    h.update(&n.to_le_bytes());
                }
                settled &= s.changed <= oldest_allowed && s.modified <= oldest_allowed;
            }
            SourceRef::Text(path, text) => {
                super::field(&mut h, path.as_os_str().as_encoded_bytes());
                h.update(b"T");
                super::field(&mut h, text.as_bytes());
            }
        }
    }
    Some(StatusKey {
        key: h.finalize().to_hex().to_string(),
        settled,
    })
}

struct Status {
    /// Size, modification and change times (ns), device, inode.
    numbers: [u64; 7],
    modified: SystemTime,
    changed: SystemTime,
}

/// The status of the file at `path`: `taken` if given (listed from its
/// folder, not followed through a link: files only are listed, so it is
/// the same), else read now.
#[cfg(unix)]
fn status(path: &Path, taken: Option<&std::fs::Metadata>) -> Option<Status> {
    use std::os::unix::fs::MetadataExt;
    let read;
    let m = match taken {
        Some(m) => m,
        None => {
            read = std::fs::metadata(path).ok()?;
            &read
        }
    };
    let time = |secs: i64, nanos: i64| {
        let secs = u64::try_from(secs).ok()?;
        let nanos = u32::try_from(nanos).ok()?;
        SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
    };
    Some(Status {
        numbers: [
            m.size(),
            m.mtime() as u64,
            m.mtime_nsec() as u64,
            m.ctime() as u64,
            m.ctime_nsec() as u64,
            m.dev(),
            m.ino(),
        ],
        modified: time(m.mtime(), m.mtime_nsec())?,
        changed: time(m.ctime(), m.ctime_nsec())?,
    })
}

#[cfg(not(unix))]
fn status(_path: &Path, _taken: Option<&std::fs::Metadata>) -> Option<Status> {
    None
}

fn file_name(status_key: &str) -> String {
    format!("{status_key}.sigi")
}

/// The content key the index holds for `status_key`, if any.
pub(crate) fn lookup(dir: &Path, status_key: &str) -> Option<String> {
    let body = mirt_core::cache::read(&dir.join(file_name(status_key)), MAGIC).ok()??;
    let key = String::from_utf8(body.to_vec()).ok()?;
    (key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit())).then_some(key)
}

/// Records that the sources of `status_key` have the content key `key`.
pub(crate) fn store(dir: &Path, status_key: &str, key: &str) -> Result<(), String> {
    mirt_core::cache::write(dir, &file_name(status_key), MAGIC, &[key.as_bytes()])
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::{Mapping, RuleSetBuilder};

    const RULE: &str = "title: T\nid: 5b0c8e0e-0000-4000-8000-0000000000aa\n\
        logsource: {product: windows, service: security}\n\
        detection:\n    sel:\n        EventID: 1102\n    condition: sel\nlevel: high\n";

    fn build(rules: &Path, cache: &Path) -> crate::RuleSet {
        let mut b = RuleSetBuilder::new(Mapping::builtin());
        b.cache_dir(Some(cache.to_path_buf())).add_path(rules);
        b.build()
    }

    fn indexes(cache: &Path) -> usize {
        std::fs::read_dir(cache)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension() == Some("sigi".as_ref()))
            .count()
    }

    #[test]
    fn unchanged_files_are_found_by_status_and_changed_ones_are_read() {
        let rules = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let file = rules.path().join("r.yml");
        std::fs::write(&file, RULE).unwrap();
        let first = build(rules.path(), cache.path());
        assert!(!first.from_cache());
        assert_eq!(indexes(cache.path()), 1);
        let second = build(rules.path(), cache.path());
        assert!(second.from_cache(), "{:?}", second.cache_problem());
        // The same size, another level: a new status, so read again.
        std::fs::write(&file, RULE.replace("high", "low ")).unwrap();
        let third = build(rules.path(), cache.path());
        assert!(!third.from_cache());
        assert_eq!(
            third.rules()[0]
                .meta
                .level
                .map(|l| l.to_string())
                .as_deref(),
            Some("low")
        );
        assert_eq!(indexes(cache.path()), 2);
    }

    #[test]
    fn an_index_without_its_set_or_damaged_is_passed_over() {
        let rules = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        std::fs::write(rules.path().join("r.yml"), RULE).unwrap();
        build(rules.path(), cache.path());
        let sets: Vec<_> = std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        for p in &sets {
            if p.extension() == Some("sigc".as_ref()) {
                std::fs::remove_file(p).unwrap();
            } else {
                std::fs::write(p, b"MIRTSGMI not a key").unwrap();
            }
        }
        let again = build(rules.path(), cache.path());
        assert!(!again.from_cache());
        assert_eq!(again.rules().len(), 1);
        assert!(
            again.cache_problem().is_none(),
            "{:?}",
            again.cache_problem()
        );
        assert!(build(rules.path(), cache.path()).from_cache());
    }

    #[test]
    fn files_written_just_now_are_not_indexed() {
        let rules = tempfile::tempdir().unwrap();
        let file = rules.path().join("r.yml");
        std::fs::write(&file, RULE).unwrap();
        let b = RuleSetBuilder::new(Mapping::builtin());
        let file_ref = || [SourceRef::File(&file, None)].into_iter();
        let fresh = status_key_aged(&b, file_ref(), SETTLED).unwrap();
        assert!(!fresh.settled);
        let old = status_key_aged(&b, file_ref(), Duration::ZERO).unwrap();
        assert!(old.settled);
        assert_eq!(fresh.key, old.key);
        // The status taken while listing the folder is the same status.
        let listed = std::fs::read_dir(rules.path())
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap())
            .next()
            .unwrap();
        let taken = [SourceRef::File(&file, Some(&listed))].into_iter();
        assert_eq!(
            status_key_aged(&b, taken, Duration::ZERO).unwrap().key,
            old.key
        );
        // A file that cannot be read has no status: no key at all.
        let gone = rules.path().join("gone.yml");
        let gone_ref = [SourceRef::File(&gone, None)].into_iter();
        assert!(status_key_aged(&b, gone_ref, SETTLED).is_none());
    }
}
