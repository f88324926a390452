//! Scalars of the fast reader: plain and quoted ones on one line, keys,
//! and literal and folded block scalars.

use super::{Reader, doc_marker, is_sep, key_colon_after, skip_spaces, trailing_ok};
use crate::yaml::{Node, Yaml, resolve_plain};

/// yaml-rust2 refuses longer implicit keys; leave those to it.
const MAX_KEY: usize = 1024;

/// A plain scalar resolved with the core schema.
pub(super) fn plain_node(text: &str, line: u64) -> Node {
    Node {
        value: resolve_plain(text.to_owned()),
        line,
    }
}

/// Where the plain scalar at `col` ends (trailing spaces left out) and
/// whether it is a key (a `:` and a space or the end of the line follow).
/// `None` when it starts with an indicator the reader leaves to yaml-rust2.
pub(super) fn plain_end(l: &[u8], col: usize) -> Option<(usize, bool)> {
    if !plain_start(l, col, b"") {
        return None;
    }
    let mut i = col;
    let (end, is_key) = loop {
        match l.get(i) {
            None => break (i, false),
            Some(b':') if is_sep(l, i + 1) => break (i, true),
            Some(b'#') if l[i - 1] == b' ' => break (i, false),
            _ => i += 1,
        }
    };
    Some((trim_end(l, col, end), is_key))
}

/// Whether a plain scalar may start at `col`: not with an indicator, nor
/// with `-` before a space or one of `extra` (the flow indicators).
pub(super) fn plain_start(l: &[u8], col: usize, extra: &[u8]) -> bool {
    match l[col] {
        // As yaml-rust2 does, `-`, `?` and `:` before a non-space start one.
        b'-' | b'?' | b':' => l
            .get(col + 1)
            .is_some_and(|&b| b != b' ' && !extra.contains(&b)),
        b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' => false,
        _ => true,
    }
}

/// The end of `l[col..end]` without its trailing spaces.
pub(super) fn trim_end(l: &[u8], col: usize, mut end: usize) -> usize {
    while end > col && l[end - 1] == b' ' {
        end -= 1;
    }
    end
}

/// The key of a block mapping entry at `col` and the position after its
/// `:`.
pub(super) fn key(s: &str, col: usize) -> Option<(Yaml, usize)> {
    let l = s.as_bytes();
    let (value, end) = if matches!(l[col], b'\'' | b'"') {
        let (text, end) = quoted(s, col)?;
        key_colon_after(l, end).then_some(())?;
        (Yaml::Str(text), end)
    } else {
        let (end, is_key) = plain_end(l, col)?;
        is_key.then_some(())?;
        (resolve_plain(s[col..end].to_owned()), end)
    };
    if end - col > MAX_KEY {
        return None;
    }
    let colon = skip_spaces(l, end);
    Some((value, colon + 1))
}

/// A quoted scalar starting at `col` and ending on the same line: its
/// text and the position after the closing quote.
pub(super) fn quoted(s: &str, col: usize) -> Option<(String, usize)> {
    let mut out = String::new();
    match quoted_part(s, col + 1, s.as_bytes()[col] == b'\'', &mut out)? {
        Part::Closed(end) => Some((out, end)),
        Part::Open => None,
    }
}

/// How a line of a quoted scalar ends.
enum Part {
    /// With the closing quote, before this position.
    Closed(usize),
    /// With the line: the scalar goes on on the next one.
    Open,
}

/// Reads a quoted scalar's text from position `i` of line `s` into `out`.
fn quoted_part(s: &str, i: usize, single: bool, out: &mut String) -> Option<Part> {
    if single {
        single_part(s, i, out)
    } else {
        double_part(s, i, out)
    }
}

fn single_part(s: &str, mut i: usize, out: &mut String) -> Option<Part> {
    loop {
        let Some(end) = s[i..].find('\'').map(|e| i + e) else {
            out.push_str(s[i..].trim_end_matches(' '));
            return Some(Part::Open);
        };
        out.push_str(&s[i..end]);
        if s.as_bytes().get(end + 1) != Some(&b'\'') {
            return Some(Part::Closed(end + 1));
        }
        out.push('\'');
        i = end + 2;
    }
}

fn double_part(s: &str, mut i: usize, out: &mut String) -> Option<Part> {
    loop {
        let Some(end) = s[i..].find(['"', '\\']).map(|e| i + e) else {
            out.push_str(s[i..].trim_end_matches(' '));
            return Some(Part::Open);
        };
        out.push_str(&s[i..end]);
        if s.as_bytes()[end] == b'"' {
            return Some(Part::Closed(end + 1));
        }
        i = escape(s, end + 1, out)?;
    }
}

/// Decodes the escape after a `\` at `i - 1`, as yaml-rust2 does; a `\`
/// at the end of the line (a line continuation) is left to it.
fn escape(s: &str, i: usize, out: &mut String) -> Option<usize> {
    let simple = match *s.as_bytes().get(i)? {
        b'0' => '\0',
        b'a' => '\x07',
        b'b' => '\x08',
        b't' => '\t',
        b'n' => '\n',
        b'v' => '\x0b',
        b'f' => '\x0c',
        b'r' => '\r',
        b'e' => '\x1b',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'N' => '\u{85}',
        b'_' => '\u{a0}',
        b'L' => '\u{2028}',
        b'P' => '\u{2029}',
        b'x' => return hex_escape(s, i + 1, 2, out),
        b'u' => return hex_escape(s, i + 1, 4, out),
        b'U' => return hex_escape(s, i + 1, 8, out),
        _ => return None,
    };
    out.push(simple);
    Some(i + 1)
}

fn hex_escape(s: &str, i: usize, len: usize, out: &mut String) -> Option<usize> {
    let digits = s.get(i..i + len)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    out.push(char::from_u32(u32::from_str_radix(digits, 16).ok()?)?);
    Some(i + len)
}

#[derive(Clone, Copy)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

impl Reader<'_> {
    /// A quoted scalar starting at `col`, maybe over several lines (folded:
    /// a line break becomes a space, each empty line a line break), inside
    /// a collection at column `parent`. Leaves the reader on the line of
    /// the closing quote; gives its text and the position after it.
    pub(super) fn quoted_scalar(&mut self, col: usize, parent: isize) -> Option<(String, usize)> {
        let single = self.cur()[col] == b'\'';
        let mut out = String::new();
        let mut i = col + 1;
        loop {
            if let Part::Closed(end) = quoted_part(self.cur_str(), i, single, &mut out)? {
                return Some((out, end));
            }
            let mut empty = 0;
            loop {
                self.pos += 1;
                let l = self.peek()?;
                i = skip_spaces(l, 0);
                if i < l.len() {
                    break;
                }
                empty += 1;
            }
            // Continuation lines must be indented inside the collection.
            let l = self.cur();
            if doc_marker(l).is_some() || i as isize <= parent {
                return None;
            }
            match empty {
                0 => out.push(' '),
                n => out.extend(std::iter::repeat_n('\n', n)),
            }
        }
    }

    /// A plain scalar whose first line ends at `end`, with the lines that
    /// continue it (indented deeper than `parent`), folded. Leaves the
    /// reader after its last line.
    pub(super) fn plain_scalar(&mut self, col: usize, end: usize, parent: isize) -> Option<Node> {
        let (s, line) = (self.cur_str(), self.line_no());
        let mut text = String::from(&s[col..end]);
        let mut ends_in_comment = end < s.len() && skip_spaces(s.as_bytes(), end) < s.len();
        self.pos += 1;
        let mut empty = 0;
        while let Some(l) = self.peek() {
            let indent = skip_spaces(l, 0);
            if indent == l.len() {
                empty += 1;
                self.pos += 1;
                continue;
            }
            let stop = ends_in_comment
                || doc_marker(l).is_some()
                || l[indent] == b'#'
                || indent as isize <= parent;
            if stop {
                break;
            }
            // A continuation that could be read otherwise is left to
            // yaml-rust2.
            if is_sep(l, indent + 1) && matches!(l[indent], b'-' | b'?' | b':') {
                return None;
            }
            let (cont_end, is_key) = plain_end(l, indent)?;
            if is_key {
                return None;
            }
            match empty {
                0 => text.push(' '),
                n => text.extend(std::iter::repeat_n('\n', n)),
            }
            empty = 0;
            text.push_str(&self.cur_str()[indent..cont_end]);
            ends_in_comment = skip_spaces(l, cont_end) < l.len();
            self.pos += 1;
        }
        Some(Node {
            value: resolve_plain(text),
            line,
        })
    }

    /// A literal (`|`) or folded (`>`) block scalar whose indicator is at
    /// `col`, inside a block collection at column `parent`.
    pub(super) fn block_scalar(&mut self, col: usize, parent: isize) -> Option<Node> {
        let l = self.cur();
        let literal = l[col] == b'|';
        let (chomp, after) = match l.get(col + 1) {
            Some(b'-') => (Chomp::Strip, col + 2),
            Some(b'+') => (Chomp::Keep, col + 2),
            _ => (Chomp::Clip, col + 1),
        };
        if parent < 0 || !trailing_ok(l, after) {
            return None;
        }
        self.pos += 1;
        let (indent, first) = self.content_indent(parent)?;
        let lines = self.content_lines(indent, literal)?;
        let last = lines.iter().rposition(|l| !l.is_empty())?;
        let mut text = if literal {
            lines[..=last].join("\n")
        } else {
            fold(&lines[..=last])
        };
        let breaks = match chomp {
            Chomp::Strip => 0,
            Chomp::Clip => 1,
            Chomp::Keep => lines.len() - last,
        };
        text.extend(std::iter::repeat_n('\n', breaks));
        Some(Node {
            value: Yaml::Str(text),
            // yaml-rust2 marks a block scalar at its first non-empty line.
            line: first as u64 + 1,
        })
    }

    /// The indentation of a block scalar's content, from its first
    /// non-empty line, and that line; `None` for an empty scalar or leading empty lines
    /// longer than that (both left to yaml-rust2).
    fn content_indent(&self, parent: isize) -> Option<(usize, usize)> {
        let mut longest_blank = 0;
        for (i, l) in self.lines.iter().enumerate().skip(self.pos) {
            let l = l.as_bytes();
            let indent = skip_spaces(l, 0);
            if indent < l.len() {
                let ok = indent as isize > parent && longest_blank <= indent;
                return ok.then_some((indent, i));
            }
            longest_blank = longest_blank.max(indent);
        }
        None
    }

    /// The content lines of a block scalar (empty ones as `""`), consumed.
    fn content_lines(&mut self, indent: usize, literal: bool) -> Option<Vec<&str>> {
        let mut out = Vec::new();
        while let Some(l) = self.peek() {
            let spaces = skip_spaces(l, 0);
            if spaces == l.len() {
                (spaces <= indent).then_some(())?;
                out.push("");
            } else if spaces < indent {
                break;
            } else {
                // Folding around more-indented lines is left to yaml-rust2.
                (literal || spaces == indent).then_some(())?;
                out.push(&self.cur_str()[indent..]);
            }
            self.pos += 1;
        }
        // At the end of a text without a final line break, chomping is
        // left to yaml-rust2.
        (self.pos < self.lines.len() || self.terminated).then_some(out)
    }
}

/// Folds the lines of a `>` scalar: a single line break becomes a space,
/// a run of empty lines keeps one break per empty line, and so do the
/// empty lines before the first one.
fn fold(lines: &[&str]) -> String {
    let first = lines.iter().position(|l| !l.is_empty()).unwrap_or(0);
    let mut out = "\n".repeat(first);
    out.push_str(lines[first]);
    let mut empty = 0;
    for l in &lines[first + 1..] {
        if l.is_empty() {
            empty += 1;
            continue;
        }
        match empty {
            0 => out.push(' '),
            n => out.extend(std::iter::repeat_n('\n', n)),
        }
        empty = 0;
        out.push_str(l);
    }
    out
}
