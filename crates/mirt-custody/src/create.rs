//! Writing a bundle: every evidence file streamed once, read straight into
//! the archive, CRC'd as it is read and hashed (BLAKE3 and SHA-256) on
//! helper threads while the next one is read.

use crate::custody::{self, Event, NewEntry};
use crate::error::{Error, Result};
use crate::format::{
    COLLECTION, CUSTODY, Collection, EntryKind, MANIFEST, ManifestEntry, ROOT, SIGNATURE,
    Signature, Status, root_text, version_text,
};
use crate::keys::{KeyId, SigningKey};
use crate::source::{entry_for, link_entry, open_evidence, other_entry};
use crate::sparse::SparseFile;
use crate::spool::{Pool, Spool};
use crate::walk::{Found, FoundKind, walk};
use crate::zip::{Method, ZipWriter};
use mirt_hash::{Algorithms, Digests, HashQueue};
use serde::Serialize;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// How to write a bundle.
#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// Compression of evidence and result members (metadata is always
    /// stored).
    pub method: Method,
    /// Stop (and leave no bundle) at the first file that cannot be read,
    /// instead of recording the error in the manifest and going on.
    pub stop_on_read_error: bool,
    /// Also compute MD5 / SHA-1 for the manifest.
    pub extra: Algorithms,
    /// Tool version for `VERSION`.
    pub tool_version: String,
}

impl Default for CreateOptions {
    fn default() -> Self {
        CreateOptions {
            method: Method::Store,
            stop_on_read_error: false,
            extra: Algorithms::default(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// Counts of what went into a bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Files whose content is in the bundle (complete or partial).
    pub files: u64,
    /// Bytes of content stored.
    pub bytes: u64,
    /// Files read only in part (read error).
    pub partial: u64,
    /// Files not read at all (cannot be opened, or not a file/link).
    pub unread: u64,
    /// Symbolic links recorded.
    pub links: u64,
}

/// What sealing a bundle produced.
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The `ROOT` text (without newline).
    pub root: String,
    /// The signing key.
    pub key_id: KeyId,
    /// `sha256:` of the last custody line.
    pub custody_head: String,
    /// Counts.
    pub totals: Totals,
    /// Manifest entries with errors (unread, partial, links, changed).
    pub problems: Vec<ManifestEntry>,
}

type Progress = Box<dyn FnMut(u64) + Send>;

/// A bundle being written to `W`: evidence first, then results, then
/// [`finish`](Self::finish) seals it.
///
/// Evidence is read straight into the archive's chunks and hashed there by
/// helper threads while the next file is read (see `spool.rs`), so the
/// digests of a file arrive later: manifest entries wait in order until
/// theirs are in. Members are still written strictly in order, and the
/// bytes are the same as if everything happened one after the other.
pub struct BundleWriter<W: Write + Send + 'static> {
    zip: ZipWriter<Spool<W>>,
    /// Hashes the evidence of compressed members, which is not in the
    /// archive as such; stored members are hashed by the spool's queue.
    hashes: Option<HashQueue>,
    /// Read buffers for compressed members.
    inputs: Pool,
    opts: CreateOptions,
    out_path: PathBuf,
    version: Vec<u8>,
    manifest: Vec<u8>,
    /// Entries not yet in the manifest, in order; `true` if waiting for
    /// the digests of their content.
    pending: VecDeque<(ManifestEntry, bool)>,
    results_started: bool,
    totals: Totals,
    problems: Vec<ManifestEntry>,
    progress: Option<Progress>,
}

/// Read size for compressed members, and how many reads may be in flight.
const INPUT_BLOCK: usize = 1 << 20;
const INPUT_BLOCKS: usize = 8;

impl<W: Write + Send + 'static> BundleWriter<W> {
    /// Starts a bundle in `out`; `out_path` names it in errors. `out` is
    /// written by a thread of its own, in large blocks (a buffer in
    /// between is not needed).
    pub fn new(out: W, out_path: &Path, opts: CreateOptions) -> Result<Self> {
        let queue = HashQueue::new(opts.extra);
        let (in_spool, hashes) = match opts.method {
            Method::Store => (Some(queue), None),
            Method::Deflate | Method::Zstd => (None, Some(queue)),
        };
        let spool = Spool::new(out, in_spool).map_err(|e| write_error(out_path, e))?;
        let mut zip = ZipWriter::new(spool);
        let version = version_text(&opts.tool_version).into_bytes();
        zip.add(crate::format::VERSION, Method::Store, &version)
            .map_err(|source| write_error(out_path, source))?;
        Ok(BundleWriter {
            zip,
            hashes,
            inputs: Pool::new(INPUT_BLOCK, INPUT_BLOCKS),
            opts,
            out_path: out_path.into(),
            version,
            manifest: Vec::new(),
            pending: VecDeque::new(),
            results_started: false,
            totals: Totals::default(),
            problems: Vec::new(),
            progress: None,
        })
    }

    /// Calls `f` with the number of bytes after each block copied.
    pub fn on_progress(&mut self, f: impl FnMut(u64) + Send + 'static) {
        self.progress = Some(Box::new(f));
    }

    /// What went in so far.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// Adds everything under `roots` as evidence (`results == false`) or
    /// results. When it returns, everything is handed to the sink (so a
    /// failure to write shows here, not only when sealing).
    pub fn add_paths(&mut self, roots: &[PathBuf], results: bool) -> Result<()> {
        let folder = if results {
            crate::format::RESULTS_DIR
        } else {
            crate::format::EVIDENCE_DIR
        };
        for found in walk(roots, folder) {
            self.add_found(found, results)?;
        }
        self.zip
            .get_mut()
            .sync()
            .map_err(|e| write_error(&self.out_path, e))?;
        self.drain(false)
    }

    fn add_found(&mut self, found: Found, results: bool) -> Result<()> {
        let kind = if results {
            EntryKind::Result
        } else {
            EntryKind::File
        };
        match found.kind {
            FoundKind::File => match open_evidence(&found.path) {
                Ok(file) => {
                    let meta = file.metadata().ok();
                    let entry = entry_for(kind, &found.path, meta.as_ref());
                    self.add_reader(entry, &found.stored, SparseFile::new(file))
                }
                Err(e) => self.unreadable(kind, &found.path, e),
            },
            FoundKind::Link => self.record(link_entry(&found.path)),
            FoundKind::Other => self.record(other_entry(&found.path)),
            FoundKind::Error(e) => self.unreadable(kind, &found.path, e),
        }
    }

    fn unreadable(&mut self, kind: EntryKind, path: &Path, e: io::Error) -> Result<()> {
        if self.opts.stop_on_read_error {
            return Err(Error::EvidenceRead {
                path: path.into(),
                offset: 0,
                source: e,
            });
        }
        let meta = std::fs::symlink_metadata(path).ok();
        let mut entry = entry_for(kind, path, meta.as_ref());
        entry.errors.push(format!("cannot be read: {e}"));
        self.record(entry)
    }

    /// Records an entry that has no member (link, special file, unread).
    fn record(&mut self, entry: ManifestEntry) -> Result<()> {
        match entry.kind {
            EntryKind::Link => self.totals.links += 1,
            _ => self.totals.unread += 1,
        }
        self.push(entry, false)
    }

    fn push(&mut self, entry: ManifestEntry, hashed: bool) -> Result<()> {
        self.pending.push_back((entry, hashed));
        self.drain(false)
    }

    /// Moves the entries whose digests are in (or that need none) from
    /// the front of `pending` to the manifest; with `wait`, all of them.
    fn drain(&mut self, wait: bool) -> Result<()> {
        while let Some((_, hashed)) = self.pending.front() {
            if *hashed {
                let queue = match &mut self.hashes {
                    Some(q) => Some(q),
                    None => self.zip.get_mut().hasher(),
                };
                let digests = match queue {
                    Some(q) if wait => q.next_digests(),
                    Some(q) => q.try_next_digests(),
                    None => None,
                };
                match digests {
                    Some(d) => {
                        if let Some((entry, _)) = self.pending.front_mut() {
                            set_digests(entry, &d);
                        }
                    }
                    None if wait => {
                        return Err(write_error(
                            &self.out_path,
                            io::Error::other("the digests of a file are missing"),
                        ));
                    }
                    None => return Ok(()),
                }
            }
            if let Some((entry, _)) = self.pending.pop_front() {
                self.manifest.extend_from_slice(&entry.to_line());
                if !entry.errors.is_empty() {
                    self.problems.push(entry);
                }
            }
        }
        Ok(())
    }

    /// Streams `reader` into the member `stored`, described by `entry`
    /// (kind, path, times as read before opening). A read error ends the
    /// member and is recorded (or stops the run, see [`CreateOptions`]);
    /// a write error always stops it (it may show only at a later call).
    pub fn add_reader(
        &mut self,
        mut entry: ManifestEntry,
        stored: &str,
        mut reader: impl Read,
    ) -> Result<()> {
        let is_result = entry.kind == EntryKind::Result;
        if !is_result && self.results_started {
            return Err(Error::Metadata {
                field: "order",
                reason: "evidence must be added before results".into(),
            });
        }
        self.results_started |= is_result;
        if !crate::zip::is_safe_name(stored) {
            let e = io::Error::new(
                io::ErrorKind::InvalidFilename,
                format!(
                    "its member name would be {} bytes, over the limit",
                    stored.len()
                ),
            );
            let path = PathBuf::from(&entry.path);
            return self.unreadable(entry.kind, &path, e);
        }
        let (len, read_error) = self.copy_member(stored, &mut reader)?;
        if let Some(e) = read_error {
            if self.opts.stop_on_read_error {
                return Err(Error::EvidenceRead {
                    path: PathBuf::from(&entry.path),
                    offset: len,
                    source: e,
                });
            }
            entry
                .errors
                .push(format!("read error at offset {len}: {e}"));
            entry.status = Status::Partial;
            self.totals.partial += 1;
        } else {
            entry.status = Status::Complete;
            if entry.file_size.is_some_and(|s| s != len) {
                entry.errors.push(format!(
                    "size changed while reading: {} bytes when opened, {len} read",
                    entry.file_size.unwrap_or_default(),
                ));
            }
        }
        entry.stored = Some(stored.to_string());
        entry.size = len;
        self.totals.files += 1;
        self.totals.bytes += len;
        self.push(entry, true)
    }

    /// Copies `reader` into a new member and ends its stream of hashed
    /// bytes: the bytes copied and the read error that ended it, if any.
    fn copy_member(
        &mut self,
        stored: &str,
        reader: &mut dyn Read,
    ) -> Result<(u64, Option<io::Error>)> {
        let out_path = &self.out_path;
        let werr = |e| write_error(out_path, e);
        let mut member = self.zip.start(stored, self.opts.method).map_err(werr)?;
        let mut len = 0u64;
        let read_error = loop {
            let (n, err) = match &mut self.hashes {
                // Stored: read straight into the archive, hashed there.
                None => member.store_from(reader).map_err(werr)?,
                // Compressed: read into a block shared with the hashers.
                Some(q) => {
                    let mut mem = self.inputs.take();
                    let (n, err) = read_block(reader, mem.bytes_mut());
                    if n > 0 {
                        member.write_all(&mem.bytes()[..n]).map_err(werr)?;
                    }
                    q.update(&self.inputs.share(mem, n), 0..n);
                    // At once: the blocks come back only once hashed.
                    q.flush();
                    (n, err)
                }
            };
            len += n as u64;
            if n > 0
                && let Some(p) = &mut self.progress
            {
                p(n as u64);
            }
            if err.is_some() || n == 0 {
                break err;
            }
        };
        member.finish().map_err(werr)?;
        match &mut self.hashes {
            Some(q) => q.end_stream(),
            None => self.zip.get_mut().end_stream(),
        }
        Ok((len, read_error))
    }

    /// Writes `collection.json`, `manifest.jsonl`, `ROOT`, `SIGNATURE` and
    /// the first custody entry (`sealed`, by the examiner, at the end time),
    /// then the directory. Returns the sink and what was sealed.
    pub fn finish(mut self, collection: &Collection, key: &SigningKey) -> Result<(W, Sealed)> {
        // Hand the last evidence to the hashers and wait for every digest.
        self.zip
            .get_mut()
            .sync()
            .map_err(|e| write_error(&self.out_path, e))?;
        self.drain(true)?;
        let collection_bytes = collection.to_bytes();
        let root = root_text(&self.version, &collection_bytes, &self.manifest);
        let signature = Signature::sign(key, &root).to_bytes();
        let seal = NewEntry {
            event: Event::Sealed,
            time: collection.ended,
            actor: collection.examiner.clone(),
            place: collection.place.clone(),
            purpose: collection.purpose.clone(),
            from: None,
            to: None,
            note: collection.witness.as_ref().map(|w| format!("witness: {w}")),
            ciphertext: None,
        };
        let line = custody::sign_entry(seal, 0, None, root.as_bytes(), key);
        let out_path = self.out_path.clone();
        let mut add = |name: &str, data: &[u8]| {
            self.zip
                .add(name, Method::Store, data)
                .map_err(|e| write_error(&out_path, e))
        };
        add(COLLECTION, &collection_bytes)?;
        add(MANIFEST, &self.manifest)?;
        add(ROOT, root.as_bytes())?;
        add(SIGNATURE, &signature)?;
        add(CUSTODY, &line)?;
        let spool = self.zip.finish().map_err(|e| write_error(&out_path, e))?;
        let out = spool.finish().map_err(|e| write_error(&out_path, e))?;
        Ok((
            out,
            Sealed {
                root: root.trim_end().to_string(),
                key_id: key.public().id(),
                custody_head: crate::format::tagged_sha256(&line),
                totals: self.totals,
                problems: self.problems,
            },
        ))
    }
}

fn set_digests(entry: &mut ManifestEntry, d: &Digests) {
    debug_assert_eq!(entry.size, d.len, "{}", entry.path);
    entry.blake3 = Some(d.blake3_hex());
    entry.sha256 = Some(d.sha256_hex());
    entry.md5 = d.md5.map(|d| mirt_hash::to_hex(&d));
    entry.sha1 = d.sha1.map(|d| mirt_hash::to_hex(&d));
}

fn write_error(path: &Path, source: io::Error) -> Error {
    Error::Write {
        path: path.into(),
        source,
    }
}

/// Fills `buf` as far as the reader allows: returns the bytes read and the
/// error that stopped it, if any (bytes read before an error are kept).
fn read_block(reader: &mut dyn Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (filled, Some(e)),
        }
    }
    (filled, None)
}
