//! `mirt logs`: text logs to normalised events.

use crate::exit::{self, Outcome};
use crate::output::{self, Format, ProblemLog, RecordWriter, Tabular};
use crate::style;
use anyhow::Context;
use mirt_core::{Event, EventFilter, Problem};
use mirt_logs::{FileSummary, Item, LogFormat, LogReader};
use serde::Serialize;
use std::path::PathBuf;

/// Read text logs (syslog, auth.log, Apache/nginx, IIS, Windows Firewall,
/// CSV, JSON Lines, PowerShell transcripts, any text) into normalised events.
///
/// The format of each file is detected from its name and first lines
/// (--input-format forces one). Plain files are memory-mapped and parsed in
/// parallel; .gz, .bz2, .xz and .zst files are decompressed on the fly.
/// Every event carries its UTC time, the file, byte offset and line number.
/// Lines that cannot be parsed, and lines with invalid UTF-8, NUL bytes or
/// over the length limit, are counted per file and the first ones (see
/// --max-problems) listed with their line numbers on stderr and in the
/// --errors file; the rest of the file is still read.
#[derive(clap::Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct Args {
    /// Log files, or folders to search recursively.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Jsonl)]
    format: Format,

    /// Write events to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Also write the problems listed (unparsed lines, unreadable files) as JSON Lines to FILE.
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,

    /// Read every file as this format instead of detecting it (see the list below).
    #[arg(long, short = 'I', value_name = "NAME", value_parser = parse_format)]
    input_format: Option<LogFormat>,

    /// Keep events at or after this time (RFC 3339, or a date; UTC).
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    from: Option<mirt_core::Timestamp>,

    /// Keep events before this time (RFC 3339, or a date; UTC).
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    to: Option<mirt_core::Timestamp>,

    /// Keep only lines matching this regular expression.
    #[arg(long, short = 'g', value_name = "REGEX")]
    grep: Option<String>,

    /// Match --grep ignoring case.
    #[arg(long, short = 'i')]
    ignore_case: bool,

    /// Year of the first line of logs that write no year (BSD syslog);
    /// default: worked back from each file's modification time.
    #[arg(long, value_name = "YEAR")]
    year: Option<i32>,

    /// Time zone of times written without an offset (syslog, firewall,
    /// error logs): an IANA name (Europe/Berlin), UTC, or +01:00. Default UTC.
    #[arg(long, value_name = "ZONE", value_parser = parse_zone)]
    tz: Option<jiff::tz::TimeZone>,

    /// Include each line's text (`raw`) in its event.
    #[arg(long)]
    raw: bool,

    /// Problems listed per file on stderr and in --errors (0: all); the
    /// rest are counted in the summary.
    #[arg(long, value_name = "N", default_value_t = 20)]
    max_problems: usize,

    /// Longest line read in full, in bytes; longer ones are cut and reported.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    max_line: usize,

    /// Read plain files as streams instead of memory-mapping them (for
    /// files another process is still writing or truncating).
    #[arg(long)]
    no_mmap: bool,

    /// Print only the per-file summary, no events.
    #[arg(long, short = 'c')]
    count: bool,

    /// Do not print the per-file summary and problems on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
}

const AFTER_HELP: &str = "\
Input formats (--input-format):
  syslog                 syslog: RFC 3164 and 5424, rsyslog variants
  linux_auth             auth.log / secure: syslog plus sshd, sudo, su fields
  apache_access          Apache/nginx access: common, combined, vhost_combined
  apache_error           Apache httpd / nginx error log
  iis_w3c                IIS W3C extended (#Fields), IIS 6 to 10
  windows_firewall       Windows Firewall pfirewall.log
  csv                    CSV/TSV with a header row
  jsonl                  JSON Lines, nested fields flattened
  powershell_transcript  PowerShell transcript
  generic                any text: one event per line, time detected

Examples:
  mirt logs /var/log/auth.log --format table
  mirt logs collected/var/log --year 2024 --tz Europe/Berlin -o linux.jsonl
  mirt logs access.log.*.gz --grep 'union.+select' -i --format csv
  mirt logs u_ex240301.log --from 2024-03-01T08:00:00Z --to 2024-03-01T12:00:00Z
  mirt logs export.txt --input-format csv --errors unread.jsonl
  mirt logs /mnt/evidence/logs --count";

fn parse_time(s: &str) -> Result<mirt_core::Timestamp, String> {
    mirt_core::time::parse_user_time(s).map_err(|e| e.to_string())
}

fn parse_format(s: &str) -> Result<LogFormat, String> {
    s.parse().map_err(|e: mirt_logs::Error| e.to_string())
}

pub(crate) fn parse_zone(s: &str) -> Result<jiff::tz::TimeZone, String> {
    LogReader::parse_time_zone(s).map_err(|e| e.to_string())
}

/// What a worker hands back: the rendered events of a run of a chunk's
/// records in one buffer (one allocation, one write), or the problems and
/// summaries between them.
#[derive(Default)]
struct Batch {
    rendered: Vec<u8>,
    problems: Vec<Problem>,
    files: Vec<FileSummary>,
}

pub fn exec(args: Args, threads: Option<usize>) -> Outcome {
    let found = mirt_logs::find_log_files(&args.paths);
    let mut problems = ProblemLog::create(args.errors.as_deref())?;
    let mut totals = Totals::default();
    for p in &found.problems {
        report(&args, p, &mut problems)?;
        totals.unreadable += 1;
    }
    if found.files.is_empty() {
        anyhow::bail!("no files found under the given paths");
    }
    let reader = build_reader(&args, threads)?;
    let mut writer = if args.count {
        None
    } else {
        Some(RecordWriter::create::<LogRow>(
            args.format,
            args.output.as_deref(),
        )?)
    };
    let bar = crate::progress::bar(found.files.len() as u64, "logs", false);
    let format = args.format;
    let count_only = args.count;
    let mut failure: Option<anyhow::Error> = None;
    reader.run_batched(
        &found.files,
        move |item, batch: &mut Batch| match item {
            Item::Event(_) if count_only => {}
            Item::Event(event) => {
                if batch.rendered.capacity() == 0 {
                    batch.rendered.reserve(1 << 20);
                }
                output::render(format, &LogRow(&event), &mut batch.rendered);
            }
            Item::Problem(p) => batch.problems.push(p),
            Item::FileDone(s) => batch.files.push(s),
        },
        |batch| {
            if failure.is_some() {
                return;
            }
            let step = (|| -> anyhow::Result<()> {
                if let Some(w) = writer.as_mut()
                    && !batch.rendered.is_empty()
                {
                    write_batch(w, format, &batch.rendered)?;
                }
                for p in &batch.problems {
                    bar.suspend(|| report(&args, p, &mut problems))?;
                }
                for s in &batch.files {
                    bar.inc(1);
                    if !args.quiet {
                        bar.suspend(|| print_file(s));
                    }
                    totals.add(s);
                }
                Ok(())
            })();
            if let Err(e) = step {
                failure = Some(e);
            }
        },
    );
    bar.finish_and_clear();
    if let Some(e) = failure {
        return Err(e).context("writing output");
    }
    if let Some(w) = writer {
        w.finish()?;
    }
    problems.finish().context("writing the --errors file")?;
    if !args.quiet {
        totals.print();
    }
    Ok(if totals.readable == 0 {
        exit::FAILED
    } else {
        exit::OK
    })
}

/// Writes rendered records. A JSON array needs each record on its own (for
/// the commas); rendered JSON never holds a raw newline, so the records are
/// the lines. The other formats are written in one piece.
fn write_batch(w: &mut RecordWriter, format: Format, rendered: &[u8]) -> std::io::Result<()> {
    if format != Format::Json {
        return w.write_rendered(rendered);
    }
    for record in rendered.split_inclusive(|&b| b == b'\n') {
        w.write_rendered(record)?;
    }
    Ok(())
}

fn build_reader(args: &Args, threads: Option<usize>) -> anyhow::Result<LogReader> {
    let grep = match &args.grep {
        Some(pattern) => Some(
            regex::RegexBuilder::new(pattern)
                .case_insensitive(args.ignore_case)
                .build()
                .with_context(|| format!("--grep {pattern:?} is not a valid regular expression"))?,
        ),
        None => None,
    };
    let mut reader = LogReader::new();
    reader
        .format(args.input_format)
        .year(args.year)
        .time_zone(args.tz.clone())
        .grep(grep)
        .keep_raw(args.raw)
        .threads(threads.unwrap_or(0))
        .max_problems(args.max_problems)
        .max_record(args.max_line)
        .mmap(!args.no_mmap)
        .filter(EventFilter {
            from: args.from,
            to: args.to,
            ..Default::default()
        });
    Ok(reader)
}

fn report(args: &Args, problem: &Problem, log: &mut ProblemLog) -> anyhow::Result<()> {
    if !args.quiet {
        eprintln!("{} {problem}", style::warning_label());
    }
    log.write(problem).context("writing the --errors file")
}

/// One line per file on stderr: what it was read as and what came of it.
fn print_file(s: &FileSummary) {
    let path = s.path.display();
    if s.unreadable {
        eprintln!("{path}: not read");
        return;
    }
    let format = s.format.map_or("-", LogFormat::name);
    let how = if s.detected { "detected" } else { "forced" };
    let compression = s
        .compression
        .map(|c| format!(", {}", c.name()))
        .unwrap_or_default();
    let encoding = s.encoding.map(|e| format!(", {e}")).unwrap_or_default();
    let mut line = format!(
        "{path}: {format} ({how}{compression}{encoding}), {} lines, {} events",
        s.lines, s.events
    );
    if s.emitted != s.events {
        line.push_str(&format!(" ({} kept)", s.emitted));
    }
    line.push_str(&format!(", {} failed", s.failed));
    if s.damaged > 0 {
        line.push_str(&format!(", {} damaged", s.damaged));
    }
    if let Some(years) = &s.years {
        line.push_str(&format!("; {years}"));
    }
    eprintln!("{line}");
}

#[derive(Default)]
struct Totals {
    readable: u64,
    unreadable: u64,
    lines: u64,
    events: u64,
    emitted: u64,
    failed: u64,
    damaged: u64,
}

impl Totals {
    fn add(&mut self, s: &FileSummary) {
        if s.unreadable {
            self.unreadable += 1;
        } else {
            self.readable += 1;
        }
        self.lines += s.lines;
        self.events += s.events;
        self.emitted += s.emitted;
        self.failed += s.failed;
        self.damaged += s.damaged;
    }

    fn print(&self) {
        eprintln!(
            "{} {} files read, {} not read; {} lines, {} events, {} written; {} lines failed, {} damaged",
            style::bold("logs:"),
            self.readable,
            self.unreadable,
            self.lines,
            self.events,
            self.emitted,
            self.failed,
            self.damaged
        );
    }
}

/// An event from a text log, with the columns that suit logs in CSV and
/// table output (JSON is the event itself).
struct LogRow<'a>(&'a Event);

impl Serialize for LogRow<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Tabular for LogRow<'_> {
    const COLUMNS: &'static [&'static str] = &[
        "timestamp",
        "computer",
        "provider",
        "format",
        "message",
        "fields",
        "path",
        "line",
        "offset",
    ];
    const WIDTHS: &'static [usize] = &[27, 16, 12, 16, 60, 60, 30, 7, 10];

    fn write_json(&self, buf: &mut Vec<u8>) {
        mirt_core::json::write_event(buf, self.0);
    }

    fn cells(&self) -> Vec<String> {
        let e = self.0;
        let opt = |v: Option<&str>| v.unwrap_or_default().to_string();
        let fields = e
            .fields
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        vec![
            e.timestamp.map(|t| t.to_string()).unwrap_or_default(),
            opt(e.computer.as_deref()),
            opt(e.provider.as_deref()),
            e.source.format.unwrap_or_default().to_string(),
            opt(e.message.as_deref()),
            fields,
            e.source.path.display().to_string(),
            e.source.line.map(|v| v.to_string()).unwrap_or_default(),
            e.source.offset.to_string(),
        ]
    }
}
