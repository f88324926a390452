//! A small pull scanner over one JSON document, made for the JSON the `evtx`
//! crate renders: the text is checked as UTF-8 once, strings without escapes
//! are borrowed, and parts nobody needs are skipped without being built.

use compact_str::CompactString;
use mirt_core::Value;
use std::borrow::Cow;

/// Where and why the text is not the JSON expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byte {offset}: {what}")]
pub struct SyntaxError {
    /// Offset in the rendered record.
    pub offset: usize,
    /// What was expected.
    pub what: &'static str,
}

pub type Result<T> = std::result::Result<T, SyntaxError>;

pub struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

/// Deeper nesting than this is refused rather than recursed into.
const MAX_DEPTH: usize = 128;

impl<'a> Scanner<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<Self> {
        let text = std::str::from_utf8(bytes).map_err(|e| SyntaxError {
            offset: e.valid_up_to(),
            what: "valid UTF-8",
        })?;
        Ok(Scanner {
            text,
            bytes,
            pos: 0,
            depth: 0,
        })
    }

    fn err<T>(&self, what: &'static str) -> Result<T> {
        Err(SyntaxError {
            offset: self.pos,
            what,
        })
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8, what: &'static str) -> Result<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            self.err(what)
        }
    }

    /// Checks that nothing but whitespace is left.
    pub fn end(&mut self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => self.err("end of the document"),
        }
    }

    /// Whether the next value is `null` (consumed if so).
    pub fn null(&mut self) -> Result<bool> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Whether the next value is an object.
    pub fn at_object(&mut self) -> bool {
        self.peek() == Some(b'{')
    }

    /// Visits every member of the object that comes next: `f` gets the key
    /// and must consume the value.
    pub fn object(
        &mut self,
        mut f: impl FnMut(&mut Self, Cow<'a, str>) -> Result<()>,
    ) -> Result<()> {
        self.eat(b'{', "an object")?;
        self.enter()?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.eat(b':', "':'")?;
            f(self, key)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return self.err("',' or '}'"),
            }
        }
    }

    /// Visits every element of the array that comes next.
    pub fn array(&mut self, mut f: impl FnMut(&mut Self) -> Result<()>) -> Result<()> {
        self.eat(b'[', "an array")?;
        self.enter()?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            f(self)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return self.err("',' or ']'"),
            }
        }
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("less deeply nested values");
        }
        Ok(())
    }

    /// A string, borrowed when it has no escapes.
    pub fn string(&mut self) -> Result<Cow<'a, str>> {
        self.eat(b'"', "a string")?;
        let start = self.pos;
        let Some(n) = memchr::memchr2(b'"', b'\\', &self.bytes[start..]) else {
            return self.err("the end of the string");
        };
        if self.bytes[start + n] == b'"' {
            self.pos = start + n + 1;
            return Ok(Cow::Borrowed(&self.text[start..start + n]));
        }
        self.pos = start + n;
        let mut out = String::with_capacity(n + 16);
        out.push_str(&self.text[start..start + n]);
        self.unescape_rest(&mut out)?;
        Ok(Cow::Owned(out))
    }

    fn unescape_rest(&mut self, out: &mut String) -> Result<()> {
        loop {
            match self.bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let esc = self.bytes.get(self.pos + 1).copied();
                    self.pos += 2;
                    match esc {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let c = self.unicode_escape()?;
                            out.push(c);
                        }
                        _ => return self.err("a valid escape"),
                    }
                }
                Some(_) => {
                    let start = self.pos;
                    let n = memchr::memchr2(b'"', b'\\', &self.bytes[start..])
                        .unwrap_or(self.bytes.len() - start);
                    out.push_str(&self.text[start..start + n]);
                    self.pos = start + n;
                }
                None => return self.err("the end of the string"),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let digits = self.text.get(self.pos..self.pos + 4);
        let Some(n) = digits.and_then(|d| u32::from_str_radix(d, 16).ok()) else {
            return self.err("four hex digits");
        };
        self.pos += 4;
        Ok(n)
    }

    fn unicode_escape(&mut self) -> Result<char> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) && self.text[self.pos..].starts_with("\\u") {
            let save = self.pos;
            self.pos += 2;
            let lo = self.hex4()?;
            if (0xDC00..0xE000).contains(&lo) {
                let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
            }
            self.pos = save;
        }
        // A lone surrogate (Windows strings can hold them) becomes U+FFFD.
        Ok(char::from_u32(hi).unwrap_or('\u{FFFD}'))
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<()> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            self.err("true, false or null")
        }
    }

    fn number(&mut self) -> Result<Value> {
        let start = self.pos;
        let mut float = false;
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b'0'..=b'9' | b'-' | b'+' => {}
                b'.' | b'e' | b'E' => float = true,
                _ => break,
            }
            self.pos += 1;
        }
        let text = &self.text[start..self.pos];
        let value = if float {
            text.parse().ok().map(Value::Float)
        } else if text.starts_with('-') {
            text.parse().ok().map(Value::Int)
        } else {
            text.parse().ok().map(Value::UInt)
        };
        match value {
            Some(v) => Ok(v),
            None => {
                self.pos = start;
                self.err("a number")
            }
        }
    }

    /// Any value. Objects become their `#text` member when they have one
    /// (an element with attributes and text), else their JSON text.
    pub fn value(&mut self) -> Result<Value> {
        match self.peek() {
            Some(b'"') => Ok(Value::Str(CompactString::from(self.string()?))),
            Some(b'{') => self.object_value(),
            Some(b'[') => {
                let mut items = Vec::new();
                self.array(|s| {
                    items.push(s.value()?);
                    Ok(())
                })?;
                Ok(Value::List(items))
            }
            Some(b't') => self.literal(b"true").map(|_| Value::Bool(true)),
            Some(b'f') => self.literal(b"false").map(|_| Value::Bool(false)),
            Some(b'n') => self.literal(b"null").map(|_| Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => self.err("a value"),
        }
    }

    fn object_value(&mut self) -> Result<Value> {
        let start = self.pos;
        let mut text = None;
        self.object(|s, key| {
            if key == "#text" {
                text = Some(s.value()?);
            } else {
                s.skip()?;
            }
            Ok(())
        })?;
        Ok(text.unwrap_or_else(|| Value::from(&self.text[start..self.pos])))
    }

    /// Skips the next value.
    pub fn skip(&mut self) -> Result<()> {
        match self.peek() {
            Some(b'"') => self.string().map(drop),
            Some(b'{') => self.object(|s, _| s.skip()),
            Some(b'[') => self.array(|s| s.skip()),
            _ => self.value().map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Value {
        let mut s = Scanner::new(text.as_bytes()).unwrap();
        let v = s.value().unwrap();
        s.end().unwrap();
        v
    }

    #[test]
    fn scalars_keep_their_types() {
        assert_eq!(value("42"), Value::UInt(42));
        assert_eq!(value("-7"), Value::Int(-7));
        assert_eq!(value("1.5e2"), Value::Float(150.0));
        assert_eq!(value("true"), Value::Bool(true));
        assert_eq!(value("null"), Value::Null);
        assert_eq!(value("18446744073709551615"), Value::UInt(u64::MAX));
    }

    #[test]
    fn strings_are_unescaped() {
        assert_eq!(
            value(r#""C:\\Windows\\x.exe""#),
            Value::from("C:\\Windows\\x.exe")
        );
        assert_eq!(
            value(r#""a\"b\n\u00e9\ud83d\ude00""#),
            Value::from("a\"b\né😀")
        );
        assert_eq!(
            value(r#""lone \ud800 surrogate""#),
            Value::from("lone \u{FFFD} surrogate")
        );
    }

    #[test]
    fn objects_with_text_become_the_text() {
        assert_eq!(
            value(r##"{"#attributes":{"Q":1},"#text":7036}"##),
            Value::UInt(7036)
        );
        assert_eq!(value(r#"{"a":1}"#), Value::from(r#"{"a":1}"#));
        assert_eq!(
            value(r#"[1,"x",[]]"#),
            Value::List(vec![Value::UInt(1), Value::from("x"), Value::List(vec![])])
        );
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for bad in [
            "",
            "{",
            "[1,",
            "\"abc",
            "{\"a\" 1}",
            "tru",
            "-",
            "\"\\u12\"",
            "\"\\x\"",
            "{\"a\":1,}",
        ] {
            let mut s = Scanner::new(bad.as_bytes()).unwrap();
            assert!(s.value().and_then(|_| s.end()).is_err(), "{bad:?} accepted");
        }
        let deep = "[".repeat(1000);
        let mut s = Scanner::new(deep.as_bytes()).unwrap();
        assert!(s.value().is_err());
        assert!(Scanner::new(b"\"\xff\"").is_err());
    }
}
