//! Damage the `evtx` crate reads past without a word, reported here so
//! that nothing is lost silently: chunk CRC32s that do not match, chunks the
//! file header counts as in use that are all zeros, and a file that ends
//! inside a chunk (whose whole records are still read).

use evtx::EvtxChunkData;
use mirt_core::{Problem, ProblemKind};
use std::collections::BTreeSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

const FILE_HEADER_SIZE: u64 = 4096;
const CHUNK_SIZE: u64 = 65536;
const CHUNK_HEADER_SIZE: usize = 512;

/// A problem for each of a whole chunk's CRC32s that does not match. The
/// records are read anyway: a checksum says that something changed, not
/// what, and the records themselves are checked as they are parsed.
///
/// The `open` chunk (the one Windows was writing to when a dirty log was
/// copied) is let off a stale records CRC32: Windows updates it later, so
/// every log copied from a running system would otherwise be reported.
pub(crate) fn checksum_problems(
    path: &Path,
    data: &EvtxChunkData,
    number: u64,
    open: bool,
) -> Vec<Problem> {
    // A chunk cut by the end of the file is reported as truncated instead.
    if data.data.len() as u64 != CHUNK_SIZE {
        return Vec::new();
    }
    let mut problems = Vec::new();
    let header = &data.header;
    if !data.validate_header_checksum() {
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&data.data[..120]);
        hasher.update(&data.data[128..CHUNK_HEADER_SIZE]);
        problems.push(chunk_problem(
            path,
            number,
            format!(
                "chunk header CRC32 invalid (stored {:#010x}, computed {:#010x}); records read anyway",
                header.header_chunk_checksum,
                hasher.finalize()
            ),
        ));
    }
    if !open && !data.validate_data_checksum() {
        let free = header.free_space_offset as usize;
        let reason = match data.data.get(CHUNK_HEADER_SIZE..free) {
            Some(records) => format!(
                "chunk records CRC32 invalid (stored {:#010x}, computed {:#010x}); records read anyway",
                header.events_checksum,
                crc32fast::hash(records)
            ),
            None => format!(
                "chunk free space offset {free:#x} is outside the chunk, so its records CRC32 cannot be checked; records read anyway"
            ),
        };
        problems.push(chunk_problem(path, number, reason));
    }
    problems
}

/// One problem per run of chunks that the file header counts as in use
/// (`in_use`) but that were all zeros, so the parser skipped them (`seen`
/// holds the chunks it did read or report).
pub(crate) fn zeroed_chunks(
    path: &Path,
    in_use: u64,
    whole: u64,
    seen: &BTreeSet<u64>,
) -> Vec<Problem> {
    let missing: Vec<u64> = (0..in_use.min(whole))
        .filter(|n| !seen.contains(n))
        .collect();
    let mut problems = Vec::new();
    let mut runs = missing.chunk_by(|a, b| a + 1 == *b);
    for run in &mut runs {
        let (first, last) = (run[0], run[run.len() - 1]);
        let which = if first == last {
            format!("chunk {first} is")
        } else {
            format!("chunks {first} to {last} are")
        };
        problems.push(chunk_problem(
            path,
            first,
            format!(
                "{which} all zeros although the file header counts {in_use} chunks in use: their records are missing (wiped, or never written to disk)"
            ),
        ));
    }
    problems
}

/// What lies after the file's last whole chunk: a problem saying where the
/// file ends, and the partial chunk when it holds a whole chunk header, so
/// that the records before the cut can still be read. `None` when the file
/// ends on a chunk boundary or only zeros follow.
pub(crate) fn trailing_chunk(
    path: &Path,
    len: u64,
) -> std::io::Result<Option<(Problem, Option<EvtxChunkData>)>> {
    let whole = len.saturating_sub(FILE_HEADER_SIZE) / CHUNK_SIZE;
    let start = FILE_HEADER_SIZE + whole * CHUNK_SIZE;
    if len <= start {
        return Ok(None);
    }
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::with_capacity((len - start) as usize);
    file.take(CHUNK_SIZE).read_to_end(&mut tail)?;
    if tail.iter().all(|b| *b == 0) {
        return Ok(None);
    }
    let partial = if tail.len() >= CHUNK_HEADER_SIZE {
        EvtxChunkData::new(tail.clone(), false).ok()
    } else {
        None
    };
    let reason = match &partial {
        Some(_) => format!(
            "file ends {} bytes into chunk {whole} (of 65536): the records before the cut are read",
            tail.len()
        ),
        None if tail.len() < CHUNK_HEADER_SIZE => format!(
            "file ends {} bytes into chunk {whole} (of 65536), before the end of its header: its records are lost",
            tail.len()
        ),
        None => format!(
            "file ends {} bytes into chunk {whole} (of 65536), and those bytes hold no chunk header: its records are lost",
            tail.len()
        ),
    };
    let mut problem = Problem::file(ProblemKind::Truncated, path, reason).at(start);
    problem.chunk = Some(whole);
    let partial = partial.map(|mut data| {
        data.number = Some(whole);
        data
    });
    Ok(Some((problem, partial)))
}

fn chunk_problem(path: &Path, number: u64, reason: String) -> Problem {
    let mut p = Problem::file(ProblemKind::DamagedBlock, path, reason)
        .at(FILE_HEADER_SIZE + number * CHUNK_SIZE);
    p.chunk = Some(number);
    p
}
