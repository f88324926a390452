//! The fields and literals of a whole rule set, numbered once: field names
//! become slots, literals become atoms, and each variant's program is
//! rewritten over them when the matcher is built. A bucket then only
//! collects and sorts numbers: the variants of one log source meet in many
//! buckets (every route of their channel), and resolving their names and
//! literals again for each bucket cost as much as building the automata.

use super::access::Header;
use super::cimap::CiMap;
use super::packed::Texts;
use super::sets::{AtomSets, SetBuilder};
use crate::compile::Variant;
use crate::compile::pattern::{Lit, Pattern, Pos, RegexPool};
use crate::compile::program::{Check, Expr, Program, Target, Test};
use std::collections::HashMap;
use std::sync::Arc;

pub(crate) type SlotProgram = Program<u16, u32>;

/// The pseudo-slot of keyword searches: every value of the event.
pub(crate) const KEYWORDS: u16 = u16::MAX;

/// One literal where a field must hold it. Atoms are numbered in the
/// order of (slot, cased, text, pos), so that a bucket's sorted atoms come
/// grouped by scanner and by text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) struct Atom {
    pub slot: u16,
    pub cased: bool,
    /// Index into [`Catalog::texts`].
    pub text: u32,
    pub pos: Pos,
}

/// A variant over slots and atoms, with what a bucket needs of it.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Compiled {
    pub program: SlotProgram,
    /// The event's provider must be this one.
    pub provider: Option<String>,
    /// The slots of its tests, sorted.
    pub slots: Vec<u16>,
    /// Its atoms, sorted.
    pub atoms: Vec<u32>,
    /// Atoms of which one must be found for it to match (its prefilter),
    /// `None` when there is no such set.
    pub must: Option<Vec<u32>>,
}

/// The numbered fields and literals of a rule set. The rule-set cache
/// stores it, so that a cached set need not number them again.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Catalog {
    pub slot_names: Vec<String>,
    /// Not stored: found again from the names (see [`Catalog::restored`]).
    #[serde(skip)]
    pub slot_headers: Vec<Option<Header>>,
    /// The texts of the literals, in lower case unless cased (the
    /// scanner folds the event's text instead).
    pub texts: Texts,
    #[serde(with = "super::packed::atoms")]
    pub atoms: Vec<Atom>,
    /// The literal sets of long value lists, by atom.
    pub sets: AtomSets,
    /// Per variant.
    pub compiled: Vec<Arc<Compiled>>,
}

impl Catalog {
    pub(crate) fn build(variants: &[Variant]) -> Catalog {
        let mut n = Numbering::default();
        let programs: Vec<SlotProgram> = variants
            .iter()
            .map(|v| Program {
                expr: v.program.expr.clone(),
                tests: v.program.tests.iter().map(|t| n.test(t)).collect(),
            })
            .collect();
        let (texts, atoms, renumber) = n.sorted_atoms();
        let atom_len: Vec<usize> = atoms.iter().map(|a| texts[a.text as usize].len()).collect();
        let mut sets = SetBuilder::default();
        let compiled = programs
            .into_iter()
            .zip(variants)
            .map(|(p, v)| {
                let mut c = compile(p, &renumber, &atom_len, v.provider.clone());
                // After the prefilter is chosen: it looks at each literal.
                sets.merge(&mut c.program);
                Arc::new(c)
            })
            .collect();
        let slot_headers = n.slots.iter().map(|s| Header::from_name(s)).collect();
        Catalog {
            slot_names: n.slots,
            slot_headers,
            sets: sets.finish(atoms.len()),
            texts: texts.iter().collect(),
            atoms,
            compiled,
        }
    }
}

impl Catalog {
    /// A catalog read back from the rule-set cache, made whole: its header
    /// slots found again, and equal regexes shared as when it was built.
    pub(crate) fn restored(mut self) -> Catalog {
        self.slot_headers = self
            .slot_names
            .iter()
            .map(|s| Header::from_name(s))
            .collect();
        let mut pool = RegexPool::default();
        for c in &mut self.compiled {
            if let Some(c) = Arc::get_mut(c) {
                c.program.regexes_mut().for_each(|re| pool.share(re));
            }
        }
        self
    }
}

/// A program renumbered to sorted atoms, with its slots, atoms and
/// prefilter.
fn compile(
    mut program: SlotProgram,
    renumber: &[u32],
    atom_len: &[usize],
    provider: Option<String>,
) -> Compiled {
    for t in &mut program.tests {
        t.check.for_each_lit_mut(|a| *a = renumber[*a as usize]);
    }
    let mut slots = Vec::new();
    let mut atoms = Vec::new();
    for t in &program.tests {
        if let Target::Field(s) = t.target {
            slots.push(s);
        }
        if let Check::FieldRef { others, .. } = &t.check {
            slots.extend(others);
        }
        t.check.for_each_lit(|a| atoms.push(*a));
    }
    slots.sort_unstable();
    slots.dedup();
    atoms.sort_unstable();
    atoms.dedup();
    let must = must(&program.expr, &program, atom_len);
    Compiled {
        program,
        provider,
        slots,
        atoms,
        must,
    }
}

/// Numbers slots, texts and atoms in the order they are met.
#[derive(Default)]
struct Numbering {
    slots: Vec<String>,
    index: CiMap<u16>,
    text_ids: HashMap<Box<str>, u32>,
    atoms: HashMap<Atom, u32>,
    /// A literal's text in lower case: most are met before, and looking
    /// them up needs no allocation.
    buf: String,
}

impl Numbering {
    fn slot(&mut self, name: &str) -> u16 {
        let next = self.slots.len() as u16;
        let slot = *self.index.get_or_insert_with(name, || next);
        if slot == next {
            self.slots.push(name.to_string());
        }
        slot
    }

    fn atom(&mut self, slot: u16, lit: &Lit) -> u32 {
        self.buf.clear();
        self.buf.push_str(&lit.text);
        if !lit.cased {
            self.buf.make_ascii_lowercase();
        }
        let text = match self.text_ids.get(self.buf.as_str()) {
            Some(&id) => id,
            None => {
                let id = self.text_ids.len() as u32;
                self.text_ids.insert(self.buf.as_str().into(), id);
                id
            }
        };
        let atom = Atom {
            slot,
            cased: lit.cased,
            text,
            pos: lit.pos,
        };
        let next = self.atoms.len() as u32;
        *self.atoms.entry(atom).or_insert(next)
    }

    fn test(&mut self, t: &Test<String, Lit>) -> Test<u16, u32> {
        let slot = match &t.target {
            Target::Keywords => KEYWORDS,
            Target::Field(name) => self.slot(name),
        };
        let others: Vec<u16> = match &t.check {
            Check::FieldRef { others, .. } => others.iter().map(|o| self.slot(o)).collect(),
            _ => Vec::new(),
        };
        let mut ids = Vec::new();
        t.check.for_each_lit(|l| ids.push(self.atom(slot, l)));
        let (mut other_iter, mut id_iter) = (others.into_iter(), ids.into_iter());
        Test {
            target: match t.target {
                Target::Keywords => Target::Keywords,
                Target::Field(_) => Target::Field(slot),
            },
            check: t.check.map(
                |_| other_iter.next().unwrap_or(slot),
                |_| id_iter.next().unwrap_or(u32::MAX),
            ),
        }
    }

    /// The texts by number, the atoms in sorted order, and for each first
    /// number of an atom its sorted one.
    fn sorted_atoms(&mut self) -> (Vec<Box<str>>, Vec<Atom>, Vec<u32>) {
        let mut texts: Vec<(Box<str>, u32)> =
            std::mem::take(&mut self.text_ids).into_iter().collect();
        texts.sort_unstable();
        let mut rank = vec![0u32; texts.len()];
        for (r, (_, t)) in texts.iter().enumerate() {
            rank[*t as usize] = r as u32;
        }
        // Numbered by text order: the text numbers are their ranks.
        let texts: Vec<Box<str>> = texts.into_iter().map(|(t, _)| t).collect();
        let mut list: Vec<(Atom, u32)> = std::mem::take(&mut self.atoms).into_iter().collect();
        list.sort_unstable_by_key(|(a, _)| (a.slot, a.cased, rank[a.text as usize], a.pos));
        let mut renumber = vec![0; list.len()];
        for (sorted, (_, first)) in list.iter().enumerate() {
            renumber[*first as usize] = sorted as u32;
        }
        let atoms = list
            .into_iter()
            .map(|(a, _)| Atom {
                text: rank[a.text as usize],
                ..a
            })
            .collect();
        (texts, atoms, renumber)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::rule::NamedProgram;
    use crate::mapping::Source;

    fn lit(text: &str, pos: Pos, cased: bool) -> Pattern<Lit> {
        Pattern::Literal(Lit {
            text: text.to_string(),
            pos,
            cased,
        })
    }

    fn strings(field: &str, patterns: Vec<Pattern<Lit>>) -> Test<String, Lit> {
        Test {
            target: Target::Field(field.to_string()),
            check: Check::Strings {
                groups: patterns.into_iter().map(|p| vec![p]).collect(),
                all: false,
                neq: false,
            },
        }
    }

    fn variant(tests: Vec<Test<String, Lit>>, expr: Expr) -> Variant {
        Variant {
            rule: 0,
            source: Arc::new(Source::default()),
            program: NamedProgram { expr, tests },
            channel: None,
            event_ids: Vec::new(),
            provider: None,
        }
    }

    #[test]
    fn names_and_literals_are_numbered_once_in_sorted_order() {
        let a = variant(
            vec![strings(
                "Image",
                vec![
                    lit("\\CMD.exe", Pos::Suffix, false),
                    lit("Zz", Pos::Exact, true),
                ],
            )],
            Expr::Test(0),
        );
        let b = variant(
            vec![
                strings("image", vec![lit("\\cmd.EXE", Pos::Suffix, false)]),
                strings("CommandLine", vec![lit("-enc", Pos::Contains, false)]),
            ],
            Expr::And(vec![Expr::Test(0), Expr::Not(Box::new(Expr::Test(1)))]),
        );
        let c = Catalog::build(&[a, b]);
        // Field names ignore case: `Image` and `image` are one slot.
        assert_eq!(c.slot_names, vec!["Image", "CommandLine"]);
        let texts: Vec<(u16, bool, &str)> = c
            .atoms
            .iter()
            .map(|a| (a.slot, a.cased, &c.texts[a.text as usize]))
            .collect();
        assert_eq!(
            texts,
            vec![(0, false, "\\cmd.exe"), (0, true, "Zz"), (1, false, "-enc")]
        );
        assert_eq!(c.compiled[0].atoms, vec![0, 1]);
        assert_eq!(c.compiled[1].atoms, vec![0, 2]);
        assert_eq!(c.compiled[1].slots, vec![0, 1]);
        // The negated test cannot prefilter; the other one can.
        assert_eq!(c.compiled[1].must, Some(vec![0]));
        let Check::Strings { groups, .. } = &c.compiled[0].program.tests[0].check else {
            panic!("not a string test");
        };
        assert!(matches!(groups[1][0], Pattern::Literal(1)));
    }

    #[test]
    fn a_rule_without_a_prefilter_has_no_must() {
        let v = variant(
            vec![strings("Image", vec![lit("x", Pos::Exact, false)])],
            Expr::Not(Box::new(Expr::Test(0))),
        );
        let c = Catalog::build(&[v]);
        assert_eq!(c.compiled[0].must, None);
    }
}
