//! One 64 KiB chunk: its header, the records one after the other from
//! offset 512, and the two CRC32s that guard them.

use crate::binxml::{Encoder, Encoding, Tables};
use crate::error::{Error, Result};
use crate::spec::EventSpec;
use crate::xml::event_instance;

/// The size of a chunk.
pub const CHUNK_SIZE: usize = 65536;
/// The size of a chunk's header; records start there.
pub const CHUNK_HEADER_SIZE: usize = 512;
/// The size of a record's header (magic, size, id, time).
pub const RECORD_HEADER_SIZE: usize = 24;
/// The chunk magic.
pub const CHUNK_MAGIC: &[u8; 8] = b"ElfChnk\0";
/// The record magic.
pub const RECORD_MAGIC: &[u8; 4] = b"**\0\0";

/// A chunk being filled.
pub(crate) struct ChunkBuilder {
    data: Vec<u8>,
    tables: Tables,
    free: usize,
    ids: Option<(u64, u64)>,
    last_record: usize,
    records: usize,
}

impl ChunkBuilder {
    pub(crate) fn new() -> Self {
        ChunkBuilder {
            data: vec![0; CHUNK_SIZE],
            tables: Tables::default(),
            free: CHUNK_HEADER_SIZE,
            ids: None,
            last_record: 0,
            records: 0,
        }
    }

    /// How many records the chunk holds.
    pub(crate) fn len(&self) -> usize {
        self.records
    }

    /// Adds the record if it fits; `Ok(false)` if the chunk is too full.
    pub(crate) fn push(
        &mut self,
        spec: &EventSpec,
        record_id: u64,
        encoding: Encoding,
    ) -> Result<bool> {
        let start = self.free;
        let binxml_at = (start + RECORD_HEADER_SIZE) as u32;
        let instance = event_instance(spec, record_id);
        let encoded =
            Encoder::new(&self.tables, binxml_at, record_id).record(&instance, encoding)?;
        // Records are padded to 8 bytes, then end with a copy of their size.
        let size = (RECORD_HEADER_SIZE + encoded.bytes.len() + 4).next_multiple_of(8);
        if size > CHUNK_SIZE - CHUNK_HEADER_SIZE {
            return Err(Error::RecordTooLarge {
                record_id,
                size,
                max: CHUNK_SIZE - CHUNK_HEADER_SIZE,
            });
        }
        if start + size > CHUNK_SIZE {
            return Ok(false);
        }
        let record = &mut self.data[start..start + size];
        record[..4].copy_from_slice(RECORD_MAGIC);
        record[4..8].copy_from_slice(&(size as u32).to_le_bytes());
        record[8..16].copy_from_slice(&record_id.to_le_bytes());
        record[16..24].copy_from_slice(&spec.time.to_le_bytes());
        record[24..24 + encoded.bytes.len()].copy_from_slice(&encoded.bytes);
        record[size - 4..].copy_from_slice(&(size as u32).to_le_bytes());
        encoded.commit(&mut self.tables);
        self.ids = Some(match self.ids {
            None => (record_id, record_id),
            Some((first, _)) => (first, record_id),
        });
        self.last_record = start;
        self.free = start + size;
        self.records += 1;
        Ok(true)
    }

    /// The finished chunk, header and checksums filled in.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        let (first, last) = self.ids.unwrap_or((0, 0));
        let h = &mut self.data[..CHUNK_HEADER_SIZE];
        h[..8].copy_from_slice(CHUNK_MAGIC);
        // Record numbers count records in the log; in a log written from
        // scratch they equal the ids.
        h[8..16].copy_from_slice(&first.to_le_bytes());
        h[16..24].copy_from_slice(&last.to_le_bytes());
        h[24..32].copy_from_slice(&first.to_le_bytes());
        h[32..40].copy_from_slice(&last.to_le_bytes());
        h[40..44].copy_from_slice(&128u32.to_le_bytes());
        h[44..48].copy_from_slice(&(self.last_record as u32).to_le_bytes());
        h[48..52].copy_from_slice(&(self.free as u32).to_le_bytes());
        // Flag 0x1 is set on every chunk of the Windows logs we have seen.
        h[120..124].copy_from_slice(&1u32.to_le_bytes());
        for (i, offset) in self.tables.string_buckets.iter().enumerate() {
            h[128 + 4 * i..132 + 4 * i].copy_from_slice(&offset.to_le_bytes());
        }
        for (i, offset) in self.tables.template_buckets.iter().enumerate() {
            h[384 + 4 * i..388 + 4 * i].copy_from_slice(&offset.to_le_bytes());
        }
        set_checksums(&mut self.data);
        self.data
    }
}

/// Computes and stores a chunk's two CRC32s: over its records (from the
/// header to the free space offset), and over its header (bytes 0..120 and
/// 128..512, which include the records' CRC32).
pub(crate) fn set_checksums(chunk: &mut [u8]) {
    let free = u32::from_le_bytes(chunk[48..52].try_into().expect("4 bytes")) as usize;
    let free = free.clamp(CHUNK_HEADER_SIZE, chunk.len());
    let events = crc32fast::hash(&chunk[CHUNK_HEADER_SIZE..free]);
    chunk[52..56].copy_from_slice(&events.to_le_bytes());
    let header = header_crc(chunk);
    chunk[124..128].copy_from_slice(&header.to_le_bytes());
}

/// The CRC32 of a chunk header, as stored at offset 124.
pub(crate) fn header_crc(chunk: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&chunk[..120]);
    hasher.update(&chunk[128..CHUNK_HEADER_SIZE]);
    hasher.finalize()
}
