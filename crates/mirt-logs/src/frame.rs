//! Where records start and end: splitting a file into chunks that can be
//! parsed in parallel, cutting a chunk into records (a line, a line with its
//! continuation lines, or a CSV row whose quoted cells hold newlines), and
//! decoding a record's bytes into text.

use memchr::{memchr, memchr_iter, memrchr};
use std::borrow::Cow;
use std::ops::Range;

/// Whether a line starts a new record (for formats whose records may span
/// several lines).
pub(crate) type StartPredicate = fn(&[u8]) -> bool;

/// How records are delimited.
#[derive(Clone, Copy)]
pub(crate) enum Records {
    /// Every line is a record.
    Lines,
    /// A record is a line for which the predicate holds, plus the lines
    /// after it for which it does not (syslog messages with newlines).
    Multiline(StartPredicate),
    /// A CSV row: a newline inside double quotes does not end it.
    Csv,
}

/// How a format wants its input cut.
#[derive(Clone, Copy)]
pub(crate) struct Framing {
    pub records: Records,
    /// The whole file is one chunk (formats with file-long state that a
    /// pre-pass cannot summarise, such as transcripts).
    pub whole_file: bool,
}

impl Framing {
    pub(crate) const LINES: Framing = Framing {
        records: Records::Lines,
        whole_file: false,
    };
}

/// One record inside a chunk.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawRecord<'a> {
    /// The bytes, without the final line break.
    pub bytes: &'a [u8],
    /// Offset of the first byte in the chunk.
    pub start: usize,
    /// 0-based number of its first line, counted from the chunk start.
    pub line: u64,
}

/// Iterates over the records of a chunk that starts at a record boundary.
pub(crate) struct RecordIter<'a> {
    data: &'a [u8],
    pos: usize,
    line: u64,
    records: Records,
}

impl<'a> RecordIter<'a> {
    pub(crate) fn new(data: &'a [u8], records: Records) -> Self {
        RecordIter {
            data,
            pos: 0,
            line: 0,
            records,
        }
    }

    /// Lines seen so far (all of them once the iterator is exhausted).
    pub(crate) fn lines(&self) -> u64 {
        self.line
    }

    fn line_end(&self, from: usize) -> (usize, usize) {
        match memchr(b'\n', &self.data[from..]) {
            Some(i) => (from + i, from + i + 1),
            None => (self.data.len(), self.data.len()),
        }
    }
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = RawRecord<'a>;

    fn next(&mut self) -> Option<RawRecord<'a>> {
        if self.pos >= self.data.len() {
            return None;
        }
        let start = self.pos;
        let (mut end, mut next) = self.line_end(start);
        let mut lines = 1u32;
        match self.records {
            Records::Lines => {}
            Records::Multiline(is_start) => {
                while next < self.data.len() {
                    let (e, n) = self.line_end(next);
                    if is_start(&self.data[next..e]) {
                        break;
                    }
                    end = e;
                    next = n;
                    lines += 1;
                }
            }
            Records::Csv => {
                let mut quotes = count_quotes(&self.data[start..end]);
                while quotes % 2 == 1 && next < self.data.len() && end - start <= MAX_CSV_RECORD {
                    let (e, n) = self.line_end(next);
                    quotes += count_quotes(&self.data[next..e]);
                    end = e;
                    next = n;
                    lines += 1;
                }
            }
        }
        self.pos = next;
        let record = RawRecord {
            bytes: &self.data[start..end],
            start,
            line: self.line,
        };
        self.line += u64::from(lines);
        Some(record)
    }
}

pub(crate) fn count_quotes(b: &[u8]) -> usize {
    count_byte(b, b'"')
}

/// How often `needle` occurs in `b`. Counting into a byte per 32-byte
/// block lets the compiler use vector compares; this beats memchr when the
/// byte is frequent (newlines, quotes in CSV).
pub(crate) fn count_byte(b: &[u8], needle: u8) -> usize {
    let mut blocks = b.chunks_exact(32);
    let mut n = 0usize;
    for block in &mut blocks {
        let mut k = 0u8;
        for &c in block {
            k += u8::from(c == needle);
        }
        n += usize::from(k);
    }
    n + blocks.remainder().iter().filter(|&&c| c == needle).count()
}

/// Cuts `data` (a whole file) into chunks of about `target` bytes that each
/// start at a record boundary.
pub(crate) fn split(data: &[u8], framing: Framing, target: usize) -> Vec<Range<usize>> {
    if framing.whole_file || data.len() <= target {
        return std::iter::once(0..data.len()).collect();
    }
    let mut cuts = vec![0usize];
    let mut candidate = target;
    while candidate < data.len() {
        let Some(cut) = boundary_at_or_after(data, candidate, framing.records) else {
            break;
        };
        if cut >= data.len() {
            break;
        }
        cuts.push(cut);
        candidate = cut + target;
    }
    if matches!(framing.records, Records::Csv) {
        cuts = fix_csv_cuts(data, cuts);
    }
    let mut ranges: Vec<Range<usize>> = cuts.windows(2).map(|w| w[0]..w[1]).collect();
    ranges.push(*cuts.last().unwrap_or(&0)..data.len());
    ranges
}

/// The first record start at or after `pos` (for CSV: the first line start;
/// quotes are settled afterwards by [`fix_csv_cuts`]).
fn boundary_at_or_after(data: &[u8], pos: usize, records: Records) -> Option<usize> {
    let mut line_start = if pos == 0 || data[pos - 1] == b'\n' {
        pos
    } else {
        pos + memchr(b'\n', &data[pos..])? + 1
    };
    if let Records::Multiline(is_start) = records {
        // Continuation lines belong to the record before them.
        while line_start < data.len() {
            let end = memchr(b'\n', &data[line_start..]).map_or(data.len(), |i| line_start + i);
            if is_start(&data[line_start..end]) {
                break;
            }
            line_start = end + 1;
        }
    }
    Some(line_start)
}

/// Moves every cut that falls inside a quoted CSV cell to the next line end
/// outside quotes. A cut is outside quotes when the number of quotes before
/// it is even; the counts of the pieces are taken in parallel.
fn fix_csv_cuts(data: &[u8], cuts: Vec<usize>) -> Vec<usize> {
    use rayon::prelude::*;
    let mut bounds = cuts.clone();
    bounds.push(data.len());
    let counts: Vec<usize> = bounds
        .par_windows(2)
        .map(|w| count_quotes(&data[w[0]..w[1]]))
        .collect();
    let mut fixed = vec![0usize];
    let mut before = 0usize;
    for (i, &cut) in cuts.iter().enumerate().skip(1) {
        before += counts[i - 1];
        if cut <= *fixed.last().unwrap_or(&0) {
            continue;
        }
        let moved = if before.is_multiple_of(2) {
            Some(cut)
        } else {
            next_even_line_end(data, cut)
        };
        match moved {
            Some(c) if c < data.len() && c > *fixed.last().unwrap_or(&0) => fixed.push(c),
            _ => {}
        }
    }
    fixed
}

/// From `pos`, inside quotes, the start of the first line after which the
/// quotes are balanced again; gives up after [`MAX_CSV_RECORD`] bytes (a
/// stray quote), keeping the cut where it was.
fn next_even_line_end(data: &[u8], pos: usize) -> Option<usize> {
    let mut odd = true;
    let mut from = pos;
    for nl in memchr_iter(b'\n', &data[pos..]) {
        let end = pos + nl;
        if end - pos > MAX_CSV_RECORD {
            return Some(pos);
        }
        odd ^= count_quotes(&data[from..end]) % 2 == 1;
        from = end + 1;
        if !odd {
            return Some(from);
        }
    }
    None
}

/// The longest CSV record followed across lines; beyond it a quote is taken
/// to be stray and the record ends at its line.
pub(crate) const MAX_CSV_RECORD: usize = 1 << 20;

/// The last record boundary in `buf` after position 0, for cutting a stream
/// into chunks: everything before it is complete records.
pub(crate) fn last_boundary(buf: &[u8], records: Records) -> Option<usize> {
    match records {
        Records::Lines => memrchr(b'\n', buf).map(|i| i + 1).filter(|&c| c > 0),
        Records::Multiline(is_start) => {
            let mut end = buf.len();
            // Walk back over line starts until one starts a record.
            while let Some(nl) = memrchr(b'\n', &buf[..end]) {
                let line_start = nl + 1;
                let line_end =
                    memchr(b'\n', &buf[line_start..]).map_or(buf.len(), |i| line_start + i);
                if line_start < buf.len()
                    && line_end < buf.len()
                    && is_start(&buf[line_start..line_end])
                {
                    return Some(line_start);
                }
                if nl == 0 {
                    return None;
                }
                end = nl;
            }
            None
        }
        Records::Csv => {
            let mut quotes = 0usize;
            let mut last = None;
            let mut pos = 0;
            for nl in memchr_iter(b'\n', buf) {
                quotes += count_quotes(&buf[pos..nl]);
                pos = nl + 1;
                if quotes.is_multiple_of(2) {
                    last = Some(pos);
                }
            }
            last
        }
    }
}

/// What decoding a record found wrong with its bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Damage {
    /// Invalid UTF-8 was replaced with U+FFFD.
    pub lossy: bool,
    /// NUL bytes removed.
    pub nuls: usize,
    /// The original length, when the record was cut to the limit.
    pub cut_from: Option<usize>,
}

impl Damage {
    pub(crate) fn any(&self) -> bool {
        self.lossy || self.nuls > 0 || self.cut_from.is_some()
    }

    pub(crate) fn describe(&self, limit: usize) -> String {
        let mut parts = Vec::new();
        if let Some(len) = self.cut_from {
            parts.push(format!(
                "record of {len} bytes cut to the {limit}-byte limit"
            ));
        }
        if self.nuls > 0 {
            parts.push(format!("{} NUL bytes removed", self.nuls));
        }
        if self.lossy {
            parts.push("invalid UTF-8 replaced with U+FFFD".to_string());
        }
        parts.join("; ")
    }
}

/// Decodes a record: drops the CR of a CRLF ending, removes NUL bytes (only
/// looked for when the chunk has any), cuts it to `max` bytes, and checks
/// UTF-8, replacing invalid sequences.
pub(crate) fn decode(bytes: &[u8], chunk_has_nul: bool, max: usize) -> (Cow<'_, str>, Damage) {
    let mut damage = Damage::default();
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    let mut owned: Option<Vec<u8>> = None;
    if chunk_has_nul && memchr(0, bytes).is_some() {
        let kept: Vec<u8> = bytes.iter().copied().filter(|&b| b != 0).collect();
        damage.nuls = bytes.len() - kept.len();
        owned = Some(kept);
    }
    let view: &[u8] = owned.as_deref().unwrap_or(bytes);
    let mut len = view.len();
    if len > max {
        damage.cut_from = Some(len);
        len = max;
        // Do not report a character split by the cut as invalid UTF-8.
        if let Err(e) = std::str::from_utf8(&view[..len])
            && e.error_len().is_none()
        {
            len = e.valid_up_to();
        }
    }
    match owned {
        None => match std::str::from_utf8(&bytes[..len]) {
            Ok(s) => (Cow::Borrowed(s), damage),
            Err(_) => {
                damage.lossy = true;
                (
                    Cow::Owned(String::from_utf8_lossy(&bytes[..len]).into_owned()),
                    damage,
                )
            }
        },
        Some(mut v) => {
            v.truncate(len);
            match String::from_utf8(v) {
                Ok(s) => (Cow::Owned(s), damage),
                Err(e) => {
                    damage.lossy = true;
                    (
                        Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
                        damage,
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(data: &[u8], records: Records) -> Vec<(String, u64)> {
        RecordIter::new(data, records)
            .map(|r| (String::from_utf8_lossy(r.bytes).into_owned(), r.line))
            .collect()
    }

    fn starts_upper(l: &[u8]) -> bool {
        l.first().is_some_and(|c| c.is_ascii_uppercase())
    }

    #[test]
    fn lines_with_and_without_final_newline() {
        assert_eq!(
            texts(b"a\nb\r\nc", Records::Lines),
            [("a".into(), 0), ("b\r".into(), 1), ("c".into(), 2)]
        );
        assert_eq!(texts(b"a\n\nb\n", Records::Lines).len(), 3);
        assert!(texts(b"", Records::Lines).is_empty());
    }

    #[test]
    fn continuation_lines_join_their_record() {
        let got = texts(
            b"A one\n\tmore\nB two\nC\n x\n y",
            Records::Multiline(starts_upper),
        );
        assert_eq!(
            got,
            [
                ("A one\n\tmore".into(), 0),
                ("B two".into(), 2),
                ("C\n x\n y".into(), 3)
            ]
        );
    }

    #[test]
    fn csv_rows_keep_quoted_newlines() {
        let got = texts(b"a,b\n1,\"x\ny\"\n2,z\n", Records::Csv);
        assert_eq!(got[1], ("1,\"x\ny\"".into(), 1));
        assert_eq!(got[2], ("2,z".into(), 3));
    }

    #[test]
    fn chunks_start_at_record_starts() {
        let data = b"A 1\n cont\n cont\nB 2\n cont\nC 3\nD 4\n";
        let framing = Framing {
            records: Records::Multiline(starts_upper),
            whole_file: false,
        };
        for target in 1..data.len() + 2 {
            let ranges = split(data, framing, target);
            assert_eq!(ranges.first().unwrap().start, 0);
            assert_eq!(ranges.last().unwrap().end, data.len());
            for r in &ranges {
                assert!(starts_upper(&data[r.start..]), "{target}: {r:?}");
            }
            for w in ranges.windows(2) {
                assert_eq!(w[0].end, w[1].start);
            }
        }
    }

    #[test]
    fn csv_chunks_never_cut_inside_quotes() {
        let data = b"h1,h2\n1,\"a\nb\nc\"\n2,\"d\"\n3,\"e\nf\"\n4,x\n";
        let framing = Framing {
            records: Records::Csv,
            whole_file: false,
        };
        let whole: Vec<_> = texts(data, Records::Csv).into_iter().map(|t| t.0).collect();
        for target in 1..data.len() + 2 {
            let ranges = split(data, framing, target);
            let mut pieces = Vec::new();
            for r in &ranges {
                pieces.extend(
                    texts(&data[r.clone()], Records::Csv)
                        .into_iter()
                        .map(|t| t.0),
                );
            }
            assert_eq!(pieces, whole, "target {target}: {ranges:?}");
        }
    }

    #[test]
    fn byte_counts() {
        let data: Vec<u8> = (0..1000u32)
            .map(|i| if i % 7 == 0 { b'"' } else { b'x' })
            .collect();
        for len in [0, 1, 31, 32, 33, 64, 999, 1000] {
            let want = data[..len].iter().filter(|&&c| c == b'"').count();
            assert_eq!(count_byte(&data[..len], b'"'), want, "{len}");
        }
    }

    #[test]
    fn stream_cuts() {
        assert_eq!(last_boundary(b"a\nb\nc", Records::Lines), Some(4));
        assert_eq!(last_boundary(b"abc", Records::Lines), None);
        assert_eq!(
            last_boundary(b"A\n x\nB\n y\n", Records::Multiline(starts_upper)),
            Some(5)
        );
        assert_eq!(last_boundary(b"a,\"x\ny\"\nb,\"q\n", Records::Csv), Some(8));
    }

    #[test]
    fn decode_flags_damage() {
        let (t, d) = decode(b"ok\r", false, 100);
        assert_eq!((t.as_ref(), d.any()), ("ok", false));
        let (t, d) = decode(b"a\0b\0", true, 100);
        assert_eq!((t.as_ref(), d.nuls), ("ab", 2));
        let (t, d) = decode(b"a\xffb", false, 100);
        assert_eq!((t.as_ref(), d.lossy), ("a\u{fffd}b", true));
        let (t, d) = decode("aé".as_bytes(), false, 2);
        assert_eq!((t.as_ref(), d.cut_from, d.lossy), ("a", Some(3), false));
    }
}
