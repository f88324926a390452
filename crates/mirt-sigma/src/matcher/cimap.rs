//! A small map keyed by strings compared without ASCII case, looked up by
//! `&str` without allocating (field and channel names of every event go
//! through it).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A hash of the ASCII-lowercased bytes, eight at a time (every field
/// name of every event is hashed: byte at a time, it was a tenth of the
/// time spent matching).
fn fold_hash(s: &str) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes = s.as_bytes();
    let mix = |h: u64, word: u64| (h.rotate_left(5) ^ lower8(word)).wrapping_mul(K);
    let mut h = bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(w);
        h = mix(h, u64::from_le_bytes(buf));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = mix(h, u64::from_le_bytes(buf));
    }
    // The multiplication leaves its entropy high; the table indexes low.
    h ^ (h >> 32)
}

/// The eight bytes of `x` in ASCII lower case: bytes `A`..=`Z` get 0x20.
fn lower8(x: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low7 = x & !HIGH;
    // Per byte, no carry across: the high bit says >= 'A' / > 'Z'.
    let from_a = low7.wrapping_add(0x3f3f_3f3f_3f3f_3f3f);
    let past_z = low7.wrapping_add(0x2525_2525_2525_2525);
    let upper = from_a & !past_z & !x & HIGH;
    x | (upper >> 2)
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
    fn eight_bytes_lowered_as_one_by_one() {
        let mut x: u64 = 0x0123_4567_89ab_cdef;
        for _ in 0..100_000 {
            // Every byte value, in every lane, in turn (xorshift).
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let want = u64::from_le_bytes(x.to_le_bytes().map(|b| b.to_ascii_lowercase()));
            assert_eq!(lower8(x), want, "{x:#x}");
        }
        for b in 0..=255u8 {
            let want = u64::from(b.to_ascii_lowercase()) << 40;
            assert_eq!(lower8(u64::from(b) << 40), want, "{b:#x}");
        }
    }

    #[test]
    fn lookup_ignores_ascii_case() {
        let mut m = CiMap::default();
        *m.get_or_insert_with("CommandLine", || 0) = 7;
        *m.get_or_insert_with("commandline", || 0) += 1;
        assert_eq!(m.get("COMMANDLINE"), Some(&8));
        assert_eq!(m.get("Image"), None);
        // Longer than a word, and not ASCII past the first word.
        *m.get_or_insert_with("Microsoft-Windows-Sysmon/Operational-Ä", || 0) = 3;
        assert_eq!(m.get("microsoft-windows-SYSMON/operational-Ä"), Some(&3));
        assert_eq!(m.get("microsoft-windows-SYSMON/operational-ä"), None);
    }
}
