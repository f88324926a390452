//! Where things are in an EVTX file's bytes: chunks, records, checksums.
//! Used by the damage helpers and by tests that check reported offsets.

use crate::chunk::{CHUNK_HEADER_SIZE, CHUNK_MAGIC, CHUNK_SIZE, RECORD_MAGIC, set_checksums};
use crate::writer::{FILE_HEADER_SIZE, set_file_checksum};

/// Where a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordLocation {
    /// The chunk's number (0 is the first after the file header).
    pub chunk: usize,
    /// The record's byte offset in the file.
    pub offset: usize,
    /// The record's size, header and trailing size copy included.
    pub size: usize,
    /// The record's id.
    pub record_id: u64,
}

/// The byte offset of chunk `n` in a file.
pub fn chunk_offset(n: usize) -> usize {
    FILE_HEADER_SIZE + n * CHUNK_SIZE
}

/// How many whole chunks the file holds.
pub fn chunk_count(file: &[u8]) -> usize {
    file.len().saturating_sub(FILE_HEADER_SIZE) / CHUNK_SIZE
}

/// The records of every whole chunk that starts with the chunk magic,
/// found by walking record sizes from the chunk header to its free space.
/// A walk stops at the first record whose magic or size is wrong.
pub fn records(file: &[u8]) -> Vec<RecordLocation> {
    let mut out = Vec::new();
    for n in 0..chunk_count(file) {
        let chunk = &file[chunk_offset(n)..chunk_offset(n) + CHUNK_SIZE];
        if &chunk[..8] != CHUNK_MAGIC {
            continue;
        }
        let free = (read_u32(chunk, 48) as usize).min(CHUNK_SIZE);
        let mut at = CHUNK_HEADER_SIZE;
        while at + 24 <= free && &chunk[at..at + 4] == RECORD_MAGIC {
            let size = read_u32(chunk, at + 4) as usize;
            if size < 28 || at + size > free {
                break;
            }
            let record_id = u64::from_le_bytes(chunk[at + 8..at + 16].try_into().expect("8 bytes"));
            out.push(RecordLocation {
                chunk: n,
                offset: chunk_offset(n) + at,
                size,
                record_id,
            });
            at += size;
        }
    }
    out
}

/// The record with id `record_id`.
pub fn find_record(file: &[u8], record_id: u64) -> Option<RecordLocation> {
    records(file).into_iter().find(|r| r.record_id == record_id)
}

/// Recomputes the file header's CRC32 and those of every whole chunk that
/// starts with the chunk magic: after an edit, only what the edit meant to
/// damage stays damaged.
pub fn recompute_checksums(file: &mut [u8]) {
    if file.len() >= FILE_HEADER_SIZE {
        set_file_checksum(file);
    }
    for n in 0..chunk_count(file) {
        let chunk = &mut file[chunk_offset(n)..chunk_offset(n) + CHUNK_SIZE];
        if &chunk[..8] == CHUNK_MAGIC {
            set_checksums(chunk);
        }
    }
}

fn read_u32(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(data[at..at + 4].try_into().expect("4 bytes"))
}
