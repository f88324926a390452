//! `mirt evtx`: Windows event logs to normalised events.

use crate::exit::{self, Outcome};
use crate::output::{self, Format, ProblemLog, RecordWriter, Tabular};
use crate::style;
use anyhow::Context;
use mirt_core::{Event, EventFilter, Problem};
use mirt_evtx::{EvtxReader, FileSummary, Item};
use std::path::PathBuf;

/// Read Windows event logs (.evtx) into normalised events.
///
/// Every record becomes one event: UTC time, record id, channel, provider,
/// event id, level, computer, user SID, and the EventData/UserData items as
/// flat typed fields, with the file and byte offset it came from. Damaged
/// chunks and records are reported on stderr (and with --errors in a file)
/// and the rest is still read.
#[derive(clap::Args)]
#[command(after_long_help = "\
Examples:
  mirt evtx Security.evtx
  mirt evtx C:/Windows/System32/winevt/Logs --event-id 4624,4625 --format table
  mirt evtx evidence/ --channel Security --from 2024-03-01 --to 2024-03-02 -o security.jsonl
  mirt evtx collected/ --errors unread.jsonl --raw | jq .fields")]
pub struct Args {
    /// EVTX files, or folders to search for *.evtx recursively.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Jsonl)]
    format: Format,

    /// Write events to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Also write every unread chunk, record or file as JSON Lines to FILE.
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,

    /// Keep only these event ids (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    event_id: Vec<u32>,

    /// Keep only these channels, e.g. Security (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    channel: Vec<String>,

    /// Keep events at or after this time (RFC 3339, or a date; UTC).
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    from: Option<mirt_core::Timestamp>,

    /// Keep events before this time (RFC 3339, or a date; UTC).
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    to: Option<mirt_core::Timestamp>,

    /// Include the full record as rendered JSON (`raw`) in each event.
    #[arg(long)]
    raw: bool,

    /// Do not print the per-run summary and problems on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
}

fn parse_time(s: &str) -> Result<mirt_core::Timestamp, String> {
    mirt_core::time::parse_user_time(s).map_err(|e| e.to_string())
}

/// What a worker hands back for one item.
enum Out {
    Rendered(Vec<u8>),
    Problem(Problem),
    FileDone(FileSummary),
}

pub fn exec(args: Args, threads: Option<usize>) -> Outcome {
    let found = mirt_evtx::find_evtx_files(&args.paths);
    let mut problems = ProblemLog::create(args.errors.as_deref())?;
    let mut totals = Totals::default();
    for p in &found.problems {
        report(&args, p, &mut problems)?;
        totals.unreadable += 1;
    }
    if found.files.is_empty() {
        anyhow::bail!("no event logs found under the given paths");
    }

    let mut reader = EvtxReader::new();
    reader
        .keep_raw(args.raw)
        .threads(threads.unwrap_or(0))
        .filter(EventFilter {
            event_ids: args.event_id.clone(),
            channels: args.channel.clone(),
            from: args.from,
            to: args.to,
        });
    let mut writer = RecordWriter::create::<Event>(args.format, args.output.as_deref())?;
    let bar = crate::progress::bar(found.files.len() as u64, "evtx", false);
    let format = args.format;
    let mut failure: Option<anyhow::Error> = None;
    reader.run(
        &found.files,
        move |item| match item {
            Item::Event(event) => Out::Rendered(render_exact(format, &event)),
            Item::Problem(p) => Out::Problem(p),
            Item::FileDone(s) => Out::FileDone(s),
        },
        |out| {
            if failure.is_some() {
                return;
            }
            let step = match out {
                Out::Rendered(bytes) => writer.write_rendered(&bytes).map_err(Into::into),
                Out::Problem(p) => bar.suspend(|| report(&args, &p, &mut problems)),
                Out::FileDone(s) => {
                    bar.inc(1);
                    totals.add(&s);
                    Ok(())
                }
            };
            if let Err(e) = step {
                failure = Some(e);
            }
        },
    );
    bar.finish_and_clear();
    if let Some(e) = failure {
        return Err(e).context("writing output");
    }
    writer.finish()?;
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

fn report(args: &Args, problem: &Problem, log: &mut ProblemLog) -> anyhow::Result<()> {
    if !args.quiet {
        eprintln!("{} {problem}", style::warning_label());
    }
    log.write(problem).context("writing the --errors file")
}

#[derive(Default)]
struct Totals {
    readable: u64,
    unreadable: u64,
    records: u64,
    emitted: u64,
    problems: u64,
}

impl Totals {
    fn add(&mut self, s: &FileSummary) {
        if s.unreadable {
            self.unreadable += 1;
        } else {
            self.readable += 1;
        }
        self.records += s.records;
        self.emitted += s.emitted;
        self.problems += s.problems;
    }

    fn print(&self) {
        eprintln!(
            "{} {} files read, {} unreadable; {} records, {} written; {} problems",
            style::bold("evtx:"),
            self.readable,
            self.unreadable,
            self.records,
            self.emitted,
            self.problems
        );
    }
}

/// `event` rendered into a buffer of exactly its size. The rendering goes
/// to a scratch buffer kept per worker thread first: sized by guess, the
/// buffer of a large event grew (a copy) and a small one wasted memory for
/// as long as its chunk waited for its turn to be written.
fn render_exact(format: Format, event: &Event) -> Vec<u8> {
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            output::render(format, event, &mut buf);
            buf.as_slice().to_vec()
        }
        // Only reachable from a nested call; never in practice.
        Err(_) => {
            let mut buf = Vec::new();
            output::render(format, event, &mut buf);
            buf
        }
    })
}

impl Tabular for Event {
    const COLUMNS: &'static [&'static str] = &[
        "timestamp",
        "computer",
        "channel",
        "event_id",
        "record_id",
        "level",
        "provider",
        "user_sid",
        "path",
        "offset",
        "fields",
    ];
    const WIDTHS: &'static [usize] = &[28, 16, 20, 8, 9, 5, 20, 12, 24, 9, 80];

    fn write_json(&self, buf: &mut Vec<u8>) {
        mirt_core::json::write_event(buf, self);
    }

    fn cells(&self) -> Vec<String> {
        let opt = |v: Option<&str>| v.unwrap_or_default().to_string();
        let fields = self
            .fields
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        vec![
            self.timestamp.map(|t| t.to_string()).unwrap_or_default(),
            opt(self.computer.as_deref()),
            opt(self.channel.as_deref()),
            self.event_id.map(|v| v.to_string()).unwrap_or_default(),
            self.record_id.map(|v| v.to_string()).unwrap_or_default(),
            self.level.map(|v| v.to_string()).unwrap_or_default(),
            opt(self.provider.as_deref()),
            opt(self.user_sid.as_deref()),
            self.source.path.display().to_string(),
            self.source.offset.to_string(),
            fields,
        ]
    }
}
