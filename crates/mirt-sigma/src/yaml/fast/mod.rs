//! A fast reader of the block-style YAML that Sigma rules are written in.
//!
//! It reads line by line: block mappings and sequences by indentation,
//! one-line plain and quoted scalars, flow collections, literal and folded
//! block scalars, comments and document markers. It builds exactly the tree
//! yaml-rust2 builds, with the same line numbers. Anything it is not sure
//! of (anchors, tags, complex keys, multi-line plain or quoted scalars,
//! tabs, directives, odd indentation, errors) makes it give up with `None`,
//! and the caller asks yaml-rust2, so its answer is never different.

mod flow;
mod scalar;

use super::{Node, Yaml};

/// Every document of `text` (empty ones as `Null`), or `None` to give up.
pub(super) fn load(text: &str) -> Option<Vec<Node>> {
    if !plain_text(text) {
        return None;
    }
    Reader::new(text).stream()
}

/// Whether `text` holds only what the reader handles: no tabs, no BOM, no
/// lone carriage returns, no control characters and no characters YAML
/// treats specially (line and paragraph separators, C1 controls).
fn plain_text(text: &str) -> bool {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let ok = match b {
            b'\n' => true,
            b'\r' => bytes.get(i + 1) == Some(&b'\n'),
            0..=0x1f | 0x7f => false,
            _ => true,
        };
        if !ok {
            return false;
        }
    }
    text.is_ascii()
        || text.chars().all(|c| {
            !matches!(
                c,
                '\u{80}'
                    ..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            )
        })
}

/// The reader's place: the index of the next line not yet consumed. Every
/// node leaves it on the line after its last one.
struct Reader<'a> {
    lines: Vec<&'a str>,
    pos: usize,
    /// The line yaml-rust2 places the end of the stream on.
    eof_line: u64,
    /// Whether the text ends with a line break.
    terminated: bool,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        let lines: Vec<&str> = text.lines().collect();
        let terminated = text.ends_with('\n');
        // yaml-rust2 moves the end of the stream to the start of a new line.
        let eof_line = lines.len() as u64 + 1;
        Reader {
            lines,
            pos: 0,
            eof_line,
            terminated,
        }
    }

    /// The current line as bytes.
    fn cur(&self) -> &'a [u8] {
        self.lines[self.pos].as_bytes()
    }

    /// The current line as text.
    fn cur_str(&self) -> &'a str {
        self.lines[self.pos]
    }

    /// The 1-based number of the current line.
    fn line_no(&self) -> u64 {
        self.pos as u64 + 1
    }

    /// The next line, if any.
    fn peek(&self) -> Option<&'a [u8]> {
        self.lines.get(self.pos).map(|l| l.as_bytes())
    }

    /// Steps over empty lines and comment lines.
    fn skip_blank(&mut self) {
        while let Some(l) = self.peek() {
            let i = skip_spaces(l, 0);
            if i < l.len() && l[i] != b'#' {
                return;
            }
            self.pos += 1;
        }
    }

    /// The line of the next token, where yaml-rust2 marks an empty value.
    fn next_token_line(&mut self) -> u64 {
        self.skip_blank();
        if self.pos < self.lines.len() {
            self.line_no()
        } else {
            self.eof_line
        }
    }

    fn stream(mut self) -> Option<Vec<Node>> {
        let mut docs = Vec::new();
        loop {
            self.skip_blank();
            let Some(l) = self.peek() else { break };
            match doc_marker(l) {
                Some(_) if !trailing_ok(l, 3) => return None,
                Some(b'-') => self.pos += 1,
                Some(_) => {
                    self.pos += 1;
                    continue;
                }
                None if l[0] == b'%' => return None,
                None => {}
            }
            self.skip_blank();
            match self.peek() {
                None => break,
                Some(l) if doc_marker(l).is_some() => continue,
                Some(l) if l[0] == b' ' => return None,
                Some(_) => docs.push(self.document()?),
            }
        }
        Some(docs)
    }

    /// The root node of a document, which must fill it up to the next
    /// document marker.
    fn document(&mut self) -> Option<Node> {
        let node = self.node_at(0, -1, true)?;
        self.skip_blank();
        match self.peek() {
            Some(l) if doc_marker(l).is_none() => None,
            _ => Some(node),
        }
    }

    /// The node starting at column `col` of the current line, inside a
    /// block collection at column `parent`. `compact`: a block collection
    /// may start here (not after `key: `).
    fn node_at(&mut self, col: usize, parent: isize, compact: bool) -> Option<Node> {
        let l = self.cur();
        match l[col] {
            b'-' if is_sep(l, col + 1) => {
                compact.then_some(())?;
                self.block_seq(col)
            }
            b'[' | b'{' => self.flow_node(col, parent),
            b'|' | b'>' => self.block_scalar(col, parent),
            b'\'' | b'"' => {
                let line = self.line_no();
                let (text, end) = self.quoted_scalar(col, parent)?;
                let l = self.cur();
                if key_colon_after(l, end) {
                    // A key, unless it spans lines (left to yaml-rust2).
                    (compact && self.line_no() == line).then_some(())?;
                    return self.block_map(col);
                }
                trailing_ok(l, end).then_some(())?;
                self.pos += 1;
                Some(Node {
                    value: Yaml::Str(text),
                    line,
                })
            }
            _ => match scalar::plain_end(l, col)? {
                (_, true) => {
                    compact.then_some(())?;
                    self.block_map(col)
                }
                (end, false) => self.plain_scalar(col, end, parent),
            },
        }
    }

    /// A block mapping whose first key is at `col` of the current line and
    /// whose other keys start lines at that indentation.
    fn block_map(&mut self, col: usize) -> Option<Node> {
        let line = self.line_no();
        let mut entries: Vec<(Node, Node)> = Vec::new();
        loop {
            let l = self.cur();
            let key_line = self.line_no();
            let (key, after) = scalar::key(self.cur_str(), col)?;
            if entries.iter().any(|(k, _)| k.value == key) {
                return None; // yaml-rust2 reports the duplicate
            }
            let value = if trailing_ok(l, after) {
                self.pos += 1;
                self.node_below(col, true)?
            } else {
                self.node_at(skip_spaces(l, after), col as isize, false)?
            };
            let key = Node {
                value: key,
                line: key_line,
            };
            entries.push((key, value));
            if !self.next_entry(col, false)? {
                break;
            }
        }
        Some(Node {
            value: Yaml::Map(entries),
            line,
        })
    }

    /// The node below a `key:` or a `-` with nothing after it on its line,
    /// at `col`: a node indented further, or (after a key, `seq_beside`) a
    /// sequence at the key's own indentation, else null.
    fn node_below(&mut self, col: usize, seq_beside: bool) -> Option<Node> {
        let line = self.next_token_line();
        match self.peek() {
            Some(l) if doc_marker(l).is_none() => {
                let indent = skip_spaces(l, 0);
                if indent > col {
                    return self.node_at(indent, col as isize, true);
                }
                if seq_beside && indent == col && is_seq_entry(l, col) {
                    return self.block_seq(col);
                }
            }
            _ => {}
        }
        Some(null(line))
    }

    /// A block sequence whose `-` entries are at `col`.
    fn block_seq(&mut self, col: usize) -> Option<Node> {
        let line = self.line_no();
        let mut items = Vec::new();
        loop {
            let l = self.cur();
            let item = if trailing_ok(l, col + 1) {
                self.pos += 1;
                self.node_below(col, false)?
            } else {
                self.node_at(skip_spaces(l, col + 1), col as isize, true)?
            };
            items.push(item);
            if !self.next_entry(col, true)? {
                break;
            }
        }
        Some(Node {
            value: Yaml::Seq(items),
            line,
        })
    }

    /// After an entry of a collection at `col`: whether another entry
    /// follows, or `None` when the next line is indented in a way only
    /// yaml-rust2 may judge (continuation lines, errors).
    fn next_entry(&mut self, col: usize, seq: bool) -> Option<bool> {
        self.skip_blank();
        let Some(l) = self.peek() else {
            return Some(false);
        };
        if doc_marker(l).is_some() {
            return Some(false);
        }
        let indent = skip_spaces(l, 0);
        if indent > col {
            return None;
        }
        if indent < col {
            return Some(false);
        }
        match (seq, is_seq_entry(l, col)) {
            (true, entry) => Some(entry),
            (false, false) => Some(true),
            (false, true) => None,
        }
    }
}

fn null(line: u64) -> Node {
    Node {
        value: Yaml::Null,
        line,
    }
}

/// The first column at or after `i` that is not a space.
fn skip_spaces(l: &[u8], mut i: usize) -> usize {
    while i < l.len() && l[i] == b' ' {
        i += 1;
    }
    i
}

/// Whether position `i` ends a token: the end of the line or a space.
fn is_sep(l: &[u8], i: usize) -> bool {
    i >= l.len() || l[i] == b' '
}

/// Whether nothing but spaces and a comment (set apart by a space) follows
/// position `i`.
fn trailing_ok(l: &[u8], i: usize) -> bool {
    let j = skip_spaces(l, i);
    j >= l.len() || (l[j] == b'#' && j > i)
}

/// Whether a `:` that makes the scalar ending at `end` a key follows it.
fn key_colon_after(l: &[u8], end: usize) -> bool {
    let j = skip_spaces(l, end);
    j < l.len() && l[j] == b':' && is_sep(l, j + 1)
}

/// Whether the line has a `- ` sequence entry at `col`.
fn is_seq_entry(l: &[u8], col: usize) -> bool {
    l.get(col) == Some(&b'-') && is_sep(l, col + 1)
}

/// `Some(b'-')` for a `---` line, `Some(b'.')` for `...`; also for such a
/// line with more text, which the callers then refuse.
fn doc_marker(l: &[u8]) -> Option<u8> {
    match l {
        [b'-', b'-', b'-', ..] => Some(b'-'),
        [b'.', b'.', b'.', ..] => Some(b'.'),
        _ => None,
    }
}
