//! CSV (and TSV, semicolon and pipe separated) logs with a header row. The
//! delimiter is taken from the header; quoted cells may hold delimiters,
//! quotes (`""`) and newlines. Rows without quotes take a fast path that
//! only looks for the delimiter.

use super::{FileCtx, FormatParser, Parsed, Rec, State};
use crate::frame::{Framing, Records};
use compact_str::CompactString;
use memchr::memchr;
use mirt_core::Value;
use std::borrow::Cow;

/// The CSV parser, configured from the file's header row.
pub(crate) struct CsvParser {
    delimiter: u8,
    columns: Vec<CompactString>,
    header_line: String,
    /// Columns that hold the time (a datetime column, or a date and a time).
    time_columns: TimeColumns,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TimeColumns {
    None,
    One(usize),
    DateAndTime(usize, usize),
}

/// Header names that hold a full timestamp, in order of preference.
const TIME_NAMES: [&str; 20] = [
    "@timestamp",
    "timestamp",
    "datetime",
    "date_time",
    "date and time",
    "timecreated",
    "time_created",
    "eventtime",
    "event_time",
    "creationtime",
    "creation_time",
    "createdat",
    "created_at",
    "time_generated",
    "timegenerated",
    "utctime",
    "_time",
    "ts",
    "time",
    "date",
];

/// The most frequent of `,`, `;`, tab and `|` outside quotes in `line`.
pub(crate) fn guess_delimiter(line: &str) -> Option<u8> {
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for b in line.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            b'|' if !quoted => counts[3] += 1,
            _ => {}
        }
    }
    let (i, &n) = counts.iter().enumerate().max_by_key(|(_, n)| **n)?;
    (n > 0).then_some([b',', b';', b'\t', b'|'][i])
}

/// Splits one record into cells, unquoting quoted ones (`""` inside quotes
/// is a quote). Cells borrow from the record unless they hold an escaped
/// quote. Lenient with broken input: text after a closing quote is kept,
/// and an unterminated quote runs to the end of the record.
pub(crate) fn cells(record: &str, delimiter: u8) -> Vec<Cow<'_, str>> {
    let b = record.as_bytes();
    if memchr(b'"', b).is_none() {
        return record.split(delimiter as char).map(Cow::Borrowed).collect();
    }
    let mut out = Vec::with_capacity(16);
    let mut i = 0;
    loop {
        if b.get(i) != Some(&b'"') {
            match memchr(delimiter, &b[i..]) {
                Some(k) => {
                    out.push(Cow::Borrowed(&record[i..i + k]));
                    i += k + 1;
                    continue;
                }
                None => {
                    out.push(Cow::Borrowed(&record[i..]));
                    return out;
                }
            }
        }
        let (mut cell, mut j) = quoted_cell(record, i + 1);
        // Text between a closing quote and the delimiter (broken input).
        let next = memchr(delimiter, &b[j..]).map(|k| j + k);
        let end = next.unwrap_or(b.len());
        if end > j {
            cell.to_mut().push_str(&record[j..end]);
        }
        out.push(cell);
        match next {
            Some(d) => j = d + 1,
            None => return out,
        }
        i = j;
    }
}

/// The inside of a quoted cell starting after its opening quote; returns
/// the cell and the position after its closing quote.
fn quoted_cell(record: &str, start: usize) -> (Cow<'_, str>, usize) {
    let b = record.as_bytes();
    let mut owned: Option<String> = None;
    let mut seg = start;
    let mut j = start;
    loop {
        let Some(k) = memchr(b'"', &b[j..]) else {
            let piece = &record[seg..];
            return (join(owned, piece), b.len());
        };
        let q = j + k;
        if b.get(q + 1) == Some(&b'"') {
            owned
                .get_or_insert_with(String::new)
                .push_str(&record[seg..=q]);
            j = q + 2;
            seg = j;
            continue;
        }
        return (join(owned, &record[seg..q]), q + 1);
    }
}

fn join<'a>(owned: Option<String>, piece: &'a str) -> Cow<'a, str> {
    match owned {
        Some(mut s) => {
            s.push_str(piece);
            Cow::Owned(s)
        }
        None => Cow::Borrowed(piece),
    }
}

impl CsvParser {
    /// Reads the header from the first record of `head`.
    pub(crate) fn from_head(head: &str) -> Self {
        let head = head.strip_prefix('\u{feff}').unwrap_or(head);
        let first = crate::frame::RecordIter::new(head.as_bytes(), Records::Csv)
            .next()
            .map(|r| {
                String::from_utf8_lossy(r.bytes)
                    .trim_end_matches('\r')
                    .to_string()
            })
            .unwrap_or_default();
        let delimiter = guess_delimiter(&first).unwrap_or(b',');
        let columns: Vec<CompactString> = cells(&first, delimiter)
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let c = c.trim();
                if c.is_empty() {
                    CompactString::from(format!("column{}", i + 1))
                } else {
                    CompactString::from(c)
                }
            })
            .collect();
        let time_columns = find_time_columns(&columns);
        CsvParser {
            delimiter,
            columns,
            header_line: first,
            time_columns,
        }
    }

    fn timestamp(
        &self,
        row: &[std::borrow::Cow<'_, str>],
        ctx: &FileCtx,
    ) -> Option<jiff::Timestamp> {
        let text = match self.time_columns {
            TimeColumns::None => return None,
            TimeColumns::One(i) => row.get(i)?.trim().to_string(),
            TimeColumns::DateAndTime(d, t) => {
                format!("{} {}", row.get(d)?.trim(), row.get(t)?.trim())
            }
        };
        super::jsonl::time_from_text(&text, ctx)
    }
}

fn find_time_columns(columns: &[CompactString]) -> TimeColumns {
    let lower: Vec<String> = columns
        .iter()
        .map(|c| c.as_str().to_ascii_lowercase())
        .collect();
    let pos = |n: &str| lower.iter().position(|c| c == n);
    if let (Some(d), Some(t)) = (pos("date"), pos("time")) {
        return TimeColumns::DateAndTime(d, t);
    }
    TIME_NAMES
        .iter()
        .find_map(|n| pos(n))
        .map_or(TimeColumns::None, TimeColumns::One)
}

impl FormatParser for CsvParser {
    fn framing(&self) -> Framing {
        Framing {
            records: Records::Csv,
            whole_file: false,
        }
    }

    fn parse(&self, _state: &mut State, rec: &Rec<'_>, ctx: &FileCtx) -> Parsed {
        let text = rec.text.strip_prefix('\u{feff}').unwrap_or(rec.text);
        if text.trim().is_empty() || text == self.header_line {
            // Blank lines, and the header (again, in concatenated exports).
            return Parsed::Skip;
        }
        let row = cells(text, self.delimiter);
        if row.len() != self.columns.len() {
            return Parsed::Fail(format!(
                "{} cells for the {} columns of the header",
                row.len(),
                self.columns.len()
            ));
        }
        let mut ev = ctx.event(rec, "csv");
        ev.timestamp = self.timestamp(&row, ctx);
        ev.fields = mirt_core::Fields::with_capacity(row.len());
        for (column, cell) in self.columns.iter().zip(row) {
            let v = if cell.is_empty() {
                Value::Null
            } else {
                Value::Str(CompactString::from(cell))
            };
            ev.fields.push(column.clone(), v);
        }
        Parsed::Event(Box::new(ev))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_and_quotes() {
        assert_eq!(guess_delimiter("a,b,c"), Some(b','));
        assert_eq!(guess_delimiter("a;b;\"c,d,e\""), Some(b';'));
        assert_eq!(guess_delimiter("a\tb"), Some(b'\t'));
        assert_eq!(guess_delimiter("abc"), None);
        let c = cells(
            r#"1,"a, ""b""",,"x
y""#,
            b',',
        );
        assert_eq!(c, ["1", "a, \"b\"", "", "x\ny"]);
        assert_eq!(cells("1,2,3", b','), ["1", "2", "3"]);
        assert_eq!(cells(r#""a"x,"b"#, b','), ["ax", "b"]);
        assert_eq!(cells(r#"a,"",b,"#, b','), ["a", "", "b", ""]);
    }

    #[test]
    fn header_and_time_columns() {
        let p = CsvParser::from_head("\u{feff}Date,Time,User\n2024-01-01,10:00:00,bob\n");
        assert_eq!(p.columns, ["Date", "Time", "User"]);
        assert_eq!(p.time_columns, TimeColumns::DateAndTime(0, 1));
        let p = CsvParser::from_head("id;TimeCreated;msg\n");
        assert_eq!((p.delimiter, p.time_columns), (b';', TimeColumns::One(1)));
    }
}
