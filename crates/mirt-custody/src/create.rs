//! Writing a bundle: every evidence file streamed once, hashed (BLAKE3 and
//! SHA-256, on two threads) and CRC'd as it is copied into the archive.

use crate::custody::{self, Event, NewEntry};
use crate::error::{Error, Result};
use crate::format::{
    COLLECTION, CUSTODY, Collection, EntryKind, MANIFEST, ManifestEntry, ROOT, SIGNATURE,
    Signature, Status, root_text, version_text,
};
use crate::keys::{KeyId, SigningKey};
use crate::source::{entry_for, link_entry, open_evidence, other_entry};
use crate::sparse::SparseFile;
use crate::walk::{Found, FoundKind, walk};
use crate::zip::{Method, ZipWriter};
use mirt_hash::{Algorithms, ThreadedHasher};
use serde::Serialize;
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
pub struct BundleWriter<W: Write> {
    zip: ZipWriter<W>,
    hasher: ThreadedHasher,
    opts: CreateOptions,
    out_path: PathBuf,
    version: Vec<u8>,
    manifest: Vec<u8>,
    results_started: bool,
    totals: Totals,
    problems: Vec<ManifestEntry>,
    progress: Option<Progress>,
}

impl<W: Write> BundleWriter<W> {
    /// Starts a bundle in `out`; `out_path` names it in errors.
    pub fn new(out: W, out_path: &Path, opts: CreateOptions) -> Result<Self> {
        let mut zip = ZipWriter::new(out);
        let version = version_text(&opts.tool_version).into_bytes();
        zip.add(crate::format::VERSION, Method::Store, &version)
            .map_err(|source| write_error(out_path, source))?;
        Ok(BundleWriter {
            zip,
            hasher: ThreadedHasher::new(opts.extra),
            opts,
            out_path: out_path.into(),
            version,
            manifest: Vec::new(),
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
    /// results.
    pub fn add_paths(&mut self, roots: &[PathBuf], results: bool) -> Result<()> {
        let folder = if results {
            crate::format::RESULTS_DIR
        } else {
            crate::format::EVIDENCE_DIR
        };
        for found in walk(roots, folder) {
            self.add_found(found, results)?;
        }
        Ok(())
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
        self.push(entry);
        Ok(())
    }

    fn push(&mut self, entry: ManifestEntry) {
        self.manifest.extend_from_slice(&entry.to_line());
        if !entry.errors.is_empty() {
            self.problems.push(entry);
        }
    }

    /// Streams `reader` into the member `stored`, described by `entry`
    /// (kind, path, times as read before opening). A read error ends the
    /// member and is recorded (or stops the run, see [`CreateOptions`]);
    /// a write error always stops it.
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
        let out_path = &self.out_path;
        let mut member = self
            .zip
            .start(stored, self.opts.method)
            .map_err(|e| write_error(out_path, e))?;
        let mut read_error = None;
        loop {
            let mut buf = self.hasher.take_buffer();
            let (n, err) = read_block(&mut reader, &mut buf);
            if n == 0 {
                self.hasher.put_back(buf);
            } else {
                let block = self.hasher.submit(buf, n);
                member
                    .write_all(&block)
                    .map_err(|e| write_error(out_path, e))?;
                self.hasher.recycle(block);
                if let Some(p) = &mut self.progress {
                    p(n as u64);
                }
            }
            if let Some(e) = err {
                read_error = Some(e);
                break;
            }
            if n == 0 {
                break;
            }
        }
        let digests = self.hasher.finish_stream();
        member.finish().map_err(|e| write_error(out_path, e))?;
        if let Some(e) = read_error {
            if self.opts.stop_on_read_error {
                return Err(Error::EvidenceRead {
                    path: PathBuf::from(&entry.path),
                    offset: digests.len,
                    source: e,
                });
            }
            entry
                .errors
                .push(format!("read error at offset {}: {e}", digests.len));
            entry.status = Status::Partial;
            self.totals.partial += 1;
        } else {
            entry.status = Status::Complete;
            if entry.file_size.is_some_and(|s| s != digests.len) {
                entry.errors.push(format!(
                    "size changed while reading: {} bytes when opened, {} read",
                    entry.file_size.unwrap_or_default(),
                    digests.len
                ));
            }
        }
        entry.stored = Some(stored.to_string());
        entry.size = digests.len;
        entry.blake3 = Some(digests.blake3_hex());
        entry.sha256 = Some(digests.sha256_hex());
        entry.md5 = digests.md5.map(|d| mirt_hash::to_hex(&d));
        entry.sha1 = digests.sha1.map(|d| mirt_hash::to_hex(&d));
        self.totals.files += 1;
        self.totals.bytes += digests.len;
        self.push(entry);
        Ok(())
    }

    /// Writes `collection.json`, `manifest.jsonl`, `ROOT`, `SIGNATURE` and
    /// the first custody entry (`sealed`, by the examiner, at the end time),
    /// then the directory. Returns the sink and what was sealed.
    pub fn finish(mut self, collection: &Collection, key: &SigningKey) -> Result<(W, Sealed)> {
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
        let out = self.zip.finish().map_err(|e| write_error(&out_path, e))?;
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

fn write_error(path: &Path, source: io::Error) -> Error {
    Error::Write {
        path: path.into(),
        source,
    }
}

/// Fills `buf` as far as the reader allows: returns the bytes read and the
/// error that stopped it, if any (bytes read before an error are kept).
fn read_block(reader: &mut impl Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
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
