//! [`EvtxWriter`]: events in, a complete EVTX file out.

use crate::binxml::Encoding;
use crate::chunk::ChunkBuilder;
use crate::error::{Error, Result};
use crate::spec::EventSpec;
use std::path::Path;

/// The size of the file header block.
pub const FILE_HEADER_SIZE: usize = 4096;
/// The file magic.
pub const FILE_MAGIC: &[u8; 8] = b"ElfFile\0";

/// Writes events as an EVTX file: a file header, then 64 KiB chunks filled
/// with records in order; a record that does not fit in a chunk starts the
/// next one. Every checksum is correct; use [`crate::Damage`] to break them.
///
/// ```
/// use mirt_testkit::{EventSpec, EvtxWriter};
///
/// let bytes = EvtxWriter::new()
///     .push(EventSpec::new(4624).channel("Security").data("TargetUserName", "alice"))
///     .push(EventSpec::new(4634).channel("Security"))
///     .to_bytes()
///     .unwrap();
/// assert_eq!(&bytes[..8], b"ElfFile\0");
/// assert_eq!(bytes.len(), 4096 + 65536);
/// ```
#[derive(Debug, Clone)]
pub struct EvtxWriter {
    events: Vec<EventSpec>,
    first_record_id: u64,
    encoding: Encoding,
    max_records_per_chunk: usize,
    minor_version: u16,
    dirty: bool,
}

impl Default for EvtxWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl EvtxWriter {
    /// A writer without events, numbering records from 1, writing
    /// templates as Windows does, format version 3.1, clean.
    pub fn new() -> Self {
        EvtxWriter {
            events: Vec::new(),
            first_record_id: 1,
            encoding: Encoding::Template,
            max_records_per_chunk: usize::MAX,
            minor_version: 1,
            dirty: false,
        }
    }

    /// Adds an event.
    pub fn push(mut self, event: EventSpec) -> Self {
        self.events.push(event);
        self
    }

    /// Adds events.
    pub fn extend(mut self, events: impl IntoIterator<Item = EventSpec>) -> Self {
        self.events.extend(events);
        self
    }

    /// The id of the first record (later ones count up from it, except
    /// where an event sets its own).
    pub fn first_record_id(mut self, id: u64) -> Self {
        self.first_record_id = id;
        self
    }

    /// How records are encoded (templates by default).
    pub fn encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Starts a new chunk after `n` records even when more would fit: many
    /// chunks from few events, for tests about chunks.
    pub fn max_records_per_chunk(mut self, n: usize) -> Self {
        self.max_records_per_chunk = n.max(1);
        self
    }

    /// The minor format version (1 before Windows 10 2004, 2 after).
    pub fn minor_version(mut self, minor: u16) -> Self {
        self.minor_version = minor;
        self
    }

    /// Marks the file dirty (not closed cleanly), as a live log copied
    /// from a running system is; its last chunk is the one being written.
    pub fn dirty(mut self, yes: bool) -> Self {
        self.dirty = yes;
        self
    }

    /// The events added so far.
    pub fn events(&self) -> &[EventSpec] {
        &self.events
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        // The header comes last, when the chunks are counted; each chunk is
        // appended as soon as it is full.
        let mut out = vec![0; FILE_HEADER_SIZE];
        let mut chunks = 0;
        let mut last_id = None;
        let mut chunk = ChunkBuilder::new();
        let mut next_id = self.first_record_id;
        for event in &self.events {
            let id = event.record_id.unwrap_or(next_id);
            next_id = id + 1;
            let full = chunk.len() >= self.max_records_per_chunk;
            if full || !chunk.push(event, id, self.encoding)? {
                out.extend_from_slice(&std::mem::replace(&mut chunk, ChunkBuilder::new()).finish());
                chunks += 1;
                let fits = chunk.push(event, id, self.encoding)?;
                // `push` refuses records larger than an empty chunk holds.
                assert!(fits, "an empty chunk takes any record small enough");
            }
            last_id = Some(id);
        }
        if chunk.len() > 0 {
            out.extend_from_slice(&chunk.finish());
            chunks += 1;
        }
        let next_record_id = last_id.map_or(self.first_record_id, |id| id + 1);
        out[..FILE_HEADER_SIZE].copy_from_slice(&self.file_header(chunks, next_record_id));
        Ok(out)
    }

    /// Writes the file to `path`.
    pub fn write_to(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = self.to_bytes()?;
        std::fs::write(path, bytes).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    fn file_header(&self, chunks: usize, next_record_id: u64) -> Vec<u8> {
        let mut h = vec![0u8; FILE_HEADER_SIZE];
        h[..8].copy_from_slice(FILE_MAGIC);
        let last_chunk = chunks.saturating_sub(1) as u64;
        h[16..24].copy_from_slice(&last_chunk.to_le_bytes());
        h[24..32].copy_from_slice(&next_record_id.to_le_bytes());
        h[32..36].copy_from_slice(&128u32.to_le_bytes());
        h[36..38].copy_from_slice(&self.minor_version.to_le_bytes());
        h[38..40].copy_from_slice(&3u16.to_le_bytes());
        h[40..42].copy_from_slice(&(FILE_HEADER_SIZE as u16).to_le_bytes());
        h[42..44].copy_from_slice(&(chunks.min(usize::from(u16::MAX)) as u16).to_le_bytes());
        h[120..124].copy_from_slice(&u32::from(self.dirty).to_le_bytes());
        set_file_checksum(&mut h);
        h
    }
}

/// Computes and stores the file header's CRC32 (of its first 120 bytes).
pub(crate) fn set_file_checksum(file: &mut [u8]) {
    let crc = crc32fast::hash(&file[..120]);
    file[124..128].copy_from_slice(&crc.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::CHUNK_SIZE;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
    }
    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }
    fn u64_at(b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
    }

    #[test]
    fn file_and_chunk_headers_are_laid_out_with_their_checksums() {
        let bytes = EvtxWriter::new()
            .first_record_id(10)
            .max_records_per_chunk(3)
            .extend((0..5).map(|_| EventSpec::new(1)))
            .to_bytes()
            .unwrap();
        assert_eq!(bytes.len(), FILE_HEADER_SIZE + 2 * CHUNK_SIZE);
        let h = &bytes[..FILE_HEADER_SIZE];
        assert_eq!(&h[..8], FILE_MAGIC);
        assert_eq!((u64_at(h, 8), u64_at(h, 16), u64_at(h, 24)), (0, 1, 15));
        assert_eq!(u32_at(h, 32), 128);
        assert_eq!(
            (u16_at(h, 36), u16_at(h, 38), u16_at(h, 40), u16_at(h, 42)),
            (1, 3, 4096, 2)
        );
        assert_eq!(u32_at(h, 124), crc32fast::hash(&h[..120]));
        for (n, ids) in [(0, (10, 12)), (1, (13, 14))] {
            let c = &bytes[FILE_HEADER_SIZE + n * CHUNK_SIZE..][..CHUNK_SIZE];
            assert_eq!(&c[..8], b"ElfChnk\0");
            assert_eq!((u64_at(c, 8), u64_at(c, 16)), ids);
            assert_eq!((u64_at(c, 24), u64_at(c, 32)), ids);
            assert_eq!(u32_at(c, 40), 128);
            let (last, free) = (u32_at(c, 44) as usize, u32_at(c, 48) as usize);
            assert_eq!(&c[last..last + 4], b"**\0\0");
            assert_eq!(last + u32_at(c, last + 4) as usize, free);
            assert_eq!(u32_at(c, 52), crc32fast::hash(&c[512..free]));
            let mut crc = crc32fast::Hasher::new();
            crc.update(&c[..120]);
            crc.update(&c[128..512]);
            assert_eq!(u32_at(c, 124), crc.finalize());
            assert!(c[free..].iter().all(|b| *b == 0), "free space is zeros");
        }
    }

    #[test]
    fn records_carry_their_size_at_both_ends() {
        let bytes = EvtxWriter::new()
            .push(
                EventSpec::new(1)
                    .time("2024-03-01T10:00:00Z")
                    .data("A", "b"),
            )
            .to_bytes()
            .unwrap();
        let r = &bytes[FILE_HEADER_SIZE + 512..];
        let size = u32_at(r, 4) as usize;
        assert_eq!(size % 8, 0);
        assert_eq!(u32_at(r, size - 4) as usize, size);
        assert_eq!(u64_at(r, 8), 1);
        assert_eq!(
            u64_at(r, 16),
            crate::parse_filetime("2024-03-01T10:00:00Z").unwrap()
        );
        // A fragment header, then a template instance.
        assert_eq!(&r[24..29], &[0x0f, 1, 1, 0, 0x0c]);
    }

    #[test]
    fn a_dirty_log_says_so() {
        let bytes = EvtxWriter::new()
            .dirty(true)
            .minor_version(2)
            .push(EventSpec::new(1))
            .to_bytes()
            .unwrap();
        assert_eq!(u32_at(&bytes, 120), 1);
        assert_eq!(u16_at(&bytes, 36), 2);
    }
}
