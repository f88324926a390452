//! Reading a log as a stream: plain files when mapping is off, compressed
//! files (decompressed on the fly) and UTF-16 files (converted to UTF-8),
//! cut into chunks at record boundaries. Offsets then count bytes of the
//! decompressed, converted text.

use crate::chunk::{ChunkData, ChunkJob, count_lines, parse_chunk};
use crate::error::{Error, Result};
use crate::frame::{self, Framing};
use crate::input::{self, Compression};
use crate::parse::{FormatParser, Prescan, YearHint, parser_for};
use crate::pipeline::Pipeline;
use crate::reader::{HEAD, LogReader, years_note};
use crate::summary::{FileSummary, Item};
use mirt_core::{Problem, ProblemKind};
use std::path::Path;
use std::sync::Arc;

impl LogReader {
    /// Plain files without mapping, and compressed files: read as a stream,
    /// cut into chunks at record boundaries. Formats with a pre-pass read
    /// the stream twice (decompressing twice) to keep memory bounded.
    pub(crate) fn read_stream<B, M, S>(
        &self,
        path: &Path,
        shared: &Arc<Path>,
        mut summary: FileSummary,
        hint: &YearHint,
        pipeline: &mut Pipeline<B, M>,
        sink: &mut S,
    ) where
        B: Default + Send + 'static,
        M: Fn(Item, &mut B) + Send + Sync + 'static,
        S: FnMut(B),
    {
        let compression = summary.compression;
        let mut head = vec![0u8; HEAD];
        let n = match input::text_stream(path, compression).and_then(|(mut r, encoding)| {
            summary.encoding = encoding;
            input::fill(&mut *r, &mut head).map_err(|e| stream_error(path, compression, 0, e))
        }) {
            Ok(n) => n,
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
        head.truncate(n);
        let Some(format) = self.decide(path, &head, &mut summary, pipeline, sink) else {
            return;
        };
        let parser: Arc<dyn FormatParser> =
            Arc::from(parser_for(format, &String::from_utf8_lossy(&head)));
        let framing = parser.framing();
        let mut problems = Vec::new();
        let states = if parser.needs_prescan() {
            let mut prescans = Vec::new();
            let _ = self.stream_chunks(path, compression, framing, &mut |chunk: Vec<u8>| {
                prescans.push(parser.prescan(&chunk))
            });
            let states = parser.chunk_states(&prescans, hint);
            summary.years = years_note(format, &prescans, &states, hint);
            states
        } else {
            Vec::new()
        };
        let ctx = self.job_ctx(shared, format, parser, hint);
        let mut index = 0usize;
        let mut offset = 0u64;
        let mut lines = 0u64;
        let mut queued: Option<(Vec<u8>, u64, usize, u64)> = None;
        let submit = |pipeline: &mut Pipeline<B, M>,
                      sink: &mut S,
                      (chunk, offset, i, line_base): (Vec<u8>, u64, usize, u64),
                      last: bool| {
            let state = states
                .get(i)
                .cloned()
                .unwrap_or_else(|| ctx.parser.chunk_states(&[Prescan::None], hint).remove(0));
            let job = ChunkJob {
                ctx: Arc::clone(&ctx),
                data: ChunkData::Shared(Arc::from(chunk.as_slice()), 0..chunk.len()),
                offset,
                line_base,
                state,
                first: i == 0,
                last,
            };
            let map = pipeline.map();
            pipeline.chunk(move || parse_chunk(job, &*map), Arc::clone(shared), sink);
        };
        // A chunk is submitted once the next one exists, so the last one
        // knows it is last.
        let result = self.stream_chunks(path, compression, framing, &mut |chunk: Vec<u8>| {
            let len = chunk.len() as u64;
            if let Some(prev) = queued.take() {
                submit(pipeline, sink, prev, false);
            }
            let chunk_lines = count_lines(&chunk);
            queued = Some((chunk, offset, index, lines));
            index += 1;
            offset += len;
            lines += chunk_lines;
        });
        if let Some(prev) = queued.take() {
            submit(pipeline, sink, prev, true);
        }
        summary.bytes = offset;
        summary.lines = lines;
        if let Err(e) = result {
            problems.push(
                Problem::file(
                    ProblemKind::Truncated,
                    path,
                    format!("{e}; the records before it were read"),
                )
                .at(offset),
            );
        }
        if !problems.is_empty() {
            pipeline.problems(problems, sink);
        }
        pipeline.file_end(summary, sink);
    }

    /// Reads a stream in chunks that end at record boundaries.
    fn stream_chunks(
        &self,
        path: &Path,
        compression: Option<Compression>,
        framing: Framing,
        f: &mut dyn FnMut(Vec<u8>),
    ) -> Result<()> {
        let (mut reader, _) = input::text_stream(path, compression)?;
        let mut carry: Vec<u8> = Vec::new();
        let mut total = 0u64;
        let target = if framing.whole_file {
            usize::MAX
        } else {
            self.chunk_size
        };
        loop {
            let want = target.min(1 << 24).max(carry.len() + (1 << 16));
            let mut buf = std::mem::take(&mut carry);
            let start = buf.len();
            buf.resize(want, 0);
            let n = match input::fill(&mut *reader, &mut buf[start..]) {
                Ok(n) => n,
                Err(e) => {
                    buf.truncate(start);
                    if !buf.is_empty() {
                        f(buf);
                    }
                    return Err(stream_error(path, compression, total, e));
                }
            };
            buf.truncate(start + n);
            total += n as u64;
            if n == 0 {
                if !buf.is_empty() {
                    f(buf);
                }
                return Ok(());
            }
            if framing.whole_file || buf.len() < target {
                carry = buf;
                continue;
            }
            match frame::last_boundary(&buf, framing.records) {
                Some(cut) if cut > 0 => {
                    carry = buf.split_off(cut);
                    f(buf);
                }
                _ => carry = buf,
            }
        }
    }
}

fn stream_error(
    path: &Path,
    compression: Option<Compression>,
    offset: u64,
    e: std::io::Error,
) -> Error {
    match compression {
        Some(c) => Error::Decompress {
            path: path.to_path_buf(),
            compression: c.name(),
            offset,
            reason: e.to_string(),
        },
        None => Error::Io {
            path: path.to_path_buf(),
            source: e,
        },
    }
}
