//! The condition language: `and`, `or`, `not`, parentheses, `1 of`,
//! `all of`, `N of` a search-identifier pattern or `them`.
//!
//! Precedence, least to most binding: `or`, `and`, `not`, `x of`, `( )`.

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// A search identifier.
    Search(String),
    /// All must hold.
    And(Vec<Condition>),
    /// One must hold.
    Or(Vec<Condition>),
    /// Negation.
    Not(Box<Condition>),
    /// `1 of x*`, `all of them`, `2 of selection_*`.
    Of(Quantity, OfTarget),
}

/// How many searches of an `of` expression must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// At least this many (`1 of` is `AtLeast(1)`).
    AtLeast(u32),
    /// All of them.
    All,
}

/// What an `of` expression ranges over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfTarget {
    /// All search identifiers not starting with `_`.
    Them,
    /// The search identifiers matching a pattern with `*` wildcards.
    Pattern(String),
}

impl OfTarget {
    /// The search identifiers among `names` this target ranges over.
    pub fn select<'a>(&self, names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
        match self {
            OfTarget::Them => names.filter(|n| !n.starts_with('_')).collect(),
            OfTarget::Pattern(p) => names.filter(|n| glob_match(p, n)).collect(),
        }
    }
}

/// `*`-wildcard match of a search identifier.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    Word(String),
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, tokens: &mut Vec<Token>| {
        if !word.is_empty() {
            tokens.push(Token::Word(std::mem::take(word)));
        }
    };
    for c in text.chars() {
        match c {
            '(' | ')' => {
                flush(&mut word, &mut tokens);
                tokens.push(if c == '(' { Token::Open } else { Token::Close });
            }
            c if c.is_whitespace() => flush(&mut word, &mut tokens),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut tokens);
    tokens
}

/// Parses a condition; the error says what was expected where.
pub fn parse(text: &str) -> Result<Condition, String> {
    if text.contains('|') {
        return Err(
            "aggregations after '|' (count(), near) are obsolete Sigma 1.0 syntax; use a correlation rule"
                .into(),
        );
    }
    let tokens = tokenize(text);
    if tokens.is_empty() {
        return Err("the condition is empty".into());
    }
    let mut p = Parser { tokens, pos: 0 };
    let cond = p.or()?;
    match p.tokens.get(p.pos) {
        None => Ok(cond),
        Some(t) => Err(format!("unexpected {} after a complete condition", show(t))),
    }
}

fn show(t: &Token) -> String {
    match t {
        Token::Open => "'('".into(),
        Token::Close => "')'".into(),
        Token::Word(w) => format!("'{w}'"),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn or(&mut self) -> Result<Condition, String> {
        let mut items = vec![self.and()?];
        while self.peek_keyword("or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Condition::Or(items)
        })
    }

    fn and(&mut self) -> Result<Condition, String> {
        let mut items = vec![self.not()?];
        while self.peek_keyword("and") {
            self.pos += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Condition::And(items)
        })
    }

    fn not(&mut self) -> Result<Condition, String> {
        if self.peek_keyword("not") {
            self.pos += 1;
            return Ok(Condition::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Condition, String> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        match token {
            None => Err("the condition ends where a search identifier was expected".into()),
            Some(Token::Open) => {
                let inner = self.or()?;
                match self.tokens.get(self.pos) {
                    Some(Token::Close) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    _ => Err("missing ')'".into()),
                }
            }
            Some(Token::Close) => Err("unexpected ')'".into()),
            Some(Token::Word(w)) => {
                if self.peek_keyword("of") {
                    self.pos += 1;
                    return self.of(&w);
                }
                if ["and", "or", "not", "of", "them"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k))
                {
                    return Err(format!("'{w}' where a search identifier was expected"));
                }
                Ok(Condition::Search(w))
            }
        }
    }

    fn of(&mut self, quantity: &str) -> Result<Condition, String> {
        let quantity = if quantity.eq_ignore_ascii_case("all") {
            Quantity::All
        } else if quantity.eq_ignore_ascii_case("any") {
            Quantity::AtLeast(1)
        } else {
            match quantity.parse::<u32>() {
                Ok(n) if n > 0 => Quantity::AtLeast(n),
                _ => {
                    return Err(format!(
                        "'{quantity} of': expected '1 of', 'all of' or 'N of'"
                    ));
                }
            }
        };
        let target = match self.tokens.get(self.pos) {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("them") => OfTarget::Them,
            Some(Token::Word(w)) => OfTarget::Pattern(w.clone()),
            _ => {
                return Err(
                    "'of' must be followed by 'them' or a search identifier pattern".into(),
                );
            }
        };
        self.pos += 1;
        Ok(Condition::Of(quantity, target))
    }
}

impl Condition {
    /// Checks that every search identifier exists and every pattern names
    /// at least one search.
    pub fn check(&self, names: &[&str]) -> Result<(), String> {
        match self {
            Condition::Search(s) => {
                if names.contains(&s.as_str()) {
                    Ok(())
                } else {
                    Err(format!("the condition names '{s}', which is not defined"))
                }
            }
            Condition::And(items) | Condition::Or(items) => {
                items.iter().try_for_each(|c| c.check(names))
            }
            Condition::Not(inner) => inner.check(names),
            Condition::Of(_, target) => {
                if target.select(names.iter().copied()).is_empty() {
                    let what = match target {
                        OfTarget::Them => "them".to_string(),
                        OfTarget::Pattern(p) => format!("'{p}'"),
                    };
                    Err(format!("{what} matches no search identifier"))
                } else {
                    Ok(())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Condition::*;

    fn s(n: &str) -> Condition {
        Search(n.into())
    }

    #[test]
    fn forms_and_precedence() {
        let pat = |p: &str| OfTarget::Pattern(p.into());
        let cases: Vec<(&str, Condition)> = vec![
            ("selection", s("selection")),
            ("a or b and c", Or(vec![s("a"), And(vec![s("b"), s("c")])])),
            ("not a and b", And(vec![Not(Box::new(s("a"))), s("b")])),
            ("not (a and b)", Not(Box::new(And(vec![s("a"), s("b")])))),
            (
                "1 of selection_*",
                Of(Quantity::AtLeast(1), pat("selection_*")),
            ),
            ("all of them", Of(Quantity::All, OfTarget::Them)),
            ("2 of x*", Of(Quantity::AtLeast(2), pat("x*"))),
            (
                "sel and not 1 of filter_*",
                And(vec![
                    s("sel"),
                    Not(Box::new(Of(Quantity::AtLeast(1), pat("filter_*")))),
                ]),
            ),
            ("((a))", s("a")),
            ("a AND b", And(vec![s("a"), s("b")])),
            (
                "x and (y or (z and not w))",
                And(vec![
                    s("x"),
                    Or(vec![s("y"), And(vec![s("z"), Not(Box::new(s("w")))])]),
                ]),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn errors_table() {
        let cases = [
            ("", "empty"),
            ("a and", "ends"),
            ("(a or b", "missing ')'"),
            ("a b", "unexpected 'b'"),
            ("selection | count() > 5", "obsolete"),
            ("0 of x", "expected '1 of'"),
            ("1 of", "must be followed"),
            ("a or ) b", "unexpected ')'"),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn check_and_patterns() {
        let names = ["selection", "filter_a", "filter_b", "_hidden"];
        assert!(
            parse("selection and not 1 of filter_*")
                .unwrap()
                .check(&names)
                .is_ok()
        );
        assert!(parse("selection and nope").unwrap().check(&names).is_err());
        assert!(parse("1 of x*").unwrap().check(&names).is_err());
        assert_eq!(
            OfTarget::Them.select(names.iter().copied()),
            vec!["selection", "filter_a", "filter_b"]
        );
        assert!(glob_match("*_b", "filter_b"));
        assert!(glob_match("f*a*", "filter_a"));
        assert!(!glob_match("f*x*", "filter_a"));
        assert!(glob_match("*", "anything"));
    }
}
