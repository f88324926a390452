//! The Aho-Corasick automata of a matcher, shared between its buckets:
//! buckets often scan a field for the same literals (the rules of one log
//! source under the channels it maps to, keyword rules in every route), and
//! building an automaton costs more than the scans of a typical evidence
//! set.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

type Entry = (Box<[Box<[u8]>]>, Arc<AhoCorasick>);

/// Automata by their literals.
#[derive(Default)]
pub(crate) struct Automata {
    built: Mutex<HashMap<u64, Vec<Entry>>>,
}

impl Automata {
    /// The automaton over `patterns` (standard overlapping semantics),
    /// built unless an identical one exists; `None` if it cannot be built.
    pub(crate) fn get(&self, patterns: &[&[u8]]) -> Option<Arc<AhoCorasick>> {
        let key = {
            let mut h = DefaultHasher::new();
            patterns.hash(&mut h);
            h.finish()
        };
        if let Some(found) = self.find(key, patterns) {
            return Some(found);
        }
        // Built outside the lock: buckets are assembled in parallel.
        let ac = Arc::new(build(patterns)?);
        let mut built = self.built.lock().unwrap_or_else(PoisonError::into_inner);
        let list = built.entry(key).or_default();
        if let Some((_, other)) = list.iter().find(|(p, _)| same(p, patterns)) {
            return Some(Arc::clone(other));
        }
        let owned = patterns.iter().map(|p| Box::from(*p)).collect();
        list.push((owned, Arc::clone(&ac)));
        Some(ac)
    }

    fn find(&self, key: u64, patterns: &[&[u8]]) -> Option<Arc<AhoCorasick>> {
        let built = self.built.lock().unwrap_or_else(PoisonError::into_inner);
        built
            .get(&key)?
            .iter()
            .find(|(p, _)| same(p, patterns))
            .map(|(_, ac)| Arc::clone(ac))
    }
}

fn same(a: &[Box<[u8]>], b: &[&[u8]]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| **x == **y)
}

/// Every automaton is a contiguous NFA. DFAs scan a little faster, but a
/// hunt builds hundreds of automata and scans each over only the events of
/// its route: with the full SigmaHQ set over the corpus, DFAs for sets of up
/// to 100 literals cost about 100 ms more CPU in all than they saved
/// (`benches/hunt`, 2026-11-27).
fn build(patterns: &[&[u8]]) -> Option<AhoCorasick> {
    AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .build(patterns)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_literals_share_one_automaton() {
        let automata = Automata::default();
        let two: [&[u8]; 2] = [b"cmd.exe", b"powershell"];
        let a = automata.get(&two).unwrap();
        let b = automata.get(&two).unwrap();
        let c = automata.get(&two[..1]).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(a.find_overlapping_iter("x powershell").count(), 1);
    }
}
