//! Record output in the formats every subcommand offers: JSON Lines (the
//! default), a JSON array, CSV, and an aligned table for reading on screen.
//!
//! Rendering one record ([`render`]) is separate from writing the stream
//! ([`RecordWriter`]) so that workers can render in parallel while one
//! thread writes, in order.

use anyhow::Context;
use clap::ValueEnum;
use serde::Serialize;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// One JSON array.
    Json,
    /// Comma-separated values with a header row.
    Csv,
    /// Aligned columns for reading on screen.
    Table,
}

/// A record that can also be shown as a row of cells (CSV, table).
pub trait Tabular {
    /// Column names, in order.
    const COLUMNS: &'static [&'static str];
    /// Table column widths in characters; the last column takes the rest.
    const WIDTHS: &'static [usize];
    /// The cells of this record, one per column.
    fn cells(&self) -> Vec<String>;

    /// Appends this record as one JSON object. Records on a hot path
    /// (events) override this with a direct writer.
    fn write_json(&self, buf: &mut Vec<u8>)
    where
        Self: Serialize,
    {
        // Serialising our own types to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *buf, self);
    }
}

/// Renders one record as `format` into `buf` (one line, with its newline).
pub fn render<T: Serialize + Tabular>(format: Format, record: &T, buf: &mut Vec<u8>) {
    match format {
        Format::Jsonl | Format::Json => {
            record.write_json(buf);
            buf.push(b'\n');
        }
        Format::Csv => {
            for (i, cell) in record.cells().iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                csv_cell(cell, buf);
            }
            buf.push(b'\n');
        }
        Format::Table => table_row(&record.cells(), T::WIDTHS, buf),
    }
}

fn csv_cell(cell: &str, buf: &mut Vec<u8>) {
    if cell.contains([',', '"', '\n', '\r']) {
        buf.push(b'"');
        buf.extend_from_slice(cell.replace('"', "\"\"").as_bytes());
        buf.push(b'"');
    } else {
        buf.extend_from_slice(cell.as_bytes());
    }
}

fn table_row(cells: &[String], widths: &[usize], buf: &mut Vec<u8>) {
    for (i, cell) in cells.iter().enumerate() {
        // One line per record: newlines and tabs inside a cell are shown as spaces.
        let flat: String = cell
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        match widths.get(i) {
            Some(&w) if i + 1 < cells.len() => {
                let n = flat.chars().count();
                if n > w {
                    let cut: String = flat.chars().take(w.saturating_sub(1)).collect();
                    buf.extend_from_slice(cut.as_bytes());
                    buf.extend_from_slice("…".as_bytes());
                } else {
                    buf.extend_from_slice(flat.as_bytes());
                    buf.extend(std::iter::repeat_n(b' ', w - n));
                }
                buf.extend_from_slice(b"  ");
            }
            _ => buf.extend_from_slice(flat.trim_end().as_bytes()),
        }
    }
    buf.push(b'\n');
}

/// Writes rendered records to stdout or a file, adding what the format
/// needs around them (CSV header, JSON array brackets, table header).
pub struct RecordWriter {
    format: Format,
    out: BufWriter<Box<dyn Write + Send>>,
    records: u64,
    path: Option<PathBuf>,
}

impl RecordWriter {
    /// Writes to `path`, or to stdout when `None` or `-`.
    pub fn create<T: Tabular>(format: Format, path: Option<&Path>) -> anyhow::Result<Self> {
        let path = path.filter(|p| p.as_os_str() != "-");
        let sink: Box<dyn Write + Send> = match path {
            Some(p) => {
                Box::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?)
            }
            None => Box::new(io::stdout()),
        };
        let mut writer = RecordWriter {
            format,
            out: BufWriter::with_capacity(1 << 18, sink),
            records: 0,
            path: path.map(Path::to_path_buf),
        };
        writer.header::<T>()?;
        Ok(writer)
    }

    fn header<T: Tabular>(&mut self) -> io::Result<()> {
        match self.format {
            Format::Jsonl => Ok(()),
            Format::Json => self.out.write_all(b"["),
            Format::Csv => {
                let line = T::COLUMNS.join(",");
                writeln!(self.out, "{line}")
            }
            Format::Table => {
                let cells: Vec<String> = T::COLUMNS.iter().map(|c| c.to_uppercase()).collect();
                let mut buf = Vec::new();
                table_row(&cells, T::WIDTHS, &mut buf);
                self.out.write_all(&buf)
            }
        }
    }

    /// Writes one record rendered by [`render`] with this writer's format.
    pub fn write_rendered(&mut self, rendered: &[u8]) -> io::Result<()> {
        if self.format == Format::Json {
            self.out
                .write_all(if self.records == 0 { b"\n" } else { b",\n" })?;
            self.out
                .write_all(rendered.strip_suffix(b"\n").unwrap_or(rendered))?;
        } else {
            self.out.write_all(rendered)?;
        }
        self.records += 1;
        Ok(())
    }

    /// Renders and writes one record.
    #[allow(dead_code)] // for subcommands that produce records one at a time
    pub fn write<T: Serialize + Tabular>(&mut self, record: &T) -> io::Result<()> {
        let mut buf = Vec::with_capacity(512);
        render(self.format, record, &mut buf);
        self.write_rendered(&buf)
    }

    /// Closes the stream (JSON array end) and flushes.
    pub fn finish(mut self) -> anyhow::Result<()> {
        if self.format == Format::Json {
            self.out
                .write_all(if self.records == 0 { b"]\n" } else { b"\n]\n" })?;
        }
        self.out.flush().with_context(|| match &self.path {
            Some(p) => format!("cannot write {}", p.display()),
            None => "cannot write to stdout".to_string(),
        })
    }
}

/// Writes `problems` as JSON Lines to `path` (the `--errors FILE` option).
pub struct ProblemLog {
    out: Option<BufWriter<File>>,
}

impl ProblemLog {
    /// Opens `path`, or does nothing when `None`.
    pub fn create(path: Option<&Path>) -> anyhow::Result<Self> {
        let out = match path {
            Some(p) => Some(BufWriter::new(
                File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
            )),
            None => None,
        };
        Ok(ProblemLog { out })
    }

    /// Appends one problem.
    pub fn write(&mut self, problem: &mirt_core::Problem) -> io::Result<()> {
        if let Some(out) = &mut self.out {
            serde_json::to_writer(&mut *out, problem)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Flushes.
    pub fn finish(self) -> io::Result<()> {
        match self.out {
            Some(mut out) => out.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row {
        a: &'static str,
        b: u32,
    }

    impl Tabular for Row {
        const COLUMNS: &'static [&'static str] = &["a", "b"];
        const WIDTHS: &'static [usize] = &[4, 10];
        fn cells(&self) -> Vec<String> {
            vec![self.a.to_string(), self.b.to_string()]
        }
    }

    fn rendered(format: Format, row: &Row) -> String {
        let mut buf = Vec::new();
        render(format, row, &mut buf);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let row = Row { a: "x,\"y\"", b: 1 };
        assert_eq!(rendered(Format::Csv, &row), "\"x,\"\"y\"\"\",1\n");
    }

    #[test]
    fn table_cuts_long_cells() {
        let row = Row {
            a: "abcdefgh",
            b: 12,
        };
        assert_eq!(rendered(Format::Table, &row), "abc…  12\n");
        let row = Row { a: "a\nb", b: 1 };
        assert_eq!(rendered(Format::Table, &row), "a b   1\n");
    }

    #[test]
    fn jsonl_is_one_line() {
        let row = Row { a: "x", b: 2 };
        assert_eq!(rendered(Format::Jsonl, &row), "{\"a\":\"x\",\"b\":2}\n");
    }
}
