//! Reads EVTX files into events: chunks are parsed in parallel on the rayon
//! pool while the calling thread reads the next chunks and hands results to
//! the sink in file and record order.

use crate::integrity;
use crate::normalize::normalize_record;
use crate::sniff::{FileKind, sniff};
use evtx::err::EvtxError;
use evtx::{EvtxChunkData, EvtxParser, HeaderFlags, ParserSettings};
use mirt_core::{Event, EventFilter, Problem, ProblemKind, Raw, Source, SourceKind};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;

const FILE_HEADER_SIZE: u64 = 4096;
const CHUNK_SIZE: u64 = 65536;
const RECORD_HEADER_SIZE: u64 = 24;

/// What reading produces, in order: each file's events and problems, then
/// its summary.
#[derive(Debug)]
pub enum Item {
    /// A record, normalised.
    Event(Box<Event>),
    /// Something that could not be read, with where and why.
    Problem(Problem),
    /// A file is done.
    FileDone(FileSummary),
}

/// What was read from one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FileSummary {
    /// The file.
    pub path: PathBuf,
    /// Records read and normalised.
    pub records: u64,
    /// Of those, the ones the filter let through.
    pub emitted: u64,
    /// Chunks and records that could not be read.
    pub problems: u64,
    /// Whether nothing at all could be read from it (not EVTX, unreadable).
    pub unreadable: bool,
}

/// Reads EVTX files. Build one, set options, then call [`EvtxReader::read_files`]
/// or [`EvtxReader::run`].
#[derive(Clone)]
pub struct EvtxReader {
    settings: Arc<ParserSettings>,
    keep_raw: bool,
    threads: usize,
    filter: Arc<EventFilter>,
}

impl Default for EvtxReader {
    fn default() -> Self {
        Self::new()
    }
}

impl EvtxReader {
    /// A reader with the `evtx` crate's defaults: checksums are reported by
    /// the records they damage rather than used to skip whole chunks.
    pub fn new() -> Self {
        EvtxReader {
            settings: Arc::new(
                ParserSettings::new()
                    .indent(false)
                    .separate_json_attributes(false)
                    .num_threads(1),
            ),
            keep_raw: false,
            threads: 0,
            filter: Arc::new(EventFilter::default()),
        }
    }

    /// Keep the full rendered record in [`Event::raw`].
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

    /// Only events passing `filter` are handed on (the others are still
    /// counted in [`FileSummary::records`]).
    pub fn filter(&mut self, filter: EventFilter) -> &mut Self {
        self.filter = Arc::new(filter);
        self
    }

    /// Reads `files` in order and hands every item to `sink`.
    pub fn read_files(&self, files: &[PathBuf], sink: impl FnMut(Item)) {
        self.run(files, |item| item, sink)
    }

    /// Reads `files`, applies `map` to every item on the worker threads (so
    /// that expensive per-event work such as rendering output or matching
    /// rules runs in parallel too), and hands the results to `sink` on the
    /// calling thread, in file and record order.
    pub fn run<T, M, S>(&self, files: &[PathBuf], map: M, mut sink: S)
    where
        T: Send + 'static,
        M: Fn(Item) -> T + Send + Sync + 'static,
        S: FnMut(T),
    {
        let ctx = Arc::new(Context {
            settings: Arc::clone(&self.settings),
            keep_raw: self.keep_raw,
            filter: Arc::clone(&self.filter),
            map,
        });
        let threads = match self.threads {
            0 => rayon::current_num_threads(),
            n => n,
        };
        let mut pipeline = Pipeline::new(Arc::clone(&ctx), threads);
        for path in files {
            let path: Arc<Path> = Arc::from(path.as_path());
            let mut summary = FileSummary {
                path: path.to_path_buf(),
                ..Default::default()
            };
            match open(&path) {
                Err(problem) => {
                    summary.unreadable = true;
                    summary.problems = 1;
                    pipeline.push_ready(vec![(ctx.map)(Item::Problem(problem))], &mut sink);
                }
                Ok((mut parser, header_problem)) => {
                    let mut report = |problem| {
                        summary.problems += 1;
                        vec![(ctx.map)(Item::Problem(problem))]
                    };
                    if let Some(problem) = header_problem {
                        pipeline.push_ready(report(problem), &mut sink);
                    }
                    let header = parser.header();
                    let in_use = u64::from(header.chunk_count);
                    // A log copied while Windows was writing to it (dirty)
                    // has a chunk whose records CRC32 is not updated yet.
                    let open_chunk = header
                        .flags
                        .contains(HeaderFlags::DIRTY)
                        .then_some(header.last_chunk_number);
                    let mut seen = BTreeSet::new();
                    for chunk in parser.chunks() {
                        let number = chunk_number(&chunk);
                        seen.extend(number);
                        let open = number.is_some() && number == open_chunk;
                        pipeline.push_chunk(Arc::clone(&path), chunk, open, &mut sink);
                    }
                    let len = std::fs::metadata(&*path).map_or(0, |m| m.len());
                    let whole = len.saturating_sub(FILE_HEADER_SIZE) / CHUNK_SIZE;
                    for problem in integrity::zeroed_chunks(&path, in_use, whole, &seen) {
                        pipeline.push_ready(report(problem), &mut sink);
                    }
                    match integrity::trailing_chunk(&path, len) {
                        Ok(None) => {}
                        Ok(Some((problem, partial))) => {
                            pipeline.push_ready(report(problem), &mut sink);
                            if let Some(data) = partial {
                                pipeline.push_chunk(Arc::clone(&path), Ok(data), false, &mut sink);
                            }
                        }
                        Err(e) => {
                            let problem =
                                Problem::file(ProblemKind::Unreadable, &*path, e.to_string());
                            pipeline.push_ready(report(problem), &mut sink);
                        }
                    }
                }
            }
            pipeline.push_file_end(summary, &mut sink);
        }
        pipeline.finish(&mut sink);
    }
}

struct Context<M> {
    settings: Arc<ParserSettings>,
    keep_raw: bool,
    filter: Arc<EventFilter>,
    map: M,
}

/// Counts carried with each chunk's output, summed into the file's summary.
#[derive(Default, Clone, Copy)]
struct Counts {
    records: u64,
    emitted: u64,
    problems: u64,
}

/// What a worker hands back for one chunk.
type ChunkOutput<T> = (Vec<T>, Counts);

enum Unit<T> {
    Output(Vec<T>, Counts),
    FileEnd(FileSummary),
}

/// Keeps up to `max_in_flight` chunks on the pool and releases their
/// outputs in the order they were pushed.
struct Pipeline<T, M> {
    ctx: Arc<Context<M>>,
    inline: bool,
    max_in_flight: usize,
    tx: mpsc::Sender<(u64, ChunkOutput<T>)>,
    rx: mpsc::Receiver<(u64, ChunkOutput<T>)>,
    reorder: BTreeMap<u64, Unit<T>>,
    next_seq: u64,
    next_out: u64,
    in_flight: usize,
    file_counts: Counts,
}

impl<T, M> Pipeline<T, M>
where
    T: Send + 'static,
    M: Fn(Item) -> T + Send + Sync + 'static,
{
    fn new(ctx: Arc<Context<M>>, threads: usize) -> Self {
        let (tx, rx) = mpsc::channel();
        Pipeline {
            ctx,
            inline: threads <= 1,
            max_in_flight: threads * 2 + 2,
            tx,
            rx,
            reorder: BTreeMap::new(),
            next_seq: 0,
            next_out: 0,
            in_flight: 0,
            file_counts: Counts::default(),
        }
    }

    fn push_ready(&mut self, out: Vec<T>, sink: &mut impl FnMut(T)) {
        let seq = self.take_seq();
        self.reorder
            .insert(seq, Unit::Output(out, Counts::default()));
        self.drain_ready(sink);
    }

    fn push_file_end(&mut self, summary: FileSummary, sink: &mut impl FnMut(T)) {
        let seq = self.take_seq();
        self.reorder.insert(seq, Unit::FileEnd(summary));
        self.drain_ready(sink);
    }

    fn push_chunk(
        &mut self,
        path: Arc<Path>,
        chunk: evtx::err::Result<EvtxChunkData>,
        open: bool,
        sink: &mut impl FnMut(T),
    ) {
        let seq = self.take_seq();
        if self.inline {
            let out = run_chunk(&self.ctx, &path, chunk, open);
            self.reorder.insert(seq, Unit::Output(out.0, out.1));
            self.drain_ready(sink);
            return;
        }
        while self.in_flight >= self.max_in_flight {
            self.wait_one(sink);
        }
        self.in_flight += 1;
        let ctx = Arc::clone(&self.ctx);
        let tx = self.tx.clone();
        rayon::spawn(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_chunk(&ctx, &path, chunk, open)
            }))
            .map_err(|panic| {
                // Report the panic as a problem of this chunk rather than
                // losing the run.
                let reason = panic_message(&panic);
                let problem = Problem::file(ProblemKind::DamagedBlock, &*path, reason);
                let counts = Counts {
                    problems: 1,
                    ..Default::default()
                };
                (vec![(ctx.map)(Item::Problem(problem))], counts)
            });
            let _ = tx.send((seq, out.unwrap_or_else(|e| e)));
        });
        self.drain_ready(sink);
    }

    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Blocks until one chunk in flight is done.
    fn wait_one(&mut self, sink: &mut impl FnMut(T)) {
        if let Ok((seq, (out, counts))) = self.rx.recv() {
            self.in_flight -= 1;
            self.reorder.insert(seq, Unit::Output(out, counts));
        }
        self.drain_ready(sink);
    }

    /// Releases every unit whose turn it is.
    fn drain_ready(&mut self, sink: &mut impl FnMut(T)) {
        while let Some(unit) = self.reorder.remove(&self.next_out) {
            self.next_out += 1;
            match unit {
                Unit::Output(out, counts) => {
                    self.file_counts.records += counts.records;
                    self.file_counts.emitted += counts.emitted;
                    self.file_counts.problems += counts.problems;
                    out.into_iter().for_each(&mut *sink);
                }
                Unit::FileEnd(mut summary) => {
                    let counts = std::mem::take(&mut self.file_counts);
                    summary.records += counts.records;
                    summary.emitted += counts.emitted;
                    summary.problems += counts.problems;
                    sink((self.ctx.map)(Item::FileDone(summary)));
                }
            }
        }
    }

    fn finish(&mut self, sink: &mut impl FnMut(T)) {
        while self.in_flight > 0 {
            self.wait_one(sink);
        }
        self.drain_ready(sink);
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".into());
    format!("the EVTX parser failed on this chunk ({text}); the rest of the file is still read")
}

/// Opens a file as EVTX, or says why it cannot be read. A damaged file
/// header is reported but does not stop the chunks from being read.
fn open(path: &Path) -> Result<(EvtxParser<std::fs::File>, Option<Problem>), Problem> {
    let kind =
        sniff(path).map_err(|e| Problem::file(ProblemKind::Unreadable, path, e.to_string()))?;
    let refuse = |kind, reason: &str| Err(Problem::file(kind, path, reason));
    match kind {
        FileKind::Evtx => {}
        FileKind::Empty => return refuse(ProblemKind::Truncated, "empty file (0 bytes)"),
        FileKind::TruncatedHeader => {
            return refuse(
                ProblemKind::Truncated,
                "EVTX file shorter than its 4096-byte header",
            );
        }
        FileKind::LegacyEvt => {
            return refuse(
                ProblemKind::Unsupported,
                "legacy Windows event log (.evt, NT 5 and older): not supported; convert it with wevtutil or read it with a .evt parser",
            );
        }
        FileKind::Other => {
            return refuse(
                ProblemKind::NotThisFormat,
                "not an EVTX file (no ElfFile header magic)",
            );
        }
    }
    let file = std::fs::File::open(path)
        .map_err(|e| Problem::file(ProblemKind::Unreadable, path, e.to_string()))?;
    let parser = EvtxParser::from_read_seek(file)
        .map_err(|e| Problem::file(ProblemKind::NotThisFormat, path, error_chain(&e)))?;
    let header = parser.header();
    let header_problem = (!header.validate_checksum()).then(|| {
        Problem::file(
            ProblemKind::DamagedBlock,
            path,
            format!(
                "file header CRC32 invalid (stored {:#010x}, computed {:#010x}); chunks read anyway",
                header.checksum, header.computed_checksum
            ),
        )
        .at(0)
    });
    Ok((parser, header_problem))
}

/// Parses one chunk and maps its records; runs on a worker thread.
fn run_chunk<T, M: Fn(Item) -> T>(
    ctx: &Context<M>,
    path: &Arc<Path>,
    chunk: evtx::err::Result<EvtxChunkData>,
    open: bool,
) -> (Vec<T>, Counts) {
    let mut counts = Counts::default();
    let mut out = Vec::new();
    let mut problem = |out: &mut Vec<T>, p: Problem| {
        counts.problems += 1;
        out.push((ctx.map)(Item::Problem(p)));
    };
    let mut data = match chunk {
        Ok(data) => data,
        Err(e) => {
            problem(&mut out, problem_from_error(path, None, &e));
            return (out, counts);
        }
    };
    let number = data.number.unwrap_or(0);
    let chunk_start = FILE_HEADER_SIZE + number * CHUNK_SIZE;
    for p in integrity::checksum_problems(path, &data, number, open) {
        problem(&mut out, p);
    }
    let mut chunk = match data.parse(Arc::clone(&ctx.settings)) {
        Ok(chunk) => chunk,
        Err(e) => {
            let mut p =
                Problem::file(ProblemKind::DamagedBlock, &**path, e.to_string()).at(chunk_start);
            p.chunk = Some(number);
            problem(&mut out, p);
            return (out, counts);
        }
    };
    out.reserve(
        chunk
            .header
            .last_event_record_id
            .saturating_sub(chunk.header.first_event_record_id)
            .min(4096) as usize
            + 1,
    );
    for record in chunk.iter() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                problem(&mut out, problem_from_error(path, Some(number), &e));
                continue;
            }
        };
        let offset = chunk_start + record.binxml_offset.saturating_sub(RECORD_HEADER_SIZE);
        let record_id = record.event_record_id;
        let header_time = record.timestamp;
        let rendered = match record.into_json_bytes() {
            Ok(rendered) => rendered.data,
            Err(e) => {
                let mut p = problem_from_error(path, Some(number), &e).at(offset);
                p.record_id = Some(record_id);
                problem(&mut out, p);
                continue;
            }
        };
        let mut source = Source::shared(SourceKind::Evtx, Arc::clone(path), offset);
        source.chunk = Some(number);
        let mut event = Event::new(source);
        event.record_id = Some(record_id);
        event.timestamp = Some(header_time);
        if let Err(e) = normalize_record(&rendered, &mut event) {
            let mut p = Problem::file(
                ProblemKind::DamagedRecord,
                &**path,
                format!("rendered record not understood: {e}"),
            )
            .at(offset);
            p.chunk = Some(number);
            p.record_id = Some(record_id);
            problem(&mut out, p);
            continue;
        }
        counts.records += 1;
        if !ctx.filter.matches(&event) {
            continue;
        }
        if ctx.keep_raw
            && let Ok(text) = String::from_utf8(rendered)
            && let Ok(raw) = serde_json::value::RawValue::from_string(text)
        {
            event.raw = Some(Raw::Json(raw));
        }
        counts.emitted += 1;
        out.push((ctx.map)(Item::Event(Box::new(event))));
    }
    (out, counts)
}

/// The number of the chunk the parser read or failed to read.
fn chunk_number(chunk: &evtx::err::Result<EvtxChunkData>) -> Option<u64> {
    match chunk {
        Ok(data) => data.number,
        Err(EvtxError::FailedToParseChunk { chunk_id, .. }) => Some(*chunk_id),
        Err(_) => None,
    }
}

/// A problem from an `evtx` error, with the chunk, record and offset it names.
fn problem_from_error(path: &Path, chunk: Option<u64>, err: &EvtxError) -> Problem {
    let mut p = Problem::file(ProblemKind::DamagedRecord, path, error_chain(err));
    p.chunk = chunk;
    match err {
        EvtxError::FailedToParseChunk { chunk_id, .. } => {
            p.kind = ProblemKind::DamagedBlock;
            p.chunk = Some(*chunk_id);
            p.offset = Some(FILE_HEADER_SIZE + chunk_id * CHUNK_SIZE);
        }
        EvtxError::FailedToParseRecord { record_id, .. } => {
            p.record_id = Some(*record_id);
        }
        EvtxError::FailedToReadRecordAt { chunk, offset, .. } => {
            if let Some(chunk) = chunk.or(p.chunk) {
                p.chunk = Some(chunk);
                p.offset = Some(FILE_HEADER_SIZE + chunk * CHUNK_SIZE + offset);
            }
        }
        _ => {}
    }
    p
}

/// The error and its causes, joined: the outermost says where, the inner
/// ones say what.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let next = e.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = e.source();
    }
    text
}
