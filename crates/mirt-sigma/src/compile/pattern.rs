//! String patterns: a Sigma string plus where it must occur becomes a
//! literal for the multi-pattern scanner, or a regular expression for what
//! a literal cannot say (inner wildcards, `?`, non-ASCII case folding).

use crate::value::{Piece, SigmaString};
use regex::Regex;

/// Where a literal must occur in the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

/// A regex over field text: byte-oriented with ASCII case folding when
/// that is all the pattern needs (far smaller and quicker to build than a
/// Unicode-aware one), Unicode-aware otherwise.
#[derive(Debug, Clone)]
pub(crate) enum TextRegex {
    Bytes(regex::bytes::Regex),
    Unicode(Regex),
}

impl TextRegex {
    pub(crate) fn is_match(&self, text: &str) -> bool {
        match self {
            TextRegex::Bytes(re) => re.is_match(text.as_bytes()),
            TextRegex::Unicode(re) => re.is_match(text),
        }
    }
}

/// A compiled string pattern. `L` is how a literal is referred to: its
/// text before bucket assembly, an atom id after.
#[derive(Debug, Clone)]
pub(crate) enum Pattern<L> {
    /// A literal the scanner finds.
    Literal(L),
    /// The field is empty (or null).
    Empty,
    /// Any value of a present field (`*`).
    Present,
    /// A regular expression, with a literal that must occur for it to
    /// match (checked first, through the scanner).
    Regex(TextRegex, Option<L>),
}

/// A literal before bucket assembly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Lit {
    pub text: String,
    pub pos: Pos,
    pub cased: bool,
}

/// Builds the pattern for `s` at `pos`. `keyword` patterns never use the
/// scanner (they search every field), so they are always regexes.
pub(crate) fn build(
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
        [Piece::Lit(text)] if !keyword && (cased || folds_like_ascii(text)) => {
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
    Ok(Pattern::Regex(glob_regex(&pieces, cased)?, required))
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
fn glob_regex(pieces: &[Piece], cased: bool) -> Result<TextRegex, String> {
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
    let fail = |e: regex::Error| format!("cannot compile the wildcard pattern: {e}");
    if ascii {
        regex::bytes::Regex::new(&re)
            .map(TextRegex::Bytes)
            .map_err(fail)
    } else {
        Regex::new(&re).map(TextRegex::Unicode).map_err(fail)
    }
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
            let p = build(&SigmaString::parse(raw, false), pos, false, false).unwrap();
            assert_eq!(
                lit(&p),
                want.map(|(t, p)| (t.to_string(), p)),
                "{raw} {pos:?}"
            );
        }
        assert!(matches!(
            build(&SigmaString::parse("", false), Pos::Exact, false, false),
            Ok(Pattern::Empty)
        ));
        assert!(matches!(
            build(&SigmaString::parse("*", false), Pos::Exact, false, false),
            Ok(Pattern::Present)
        ));
        assert!(matches!(
            build(&SigmaString::parse("", false), Pos::Contains, false, false),
            Ok(Pattern::Present)
        ));
    }

    #[test]
    fn regexes_for_inner_wildcards_and_unicode() {
        let p = build(
            &SigmaString::parse(r"C:\\*\evil?.exe", false),
            Pos::Exact,
            false,
            false,
        )
        .unwrap();
        let Pattern::Regex(re, Some(req)) = p else {
            panic!()
        };
        assert!(re.is_match(r"c:\users\x\EVIL1.exe"));
        assert!(!re.is_match(r"c:\users\x\evil.exe"));
        assert_eq!(req.text, "\\evil");
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
        let Pattern::Regex(re, None) = u else {
            panic!()
        };
        assert!(re.is_match("viel ärger hier"));
        let k = build(
            &SigmaString::parse("mimikatz", false),
            Pos::Contains,
            false,
            true,
        )
        .unwrap();
        let Pattern::Regex(re, None) = k else {
            panic!()
        };
        assert!(re.is_match("run MimiKatz now"));
        assert!(Pos::Suffix.accepts(3, 5, 5) && !Pos::Prefix.accepts(1, 2, 5));
    }
}
