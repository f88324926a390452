//! Where a bundle is written: a temporary file next to the final name,
//! renamed only when everything was written and synced, so a failed run
//! never leaves a bundle (or a half one) under the final name. Optionally
//! through age encryption, with a signed sidecar for the ciphertext.

use crate::custody::{self, Ciphertext, Event, NewEntry};
use crate::error::{Error, IoContext, Result};
use crate::keys::SigningKey;
use crate::spool::ALIGN;
use mirt_hash::{Algorithms, Digests, MultiHasher};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file written under a temporary name and renamed into place by
/// [`commit`](Self::commit); dropped without commit, it is removed.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
    overwrite: bool,
}

impl AtomicFile {
    /// Prepares `path`; fails at once if it exists and `overwrite` is off.
    pub fn create(path: &Path, overwrite: bool) -> Result<AtomicFile> {
        if !overwrite && std::fs::symlink_metadata(path).is_ok() {
            return Err(Error::Exists { path: path.into() });
        }
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .tempfile_in(dir)
            .at(dir)?;
        Ok(AtomicFile {
            tmp,
            path: path.into(),
            overwrite,
        })
    }

    /// The file to write to.
    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// The final name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Syncs the data and renames the file to its final name.
    pub fn commit(self) -> Result<()> {
        self.tmp.as_file().sync_all().at(&self.path)?;
        let result = if self.overwrite {
            self.tmp.persist(&self.path).map(drop)
        } else {
            self.tmp.persist_noclobber(&self.path).map(drop)
        };
        result.map_err(|e| e.error).at(&self.path)?;
        sync_parent(&self.path);
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tmp.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.tmp.flush()
    }
}

/// The bundle file written with direct I/O where the system allows it
/// (Linux, on file systems that support `O_DIRECT`): the archive goes from
/// the writer's memory to the disk without being copied into the page
/// cache, which for a bundle of gigabytes is most of the kernel's work (and
/// would push the evidence out of the cache). Only writes aligned in
/// memory, length and file offset (as the bundle writer makes them) go
/// direct; the first one that is not (the end of the archive) switches the
/// file to ordinary buffered writes, as does a file system that refuses.
/// Durability is unchanged: [`AtomicFile::commit`] syncs before renaming.
#[derive(Debug)]
pub struct DirectFile {
    file: AtomicFile,
    pos: u64,
    direct: bool,
}

impl DirectFile {
    /// Writes `file` directly where possible.
    pub fn new(file: AtomicFile) -> DirectFile {
        let direct = set_direct(file.tmp.as_file(), true).is_ok();
        DirectFile {
            file,
            pos: 0,
            direct,
        }
    }

    /// Whether writes still go direct.
    pub fn is_direct(&self) -> bool {
        self.direct
    }

    /// The file.
    pub fn into_inner(self) -> AtomicFile {
        self.file
    }

    fn stop_direct(&mut self) -> io::Result<()> {
        set_direct(self.file.tmp.as_file(), false)?;
        self.direct = false;
        Ok(())
    }
}

impl Write for DirectFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.direct {
            let len = buf.len() & !(ALIGN - 1);
            if len > 0
                && buf.as_ptr().align_offset(ALIGN) == 0
                && self.pos.is_multiple_of(ALIGN as u64)
            {
                match self.file.file().write(&buf[..len]) {
                    Ok(n) => {
                        self.pos += n as u64;
                        return Ok(n);
                    }
                    // The file system refuses direct I/O after all, or
                    // wants a coarser alignment: write buffered.
                    Err(e) if is_invalid_argument(&e) => {}
                    Err(e) => return Err(e),
                }
            }
            self.stop_direct()?;
        }
        let n = self.file.write(buf)?;
        self.pos += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(target_os = "linux")]
fn set_direct(file: &File, on: bool) -> io::Result<()> {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    let flags = fcntl_getfl(file)?;
    let flags = if on {
        flags | OFlags::DIRECT
    } else {
        flags - OFlags::DIRECT
    };
    Ok(fcntl_setfl(file, flags)?)
}

#[cfg(not(target_os = "linux"))]
fn set_direct(_: &File, on: bool) -> io::Result<()> {
    if on {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    } else {
        Ok(())
    }
}

fn is_invalid_argument(e: &io::Error) -> bool {
    #[cfg(target_os = "linux")]
    return e.raw_os_error() == Some(rustix::io::Errno::INVAL.raw_os_error());
    #[cfg(not(target_os = "linux"))]
    return e.kind() == io::ErrorKind::InvalidInput;
}

/// Makes the rename durable (best effort: not all systems allow it).
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Hashes what goes through (the ciphertext).
pub struct HashingWriter<W> {
    inner: W,
    hasher: MultiHasher,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: MultiHasher::new(Algorithms::default()),
        }
    }
    /// The sink and the digests of everything written.
    pub fn finish(self) -> (W, Digests) {
        (self.inner, self.hasher.finalize())
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Name of the sidecar of an encrypted bundle: its custody log.
pub fn sidecar_path(encrypted: &Path) -> PathBuf {
    let mut s = encrypted.as_os_str().to_owned();
    s.push(".custody.jsonl");
    PathBuf::from(s)
}

/// Parses an age X25519 recipient (`age1...`).
pub fn parse_recipient(text: &str) -> Result<Box<dyn age::Recipient + Send>> {
    let t = text.trim();
    if let Ok(r) = t.parse::<age::x25519::Recipient>() {
        return Ok(Box::new(r));
    }
    Err(Error::Age {
        what: t.to_string(),
        reason: "not an age X25519 recipient (age1...)".into(),
    })
}

/// The buffered, possibly encrypting, sink a bundle is written into.
pub enum Sink {
    /// Plain `NAME.mirt.zip` (the bundle writer hands it large aligned
    /// writes, so it needs no buffer of its own).
    Plain(DirectFile),
    /// `NAME.mirt.zip.age`.
    Encrypted(Box<age::stream::StreamWriter<HashingWriter<BufWriter<AtomicFile>>>>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Encrypted(w) => w.write(buf),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.write_all(buf),
            Sink::Encrypted(w) => w.write_all(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Encrypted(w) => w.flush(),
        }
    }
}

const BUFFER: usize = 1 << 20;

impl Sink {
    /// A plain bundle at `path`.
    pub fn plain(path: &Path, overwrite: bool) -> Result<Sink> {
        let file = AtomicFile::create(path, overwrite)?;
        Ok(Sink::Plain(DirectFile::new(file)))
    }

    /// An encrypted bundle at `path` (`NAME.mirt.zip.age`).
    pub fn encrypted(
        path: &Path,
        overwrite: bool,
        recipients: &[Box<dyn age::Recipient + Send>],
    ) -> Result<Sink> {
        if !overwrite && sidecar_path(path).exists() {
            return Err(Error::Exists {
                path: sidecar_path(path),
            });
        }
        let file = AtomicFile::create(path, overwrite)?;
        let enc = age::Encryptor::with_recipients(recipients.iter().map(|r| &**r as _)).map_err(
            |source| Error::Encrypt {
                path: path.into(),
                source: Box::new(source),
            },
        )?;
        let inner = HashingWriter::new(BufWriter::with_capacity(BUFFER, file));
        let w = enc.wrap_output(inner).map_err(|source| Error::Write {
            path: path.into(),
            source,
        })?;
        Ok(Sink::Encrypted(Box::new(w)))
    }

    /// Finishes the stream and renames the file into place. For the
    /// encrypted form, first writes the sidecar: the custody log of the
    /// ciphertext, whose first entry (`encrypted`) carries its hashes.
    pub fn commit(self, path: &Path, seal: Option<EncryptedSeal<'_>>) -> Result<()> {
        let werr = |source| Error::Write {
            path: path.into(),
            source,
        };
        match self {
            Sink::Plain(w) => w.into_inner().commit(),
            Sink::Encrypted(w) => {
                let hashing = (*w).finish().map_err(werr)?;
                let (buffered, digests) = hashing.finish();
                let file = buffered.into_inner().map_err(|e| werr(e.into_error()))?;
                if let Some(seal) = seal {
                    write_sidecar(path, &digests, seal)?;
                }
                file.commit()
            }
        }
    }
}

/// What the sidecar's first entry says besides the ciphertext hashes.
pub struct EncryptedSeal<'a> {
    /// The bundle's `ROOT` text, with newline.
    pub root_bytes: &'a [u8],
    /// Recipients, as given.
    pub recipients: Vec<String>,
    /// Who encrypted, when, where.
    pub entry: NewEntry,
    /// Signing key.
    pub key: &'a SigningKey,
}

fn write_sidecar(path: &Path, digests: &Digests, seal: EncryptedSeal<'_>) -> Result<()> {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut entry = seal.entry;
    entry.event = Event::Encrypted;
    entry.ciphertext = Some(Ciphertext {
        file,
        size: digests.len,
        sha256: digests.sha256_hex(),
        blake3: digests.blake3_hex(),
        recipients: seal.recipients,
    });
    let line = custody::sign_entry(entry, 0, None, seal.root_bytes, seal.key);
    let side = sidecar_path(path);
    let mut f = AtomicFile::create(&side, true)?;
    f.write_all(&line).at(&side)?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `len` bytes of a pattern at an address `skew` bytes past a multiple
    /// of [`ALIGN`] (the buffer keeps them alive).
    fn bytes_at(len: usize, skew: usize, seed: usize) -> (Vec<u8>, usize) {
        let mut v: Vec<u8> = (0..len + 2 * ALIGN)
            .map(|i| ((i * 7 + seed) % 251) as u8)
            .collect();
        let start = v.as_mut_ptr().align_offset(ALIGN).min(ALIGN) + skew;
        (v, start)
    }

    /// Folders on the file systems at hand: the temporary folder and, on
    /// Linux, tmpfs (which refuses direct I/O on older kernels).
    fn folders() -> Vec<tempfile::TempDir> {
        let mut dirs = vec![tempfile::tempdir().unwrap()];
        if let Ok(d) = tempfile::tempdir_in("/dev/shm") {
            dirs.push(d);
        }
        dirs
    }

    #[test]
    fn the_file_holds_every_byte_whether_written_direct_or_not() {
        for dir in folders() {
            let path = dir.path().join("b.mirt.zip");
            let mut f = DirectFile::new(AtomicFile::create(&path, false).unwrap());
            let mut want = Vec::new();
            // Aligned writes, then one of an odd length (from which on the
            // file is written buffered), then aligned and unaligned ones.
            let writes = [
                (2 * ALIGN, 0),
                (ALIGN, 0),
                (100, 0),
                (ALIGN, 0),
                (ALIGN + 7, 3),
            ];
            for (i, (len, skew)) in writes.into_iter().enumerate() {
                let (buf, start) = bytes_at(len, skew, i);
                let part = &buf[start..start + len];
                f.write_all(part).unwrap();
                want.extend_from_slice(part);
                if i == 2 {
                    assert!(!f.is_direct(), "{}", dir.path().display());
                }
            }
            f.flush().unwrap();
            assert!(!path.exists(), "renamed before commit");
            f.into_inner().commit().unwrap();
            assert!(std::fs::read(&path).unwrap() == want, "{}", path.display());
        }
    }

    #[test]
    fn a_file_dropped_before_commit_leaves_nothing() {
        for dir in folders() {
            let path = dir.path().join("b.mirt.zip");
            let mut f = DirectFile::new(AtomicFile::create(&path, false).unwrap());
            let (buf, start) = bytes_at(4 * ALIGN, 0, 1);
            f.write_all(&buf[start..start + 4 * ALIGN]).unwrap();
            drop(f);
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        }
    }
}
