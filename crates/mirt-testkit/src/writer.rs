//! [`EvtxWriter`]: events in, a complete EVTX file out.

use crate::binxml::Encoding;
use crate::chunk::{CHUNK_SIZE, ChunkBuilder};
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
    /// from a running system is.
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
        let mut chunks = Vec::new();
        let mut chunk = ChunkBuilder::new();
        let mut next_id = self.first_record_id;
        for event in &self.events {
            let id = event.record_id.unwrap_or(next_id);
            next_id = id + 1;
            let full = chunk.len() >= self.max_records_per_chunk;
            if full || !chunk.push(event, id, self.encoding)? {
                chunks.push(std::mem::replace(&mut chunk, ChunkBuilder::new()));
                let fits = chunk.push(event, id, self.encoding)?;
                // `push` refuses records larger than an empty chunk holds.
                assert!(fits, "an empty chunk takes any record small enough");
            }
        }
        if chunk.len() > 0 {
            chunks.push(chunk);
        }
        let next_record_id = chunks
            .last()
            .and_then(ChunkBuilder::last_id)
            .map_or(self.first_record_id, |id| id + 1);
        let mut out = Vec::with_capacity(FILE_HEADER_SIZE + chunks.len() * CHUNK_SIZE);
        out.extend_from_slice(&self.file_header(chunks.len(), next_record_id));
        for chunk in chunks {
            out.extend_from_slice(&chunk.finish());
        }
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
