//! `mirt hunt`: Sigma rules over event logs.
//!
//! Rule matching runs on the reader's worker threads (`detect`), output
//! and correlations on the calling thread (`Hunter::accept`), so another
//! input kind only needs to feed its events through the same two steps.

mod inputs;
mod record;
mod rules;
mod startup;
mod summary;

use crate::exit::{self, Outcome};
use crate::output::{self, Format, ProblemLog, RecordWriter};
use crate::style;
use anyhow::Context;
use mirt_core::{Event, Problem};
use mirt_evtx::{EvtxReader, FileSummary, Item};
use mirt_sigma::{CorrelationEngine, CorrelationInput, RuleSet};
use record::{CorrelationRecord, DetectionRecord};
use startup::Startup;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use summary::{Summary, Tally};

pub use rules::StatusArg;

/// Hunt event logs and text logs with Sigma rules.
///
/// Runs Sigma rules (the specification 2.1: all modifiers, correlations,
/// filters) over Windows event logs, and over text logs read as `mirt logs`
/// reads them (log sources webserver, linux auth/sshd/sudo/syslog,
/// firewall). By default the rules shipped with mirt
/// are used (ransomware triage: log clearing, suspicious services,
/// shadow-copy deletion, encoded PowerShell, lateral movement, brute force,
/// new admins, scheduled tasks, Defender tampering). `--rules` ADDS rule
/// files or folders (SigmaHQ's `rules/windows` works unmodified);
/// `--no-builtin` leaves the shipped rules out. Rules that cannot be loaded
/// are counted on stderr and listed with their reasons by `--list-skipped`
/// and in `--summary`.
///
/// Each detection is one JSON line: rule id, title, level, status, tags
/// (ATT&CK ids), event time, computer, channel, event id, record id, the
/// fields that matched, and the event. Correlation findings list the events
/// that formed them. A summary by rule and level goes to stderr.
///
/// The compiled rule set is cached (keyed by the BLAKE3 of every rule file,
/// the mappings, the options and the mirt build), so a second hunt with the
/// same rules starts at once; any change to a rule is a new key.
#[derive(clap::Args)]
#[command(after_long_help = "\
Examples:
  mirt hunt C:/Windows/System32/winevt/Logs
  mirt hunt evidence/ --min-level high --format table
  mirt hunt evidence/ --rules sigma/rules/windows --no-builtin -o detections.jsonl
  mirt hunt evidence/ --rules my-rules/ --rules mf_tuning.yml --summary summary.json
  mirt hunt --rules sigma/rules/windows --list-skipped --format table
  mirt hunt collected/var/log collected/inetpub/logs --min-level medium

Log sources are mapped to channels and event ids by rules/mappings/windows.yml,
and to text logs by linux.yml, webserver.yml and firewall.yml (embedded);
--mapping FILE adds or overrides entries.")]
pub struct Args {
    /// Event logs (.evtx) and text logs, or folders to search recursively.
    #[arg(value_name = "PATH", required_unless_present_any = ["list_skipped", "list_rules"])]
    paths: Vec<PathBuf>,

    /// Add Sigma rules: a .yml file or a folder (recursive). Repeatable.
    #[arg(long, short = 'r', value_name = "DIR|FILE")]
    rules: Vec<PathBuf>,

    /// Do not use the rules shipped with mirt (only those given with --rules).
    #[arg(long)]
    no_builtin: bool,

    /// Add a log-source mapping file (same format as rules/mappings/windows.yml).
    #[arg(long, value_name = "FILE")]
    mapping: Vec<PathBuf>,

    /// YAML file with values for %placeholders% of the `expand` modifier
    /// (name: [values]).
    #[arg(long, value_name = "FILE")]
    placeholders: Option<PathBuf>,

    /// Only rules of at least this level.
    #[arg(long, value_enum, value_name = "LEVEL")]
    min_level: Option<rules::LevelArg>,

    /// Only rules with these statuses (default: stable, test, experimental).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "STATUS")]
    status: Vec<StatusArg>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Jsonl)]
    format: Format,

    /// Write detections to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Write the run summary (counts, skipped rules, unread files) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    summary: Option<PathBuf>,

    /// Also write every unread chunk, record or file as JSON Lines to FILE.
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,

    /// List the rules that could not be loaded, with the reason, and exit.
    #[arg(long)]
    list_skipped: bool,

    /// List the loaded rules and exit.
    #[arg(long)]
    list_rules: bool,

    /// Text logs: year of the first line of logs that write no year (BSD
    /// syslog); default: worked back from each file's modification time.
    #[arg(long, value_name = "YEAR")]
    year: Option<i32>,

    /// Text logs: time zone of times written without an offset (an IANA
    /// name, UTC, or +01:00). Default UTC.
    #[arg(long, value_name = "ZONE", value_parser = super::logs::parse_zone)]
    tz: Option<jiff::tz::TimeZone>,

    /// Folder for compiled rule sets [default: the user's cache folder, mirt/sigma].
    #[arg(long, value_name = "DIR")]
    rule_cache: Option<PathBuf>,

    /// Parse and compile the rules every time; do not read or write the cache.
    #[arg(long, conflicts_with = "rule_cache")]
    no_rule_cache: bool,

    /// Do not print the summary and problems on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// What a worker hands back for one item read.
pub enum Out {
    /// An event was matched: its rendered detections, and what it feeds
    /// into correlations.
    Event {
        detections: Vec<(u32, Vec<u8>)>,
        correlation: Vec<CorrelationInput>,
    },
    Problem(Problem),
    FileDone(FileSummary),
    /// A text log is done.
    LogDone(Box<mirt_logs::FileSummary>),
    /// An event read before the rules were ready, to be matched.
    Pending(Box<Event>),
}

pub fn exec(args: Args, threads: Option<usize>) -> Outcome {
    if args.list_skipped || args.list_rules {
        let set = rules::load(&args)?;
        return rules::list(&args, &set);
    }
    // The rules compile while the inputs are found and the first logs read.
    let builder = rules::builder(&args)?;
    let cell: Arc<OnceLock<Arc<RuleSet>>> = Arc::default();
    std::thread::scope(|scope| {
        let loader = startup::spawn(scope, &args, builder, &cell);
        let found = inputs::split(&args.paths);
        let mut start = Startup::new(&args, loader, found.problems);
        if found.evtx.is_empty() && found.logs.is_empty() {
            start.hunter()?;
            anyhow::bail!("no event logs or text logs found under the given paths");
        }
        hunt(&args, threads, &found.evtx, &found.logs, start, &cell)
    })
}

/// Reads the inputs, matching their events on the workers once the rules
/// are in `cell` (and in the startup's waiting list until then).
fn hunt(
    args: &Args,
    threads: Option<usize>,
    evtx: &[PathBuf],
    logs: &[PathBuf],
    mut start: Startup<'_, '_>,
    cell: &Arc<OnceLock<Arc<RuleSet>>>,
) -> Outcome {
    let mut reader = EvtxReader::new();
    reader.threads(threads.unwrap_or(0));
    let bar = crate::progress::bar((evtx.len() + logs.len()) as u64, "hunt", false);
    let format = args.format;
    let worker_cell = Arc::clone(cell);
    let mut failure = None;
    reader.run(
        evtx,
        move |item| match item {
            Item::Event(event) => match worker_cell.get() {
                Some(set) => detect(set, &event, format),
                None => Out::Pending(event),
            },
            Item::Problem(p) => Out::Problem(p),
            Item::FileDone(s) => Out::FileDone(s),
        },
        |out: Out| {
            let file_done = matches!(out, Out::FileDone(_));
            if failure.is_none()
                && let Err(e) = bar.suspend(|| start.accept(out))
            {
                failure = Some(e);
            }
            if file_done {
                bar.inc(1);
            }
        },
    );
    if let Some(e) = failure {
        bar.finish_and_clear();
        return Err(e);
    }
    let mut hunter = start.into_hunter()?;
    if !logs.is_empty() {
        let log_set = Arc::clone(&hunter.set);
        let mut reader = mirt_logs::LogReader::new();
        reader
            .threads(threads.unwrap_or(0))
            .year(args.year)
            .time_zone(args.tz.clone());
        reader.run(
            logs,
            move |item| match item {
                mirt_logs::Item::Event(event) => detect(&log_set, &event, format),
                mirt_logs::Item::Problem(p) => Out::Problem(p),
                mirt_logs::Item::FileDone(s) => Out::LogDone(Box::new(s)),
            },
            |out: Out| {
                let file_done = matches!(out, Out::LogDone(_));
                if failure.is_none()
                    && let Err(e) = bar.suspend(|| hunter.accept(out))
                {
                    failure = Some(e);
                }
                if file_done {
                    bar.inc(1);
                }
            },
        );
    }
    bar.finish_and_clear();
    if let Some(e) = failure {
        return Err(e);
    }
    // The process ends next: freeing the rule set's many small allocations
    // one by one would cost more than hunting a small log folder, so one
    // reference is never given back.
    let set = Arc::clone(&hunter.set);
    // The automata built for this evidence's routes, for the next hunt.
    if let Some(why) = set.store_automata()
        && !args.quiet
    {
        eprintln!("{} {why}", style::warning_label());
    }
    let outcome = hunter.finish();
    std::mem::forget(set);
    outcome
}

/// Matches one event (on a worker thread) and renders its detections.
pub fn detect(set: &RuleSet, event: &Event, format: Format) -> Out {
    let hits = set.scan_explained(event);
    let mut detections = Vec::new();
    let mut correlation = Vec::new();
    for (hit, matched) in hits {
        let hit = &hit;
        let rule = &set.rules()[hit.rule as usize];
        if set.feeds_correlation(hit) {
            correlation.extend(set.correlation_inputs(event, hit));
        }
        if !rule.report {
            continue;
        }
        let record = DetectionRecord::new(rule, event, matched.into_iter().collect());
        let mut buf = Vec::with_capacity(2048);
        output::render(format, &record, &mut buf);
        detections.push((hit.rule, buf));
    }
    Out::Event {
        detections,
        correlation,
    }
}

/// The calling thread's side: writes detections in order, feeds the
/// correlation engine, counts.
pub struct Hunter<'a> {
    args: &'a Args,
    set: Arc<RuleSet>,
    writer: RecordWriter,
    problems: ProblemLog,
    unread: Vec<Problem>,
    engine: CorrelationEngine,
    pub tally: Tally,
}

impl<'a> Hunter<'a> {
    pub fn new(args: &'a Args, set: Arc<RuleSet>) -> anyhow::Result<Hunter<'a>> {
        Ok(Hunter {
            writer: RecordWriter::create::<DetectionRecord>(args.format, args.output.as_deref())?,
            problems: ProblemLog::create(args.errors.as_deref())?,
            unread: Vec::new(),
            engine: set.correlation_engine(),
            set,
            args,
            tally: Tally::default(),
        })
    }

    pub fn accept(&mut self, out: Out) -> anyhow::Result<()> {
        match out {
            Out::Pending(event) => {
                let out = detect(&self.set, &event, self.args.format);
                return self.accept(out);
            }
            Out::Event {
                detections,
                correlation,
            } => {
                self.tally.events += 1;
                for (rule, bytes) in detections {
                    self.tally.hit(rule);
                    self.writer
                        .write_rendered(&bytes)
                        .context("writing detections")?;
                }
                correlation.into_iter().for_each(|c| self.engine.push(c));
            }
            Out::Problem(p) => {
                self.tally.problems += 1;
                self.problem(&p)?;
            }
            Out::LogDone(s) => {
                if s.unreadable {
                    self.tally.unreadable += 1;
                } else {
                    self.tally.files += 1;
                }
            }
            Out::FileDone(s) => {
                if s.unreadable {
                    self.tally.unreadable += 1;
                } else {
                    self.tally.files += 1;
                }
            }
        }
        Ok(())
    }

    fn problem(&mut self, p: &Problem) -> anyhow::Result<()> {
        if !self.args.quiet {
            eprintln!("{} {p}", style::warning_label());
        }
        self.unread.push(p.clone());
        self.problems.write(p).context("writing the --errors file")
    }

    /// Runs the correlations, writes their findings and the summary.
    pub fn finish(self) -> Outcome {
        let Hunter {
            args,
            set,
            mut writer,
            problems,
            unread,
            engine,
            mut tally,
        } = self;
        for finding in engine.finish() {
            let rule = &set.rules()[finding.rule as usize];
            if !rule.report {
                continue;
            }
            tally.hit(finding.rule);
            writer
                .write(&CorrelationRecord::new(rule, &finding))
                .context("writing detections")?;
        }
        writer.finish()?;
        problems.finish().context("writing the --errors file")?;
        let summary = Summary::new(&tally, &set, &unread);
        if let Some(path) = &args.summary {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            serde_json::to_writer_pretty(std::io::BufWriter::new(file), &summary)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        if !args.quiet {
            summary.print();
        }
        Ok(if tally.files == 0 {
            exit::FAILED
        } else {
            exit::OK
        })
    }
}
