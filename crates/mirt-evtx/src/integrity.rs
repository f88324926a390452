//! Damage the `evtx` crate reads past without a word, reported here so
//! that nothing is lost silently: chunk CRC32s that do not match, chunks the
//! file header counts as in use that are all zeros, and a file that ends
//! inside a chunk (whose whole records are still read).

use crate::chunk::{CHUNK_SIZE, FILE_HEADER_SIZE};
use evtx::EvtxChunkData;
use mirt_core::{Problem, ProblemKind};
use std::collections::BTreeSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

const CHUNK_HEADER_SIZE: usize = 512;

/// Which of a chunk's CRC32s must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crc {
    /// Both.
    Check,
    /// The header's: this is the chunk Windows was writing to when a dirty
    /// log was copied, whose records CRC32 it updates later (every log
    /// copied from a running system would otherwise be reported).
    HeaderOnly,
    /// Neither: the chunk was cut by the end of the file, which is reported
    /// as such.
    Skip,
}

/// A problem for each of a chunk's CRC32s that does not match. The records
/// are read anyway: a checksum says that something changed, not what, and
/// the records themselves are checked as they are parsed.
pub fn checksum_problems(path: &Path, data: &EvtxChunkData, number: u64, crc: Crc) -> Vec<Problem> {
    if crc == Crc::Skip || data.data.len() as u64 != CHUNK_SIZE {
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
    if crc == Crc::Check && !data.validate_data_checksum() {
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
/// (`in_use`) among the file's `whole` chunks, but that were all zeros, so
/// the parser skipped them (`seen` holds the chunks it read or reported).
pub fn zeroed_chunks(path: &Path, in_use: u64, whole: u64, seen: &BTreeSet<u64>) -> Vec<Problem> {
    let missing: Vec<u64> = (0..in_use.min(whole))
        .filter(|n| !seen.contains(n))
        .collect();
    missing
        .chunk_by(|a, b| a + 1 == *b)
        .map(|run| {
            let (first, last) = (run[0], run[run.len() - 1]);
            let which = if first == last {
                format!("chunk {first} is")
            } else {
                format!("chunks {first} to {last} are")
            };
            chunk_problem(
                path,
                first,
                format!(
                    "{which} all zeros although the file header counts {in_use} chunks in use: their records are missing (wiped, or never written to disk)"
                ),
            )
        })
        .collect()
}

/// What lies after the file's last whole chunk: a problem saying where the
/// file ends, and the partial chunk when it holds a whole chunk header, so
/// that the records before the cut can still be read. `None` when the file
/// ends on a chunk boundary or only zeros follow.
pub fn trailing_chunk(
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
    let mut tail = Vec::with_capacity(CHUNK_SIZE as usize);
    file.take(CHUNK_SIZE).read_to_end(&mut tail)?;
    if tail.iter().all(|b| *b == 0) {
        return Ok(None);
    }
    let cut = tail.len();
    let mut cut_record = None;
    let partial = if cut >= CHUNK_HEADER_SIZE {
        cut_record = keep_whole_records(&mut tail);
        EvtxChunkData::new(tail, false).ok()
    } else {
        None
    };
    let reason = match (&partial, cut_record.map(|(id, _)| id)) {
        (Some(_), Some(id)) => format!(
            "file ends {cut} bytes into chunk {whole} (of 65536), inside record {id}: the records before it are read"
        ),
        (Some(_), None) => format!(
            "file ends {cut} bytes into chunk {whole} (of 65536): the whole records before the cut are read"
        ),
        (None, _) if cut < CHUNK_HEADER_SIZE => format!(
            "file ends {cut} bytes into chunk {whole} (of 65536), before the end of its header: its records are lost"
        ),
        (None, _) => format!(
            "file ends {cut} bytes into chunk {whole} (of 65536), and those bytes hold no chunk header: its records are lost"
        ),
    };
    // Where the cut record starts, or else the cut chunk.
    let at = start + cut_record.map_or(0, |(_, offset)| offset as u64);
    let mut problem = Problem::file(ProblemKind::Truncated, path, reason).at(at);
    problem.chunk = Some(whole);
    problem.record_id = cut_record.map(|(id, _)| id);
    let partial = partial.map(|mut data| {
        data.number = Some(whole);
        data
    });
    Ok(Some((problem, partial)))
}

/// Turns the bytes of a cut chunk into a chunk whose records all end before
/// the cut: it is padded with zeros to a chunk's size, and its free space
/// starts where the first record that is not whole before the cut starts
/// (the one the cut goes through, or a damaged one), so that no record is
/// read with zeros in place of its lost end. Returns the id and offset of
/// the record the cut goes through, when its header is whole.
fn keep_whole_records(chunk: &mut Vec<u8>) -> Option<(u64, usize)> {
    let cut = chunk.len();
    let u32_at =
        |c: &[u8], at: usize| u32::from_le_bytes(c[at..at + 4].try_into().expect("4 bytes"));
    let mut at = CHUNK_HEADER_SIZE;
    let mut cut_record = None;
    while at + 24 <= cut && chunk[at..at + 4] == *b"**\0\0" {
        let size = u32_at(chunk, at + 4) as usize;
        if size < 28 {
            break;
        }
        if at + size > cut {
            let id = u64::from_le_bytes(chunk[at + 8..at + 16].try_into().expect("8 bytes"));
            cut_record = Some((id, at));
            break;
        }
        at += size;
    }
    chunk.resize(CHUNK_SIZE as usize, 0);
    chunk[at..].fill(0);
    let free = u32_at(chunk, 48).min(at as u32);
    chunk[48..52].copy_from_slice(&free.to_le_bytes());
    cut_record
}

fn chunk_problem(path: &Path, number: u64, reason: String) -> Problem {
    let mut p = Problem::file(ProblemKind::DamagedBlock, path, reason)
        .at(FILE_HEADER_SIZE + number * CHUNK_SIZE);
    p.chunk = Some(number);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chunk's first bytes with records of `sizes` (id = position + 1).
    fn chunk_with(sizes: &[u32]) -> Vec<u8> {
        let mut c = vec![0u8; CHUNK_HEADER_SIZE];
        c[48..52].copy_from_slice(&60_000u32.to_le_bytes());
        for (i, size) in sizes.iter().enumerate() {
            let mut r = vec![0u8; (*size).max(28) as usize];
            r[..4].copy_from_slice(b"**\0\0");
            r[4..8].copy_from_slice(&size.to_le_bytes());
            r[8..16].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            c.extend_from_slice(&r);
        }
        c
    }

    #[test]
    fn the_free_space_starts_at_the_cut_record() {
        let mut c = chunk_with(&[100, 100, 100]);
        c.truncate(512 + 250);
        assert_eq!(keep_whole_records(&mut c), Some((3, 712)));
        assert_eq!(c.len(), CHUNK_SIZE as usize);
        assert_eq!(u32::from_le_bytes(c[48..52].try_into().unwrap()), 712);
        assert!(c[712..].iter().all(|b| *b == 0));
    }

    #[test]
    fn a_damaged_record_before_the_cut_ends_what_is_read() {
        let mut c = chunk_with(&[100, 0, 100]);
        c.truncate(512 + 220);
        assert_eq!(keep_whole_records(&mut c), None);
        assert_eq!(u32::from_le_bytes(c[48..52].try_into().unwrap()), 612);
    }
}
