//! A rule's detection as a program: a boolean expression over tests, each
//! test one field and what its value must be. The program is generic over
//! how fields and literals are referred to, so the same types serve before
//! (names, texts) and after (slots, atoms) bucket assembly.

use super::pattern::{LazyRegex, Pattern};
use ipnet::IpNet;
use std::sync::Arc;

/// A boolean expression over the tests of a program.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    AtLeast(u32, Vec<Expr>),
    Test(u32),
    Const(bool),
}

/// Which value a test looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) enum Target<F> {
    /// One field.
    Field(F),
    /// Every value of the event (keyword search).
    Keywords,
}

/// A time part of a date value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// A numeric comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Cmp {
    pub(crate) fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Lt => a < b,
            Cmp::Lte => a <= b,
            Cmp::Gt => a > b,
            Cmp::Gte => a >= b,
        }
    }
}

/// What a test checks.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) enum Check<F, L> {
    /// The field is present (`true`) or absent (`false`).
    Exists(bool),
    /// The field is absent, null or empty.
    Null,
    /// String patterns: each group is the forms of one value (OR); the
    /// groups are linked with OR, or AND with `all`. `neq`: the field is
    /// present and no group matches.
    Strings {
        groups: Vec<Vec<Pattern<L>>>,
        all: bool,
        neq: bool,
    },
    /// Numeric comparison, of the field or of a time part of it.
    Compare {
        part: Option<TimePart>,
        cmp: Cmp,
        values: Vec<f64>,
        all: bool,
        neq: bool,
    },
    /// The field is an IP address in one of the networks.
    Cidr { nets: Vec<IpNet>, neq: bool },
    /// The field equals (starts with, ends with, contains) another field.
    FieldRef {
        others: Vec<F>,
        pos: super::pattern::Pos,
        cased: bool,
        all: bool,
        neq: bool,
    },
}

/// One test.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Test<F, L> {
    pub target: Target<F>,
    pub check: Check<F, L>,
}

/// A detection compiled for one event source.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Program<F, L> {
    pub expr: Expr,
    pub tests: Vec<Test<F, L>>,
}

impl<F, L> Program<F, L> {
    /// A program that matches nothing (what a cached variant holds).
    pub(crate) fn empty() -> Program<F, L> {
        Program {
            expr: Expr::Const(false),
            tests: Vec::new(),
        }
    }

    /// The regexes of the program's string tests.
    pub(crate) fn regexes_mut(&mut self) -> impl Iterator<Item = &mut Arc<LazyRegex>> {
        self.tests
            .iter_mut()
            .flat_map(|t| match &mut t.check {
                Check::Strings { groups, .. } => groups.iter_mut().flatten(),
                _ => [].iter_mut().flatten(),
            })
            .filter_map(|p| match p {
                Pattern::Regex(re, _) => Some(re),
                _ => None,
            })
    }
}

impl<F, L> Check<F, L> {
    /// Calls `f` with each literal, in the order [`Check::map`] visits
    /// them.
    pub(crate) fn for_each_lit(&self, mut f: impl FnMut(&L)) {
        if let Check::Strings { groups, .. } = self {
            for p in groups.iter().flatten() {
                match p {
                    Pattern::Literal(l) => f(l),
                    Pattern::Regex(_, required) => required.iter().for_each(&mut f),
                    Pattern::Empty | Pattern::Present | Pattern::AnyOf(_) => {}
                }
            }
        }
    }

    /// Calls `f` with each literal to change it in place, in the order of
    /// [`Check::for_each_lit`].
    pub(crate) fn for_each_lit_mut(&mut self, mut f: impl FnMut(&mut L)) {
        if let Check::Strings { groups, .. } = self {
            for p in groups.iter_mut().flatten() {
                match p {
                    Pattern::Literal(l) => f(l),
                    Pattern::Regex(_, required) => required.iter_mut().for_each(&mut f),
                    Pattern::Empty | Pattern::Present | Pattern::AnyOf(_) => {}
                }
            }
        }
    }

    /// Maps fields and literals to another representation.
    pub(crate) fn map<G, M>(
        &self,
        mut field: impl FnMut(&F) -> G,
        mut lit: impl FnMut(&L) -> M,
    ) -> Check<G, M> {
        match self {
            Check::Exists(b) => Check::Exists(*b),
            Check::Null => Check::Null,
            Check::Strings { groups, all, neq } => Check::Strings {
                groups: groups
                    .iter()
                    .map(|g| {
                        g.iter()
                            .map(|p| match p {
                                Pattern::Literal(l) => Pattern::Literal(lit(l)),
                                Pattern::Empty => Pattern::Empty,
                                Pattern::Present => Pattern::Present,
                                Pattern::Regex(re, req) => {
                                    Pattern::Regex(re.clone(), req.iter().map(&mut lit).collect())
                                }
                                Pattern::AnyOf(set) => Pattern::AnyOf(*set),
                            })
                            .collect()
                    })
                    .collect(),
                all: *all,
                neq: *neq,
            },
            Check::Compare {
                part,
                cmp,
                values,
                all,
                neq,
            } => Check::Compare {
                part: *part,
                cmp: *cmp,
                values: values.clone(),
                all: *all,
                neq: *neq,
            },
            Check::Cidr { nets, neq } => Check::Cidr {
                nets: nets.clone(),
                neq: *neq,
            },
            Check::FieldRef {
                others,
                pos,
                cased,
                all,
                neq,
            } => Check::FieldRef {
                others: others.iter().map(&mut field).collect(),
                pos: *pos,
                cased: *cased,
                all: *all,
                neq: *neq,
            },
        }
    }
}

impl Expr {
    /// Simplifies constant sub-expressions.
    pub(crate) fn simplify(self) -> Expr {
        match self {
            Expr::And(items) => {
                let items: Vec<Expr> = items.into_iter().map(Expr::simplify).collect();
                if items.iter().any(|e| matches!(e, Expr::Const(false))) {
                    return Expr::Const(false);
                }
                let mut rest: Vec<Expr> = items
                    .into_iter()
                    .filter(|e| !matches!(e, Expr::Const(true)))
                    .collect();
                match rest.len() {
                    0 => Expr::Const(true),
                    1 => rest.remove(0),
                    _ => Expr::And(rest),
                }
            }
            Expr::Or(items) => {
                let items: Vec<Expr> = items.into_iter().map(Expr::simplify).collect();
                if items.iter().any(|e| matches!(e, Expr::Const(true))) {
                    return Expr::Const(true);
                }
                let mut rest: Vec<Expr> = items
                    .into_iter()
                    .filter(|e| !matches!(e, Expr::Const(false)))
                    .collect();
                match rest.len() {
                    0 => Expr::Const(false),
                    1 => rest.remove(0),
                    _ => Expr::Or(rest),
                }
            }
            Expr::Not(inner) => match inner.simplify() {
                Expr::Const(b) => Expr::Const(!b),
                other => Expr::Not(Box::new(other)),
            },
            Expr::AtLeast(n, items) => {
                let items: Vec<Expr> = items.into_iter().map(Expr::simplify).collect();
                if n == 1 {
                    Expr::Or(items).simplify()
                } else if n as usize == items.len() {
                    Expr::And(items).simplify()
                } else if n as usize > items.len() {
                    Expr::Const(false)
                } else {
                    Expr::AtLeast(n, items)
                }
            }
            other => other,
        }
    }
}
