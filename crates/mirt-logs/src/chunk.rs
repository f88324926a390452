//! The work on one chunk, on a worker thread: parsing its records and
//! mapping its events.

use crate::frame::{Framing, RecordIter, decode};
use crate::input::Mapped;
use crate::parse::{FileCtx, FormatParser, Parsed, Rec, State};
use crate::pipeline::{ChunkOut, Slot};
use crate::summary::Item;
use mirt_core::{EventFilter, Problem, ProblemKind};
use regex::Regex;
use std::ops::Range;
use std::sync::Arc;

/// What every chunk of one file shares.
pub(crate) struct JobCtx {
    pub file: FileCtx,
    pub parser: Arc<dyn FormatParser>,
    pub framing: Framing,
    pub filter: Arc<EventFilter>,
    pub grep: Option<Regex>,
    pub max_record: usize,
    pub max_problems: usize,
}

/// The bytes of a chunk: a range of a memory map or of a buffer.
pub(crate) enum ChunkData {
    Mapped(Arc<Mapped>, Range<usize>),
    Shared(Arc<[u8]>, Range<usize>),
}

impl ChunkData {
    fn bytes(&self) -> &[u8] {
        match self {
            ChunkData::Mapped(map, range) => &map.bytes()[range.clone()],
            ChunkData::Shared(data, range) => &data[range.clone()],
        }
    }
}

/// One chunk to parse.
pub(crate) struct ChunkJob {
    pub ctx: Arc<JobCtx>,
    pub data: ChunkData,
    /// Offset of the chunk in the file.
    pub offset: u64,
    /// Lines before the chunk in the file.
    pub line_base: u64,
    /// The parser state at the chunk start.
    pub state: State,
    pub first: bool,
    pub last: bool,
}

/// How much of a failed record is quoted in its problem.
const QUOTE: usize = 160;

/// Parses one chunk and maps its events: decodes each record, runs the
/// format's parser, applies the filters, and samples problems.
pub(crate) fn parse_chunk<B: Default, M: Fn(Item, &mut B)>(job: ChunkJob, map: &M) -> ChunkOut<B> {
    let ctx = &*job.ctx;
    // A path of the chunk's own: events share it without every worker
    // counting references on one shared counter.
    let file = FileCtx {
        path: Arc::from(&*ctx.file.path),
        ..ctx.file.clone()
    };
    let data = job.data.bytes();
    let has_nul = memchr::memchr(0, data).is_some();
    let mut state = job.state;
    let mut out = Work {
        ctx,
        map,
        out: ChunkOut::default(),
        batch: None,
        kept_problems: 0,
    };
    let mut records = RecordIter::new(data, ctx.framing.records);
    for raw in records.by_ref() {
        let (mut text, damage) = decode(raw.bytes, has_nul, ctx.max_record);
        if job.first && raw.start == 0 && text.starts_with('\u{feff}') {
            text = std::borrow::Cow::Owned(text['\u{feff}'.len_utf8()..].to_string());
        }
        let rec = Rec {
            text: &text,
            offset: job.offset + raw.start as u64,
            line: job.line_base + raw.line + 1,
        };
        out.out.counts.records += 1;
        if damage.any() {
            out.out.counts.damaged += 1;
            let kind = if damage.cut_from.is_some() {
                ProblemKind::Truncated
            } else {
                ProblemKind::Lossy
            };
            out.problem(
                &rec,
                kind,
                damage.describe(ctx.max_record) + "; the record is still read",
            );
        }
        let parsed = ctx.parser.parse(&mut state, &rec, &file);
        out.handle(parsed, &rec);
    }
    if job.last
        && let Some(parsed) = ctx.parser.finish(&mut state, &file)
    {
        let rec = Rec {
            text: "",
            offset: job.offset + data.len() as u64,
            line: job.line_base + records.lines() + 1,
        };
        out.out.counts.records += 1;
        out.handle(parsed, &rec);
    }
    out.close_batch();
    out.out
}

struct Work<'a, B, M> {
    ctx: &'a JobCtx,
    map: &'a M,
    out: ChunkOut<B>,
    /// The events since the last problem.
    batch: Option<B>,
    kept_problems: usize,
}

impl<B: Default, M: Fn(Item, &mut B)> Work<'_, B, M> {
    fn close_batch(&mut self) {
        if let Some(batch) = self.batch.take() {
            self.out.slots.push(Slot::Out(batch));
        }
    }

    fn handle(&mut self, parsed: Parsed, rec: &Rec<'_>) {
        let ctx = self.ctx;
        match parsed {
            Parsed::Event(event) => {
                self.out.counts.events += 1;
                let grep_ok = ctx.grep.as_ref().is_none_or(|re| {
                    re.is_match(rec.text)
                        || event.message.as_deref().is_some_and(|m| re.is_match(m))
                });
                if grep_ok && ctx.filter.matches(&event) {
                    self.out.counts.emitted += 1;
                    let batch = self.batch.get_or_insert_with(B::default);
                    (self.map)(Item::Event(event), batch);
                }
            }
            Parsed::Skip => self.out.counts.skipped += 1,
            Parsed::Fail(reason) => {
                self.out.counts.failed += 1;
                let quoted = quote(rec.text);
                self.problem(
                    rec,
                    ProblemKind::DamagedRecord,
                    format!("{reason}: {quoted}"),
                );
            }
        }
    }

    fn problem(&mut self, rec: &Rec<'_>, kind: ProblemKind, reason: String) {
        // A chunk never needs to keep more than the file's limit.
        if self.kept_problems >= self.ctx.max_problems {
            self.out.problems_dropped += 1;
            return;
        }
        let mut p = Problem::file(kind, &*self.ctx.file.path, reason).at(rec.offset);
        p.line = Some(rec.line);
        self.kept_problems += 1;
        self.close_batch();
        self.out.slots.push(Slot::Problem(Box::new(p)));
    }
}

fn quote(text: &str) -> String {
    let mut end = text.len().min(QUOTE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut = if end < text.len() { "…" } else { "" };
    format!("{:?}{cut}", &text[..end])
}

/// Lines in a chunk: its newlines, plus one for a last line without one.
pub(crate) fn count_lines(data: &[u8]) -> u64 {
    let newlines = crate::frame::count_byte(data, b'\n') as u64;
    newlines + u64::from(data.last().is_some_and(|&b| b != b'\n'))
}
