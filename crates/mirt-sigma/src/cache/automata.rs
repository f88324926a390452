//! The automata a hunt built, kept beside its cached rule set
//! (`<key>.siga`), so that the next hunt with the same rules reads them
//! instead of building them again: with SigmaHQ's Windows set, building
//! the automata of the routes an evidence set meets was about a twentieth
//! of a hunt's CPU, reading them back is a fraction of that.
//!
//! The file holds what earlier hunts built, each automaton under a hash of
//! its literals (a hunt over other logs adds the automata of its routes).
//! It is `MIRTSGMA`, the BLAKE3 of the body, and the body: the encoding's
//! name, the number of automata, per automaton its key and length, then
//! the automata as daachorse serialises them. A file that does not verify
//! is reported and replaced; an automaton that does not read back is built
//! instead.

use daachorse::DoubleArrayAhoCorasick;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"MIRTSGMA";

/// The encoding of the automata; a file of another is not read.
const FORMAT: &[u8] = b"daachorse 5 bytewise u32";

/// The key of a set of literals (their BLAKE3, cut to 128 bits).
pub(crate) type Key = [u8; 16];

/// An automaton to store: its key and its serialised bytes.
pub(crate) type Serialised = (Key, Vec<u8>);

/// The key of the automaton over `patterns`, in their order.
pub(crate) fn key_of(patterns: &[&[u8]]) -> Key {
    // Hashed as one buffer: an update per literal costs more than the
    // copy (literal sets run to thousands of short heads).
    let len: usize = patterns.iter().map(|p| p.len() + 4).sum();
    let mut buf = Vec::with_capacity(len + 8);
    buf.extend((patterns.len() as u64).to_le_bytes());
    for p in patterns {
        buf.extend((p.len() as u32).to_le_bytes());
        buf.extend(*p);
    }
    let mut key = [0; 16];
    key.copy_from_slice(&blake3::hash(&buf).as_bytes()[..16]);
    key
}

fn file_name(set_key: &str) -> String {
    format!("{set_key}.siga")
}

/// The automata stored for one rule set, read when a bucket needs them.
pub(crate) struct StoredAutomata {
    path: PathBuf,
    /// The whole file after the magic.
    bytes: mirt_core::cache::CacheBytes,
    /// Where each automaton is in `bytes`.
    index: HashMap<Key, Range<usize>>,
}

impl StoredAutomata {
    /// The automata stored in `dir` for the rule set `set_key`: `Ok(None)`
    /// when there are none, `Err` (in words) when the file is unusable.
    pub(crate) fn open(dir: &Path, set_key: &str) -> Result<Option<StoredAutomata>, String> {
        let path = dir.join(file_name(set_key));
        let Some(bytes) = super::read_checked(&path, MAGIC)? else {
            return Ok(None);
        };
        let index = read_index(&bytes, super::DIGEST)
            .ok_or_else(|| mirt_core::cache::damaged(&path, "index does not fit"))?;
        Ok(Some(StoredAutomata { path, bytes, index }))
    }

    /// The stored automaton of `key`: `None` if there is none, `Err` (in
    /// words) if it does not read back.
    pub(crate) fn automaton(
        &self,
        key: &Key,
    ) -> Option<Result<DoubleArrayAhoCorasick<u32>, String>> {
        let range = self.index.get(key)?.clone();
        Some(
            match DoubleArrayAhoCorasick::deserialize(&self.bytes[range]) {
                Ok((da, [])) => Ok(da),
                Ok(_) => Err(self.damaged("an automaton is longer than its entry")),
                Err(e) => Err(self.damaged(&format!("an automaton does not read back: {e}"))),
            },
        )
    }

    fn damaged(&self, why: &str) -> String {
        mirt_core::cache::damaged(&self.path, why)
    }

    fn entries(&self) -> impl Iterator<Item = (Key, &[u8])> {
        self.index.iter().map(|(k, r)| (*k, &self.bytes[r.clone()]))
    }
}

/// The index of a body that starts at `base` in `bytes`: the ranges of
/// the automata in `bytes`, if the body is of this [`FORMAT`] and its
/// entries fit it exactly.
fn read_index(bytes: &[u8], base: usize) -> Option<HashMap<Key, Range<usize>>> {
    let mut r = Reader { bytes, at: base };
    let format_len = r.u32()?;
    if r.take(format_len)? != FORMAT {
        return None;
    }
    let count = r.u32()?;
    let mut entries = Vec::with_capacity(count.min(1 << 16));
    for _ in 0..count {
        let key: Key = r.take(16)?.try_into().ok()?;
        entries.push((key, r.u32()?));
    }
    let mut index = HashMap::with_capacity(entries.len());
    for (key, len) in entries {
        let start = r.at;
        r.take(len)?;
        index.insert(key, start..r.at);
    }
    (r.at == bytes.len()).then_some(index)
}

/// Reads a body front to back.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let part = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(part)
    }

    fn u32(&mut self) -> Option<usize> {
        let b = self.take(4)?;
        Some(u32::from_le_bytes(b.try_into().ok()?) as usize)
    }
}

/// Stores the automata of `stored` and `new` (keys with serialised
/// automata; a new one replaces a stored one of its key) for the rule set
/// `set_key` in `dir`. The error is in words, for a warning.
pub(crate) fn write(
    dir: &Path,
    set_key: &str,
    stored: Option<&StoredAutomata>,
    new: &[Serialised],
) -> Result<(), String> {
    let mut all: BTreeMap<Key, &[u8]> = stored.into_iter().flat_map(|s| s.entries()).collect();
    all.extend(new.iter().map(|(k, b)| (*k, b.as_slice())));
    let too_big = || {
        format!(
            "cannot write the rule cache in {}: too large",
            dir.display()
        )
    };
    let len32 = |n: usize| {
        u32::try_from(n)
            .map(u32::to_le_bytes)
            .map_err(|_| too_big())
    };
    let mut body = Vec::new();
    body.extend(len32(FORMAT.len())?);
    body.extend(FORMAT);
    body.extend(len32(all.len())?);
    for (key, blob) in &all {
        body.extend(key);
        body.extend(len32(blob.len())?);
    }
    for blob in all.values() {
        body.extend(*blob);
    }
    super::write_checked(dir, &file_name(set_key), MAGIC, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use daachorse::DoubleArrayAhoCorasickBuilder;

    fn serialised(patterns: &[&[u8]]) -> Serialised {
        let da: DoubleArrayAhoCorasick<u32> = DoubleArrayAhoCorasickBuilder::new()
            .use_prefilter(false)
            .build(patterns)
            .unwrap();
        (key_of(patterns), da.serialize())
    }

    fn finds(da: &DoubleArrayAhoCorasick<u32>, hay: &str) -> Vec<(usize, usize, u32)> {
        da.find_overlapping_iter(hay)
            .map(|m| (m.start(), m.end(), m.value()))
            .collect()
    }

    #[test]
    fn keys_tell_lists_apart() {
        assert_ne!(key_of(&[b"ab", b"c"]), key_of(&[b"a", b"bc"]));
        assert_ne!(key_of(&[b"ab"]), key_of(&[b"ab", b""]));
        assert_eq!(key_of(&[b"ab", b"c"]), key_of(&[b"ab", b"c"]));
    }

    #[test]
    fn stored_automata_read_back_and_grow() {
        let dir = tempfile::tempdir().unwrap();
        assert!(StoredAutomata::open(dir.path(), "k").unwrap().is_none());
        let one = serialised(&[b"mimikatz", b"kiwi"]);
        write(dir.path(), "k", None, std::slice::from_ref(&one)).unwrap();
        let stored = StoredAutomata::open(dir.path(), "k").unwrap().unwrap();
        let da = stored.automaton(&one.0).unwrap().unwrap();
        assert_eq!(finds(&da, "x mimikatz kiwi"), vec![(2, 10, 0), (11, 15, 1)]);
        // A later hunt adds its automata to those stored.
        let two = serialised(&[b"vssadmin"]);
        write(dir.path(), "k", Some(&stored), std::slice::from_ref(&two)).unwrap();
        let stored = StoredAutomata::open(dir.path(), "k").unwrap().unwrap();
        assert!(stored.automaton(&one.0).unwrap().is_ok());
        assert!(stored.automaton(&two.0).unwrap().is_ok());
        assert!(stored.automaton(&key_of(&[b"other"])).is_none());
    }

    proptest::proptest! {
        /// Any bytes after a valid start: an index whose entries all lie in
        /// the file, or none; and automata that decode or are refused,
        /// never a panic.
        #[test]
        fn any_body_reads_as_an_index_or_none(
            count in 0u32..4,
            rest in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
        ) {
            let mut body = vec![0u8; 7];
            body.extend((FORMAT.len() as u32).to_le_bytes());
            body.extend(FORMAT);
            body.extend(count.to_le_bytes());
            body.extend(&rest);
            if let Some(index) = read_index(&body, 7) {
                for range in index.values() {
                    proptest::prop_assert!(range.start >= 7 && range.end <= body.len());
                    let _ = DoubleArrayAhoCorasick::<u32>::deserialize(&body[range.clone()]);
                }
            }
        }
    }

    #[test]
    fn damaged_files_and_automata_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let one = serialised(&[b"mimikatz", b"kiwi"]);
        write(dir.path(), "k", None, std::slice::from_ref(&one)).unwrap();
        let path = dir.path().join("k.siga");
        let good = std::fs::read(&path).unwrap();
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        let why = StoredAutomata::open(dir.path(), "k").err().unwrap();
        assert!(why.contains("checksum mismatch"), "{why}");
        std::fs::write(&path, &good[..good.len() - 3]).unwrap();
        assert!(StoredAutomata::open(dir.path(), "k").is_err());
        // An automaton whose bytes verify but do not decode is refused
        // when it is needed, not trusted.
        let garbage = (one.0, vec![0xff; 40]);
        write(dir.path(), "k", None, &[garbage]).unwrap();
        let stored = StoredAutomata::open(dir.path(), "k").unwrap().unwrap();
        let why = stored.automaton(&one.0).unwrap().err().unwrap();
        assert!(why.contains("does not read back"), "{why}");
    }
}
