//! The literal scanners of a bucket: one Aho-Corasick automaton per field
//! (and case mode). The automaton holds only the first [`HEAD_MAX`] bytes
//! of each literal; the rest is compared where a head was found. Long
//! literals (hash lists, full paths) would otherwise make automata that
//! cost more to build than the scans of a typical evidence set, and the
//! comparison after a head is rare and short.

use super::automata::{Automata, Search};
use crate::compile::pattern::Pos;
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

/// A literal whose head the automaton finds: where the bytes after its
/// head and its atoms are in the scanner's flat lists (one allocation per
/// scanner, not two per literal: buckets hold tens of thousands).
struct Tail {
    rest: (u32, u32),
    places: (u32, u32),
}

/// One automaton over the heads of the literals of one field.
pub(crate) struct Scanner {
    pub slot: u16,
    /// Whether the literals are matched as written (else in lower case).
    pub cased: bool,
    ac: Arc<Search>,
    /// Per automaton pattern (a head), where its literals start in
    /// `tails` (one more entry at the end).
    groups: Vec<u32>,
    tails: Vec<Tail>,
    bytes: Vec<u8>,
    places: Vec<Place>,
}

/// The literals of one field and case mode with their atoms, in text
/// order; the atoms of one text adjacent.
pub(crate) type Literals<'a> = Vec<(&'a str, Place)>;

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
        let mut groups: Vec<u32> = Vec::new();
        let mut tails: Vec<Tail> = Vec::new();
        let mut bytes: Vec<u8> = Vec::new();
        let mut places: Vec<Place> = Vec::new();
        let mut last: Option<&str> = None;
        // In text order, the literals that share a head are adjacent.
        for (text, place) in literals {
            places.push(place);
            let end = places.len() as u32;
            if last == Some(text)
                && let Some(t) = tails.last_mut()
            {
                t.places.1 = end;
                continue;
            }
            last = Some(text);
            let (head, rest) = text.as_bytes().split_at(text.len().min(HEAD_MAX));
            if heads.last() != Some(&head) {
                heads.push(head);
                groups.push(tails.len() as u32);
            }
            let from = bytes.len() as u32;
            bytes.extend_from_slice(rest);
            tails.push(Tail {
                rest: (from, bytes.len() as u32),
                places: (end - 1, end),
            });
        }
        groups.push(tails.len() as u32);
        Some(Scanner {
            slot,
            cased,
            ac: automata.get(&heads)?,
            groups,
            tails,
            bytes,
            places,
        })
    }

    fn rest(&self, t: &Tail) -> &[u8] {
        &self.bytes[t.rest.0 as usize..t.rest.1 as usize]
    }

    /// Calls `found` with the atoms of each literal found in `hay` (in the
    /// scanner's case mode already), with its start and end, overlapping
    /// matches included.
    pub(crate) fn find(&self, hay: &str, mut found: impl FnMut(&[Place], usize, usize)) {
        let bytes = hay.as_bytes();
        self.ac.find_overlapping(bytes, |m| {
            let g = m.pattern;
            let mut tails = &self.tails[self.groups[g] as usize..self.groups[g + 1] as usize];
            let places = |t: &Tail| &self.places[t.places.0 as usize..t.places.1 as usize];
            // The literal that is the head alone sorts first.
            if let [t, rest @ ..] = tails
                && t.rest.0 == t.rest.1
            {
                found(places(t), m.start, m.end);
                tails = rest;
            }
            let after = &bytes[m.end..];
            let Some(&next) = after.first() else { return };
            // The tails are in order: only those starting with the next
            // byte are compared (heads like `c:\windows\s` start many).
            let from = tails.partition_point(|t| self.rest(t).first() < Some(&next));
            for t in tails[from..]
                .iter()
                .take_while(|t| self.rest(t).first() == Some(&next))
            {
                let rest = self.rest(t);
                if after.starts_with(rest) {
                    found(places(t), m.start, m.end + rest.len());
                }
            }
        });
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
                (*l, place)
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
        assert_eq!(sc.groups.windows(2).map(|w| w[1] - w[0]).max(), Some(3));
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
