//! A bucket: the rules that can match one (channel, event id), with their
//! fields resolved to slots and their literals to atoms found by one
//! Aho-Corasick scan per field, and the atoms each rule cannot match
//! without (its prefilter).

use super::access::Header;
use super::automata::Automata;
use super::cimap::CiMap;
use super::scanner::{Literals, Scanner};
use crate::compile::Variant;
use crate::compile::pattern::{Lit, Pattern};
use crate::compile::program::{Check, Expr, Program, Target, Test};
use std::collections::BTreeMap;

pub(crate) type SlotProgram = Program<u16, u32>;

/// One compiled rule variant inside a bucket.
pub(crate) struct BucketRule {
    /// Index of the variant in the matcher.
    pub variant: u32,
    pub program: SlotProgram,
    /// The event's provider must be this one.
    pub provider: Option<String>,
}

/// The pseudo-slot of keyword searches: every value of the event.
pub(crate) const KEYWORDS: u16 = u16::MAX;

pub(crate) struct Bucket {
    pub slot_names: Vec<String>,
    pub slot_headers: Vec<Option<Header>>,
    pub index: CiMap<u16>,
    /// [`length_bit`]s of the slot names.
    pub name_lengths: u64,
    pub scanners: Vec<Scanner>,
    pub atom_count: u32,
    pub rules: Vec<BucketRule>,
    /// Rules without a prefilter: evaluated on every event.
    pub always: Vec<u32>,
    /// Atom -> rules (indices into `rules`) that need it.
    pub atom_rules: Vec<Vec<u32>>,
}

#[derive(Default)]
struct Builder {
    slots: Vec<String>,
    index: CiMap<u16>,
    atoms: BTreeMap<(u16, Lit), u32>,
    atom_len: Vec<usize>,
}

impl Builder {
    fn slot(&mut self, name: &str) -> u16 {
        let next = self.slots.len() as u16;
        let slot = *self.index.get_or_insert_with(name, || next);
        if slot == next {
            self.slots.push(name.to_string());
        }
        slot
    }

    fn atom(&mut self, slot: u16, lit: &Lit) -> u32 {
        let next = self.atoms.len() as u32;
        let lit = Lit {
            // The scanner ignores ASCII case unless `cased`.
            text: if lit.cased {
                lit.text.clone()
            } else {
                lit.text.to_ascii_lowercase()
            },
            pos: lit.pos,
            cased: lit.cased,
        };
        let len = lit.text.len();
        let id = *self.atoms.entry((slot, lit)).or_insert(next);
        if id == next {
            self.atom_len.push(len);
        }
        id
    }

    fn test(&mut self, t: &Test<String, Lit>) -> Test<u16, u32> {
        match &t.target {
            Target::Keywords => {
                let mut ids = Vec::new();
                t.check.for_each_lit(|l| ids.push(self.atom(KEYWORDS, l)));
                let mut id_iter = ids.into_iter();
                Test {
                    target: Target::Keywords,
                    check: t
                        .check
                        .map(|f| self.slot(f), |_| id_iter.next().unwrap_or(u32::MAX)),
                }
            }
            Target::Field(name) => {
                let slot = self.slot(name);
                let others: Vec<u16> = match &t.check {
                    Check::FieldRef { others, .. } => others.iter().map(|o| self.slot(o)).collect(),
                    _ => Vec::new(),
                };
                let mut other_iter = others.into_iter();
                let mut ids = Vec::new();
                t.check.for_each_lit(|l| ids.push(self.atom(slot, l)));
                let mut id_iter = ids.into_iter();
                Test {
                    target: Target::Field(slot),
                    check: t.check.map(
                        |_| other_iter.next().unwrap_or(slot),
                        |_| id_iter.next().unwrap_or(u32::MAX),
                    ),
                }
            }
        }
    }
}

impl Bucket {
    /// Assembles the bucket of `variants` (pairs of variant index and
    /// variant), with automata from (and for) `automata`.
    pub(crate) fn build(variants: &[(u32, &Variant)], automata: &Automata) -> Bucket {
        let mut b = Builder::default();
        let mut rules = Vec::with_capacity(variants.len());
        for (id, v) in variants {
            let tests = v.program.tests.iter().map(|t| b.test(t)).collect();
            rules.push(BucketRule {
                variant: *id,
                program: Program {
                    expr: v.program.expr.clone(),
                    tests,
                },
                provider: v.provider.clone(),
            });
        }
        let atom_count = b.atoms.len() as u32;
        let mut always = Vec::new();
        let mut atom_rules = vec![Vec::new(); atom_count as usize];
        for (i, r) in rules.iter().enumerate() {
            match must(&r.program.expr, &r.program, &b.atom_len) {
                Some(atoms) => atoms
                    .into_iter()
                    .for_each(|a| atom_rules[a as usize].push(i as u32)),
                None => always.push(i as u32),
            }
        }
        atom_rules.iter_mut().for_each(|l| l.dedup());
        let scanners = scanners(&b.atoms, automata);
        let slot_headers = b.slots.iter().map(|n| Header::from_name(n)).collect();
        let name_lengths = b.slots.iter().fold(0, |m, n| m | length_bit(n));
        Bucket {
            slot_names: b.slots,
            slot_headers,
            index: b.index,
            name_lengths,
            scanners,
            atom_count,
            rules,
            always,
            atom_rules,
        }
    }
}

/// A bit for the length of a field name (lengths of 63 and more share one).
pub(crate) fn length_bit(name: &str) -> u64 {
    1 << name.len().min(63)
}

/// One scanner per field (and case mode) over the bucket's literals for
/// it. Literals of case-insensitive patterns are lower-cased and matched
/// against the lower-cased text: half the automaton of an
/// ASCII-case-insensitive one.
fn scanners(atoms: &BTreeMap<(u16, Lit), u32>, automata: &Automata) -> Vec<Scanner> {
    let mut groups: BTreeMap<(u16, bool), Literals<'_>> = BTreeMap::new();
    for ((slot, lit), id) in atoms {
        groups
            .entry((*slot, lit.cased))
            .or_default()
            .entry(lit.text.as_str())
            .or_default()
            .push((*id, lit.pos));
    }
    groups
        .into_iter()
        .filter_map(|((slot, cased), literals)| Scanner::build(slot, cased, literals, automata))
        .collect()
}

/// Atoms of which at least one must be found for the expression to hold,
/// or `None` when no such set exists (negations, numbers, regexes...).
fn must(e: &Expr, p: &SlotProgram, atom_len: &[usize]) -> Option<Vec<u32>> {
    match e {
        Expr::Test(i) => test_must(&p.tests[*i as usize], atom_len),
        Expr::And(items) => items
            .iter()
            .filter_map(|i| must(i, p, atom_len))
            .max_by_key(|set| score(set, atom_len)),
        Expr::Or(items) | Expr::AtLeast(_, items) => {
            let sets: Option<Vec<Vec<u32>>> = items.iter().map(|i| must(i, p, atom_len)).collect();
            let mut all: Vec<u32> = sets?.concat();
            all.sort_unstable();
            all.dedup();
            Some(all)
        }
        Expr::Not(_) | Expr::Const(_) => None,
    }
}

/// Sets with longer (rarer) literals and fewer atoms filter better.
fn score(set: &[u32], atom_len: &[usize]) -> (usize, std::cmp::Reverse<usize>) {
    let shortest = set.iter().map(|a| atom_len[*a as usize]).min().unwrap_or(0);
    (shortest.min(16), std::cmp::Reverse(set.len()))
}

fn test_must(t: &Test<u16, u32>, atom_len: &[usize]) -> Option<Vec<u32>> {
    let Check::Strings {
        groups,
        all,
        neq: false,
    } = &t.check
    else {
        return None;
    };
    let group_atoms = |g: &Vec<Pattern<u32>>| -> Option<Vec<u32>> {
        let sets: Option<Vec<Vec<u32>>> = g
            .iter()
            .map(|p| match p {
                Pattern::Literal(a) => Some(vec![*a]),
                Pattern::Regex(_, atoms) if !atoms.is_empty() => Some(atoms.clone()),
                _ => None,
            })
            .collect();
        sets.map(|s| s.concat())
    };
    if *all {
        groups
            .iter()
            .filter_map(group_atoms)
            .max_by_key(|set| score(set, atom_len))
    } else {
        let sets: Option<Vec<Vec<u32>>> = groups.iter().map(group_atoms).collect();
        Some(sets?.concat())
    }
}
