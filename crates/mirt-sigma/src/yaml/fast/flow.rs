//! Flow collections of the fast reader: `[a, 'b']` and `{a: b}`, nested,
//! on one line or over several.

use super::scalar::{plain_node, plain_start, quoted, trim_end};
use super::{Reader, doc_marker, is_sep, skip_spaces, trailing_ok};
use crate::yaml::{Node, Yaml};

impl Reader<'_> {
    /// A flow collection starting at `col` of the current line, inside a
    /// block collection at column `parent`; nothing but a comment may
    /// follow it on its last line.
    pub(super) fn flow_node(&mut self, col: usize, parent: isize) -> Option<Node> {
        let mut col = col;
        let node = self.flow_collection(&mut col, parent)?;
        // A `:` after it would make it a complex key.
        trailing_ok(self.cur(), col).then_some(())?;
        self.pos += 1;
        Some(node)
    }

    fn flow_collection(&mut self, col: &mut usize, parent: isize) -> Option<Node> {
        if self.cur()[*col] == b'[' {
            self.flow_seq(col, parent)
        } else {
            self.flow_map(col, parent)
        }
    }

    fn flow_seq(&mut self, col: &mut usize, parent: isize) -> Option<Node> {
        let line = self.line_no();
        let mut items = Vec::new();
        *col += 1;
        self.flow_space(col, parent)?;
        if self.cur()[*col] != b']' {
            loop {
                items.push(self.flow_item(col, parent, false)?);
                if self.flow_next(col, parent, b']')? {
                    break;
                }
            }
        }
        *col += 1;
        Some(Node {
            value: Yaml::Seq(items),
            line,
        })
    }

    fn flow_map(&mut self, col: &mut usize, parent: isize) -> Option<Node> {
        let line = self.line_no();
        let mut entries: Vec<(Node, Node)> = Vec::new();
        *col += 1;
        self.flow_space(col, parent)?;
        if self.cur()[*col] != b'}' {
            loop {
                let key = self.flow_item(col, parent, true)?;
                let l = self.cur();
                // Only `key: value` on one line; `{a}`, `{a:b}` and keys
                // on their own lines are left to yaml-rust2.
                let colon = skip_spaces(l, *col);
                (l.get(colon) == Some(&b':') && is_sep(l, colon + 1)).then_some(())?;
                *col = colon + 1;
                self.flow_space(col, parent)?;
                if matches!(self.cur()[*col], b',' | b'}') {
                    return None;
                }
                let value = self.flow_item(col, parent, false)?;
                if entries.iter().any(|(k, _)| k.value == key.value) {
                    return None;
                }
                entries.push((key, value));
                if self.flow_next(col, parent, b'}')? {
                    break;
                }
            }
        }
        *col += 1;
        Some(Node {
            value: Yaml::Map(entries),
            line,
        })
    }

    /// After an entry: `Some(true)` at the closing bracket (left under
    /// `col`), `Some(false)` after a `,` and before the next entry.
    fn flow_next(&mut self, col: &mut usize, parent: isize, close: u8) -> Option<bool> {
        self.flow_space(col, parent)?;
        match self.cur()[*col] {
            b if b == close => Some(true),
            b',' => {
                *col += 1;
                self.flow_space(col, parent)?;
                // A trailing `,` is left to yaml-rust2.
                let b = self.cur()[*col];
                (b != close && b != b',').then_some(false)
            }
            _ => None,
        }
    }

    /// An entry of a flow collection: a nested collection (not as a key),
    /// a quoted scalar or a one-line plain scalar.
    fn flow_item(&mut self, col: &mut usize, parent: isize, key: bool) -> Option<Node> {
        let (s, line) = (self.cur_str(), self.line_no());
        let l = s.as_bytes();
        if key && matches!(l[*col], b'\'' | b'"') {
            // A quoted key must end on its line: `quoted` gives up otherwise.
            let (text, end) = quoted(s, *col)?;
            *col = end;
            return Some(Node {
                value: Yaml::Str(text),
                line,
            });
        }
        match l[*col] {
            b'[' | b'{' if !key => self.flow_collection(col, parent),
            b'\'' | b'"' => {
                let (text, end) = self.quoted_scalar(*col, parent)?;
                *col = end;
                Some(Node {
                    value: Yaml::Str(text),
                    line,
                })
            }
            _ => {
                let end = flow_plain_end(l, *col, key)?;
                let node = plain_node(&s[*col..end], line);
                *col = end;
                Some(node)
            }
        }
    }

    /// Moves `col` over spaces, comments and line breaks to the next token.
    /// Continuation lines must be indented deeper than `parent`, and the
    /// text must not end inside the collection.
    fn flow_space(&mut self, col: &mut usize, parent: isize) -> Option<()> {
        let mut fresh = false;
        loop {
            let l = self.cur();
            let j = skip_spaces(l, *col);
            if j < l.len() {
                if l[j] != b'#' {
                    *col = j;
                    return Some(());
                }
                // yaml-rust2 takes a `#` glued to a token as a comment.
                (fresh || j > *col).then_some(())?;
            }
            self.pos += 1;
            let next = self.peek()?;
            let indent = skip_spaces(next, 0);
            if doc_marker(next).is_some() || (indent < next.len() && indent as isize <= parent) {
                return None;
            }
            *col = 0;
            fresh = true;
        }
    }
}

/// The end of a plain scalar in a flow collection, which stops before
/// `,[]{}`, a comment or (in a key) `: `. A `:` anywhere else, or a
/// scalar continued on the next line, is left to yaml-rust2.
fn flow_plain_end(l: &[u8], col: usize, key: bool) -> Option<usize> {
    if matches!(l[col], b'?' | b':') || !plain_start(l, col, b",[]{}") {
        return None;
    }
    let mut i = col;
    while let Some(&b) = l.get(i) {
        match b {
            b',' | b'[' | b']' | b'{' | b'}' => break,
            b':' if key && is_sep(l, i + 1) => break,
            b':' => return None,
            b'#' if l[i - 1] == b' ' => break,
            // yaml-rust2 refuses `-` after a space and before a flow
            // indicator even inside a scalar: leave it that case.
            b'-' if l[i - 1] == b' ' && !plain_start(l, i, b",[]{}") => return None,
            _ => i += 1,
        }
    }
    let end = trim_end(l, col, i);
    // A plain scalar ending its line might go on on the next one.
    (i < l.len()).then_some(end)
}
