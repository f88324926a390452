//! A bucket: the rules that can match one (channel, event id), with the
//! slots to resolve, one Aho-Corasick scanner per field over their atoms,
//! and the atoms each rule cannot match without (its prefilter). Built
//! from the [`Catalog`]'s numbers: sorting and grouping integers.

use super::access::Header;
use super::automata::Automata;
use super::catalog::{Catalog, Compiled, SlotProgram};
use super::cimap::CiMap;
use super::scanner::{Literals, Place, Scanner};
use super::sets::sets_of;
use std::sync::Arc;

/// One compiled rule variant inside a bucket.
pub(crate) struct BucketRule {
    /// Index of the variant in the matcher.
    pub variant: u32,
    compiled: Arc<Compiled>,
}

impl BucketRule {
    pub(crate) fn program(&self) -> &SlotProgram {
        &self.compiled.program
    }

    /// The provider the event must come from, if any.
    pub(crate) fn provider(&self) -> Option<&str> {
        self.compiled.provider.as_deref()
    }
}

pub(crate) struct Bucket {
    /// The bucket's field names -> their slots.
    pub index: CiMap<u16>,
    /// The bucket's slots that name header fields.
    pub headers: Vec<(u16, Header)>,
    /// [`length_bit`]s of the slot names.
    pub name_lengths: u64,
    pub scanners: Vec<Scanner>,
    /// The catalog's number of slots and atoms (the size of the scratch).
    pub slot_count: usize,
    pub atom_count: usize,
    pub rules: Vec<BucketRule>,
    /// Rules without a prefilter: evaluated on every event.
    pub always: Vec<u32>,
    /// Per local atom (index of [`Place::local`]), the range of
    /// `rule_list` holding the rules (indices into `rules`) that need it.
    rule_start: Vec<u32>,
    rule_list: Vec<u32>,
    /// The catalog's number of literal sets, and per local atom the range
    /// of `set_list` holding the sets of the bucket's rules it is in.
    pub set_count: usize,
    set_start: Vec<u32>,
    set_list: Vec<u32>,
}

impl Bucket {
    /// Assembles the bucket of `members` (variant indices, ascending),
    /// with automata from (and for) `automata`.
    pub(crate) fn build(members: &[u32], catalog: &Catalog, automata: &Automata) -> Bucket {
        let rules: Vec<BucketRule> = members
            .iter()
            .map(|&v| BucketRule {
                variant: v,
                compiled: Arc::clone(&catalog.compiled[v as usize]),
            })
            .collect();
        let atoms = union(rules.iter().map(|r| &r.compiled.atoms));
        let slots = union(rules.iter().map(|r| &r.compiled.slots));
        let (always, rule_start, rule_list) = prefilter(&rules, &atoms);
        let mut index = CiMap::default();
        let mut headers = Vec::new();
        let mut name_lengths = 0;
        for &s in &slots {
            let Some(name) = catalog.slot_names.get(s as usize) else {
                continue;
            };
            *index.get_or_insert_with(name, || s) = s;
            name_lengths |= length_bit(name);
            if let Some(h) = catalog.slot_headers[s as usize] {
                headers.push((s, h));
            }
        }
        let (set_start, set_list) = local_sets(&rules, &atoms, catalog);
        Bucket {
            set_count: catalog.sets.count as usize,
            set_start,
            set_list,
            index,
            headers,
            name_lengths,
            scanners: scanners(&atoms, catalog, automata),
            slot_count: catalog.slot_names.len(),
            atom_count: catalog.atoms.len(),
            rules,
            always,
            rule_start,
            rule_list,
        }
    }

    /// The literal sets (of the bucket's rules) that hold the atom of
    /// local number `local`.
    pub(crate) fn sets_of(&self, local: u32) -> &[u32] {
        let i = local as usize;
        &self.set_list[self.set_start[i] as usize..self.set_start[i + 1] as usize]
    }

    /// The rules that need the atom of local number `local`.
    pub(crate) fn rules_of(&self, local: u32) -> &[u32] {
        let i = local as usize;
        &self.rule_list[self.rule_start[i] as usize..self.rule_start[i + 1] as usize]
    }
}

/// The sorted union of sorted lists.
fn union<'a, T: Ord + Copy + 'a>(lists: impl Iterator<Item = &'a Vec<T>>) -> Vec<T> {
    let mut all: Vec<T> = lists.flatten().copied().collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// The rules without a prefilter, and per local atom (index in `atoms`)
/// the rules whose prefilter holds it.
fn prefilter(rules: &[BucketRule], atoms: &[u32]) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let mut always = Vec::new();
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        match &r.compiled.must {
            None => always.push(i as u32),
            Some(must) => pairs.extend(must.iter().filter_map(|a| {
                let local = atoms.binary_search(a).ok()?;
                Some((local as u32, i as u32))
            })),
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut start = vec![0u32; atoms.len() + 1];
    for (local, _) in &pairs {
        start[*local as usize + 1] += 1;
    }
    for i in 1..start.len() {
        start[i] += start[i - 1];
    }
    (always, start, pairs.into_iter().map(|(_, r)| r).collect())
}

/// Per local atom (index in `atoms`), the range of the list of the
/// literal sets of `rules` that hold it.
fn local_sets(rules: &[BucketRule], atoms: &[u32], catalog: &Catalog) -> (Vec<u32>, Vec<u32>) {
    let mut used = Vec::new();
    for r in rules {
        sets_of(r.program(), &mut used);
    }
    used.sort_unstable();
    used.dedup();
    let mut start = Vec::with_capacity(atoms.len() + 1);
    let mut list = Vec::new();
    start.push(0);
    if !used.is_empty() {
        for &a in atoms {
            list.extend(
                catalog
                    .sets
                    .of(a)
                    .iter()
                    .filter(|s| used.binary_search(s).is_ok()),
            );
            start.push(list.len() as u32);
        }
    } else {
        start.resize(atoms.len() + 1, 0);
    }
    (start, list)
}

/// A bit for the length of a field name (lengths of 63 and more share one).
pub(crate) fn length_bit(name: &str) -> u64 {
    1 << name.len().min(63)
}

/// One scanner per field (and case mode) over the bucket's atoms for it.
/// The atoms are sorted by (slot, cased, text, pos): each scanner's are a
/// run, and the positions of one text are adjacent in it.
fn scanners(atoms: &[u32], catalog: &Catalog, automata: &Automata) -> Vec<Scanner> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < atoms.len() {
        let first = &catalog.atoms[atoms[i] as usize];
        let mut literals: Literals<'_> = Vec::new();
        while let Some(&a) = atoms.get(i) {
            let atom = &catalog.atoms[a as usize];
            if (atom.slot, atom.cased) != (first.slot, first.cased) {
                break;
            }
            let place = Place {
                atom: a,
                pos: atom.pos,
                local: i as u32,
            };
            literals.push((&catalog.texts[atom.text as usize], place));
            i += 1;
        }
        out.extend(Scanner::build(first.slot, first.cased, literals, automata));
    }
    out
}
