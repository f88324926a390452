//! String patterns: a Sigma string plus where it must occur becomes a
//! literal for the multi-pattern scanner, or a regular expression for what
//! a literal cannot say (inner wildcards, `?`, non-ASCII case folding).

use crate::value::{Piece, SigmaString};
use regex_automata::meta;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, OnceLock};

/// Where a literal must occur in the field.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub(crate) enum Pos {
    /// The whole field.
    Exact,
    /// At the start.
    Prefix,
    /// At the end.
    Suffix,
    /// Anywhere.
    Contains,
}

impl Pos {
    /// Whether a match at `start..end` of a text of `len` bytes counts.
    pub(crate) fn accepts(self, start: usize, end: usize, len: usize) -> bool {
        match self {
            Pos::Exact => start == 0 && end == len,
            Pos::Prefix => start == 0,
            Pos::Suffix => end == len,
            Pos::Contains => true,
        }
    }
}

/// A regex over field text, compiled on first use: most rules never get
/// past their prefilter on a given evidence set, and compiling every regex
/// of a large rule set up front would cost more than hunting. Byte-oriented
/// with ASCII case folding when that is all the pattern needs (smaller and
/// quicker), Unicode-aware otherwise.
#[derive(Debug)]
pub(crate) struct LazyRegex {
    source: String,
    bytes: bool,
    compiled: OnceLock<Option<meta::Regex>>,
}

impl LazyRegex {
    /// A regex whose syntax is known to be valid (checked with
    /// [`check_syntax`] or built by this module).
    pub(crate) fn new(source: String, bytes: bool) -> Arc<LazyRegex> {
        Arc::new(LazyRegex {
            source,
            bytes,
            compiled: OnceLock::new(),
        })
    }

    pub(crate) fn is_match(&self, text: &str) -> bool {
        // Rules' own regexes were held to the size limit when the set was
        // compiled (`check_size`); the regexes made from wildcards are
        // small. Should one fail all the same, it matches nothing rather
        // than stopping the run.
        self.compiled
            .get_or_init(|| compile(&self.source, self.bytes))
            .as_ref()
            .is_some_and(|re| re.is_match(text.as_bytes()))
    }
}

/// Builds a regex as `regex::Regex::new` (or `regex::bytes::Regex::new`
/// for `bytes`) does, with the same engine and limits, but without a full
/// DFA: the regexes of a hunt each meet a few values, and determinising
/// them up front was two fifths of compiling them (the lazy DFA builds the
/// states a search meets).
fn compile(source: &str, bytes: bool) -> Option<meta::Regex> {
    let config = meta::Config::new()
        .nfa_size_limit(Some(NFA_SIZE_LIMIT))
        .hybrid_cache_capacity(2 * (1 << 20))
        .match_kind(regex_automata::MatchKind::LeftmostFirst)
        .utf8_empty(!bytes)
        .dfa(false);
    meta::Builder::new()
        .configure(config)
        .syntax(regex_automata::util::syntax::Config::new().utf8(!bytes))
        .build(source)
        .ok()
}

impl serde::Serialize for LazyRegex {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&(&self.source, self.bytes), s)
    }
}

impl<'de> serde::Deserialize<'de> for LazyRegex {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (source, bytes): (String, bool) = serde::Deserialize::deserialize(d)?;
        Ok(LazyRegex {
            source,
            bytes,
            compiled: OnceLock::new(),
        })
    }
}

/// Shares one [`LazyRegex`] between equal regexes (the variants of a rule
/// for each of its sources, rules that repeat a regex), so that each is
/// compiled once.
#[derive(Default)]
pub(crate) struct RegexPool(HashMap<(String, bool), Arc<LazyRegex>>);

impl RegexPool {
    /// Replaces `re` by the pool's equal regex, or adds it.
    pub(crate) fn share(&mut self, re: &mut Arc<LazyRegex>) {
        match self.0.entry((re.source.clone(), re.bytes)) {
            Entry::Occupied(e) => *re = Arc::clone(e.get()),
            Entry::Vacant(e) => {
                e.insert(Arc::clone(re));
            }
        }
    }
}

/// The size limit of a regex's automata (the `regex` crate's default).
const NFA_SIZE_LIMIT: usize = 10 * (1 << 20);

/// Checks that the regex `hir` (of a rule's `re` modifier; valid syntax)
/// fits the size limit it is compiled with when first used: one that does
/// not would match nothing, so its rule is refused with this reason
/// instead. The forward and reverse automata are built as the search
/// builds them (when the set is compiled, not on every hunt).
pub(crate) fn check_size(hir: &regex_syntax::hir::Hir) -> Result<(), String> {
    use regex_automata::nfa::thompson::{Compiler, Config, WhichCaptures};
    let forward = (false, WhichCaptures::All);
    let reverse = (true, WhichCaptures::None);
    for (reverse, captures) in [forward, reverse] {
        let config = Config::new()
            .nfa_size_limit(Some(NFA_SIZE_LIMIT))
            .reverse(reverse)
            .shrink(false)
            .which_captures(captures);
        Compiler::new()
            .configure(config)
            .build_from_hir(hir)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Parses a regex (with its flags prefix) to check it: the error says what
/// is not supported. Returns the parsed form, for literal extraction.
pub(crate) fn check_syntax(source: &str) -> Result<regex_syntax::hir::Hir, String> {
    regex_syntax::Parser::new().parse(source).map_err(|e| {
        e.to_string()
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string()
    })
}

/// Literals of which every match of the regex contains one, when the regex
/// has such a short set (its possible prefixes or suffixes): the regex's
/// prefilter atoms.
pub(crate) fn required_literals(hir: &regex_syntax::hir::Hir) -> Vec<Lit> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let mut best: Option<Vec<Lit>> = None;
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let seq = Extractor::new().kind(kind).extract(hir);
        let Some(lits) = seq.literals() else { continue };
        if lits.is_empty() || lits.len() > 64 || lits.iter().any(|l| l.as_bytes().len() < 3) {
            continue;
        }
        let mut out: Vec<Lit> = Vec::new();
        for l in lits {
            let Ok(text) = std::str::from_utf8(l.as_bytes()) else {
                return Vec::new();
            };
            let cased = !folds_like_ascii(text);
            let text = if cased {
                text.to_string()
            } else {
                text.to_ascii_lowercase()
            };
            if !out.iter().any(|o| o.text == text && o.cased == cased) {
                out.push(Lit {
                    text,
                    pos: Pos::Contains,
                    cased,
                });
            }
        }
        let shortest = |v: &[Lit]| v.iter().map(|l| l.text.len()).min().unwrap_or(0);
        if best.as_ref().is_none_or(|b| shortest(&out) > shortest(b)) {
            best = Some(out);
        }
    }
    best.unwrap_or_default()
}

/// A compiled string pattern. `L` is how a literal is referred to: its
/// text before bucket assembly, an atom id after.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) enum Pattern<L> {
    /// A literal the scanner finds.
    Literal(L),
    /// The field is empty (or null).
    Empty,
    /// Any value of a present field (`*`).
    Present,
    /// A regex, with literals at least one of which must occur for it to
    /// match (found first, through the scanner); empty when there are none.
    Regex(Arc<LazyRegex>, Vec<L>),
    /// Any literal of a set (numbered in the catalog) was found: the
    /// literals of a long value list, merged when the matcher's catalog is
    /// built (see `matcher::catalog::LiteralSets`). Only there.
    AnyOf(u32),
}

/// A literal before bucket assembly.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub(crate) struct Lit {
    pub text: String,
    pub pos: Pos,
    pub cased: bool,
}

/// Builds the patterns for `s` at `pos`, any of which matching is a
/// match: one, or the case variants of a literal that needs more than
/// ASCII case folding. `keyword` patterns search every value of the event:
/// their wildcard forms get no prefilter literal.
pub(crate) fn build(
    s: &SigmaString,
    pos: Pos,
    cased: bool,
    keyword: bool,
) -> Result<Vec<Pattern<Lit>>, String> {
    if let [Piece::Lit(text)] = s.pieces.as_slice()
        && !cased
        && !folds_like_ascii(text)
        && let Some(variants) = case_variants(text)
    {
        let lit = |text| {
            Pattern::Literal(Lit {
                text,
                pos,
                cased: true,
            })
        };
        return Ok(variants.into_iter().map(lit).collect());
    }
    build_one(s, pos, cased, keyword).map(|p| vec![p])
}

/// At most this many case variants of a literal are searched for; longer
/// literals with letters beyond ASCII go to a case-insensitive regex.
const MAX_CASE_VARIANTS: usize = 16;

/// Every spelling of `text` that a case-insensitive match accepts: each
/// character replaced by the members of its simple case folding class, as
/// the regex engine folds case.
fn case_variants(text: &str) -> Option<Vec<String>> {
    use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange};
    let mut out = vec![String::new()];
    for c in text.chars() {
        let mut class = ClassUnicode::new([ClassUnicodeRange::new(c, c)]);
        class.case_fold_simple();
        let forms: Vec<char> = class.iter().flat_map(|r| r.start()..=r.end()).collect();
        if out.len() * forms.len() > MAX_CASE_VARIANTS {
            return None;
        }
        out = out
            .iter()
            .flat_map(|prefix| {
                forms.iter().map(move |f| {
                    let mut s = prefix.clone();
                    s.push(*f);
                    s
                })
            })
            .collect();
    }
    Some(out)
}

fn build_one(
    s: &SigmaString,
    pos: Pos,
    cased: bool,
    keyword: bool,
) -> Result<Pattern<Lit>, String> {
    let mut pieces: Vec<Piece> = s.pieces.clone();
    if matches!(pos, Pos::Contains | Pos::Suffix) && pieces.first() != Some(&Piece::Any) {
        pieces.insert(0, Piece::Any);
    }
    if matches!(pos, Pos::Contains | Pos::Prefix) && pieces.last() != Some(&Piece::Any) {
        pieces.push(Piece::Any);
    }
    if let Some(Piece::Placeholder(name)) =
        pieces.iter().find(|p| matches!(p, Piece::Placeholder(_)))
    {
        return Err(format!("placeholder %{name}% was not expanded"));
    }
    let lead = pieces.first() == Some(&Piece::Any);
    let trail = pieces.len() > 1 && pieces.last() == Some(&Piece::Any);
    let middle = &pieces[usize::from(lead)..pieces.len() - usize::from(trail)];
    let effective = match (lead, trail) {
        (false, false) => Pos::Exact,
        (false, true) => Pos::Prefix,
        (true, false) => Pos::Suffix,
        (true, true) => Pos::Contains,
    };
    match middle {
        [] if lead || trail => return Ok(Pattern::Present),
        [] => return Ok(Pattern::Empty),
        [Piece::Lit(text)] if cased || folds_like_ascii(text) => {
            return Ok(Pattern::Literal(Lit {
                text: text.clone(),
                pos: effective,
                cased,
            }));
        }
        _ => {}
    }
    let required = (!keyword)
        .then(|| longest_ascii_literal(middle, cased))
        .flatten();
    Ok(Pattern::Regex(
        glob_regex(&pieces, cased)?,
        required.into_iter().collect(),
    ))
}

/// Whether ASCII case folding is all the folding `text` needs: its
/// non-ASCII characters (dashes, symbols) have no case.
fn folds_like_ascii(text: &str) -> bool {
    text.chars().all(|c| {
        c.is_ascii()
            || (c.to_lowercase().eq(std::iter::once(c)) && c.to_uppercase().eq(std::iter::once(c)))
    })
}

fn longest_ascii_literal(pieces: &[Piece], cased: bool) -> Option<Lit> {
    pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Lit(t) if cased || folds_like_ascii(t) => Some(t),
            _ => None,
        })
        .max_by_key(|t| t.len())
        .map(|t| Lit {
            text: t.clone(),
            pos: Pos::Contains,
            cased,
        })
}

/// A regex for the whole field: `*` is any text, `?` one character,
/// literals are escaped. Leading and trailing `*` become an unanchored end
/// (cheaper to compile and to run than `.*`).
fn glob_regex(pieces: &[Piece], cased: bool) -> Result<Arc<LazyRegex>, String> {
    let ascii = pieces.iter().all(|p| match p {
        Piece::Lit(t) => cased || folds_like_ascii(t),
        _ => true,
    });
    let flags = match (cased, ascii) {
        (true, true) => "(?s-u)",
        (false, true) => "(?is-u)",
        (true, false) => "(?s)",
        (false, false) => "(?is)",
    };
    let mut re = String::from(flags);
    let lead = pieces.first() == Some(&Piece::Any);
    let trail = pieces.len() > 1 && pieces.last() == Some(&Piece::Any);
    let inner = &pieces[usize::from(lead)..pieces.len() - usize::from(trail)];
    if !lead {
        re.push('^');
    }
    for p in inner {
        match p {
            Piece::Lit(t) => re.push_str(&regex::escape(t)),
            Piece::Any => re.push_str(".*"),
            // One character, also when it is several bytes long.
            Piece::One => re.push_str("(?su:.)"),
            Piece::Placeholder(n) => return Err(format!("placeholder %{n}% was not expanded")),
        }
    }
    if !trail {
        re.push('$');
    }
    Ok(LazyRegex::new(re, ascii))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(p: &Pattern<Lit>) -> Option<(String, Pos)> {
        match p {
            Pattern::Literal(l) => Some((l.text.clone(), l.pos)),
            _ => None,
        }
    }

    #[test]
    fn literals_and_positions() {
        let cases = [
            ("abc", Pos::Exact, Some(("abc", Pos::Exact))),
            ("abc", Pos::Contains, Some(("abc", Pos::Contains))),
            ("*abc", Pos::Exact, Some(("abc", Pos::Suffix))),
            ("abc*", Pos::Exact, Some(("abc", Pos::Prefix))),
            ("*abc*", Pos::Prefix, Some(("abc", Pos::Contains))),
            ("abc", Pos::Suffix, Some(("abc", Pos::Suffix))),
            ("a*c", Pos::Exact, None),
            ("a?c", Pos::Contains, None),
            ("äbc", Pos::Exact, None),
        ];
        for (raw, pos, want) in cases {
            let p = build_one(&SigmaString::parse(raw, false), pos, false, false).unwrap();
            assert_eq!(
                lit(&p),
                want.map(|(t, p)| (t.to_string(), p)),
                "{raw} {pos:?}"
            );
        }
        assert!(matches!(
            build_one(&SigmaString::parse("", false), Pos::Exact, false, false),
            Ok(Pattern::Empty)
        ));
        assert!(matches!(
            build_one(&SigmaString::parse("*", false), Pos::Exact, false, false),
            Ok(Pattern::Present)
        ));
        assert!(matches!(
            build_one(&SigmaString::parse("", false), Pos::Contains, false, false),
            Ok(Pattern::Present)
        ));
    }

    #[test]
    fn short_unicode_literals_become_their_case_variants() {
        let texts = |raw: &str| -> Vec<(String, bool)> {
            build(&SigmaString::parse(raw, false), Pos::Contains, false, false)
                .unwrap()
                .into_iter()
                .map(|p| match p {
                    Pattern::Literal(l) => (l.text, l.cased),
                    _ => panic!("{raw}: not a literal"),
                })
                .collect()
        };
        // Cyrillic A, as the homoglyph rules write it.
        assert_eq!(
            texts("\u{410}"),
            vec![("\u{410}".to_string(), true), ("\u{430}".to_string(), true)]
        );
        // The Kelvin sign folds with k: every member of the class.
        assert_eq!(texts("\u{212a}").len(), 3);
        assert_eq!(texts("Äb").len(), 4);
        // Too many variants: a regex.
        let long = build(
            &SigmaString::parse("ÄRGERLICH", false),
            Pos::Contains,
            false,
            false,
        )
        .unwrap();
        assert!(matches!(long.as_slice(), [Pattern::Regex(..)]));
    }

    #[test]
    fn regexes_for_inner_wildcards_and_unicode() {
        let build = build_one;
        let p = build(
            &SigmaString::parse(r"C:\\*\evil?.exe", false),
            Pos::Exact,
            false,
            false,
        )
        .unwrap();
        let Pattern::Regex(re, req) = p else { panic!() };
        assert!(re.is_match(r"c:\users\x\EVIL1.exe"));
        assert!(!re.is_match(r"c:\users\x\evil.exe"));
        assert_eq!(req[0].text, "\\evil");
        let dash = build(
            &SigmaString::parse(" \u{2013}enc ", false),
            Pos::Contains,
            false,
            false,
        )
        .unwrap();
        assert!(
            matches!(dash, Pattern::Literal(_)),
            "a caseless dash needs no regex"
        );
        let u = build(
            &SigmaString::parse("ÄRGER", false),
            Pos::Contains,
            false,
            false,
        )
        .unwrap();
        let Pattern::Regex(re, _) = u else { panic!() };
        assert!(re.is_match("viel ärger hier"));
        let k = build(
            &SigmaString::parse("mimi*katz", false),
            Pos::Contains,
            false,
            true,
        )
        .unwrap();
        let Pattern::Regex(re, _) = k else { panic!() };
        assert!(re.is_match("run MimiKatz now"));
        let lit = build(
            &SigmaString::parse("mimikatz", false),
            Pos::Contains,
            false,
            true,
        )
        .unwrap();
        assert!(matches!(lit, Pattern::Literal(_)));
        assert!(Pos::Suffix.accepts(3, 5, 5) && !Pos::Prefix.accepts(1, 2, 5));
    }
}
