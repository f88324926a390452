//! Sigma strings: literal text, the wildcards `*` and `?`, and `%name%`
//! placeholders, with the specification's backslash escaping.

/// A part of a Sigma string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Piece {
    /// Literal text.
    Lit(String),
    /// `*`: any number of characters.
    Any,
    /// `?`: exactly one character.
    One,
    /// `%name%` in a value with the `expand` modifier.
    Placeholder(String),
}

/// A string value of a detection, as written and as parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SigmaString {
    /// The text as written in the rule (used by `re`).
    pub raw: String,
    /// The parsed pieces; adjacent literals are merged.
    pub pieces: Vec<Piece>,
}

impl SigmaString {
    /// Parses `raw`: `*` and `?` are wildcards; a backslash escapes `*`, `?`
    /// and itself, and is literal before anything else. With
    /// `placeholders`, `%name%` is a placeholder and `\%` a literal `%`.
    pub fn parse(raw: &str, placeholders: bool) -> SigmaString {
        let mut s = SigmaString {
            raw: raw.to_string(),
            pieces: Vec::new(),
        };
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek() {
                    Some(&next @ ('*' | '?' | '\\')) => {
                        chars.next();
                        s.push_char(next);
                    }
                    Some('%') if placeholders => {
                        chars.next();
                        s.push_char('%');
                    }
                    _ => s.push_char('\\'),
                },
                '*' => s.pieces.push(Piece::Any),
                '?' => s.pieces.push(Piece::One),
                '%' if placeholders => {
                    let rest: String = chars.clone().collect();
                    match rest.find('%') {
                        Some(end) if end > 0 => {
                            s.pieces.push(Piece::Placeholder(rest[..end].to_string()));
                            for _ in 0..=rest[..end].chars().count() {
                                chars.next();
                            }
                        }
                        _ => s.push_char('%'),
                    }
                }
                _ => s.push_char(c),
            }
        }
        s
    }

    /// A string of literal text only.
    pub fn literal(text: &str) -> SigmaString {
        let mut s = SigmaString {
            raw: text.to_string(),
            pieces: Vec::new(),
        };
        s.push_str(text);
        s
    }

    /// Builds a string from pieces (merging adjacent literals).
    pub fn from_pieces(pieces: impl IntoIterator<Item = Piece>, raw: &str) -> SigmaString {
        let mut s = SigmaString {
            raw: raw.to_string(),
            pieces: Vec::new(),
        };
        for p in pieces {
            match p {
                Piece::Lit(t) => s.push_str(&t),
                other => s.pieces.push(other),
            }
        }
        s
    }

    fn push_char(&mut self, c: char) {
        match self.pieces.last_mut() {
            Some(Piece::Lit(t)) => t.push(c),
            _ => self.pieces.push(Piece::Lit(c.to_string())),
        }
    }

    fn push_str(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.pieces.last_mut() {
            Some(Piece::Lit(t)) => t.push_str(text),
            _ => self.pieces.push(Piece::Lit(text.to_string())),
        }
    }

    /// The text, if the string has no wildcards or placeholders.
    pub fn as_plain(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [] => Some(""),
            [Piece::Lit(t)] => Some(t),
            _ => None,
        }
    }

    /// Whether it contains placeholders.
    pub fn has_placeholders(&self) -> bool {
        self.pieces
            .iter()
            .any(|p| matches!(p, Piece::Placeholder(_)))
    }

    /// Whether it contains `*` or `?`.
    pub fn has_wildcards(&self) -> bool {
        self.pieces
            .iter()
            .any(|p| matches!(p, Piece::Any | Piece::One))
    }

    /// `*` before the string, unless it starts with one already.
    pub fn prepend_any(&mut self) {
        if self.pieces.first() != Some(&Piece::Any) {
            self.pieces.insert(0, Piece::Any);
        }
    }

    /// `*` after the string, unless it ends with one already.
    pub fn append_any(&mut self) {
        if self.pieces.last() != Some(&Piece::Any) {
            self.pieces.push(Piece::Any);
        }
    }
}

impl std::fmt::Display for SigmaString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for p in &self.pieces {
            match p {
                Piece::Lit(t) => {
                    for c in t.chars() {
                        if matches!(c, '*' | '?' | '\\') {
                            f.write_str("\\")?;
                        }
                        write!(f, "{c}")?;
                    }
                }
                Piece::Any => f.write_str("*")?,
                Piece::One => f.write_str("?")?,
                Piece::Placeholder(n) => write!(f, "%{n}%")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(t: &str) -> Piece {
        Piece::Lit(t.to_string())
    }

    #[test]
    fn escaping_table_from_the_specification() {
        let cases: &[(&str, Vec<Piece>)] = &[
            (r"C:\Windows\", vec![lit(r"C:\Windows\")]),
            (r"C:\\Windows", vec![lit(r"C:\Windows")]),
            (r"a\*b", vec![lit("a*b")]),
            (r"a\?b", vec![lit("a?b")]),
            (r"a\\*", vec![lit(r"a\"), Piece::Any]),
            (r"a\\\*", vec![lit(r"a\*")]),
            (r"\\\\", vec![lit(r"\\")]),
            (r"\\\", vec![lit(r"\\")]),
            (
                "*evil?.exe",
                vec![Piece::Any, lit("evil"), Piece::One, lit(".exe")],
            ),
            ("%name%", vec![lit("%name%")]),
            ("", vec![]),
        ];
        for (raw, want) in cases {
            assert_eq!(&SigmaString::parse(raw, false).pieces, want, "{raw}");
        }
    }

    #[test]
    fn placeholders_only_with_expand() {
        let s = SigmaString::parse(r"\%plain%name%x", true);
        assert_eq!(
            s.pieces,
            vec![lit("%plain"), Piece::Placeholder("name".into()), lit("x")]
        );
        assert!(s.has_placeholders());
        let lone = SigmaString::parse("100%", true);
        assert_eq!(lone.pieces, vec![lit("100%")]);
    }

    #[test]
    fn display_round_trips() {
        for raw in [r"a\*b*c?", "plain", r"C:\x\"] {
            let s = SigmaString::parse(raw, false);
            assert_eq!(SigmaString::parse(&s.to_string(), false).pieces, s.pieces);
        }
    }
}
