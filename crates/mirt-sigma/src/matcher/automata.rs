//! The Aho-Corasick automata of a matcher, shared between its buckets:
//! buckets often scan a field for the same literals (the rules of one log
//! source under the channels it maps to, keyword rules in every route), and
//! building an automaton costs more than the scans of a typical evidence
//! set. Automata are double-array automata (daachorse), which scan faster
//! than aho-corasick's NFA and can be stored: those built in one hunt are
//! kept beside the cached rule set ([`crate::cache::automata`]) and read
//! back by the next, instead of built again.

use crate::cache::automata::{Key, Serialised, StoredAutomata};
use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind, packed};
use daachorse::{DoubleArrayAhoCorasick, DoubleArrayAhoCorasickBuilder};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Sets of at most this many literals get a [`Search::gate`] (Teddy takes
/// no more; its own limit of 64 is for leftmost search, where a miss costs
/// more than here).
const GATE_MAX: usize = 128;

/// One occurrence of a literal: its number in the set, where it starts
/// and ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Found {
    pub pattern: usize,
    pub start: usize,
    pub end: usize,
}

enum Engine {
    /// A double-array automaton: every set daachorse accepts.
    Double(DoubleArrayAhoCorasick<u32>),
    /// aho-corasick's contiguous NFA, for a set daachorse refuses (not
    /// stored).
    Nfa(AhoCorasick),
}

/// An automaton over a set of literals, and for small sets a SIMD
/// searcher (Teddy) that tells first whether any of them occurs at all.
/// Overlapping search cannot use Teddy itself, and most values hold none
/// of the literals: the keyword rules that apply to every Windows event,
/// for one, are searched in every event's text and found in almost none.
pub(crate) struct Search {
    engine: Engine,
    gate: Option<packed::Searcher>,
}

impl Search {
    /// Calls `found` with every occurrence of every literal in `hay`,
    /// overlapping ones included.
    pub(crate) fn find_overlapping(&self, hay: &[u8], mut found: impl FnMut(Found)) {
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
        match &self.engine {
            Engine::Double(da) => {
                for m in da.find_overlapping_iter(&hay[from..]) {
                    found(Found {
                        pattern: m.value() as usize,
                        start: m.start() + from,
                        end: m.end() + from,
                    });
                }
            }
            Engine::Nfa(ac) => {
                for m in ac.find_overlapping_iter(Input::new(hay).span(from..hay.len())) {
                    found(Found {
                        pattern: m.pattern().as_usize(),
                        start: m.start(),
                        end: m.end(),
                    });
                }
            }
        }
    }

    /// The search over `patterns` with `engine`, and its gate.
    fn new(patterns: &[&[u8]], engine: Engine) -> Search {
        let gate = (patterns.len() <= GATE_MAX && patterns.iter().all(|p| !p.is_empty()))
            .then(|| {
                packed::Config::new()
                    .heuristic_pattern_limits(false)
                    .builder()
                    .extend(patterns)
                    .build()
            })
            .flatten();
        Search { engine, gate }
    }
}

/// An automaton of the map, and whether it was built in this run (rather
/// than read from the stored automata).
struct Entry {
    search: Arc<Search>,
    built_here: bool,
}

/// Automata by (the hash of) their literals, and the automata stored by
/// earlier hunts with the same rule set.
#[derive(Default)]
pub(crate) struct Automata {
    map: Mutex<HashMap<Key, Entry>>,
    stored: Option<StoredAutomata>,
    /// Why a stored automaton could not be used (it was built instead).
    problem: Mutex<Option<String>>,
}

impl Automata {
    /// Automata that read those of `stored` when they are needed.
    pub(crate) fn with_stored(stored: Option<StoredAutomata>) -> Automata {
        Automata {
            stored,
            ..Automata::default()
        }
    }

    /// The automaton over `patterns` (standard overlapping semantics): an
    /// identical one made before, a stored one, or a new one; `None` if it
    /// cannot be built.
    pub(crate) fn get(&self, patterns: &[&[u8]]) -> Option<Arc<Search>> {
        let key = crate::cache::automata::key_of(patterns);
        if let Some(e) = self.lock().get(&key) {
            return Some(Arc::clone(&e.search));
        }
        // Read or built outside the lock: buckets are assembled in parallel.
        let (engine, built_here) = match self.read_stored(&key) {
            Some(da) => (Engine::Double(da), false),
            None => (build(patterns)?, true),
        };
        let search = Arc::new(Search::new(patterns, engine));
        let mut map = self.lock();
        let e = map.entry(key).or_insert(Entry { search, built_here });
        Some(Arc::clone(&e.search))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The stored automaton of `key`, if there is one that reads back.
    fn read_stored(&self, key: &Key) -> Option<DoubleArrayAhoCorasick<u32>> {
        match self.stored.as_ref()?.automaton(key)? {
            Ok(da) => Some(da),
            Err(why) => {
                let mut problem = self.problem.lock().unwrap_or_else(PoisonError::into_inner);
                problem.get_or_insert(why);
                None
            }
        }
    }

    /// How many automata were read from the stored ones, and how many
    /// built.
    #[cfg(test)]
    pub(crate) fn origins(&self) -> (usize, usize) {
        let map = self.lock();
        let built = map.values().filter(|e| e.built_here).count();
        (map.len() - built, built)
    }

    /// Why a stored automaton could not be used, if one could not.
    pub(crate) fn problem(&self) -> Option<String> {
        self.problem
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The stored automata, and the double-array automata built in this
    /// run (serialised), when there are any of those: what the next run
    /// should find stored.
    pub(crate) fn to_store(&self) -> Option<(Option<&StoredAutomata>, Vec<Serialised>)> {
        let map = self.lock();
        let mut new: Vec<Serialised> = map
            .iter()
            .filter(|(_, e)| e.built_here)
            .filter_map(|(k, e)| match &e.search.engine {
                Engine::Double(da) => Some((*k, da.serialize())),
                Engine::Nfa(_) => None,
            })
            .collect();
        if new.is_empty() && self.problem().is_none() {
            return None;
        }
        new.sort_unstable_by_key(|(k, _)| *k);
        Some((self.stored.as_ref(), new))
    }
}

/// A double-array automaton over `patterns`, or aho-corasick's contiguous
/// NFA for a set daachorse does not take as it is (an empty literal, or
/// one twice, which it would report once; the scanners give neither). The
/// Teddy gate is added by [`Search::new`].
fn build(patterns: &[&[u8]]) -> Option<Engine> {
    if !patterns.iter().any(|p| p.is_empty())
        && distinct(patterns)
        && let Ok(da) = DoubleArrayAhoCorasickBuilder::new()
            .use_prefilter(false)
            .build(patterns)
    {
        return Some(Engine::Double(da));
    }
    AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .build(patterns)
        .ok()
        .map(Engine::Nfa)
}

/// Whether no literal is there twice (the scanners' come sorted).
fn distinct(patterns: &[&[u8]]) -> bool {
    if patterns.windows(2).all(|w| w[0] < w[1]) {
        return true;
    }
    let mut seen = std::collections::HashSet::with_capacity(patterns.len());
    patterns.iter().all(|p| seen.insert(*p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_daachorse_refuses_get_the_nfa() {
        let refused: [&[&[u8]]; 3] = [&[b"a", b""], &[b"ab", b"ab"], &[b"b", b"ab", b"b"]];
        for patterns in refused {
            let search = search(patterns);
            assert!(matches!(search.engine, Engine::Nfa(_)));
            assert_eq!(all(&search, b"xab"), plain(patterns, b"xab"));
        }
        let unsorted: [&[u8]; 2] = [b"b", b"ab"];
        assert!(matches!(search(&unsorted).engine, Engine::Double(_)));
    }

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
        search.find_overlapping(hay, |m| out.push((m.pattern, m.start, m.end)));
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

    fn search(patterns: &[&[u8]]) -> Search {
        Search::new(patterns, build(patterns).unwrap())
    }

    #[test]
    fn the_gate_passes_every_occurrence() {
        let patterns: [&[u8]; 5] = [b"kiwi", b"sekurlsa::", b"a::b", b"::", b"wiki"];
        let search = search(&patterns);
        assert!(search.gate.is_some());
        assert!(matches!(search.engine, Engine::Double(_)));
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

    /// The double-array search over `patterns` (with a gate or not, as
    /// `gated` says it must be) finds in `hay` what aho-corasick finds.
    fn same_as_aho_corasick(
        patterns: &std::collections::BTreeSet<String>,
        hay: &str,
        gated: bool,
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        let patterns: Vec<&[u8]> = patterns.iter().map(|p| p.as_bytes()).collect();
        let search = search(&patterns);
        proptest::prop_assert!(matches!(search.engine, Engine::Double(_)));
        proptest::prop_assert_eq!(search.gate.is_some(), gated);
        proptest::prop_assert_eq!(
            all(&search, hay.as_bytes()),
            plain(&patterns, hay.as_bytes())
        );
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn gated_search_equals_the_automaton(
            patterns in proptest::collection::btree_set("[ab:]{1,4}", 1..20),
            hay in "[abc:]{0,200}",
        ) {
            same_as_aho_corasick(&patterns, &hay, true)?;
        }

        /// Sets over more literals than a gate takes: the double-array
        /// automaton alone, against aho-corasick's.
        #[test]
        fn the_double_array_automaton_equals_aho_corasick(
            patterns in proptest::collection::btree_set("[ab:.]{1,6}", 129..300),
            hay in "[abc:.]{0,300}",
        ) {
            same_as_aho_corasick(&patterns, &hay, false)?;
        }
    }
}
