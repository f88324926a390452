//! [`LogReader`]: opens each log, detects its format, cuts it into chunks at
//! record boundaries, and runs them through the ordered parallel pipeline.

use crate::chunk::{ChunkData, ChunkJob, JobCtx, count_lines, parse_chunk};
use crate::error::{Error, Result};
use crate::format::LogFormat;
use crate::frame;
use crate::input::{self, Input};
use crate::parse::{FileCtx, FormatParser, Prescan, State, YearHint, parser_for};
use crate::pipeline::Pipeline;
use crate::sniff::{Sniffed, sniff};
use crate::summary::{FileSummary, Item};
use crate::timefmt::Clock;
use mirt_core::{EventFilter, Problem, ProblemKind};
use regex::Regex;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Reads text logs. Build one, set options, then call [`LogReader::run`]
/// or [`LogReader::read_files`].
#[derive(Clone)]
pub struct LogReader {
    pub(crate) format: Option<LogFormat>,
    pub(crate) year: Option<i32>,
    pub(crate) zone: Option<jiff::tz::TimeZone>,
    pub(crate) filter: Arc<EventFilter>,
    pub(crate) grep: Option<Regex>,
    pub(crate) keep_raw: bool,
    pub(crate) threads: usize,
    pub(crate) chunk_size: usize,
    pub(crate) max_record: usize,
    pub(crate) max_problems: usize,
    pub(crate) mmap: bool,
}

impl Default for LogReader {
    fn default() -> Self {
        Self::new()
    }
}

/// How much of a file the sniffer looks at.
pub(crate) const HEAD: usize = 64 * 1024;

impl LogReader {
    /// A reader that detects formats, reads local times as UTC, maps plain
    /// files, and lists the first 20 problems of each file.
    pub fn new() -> Self {
        LogReader {
            format: None,
            year: None,
            zone: None,
            filter: Arc::new(EventFilter::default()),
            grep: None,
            keep_raw: false,
            threads: 0,
            chunk_size: 1 << 20,
            max_record: 1 << 20,
            max_problems: 20,
            mmap: true,
        }
    }

    /// Reads every file as `format` instead of detecting it.
    pub fn format(&mut self, format: Option<LogFormat>) -> &mut Self {
        self.format = format;
        self
    }

    /// The year of the first year-less record (BSD syslog), instead of
    /// inferring it from the file time.
    pub fn year(&mut self, year: Option<i32>) -> &mut Self {
        self.year = year;
        self
    }

    /// The zone of times written without an offset (default UTC).
    pub fn time_zone(&mut self, zone: Option<jiff::tz::TimeZone>) -> &mut Self {
        self.zone = zone;
        self
    }

    /// Parses a zone as `--tz` takes it: an IANA name, `UTC`, or `+01:00`.
    pub fn parse_time_zone(name: &str) -> Result<jiff::tz::TimeZone> {
        let err = || Error::UnknownTimeZone {
            name: name.to_string(),
        };
        if let Some((off, n)) = crate::timefmt::offset(name.as_bytes())
            && n == name.len()
        {
            return Ok(jiff::tz::TimeZone::fixed(
                jiff::tz::Offset::from_seconds(off).map_err(|_| err())?,
            ));
        }
        if name.eq_ignore_ascii_case("utc") || name.eq_ignore_ascii_case("z") {
            return Ok(jiff::tz::TimeZone::UTC);
        }
        jiff::tz::TimeZone::get(name).map_err(|_| err())
    }

    /// Only events passing `filter` are handed on (all are counted).
    pub fn filter(&mut self, filter: EventFilter) -> &mut Self {
        self.filter = Arc::new(filter);
        self
    }

    /// Only records whose text matches `grep` are handed on.
    pub fn grep(&mut self, grep: Option<Regex>) -> &mut Self {
        self.grep = grep;
        self
    }

    /// Keep each record's text in [`Event::raw`].
    pub fn keep_raw(&mut self, yes: bool) -> &mut Self {
        self.keep_raw = yes;
        self
    }

    /// Worker threads: 1 parses on the calling thread; 0 (the default) uses
    /// the whole rayon pool.
    pub fn threads(&mut self, n: usize) -> &mut Self {
        self.threads = n;
        self
    }

    /// Target chunk size in bytes (default 1 MiB).
    pub fn chunk_size(&mut self, bytes: usize) -> &mut Self {
        self.chunk_size = bytes.max(1);
        self
    }

    /// Longest record read in full (default 1 MiB); longer ones are cut and
    /// reported.
    pub fn max_record(&mut self, bytes: usize) -> &mut Self {
        self.max_record = bytes.max(16);
        self
    }

    /// How many problems to list per file (0: all); the rest are counted.
    pub fn max_problems(&mut self, n: usize) -> &mut Self {
        self.max_problems = n;
        self
    }

    /// Memory-map plain files (default). Off: read them as streams, which
    /// is safer for files another process is still writing or truncating.
    pub fn mmap(&mut self, yes: bool) -> &mut Self {
        self.mmap = yes;
        self
    }

    /// Reads `files` in order and hands every item to `sink`.
    pub fn read_files(&self, files: &[PathBuf], sink: impl FnMut(Item)) {
        self.run(files, |item| item, sink)
    }

    /// Reads `files`, applies `map` to every item on the worker threads
    /// (rendering output or matching rules in parallel), and hands the
    /// results to `sink` on the calling thread, in file and record order.
    pub fn run<T, M, S>(&self, files: &[PathBuf], map: M, mut sink: S)
    where
        T: Send + 'static,
        M: Fn(Item) -> T + Send + Sync + 'static,
        S: FnMut(T),
    {
        self.run_batched(
            files,
            move |item, batch: &mut Vec<T>| batch.push(map(item)),
            |batch| batch.into_iter().for_each(&mut sink),
        );
    }

    /// Like [`LogReader::run`], but `map` adds each item's result to a batch
    /// (one per run of events of a chunk, one per problem or summary), and
    /// `sink` receives whole batches, in order. For output that is cheaper
    /// to build in bulk, such as rendered lines appended to one buffer.
    pub fn run_batched<B, M, S>(&self, files: &[PathBuf], map: M, mut sink: S)
    where
        B: Default + Send + 'static,
        M: Fn(Item, &mut B) + Send + Sync + 'static,
        S: FnMut(B),
    {
        let threads = match self.threads {
            0 => rayon::current_num_threads(),
            n => n,
        };
        let mut pipeline = Pipeline::new(map, threads, self.max_problems);
        for path in files {
            self.read_file(path, &mut pipeline, &mut sink);
        }
        pipeline.finish(&mut sink);
    }

    fn read_file<B, M, S>(&self, path: &Path, pipeline: &mut Pipeline<B, M>, sink: &mut S)
    where
        B: Default + Send + 'static,
        M: Fn(Item, &mut B) + Send + Sync + 'static,
        S: FnMut(B),
    {
        let shared: Arc<Path> = Arc::from(path);
        let mut summary = FileSummary {
            path: path.to_path_buf(),
            ..Default::default()
        };
        let opened = match input::open(path, self.mmap) {
            Ok(o) => o,
            Err(e) => {
                return self.unreadable(
                    summary,
                    ProblemKind::Unreadable,
                    e.to_string(),
                    pipeline,
                    sink,
                );
            }
        };
        summary.compression = match opened.input {
            Input::Compressed(c) => Some(c),
            _ => None,
        };
        let hint = YearHint {
            first_year: self.year,
            modified: opened.modified,
        };
        match opened.input {
            Input::Empty => {
                summary.format = self.format;
                pipeline.file_end(summary, sink);
            }
            Input::Mapped(map) if input::is_utf16(map.bytes()) => {
                self.read_stream(path, &shared, summary, &hint, pipeline, sink)
            }
            Input::Mapped(map) => {
                let data = Whole::Mapped(map);
                self.read_whole(&shared, data, summary, &hint, pipeline, sink);
            }
            Input::Plain | Input::Compressed(_) => {
                self.read_stream(path, &shared, summary, &hint, pipeline, sink)
            }
        }
    }

    /// Reads an in-memory log (a file extracted from a disk image, a test
    /// input) as if it were the file `path`; year-less times are counted
    /// back from `--year` or today.
    pub fn read_bytes(&self, path: &Path, data: &[u8], mut sink: impl FnMut(Item)) {
        let threads = match self.threads {
            0 => rayon::current_num_threads(),
            n => n,
        };
        let mut pipeline = Pipeline::new(
            |item, batch: &mut Vec<Item>| batch.push(item),
            threads,
            self.max_problems,
        );
        let mut sink = |batch: Vec<Item>| batch.into_iter().for_each(&mut sink);
        let summary = FileSummary {
            path: path.to_path_buf(),
            ..Default::default()
        };
        let hint = YearHint {
            first_year: self.year,
            modified: None,
        };
        let shared: Arc<Path> = Arc::from(path);
        let mut summary = summary;
        let converted;
        let data = if input::is_utf16(data) {
            converted = input::utf16_to_utf8(data);
            summary.encoding = Some(if data[0] == 0xff {
                "utf-16le"
            } else {
                "utf-16be"
            });
            &converted[..]
        } else {
            data
        };
        if data.is_empty() {
            summary.format = self.format;
            pipeline.file_end(summary, &mut sink);
        } else {
            self.read_whole(
                &shared,
                Whole::Owned(Arc::from(data)),
                summary,
                &hint,
                &mut pipeline,
                &mut sink,
            );
        }
        pipeline.finish(&mut sink);
    }

    /// A whole file in memory (mapped or owned): sniff, split, pre-pass,
    /// then one job per chunk.
    fn read_whole<B, M, S>(
        &self,
        shared: &Arc<Path>,
        data: Whole,
        mut summary: FileSummary,
        hint: &YearHint,
        pipeline: &mut Pipeline<B, M>,
        sink: &mut S,
    ) where
        B: Default + Send + 'static,
        M: Fn(Item, &mut B) + Send + Sync + 'static,
        S: FnMut(B),
    {
        let bytes = data.bytes();
        let head = &bytes[..bytes.len().min(HEAD)];
        let Some(format) = self.decide(shared, head, &mut summary, pipeline, sink) else {
            return;
        };
        summary.bytes = bytes.len() as u64;
        let parser: Arc<dyn FormatParser> =
            Arc::from(parser_for(format, &String::from_utf8_lossy(head)));
        let ranges = frame::split(bytes, parser.framing(), self.chunk_size);
        let prescans = self.prescan_ranges(&*parser, bytes, &ranges);
        let states = parser.chunk_states(&prescans, hint);
        summary.years = years_note(format, &prescans, &states, hint);
        let ctx = self.job_ctx(shared, format, parser, hint);
        let last = ranges.len().saturating_sub(1);
        let mut line_base = 0u64;
        for (i, (range, state)) in ranges.into_iter().zip(states).enumerate() {
            let lines = count_lines(&bytes[range.clone()]);
            let chunk = match &data {
                Whole::Mapped(map) => ChunkData::Mapped(Arc::clone(map), range.clone()),
                Whole::Owned(all) => ChunkData::Shared(Arc::clone(all), range.clone()),
            };
            let job = ChunkJob {
                ctx: Arc::clone(&ctx),
                data: chunk,
                offset: range.start as u64,
                line_base,
                state,
                first: i == 0,
                last: i == last,
            };
            line_base += lines;
            let map = pipeline.map();
            pipeline.chunk(move || parse_chunk(job, &*map), Arc::clone(shared), sink);
        }
        summary.lines = line_base;
        pipeline.file_end(summary, sink);
    }

    fn prescan_ranges(
        &self,
        parser: &dyn FormatParser,
        data: &[u8],
        ranges: &[std::ops::Range<usize>],
    ) -> Vec<Prescan> {
        use rayon::prelude::*;
        if !parser.needs_prescan() {
            return vec![Prescan::None; ranges.len()];
        }
        ranges
            .par_iter()
            .map(|r| parser.prescan(&data[r.clone()]))
            .collect()
    }

    pub(crate) fn job_ctx(
        &self,
        path: &Arc<Path>,
        format: LogFormat,
        parser: Arc<dyn FormatParser>,
        hint: &YearHint,
    ) -> Arc<JobCtx> {
        let year_now = hint.first_year.unwrap_or_else(|| {
            i32::from(
                hint.modified
                    .unwrap_or_else(jiff::Timestamp::now)
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .year(),
            )
        });
        Arc::new(JobCtx {
            file: FileCtx {
                path: Arc::clone(path),
                clock: Clock::new(self.zone.clone()),
                keep_raw: self.keep_raw,
                format,
                year_now,
            },
            framing: parser.framing(),
            parser,
            filter: Arc::clone(&self.filter),
            grep: self.grep.clone(),
            max_record: self.max_record,
            max_problems: if self.max_problems == 0 {
                usize::MAX
            } else {
                self.max_problems
            },
        })
    }

    /// The format to read a file as, or `None` (reported) when it is not text.
    pub(crate) fn decide<B, M, S>(
        &self,
        path: &Path,
        head: &[u8],
        summary: &mut FileSummary,
        pipeline: &mut Pipeline<B, M>,
        sink: &mut S,
    ) -> Option<LogFormat>
    where
        B: Default + Send + 'static,
        M: Fn(Item, &mut B) + Send + Sync + 'static,
        S: FnMut(B),
    {
        if let Some(f) = self.format {
            summary.format = Some(f);
            return Some(f);
        }
        match sniff(path, head) {
            Sniffed::Text(f) => {
                summary.format = Some(f);
                summary.detected = true;
                Some(f)
            }
            Sniffed::Binary => {
                let reason =
                    "not a text log (binary content); give --input-format to read it anyway";
                self.unreadable(
                    summary.clone(),
                    ProblemKind::NotThisFormat,
                    reason.into(),
                    pipeline,
                    sink,
                );
                None
            }
            Sniffed::Utf16 => {
                let reason = "UTF-16 text is not read; convert it first (iconv -f UTF-16 -t UTF-8)";
                self.unreadable(
                    summary.clone(),
                    ProblemKind::Unsupported,
                    reason.into(),
                    pipeline,
                    sink,
                );
                None
            }
        }
    }

    pub(crate) fn unreadable<B, M, S>(
        &self,
        mut summary: FileSummary,
        kind: ProblemKind,
        reason: String,
        pipeline: &mut Pipeline<B, M>,
        sink: &mut S,
    ) where
        B: Default + Send + 'static,
        M: Fn(Item, &mut B) + Send + Sync + 'static,
        S: FnMut(B),
    {
        summary.unreadable = true;
        summary.format = None;
        pipeline.problems(vec![Problem::file(kind, &summary.path, reason)], sink);
        pipeline.file_end(summary, sink);
    }
}

/// A whole file in memory.
enum Whole {
    Mapped(Arc<input::Mapped>),
    Owned(Arc<[u8]>),
}

impl Whole {
    fn bytes(&self) -> &[u8] {
        match self {
            Whole::Mapped(m) => m.bytes(),
            Whole::Owned(b) => b,
        }
    }
}

/// How years were found, for the summary, when the file had year-less times.
pub(crate) fn years_note(
    format: LogFormat,
    prescans: &[Prescan],
    states: &[State],
    hint: &YearHint,
) -> Option<String> {
    if !matches!(format, LogFormat::Syslog | LogFormat::LinuxAuth) {
        return None;
    }
    let any = prescans
        .iter()
        .any(|p| matches!(p, Prescan::Months(m) if m.first.is_some()));
    let State::Year(run) = states.first()? else {
        return None;
    };
    if !any {
        return None;
    }
    Some(match (hint.first_year, hint.modified) {
        (Some(y), _) => format!("year-less times: first record in {y} (--year)"),
        (None, Some(m)) => format!(
            "year-less times: first record in {} (worked back from the file time {}; give --year if that is wrong)",
            run.year,
            m.strftime("%Y-%m-%d")
        ),
        (None, None) => format!(
            "year-less times: first record in {} (no file time: counted back from today)",
            run.year
        ),
    })
}
