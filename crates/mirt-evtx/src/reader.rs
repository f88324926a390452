//! Reads EVTX files into events: chunks are parsed in parallel on the rayon
//! pool while the calling thread reads the next chunks and hands results to
//! the sink in file and record order.

use crate::chunk::{CHUNK_SIZE, ChunkJob, Counts, FILE_HEADER_SIZE, Output, error_chain};
use crate::integrity::{self, Crc};
use crate::sniff::{FileKind, sniff};
use evtx::err::EvtxError;
use evtx::{EvtxChunkData, EvtxParser, HeaderFlags, ParserSettings};
use mirt_core::{Event, EventFilter, Problem, ProblemKind};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;

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
                Ok(Opened {
                    mut parser,
                    header,
                    problem,
                }) => {
                    let mut report = |problem| {
                        summary.problems += 1;
                        vec![(ctx.map)(Item::Problem(problem))]
                    };
                    if let Some(problem) = problem {
                        pipeline.push_ready(report(problem), &mut sink);
                    }
                    let parsed = parser.header();
                    let in_use = u64::from(parsed.chunk_count);
                    // A log copied while Windows was writing to it (dirty)
                    // has a chunk whose records CRC32 is not updated yet.
                    let open_chunk = parsed
                        .flags
                        .contains(HeaderFlags::DIRTY)
                        .then_some(parsed.last_chunk_number);
                    let file = Arc::new((Arc::clone(&path), header));
                    let mut seen = BTreeSet::new();
                    for chunk in parser.chunks() {
                        let number = chunk_number(&chunk);
                        seen.extend(number);
                        let crc = if number.is_some() && number == open_chunk {
                            Crc::HeaderOnly
                        } else {
                            Crc::Check
                        };
                        pipeline.push_chunk(Arc::clone(&file), chunk, crc, &mut sink);
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
                                pipeline.push_chunk(file, Ok(data), Crc::Skip, &mut sink);
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

/// The file a chunk belongs to, and its header bytes.
type FileRef = Arc<(Arc<Path>, Vec<u8>)>;

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
        file: FileRef,
        chunk: evtx::err::Result<EvtxChunkData>,
        crc: Crc,
        sink: &mut impl FnMut(T),
    ) {
        let seq = self.take_seq();
        if self.inline {
            let out = run_chunk_guarded(&self.ctx, &file, chunk, crc);
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
            let out = run_chunk_guarded(&ctx, &file, chunk, crc);
            let _ = tx.send((seq, out));
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

/// An EVTX file ready to be read.
struct Opened {
    parser: EvtxParser<std::fs::File>,
    /// The file's first 4096 bytes.
    header: Vec<u8>,
    /// A damaged file header, reported but not in the way of the chunks.
    problem: Option<Problem>,
}

/// Opens a file as EVTX, or says why it cannot be read.
fn open(path: &Path) -> Result<Opened, Problem> {
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
    let unreadable =
        |e: std::io::Error| Problem::file(ProblemKind::Unreadable, path, e.to_string());
    let mut header = vec![0u8; crate::chunk::FILE_HEADER_SIZE as usize];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .map_err(unreadable)?;
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let parser = EvtxParser::from_read_seek(file)
        .map_err(|e| Problem::file(ProblemKind::NotThisFormat, path, error_chain(&e)))?;
    let parsed = parser.header();
    let header_problem = (!parsed.validate_checksum()).then(|| {
        Problem::file(
            ProblemKind::DamagedBlock,
            path,
            format!(
                "file header CRC32 invalid (stored {:#010x}, computed {:#010x}); chunks read anyway",
                parsed.checksum, parsed.computed_checksum
            ),
        )
        .at(0)
    });
    Ok(Opened {
        parser,
        header,
        problem: header_problem,
    })
}

/// [`run_chunk`], with a panic in the parser reported as a problem of this
/// chunk rather than ending the run.
fn run_chunk_guarded<T, M: Fn(Item) -> T>(
    ctx: &Context<M>,
    file: &FileRef,
    chunk: evtx::err::Result<EvtxChunkData>,
    crc: Crc,
) -> ChunkOutput<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_chunk(ctx, file, chunk, crc)
    }))
    .unwrap_or_else(|panic| {
        let problem = Problem::file(ProblemKind::DamagedBlock, &*file.0, panic_message(&panic));
        let counts = Counts {
            problems: 1,
            ..Default::default()
        };
        (vec![(ctx.map)(Item::Problem(problem))], counts)
    })
}

/// Parses one chunk and maps its records; runs on a worker thread.
fn run_chunk<T, M: Fn(Item) -> T>(
    ctx: &Context<M>,
    file: &FileRef,
    chunk: evtx::err::Result<EvtxChunkData>,
    crc: Crc,
) -> (Vec<T>, Counts) {
    let job = ChunkJob {
        settings: &ctx.settings,
        path: &file.0,
        header: &file.1,
        keep_raw: ctx.keep_raw,
        filter: &ctx.filter,
        crc,
    };
    let mut out = Vec::with_capacity(256);
    let counts = job.run(chunk, |o| {
        out.push((ctx.map)(match o {
            Output::Event(e) => Item::Event(e),
            Output::Problem(p) => Item::Problem(p),
        }))
    });
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
