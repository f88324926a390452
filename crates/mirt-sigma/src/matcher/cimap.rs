//! A small map keyed by strings compared without ASCII case, looked up by
//! `&str` without allocating (field and channel names of every event go
//! through it).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a over the ASCII-lowercased bytes.
fn fold_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The keys are hashes already: pass them through.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Entry<V> = (Box<str>, V);

/// Case-insensitive (ASCII) string map.
#[derive(Debug, Clone)]
pub(crate) struct CiMap<V> {
    buckets: HashMap<u64, Vec<Entry<V>>, BuildHasherDefault<Identity>>,
}

impl<V> Default for CiMap<V> {
    fn default() -> Self {
        CiMap {
            buckets: HashMap::default(),
        }
    }
}

impl<V> CiMap<V> {
    /// The value for `key`, ignoring ASCII case.
    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.buckets
            .get(&fold_hash(key))?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    /// The value for `key`, inserted with `make` when absent.
    pub(crate) fn get_or_insert_with(&mut self, key: &str, make: impl FnOnce() -> V) -> &mut V {
        let list = self.buckets.entry(fold_hash(key)).or_default();
        let i = match list.iter().position(|(k, _)| k.eq_ignore_ascii_case(key)) {
            Some(i) => i,
            None => {
                list.push((key.into(), make()));
                list.len() - 1
            }
        };
        &mut list[i].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_ignores_ascii_case() {
        let mut m = CiMap::default();
        *m.get_or_insert_with("CommandLine", || 0) = 7;
        *m.get_or_insert_with("commandline", || 0) += 1;
        assert_eq!(m.get("COMMANDLINE"), Some(&8));
        assert_eq!(m.get("Image"), None);
    }
}
