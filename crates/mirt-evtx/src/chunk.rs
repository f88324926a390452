//! One chunk in, its events and problems out; runs on a worker thread.
//!
//! Rendering goes through the `evtx` crate's whole-chunk JSON renderer (the
//! one `evtx_dump` uses), which is several times faster than rendering
//! record by record. That renderer is reached through a parser over a small
//! in-memory log: the file's own header followed by this one chunk. The
//! records' offsets, which it does not report, come from a walk over the
//! chunk's record headers.

use crate::integrity::{self, Crc};
use crate::normalize::normalize_record;
use evtx::err::EvtxError;
use evtx::{EvtxChunkData, EvtxParser, ParserSettings, RenderedChunkItem};
use mirt_core::{Event, EventFilter, Problem, ProblemKind, Raw, Source, SourceKind, Timestamp};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

pub const FILE_HEADER_SIZE: u64 = 4096;
pub const CHUNK_SIZE: u64 = 65536;
const CHUNK_HEADER_SIZE: usize = 512;
const RECORD_MAGIC: &[u8; 4] = b"**\0\0";

/// What the workers share.
pub struct ChunkJob<'a> {
    pub settings: &'a ParserSettings,
    pub path: &'a Arc<Path>,
    /// The file's first 4096 bytes.
    pub header: &'a [u8],
    pub keep_raw: bool,
    pub filter: &'a EventFilter,
    /// Which of the chunk's CRC32s must match.
    pub crc: Crc,
}

/// Counts carried with each chunk's output, summed into the file's summary.
#[derive(Default, Clone, Copy)]
pub struct Counts {
    pub records: u64,
    pub emitted: u64,
    pub problems: u64,
}

/// What a chunk yields, in record order.
pub enum Output {
    Event(Box<Event>),
    Problem(Problem),
}

impl ChunkJob<'_> {
    /// Renders and normalises every record of `chunk`, calling `emit` for
    /// each event and problem in record order.
    pub fn run(
        &self,
        chunk: evtx::err::Result<EvtxChunkData>,
        mut emit: impl FnMut(Output),
    ) -> Counts {
        let mut counts = Counts::default();
        let mut problem = |p: Problem, emit: &mut dyn FnMut(Output)| {
            counts.problems += 1;
            emit(Output::Problem(p));
        };
        let data = match chunk {
            Ok(data) => data,
            Err(e) => {
                problem(self.problem(None, &e), &mut emit);
                return counts;
            }
        };
        let number = data.number.unwrap_or(0);
        let chunk_start = FILE_HEADER_SIZE + number * CHUNK_SIZE;
        for p in integrity::checksum_problems(self.path, &data, number, self.crc) {
            problem(p, &mut emit);
        }
        let records = RecordIndex::new(&data.data);
        let mut parser = match self.single_chunk_parser(&data.data) {
            Ok(parser) => parser,
            Err(e) => {
                problem(self.problem(Some(number), &e), &mut emit);
                return counts;
            }
        };
        for rendered in parser.chunks_json_bytes(false) {
            let mut start = 0;
            for item in rendered.items {
                let (record_id, end) = match item {
                    RenderedChunkItem::Record {
                        event_record_id,
                        end,
                    } => (event_record_id, end),
                    RenderedChunkItem::Failed(e) => {
                        problem(self.problem(Some(number), &e), &mut emit);
                        continue;
                    }
                };
                // Each record's JSON ends with a newline.
                let json = &rendered.data[start..end.saturating_sub(1)];
                start = end;
                let offset = records.offset(record_id).map(|o| chunk_start + o);
                match self.event(
                    json,
                    record_id,
                    number,
                    offset.unwrap_or(chunk_start),
                    &records,
                ) {
                    Ok(event) => {
                        counts.records += 1;
                        if self.filter.matches(&event) {
                            counts.emitted += 1;
                            emit(Output::Event(Box::new(event)));
                        }
                    }
                    Err(p) => problem(p, &mut emit),
                }
            }
        }
        counts
    }

    /// A parser over this file's header followed by `chunk` alone.
    fn single_chunk_parser(
        &self,
        chunk: &[u8],
    ) -> evtx::err::Result<EvtxParser<std::io::Cursor<Vec<u8>>>> {
        let mut buf = Vec::with_capacity(self.header.len() + chunk.len());
        buf.extend_from_slice(self.header);
        buf.extend_from_slice(chunk);
        Ok(EvtxParser::from_buffer(buf)?.with_configuration(self.settings.clone()))
    }

    fn event(
        &self,
        json: &[u8],
        record_id: u64,
        chunk: u64,
        offset: u64,
        records: &RecordIndex,
    ) -> Result<Event, Problem> {
        let mut source = Source::shared(SourceKind::Evtx, Arc::clone(self.path), offset);
        source.chunk = Some(chunk);
        let mut event = Event::new(source);
        event.record_id = Some(record_id);
        event.timestamp = records.time(record_id);
        event.fields = mirt_core::Fields::with_capacity(24);
        // Version, Task, Opcode, Keywords, Provider_Guid, ActivityID,
        // ProcessID, ThreadID and a few more: one allocation, not three.
        event.system = mirt_core::Fields::with_capacity(12);
        if let Err(e) = normalize_record(json, &mut event) {
            let mut p = Problem::file(
                ProblemKind::DamagedRecord,
                &**self.path,
                format!("rendered record not understood: {e}"),
            )
            .at(offset);
            p.chunk = Some(chunk);
            p.record_id = Some(record_id);
            return Err(p);
        }
        if self.keep_raw
            && let Ok(text) = std::str::from_utf8(json)
            && let Ok(raw) = serde_json::value::RawValue::from_string(text.to_owned())
        {
            event.raw = Some(Raw::Json(raw));
        }
        Ok(event)
    }

    /// A problem from an `evtx` error, placed in this file and chunk.
    fn problem(&self, chunk: Option<u64>, err: &EvtxError) -> Problem {
        let path: &Path = self.path;
        let mut p = Problem::file(ProblemKind::DamagedRecord, path, error_chain(err));
        p.chunk = chunk;
        match err {
            EvtxError::FailedToParseChunk { chunk_id, .. } => {
                p.kind = ProblemKind::DamagedBlock;
                let id = chunk.unwrap_or(*chunk_id);
                p.chunk = Some(id);
                p.offset = Some(FILE_HEADER_SIZE + id * CHUNK_SIZE);
            }
            EvtxError::FailedToParseRecord { record_id, .. } => {
                p.record_id = Some(*record_id);
            }
            EvtxError::FailedToReadRecordAt { offset, source, .. } => {
                // The parser saw this chunk alone, as chunk 0: place it here.
                if let Some(id) = chunk {
                    let at = FILE_HEADER_SIZE + id * CHUNK_SIZE + offset;
                    p.offset = Some(at);
                    p.reason = format!(
                        "cannot read the record at offset {offset:#x} of chunk {id} (file offset {at:#x}): {}",
                        error_chain(source.as_ref())
                    );
                }
            }
            _ => {}
        }
        p
    }
}

/// The errors and their causes, joined: the outermost says where, the inner
/// ones say what.
pub fn error_chain(err: &dyn std::error::Error) -> String {
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

/// Where each record of a chunk starts, and its header time, found by
/// walking the record headers (and, past damage, by their magic).
struct RecordIndex {
    by_id: HashMap<u64, (u64, u64)>,
}

impl RecordIndex {
    fn new(chunk: &[u8]) -> Self {
        let mut by_id = HashMap::with_capacity(256);
        let finder = memchr::memmem::Finder::new(RECORD_MAGIC);
        let mut pos = CHUNK_HEADER_SIZE;
        while pos + 24 <= chunk.len() {
            // Records follow one another; a record whose trailing size copy
            // is damaged still starts where the previous one ended.
            if chunk[pos..].starts_with(RECORD_MAGIC)
                && let Some((size, id, filetime)) = record_header(chunk, pos, false)
            {
                by_id.entry(id).or_insert((pos as u64, filetime));
                pos += size;
                continue;
            }
            // Past damage, resynchronise on the next record that checks out.
            let mut from = pos + 1;
            pos = chunk.len();
            while let Some(found) = chunk.get(from..).and_then(|rest| finder.find(rest)) {
                let at = from + found;
                if record_header(chunk, at, true).is_some() {
                    pos = at;
                    break;
                }
                from = at + 1;
            }
        }
        RecordIndex { by_id }
    }

    fn offset(&self, id: u64) -> Option<u64> {
        self.by_id.get(&id).map(|&(offset, _)| offset)
    }

    fn time(&self, id: u64) -> Option<Timestamp> {
        self.by_id.get(&id).and_then(|&(_, ft)| filetime(ft))
    }
}

/// A plausible record header at `at`: size, id and FILETIME, when the size
/// fits the chunk and (if `strict`) the trailing size copy agrees.
fn record_header(chunk: &[u8], at: usize, strict: bool) -> Option<(usize, u64, u64)> {
    let u32_at = |o: usize| {
        chunk
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
    };
    let u64_at = |o: usize| {
        chunk
            .get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    };
    let size = u32_at(at + 4)? as usize;
    if size < 28 || at + size > chunk.len() {
        return None;
    }
    if strict && u32_at(at + size - 4)? as usize != size {
        return None;
    }
    Some((size, u64_at(at + 8)?, u64_at(at + 16)?))
}

/// A FILETIME (100 ns ticks since 1601) as a UTC timestamp.
fn filetime(ticks: u64) -> Option<Timestamp> {
    const UNIX_EPOCH_IN_TICKS: i128 = 116_444_736_000_000_000;
    let since_unix = (ticks as i128 - UNIX_EPOCH_IN_TICKS) * 100;
    Timestamp::from_nanosecond(since_unix).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetime_converts_to_utc() {
        // 2019-03-19T10:42:17.4026582Z
        let ts = filetime(131_974_657_374_026_582).unwrap();
        assert_eq!(ts.to_string(), "2019-03-19T10:42:17.4026582Z");
        assert!(filetime(u64::MAX).is_none());
    }

    #[test]
    fn record_headers_are_found_past_garbage() {
        let mut chunk = vec![0u8; 2048];
        for (at, id) in [(512usize, 7u64), (900, 8)] {
            chunk[at..at + 4].copy_from_slice(RECORD_MAGIC);
            chunk[at + 4..at + 8].copy_from_slice(&100u32.to_le_bytes());
            chunk[at + 8..at + 16].copy_from_slice(&id.to_le_bytes());
            chunk[at + 96..at + 100].copy_from_slice(&100u32.to_le_bytes());
        }
        // A magic with a size that does not check out is skipped.
        chunk[700..704].copy_from_slice(RECORD_MAGIC);
        let index = RecordIndex::new(&chunk);
        assert_eq!(index.offset(7), Some(512));
        assert_eq!(index.offset(8), Some(900));
        assert_eq!(index.offset(9), None);
    }
}
