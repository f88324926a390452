//! Damaged variants of EVTX files, as responders meet them: checksums that
//! do not match, chunks overwritten, records cut or zeroed, files cut short,
//! and files that are not EVTX at all.

use crate::chunk::{CHUNK_SIZE, RECORD_MAGIC, header_crc, set_checksums};
use crate::layout::{chunk_count, chunk_offset, find_record};

/// One kind of damage to an EVTX file's bytes. Each damages exactly one
/// thing: where an edit would also break a checksum it does not mean to,
/// that checksum is recomputed.
///
/// ```
/// use mirt_testkit::{Damage, EventSpec, EvtxWriter};
///
/// let mut bytes = EvtxWriter::new()
///     .extend((0..30).map(|_| EventSpec::new(4624)))
///     .max_records_per_chunk(10)
///     .to_bytes()
///     .unwrap();
/// Damage::ChunkMagic { chunk: 1 }.apply(&mut bytes);
/// assert_eq!(&bytes[4096 + 65536..4096 + 65536 + 8], b"ElfChnX\0");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Damage {
    /// The file header's CRC32 is wrong (its fields are intact).
    FileHeaderCrc,
    /// A chunk header's CRC32 is wrong (the header and records are intact).
    ChunkHeaderCrc {
        /// The chunk's number.
        chunk: usize,
    },
    /// A chunk's CRC32 of its records is wrong (the records are intact).
    ChunkEventsCrc {
        /// The chunk's number.
        chunk: usize,
    },
    /// A chunk's magic is wrong (`ElfChnX`).
    ChunkMagic {
        /// The chunk's number.
        chunk: usize,
    },
    /// A chunk is all zeros, as when a wiped or never-flushed chunk is copied.
    ZeroChunk {
        /// The chunk's number.
        chunk: usize,
    },
    /// A record's size field is 0.
    RecordZeroSize {
        /// The record's id.
        record_id: u64,
    },
    /// A record's magic is wrong (`XX\0\0`).
    RecordBadMagic {
        /// The record's id.
        record_id: u64,
    },
    /// The file ends `keep` bytes into a chunk, as an interrupted copy does.
    Truncate {
        /// The chunk cut.
        chunk: usize,
        /// How many of its bytes are kept.
        keep: usize,
    },
}

impl Damage {
    /// Damages `file`.
    ///
    /// # Panics
    /// If the chunk or record named is not in `file`: the test asked for
    /// damage that cannot be done.
    pub fn apply(&self, file: &mut Vec<u8>) {
        match *self {
            Damage::FileHeaderCrc => flip_u32(file, 124),
            Damage::ChunkHeaderCrc { chunk } => {
                let at = chunk_at(file, chunk);
                flip_u32(file, at + 124);
            }
            Damage::ChunkEventsCrc { chunk } => {
                let at = chunk_at(file, chunk);
                flip_u32(file, at + 52);
                // The header's CRC32 covers the stored records' CRC32.
                let crc = header_crc(&file[at..at + CHUNK_SIZE]);
                file[at + 124..at + 128].copy_from_slice(&crc.to_le_bytes());
            }
            Damage::ChunkMagic { chunk } => {
                let at = chunk_at(file, chunk);
                file[at + 6] = b'X';
            }
            Damage::ZeroChunk { chunk } => {
                let at = chunk_at(file, chunk);
                file[at..at + CHUNK_SIZE].fill(0);
            }
            Damage::RecordZeroSize { record_id } => {
                edit_record(file, record_id, |record| record[4..8].fill(0))
            }
            Damage::RecordBadMagic { record_id } => {
                edit_record(file, record_id, |record| record[..2].copy_from_slice(b"XX"))
            }
            Damage::Truncate { chunk, keep } => {
                let at = chunk_at(file, chunk);
                file.truncate(at + keep.min(CHUNK_SIZE - 1));
            }
        }
    }
}

fn chunk_at(file: &[u8], chunk: usize) -> usize {
    assert!(
        chunk < chunk_count(file),
        "chunk {chunk} is not in this file of {} chunks",
        chunk_count(file)
    );
    chunk_offset(chunk)
}

fn flip_u32(file: &mut [u8], at: usize) {
    file[at..at + 4].iter_mut().for_each(|b| *b ^= 0xff);
}

/// Edits a record, then recomputes its chunk's checksums so that only the
/// record is damaged.
fn edit_record(file: &mut [u8], record_id: u64, edit: impl FnOnce(&mut [u8])) {
    let location = find_record(file, record_id)
        .unwrap_or_else(|| panic!("record {record_id} is not in this file"));
    debug_assert_eq!(&file[location.offset..location.offset + 4], RECORD_MAGIC);
    edit(&mut file[location.offset..location.offset + location.size]);
    let at = chunk_offset(location.chunk);
    set_checksums(&mut file[at..at + CHUNK_SIZE]);
}

/// An empty file (0 bytes), as a failed copy leaves.
pub fn empty_file() -> Vec<u8> {
    Vec::new()
}

/// A file that is not an event log: the HTML error page a failed download
/// saves under the name it was given, padded with noise to look like data.
pub fn not_evtx() -> Vec<u8> {
    let mut out = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n\
        <body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>\n"
        .to_vec();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    while out.len() < 8192 {
        // xorshift64: deterministic noise.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(8192);
    out
}

/// A legacy Windows event log (`.evt`, Windows NT to XP and Server 2003):
/// its 48-byte header (`LfLe` at offset 4), one event record, and the
/// end-of-file record.
pub fn legacy_evt() -> Vec<u8> {
    let record = legacy_record();
    let header_size = 0x30u32;
    let end = header_size + record.len() as u32;
    let eof_size = 0x28u32;
    let file_size = end + eof_size;
    let mut out = Vec::with_capacity(file_size as usize);
    for v in [
        header_size,
        u32::from_le_bytes(*b"LfLe"),
        1,
        1,
        header_size,
        end,
        2,
        1,
    ] {
        out.extend(v.to_le_bytes());
    }
    // Maximum size, flags (clean), retention, and the header size again.
    for v in [file_size, 0, 0, header_size] {
        out.extend(v.to_le_bytes());
    }
    out.extend_from_slice(&record);
    // The end-of-file record: its size, four signature values, where the
    // log begins and ends, the next and oldest record numbers, its size.
    for v in [
        eof_size,
        0x1111_1111,
        0x2222_2222,
        0x3333_3333,
        0x4444_4444,
        header_size,
        end,
        2,
        1,
        eof_size,
    ] {
        out.extend(v.to_le_bytes());
    }
    out
}

/// One `EVENTLOGRECORD`: a service start (7036) from the Service Control Manager.
fn legacy_record() -> Vec<u8> {
    let utf16z = |s: &str| -> Vec<u8> {
        s.encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect()
    };
    let mut names = utf16z("Service Control Manager");
    names.extend(utf16z("RH-FS01"));
    let strings_at = 0x38 + names.len();
    let mut strings = utf16z("Druckwarteschlange");
    strings.extend(utf16z("Ausgeführt"));
    let body_len = 0x38 + names.len() + strings.len();
    let size = (body_len + 4).next_multiple_of(4);
    let time = 1_078_394_400u32; // 2004-03-04T10:00:00Z
    let mut out = Vec::with_capacity(size);
    for v in [
        size as u32,
        u32::from_le_bytes(*b"LfLe"),
        1,
        time,
        time,
        0x4000_1b7c,
    ] {
        out.extend(v.to_le_bytes());
    }
    // Event type (information), two strings, category 0, reserved flags.
    for v in [4u16, 2, 0, 0] {
        out.extend(v.to_le_bytes());
    }
    // Closing record number, string offset, no SID, no data.
    for v in [0, strings_at as u32, 0, 0, 0, 0] {
        out.extend(v.to_le_bytes());
    }
    out.extend_from_slice(&names);
    out.extend_from_slice(&strings);
    out.resize(size - 4, 0);
    out.extend((size as u32).to_le_bytes());
    out
}
