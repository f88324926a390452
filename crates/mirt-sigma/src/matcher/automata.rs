//! The Aho-Corasick automata of a matcher, shared between its buckets:
//! buckets often scan a field for the same literals (the rules of one log
//! source under the channels it maps to, keyword rules in every route), and
//! building an automaton costs more than the scans of a typical evidence
//! set.

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, Match, MatchKind, packed};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

type Entry = (Box<[Box<[u8]>]>, Arc<Search>);

/// Sets of at most this many literals get a [`Search::gate`] (Teddy takes
/// no more; its own limit of 64 is for leftmost search, where a miss costs
/// more than here).
const GATE_MAX: usize = 128;

/// An automaton over a set of literals, and for small sets a SIMD
/// searcher (Teddy) that tells first whether any of them occurs at all.
/// Overlapping search cannot use Teddy itself, and most values hold none
/// of the literals: the keyword rules that apply to every Windows event,
/// for one, are searched in every event's text and found in almost none.
pub(crate) struct Search {
    ac: AhoCorasick,
    gate: Option<packed::Searcher>,
}

impl Search {
    /// Calls `found` with every occurrence of every literal in `hay`,
    /// overlapping ones included.
    pub(crate) fn find_overlapping(&self, hay: &[u8], mut found: impl FnMut(Match)) {
        let mut from = 0;
        if let Some(gate) = &self.gate
            && hay.len() >= gate.minimum_len()
        {
            // The leftmost occurrence of any literal: no occurrence starts
            // before it.
            match gate.find(hay) {
                None => return,
                Some(m) => from = m.start(),
            }
        }
        let input = Input::new(hay).span(from..hay.len());
        for m in self.ac.find_overlapping_iter(input) {
            found(m);
        }
    }
}

/// Automata by their literals.
#[derive(Default)]
pub(crate) struct Automata {
    built: Mutex<HashMap<u64, Vec<Entry>>>,
}

impl Automata {
    /// The automaton over `patterns` (standard overlapping semantics),
    /// built unless an identical one exists; `None` if it cannot be built.
    pub(crate) fn get(&self, patterns: &[&[u8]]) -> Option<Arc<Search>> {
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

    fn find(&self, key: u64, patterns: &[&[u8]]) -> Option<Arc<Search>> {
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
/// (`benches/hunt`, 2026-11-26). Nor did DFAs pay that were built only for
/// automata that had scanned many bytes (about 16 per byte of literals):
/// the builds cost as many instructions as the scans saved (2026-11-27).
fn build(patterns: &[&[u8]]) -> Option<Search> {
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .build(patterns)
        .ok()?;
    let gate = (patterns.len() <= GATE_MAX && patterns.iter().all(|p| !p.is_empty()))
        .then(|| {
            packed::Config::new()
                .heuristic_pattern_limits(false)
                .builder()
                .extend(patterns)
                .build()
        })
        .flatten();
    Some(Search { ac, gate })
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
        let mut n = 0;
        a.find_overlapping(b"x powershell", |_| n += 1);
        assert_eq!(n, 1);
    }

    fn all(search: &Search, hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        search.find_overlapping(hay, |m| {
            out.push((m.pattern().as_usize(), m.start(), m.end()))
        });
        out.sort_unstable();
        out
    }

    fn plain(patterns: &[&[u8]], hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(patterns)
            .unwrap();
        let mut out: Vec<_> = ac
            .find_overlapping_iter(hay)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect();
        out.sort_unstable();
        out
    }

    #[test]
    fn the_gate_passes_every_occurrence() {
        let patterns: [&[u8]; 5] = [b"kiwi", b"sekurlsa::", b"a::b", b"::", b"wiki"];
        let search = build(&patterns).unwrap();
        assert!(search.gate.is_some());
        let hay = b"this text is longer than teddy's minimum: sekurlsa::kiwiki a::b";
        let found = all(&search, hay);
        assert_eq!(found, plain(&patterns, hay));
        assert_eq!(found.len(), 6, "{found:?}");
        // Nothing before the first occurrence is lost, nothing after it.
        assert_eq!(
            all(&search, b"kiwi and then a long tail with nothing else"),
            vec![(0, 0, 4)]
        );
        assert!(
            all(
                &search,
                b"a long text that holds none of the literals at all"
            )
            .is_empty()
        );
        // Short texts go straight to the automaton.
        assert_eq!(all(&search, b"::"), vec![(3, 0, 2)]);
    }

    proptest::proptest! {
        #[test]
        fn gated_search_equals_the_automaton(
            patterns in proptest::collection::vec("[ab:]{1,4}", 1..20),
            hay in "[abc:]{0,200}",
        ) {
            let patterns: Vec<&[u8]> = patterns.iter().map(|p| p.as_bytes()).collect();
            let search = build(&patterns).unwrap();
            proptest::prop_assert_eq!(all(&search, hay.as_bytes()), plain(&patterns, hay.as_bytes()));
        }
    }
}
