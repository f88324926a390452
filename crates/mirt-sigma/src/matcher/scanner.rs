//! The literal scanners of a bucket: one Aho-Corasick automaton per field
//! (and case mode). The automaton holds only the first [`HEAD_MAX`] bytes
//! of each literal; the rest is compared where a head was found. Long
//! literals (hash lists, full paths) would otherwise make automata that
//! cost more to build than the scans of a typical evidence set, and the
//! comparison after a head is rare and short.

use super::automata::Automata;
use crate::compile::pattern::Pos;
use aho_corasick::AhoCorasick;
use std::sync::Arc;

/// Literals are searched by their first this many bytes.
pub(crate) const HEAD_MAX: usize = 12;

/// An atom that stands for a literal: where the literal must occur.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place {
    /// The atom's number in the catalog.
    pub atom: u32,
    pub pos: Pos,
    /// The atom's number in the bucket.
    pub local: u32,
}

/// The atoms of one literal.
pub(crate) type AtomPlaces = Vec<Place>;

/// A literal whose head the automaton finds: the bytes after the head,
/// and its atoms.
pub(crate) struct Tail {
    rest: Box<[u8]>,
    pub places: AtomPlaces,
}

/// One automaton over the heads of the literals of one field.
pub(crate) struct Scanner {
    pub slot: u16,
    /// Whether the literals are matched as written (else in lower case).
    pub cased: bool,
    ac: Arc<AhoCorasick>,
    /// Per automaton pattern (a head): the literals that start with it.
    tails: Vec<Vec<Tail>>,
}

/// The literals of one field and case mode with their atoms, in text
/// order.
pub(crate) type Literals<'a> = Vec<(&'a str, AtomPlaces)>;

impl Scanner {
    /// A scanner over `literals`, its automaton from (and for)
    /// `automata`; `None` if the automaton cannot be built.
    pub(crate) fn build(
        slot: u16,
        cased: bool,
        literals: Literals<'_>,
        automata: &Automata,
    ) -> Option<Scanner> {
        let mut heads: Vec<&[u8]> = Vec::new();
        let mut tails: Vec<Vec<Tail>> = Vec::new();
        // In text order, the literals that share a head are adjacent.
        for (text, places) in literals {
            let (head, rest) = text.as_bytes().split_at(text.len().min(HEAD_MAX));
            if heads.last() != Some(&head) {
                heads.push(head);
                tails.push(Vec::new());
            }
            if let Some(last) = tails.last_mut() {
                last.push(Tail {
                    rest: rest.into(),
                    places,
                });
            }
        }
        let ac = automata.get(&heads)?;
        Some(Scanner {
            slot,
            cased,
            ac,
            tails,
        })
    }

    /// Calls `found` with each literal found in `hay` (in the scanner's
    /// case mode already), with its start and end, overlapping matches
    /// included.
    pub(crate) fn find(&self, hay: &str, mut found: impl FnMut(&AtomPlaces, usize, usize)) {
        let bytes = hay.as_bytes();
        for m in self.ac.find_overlapping_iter(bytes) {
            let mut tails = self.tails[m.pattern().as_usize()].as_slice();
            // The literal that is the head alone sorts first.
            if let [t, rest @ ..] = tails
                && t.rest.is_empty()
            {
                found(&t.places, m.start(), m.end());
                tails = rest;
            }
            let after = &bytes[m.end()..];
            let Some(&next) = after.first() else { continue };
            // The tails are in order: only those starting with the next
            // byte are compared (heads like `c:\windows\s` start many).
            let from = tails.partition_point(|t| t.rest.first() < Some(&next));
            for t in tails[from..]
                .iter()
                .take_while(|t| t.rest.first() == Some(&next))
            {
                if after.starts_with(&t.rest) {
                    found(&t.places, m.start(), m.end() + t.rest.len());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner(literals: &[&str], automata: &Automata) -> Scanner {
        let mut map: Literals<'_> = literals
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let place = Place {
                    atom: i as u32,
                    pos: Pos::Contains,
                    local: i as u32,
                };
                (*l, vec![place])
            })
            .collect();
        map.sort_by_key(|(l, _)| *l);
        Scanner::build(0, false, map, automata).unwrap()
    }

    fn found(sc: &Scanner, hay: &str) -> Vec<(u32, usize, usize)> {
        let mut out = Vec::new();
        sc.find(hay, |places, start, end| {
            out.extend(places.iter().map(|p| (p.atom, start, end)));
        });
        out.sort_unstable();
        out
    }

    #[test]
    fn long_literals_are_found_by_head_and_rest() {
        let automata = Automata::default();
        let lits = [
            "imphash=0123456789abcdef",
            "imphash=0123456789abffff",
            "imphash=0123",
            "cmd.exe",
        ];
        let sc = scanner(&lits, &automata);
        // Three of the literals share their head: one automaton pattern.
        assert_eq!(sc.tails.iter().map(Vec::len).max(), Some(3));
        let hay = "md5=1,imphash=0123456789abcdef,x cmd.exe";
        assert_eq!(
            found(&sc, hay),
            vec![(0, 6, 30), (2, 6, 18), (3, 33, 40)],
            "{hay}"
        );
        // A head without its rest is no match.
        assert_eq!(found(&sc, "imphash=0123456789ab"), vec![(2, 0, 12)]);
    }

    #[test]
    fn overlapping_literals_are_all_found() {
        let automata = Automata::default();
        let sc = scanner(
            &["\\windows\\system32\\", "system32\\cmd.exe", "cmd"],
            &automata,
        );
        let hits = found(&sc, "c:\\windows\\system32\\cmd.exe");
        assert_eq!(hits, vec![(0, 2, 20), (1, 11, 27), (2, 20, 23)]);
    }

    #[test]
    fn many_literals_after_one_head() {
        let automata = Automata::default();
        let lits = [
            "c:\\windows\\system32\\cmd.exe",
            "c:\\windows\\system32\\",
            "c:\\windows\\syswow64\\",
            "c:\\windows\\services.exe",
            "c:\\windows\\s",
            "c:\\windows\\temp\\",
        ];
        let sc = scanner(&lits, &automata);
        let hits = found(&sc, "x c:\\windows\\system32\\cmd.exe");
        assert_eq!(hits, vec![(0, 2, 29), (1, 2, 22), (4, 2, 14)]);
        assert_eq!(found(&sc, "c:\\windows\\sys"), vec![(4, 0, 12)]);
    }
}
