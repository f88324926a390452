//! A detection (AST) to a [`Program`] for one event source: searches are
//! inlined into the condition, modifiers become checks, values become
//! patterns, and field names are translated by the source's mapping.

use super::pattern::{self, Lit, Pattern, Pos};
use super::pcre;
use super::program::{Check, Cmp, Expr, Program, Target, Test, TimePart};
use super::transform::{self, Val};
use crate::ast::{Detection, FieldTest, Search, SigmaValue};
use crate::condition::{Condition, Quantity};
use crate::mapping::Source;
use crate::modifier::Modifier;
use crate::value::{Piece, SigmaString};
use std::collections::{BTreeMap, BTreeSet};

/// Values for `%name%` placeholders of `expand`.
pub type Placeholders = BTreeMap<String, Vec<String>>;

pub(crate) type NamedProgram = Program<String, Lit>;

/// Compiles `detection` for `source`; the error says which test failed.
pub(crate) fn compile(
    detection: &Detection,
    source: &Source,
    placeholders: &Placeholders,
) -> Result<NamedProgram, (u64, String)> {
    let mut c = Compiler {
        detection,
        source,
        placeholders,
        tests: Vec::new(),
        searches: BTreeMap::new(),
    };
    let mut alternatives = Vec::new();
    for cond in &detection.conditions {
        alternatives.push(c.condition(cond)?);
    }
    Ok(Program {
        expr: Expr::Or(alternatives).simplify(),
        tests: c.tests,
    })
}

struct Compiler<'a> {
    detection: &'a Detection,
    source: &'a Source,
    placeholders: &'a Placeholders,
    tests: Vec<Test<String, Lit>>,
    searches: BTreeMap<String, Expr>,
}

impl Compiler<'_> {
    fn condition(&mut self, cond: &Condition) -> Result<Expr, (u64, String)> {
        Ok(match cond {
            Condition::Search(name) => self.search(name)?,
            Condition::And(items) => Expr::And(
                items
                    .iter()
                    .map(|c| self.condition(c))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Or(items) => Expr::Or(
                items
                    .iter()
                    .map(|c| self.condition(c))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Not(inner) => Expr::Not(Box::new(self.condition(inner)?)),
            Condition::Of(quantity, target) => {
                let names: Vec<String> = target
                    .select(self.detection.searches.iter().map(|(n, _)| n.as_str()))
                    .into_iter()
                    .map(String::from)
                    .collect();
                let items = names
                    .iter()
                    .map(|n| self.search(n))
                    .collect::<Result<Vec<_>, _>>()?;
                match quantity {
                    Quantity::All => Expr::And(items),
                    Quantity::AtLeast(n) => Expr::AtLeast(*n, items),
                }
            }
        })
    }

    fn search(&mut self, name: &str) -> Result<Expr, (u64, String)> {
        if let Some(e) = self.searches.get(name) {
            return Ok(e.clone());
        }
        let search = self
            .detection
            .search(name)
            .ok_or((0, format!("search '{name}' is not defined")))?;
        let expr = match search {
            Search::Selections(selections) => {
                let mut alternatives = Vec::new();
                for sel in selections {
                    let tests = sel
                        .tests
                        .iter()
                        .map(|t| self.field_test(t))
                        .collect::<Result<Vec<_>, _>>()?;
                    alternatives.push(Expr::And(tests));
                }
                Expr::Or(alternatives)
            }
            Search::Keywords(values) => {
                let groups = values
                    .iter()
                    .map(|v| strings(v, &[], self.placeholders, Pos::Contains, true))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| (0, format!("keywords '{name}': {e}")))?;
                self.push(
                    Target::Keywords,
                    Check::Strings {
                        groups,
                        all: false,
                        neq: false,
                    },
                )
            }
        };
        self.searches.insert(name.to_string(), expr.clone());
        Ok(expr)
    }

    fn push(&mut self, target: Target<String>, check: Check<String, Lit>) -> Expr {
        self.tests.push(Test { target, check });
        Expr::Test(self.tests.len() as u32 - 1)
    }

    fn field_test(&mut self, t: &FieldTest) -> Result<Expr, (u64, String)> {
        let target = match &t.field {
            Some(f) => Target::Field(self.source.field(f).to_string()),
            None => Target::Keywords,
        };
        let check = build_check(t, self.source, self.placeholders).map_err(|e| {
            let key = field_key(t);
            (t.line, format!("'{key}': {e}"))
        })?;
        Ok(self.push(target, check))
    }
}

fn field_key(t: &FieldTest) -> String {
    let mut key = t.field.clone().unwrap_or_default();
    for m in &t.modifiers {
        key.push('|');
        key.push_str(m.name());
    }
    key
}

fn build_check(
    t: &FieldTest,
    source: &Source,
    ph: &Placeholders,
) -> Result<Check<String, Lit>, String> {
    let mods = &t.modifiers;
    let has = |m| mods.contains(&m);
    let all = has(Modifier::All);
    let neq = has(Modifier::Neq);
    if has(Modifier::Exists) {
        return Ok(Check::Exists(matches!(
            t.values.as_slice(),
            [SigmaValue::Bool(true)]
        )));
    }
    if matches!(t.values.as_slice(), [SigmaValue::Null]) {
        return Ok(if neq {
            Check::Exists(true)
        } else {
            Check::Null
        });
    }
    let texts = || -> Vec<&str> {
        t.values
            .iter()
            .filter_map(|v| match v {
                SigmaValue::Str(s) => Some(s.raw.as_str()),
                _ => None,
            })
            .collect()
    };
    if has(Modifier::Re) {
        let flags: String = [
            (Modifier::ReIgnoreCase, 'i'),
            (Modifier::ReMultiLine, 'm'),
            (Modifier::ReDotAll, 's'),
        ]
        .iter()
        .filter(|(m, _)| has(*m))
        .map(|(_, c)| *c)
        .collect();
        let groups = texts()
            .into_iter()
            .map(|r| {
                let full = if flags.is_empty() {
                    r.to_string()
                } else {
                    format!("(?{flags}){r}")
                };
                let full = pcre::ascii_perl_classes(&full);
                let hir = pattern::check_syntax(&full)
                    .map_err(|e| format!("regular expression {r:?} not supported: {e}"))?;
                pattern::check_size(&hir)
                    .map_err(|e| format!("regular expression {r:?} too large to search: {e}"))?;
                let required = pattern::required_literals(&hir);
                Ok(vec![Pattern::Regex(
                    pattern::LazyRegex::new(full, false),
                    required,
                )])
            })
            .collect::<Result<_, String>>()?;
        return Ok(Check::Strings { groups, all, neq });
    }
    if has(Modifier::Cidr) {
        let nets = texts()
            .into_iter()
            .map(|n| {
                n.parse::<ipnet::IpNet>()
                    .map_err(|_| format!("{n:?} is not a CIDR range"))
            })
            .collect::<Result<_, _>>()?;
        return Ok(Check::Cidr { nets, neq });
    }
    let part = mods.iter().find_map(|m| time_part(*m));
    let cmp = mods.iter().find_map(|m| comparison(*m));
    if part.is_some() || cmp.is_some() {
        let values = t
            .values
            .iter()
            .map(|v| match v {
                SigmaValue::Int(n) => Ok(*n as f64),
                SigmaValue::Float(f) => Ok(*f),
                _ => Err("time parts and comparisons take numbers".to_string()),
            })
            .collect::<Result<_, _>>()?;
        return Ok(Check::Compare {
            part,
            cmp: cmp.unwrap_or(Cmp::Eq),
            values,
            all,
            neq,
        });
    }
    // A keyword list searches every value for the text (`'|all': [...]`).
    let keyword = t.field.is_none();
    let pos = if keyword {
        Pos::Contains
    } else {
        position(mods)
    };
    if has(Modifier::FieldRef) {
        let others = texts()
            .into_iter()
            .map(|f| source.field(f).to_string())
            .collect();
        return Ok(Check::FieldRef {
            others,
            pos,
            cased: has(Modifier::Cased),
            all,
            neq,
        });
    }
    let groups = t
        .values
        .iter()
        .map(|v| strings(v, mods, ph, pos, keyword))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Check::Strings { groups, all, neq })
}

fn position(mods: &[Modifier]) -> Pos {
    if mods.contains(&Modifier::Contains) {
        Pos::Contains
    } else if mods.contains(&Modifier::StartsWith) {
        Pos::Prefix
    } else if mods.contains(&Modifier::EndsWith) {
        Pos::Suffix
    } else {
        Pos::Exact
    }
}

fn time_part(m: Modifier) -> Option<TimePart> {
    Some(match m {
        Modifier::Minute => TimePart::Minute,
        Modifier::Hour => TimePart::Hour,
        Modifier::Day => TimePart::Day,
        Modifier::Week => TimePart::Week,
        Modifier::Month => TimePart::Month,
        Modifier::Year => TimePart::Year,
        _ => return None,
    })
}

fn comparison(m: Modifier) -> Option<Cmp> {
    Some(match m {
        Modifier::Lt => Cmp::Lt,
        Modifier::Lte => Cmp::Lte,
        Modifier::Gt => Cmp::Gt,
        Modifier::Gte => Cmp::Gte,
        _ => return None,
    })
}

/// The patterns of one value: placeholders expanded, the transformation
/// modifiers applied in their order, each resulting form a pattern.
fn strings(
    value: &SigmaValue,
    mods: &[Modifier],
    ph: &Placeholders,
    pos: Pos,
    keyword: bool,
) -> Result<Vec<Pattern<Lit>>, String> {
    let base = match value {
        SigmaValue::Str(s) => s.clone(),
        SigmaValue::Int(n) => SigmaString::literal(&n.to_string()),
        SigmaValue::Float(f) => SigmaString::literal(&f.to_string()),
        SigmaValue::Bool(b) => SigmaString::literal(&b.to_string()),
        SigmaValue::Null => return Err("null cannot be combined with other values".into()),
    };
    let mut vals: Vec<Val> = expand(&base, ph)?.into_iter().map(Val::Text).collect();
    for m in mods {
        vals = match m {
            Modifier::Windash => vals
                .iter()
                .map(|v| match v {
                    Val::Text(s) => {
                        transform::windash(s).map(|vs| vs.into_iter().map(Val::Text).collect())
                    }
                    Val::Bytes(_) => Err("'windash' must come before the encodings".to_string()),
                })
                .collect::<Result<Vec<Vec<Val>>, _>>()?
                .concat(),
            Modifier::Utf16Le | Modifier::Wide => {
                map_each(&vals, |v| transform::utf16(v, false, false, m.name()))?
            }
            Modifier::Utf16Be => map_each(&vals, |v| transform::utf16(v, true, false, m.name()))?,
            Modifier::Utf16 => map_each(&vals, |v| transform::utf16(v, false, true, m.name()))?,
            Modifier::Base64 => map_each(&vals, transform::base64)?,
            Modifier::Base64Offset => vals
                .iter()
                .map(transform::base64offset)
                .collect::<Result<Vec<_>, _>>()?
                .concat(),
            _ => vals,
        };
    }
    let cased = mods.contains(&Modifier::Cased);
    let mut patterns = Vec::new();
    let mut seen = BTreeSet::new();
    for v in vals {
        let s = transform::into_text(v)?;
        if seen.insert(s.pieces.clone()) {
            patterns.extend(pattern::build(&s, pos, cased, keyword)?);
        }
    }
    Ok(patterns)
}

fn map_each(vals: &[Val], f: impl Fn(&Val) -> Result<Val, String>) -> Result<Vec<Val>, String> {
    vals.iter().map(f).collect()
}

/// Replaces placeholders with every combination of their values.
fn expand(s: &SigmaString, ph: &Placeholders) -> Result<Vec<SigmaString>, String> {
    if !s.has_placeholders() {
        return Ok(vec![s.clone()]);
    }
    let mut out: Vec<Vec<Piece>> = vec![Vec::new()];
    for piece in &s.pieces {
        match piece {
            Piece::Placeholder(name) => {
                let values = ph.get(name).ok_or_else(|| {
                    format!("placeholder %{name}% has no value (define it with --placeholders)")
                })?;
                out = out
                    .into_iter()
                    .flat_map(|prefix| {
                        values.iter().map(move |v| {
                            let mut p = prefix.clone();
                            p.extend(SigmaString::parse(v, false).pieces);
                            p
                        })
                    })
                    .collect();
            }
            other => out.iter_mut().for_each(|p| p.push(other.clone())),
        }
    }
    Ok(out
        .into_iter()
        .map(|p| SigmaString::from_pieces(p, &s.raw))
        .collect())
}

/// The event ids a program can only match, when its condition requires an
/// `EventID` equal to one of a few numbers: used to route the rule to
/// those ids only.
pub(crate) fn required_event_ids(p: &NamedProgram) -> Option<BTreeSet<u32>> {
    fn walk(e: &Expr, p: &NamedProgram) -> Option<BTreeSet<u32>> {
        match e {
            Expr::Test(i) => test_ids(&p.tests[*i as usize]),
            Expr::And(items) => items
                .iter()
                .filter_map(|i| walk(i, p))
                .reduce(|a, b| &a & &b),
            Expr::Or(items) | Expr::AtLeast(_, items) => {
                let sets: Option<Vec<_>> = items.iter().map(|i| walk(i, p)).collect();
                sets.map(|s| s.into_iter().flatten().collect())
            }
            Expr::Not(_) | Expr::Const(_) => None,
        }
    }
    walk(&p.expr, p)
}

fn test_ids(t: &Test<String, Lit>) -> Option<BTreeSet<u32>> {
    let Target::Field(name) = &t.target else {
        return None;
    };
    if !name.eq_ignore_ascii_case("EventID") {
        return None;
    }
    let Check::Strings {
        groups,
        all: false,
        neq: false,
    } = &t.check
    else {
        return None;
    };
    groups
        .iter()
        .flatten()
        .map(|p| match p {
            Pattern::Literal(Lit {
                text,
                pos: Pos::Exact,
                ..
            }) => text.parse::<u32>().ok(),
            _ => None,
        })
        .collect()
}
