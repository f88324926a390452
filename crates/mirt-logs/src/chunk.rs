//! Stage 1 of the pipeline: parsing one chunk on a worker thread.

use crate::frame::{Framing, RecordIter, decode};
use crate::input::Mapped;
use crate::parse::{FileCtx, FormatParser, Parsed, Rec, State};
use crate::pipeline::{ChunkItem, ChunkOut, Counts};
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
    /// The parser state at the chunk start.
    pub state: State,
    pub first: bool,
    pub last: bool,
}

/// How much of a failed record is quoted in its problem.
const QUOTE: usize = 160;

/// Parses one chunk: decodes each record, runs the format's parser, applies
/// the filters, and samples problems.
pub(crate) fn parse_chunk(job: ChunkJob) -> ChunkOut {
    let ctx = &*job.ctx;
    let data = job.data.bytes();
    let has_nul = memchr::memchr(0, data).is_some();
    let mut state = job.state;
    let mut out = ChunkOut::default();
    // About one event per 200 bytes in typical logs.
    out.items.reserve(data.len() / 200 + 1);
    let mut counts = Counts::default();
    let mut records = RecordIter::new(data, ctx.framing.records);
    for raw in records.by_ref() {
        let (mut text, damage) = decode(raw.bytes, has_nul, ctx.max_record);
        if job.first && raw.start == 0 && text.starts_with('\u{feff}') {
            text = std::borrow::Cow::Owned(text['\u{feff}'.len_utf8()..].to_string());
        }
        let rec = Rec {
            text: &text,
            offset: job.offset + raw.start as u64,
            line: raw.line,
        };
        counts.records += 1;
        if damage.any() {
            counts.damaged += 1;
            let kind = if damage.cut_from.is_some() {
                ProblemKind::Truncated
            } else {
                ProblemKind::Lossy
            };
            push_problem(
                &mut out,
                ctx,
                &rec,
                kind,
                damage.describe(ctx.max_record) + "; the record is still read",
            );
        }
        let parsed = ctx.parser.parse(&mut state, &rec, &ctx.file);
        handle(parsed, &rec, ctx, &mut out, &mut counts);
    }
    if job.last
        && let Some(parsed) = ctx.parser.finish(&mut state, &ctx.file)
    {
        let rec = Rec {
            text: "",
            offset: job.offset + data.len() as u64,
            line: records.lines(),
        };
        counts.records += 1;
        handle(parsed, &rec, ctx, &mut out, &mut counts);
    }
    out.lines = records.lines();
    out.counts = counts;
    out
}

fn handle(parsed: Parsed, rec: &Rec<'_>, ctx: &JobCtx, out: &mut ChunkOut, counts: &mut Counts) {
    match parsed {
        Parsed::Event(event) => {
            counts.events += 1;
            let grep_ok = ctx.grep.as_ref().is_none_or(|re| {
                re.is_match(rec.text) || event.message.as_deref().is_some_and(|m| re.is_match(m))
            });
            if grep_ok && ctx.filter.matches(&event) {
                counts.emitted += 1;
                out.items.push(ChunkItem::Event(event));
            }
        }
        Parsed::Skip => counts.skipped += 1,
        Parsed::Fail(reason) => {
            counts.failed += 1;
            let quoted = quote(rec.text);
            push_problem(
                out,
                ctx,
                rec,
                ProblemKind::DamagedRecord,
                format!("{reason}: {quoted}"),
            );
        }
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

fn push_problem(
    out: &mut ChunkOut,
    ctx: &JobCtx,
    rec: &Rec<'_>,
    kind: ProblemKind,
    reason: String,
) {
    // A chunk never needs to keep more than the file's limit.
    if out.problems >= ctx.max_problems {
        out.problems += 1;
        return;
    }
    let mut p = Problem::file(kind, &*ctx.file.path, reason).at(rec.offset);
    p.line = Some(rec.line);
    out.problems += 1;
    out.items.push(ChunkItem::Problem(Box::new(p)));
}
