//! Sigma regexes are PCRE (appendix "Modifiers"), where the Perl classes
//! `\d`, `\w`, `\s` and the word boundaries `\b`, `\B` mean ASCII
//! characters only. Rust's `regex` reads them as Unicode classes: wider
//! than the rule says, and costly. `\w{1,64}` alone compiled into an
//! automaton that took 27 ms, more than matching every rule against ten
//! thousand events. The rest of a pattern keeps Rust's reading: `.` and
//! the letters of a pattern are characters, not bytes, and `(?i)` folds
//! case beyond ASCII too.

use regex_syntax::ast::{
    self, Assertion, AssertionKind, Ast, ClassPerl, ClassPerlKind, ClassSetItem, Span,
};

/// `source` with its Perl classes and word boundaries restricted to
/// ASCII, as PCRE reads them; unchanged when it cannot be parsed (the
/// caller reports the error on the original).
pub(crate) fn ascii_perl_classes(source: &str) -> String {
    let Ok(tree) = ast::parse::Parser::new().parse(source) else {
        return source.to_string();
    };
    let Ok(mut edits) = ast::visit(&tree, Edits(Vec::new())) else {
        return source.to_string();
    };
    edits.sort_by_key(|(at, _, _)| *at);
    let mut out = String::with_capacity(source.len() + 16 * edits.len());
    let mut done = 0;
    for (start, end, text) in edits {
        // Perl classes and assertions are leaves: their spans never nest.
        if start < done {
            return source.to_string();
        }
        out.push_str(&source[done..start]);
        out.push_str(&text);
        done = end;
    }
    out.push_str(&source[done..]);
    out
}

/// (start, end, replacement) of each item to rewrite.
struct Edits(Vec<(usize, usize, String)>);

impl Edits {
    fn push(&mut self, span: &Span, text: impl Into<String>) {
        self.0
            .push((span.start.offset, span.end.offset, text.into()));
    }
}

/// The ASCII class named like `class`: as a class of its own (outside
/// brackets) or as an item inside brackets (`[:^word:]`).
fn ascii_class(class: &ClassPerl, inside: bool) -> String {
    let name = match class.kind {
        ClassPerlKind::Digit => "digit",
        ClassPerlKind::Word => "word",
        ClassPerlKind::Space => "space",
    };
    let not = if class.negated { "^" } else { "" };
    let item = format!("[:{not}{name}:]");
    if inside { item } else { format!("[{item}]") }
}

impl ast::Visitor for Edits {
    type Output = Vec<(usize, usize, String)>;
    type Err = ();

    fn finish(self) -> Result<Self::Output, ()> {
        Ok(self.0)
    }

    fn visit_pre(&mut self, node: &Ast) -> Result<(), ()> {
        match node {
            Ast::ClassPerl(class) => self.push(&class.span, ascii_class(class, false)),
            Ast::Assertion(a) => {
                let Assertion { span, kind } = &**a;
                match kind {
                    AssertionKind::WordBoundary => self.push(span, r"(?-u:\b)"),
                    AssertionKind::NotWordBoundary => self.push(span, r"(?-u:\B)"),
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), ()> {
        if let ClassSetItem::Perl(class) = item {
            self.push(&class.span, ascii_class(class, true));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perl_classes_become_ascii() {
        let cases = [
            (r"-k\s\w{1,64}", r"-k[[:space:]][[:word:]]{1,64}"),
            (r"\d+\D", r"[[:digit:]]+[[:^digit:]]"),
            (r"[\w.-]+\W", r"[[:word:].-]+[[:^word:]]"),
            (r"[^\s\d]", r"[^[:space:][:digit:]]"),
            (r"\bcmd\B", r"(?-u:\b)cmd(?-u:\B)"),
            (r"(?i)^a\\w$", r"(?i)^a\\w$"),
            (r"[\\w]", r"[\\w]"),
            (r"x{2}\x41\u{e9}", r"x{2}\x41\u{e9}"),
            (r"(unclosed", r"(unclosed"),
        ];
        for (from, to) in cases {
            assert_eq!(ascii_perl_classes(from), to, "{from}");
        }
    }

    #[test]
    fn the_result_means_what_pcre_means() {
        let re = |p: &str| regex::Regex::new(&ascii_perl_classes(p)).unwrap();
        // Not a word character, digit or space in PCRE.
        assert!(!re(r"^\w$").is_match("é"));
        assert!(re(r"^\W$").is_match("é"));
        assert!(!re(r"^\d$").is_match("٣"));
        assert!(!re(r"^\s$").is_match("\u{a0}"));
        assert!(re(r"^[^\s]$").is_match("\u{a0}"));
        // A word boundary between ASCII word characters and others.
        assert!(re(r"\bcmd\b").is_match("é cmd.exe"));
        assert!(re(r"\bcmd").is_match("écmd"));
        // Characters, not bytes, elsewhere; case folds beyond ASCII.
        assert!(re(r"^.$").is_match("é"));
        assert!(re(r"(?i)^É$").is_match("é"));
    }
}
