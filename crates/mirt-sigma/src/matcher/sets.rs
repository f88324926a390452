//! Long value lists as one check. A test over many values (an
//! `Image|endswith:` with two hundred paths, a list of hashes) holds when
//! any of its literals is found; looking its atoms up one by one was the
//! largest part of evaluating candidate rules. When the catalog is built,
//! the literals of such a test become one numbered set, and the scanner
//! marks the sets of each atom it finds: the test is then one lookup.

use super::catalog::SlotProgram;
use crate::compile::pattern::Pattern;
use crate::compile::program::Check;
use std::collections::HashMap;

/// Tests with at least this many literals get a set; shorter lists are
/// cheaper to check than to mark.
const MIN_SET: usize = 4;

/// The sets of a catalog while it is built.
#[derive(Default)]
pub(crate) struct SetBuilder {
    ids: HashMap<Vec<u32>, u32>,
    /// (atom, set) pairs.
    pairs: Vec<(u32, u32)>,
}

impl SetBuilder {
    /// Rewrites the string tests of `program` that hold when any one of
    /// their patterns does (not `all`): their literals become one
    /// [`Pattern::AnyOf`], ahead of the patterns that are not literals.
    pub(crate) fn merge(&mut self, program: &mut SlotProgram) {
        for t in &mut program.tests {
            let Check::Strings {
                groups, all: false, ..
            } = &mut t.check
            else {
                continue;
            };
            let mut atoms: Vec<u32> = groups
                .iter()
                .flatten()
                .filter_map(|p| match p {
                    Pattern::Literal(a) => Some(*a),
                    _ => None,
                })
                .collect();
            if atoms.len() < MIN_SET {
                continue;
            }
            atoms.sort_unstable();
            atoms.dedup();
            let next = self.ids.len() as u32;
            let id = match self.ids.get(&atoms) {
                Some(&id) => id,
                None => {
                    self.pairs.extend(atoms.iter().map(|&a| (a, next)));
                    self.ids.insert(atoms, next);
                    next
                }
            };
            // Without `all`, the groups (values) and their patterns (forms)
            // are all linked with OR: one group holds them as well.
            let rest = groups
                .drain(..)
                .flatten()
                .filter(|p| !matches!(p, Pattern::Literal(_)));
            let merged = std::iter::once(Pattern::AnyOf(id)).chain(rest).collect();
            *groups = vec![merged];
        }
    }

    /// Per atom (of `atom_count`), the sets that hold it.
    pub(crate) fn finish(mut self, atom_count: usize) -> AtomSets {
        self.pairs.sort_unstable();
        let mut start = vec![0u32; atom_count + 1];
        for &(atom, _) in &self.pairs {
            start[atom as usize + 1] += 1;
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        AtomSets {
            start,
            list: self.pairs.into_iter().map(|(_, s)| s).collect(),
            count: self.ids.len() as u32,
        }
    }
}

/// Per atom, the sets ([`Pattern::AnyOf`]) that hold it.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct AtomSets {
    start: Vec<u32>,
    list: Vec<u32>,
    /// The number of sets.
    pub count: u32,
}

impl AtomSets {
    /// The sets that hold `atom` (none for an atom it does not know).
    pub(crate) fn of(&self, atom: u32) -> &[u32] {
        let i = atom as usize;
        match (self.start.get(i), self.start.get(i + 1)) {
            (Some(&from), Some(&to)) => self.list.get(from as usize..to as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// The sets `program` refers to.
pub(crate) fn sets_of(program: &SlotProgram, out: &mut Vec<u32>) {
    for t in &program.tests {
        if let Check::Strings { groups, .. } = &t.check {
            out.extend(groups.iter().flatten().filter_map(|p| match p {
                Pattern::AnyOf(s) => Some(*s),
                _ => None,
            }));
        }
    }
}
